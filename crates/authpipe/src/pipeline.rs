//! Stages run in order, passing `user`/`context` and accumulating claims.

use crate::cancel::{CancelOnDrop, CancelToken};
use crate::fetch::{self, Fetcher};
use crate::function::{Function, StageOutput, StageRun};
use crate::limits::{Limits, MAX_INPUT_BYTES};
use crate::result::{Claims, ErrorKind, FunctionError, InvocationResult, Outcome, StageReport};
use crate::sandbox::Environ;
use serde::Deserialize;
use serde_json::{Map, Value};
use std::sync::Arc;

/// What a pipeline does when a stage errors (not when it denies).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum OnError {
    /// End the pipeline with outcome `error` (fail closed). The default.
    #[default]
    Deny,
    /// Record the error and continue with the previous `user`/`context`.
    Skip,
}

/// A function with the settings it runs under in a pipeline.
#[derive(Debug, Clone)]
pub struct Stage {
    /// The compiled function.
    pub function: Function,
    /// Its `env` (read-only inside the function).
    pub env: Arc<Environ>,
    /// Its limits.
    pub limits: Limits,
    /// What an error in this stage does to the pipeline.
    pub on_error: OnError,
    /// Answers the function's `fetch` calls (by default, refuses them all).
    pub fetch: Arc<dyn Fetcher>,
    /// The version of the function this stage runs, reported in its
    /// stage entry (store mode; `None` in file mode).
    pub version: Option<i64>,
    /// The trigger this stage runs for, when it runs in a trigger's
    /// pipeline: it picks an Auth0 Action's handler
    /// (`onExecutePostLogin`, …) when the action exports several.
    pub trigger: Option<Arc<str>>,
}

impl Stage {
    /// A stage with no `env`, default limits and fail-closed errors.
    pub fn new(function: Function) -> Self {
        Self {
            function,
            env: Arc::new(Environ::default()),
            limits: Limits::default(),
            on_error: OnError::Deny,
            fetch: fetch::deny_all(),
            version: None,
            trigger: None,
        }
    }

    /// This stage as a member of `trigger`'s pipeline (see
    /// [`Stage::trigger`]).
    pub fn in_trigger(mut self, trigger: &str) -> Self {
        self.trigger = Some(Arc::from(trigger));
        self
    }

    /// Runs this stage alone; the result has one entry in `stages`.
    pub fn run_blocking(&self, input: &[u8]) -> InvocationResult {
        self.run_blocking_with(input, &CancelToken::new())
    }

    /// [`Stage::run_blocking`], stopped early once `cancel` is cancelled.
    pub fn run_blocking_with(&self, input: &[u8], cancel: &CancelToken) -> InvocationResult {
        run_stages(std::slice::from_ref(self), input, cancel)
    }

    /// [`Stage::run_blocking`] on tokio's blocking pool; see
    /// [`Pipeline::run`].
    pub async fn run(&self, input: Vec<u8>) -> InvocationResult {
        self.run_with(input, CancelToken::new(), ()).await
    }

    /// [`Stage::run`] with a cancel token and a value held until the
    /// sandbox has stopped; see [`Pipeline::run_with`].
    pub async fn run_with<H: Send + 'static>(
        &self,
        input: Vec<u8>,
        cancel: CancelToken,
        hold: H,
    ) -> InvocationResult {
        Pipeline::new(vec![self.clone()])
            .run_with(input, cancel, hold)
            .await
    }
}

/// Ordered stages of one trigger.
#[derive(Debug, Clone, Default)]
pub struct Pipeline {
    stages: Vec<Stage>,
}

impl Pipeline {
    /// A pipeline of `stages`, run in the given order.
    pub fn new(stages: Vec<Stage>) -> Self {
        Self { stages }
    }

    /// The stages, in order.
    pub fn stages(&self) -> &[Stage] {
        &self.stages
    }

    /// Runs the pipeline on this thread. Each stage can take up to its
    /// timeout, so call this from a thread that may block; async code uses
    /// [`Pipeline::run`].
    pub fn run_blocking(&self, input: &[u8]) -> InvocationResult {
        self.run_blocking_with(input, &CancelToken::new())
    }

    /// [`Pipeline::run_blocking`], stopped early once `cancel` is
    /// cancelled: the running stage ends with error kind `timeout` within
    /// about a millisecond and no further stage starts.
    pub fn run_blocking_with(&self, input: &[u8], cancel: &CancelToken) -> InvocationResult {
        run_stages(&self.stages, input, cancel)
    }

    /// Runs the pipeline on tokio's blocking pool, so the reactor never
    /// waits on a sandbox. Dropping the future (the caller went away) stops
    /// the sandbox at its next epoch tick.
    pub async fn run(&self, input: Vec<u8>) -> InvocationResult {
        self.run_with(input, CancelToken::new(), ()).await
    }

    /// [`Pipeline::run`] that also stops when `cancel` is cancelled, and
    /// keeps `hold` alive until the sandbox has really stopped — also when
    /// this future is dropped first. A server passes its admission permit
    /// as `hold`, so a client that disconnects cannot free its slot while
    /// its sandbox still runs.
    pub async fn run_with<H: Send + 'static>(
        &self,
        input: Vec<u8>,
        cancel: CancelToken,
        hold: H,
    ) -> InvocationResult {
        let pipeline = self.clone();
        off_reactor(cancel, hold, move |cancel| {
            pipeline.run_blocking_with(&input, cancel)
        })
        .await
    }
}

/// Runs `work` on tokio's blocking pool, holding `hold` until it returns;
/// cancels `cancel` if this future is dropped first. A panic in `work`
/// resumes here.
async fn off_reactor<T, H>(
    cancel: CancelToken,
    hold: H,
    work: impl FnOnce(&CancelToken) -> T + Send + 'static,
) -> T
where
    T: Send + 'static,
    H: Send + 'static,
{
    let on_drop = CancelOnDrop::new(cancel.clone());
    let task = tokio::task::spawn_blocking(move || {
        let result = work(&cancel);
        drop(hold);
        result
    });
    let joined = task.await;
    on_drop.disarm();
    match joined {
        Ok(result) => result,
        Err(e) => std::panic::resume_unwind(e.into_panic()),
    }
}

/// The values that flow from stage to stage.
#[derive(Deserialize)]
struct Flow {
    user: Value,
    context: Value,
    #[serde(default)]
    claims: Claims,
    #[serde(default)]
    custom_data: Map<String, Value>,
}

impl Flow {
    /// Reads the flow out of an allowing stage's result JSON, whose shape
    /// the stage has checked.
    fn from_result(result: &[u8]) -> Result<Flow, FunctionError> {
        serde_json::from_slice(result).map_err(|e| {
            FunctionError::new(
                ErrorKind::InvalidOutput,
                format!("the function's result is not valid: {e}"),
            )
        })
    }
}

fn run_stages(stages: &[Stage], input: &[u8], cancel: &CancelToken) -> InvocationResult {
    if input.len() > MAX_INPUT_BYTES {
        return failed_before_start(FunctionError::new(
            ErrorKind::InvalidInput,
            format!(
                "the input is {} bytes; the limit is {MAX_INPUT_BYTES}",
                input.len()
            ),
        ));
    }
    // The caller's input goes to the first stage untouched; each later
    // stage gets the previous allowing stage's result JSON as it was
    // written (the engine reads `user`, `context`, `claims` and
    // `custom_data` from it). The flow is parsed once, at the end.
    let mut flow: Option<Vec<u8>> = None;
    let mut reports = Vec::with_capacity(stages.len());
    let mut refusal: Option<(Outcome, FunctionError)> = None;
    // What Auth0-flavoured stages asked for; not passed to later stages.
    let mut auth0 = Map::new();

    for stage in stages {
        let from_flow = flow.is_some();
        let stage_input = flow.take().unwrap_or_else(|| input.to_vec());
        let StageRun {
            output,
            duration_us,
            fuel,
            memory_bytes,
            logs,
            input: given,
        } = stage.function.call(
            stage_input,
            &stage.env,
            &stage.limits,
            &stage.fetch,
            stage.trigger.as_deref(),
            cancel,
        );
        let name = stage.function.name().to_string();
        let (outcome, error) = match output {
            StageOutput::Allow {
                flow: stage_flow,
                auth0: stage_auth0,
            } => {
                auth0.extend(stage_auth0);
                flow = Some(stage_flow);
                (Outcome::Allow, None)
            }
            StageOutput::Refused(mut error, stage_auth0) => {
                if from_flow {
                    flow = Some(given);
                }
                auth0.extend(stage_auth0);
                error.function = Some(name.clone());
                let outcome = if error.kind == ErrorKind::Denied {
                    Outcome::Deny
                } else {
                    Outcome::Error
                };
                (outcome, Some(error))
            }
        };
        reports.push(StageReport {
            function: name,
            version: stage.version,
            outcome,
            duration_us,
            fuel,
            memory_bytes,
            logs,
            error: error.clone(),
        });
        if let Some(error) = error {
            let skip = outcome == Outcome::Error
                && stage.on_error == OnError::Skip
                && !cancel.is_cancelled();
            if !skip {
                refusal = Some((outcome, error));
                break;
            }
        }
    }

    let parsed = match flow {
        Some(flow) => Flow::from_result(&flow),
        None => initial_flow(input),
    };
    let flow = match parsed {
        Ok(flow) => flow,
        Err(error) if refusal.is_none() => {
            let mut result = failed_before_start(error);
            result.stages = reports;
            return result;
        }
        Err(_) => Flow {
            user: Value::Null,
            context: Value::Null,
            claims: Claims::default(),
            custom_data: Map::new(),
        },
    };
    let (outcome, error) = match refusal {
        Some((outcome, error)) => (outcome, Some(error)),
        None => (Outcome::Allow, None),
    };
    InvocationResult {
        outcome,
        user: flow.user,
        context: flow.context,
        claims: flow.claims,
        custom_data: flow.custom_data,
        auth0,
        error,
        stages: reports,
    }
}

/// The caller's own `user`/`context` (and any claims it passed in).
fn initial_flow(input: &[u8]) -> Result<Flow, FunctionError> {
    let invalid = |message: String| FunctionError::new(ErrorKind::InvalidInput, message);
    let value: Value = serde_json::from_slice(input)
        .map_err(|e| invalid(format!("the input is not valid JSON: {e}")))?;
    let Value::Object(mut object) = value else {
        return Err(invalid(
            "the input must be a JSON object with \"user\" and \"context\" objects".into(),
        ));
    };
    let user = object
        .remove("user")
        .filter(Value::is_object)
        .ok_or_else(|| invalid("input.user must be a JSON object".into()))?;
    let context = object
        .remove("context")
        .filter(Value::is_object)
        .ok_or_else(|| invalid("input.context must be a JSON object".into()))?;
    Ok(Flow {
        user,
        context,
        claims: object
            .remove("claims")
            .and_then(|c| serde_json::from_value(c).ok())
            .unwrap_or_default(),
        custom_data: match object.remove("custom_data") {
            Some(Value::Object(map)) => map,
            _ => Map::new(),
        },
    })
}

fn failed_before_start(error: FunctionError) -> InvocationResult {
    InvocationResult {
        outcome: Outcome::Error,
        user: Value::Null,
        context: Value::Null,
        claims: Claims::default(),
        custom_data: Map::new(),
        auth0: Map::new(),
        error: Some(error),
        stages: Vec::new(),
    }
}
