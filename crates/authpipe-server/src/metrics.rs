//! Counters for `GET /metrics`, in the Prometheus text format.

use authpipe::{ErrorKind, InvocationResult};
use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

/// Upper bounds of the stage-latency histogram, in seconds.
const LATENCY_BUCKETS: [f64; 12] = [
    0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.1, 0.5, 2.5,
];

#[derive(Default)]
struct FunctionStats {
    by_outcome: BTreeMap<&'static str, u64>,
    buckets: [u64; LATENCY_BUCKETS.len()],
    duration_sum_seconds: f64,
    count: u64,
    fuel: u64,
    timeouts: u64,
    denials: u64,
}

/// Upper bounds of the HTTP request-duration histogram, in seconds.
const HTTP_BUCKETS: [f64; 12] = [
    0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 2.5, 10.0,
];

/// Process-wide counters.
#[derive(Default)]
pub struct Metrics {
    functions: Mutex<BTreeMap<String, FunctionStats>>,
    errors: Mutex<BTreeMap<(String, &'static str), u64>>,
    pipelines: Mutex<BTreeMap<(String, &'static str), u64>>,
    http: Mutex<BTreeMap<u16, u64>>,
    http_duration: Mutex<Histogram<{ HTTP_BUCKETS.len() }>>,
    fetches: Mutex<BTreeMap<(String, String), u64>>,
    closed: Mutex<BTreeMap<&'static str, u64>>,
    body_refusals: Mutex<BTreeMap<&'static str, u64>>,
    /// Client connections open now.
    pub connections_open: AtomicI64,
    /// Connections answered 503 because `max_connections` were open.
    pub connections_refused: AtomicU64,
    /// Invocations cancelled because their client went away (or shutdown
    /// gave up waiting for them).
    pub cancelled: AtomicU64,
    /// Async invocations waiting or running.
    pub async_queue_depth: AtomicI64,
    /// Async invocations dropped because the queue was full.
    pub async_dropped: AtomicU64,
    /// Requests refused with 503 because too many were in flight.
    pub overloaded: AtomicU64,
    /// Store mode: invocations refused with 429 by a tenant's quota.
    pub throttled: AtomicU64,
    /// Store mode: execution records written to the store.
    pub executions_recorded: AtomicU64,
    /// Store mode: execution records dropped because the writer fell
    /// behind (or the store failed).
    pub executions_dropped: AtomicU64,
    reloads: Mutex<BTreeMap<&'static str, u64>>,
}

impl Metrics {
    /// Records every stage of `result`.
    pub fn record_stages(&self, result: &InvocationResult) {
        self.record_stages_of(None, result);
    }

    /// Records every stage of `result`; in store mode functions are
    /// labelled `tenant/function`.
    pub fn record_stages_of(&self, tenant: Option<&str>, result: &InvocationResult) {
        let label = |function: &str| match tenant {
            Some(tenant) => format!("{tenant}/{function}"),
            None => function.to_string(),
        };
        let mut functions = self.functions.lock().expect("metrics lock");
        for stage in &result.stages {
            let stats = functions.entry(label(&stage.function)).or_default();
            *stats.by_outcome.entry(stage.outcome.as_str()).or_default() += 1;
            let seconds = stage.duration_us as f64 / 1e6;
            for (bucket, bound) in stats.buckets.iter_mut().zip(LATENCY_BUCKETS) {
                if seconds <= bound {
                    *bucket += 1;
                }
            }
            stats.duration_sum_seconds += seconds;
            stats.count += 1;
            stats.fuel += stage.fuel;
            match stage.error.as_ref().map(|e| e.kind) {
                Some(ErrorKind::Timeout) => stats.timeouts += 1,
                Some(ErrorKind::Denied) => stats.denials += 1,
                _ => {}
            }
        }
        drop(functions);
        let mut errors = self.errors.lock().expect("metrics lock");
        for stage in &result.stages {
            if let Some(error) = stage.error.as_ref().filter(|e| e.kind != ErrorKind::Denied) {
                *errors
                    .entry((label(&stage.function), error.kind.as_str()))
                    .or_default() += 1;
            }
        }
    }

    /// Records one HTTP request's duration.
    pub fn record_http_duration(&self, seconds: f64) {
        self.http_duration
            .lock()
            .expect("metrics lock")
            .observe(seconds, &HTTP_BUCKETS);
    }

    /// Records a function's `fetch`: the URL's host and the HTTP status, or
    /// `denied`, `timeout` or `error`.
    pub fn record_fetch(&self, host: &str, status: &str) {
        *self
            .fetches
            .lock()
            .expect("metrics lock")
            .entry((host.to_string(), status.to_string()))
            .or_default() += 1;
    }

    /// Records a connection the server closed, by reason.
    pub fn record_closed(&self, reason: &'static str) {
        *self
            .closed
            .lock()
            .expect("metrics lock")
            .entry(reason)
            .or_default() += 1;
    }

    /// Records a refused request body, by reason.
    pub fn record_body_refusal(&self, reason: &'static str) {
        *self
            .body_refusals
            .lock()
            .expect("metrics lock")
            .entry(reason)
            .or_default() += 1;
    }

    /// Records a pipeline request's outcome.
    pub fn record_pipeline(&self, trigger: &str, result: &InvocationResult) {
        *self
            .pipelines
            .lock()
            .expect("metrics lock")
            .entry((trigger.to_string(), result.outcome.as_str()))
            .or_default() += 1;
    }

    /// Records an HTTP response status.
    pub fn record_http(&self, status: u16) {
        *self
            .http
            .lock()
            .expect("metrics lock")
            .entry(status)
            .or_default() += 1;
    }

    /// Records a reload attempt.
    pub fn record_reload(&self, ok: bool) {
        *self
            .reloads
            .lock()
            .expect("metrics lock")
            .entry(if ok { "ok" } else { "error" })
            .or_default() += 1;
    }

    /// The Prometheus text exposition; `in_flight` is the number of
    /// sandboxes running now.
    pub fn render(&self, in_flight: usize) -> String {
        let mut out = String::with_capacity(4096);
        header(
            &mut out,
            "authpipe_build_info",
            "gauge",
            "The running authpipe build (always 1).",
        );
        let _ = writeln!(
            out,
            "authpipe_build_info{{version=\"{}\"}} 1",
            env!("CARGO_PKG_VERSION")
        );
        let functions = self.functions.lock().expect("metrics lock");
        header(
            &mut out,
            "authpipe_invocations_total",
            "counter",
            "Function invocations by outcome.",
        );
        for (name, stats) in functions.iter() {
            for (outcome, count) in &stats.by_outcome {
                let _ = writeln!(
                    out,
                    "authpipe_invocations_total{{function=\"{}\",outcome=\"{outcome}\"}} {count}",
                    escape(name)
                );
            }
        }
        header(
            &mut out,
            "authpipe_stage_duration_seconds",
            "histogram",
            "Wall-clock time of one stage.",
        );
        for (name, stats) in functions.iter() {
            let name = escape(name);
            for (count, bound) in stats.buckets.iter().zip(LATENCY_BUCKETS) {
                let _ = writeln!(
                    out,
                    "authpipe_stage_duration_seconds_bucket{{function=\"{name}\",le=\"{bound}\"}} {count}"
                );
            }
            let _ = writeln!(
                out,
                "authpipe_stage_duration_seconds_bucket{{function=\"{name}\",le=\"+Inf\"}} {}",
                stats.count
            );
            let _ = writeln!(
                out,
                "authpipe_stage_duration_seconds_sum{{function=\"{name}\"}} {}",
                stats.duration_sum_seconds
            );
            let _ = writeln!(
                out,
                "authpipe_stage_duration_seconds_count{{function=\"{name}\"}} {}",
                stats.count
            );
        }
        let per_function =
            |out: &mut String, metric: &str, help: &str, value: fn(&FunctionStats) -> u64| {
                header(out, metric, "counter", help);
                for (name, stats) in functions.iter() {
                    let _ = writeln!(
                        out,
                        "{metric}{{function=\"{}\"}} {}",
                        escape(name),
                        value(stats)
                    );
                }
            };
        per_function(
            &mut out,
            "authpipe_fuel_consumed_total",
            "Fuel consumed by stages.",
            |s| s.fuel,
        );
        per_function(
            &mut out,
            "authpipe_timeouts_total",
            "Stages stopped by their wall-clock limit.",
            |s| s.timeouts,
        );
        per_function(
            &mut out,
            "authpipe_denials_total",
            "Stages that denied.",
            |s| s.denials,
        );
        drop(functions);
        labelled(
            &mut out,
            "authpipe_errors_total",
            "Stages that failed, by function and error kind (denials are not errors).",
            self.errors
                .lock()
                .expect("metrics lock")
                .iter()
                .map(|((function, kind), n)| {
                    (
                        format!("function=\"{}\",kind=\"{kind}\"", escape(function)),
                        *n,
                    )
                }),
        );
        labelled(
            &mut out,
            "authpipe_fetch_requests_total",
            "fetch requests of functions by host and HTTP status (or denied, timeout, error).",
            self.fetches
                .lock()
                .expect("metrics lock")
                .iter()
                .map(|((host, status), n)| {
                    (
                        format!("host=\"{}\",status=\"{}\"", escape(host), escape(status)),
                        *n,
                    )
                }),
        );
        header(
            &mut out,
            "authpipe_http_request_duration_seconds",
            "histogram",
            "Time from a request's head to its response.",
        );
        self.http_duration.lock().expect("metrics lock").render(
            &mut out,
            "authpipe_http_request_duration_seconds",
            &HTTP_BUCKETS,
        );
        labelled(
            &mut out,
            "authpipe_connections_closed_total",
            "Client connections the server closed, by reason.",
            self.closed
                .lock()
                .expect("metrics lock")
                .iter()
                .map(|(reason, n)| (format!("reason=\"{reason}\""), *n)),
        );
        labelled(
            &mut out,
            "authpipe_request_bodies_refused_total",
            "Request bodies refused: too_large (413), too_slow (408), no_budget (503), shutting_down (503).",
            self.body_refusals
                .lock()
                .expect("metrics lock")
                .iter()
                .map(|(reason, n)| (format!("reason=\"{reason}\""), *n)),
        );

        header(
            &mut out,
            "authpipe_pipeline_requests_total",
            "counter",
            "Pipeline requests by trigger and outcome.",
        );
        for ((trigger, outcome), count) in self.pipelines.lock().expect("metrics lock").iter() {
            let _ = writeln!(
                out,
                "authpipe_pipeline_requests_total{{trigger=\"{trigger}\",outcome=\"{outcome}\"}} {count}"
            );
        }
        header(
            &mut out,
            "authpipe_http_responses_total",
            "counter",
            "HTTP responses by status code.",
        );
        for (status, count) in self.http.lock().expect("metrics lock").iter() {
            let _ = writeln!(
                out,
                "authpipe_http_responses_total{{status=\"{status}\"}} {count}"
            );
        }
        let scalars: [(&str, &str, &str, i64); 10] = [
            (
                "authpipe_invocations_cancelled_total",
                "counter",
                "Invocations cancelled: the client went away or shutdown gave up waiting.",
                self.cancelled.load(Ordering::Relaxed) as i64,
            ),
            (
                "authpipe_connections_open",
                "gauge",
                "Client connections open now.",
                self.connections_open.load(Ordering::Relaxed),
            ),
            (
                "authpipe_connections_refused_total",
                "counter",
                "Connections answered 503: max_connections were open.",
                self.connections_refused.load(Ordering::Relaxed) as i64,
            ),
            (
                "authpipe_async_queue_depth",
                "gauge",
                "Async invocations waiting or running.",
                self.async_queue_depth.load(Ordering::Relaxed),
            ),
            (
                "authpipe_async_dropped_total",
                "counter",
                "Async invocations dropped: queue full.",
                self.async_dropped.load(Ordering::Relaxed) as i64,
            ),
            (
                "authpipe_overloaded_total",
                "counter",
                "Requests answered 503: too many in flight.",
                self.overloaded.load(Ordering::Relaxed) as i64,
            ),
            (
                "authpipe_throttled_total",
                "counter",
                "Store mode: invocations answered 429 by a tenant's quota.",
                self.throttled.load(Ordering::Relaxed) as i64,
            ),
            (
                "authpipe_executions_recorded_total",
                "counter",
                "Store mode: execution records written to the store.",
                self.executions_recorded.load(Ordering::Relaxed) as i64,
            ),
            (
                "authpipe_executions_dropped_total",
                "counter",
                "Store mode: execution records dropped (writer behind or store failing).",
                self.executions_dropped.load(Ordering::Relaxed) as i64,
            ),
            (
                "authpipe_invocations_in_flight",
                "gauge",
                "Sandboxes running now (requests and async functions).",
                in_flight as i64,
            ),
        ];
        for (name, kind, help, value) in scalars {
            header(&mut out, name, kind, help);
            let _ = writeln!(out, "{name} {value}");
        }
        header(
            &mut out,
            "authpipe_reloads_total",
            "counter",
            "Configuration reloads by result.",
        );
        for (result, count) in self.reloads.lock().expect("metrics lock").iter() {
            let _ = writeln!(out, "authpipe_reloads_total{{result=\"{result}\"}} {count}");
        }
        out
    }
}

/// A counter with one series per label set.
fn labelled(out: &mut String, name: &str, help: &str, series: impl Iterator<Item = (String, u64)>) {
    header(out, name, "counter", help);
    for (labels, value) in series {
        let _ = writeln!(out, "{name}{{{labels}}} {value}");
    }
}

/// A histogram without labels.
struct Histogram<const N: usize> {
    buckets: [u64; N],
    sum: f64,
    count: u64,
}

impl<const N: usize> Default for Histogram<N> {
    fn default() -> Self {
        Self {
            buckets: [0; N],
            sum: 0.0,
            count: 0,
        }
    }
}

impl<const N: usize> Histogram<N> {
    fn observe(&mut self, value: f64, bounds: &[f64; N]) {
        for (bucket, bound) in self.buckets.iter_mut().zip(bounds) {
            if value <= *bound {
                *bucket += 1;
            }
        }
        self.sum += value;
        self.count += 1;
    }

    fn render(&self, out: &mut String, name: &str, bounds: &[f64; N]) {
        for (count, bound) in self.buckets.iter().zip(bounds) {
            let _ = writeln!(out, "{name}_bucket{{le=\"{bound}\"}} {count}");
        }
        let _ = writeln!(out, "{name}_bucket{{le=\"+Inf\"}} {}", self.count);
        let _ = writeln!(out, "{name}_sum {}", self.sum);
        let _ = writeln!(out, "{name}_count {}", self.count);
    }
}

fn header(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
}

/// Escapes a label value.
fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}
