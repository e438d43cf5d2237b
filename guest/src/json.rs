//! JSON ↔ QuickJS values, in Rust.
//!
//! QuickJS's own `JSON.parse`/`JSON.stringify` tokenise and escape one
//! character at a time through its interpreter-grade string buffers, which
//! compiled to WebAssembly costs hundreds of instructions per byte. The
//! input and the result are the two biggest pieces of work in a typical
//! call, so they are done here: bytes are scanned in Rust and QuickJS is
//! only asked to create (or enumerate) objects, atoms and whole strings.
//!
//! Semantics follow `JSON.parse` / `JSON.stringify` for JSON data: object
//! keys keep insertion order (integer-like keys first, as in JS), `toJSON`
//! is honoured (so `Date` values become ISO strings), `undefined`,
//! functions and symbols are skipped in objects and become `null` in
//! arrays, non-finite numbers become `null`, and BigInt is an error.

use javy::quickjs::qjs;
use std::ffi::c_char;

/// Deepest nesting accepted in either direction; deeper input is rejected
/// and deeper (or cyclic) results are reported as errors.
const MAX_DEPTH: u32 = 256;

fn int(value: i32) -> qjs::JSValue {
    qjs::JS_MKVAL(qjs::JS_TAG_INT, value)
}

fn boolean(value: bool) -> qjs::JSValue {
    qjs::JS_MKVAL(qjs::JS_TAG_BOOL, i32::from(value))
}

// ------------------------------------------------------------------ parse

/// A parsed JSON document.
pub struct Parsed {
    /// The value, owned by the caller.
    pub value: qjs::JSValue,
    /// True when some object key is the name of a user helper, so that the
    /// caller must move such fields aside ([`Shadows::hide`]).
    pub may_shadow_helpers: bool,
}

/// Parses `input` into a new QuickJS value owned by the caller.
///
/// # Safety
///
/// `ctx` must be a live context of the current runtime.
pub unsafe fn parse(ctx: *mut qjs::JSContext, input: &[u8]) -> Result<Parsed, String> {
    // Validated once here, so that strings (cut at ASCII quotes and
    // backslashes) need no check of their own.
    if let Err(e) = std::str::from_utf8(input) {
        return Err(Parser::new(ctx, input, e.valid_up_to(), false).error("invalid UTF-8"));
    }
    let mut parser = Parser::new(ctx, input, 0, lazy_input_is(input));
    parser.skip_ws();
    // SAFETY: forwarded from the caller.
    let value = unsafe { parser.value(0)? };
    parser.skip_ws();
    if parser.pos != input.len() {
        // SAFETY: `value` is owned here and not used again.
        unsafe { qjs::JS_FreeValue(ctx, value) };
        return Err(parser.error("unexpected data after the JSON value"));
    }
    Ok(Parsed {
        value,
        may_shadow_helpers: parser.may_shadow_helpers,
    })
}

/// Index of the first byte at or after `from` that ends a plain run in a
/// JSON string (a quote, a backslash or a control character), else
/// `bytes.len()`. Eight bytes at a time.
fn plain_run_end(bytes: &[u8], from: usize) -> usize {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let has_zero = |v: u64| v.wrapping_sub(ONES) & !v & HIGH;
    let mut i = from;
    while let Some(chunk) = bytes.get(i..i + 8) {
        let v = u64::from_le_bytes(chunk.try_into().expect("eight bytes"));
        // A byte below 0x20, or equal to '"' or '\\': (high bits of
        // bytes >= 0x80 are masked out of the "less than" test).
        let below_space = v.wrapping_sub(ONES * 0x20) & !v & HIGH;
        let quote = has_zero(v ^ (ONES * u64::from(b'"')));
        let backslash = has_zero(v ^ (ONES * u64::from(b'\\')));
        if below_space | quote | backslash != 0 {
            break;
        }
        i += 8;
    }
    i + bytes[i..]
        .iter()
        .position(|&b| NEEDS_ESCAPE[usize::from(b)])
        .unwrap_or(bytes.len() - i)
}

// ------------------------------------------------------------ lazy members
//
// A large object or array nested in the call's input (a member of `user`,
// `context`, …, or deeper) is checked when the input is read but parsed
// only when the function first touches it: QuickJS's auto-initialised
// properties (patched in, see vendor/rquickjs-sys/AUTHPIPE-PATCH.md) call
// `authpipe_lazy_json` on first access of any kind — read, write,
// descriptor, `delete` drops it unparsed — so functions cannot tell the
// difference. A member never touched is copied into the result as the
// input's own text, so a function that reads one field of a 100 KB user
// does not pay for converting the rest, twice.

/// Members nested at least this deep (the input object is 0, `user` 1)
/// may be lazy.
const LAZY_DEPTH: u32 = 2;

/// Smallest member (bytes of JSON text) left to parse on first use;
/// smaller ones cost less to parse at once.
const LAZY_MIN_BYTES: usize = 192;

/// Smallest input whose members may be lazy: in a smaller one, checking
/// members for size costs more than it can save.
const LAZY_MIN_INPUT_BYTES: usize = 1024;

unsafe extern "C" {
    fn JS_DefineLazyJSON(
        ctx: *mut qjs::JSContext,
        obj: qjs::JSValue,
        prop: qjs::JSAtom,
        opaque: *mut std::ffi::c_void,
    ) -> i32;
    fn JS_GetLazyJSON(
        ctx: *mut qjs::JSContext,
        obj: qjs::JSValue,
        prop: qjs::JSAtom,
        opaque: *mut *mut std::ffi::c_void,
    ) -> i32;
}

/// Where a lazy member's text is in the input.
#[derive(Clone, Copy)]
struct Span {
    start: usize,
    end: usize,
    depth: u32,
    raw_safe: bool,
}

/// The call's input and its lazy members' spans.
struct LazyInput {
    input: *const u8,
    len: usize,
    spans: Vec<Span>,
}

struct LazyCell(std::cell::RefCell<Option<LazyInput>>);
// SAFETY: the guest is single-threaded.
unsafe impl Sync for LazyCell {}
static LAZY: LazyCell = LazyCell(std::cell::RefCell::new(None));

/// Records the call's input, which must stay alive and unmoved until
/// [`end_lazy`]: [`parse`] of it may leave large members for first use, and
/// [`write_allow`] sizes the result after it.
pub fn begin_lazy(input: &[u8]) {
    *LAZY.0.borrow_mut() = Some(LazyInput {
        input: input.as_ptr(),
        len: input.len(),
        spans: Vec::new(),
    });
}

/// Ends the call begun by [`begin_lazy`]: no member is lazy any more.
pub fn end_lazy() {
    *LAZY.0.borrow_mut() = None;
}

fn lazy_input_is(input: &[u8]) -> bool {
    input.len() >= LAZY_MIN_INPUT_BYTES
        && LAZY
            .0
            .borrow()
            .as_ref()
            .is_some_and(|lazy| lazy.input == input.as_ptr() && lazy.len == input.len())
}

/// Bytes of the call's input (0 outside a call).
fn call_input_len() -> usize {
    LAZY.0.borrow().as_ref().map_or(0, |lazy| lazy.len)
}

/// True when this call's input left any member for first use.
fn any_lazy_member() -> bool {
    LAZY.0
        .borrow()
        .as_ref()
        .is_some_and(|lazy| !lazy.spans.is_empty())
}

/// Records `span`; the token QuickJS keeps for it.
fn remember_span(span: Span) -> Option<*mut std::ffi::c_void> {
    let mut lazy = LAZY.0.borrow_mut();
    let lazy = lazy.as_mut()?;
    lazy.spans.push(span);
    Some(lazy.spans.len() as *mut std::ffi::c_void)
}

/// The span behind `token` and the input it is in.
fn span_of(token: *mut std::ffi::c_void) -> Option<(&'static [u8], Span)> {
    let lazy = LAZY.0.borrow();
    let lazy = lazy.as_ref()?;
    let span = *lazy.spans.get((token as usize).checked_sub(1)?)?;
    // SAFETY: `begin_lazy`'s caller keeps the input alive until `end_lazy`,
    // after which no span is found.
    let input = unsafe { std::slice::from_raw_parts(lazy.input, lazy.len) };
    Some((input, span))
}

/// Parses the lazy member `token` stands for (called by QuickJS on its
/// first use).
///
/// # Safety
///
/// Called by QuickJS with a live context.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn authpipe_lazy_json(
    ctx: *mut qjs::JSContext,
    token: *mut std::ffi::c_void,
) -> qjs::JSValue {
    let parsed = match span_of(token) {
        Some((input, span)) => {
            let mut parser = Parser::new(ctx, input, span.start, true);
            // SAFETY: the context is live (QuickJS's promise).
            unsafe { parser.value(span.depth) }
        }
        None => Err("a lazy input member outlived its call".to_string()),
    };
    match parsed {
        Ok(value) => value,
        // SAFETY: throwing a new error object on a live context.
        Err(message) => unsafe {
            let error = qjs::JS_NewError(ctx);
            let text =
                qjs::JS_NewStringLen(ctx, message.as_ptr().cast::<c_char>(), message.len() as _);
            qjs::JS_SetPropertyStr(ctx, error, c"message".as_ptr(), text);
            qjs::JS_Throw(ctx, error)
        },
    }
}

/// The input text of `object`'s member `atom` when it is lazy, untouched
/// and can be copied as it is.
///
/// # Safety
///
/// `ctx`, `object` and `atom` must be live.
unsafe fn untouched_member(
    ctx: *mut qjs::JSContext,
    object: qjs::JSValue,
    atom: qjs::JSAtom,
) -> Option<&'static [u8]> {
    let mut token = std::ptr::null_mut();
    // SAFETY: forwarded from the caller.
    if unsafe { JS_GetLazyJSON(ctx, object, atom, &mut token) } <= 0 {
        return None;
    }
    let (input, span) = span_of(token)?;
    span.raw_safe.then(|| &input[span.start..span.end])
}

/// True when `key` is the name of a user helper (`addIdToken`, …).
fn is_helper_name(key: &[u8]) -> bool {
    matches!(key.first(), Some(b'a' | b'r'))
        && matches!(
            key,
            b"addIdToken"
                | b"removeIdToken"
                | b"addAccessToken"
                | b"removeAccessToken"
                | b"addCustomData"
                | b"addToken"
        )
}

struct Parser<'a> {
    ctx: *mut qjs::JSContext,
    input: &'a [u8],
    pos: usize,
    scratch: Vec<u8>,
    may_shadow_helpers: bool,
    /// Whether large nested members may be left to parse on first use
    /// (the call's input only, see [`begin_lazy`]).
    lazy: bool,
}

impl<'a> Parser<'a> {
    fn new(ctx: *mut qjs::JSContext, input: &'a [u8], pos: usize, lazy: bool) -> Self {
        Parser {
            ctx,
            input,
            pos,
            scratch: Vec::new(),
            may_shadow_helpers: false,
            lazy,
        }
    }

    fn error(&self, what: &str) -> String {
        let consumed = &self.input[..self.pos.min(self.input.len())];
        let line = consumed.iter().filter(|&&b| b == b'\n').count() + 1;
        let column = consumed.iter().rev().take_while(|&&b| b != b'\n').count() + 1;
        format!("{what} at line {line} column {column}")
    }

    fn skip_ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.input.get(self.pos) {
            self.pos += 1;
        }
    }

    fn peek(&self) -> Option<u8> {
        self.input.get(self.pos).copied()
    }

    fn expect(&mut self, byte: u8, what: &str) -> Result<(), String> {
        self.skip_ws();
        if self.peek() == Some(byte) {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.error(what))
        }
    }

    /// # Safety
    ///
    /// `self.ctx` must be live.
    unsafe fn value(&mut self, depth: u32) -> Result<qjs::JSValue, String> {
        if depth > MAX_DEPTH {
            return Err(self.error("the JSON is nested too deeply"));
        }
        match self.peek() {
            // SAFETY (all arms): forwarded from the caller.
            Some(b'{') => unsafe { self.object(depth) },
            Some(b'[') => unsafe { self.array(depth) },
            Some(b'"') => {
                self.pos += 1;
                let (start, end) = self.string()?;
                let bytes = if start == usize::MAX {
                    &self.scratch[..]
                } else {
                    &self.input[start..end]
                };
                // SAFETY: `bytes` is valid UTF-8 (checked by `string`).
                Ok(unsafe {
                    qjs::JS_NewStringLen(
                        self.ctx,
                        bytes.as_ptr().cast::<c_char>(),
                        bytes.len() as _,
                    )
                })
            }
            Some(b't') => self.literal(b"true", boolean(true)),
            Some(b'f') => self.literal(b"false", boolean(false)),
            Some(b'n') => self.literal(b"null", qjs::JS_NULL),
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(_) => Err(self.error("unexpected character")),
            None => Err(self.error("unexpected end of input")),
        }
    }

    fn literal(&mut self, word: &[u8], value: qjs::JSValue) -> Result<qjs::JSValue, String> {
        if self.input[self.pos..].starts_with(word) {
            self.pos += word.len();
            Ok(value)
        } else {
            Err(self.error("unexpected character"))
        }
    }

    fn number(&mut self) -> Result<qjs::JSValue, String> {
        let start = self.pos;
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        let digits = |p: &mut Self| {
            let from = p.pos;
            while let Some(b'0'..=b'9') = p.peek() {
                p.pos += 1;
            }
            p.pos - from
        };
        let int_digits = digits(self);
        if int_digits == 0 || (int_digits > 1 && self.input[self.pos - int_digits] == b'0') {
            return Err(self.error("invalid number"));
        }
        let mut integral = true;
        if self.peek() == Some(b'.') {
            self.pos += 1;
            integral = false;
            if digits(self) == 0 {
                return Err(self.error("invalid number"));
            }
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.pos += 1;
            integral = false;
            if let Some(b'+' | b'-') = self.peek() {
                self.pos += 1;
            }
            if digits(self) == 0 {
                return Err(self.error("invalid number"));
            }
        }
        // SAFETY: the slice holds only ASCII digits, signs, '.', 'e'.
        let text = unsafe { std::str::from_utf8_unchecked(&self.input[start..self.pos]) };
        if integral && text.len() <= 10 {
            if let Ok(n) = text.parse::<i32>() {
                if !(n == 0 && text.starts_with('-')) {
                    return Ok(int(n));
                }
            }
        }
        let n: f64 = text.parse().map_err(|_| self.error("invalid number"))?;
        Ok(qjs::JS_NewFloat64(n))
    }

    /// Reads a string body (after the opening quote). Returns the range in
    /// the input when it has no escapes, else `(usize::MAX, _)` with the
    /// unescaped bytes in `self.scratch`.
    fn string(&mut self) -> Result<(usize, usize), String> {
        let start = self.pos;
        // Skip plain bytes, a word at a time. The input is valid UTF-8
        // (checked by `parse`) and the run ends at an ASCII byte, so the
        // run is valid UTF-8 too.
        self.pos = plain_run_end(self.input, self.pos);
        loop {
            match self.peek() {
                Some(b'"') => {
                    let end = self.pos;
                    self.pos += 1;
                    return Ok((start, end));
                }
                Some(b'\\') => break,
                Some(0..=0x1f) => return Err(self.error("control character in a string")),
                Some(_) => self.pos += 1,
                None => return Err(self.error("unterminated string")),
            }
        }
        self.scratch.clear();
        self.scratch.extend_from_slice(&self.input[start..self.pos]);
        loop {
            match self.peek() {
                Some(b'"') => {
                    // Valid UTF-8: input bytes and encoded escapes.
                    self.pos += 1;
                    return Ok((usize::MAX, 0));
                }
                Some(b'\\') => {
                    self.pos += 1;
                    let escaped = self
                        .peek()
                        .ok_or_else(|| self.error("unterminated string"))?;
                    self.pos += 1;
                    let byte = match escaped {
                        b'"' => b'"',
                        b'\\' => b'\\',
                        b'/' => b'/',
                        b'b' => 0x08,
                        b'f' => 0x0c,
                        b'n' => b'\n',
                        b'r' => b'\r',
                        b't' => b'\t',
                        b'u' => {
                            let c = self.unicode_escape()?;
                            let mut buf = [0u8; 4];
                            self.scratch
                                .extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                            continue;
                        }
                        _ => return Err(self.error("invalid escape in a string")),
                    };
                    self.scratch.push(byte);
                }
                Some(0..=0x1f) => return Err(self.error("control character in a string")),
                Some(b) => {
                    self.scratch.push(b);
                    self.pos += 1;
                }
                None => return Err(self.error("unterminated string")),
            }
        }
    }

    fn hex4(&mut self) -> Result<u32, String> {
        let digits = self
            .input
            .get(self.pos..self.pos + 4)
            .ok_or_else(|| self.error("invalid \\u escape"))?;
        let text = std::str::from_utf8(digits).map_err(|_| self.error("invalid \\u escape"))?;
        let value = u32::from_str_radix(text, 16).map_err(|_| self.error("invalid \\u escape"))?;
        self.pos += 4;
        Ok(value)
    }

    /// A `\uXXXX` escape (after the `u`), joining surrogate pairs. A lone
    /// surrogate becomes U+FFFD.
    fn unicode_escape(&mut self) -> Result<char, String> {
        let first = self.hex4()?;
        if (0xd800..0xdc00).contains(&first) && self.input[self.pos..].starts_with(b"\\u") {
            let save = self.pos;
            self.pos += 2;
            let second = self.hex4()?;
            if (0xdc00..0xe000).contains(&second) {
                let c = 0x10000 + ((first - 0xd800) << 10) + (second - 0xdc00);
                return Ok(char::from_u32(c).unwrap_or('\u{fffd}'));
            }
            self.pos = save;
        }
        Ok(char::from_u32(first).unwrap_or('\u{fffd}'))
    }

    /// # Safety
    ///
    /// `self.ctx` must be live.
    unsafe fn object(&mut self, depth: u32) -> Result<qjs::JSValue, String> {
        self.pos += 1;
        // SAFETY: the context is live (caller's promise).
        let object = unsafe { qjs::JS_NewObject(self.ctx) };
        // SAFETY: on error the partly built object is freed exactly once.
        let fail = |p: &Self, e: String| unsafe {
            qjs::JS_FreeValue(p.ctx, object);
            Err(e)
        };
        self.skip_ws();
        if self.peek() == Some(b'}') {
            self.pos += 1;
            return Ok(object);
        }
        loop {
            self.skip_ws();
            if self.peek() != Some(b'"') {
                return fail(self, self.error("expected a string key"));
            }
            self.pos += 1;
            let (start, end) = match self.string() {
                Ok(range) => range,
                Err(e) => return fail(self, e),
            };
            let key = if start == usize::MAX {
                &self.scratch[..]
            } else {
                &self.input[start..end]
            };
            if is_helper_name(key) {
                self.may_shadow_helpers = true;
            }
            // SAFETY: `key` is valid UTF-8; the atom is freed below.
            let atom = unsafe {
                qjs::JS_NewAtomLen(self.ctx, key.as_ptr().cast::<c_char>(), key.len() as _)
            };
            if let Err(e) = self.expect(b':', "expected ':'") {
                // SAFETY: the atom was created above.
                unsafe { qjs::JS_FreeAtom(self.ctx, atom) };
                return fail(self, e);
            }
            self.skip_ws();
            if self.lazy && depth + 1 >= LAZY_DEPTH && matches!(self.peek(), Some(b'{' | b'[')) {
                // SAFETY: `object` and `atom` are live.
                match unsafe { self.member_lazily(object, atom, depth + 1) } {
                    Ok(true) => {
                        // SAFETY: the atom was created above.
                        unsafe { qjs::JS_FreeAtom(self.ctx, atom) };
                        self.skip_ws();
                        match self.peek() {
                            Some(b',') => {
                                self.pos += 1;
                                continue;
                            }
                            Some(b'}') => {
                                self.pos += 1;
                                return Ok(object);
                            }
                            _ => return fail(self, self.error("expected ',' or '}'")),
                        }
                    }
                    Ok(false) => {}
                    Err(e) => {
                        // SAFETY: the atom was created above.
                        unsafe { qjs::JS_FreeAtom(self.ctx, atom) };
                        return fail(self, e);
                    }
                }
            }
            // SAFETY: forwarded from the caller.
            let value = match unsafe { self.value(depth + 1) } {
                Ok(value) => value,
                Err(e) => {
                    // SAFETY: the atom was created above.
                    unsafe { qjs::JS_FreeAtom(self.ctx, atom) };
                    return fail(self, e);
                }
            };
            // SAFETY: defining takes ownership of `value`; the atom is ours.
            unsafe {
                qjs::JS_DefinePropertyValue(self.ctx, object, atom, value, qjs::JS_PROP_C_W_E as _);
                qjs::JS_FreeAtom(self.ctx, atom);
            }
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.pos += 1;
                    return Ok(object);
                }
                _ => return fail(self, self.error("expected ',' or '}'")),
            }
        }
    }

    /// At an object or array member value of `object` under `atom`:
    /// checks it, and when it is large leaves it to be parsed on first use
    /// (true, with the position after it); otherwise leaves the position
    /// where it was (false) for the caller to parse it now.
    ///
    /// # Safety
    ///
    /// `self.ctx`, `object` and `atom` must be live.
    unsafe fn member_lazily(
        &mut self,
        object: qjs::JSValue,
        atom: qjs::JSAtom,
        depth: u32,
    ) -> Result<bool, String> {
        let start = self.pos;
        let raw_safe = self.skip_value(depth)?;
        let end = self.pos;
        if end - start < LAZY_MIN_BYTES {
            self.pos = start;
            return Ok(false);
        }
        let Some(token) = remember_span(Span {
            start,
            end,
            depth,
            raw_safe,
        }) else {
            self.pos = start;
            return Ok(false);
        };
        // SAFETY: forwarded from the caller.
        let defined = unsafe { JS_DefineLazyJSON(self.ctx, object, atom, token) };
        if defined <= 0 {
            // A repeated key: the last one wins, parsed now as before.
            self.pos = start;
            return Ok(false);
        }
        Ok(true)
    }

    /// Checks one JSON value without building it, leaving the position
    /// after it; the errors are the ones parsing it would report. True when
    /// its text can be copied into a result as it is: no `\\u` escapes
    /// (lone surrogates become U+FFFD when parsed) and no numbers that
    /// would print differently (exponents, `-0`, more than 15 digits).
    fn skip_value(&mut self, depth: u32) -> Result<bool, String> {
        if depth > MAX_DEPTH {
            return Err(self.error("the JSON is nested too deeply"));
        }
        match self.peek() {
            Some(b'{') => self.skip_object(depth),
            Some(b'[') => self.skip_array(depth),
            Some(b'"') => {
                self.pos += 1;
                self.skip_string()
            }
            Some(b't') => self.literal(b"true", qjs::JS_NULL).map(|_| true),
            Some(b'f') => self.literal(b"false", qjs::JS_NULL).map(|_| true),
            Some(b'n') => self.literal(b"null", qjs::JS_NULL).map(|_| true),
            Some(b'-' | b'0'..=b'9') => {
                let start = self.pos;
                self.number()?;
                let text = &self.input[start..self.pos];
                let digits = text.iter().filter(|b| b.is_ascii_digit()).count();
                Ok(digits <= 15
                    && !text.iter().any(|&b| b == b'e' || b == b'E')
                    && !(text.starts_with(b"-0")
                        && text.iter().all(|&b| matches!(b, b'-' | b'0' | b'.'))))
            }
            Some(_) => Err(self.error("unexpected character")),
            None => Err(self.error("unexpected end of input")),
        }
    }

    /// [`Self::skip_value`] for a string body (after the opening quote).
    fn skip_string(&mut self) -> Result<bool, String> {
        let mut raw_safe = true;
        loop {
            self.pos = plain_run_end(self.input, self.pos);
            match self.peek() {
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(raw_safe);
                }
                Some(b'\\') => {
                    self.pos += 1;
                    match self.peek() {
                        Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => {
                            self.pos += 1
                        }
                        Some(b'u') => {
                            self.pos += 1;
                            self.hex4()?;
                            raw_safe = false;
                        }
                        Some(_) => {
                            self.pos += 1;
                            return Err(self.error("invalid escape in a string"));
                        }
                        None => return Err(self.error("unterminated string")),
                    }
                }
                Some(_) => return Err(self.error("control character in a string")),
                None => return Err(self.error("unterminated string")),
            }
        }
    }

    /// [`Self::skip_value`] for an object.
    fn skip_object(&mut self, depth: u32) -> Result<bool, String> {
        self.pos += 1;
        self.skip_ws();
        if self.peek() == Some(b'}') {
            self.pos += 1;
            return Ok(true);
        }
        let mut raw_safe = true;
        loop {
            self.skip_ws();
            if self.peek() != Some(b'"') {
                return Err(self.error("expected a string key"));
            }
            self.pos += 1;
            raw_safe &= self.skip_string()?;
            self.expect(b':', "expected ':'")?;
            self.skip_ws();
            raw_safe &= self.skip_value(depth + 1)?;
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.pos += 1;
                    return Ok(raw_safe);
                }
                _ => return Err(self.error("expected ',' or '}'")),
            }
        }
    }

    /// [`Self::skip_value`] for an array.
    fn skip_array(&mut self, depth: u32) -> Result<bool, String> {
        self.pos += 1;
        self.skip_ws();
        if self.peek() == Some(b']') {
            self.pos += 1;
            return Ok(true);
        }
        let mut raw_safe = true;
        loop {
            self.skip_ws();
            raw_safe &= self.skip_value(depth + 1)?;
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b']') => {
                    self.pos += 1;
                    return Ok(raw_safe);
                }
                _ => return Err(self.error("expected ',' or ']'")),
            }
        }
    }

    /// # Safety
    ///
    /// `self.ctx` must be live.
    unsafe fn array(&mut self, depth: u32) -> Result<qjs::JSValue, String> {
        self.pos += 1;
        // SAFETY: the context is live (caller's promise).
        let array = unsafe { qjs::JS_NewArray(self.ctx) };
        // SAFETY: on error the partly built array is freed exactly once.
        let fail = |p: &Self, e: String| unsafe {
            qjs::JS_FreeValue(p.ctx, array);
            Err(e)
        };
        self.skip_ws();
        if self.peek() == Some(b']') {
            self.pos += 1;
            return Ok(array);
        }
        let mut index = 0u32;
        loop {
            self.skip_ws();
            // SAFETY: forwarded from the caller.
            let value = match unsafe { self.value(depth + 1) } {
                Ok(value) => value,
                Err(e) => return fail(self, e),
            };
            // SAFETY: defining takes ownership of `value`.
            unsafe {
                qjs::JS_DefinePropertyValueUint32(
                    self.ctx,
                    array,
                    index,
                    value,
                    qjs::JS_PROP_C_W_E as _,
                )
            };
            index += 1;
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b']') => {
                    self.pos += 1;
                    return Ok(array);
                }
                _ => return fail(self, self.error("expected ',' or ']'")),
            }
        }
    }
}

// ---------------------------------------------------------------- helpers

/// The user helpers' names, each with the symbol under which an input
/// field of that name is kept during a call.
///
/// An input `user` may carry a field called `addIdToken` (or any helper's
/// name). Left in place, it would hide the helper that the prelude puts on
/// `user`'s prototype, and `user.addIdToken(…)` would throw. So such a field
/// is moved to a private symbol before the call, where functions do not see
/// it, and written back under its own name when the result's `user` is
/// serialised: helpers always work, and the data round-trips.
#[derive(Default)]
pub struct Shadows {
    /// `(name atom, symbol atom)` per helper.
    keys: Vec<(qjs::JSAtom, qjs::JSAtom)>,
    /// Whether this call moved any field aside.
    used: std::cell::Cell<bool>,
}

impl Shadows {
    /// Adds a helper name and its symbol (atoms that live as long as the
    /// runtime).
    pub fn add(&mut self, name: qjs::JSAtom, symbol: qjs::JSAtom) {
        self.keys.push((name, symbol));
    }

    /// Moves `user`'s own fields named like a helper under their symbols.
    ///
    /// # Safety
    ///
    /// `ctx` must be live and `user` a live object of it.
    pub unsafe fn hide(&self, ctx: *mut qjs::JSContext, user: qjs::JSValue) {
        for &(name, symbol) in &self.keys {
            // SAFETY: forwarded from the caller; the value taken moves into
            // the new property.
            unsafe {
                let Some(value) = take_own_value(ctx, user, name) else {
                    continue;
                };
                qjs::JS_DeleteProperty(ctx, user, name, 0);
                qjs::JS_DefinePropertyValue(ctx, user, symbol, value, qjs::JS_PROP_C_W_E as _);
            }
            self.used.set(true);
        }
    }
}

/// The value of `object`'s own property `atom`, owned by the caller, or
/// `None` when there is no such property.
///
/// # Safety
///
/// `ctx` must be live, `object` a live object and `atom` a live atom of it.
unsafe fn take_own_value(
    ctx: *mut qjs::JSContext,
    object: qjs::JSValue,
    atom: qjs::JSAtom,
) -> Option<qjs::JSValue> {
    // SAFETY: QuickJS fills `desc` when the property exists; its getter and
    // setter are freed here and its value is handed to the caller.
    unsafe {
        let mut desc: qjs::JSPropertyDescriptor = std::mem::zeroed();
        if qjs::JS_GetOwnProperty(ctx, &mut desc, object, atom) != 1 {
            return None;
        }
        qjs::JS_FreeValue(ctx, desc.getter);
        qjs::JS_FreeValue(ctx, desc.setter);
        Some(desc.value)
    }
}

// -------------------------------------------------------------- stringify

/// The parts of an allowing result.
pub struct AllowParts {
    /// The user object passed on.
    pub user: qjs::JSValue,
    /// The context object passed on.
    pub context: qjs::JSValue,
    /// ID-token claims (a map; its own `toJSON` is not consulted).
    pub id_token: qjs::JSValue,
    /// Access-token claims (likewise).
    pub access_token: qjs::JSValue,
    /// Custom data (likewise).
    pub custom_data: qjs::JSValue,
    /// The Auth0 flavours' `auth0` section, when there is one.
    pub auth0: Option<qjs::JSValue>,
}

/// Writes the whole result JSON of an allowing call. The envelope is
/// written here, not by JavaScript, so no `toJSON`, getter or prototype of
/// the function's can shape it; `user` and `context` are serialised as
/// `JSON.stringify` would, and the fields `shadows` moved aside are put
/// back into `user`.
///
/// # Safety
///
/// `ctx` must be live and every value of `parts` a live value of it.
pub unsafe fn write_allow(
    ctx: *mut qjs::JSContext,
    parts: AllowParts,
    shadows: Option<&Shadows>,
) -> Result<Vec<u8>, String> {
    // Most results are the input give or take a few claims: one
    // allocation, no regrowth.
    let input = call_input_len();
    let mut out = Vec::with_capacity(input + input / 8 + 512);
    // SAFETY: forwarded from the caller.
    unsafe { with_writer(ctx, &mut out, |writer| writer.allow(&parts, shadows)) }?;
    Ok(out)
}

/// Serialises `value` (borrowed) as JSON into `out`.
///
/// # Safety
///
/// `ctx` must be a live context of the current runtime and `value` a live
/// value of it.
pub unsafe fn stringify(
    ctx: *mut qjs::JSContext,
    value: qjs::JSValue,
    out: &mut Vec<u8>,
) -> Result<(), String> {
    // SAFETY: forwarded from the caller.
    unsafe { with_writer(ctx, out, |writer| writer.member(value, ToJson::Call)) }
}

/// Runs `write` with a [`Writer`] over `out`.
///
/// # Safety
///
/// `ctx` must be live, and `write` must only touch live values of it.
unsafe fn with_writer<T>(
    ctx: *mut qjs::JSContext,
    out: &mut Vec<u8>,
    write: impl FnOnce(&mut Writer<'_>) -> Result<T, String>,
) -> Result<T, String> {
    // SAFETY: forwarded from the caller.
    let to_json = unsafe { to_json_atom(ctx) };
    let written = write(&mut Writer {
        ctx,
        out,
        to_json,
        // Without lazy members there is nothing to look for.
        copy_untouched: if any_lazy_member() { None } else { Some(false) },
    });
    written
}

/// The atom `toJSON`, made on first use and kept for the runtime's life
/// (in the snapshot once a compile has used it).
///
/// # Safety
///
/// `ctx` must be live.
pub unsafe fn to_json_atom(ctx: *mut qjs::JSContext) -> qjs::JSAtom {
    static TO_JSON: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let atom = TO_JSON.load(std::sync::atomic::Ordering::Relaxed);
    if atom != qjs::JS_ATOM_NULL {
        return atom;
    }
    // SAFETY: forwarded from the caller; never freed.
    let atom = unsafe { qjs::JS_NewAtomLen(ctx, c"toJSON".as_ptr(), 6) };
    TO_JSON.store(atom, std::sync::atomic::Ordering::Relaxed);
    atom
}

struct Writer<'a> {
    ctx: *mut qjs::JSContext,
    out: &'a mut Vec<u8>,
    /// The atom `toJSON`, looked up on every object.
    to_json: qjs::JSAtom,
    /// Whether untouched lazy input members are copied as their input
    /// text: unless a function gave every object or array a `toJSON`.
    /// Found out at the first such member.
    copy_untouched: Option<bool>,
}

/// True when neither plain objects nor arrays inherit a `toJSON`.
///
/// # Safety
///
/// `ctx` and `to_json` must be live.
unsafe fn no_inherited_to_json(ctx: *mut qjs::JSContext, to_json: qjs::JSAtom) -> bool {
    // SAFETY: every value created here is freed here; an exception thrown
    // by a getter is taken and dropped.
    unsafe {
        let mut none = true;
        for probe in [qjs::JS_NewObject(ctx), qjs::JS_NewArray(ctx)] {
            let found = qjs::JS_GetProperty(ctx, probe, to_json);
            if qjs::JS_IsException(found) {
                qjs::JS_FreeValue(ctx, qjs::JS_GetException(ctx));
                none = false;
            } else if !qjs::JS_IsUndefined(found) {
                none = false;
            }
            qjs::JS_FreeValue(ctx, found);
            qjs::JS_FreeValue(ctx, probe);
        }
        none
    }
}

/// Whether an object's `toJSON` is called (it is, except on the maps of a
/// result, and on what a `toJSON` returned, as in `JSON.stringify`).
#[derive(Clone, Copy, PartialEq, Eq)]
enum ToJson {
    Call,
    Skip,
}

impl Writer<'_> {
    /// The allowing result (see [`write_allow`]).
    ///
    /// # Safety
    ///
    /// `self.ctx` and the parts' values must be live.
    unsafe fn allow(
        &mut self,
        parts: &AllowParts,
        shadows: Option<&Shadows>,
    ) -> Result<(), String> {
        self.out
            .extend_from_slice(b"{\"outcome\":\"allow\",\"user\":");
        let user_at = self.out.len();
        // SAFETY (all calls below): forwarded from the caller.
        unsafe { self.member(parts.user, ToJson::Call)? };
        if let Some(shadows) = shadows.filter(|s| s.used.get()) {
            unsafe { self.restore_shadowed(parts.user, user_at, shadows)? };
        }
        self.out.extend_from_slice(b",\"context\":");
        unsafe { self.member(parts.context, ToJson::Call)? };
        self.out.extend_from_slice(b",\"claims\":{\"id_token\":");
        unsafe { self.member(parts.id_token, ToJson::Skip)? };
        self.out.extend_from_slice(b",\"access_token\":");
        unsafe { self.member(parts.access_token, ToJson::Skip)? };
        self.out.extend_from_slice(b"},\"custom_data\":");
        unsafe { self.member(parts.custom_data, ToJson::Skip)? };
        if let Some(auth0) = parts.auth0 {
            self.out.extend_from_slice(b",\"auth0\":");
            unsafe { self.member(auth0, ToJson::Call)? };
        }
        self.out.push(b'}');
        Ok(())
    }

    /// A whole value, or a member of the envelope: `null` when JSON would
    /// skip it (`undefined`, a function, a symbol).
    ///
    /// # Safety
    ///
    /// `self.ctx` and `value` must be live.
    unsafe fn member(&mut self, value: qjs::JSValue, to_json: ToJson) -> Result<(), String> {
        // SAFETY: forwarded from the caller.
        if !unsafe { self.value_with(value, qjs::JS_ATOM_NULL, 0, to_json)? } {
            self.out.extend_from_slice(b"null");
        }
        Ok(())
    }

    /// Adds the fields that [`Shadows::hide`] moved aside back into the
    /// user object just written at `user_at`.
    ///
    /// # Safety
    ///
    /// `self.ctx` and `user` must be live.
    unsafe fn restore_shadowed(
        &mut self,
        user: qjs::JSValue,
        user_at: usize,
        shadows: &Shadows,
    ) -> Result<(), String> {
        if self.out.get(user_at) != Some(&b'{') || self.out.last() != Some(&b'}') {
            return Ok(()); // a `toJSON` made it something else
        }
        for &(name, symbol) in &shadows.keys {
            // SAFETY: reading an own property of a live object; the value
            // taken is freed after writing.
            unsafe {
                let Some(value) = take_own_value(self.ctx, user, symbol) else {
                    continue;
                };
                self.out.pop();
                let mark = self.out.len();
                if self.out.len() > user_at + 1 {
                    self.out.push(b',');
                }
                self.atom(name);
                self.out.push(b':');
                let written = self.value(value, name, 1);
                qjs::JS_FreeValue(self.ctx, value);
                if !written? {
                    self.out.truncate(mark);
                }
                self.out.push(b'}');
            }
        }
        Ok(())
    }

    /// Writes `value`; returns false (writing nothing) for values JSON
    /// skips: `undefined`, functions, symbols.
    ///
    /// # Safety
    ///
    /// `self.ctx` and `value` must be live; `value` stays borrowed.
    unsafe fn value(
        &mut self,
        value: qjs::JSValue,
        key: qjs::JSAtom,
        depth: u32,
    ) -> Result<bool, String> {
        // SAFETY: forwarded from the caller.
        unsafe { self.value_with(value, key, depth, ToJson::Call) }
    }

    /// [`Writer::value`], calling `toJSON` only when asked to.
    ///
    /// # Safety
    ///
    /// `self.ctx` and `value` must be live; `value` stays borrowed.
    unsafe fn value_with(
        &mut self,
        value: qjs::JSValue,
        key: qjs::JSAtom,
        depth: u32,
        to_json: ToJson,
    ) -> Result<bool, String> {
        // SAFETY: reading the tag of a live value.
        let tag = unsafe { qjs::JS_VALUE_GET_NORM_TAG(value) };
        match tag {
            qjs::JS_TAG_INT => {
                // SAFETY: the tag says int.
                let n = unsafe { qjs::JS_VALUE_GET_INT(value) };
                self.out.extend_from_slice(n.to_string().as_bytes());
            }
            qjs::JS_TAG_FLOAT64 => {
                // SAFETY: the tag says float64.
                let n = unsafe { qjs::JS_VALUE_GET_FLOAT64(value) };
                // SAFETY: forwarded from the caller.
                unsafe { self.number(n, value) };
            }
            qjs::JS_TAG_BOOL => {
                // SAFETY: the tag says bool.
                let b = unsafe { qjs::JS_VALUE_GET_BOOL(value) };
                self.out
                    .extend_from_slice(if b { b"true" } else { b"false" });
            }
            qjs::JS_TAG_NULL => self.out.extend_from_slice(b"null"),
            qjs::JS_TAG_STRING | qjs::JS_TAG_STRING_ROPE => {
                // SAFETY: forwarded from the caller.
                unsafe { self.js_string(value)? };
            }
            qjs::JS_TAG_OBJECT => {
                // SAFETY: forwarded from the caller.
                return unsafe { self.object(value, key, depth, to_json) };
            }
            qjs::JS_TAG_BIG_INT | qjs::JS_TAG_SHORT_BIG_INT => {
                return Err("a BigInt value cannot be serialised as JSON".into());
            }
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// A number the way JavaScript prints it, or `null` when not finite.
    ///
    /// # Safety
    ///
    /// `self.ctx` and `value` must be live.
    unsafe fn number(&mut self, n: f64, value: qjs::JSValue) {
        if !n.is_finite() {
            self.out.extend_from_slice(b"null");
        } else if n == n.trunc() && n.abs() < 1e15 {
            self.out
                .extend_from_slice((n as i64).to_string().as_bytes());
        } else {
            // Exponents and shortest round-trip digits: let QuickJS format it.
            // SAFETY: forwarded from the caller; the string is freed below.
            unsafe {
                let mut len: usize = 0;
                let text = qjs::JS_ToCStringLen(self.ctx, &mut len, value);
                if !text.is_null() {
                    self.out.extend_from_slice(std::slice::from_raw_parts(
                        text.cast::<u8>(),
                        len as usize,
                    ));
                    qjs::JS_FreeCString(self.ctx, text);
                }
            }
        }
    }

    /// # Safety
    ///
    /// `self.ctx` and `value` (a string) must be live.
    unsafe fn js_string(&mut self, value: qjs::JSValue) -> Result<(), String> {
        let mut len: usize = 0;
        // SAFETY: converting a live string; freed below.
        let text = unsafe { qjs::JS_ToCStringLen(self.ctx, &mut len, value) };
        if text.is_null() {
            return Err("a string could not be converted".into());
        }
        // SAFETY: QuickJS returned `len` bytes at `text`.
        let bytes = unsafe { std::slice::from_raw_parts(text.cast::<u8>(), len as usize) };
        write_escaped(self.out, bytes);
        // SAFETY: `text` came from JS_ToCStringLen.
        unsafe { qjs::JS_FreeCString(self.ctx, text) };
        Ok(())
    }

    /// # Safety
    ///
    /// `self.ctx` and `object` must be live.
    unsafe fn object(
        &mut self,
        object: qjs::JSValue,
        key: qjs::JSAtom,
        depth: u32,
        honour_to_json: ToJson,
    ) -> Result<bool, String> {
        let ctx = self.ctx;
        // SAFETY: querying a live object.
        if unsafe { qjs::JS_IsFunction(ctx, object) } {
            return Ok(false);
        }
        if depth >= MAX_DEPTH {
            return Err("the result is nested too deeply or contains a cycle".into());
        }
        let to_json = if honour_to_json == ToJson::Call {
            // SAFETY: property lookup on a live object; the result is freed.
            unsafe { qjs::JS_GetProperty(ctx, object, self.to_json) }
        } else {
            qjs::JS_UNDEFINED
        };
        // SAFETY: querying the looked-up value.
        if unsafe { qjs::JS_IsFunction(ctx, to_json) } {
            // SAFETY: calling with one argument (the key, as in JSON.stringify);
            // every created value is freed exactly once.
            return unsafe {
                let key_value = if key == qjs::JS_ATOM_NULL {
                    qjs::JS_NewStringLen(ctx, c"".as_ptr(), 0)
                } else {
                    qjs::JS_AtomToString(ctx, key)
                };
                let mut args = [key_value];
                let replaced = qjs::JS_Call(ctx, to_json, object, 1, args.as_mut_ptr());
                qjs::JS_FreeValue(ctx, key_value);
                qjs::JS_FreeValue(ctx, to_json);
                if qjs::JS_IsException(replaced) {
                    return Err("toJSON threw".into());
                }
                // As in JSON.stringify, what toJSON returns is serialised
                // without calling its own toJSON again.
                let written = self.value_with(replaced, key, depth + 1, ToJson::Skip);
                qjs::JS_FreeValue(ctx, replaced);
                written
            };
        }
        // SAFETY: `to_json` is owned and no longer needed.
        unsafe { qjs::JS_FreeValue(ctx, to_json) };

        // SAFETY: querying a live object.
        if unsafe { qjs::JS_IsArray(object) } {
            let mut length: i64 = 0;
            // SAFETY: reading the length of a live array.
            if unsafe { qjs::JS_GetLength(ctx, object, &mut length) } < 0 {
                return Err("an array length could not be read".into());
            }
            self.out.push(b'[');
            for index in 0..length.max(0) as u32 {
                if index > 0 {
                    self.out.push(b',');
                }
                // SAFETY: element read from a live array; freed after use.
                let element = unsafe { qjs::JS_GetPropertyUint32(ctx, object, index) };
                // SAFETY: forwarded; `element` stays live until freed below.
                let written = unsafe { self.value(element, qjs::JS_ATOM_NULL, depth + 1) };
                // SAFETY: `element` is owned here.
                unsafe { qjs::JS_FreeValue(ctx, element) };
                if !written? {
                    self.out.extend_from_slice(b"null");
                }
            }
            self.out.push(b']');
            return Ok(true);
        }

        let mut table: *mut qjs::JSPropertyEnum = std::ptr::null_mut();
        let mut count: u32 = 0;
        let flags = (qjs::JS_GPN_STRING_MASK | qjs::JS_GPN_ENUM_ONLY) as _;
        // SAFETY: enumerating a live object; the table is freed below.
        if unsafe { qjs::JS_GetOwnPropertyNames(ctx, &mut table, &mut count, object, flags) } < 0 {
            return Err("the properties of an object could not be listed".into());
        }
        // SAFETY: QuickJS returned `count` entries at `table`.
        let entries = unsafe { std::slice::from_raw_parts(table, count as usize) };
        self.out.push(b'{');
        let mut first = true;
        let mut result = Ok(true);
        let to_json = self.to_json;
        for entry in entries {
            // SAFETY: `object` and the atom are live.
            let untouched = match self.copy_untouched {
                Some(false) => None,
                _ => unsafe { untouched_member(ctx, object, entry.atom) },
            };
            if let Some(text) = untouched {
                // SAFETY: the context and the atom are live.
                let copy = *self
                    .copy_untouched
                    .get_or_insert_with(|| unsafe { no_inherited_to_json(ctx, to_json) });
                if copy {
                    if !first {
                        self.out.push(b',');
                    }
                    // SAFETY: the atom is live while the table is.
                    unsafe { self.atom(entry.atom) };
                    self.out.push(b':');
                    self.out.extend_from_slice(text);
                    first = false;
                    continue;
                }
            }
            // SAFETY: reading a property of a live object; freed after use.
            let property = unsafe { qjs::JS_GetProperty(ctx, object, entry.atom) };
            let mark = self.out.len();
            if !first {
                self.out.push(b',');
            }
            // SAFETY: the atom is live while the table is.
            unsafe { self.atom(entry.atom) };
            self.out.push(b':');
            // SAFETY: forwarded; `property` is live until freed below.
            let written = unsafe { self.value(property, entry.atom, depth + 1) };
            // SAFETY: `property` is owned here.
            unsafe { qjs::JS_FreeValue(ctx, property) };
            match written {
                Ok(true) => first = false,
                Ok(false) => self.out.truncate(mark),
                Err(e) => {
                    result = Err(e);
                    break;
                }
            }
        }
        // SAFETY: the table came from JS_GetOwnPropertyNames.
        unsafe { qjs::JS_FreePropertyEnum(ctx, table, count) };
        self.out.push(b'}');
        result
    }

    /// # Safety
    ///
    /// `self.ctx` and `atom` must be live.
    unsafe fn atom(&mut self, atom: qjs::JSAtom) {
        let mut len: qjs::size_t = 0;
        // SAFETY: converting a live atom; freed below.
        let text = unsafe { qjs::JS_AtomToCStringLen(self.ctx, &mut len, atom) };
        if text.is_null() {
            self.out.extend_from_slice(b"\"\"");
            return;
        }
        // SAFETY: QuickJS returned `len` bytes at `text`.
        write_escaped(self.out, unsafe {
            std::slice::from_raw_parts(text.cast::<u8>(), len as usize)
        });
        // SAFETY: `text` came from JS_AtomToCStringLen.
        unsafe { qjs::JS_FreeCString(self.ctx, text) };
    }
}

/// Bytes that JSON strings must escape.
const NEEDS_ESCAPE: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 0x20 {
        table[b] = true;
        b += 1;
    }
    table[b'"' as usize] = true;
    table[b'\\' as usize] = true;
    table
};

/// Writes `bytes` (UTF-8) as a quoted JSON string.
pub fn write_escaped(out: &mut Vec<u8>, bytes: &[u8]) {
    out.reserve(bytes.len() + 2);
    out.push(b'"');
    let mut start = 0;
    while let Some(offset) = bytes[start..]
        .iter()
        .position(|&b| NEEDS_ESCAPE[usize::from(b)])
    {
        let i = start + offset;
        let b = bytes[i];
        let escape: &[u8] = match b {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0x08 => b"\\b",
            0x0c => b"\\f",
            _ => b"",
        };
        out.extend_from_slice(&bytes[start..i]);
        if escape.is_empty() {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            out.extend_from_slice(&[
                b'\\',
                b'u',
                b'0',
                b'0',
                HEX[usize::from(b >> 4)],
                HEX[usize::from(b & 15)],
            ]);
        } else {
            out.extend_from_slice(escape);
        }
        start = i + 1;
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}
