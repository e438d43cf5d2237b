//! Execution history: every production invocation becomes a record,
//! written off the request path in batches.
//!
//! [`History::record`] never waits: it puts the record in a bounded queue,
//! or drops and counts it when the writer is behind. The writer drains the
//! queue into one store transaction per batch. [`History::close`] flushes
//! what was queued (graceful shutdown loses nothing acknowledged).
//! Retention deletes each tenant's records beyond a count and an age.

use crate::metrics::Metrics;
use crate::platform::time::rfc3339;
use authpipe::{FunctionError, InvocationResult, StageReport};
use authpipe_store::{ExecutionRecord, Store, now_ms};
use serde::Serialize;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

/// Records waiting for the writer at most; beyond, new ones are dropped.
pub const QUEUE_RECORDS: usize = 16_384;
/// Records written in one transaction at most.
const BATCH_RECORDS: usize = 1_024;
/// How long the writer lets a batch build up after its first record: one
/// transaction per window under load instead of one per record.
const BATCH_WINDOW: Duration = Duration::from_millis(50);

/// One invocation to record.
#[derive(Debug)]
pub struct Execution {
    /// The id the response carried in `x-authpipe-execution-id`.
    pub id: String,
    /// Its tenant.
    pub tenant: String,
    /// When it started (ms).
    pub at: i64,
    /// The trigger (pipelines).
    pub trigger: Option<&'static str>,
    /// The function (single-function invocations).
    pub function: Option<String>,
    /// Wall-clock time of the whole invocation.
    pub duration_us: u64,
    /// The node that ran it (`AUTHPIPE_NODE_ID`).
    pub node: Arc<str>,
    /// The result, with `user`, `context`, claims and custom data taken
    /// out (they are not kept).
    pub result: InvocationResult,
}

#[derive(Serialize)]
struct RecordJson<'a> {
    id: &'a str,
    at: String,
    trigger: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    function: Option<&'a str>,
    outcome: &'a str,
    duration_us: u64,
    node: &'a str,
    error: Option<&'a FunctionError>,
    stages: &'a [StageReport],
}

impl Execution {
    fn into_record(self) -> ExecutionRecord {
        let json = serde_json::to_string(&RecordJson {
            id: &self.id,
            at: rfc3339(self.at),
            trigger: self.trigger,
            function: self.function.as_deref(),
            outcome: self.result.outcome.as_str(),
            duration_us: self.duration_us,
            node: &self.node,
            error: self.result.error.as_ref(),
            stages: &self.result.stages,
        })
        .expect("records always serialise");
        ExecutionRecord {
            functions: self
                .result
                .stages
                .iter()
                .map(|s| s.function.clone())
                .collect(),
            outcome: self.result.outcome.as_str().to_string(),
            trigger: self.trigger.map(str::to_string),
            id: self.id,
            tenant: self.tenant,
            at: self.at,
            json,
        }
    }
}

/// Retention of execution records, per tenant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    /// Records kept per tenant at most (the newest).
    pub max_records: u64,
    /// Records older than this are deleted.
    pub max_age: Duration,
}

impl Default for Retention {
    fn default() -> Self {
        Self {
            max_records: 10_000,
            max_age: Duration::from_secs(30 * 24 * 3600),
        }
    }
}

/// The history's queue and writer.
pub struct History {
    queue: Mutex<Option<mpsc::Sender<Execution>>>,
    writer: Mutex<Option<JoinHandle<()>>>,
    retention_task: JoinHandle<()>,
    metrics: Arc<Metrics>,
}

impl History {
    /// Starts the writer and the retention task over `store`.
    pub fn start<S: Store>(store: Arc<S>, metrics: Arc<Metrics>, retention: Retention) -> Self {
        let (queue, receiver) = mpsc::channel(QUEUE_RECORDS);
        let writer = tokio::spawn(write_batches(store.clone(), receiver, metrics.clone()));
        let retention_task = tokio::spawn(retain(store, retention));
        Self {
            queue: Mutex::new(Some(queue)),
            writer: Mutex::new(Some(writer)),
            retention_task,
            metrics,
        }
    }

    /// Queues `execution` for the writer; drops (and counts) it when the
    /// queue is full or closed. Never waits.
    pub fn record(&self, mut execution: Execution) {
        execution.result.user = serde_json::Value::Null;
        execution.result.context = serde_json::Value::Null;
        execution.result.claims = Default::default();
        execution.result.custom_data = Default::default();
        let sent = match &*self.queue.lock().unwrap_or_else(|e| e.into_inner()) {
            Some(queue) => queue.try_send(execution).is_ok(),
            None => false,
        };
        if !sent {
            self.metrics
                .executions_dropped
                .fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Stops taking records and waits (up to `grace`) until those queued
    /// are written.
    pub async fn close(&self, grace: Duration) {
        self.queue.lock().unwrap_or_else(|e| e.into_inner()).take();
        self.retention_task.abort();
        let writer = self.writer.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(writer) = writer
            && tokio::time::timeout(grace, writer).await.is_err()
        {
            tracing::warn!(
                "execution records still queued at the end of the grace period were lost"
            );
        }
    }
}

async fn write_batches<S: Store>(
    store: Arc<S>,
    mut receiver: mpsc::Receiver<Execution>,
    metrics: Arc<Metrics>,
) {
    let mut batch = Vec::with_capacity(BATCH_RECORDS);
    while receiver.recv_many(&mut batch, BATCH_RECORDS).await > 0 {
        let until = tokio::time::Instant::now() + BATCH_WINDOW;
        while batch.len() < BATCH_RECORDS {
            let room = BATCH_RECORDS - batch.len();
            match tokio::time::timeout_at(until, receiver.recv_many(&mut batch, room)).await {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
        }
        let records: Vec<ExecutionRecord> = batch.drain(..).map(Execution::into_record).collect();
        let count = records.len() as u64;
        match store.record_executions(&records).await {
            Ok(()) => {
                metrics
                    .executions_recorded
                    .fetch_add(count, Ordering::Relaxed);
            }
            Err(e) => {
                metrics
                    .executions_dropped
                    .fetch_add(count, Ordering::Relaxed);
                tracing::error!(error = %e, records = count, "cannot write execution records; they are dropped");
            }
        }
    }
}

/// Applies `retention` to every tenant now and then every minute.
async fn retain<S: Store>(store: Arc<S>, retention: Retention) {
    loop {
        match store.tenants().await {
            Ok(tenants) => {
                let oldest = now_ms() - retention.max_age.as_millis() as i64;
                for tenant in tenants {
                    if let Err(e) = store
                        .prune_executions(&tenant.id, retention.max_records, oldest)
                        .await
                    {
                        tracing::warn!(tenant = %tenant.id, error = %e, "execution retention failed");
                    }
                }
            }
            Err(e) => tracing::warn!(error = %e, "execution retention failed"),
        }
        tokio::time::sleep(Duration::from_secs(60)).await;
    }
}

/// A new execution id: the time in ms (12 hex digits, so ids sort by
/// time), then this process's random 32-bit prefix and a counter (no
/// system call per id; unique across nodes with overwhelming likelihood).
pub fn execution_id(at_ms: i64) -> String {
    use std::sync::OnceLock;
    use std::sync::atomic::AtomicU64;
    static NODE: OnceLock<u32> = OnceLock::new();
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let node = *NODE.get_or_init(|| {
        let mut bytes = [0u8; 4];
        getrandom::fill(&mut bytes).expect("the operating system provides randomness");
        u32::from_le_bytes(bytes)
    });
    let count = NEXT.fetch_add(1, Ordering::Relaxed) & 0xffff_ffff;
    format!("{:012x}{node:08x}{count:08x}", at_ms.max(0))
}
