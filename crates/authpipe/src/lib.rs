//! Run user-written JavaScript auth pipeline functions in a WebAssembly
//! sandbox.
//!
//! ```no_run
//! use authpipe::{Pipeline, Runtime, Stage};
//!
//! # fn main() -> anyhow::Result<()> {
//! let runtime = Runtime::new()?;
//! let function = runtime.compile(
//!     "allow-all",
//!     "function pipe(user, context, callback) { callback(null, user, context) }",
//! )?;
//! let pipeline = Pipeline::new(vec![Stage::new(function)]);
//! let result = pipeline.run_blocking(br#"{"user":{"id":"u1"},"context":{}}"#);
//! assert_eq!(result.outcome, authpipe::Outcome::Allow);
//! # Ok(()) }
//! ```
//!
//! # Core concepts
//!
//! * [`Runtime`]: one per process. Owns the wasmtime engine (pooling
//!   allocator, copy-on-write memory, fuel, an epoch-ticker thread for
//!   wall-clock limits) and the compiled QuickJS engine code, shared by every
//!   function. Creating one is cheap; the first compile or load also
//!   compiles the engine (about a second, or milliseconds from the on-disk
//!   cache).
//! * [`Function`]: one compiled function, made by [`Runtime::compile`] from
//!   source or by [`Runtime::load`] from a snapshot file. Long-lived and
//!   cheap to clone. Compiling evaluates the source once and snapshots the
//!   heap, so a call starts with `pipe` already defined.
//! * [`Stage`] / [`Pipeline`]: a function with its `env`, [`Limits`] and
//!   [`OnError`] policy; stages run in order, each on a **fresh sandbox**
//!   (a new instance, microseconds to create), passing `user`/`context` on.
//! * [`InvocationResult`]: the result JSON of a stage or a pipeline.
//!
//! The sandbox has no filesystem, no sockets and no host environment: the
//! engine only sees its input on stdin, its result on stdout, its logs on
//! stderr, its configured `env`, clocks and random numbers. A function's
//! `fetch` is answered by the host, through the stage's [`fetch::Fetcher`]
//! (by default one that refuses everything; [`fetch::HttpFetcher`] goes to
//! the network within a [`fetch::FetchPolicy`] allow-list).
#![deny(missing_docs)]

pub mod bounded;
mod cache;
mod cancel;
mod compile;
pub mod fetch;
mod flavor;
mod function;
mod limits;
mod long_calls;
mod natives;
mod pipeline;
mod result;
mod runtime;
mod sandbox;
mod slots;
mod sources;
mod split;
mod typescript;

pub use cache::{DEFAULT_CACHE_MAX_BYTES, PruneStats, prune as prune_cache};
pub use cancel::CancelToken;
pub use compile::CompileError;
pub use flavor::{Flavor, UnknownFlavor};
pub use function::{Function, PagesWritten};
pub use limits::{
    DEFAULT_FUEL, DEFAULT_MEMORY_MB, DEFAULT_TIMEOUT, FUEL_RANGE, LimitError, Limits,
    MAX_INPUT_BYTES, MAX_LOG_BYTES, MAX_OUTPUT_BYTES, MAX_SOURCE_BYTES, MEMORY_MB_RANGE,
    TIMEOUT_MS_RANGE,
};
pub use pipeline::{OnError, Pipeline, Stage};
pub use result::{
    Claims, ErrorKind, FunctionError, InvocationResult, LogLevel, LogRecord, Outcome,
    SourceLocation, StageReport,
};
pub use runtime::{DEFAULT_MAX_CONCURRENT_CALLS, Runtime, RuntimeConfig};
pub use sandbox::Environ;
