//! The few WASI calls the engine makes, called directly.
//!
//! Going around Rust's `std::io` and wasi-libc's `environ` matters here: both
//! keep state in linear memory (buffers, a cached environment) that the
//! snapshot would freeze, so a later call would see the compile-time values.

/// File descriptor of standard input.
pub const STDIN: u32 = 0;
/// File descriptor of standard output.
pub const STDOUT: u32 = 1;
/// File descriptor of standard error.
pub const STDERR: u32 = 2;
/// The descriptor `fetch` requests and responses travel over ("FETC").
/// Keep in step with `FETCH_FD` in the host's `sandbox.rs`.
pub const FETCH_FD: u32 = 0x4645_5443;
/// The descriptor signature verifications and signings travel over
/// ("CRYP"), answered natively by the host. Keep in step with `CRYPTO_FD` in the host's
/// `sandbox.rs`.
pub const CRYPTO_FD: u32 = 0x4352_5950;

/// Sources loaded on demand (the Auth0 adapters, the npm modules and the
/// bundled npm packages) are read from the host here, so they are not part
/// of every sandbox's memory. Keep in step with `SOURCES_FD` in the host's
/// `sandbox.rs`.
pub const SOURCES_FD: u32 = 0x5352_4345;

#[repr(C)]
struct IoVec {
    buf: *const u8,
    len: usize,
}

#[link(wasm_import_module = "wasi_snapshot_preview1")]
unsafe extern "C" {
    fn fd_read(fd: u32, iovs: *const IoVec, iovs_len: usize, nread: *mut usize) -> u16;
    fn fd_write(fd: u32, iovs: *const IoVec, iovs_len: usize, nwritten: *mut usize) -> u16;
    fn random_get(buf: *mut u8, len: usize) -> u16;
    fn environ_sizes_get(count: *mut usize, buf_size: *mut usize) -> u16;
    fn environ_get(environ: *mut *mut u8, environ_buf: *mut u8) -> u16;
    fn args_sizes_get(count: *mut usize, buf_size: *mut usize) -> u16;
    fn args_get(argv: *mut *mut u8, argv_buf: *mut u8) -> u16;
    fn poll_oneoff(
        subscriptions: *const u8,
        events: *mut u8,
        count: usize,
        nevents: *mut usize,
    ) -> u16;
}

/// Reads standard input to its end (or to the first error).
pub fn read_stdin() -> Vec<u8> {
    read_to_end(STDIN)
}

/// Sends one `fetch` request (JSON) to the host and returns its response
/// JSON; `None` when the host offers no `fetch` (a stock WASI host, or
/// compile time).
pub fn fetch(request: &[u8]) -> Option<Vec<u8>> {
    exchange(FETCH_FD, request)
}

/// Writes `request` to one of the host's request descriptors (`fetch`,
/// time zones) and reads the answer to its end; `None` when the host does
/// not offer that descriptor.
pub fn exchange(fd: u32, request: &[u8]) -> Option<Vec<u8>> {
    let iov = IoVec {
        buf: request.as_ptr(),
        len: request.len(),
    };
    let mut written = 0;
    // SAFETY: the iovec describes `request`, which outlives the call.
    let errno = unsafe { fd_write(fd, &iov, 1, &mut written) };
    if errno != 0 || written != request.len() {
        return None;
    }
    Some(read_to_end(fd))
}

/// Reads `fd` to its end (or to the first error).
fn read_to_end(fd: u32) -> Vec<u8> {
    let mut data = Vec::with_capacity(4096);
    loop {
        if data.capacity() - data.len() < 4096 {
            data.reserve(data.capacity());
        }
        let spare = data.spare_capacity_mut();
        let iov = IoVec {
            buf: spare.as_mut_ptr().cast(),
            len: spare.len(),
        };
        let mut read = 0;
        // SAFETY: the iovec points at the vector's spare capacity, which the
        // host fills with at most `iov.len` bytes and reports in `read`.
        let errno = unsafe { fd_read(fd, &iov, 1, &mut read) };
        if errno != 0 || read == 0 {
            return data;
        }
        // SAFETY: the host initialised `read` bytes of the spare capacity.
        unsafe { data.set_len(data.len() + read) };
    }
}

/// Writes all of `bytes` to `fd`; gives up silently when the host refuses
/// (it does so when an output cap is reached, and reports that itself).
pub fn write_all(fd: u32, mut bytes: &[u8]) {
    while !bytes.is_empty() {
        let iov = IoVec {
            buf: bytes.as_ptr(),
            len: bytes.len(),
        };
        let mut written = 0;
        // SAFETY: the iovec describes `bytes`, which outlives the call.
        let errno = unsafe { fd_write(fd, &iov, 1, &mut written) };
        if errno != 0 || written == 0 {
            return;
        }
        bytes = &bytes[written.min(bytes.len())..];
    }
}

/// Fills `buf` from the host's secure random source.
pub fn random_fill(buf: &mut [u8]) {
    // SAFETY: the host writes exactly `buf.len()` bytes into `buf`.
    let errno = unsafe { random_get(buf.as_mut_ptr(), buf.len()) };
    assert_eq!(errno, 0, "random_get failed");
}

/// A fresh random `u64` from the host.
pub fn random_u64() -> u64 {
    let mut bytes = [0u8; 8];
    random_fill(&mut bytes);
    u64::from_le_bytes(bytes)
}

/// A WASI `*_sizes_get` function.
type SizesGet = unsafe extern "C" fn(*mut usize, *mut usize) -> u16;
/// A WASI `environ_get` / `args_get` function.
type ListGet = unsafe extern "C" fn(*mut *mut u8, *mut u8) -> u16;

/// A WASI string list (the environment or the arguments): its entries
/// back to back, each ending in NUL, and how many there are; empty when
/// the host offers none or fails.
fn string_list(sizes_get: SizesGet, get: ListGet) -> (Vec<u8>, usize) {
    let (mut count, mut size) = (0usize, 0usize);
    // SAFETY: both out-pointers are valid for writes.
    if unsafe { sizes_get(&mut count, &mut size) } != 0 || count == 0 {
        return (Vec::new(), 0);
    }
    let mut pointers: Vec<*mut u8> = vec![std::ptr::null_mut(); count];
    let mut buf = vec![0u8; size];
    // SAFETY: the arrays have the sizes the host just reported.
    if unsafe { get(pointers.as_mut_ptr(), buf.as_mut_ptr()) } != 0 {
        return (Vec::new(), 0);
    }
    (buf, count)
}

/// The `KEY=VALUE` pairs of this call's WASI environment.
pub fn environment() -> Vec<(String, String)> {
    let (buf, _) = string_list(environ_sizes_get, environ_get);
    buf.split(|&b| b == 0)
        .filter(|entry| !entry.is_empty())
        .filter_map(|entry| {
            let entry = String::from_utf8_lossy(entry);
            let (key, value) = entry.split_once('=')?;
            Some((key.to_string(), value.to_string()))
        })
        .collect()
}

/// This call's WASI arguments (authpipe's host passes `authpipe TRIGGER`
/// when the call runs in a trigger's pipeline).
pub fn args() -> Vec<String> {
    let (buf, count) = string_list(args_sizes_get, args_get);
    buf.split(|&b| b == 0)
        .take(count)
        .map(|arg| String::from_utf8_lossy(arg).into_owned())
        .collect()
}

/// Sleeps for `ms` milliseconds on the monotonic clock (one relative clock
/// subscription of `poll_oneoff`). authpipe's host ends the call instead
/// when its deadline comes first. False when the host cannot sleep.
pub fn sleep_ms(ms: f64) -> bool {
    let nanos = (ms.max(0.0) * 1e6).min(u64::MAX as f64) as u64;
    // struct subscription: userdata u64, tag u8 (0 = clock) at 8, then the
    // clock: id u32 at 16 (1 = monotonic), timeout u64 at 24, precision u64
    // at 32, flags u16 at 40 (0 = relative); 48 bytes.
    #[repr(C, align(8))]
    struct Aligned<const N: usize>([u8; N]);
    let mut subscription = Aligned([0u8; 48]);
    subscription.0[16..20].copy_from_slice(&1u32.to_le_bytes());
    subscription.0[24..32].copy_from_slice(&nanos.to_le_bytes());
    let mut event = Aligned([0u8; 32]);
    let mut nevents = 0usize;
    // SAFETY: both buffers have the sizes (and alignment) of one
    // subscription and one event.
    let errno = unsafe {
        poll_oneoff(
            subscription.0.as_ptr(),
            event.0.as_mut_ptr(),
            1,
            &mut nevents,
        )
    };
    errno == 0
}
