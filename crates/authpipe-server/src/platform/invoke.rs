//! Invoking a tenant's pipelines and functions, and test runs.

use super::api::{Call, body};
use super::functions::{
    checked_flavor, checked_language, compile, compile_error, default_settings, flavor_of,
};
use super::history::{Execution, execution_id};
use super::redact_result;
use super::registry::TenantDeployment;
use super::views::{HttpResponse, TestBody, parse, store_error};
use crate::config::Trigger;
use crate::deployment::source_hash;
use crate::error::ApiError;
use crate::http::{self, CancelWatch};
use crate::invocation_log::{Invoked, log_invocation};
use authpipe::{InvocationResult, Outcome, Pipeline, Stage};
use authpipe_store::{Store, now_ms};
use bytes::Bytes;
use hyper::Request;
use hyper::body::Body;
use hyper::header::HeaderValue;
use std::sync::Arc;
use std::time::Instant;

/// The header naming an invocation's execution record.
pub const EXECUTION_ID_HEADER: &str = "x-authpipe-execution-id";

fn deployment(call: &Call<'_>, tenant: &str) -> Result<Arc<TenantDeployment>, ApiError> {
    call.platform
        .registry
        .get(tenant)
        .ok_or_else(|| super::auth::tenant_not_found(tenant))
}

/// `POST /v1/tenants/{t}/pipelines/{trigger}`.
#[utoipa::path(
    post,
    path = "/v1/tenants/{tenant}/pipelines/{trigger}",
    tag = "invoke",
    summary = "Run a trigger's pipeline (invoke or manage key)",
    params(("tenant" = String, Path, description = "The tenant id"), ("trigger" = String, Path, description = "The trigger")),
    request_body = super::views::InvocationInput,
    responses((status = 200, description = "The pipeline result; header x-authpipe-execution-id"), (status = 400, description = "Malformed body or unknown field (named in `field`)", body = super::openapi::ErrorBody), (status = 429, description = "The tenant is at a quota (Retry-After)", body = super::openapi::ErrorBody), super::openapi::Refusals),
    security(("bearer" = []))
)]
pub(super) async fn pipeline<B>(
    call: &Call<'_>,
    tenant: &str,
    trigger_name: &str,
    request: Request<B>,
) -> Result<HttpResponse, ApiError>
where
    B: Body<Data = Bytes>,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let trigger = Trigger::parse_or_404(trigger_name)?;
    let input = http::read_input(call.state, request).await?;
    let started = (Instant::now(), now_ms());
    let hold = admit(call, tenant)?;
    let deployment = deployment(call, tenant)?;
    let pipeline = &deployment.pipelines[&trigger];
    let background = (!pipeline.background.is_empty()).then(|| input.clone());
    let cancel = call.state.request_cancel();
    let watch = CancelWatch::new(call.state, &cancel, Invoked::Pipeline(trigger.as_str()));
    let mut result = pipeline.sync.run_with(input, cancel, (hold, watch)).await;
    if let (Some(input), Outcome::Allow) = (background, result.outcome) {
        for stage in &pipeline.background {
            http::spawn_background(call.state, trigger.as_str(), stage.clone(), input.clone());
        }
    }
    finish(
        call,
        tenant,
        &deployment,
        Some(trigger.as_str()),
        None,
        started,
        &mut result,
    )
}

/// `POST /v1/tenants/{t}/functions/{name}/invoke`.
#[utoipa::path(
    post,
    path = "/v1/tenants/{tenant}/functions/{name}/invoke",
    tag = "invoke",
    summary = "Run one deployed function (invoke or manage key)",
    params(("tenant" = String, Path, description = "The tenant id"), ("name" = String, Path, description = "The function name")),
    request_body = super::views::InvocationInput,
    responses((status = 200, description = "One stage's result; header x-authpipe-execution-id"), (status = 400, description = "Malformed body or unknown field (named in `field`)", body = super::openapi::ErrorBody), (status = 429, description = "The tenant is at a quota (Retry-After)", body = super::openapi::ErrorBody), super::openapi::Refusals),
    security(("bearer" = []))
)]
pub(super) async fn function<B>(
    call: &Call<'_>,
    tenant: &str,
    name: &str,
    request: Request<B>,
) -> Result<HttpResponse, ApiError>
where
    B: Body<Data = Bytes>,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let deployment = deployment(call, tenant)?;
    let Some(function) = deployment.functions.get(name) else {
        return Err(ApiError::not_found(format!(
            "no deployed function {name:?} in tenant {tenant:?}"
        )));
    };
    let input = http::read_input(call.state, request).await?;
    let started = (Instant::now(), now_ms());
    let hold = admit(call, tenant)?;
    let cancel = call.state.request_cancel();
    let watch = CancelWatch::new(call.state, &cancel, Invoked::Function(name));
    let mut result = function.stage.run_with(input, cancel, (hold, watch)).await;
    finish(
        call,
        tenant,
        &deployment,
        None,
        Some(name),
        started,
        &mut result,
    )
}

/// The tenant's quota slot and the server's: 429 for the tenant's quota,
/// 503 when the whole server is full.
fn admit(
    call: &Call<'_>,
    tenant: &str,
) -> Result<
    (
        tokio::sync::OwnedSemaphorePermit,
        tokio::sync::OwnedSemaphorePermit,
    ),
    ApiError,
> {
    let tenant_slot = call.platform.admission.admit(tenant).inspect_err(|_| {
        call.state
            .metrics
            .throttled
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    })?;
    let server_slot = http::admit(call.state)?;
    Ok((tenant_slot, server_slot))
}

/// Redacts, counts, logs and records a production invocation, and answers
/// it with its execution id.
fn finish(
    call: &Call<'_>,
    tenant: &str,
    deployment: &TenantDeployment,
    trigger: Option<&'static str>,
    function: Option<&str>,
    (started, at): (Instant, i64),
    result: &mut InvocationResult,
) -> Result<HttpResponse, ApiError> {
    redact_result(result, &deployment.secrets);
    let metrics = &call.state.metrics;
    metrics.record_stages_of(Some(tenant), result);
    if let Some(trigger) = trigger {
        metrics.record_pipeline(&format!("{tenant}/{trigger}"), result);
    }
    let invoked = match (trigger, function) {
        (Some(trigger), _) => Invoked::Pipeline(trigger),
        (None, Some(function)) => Invoked::Function(function),
        (None, None) => Invoked::Function(""),
    };
    log_invocation(invoked, result);
    let id = execution_id(at);
    let response = answer(result, &id)?;
    call.platform.history.record(Execution {
        id,
        tenant: tenant.to_string(),
        at,
        trigger,
        function: function.map(str::to_string),
        duration_us: started.elapsed().as_micros() as u64,
        node: call.platform.settings.node_id.clone(),
        result: std::mem::replace(result, empty_result()),
    });
    Ok(response)
}

/// The result JSON with its execution id in [`EXECUTION_ID_HEADER`].
fn answer(result: &InvocationResult, id: &str) -> Result<HttpResponse, ApiError> {
    let mut response = http::result_response(result)?;
    response.headers_mut().insert(
        EXECUTION_ID_HEADER,
        HeaderValue::from_str(id).expect("hex ids are header values"),
    );
    Ok(response)
}

fn empty_result() -> InvocationResult {
    InvocationResult {
        outcome: Outcome::Allow,
        user: serde_json::Value::Null,
        context: serde_json::Value::Null,
        claims: Default::default(),
        custom_data: Default::default(),
        auth0: Default::default(),
        error: None,
        stages: Vec::new(),
    }
}

/// `POST …/functions/{name}/test`: runs a version, a draft or unsaved
/// source with the tenant's env and allow-list, without deploying it and
/// without counting or recording it as production.
#[utoipa::path(
    post,
    path = "/v1/tenants/{tenant}/functions/{name}/test",
    tag = "invoke",
    summary = "Test-run a version, a draft or unsaved source (not recorded)",
    params(("tenant" = String, Path, description = "The tenant id"), ("name" = String, Path, description = "The function name")),
    request_body = super::views::TestBody,
    responses((status = 200, description = "OK"), (status = 400, description = "Malformed body or unknown field (named in `field`)", body = super::openapi::ErrorBody), (status = 422, description = "Compile error", body = super::openapi::ErrorBody), super::openapi::Refusals),
    security(("bearer" = []))
)]
pub(super) async fn test<B>(
    call: &Call<'_>,
    tenant: &str,
    name: &str,
    request: Request<B>,
) -> Result<HttpResponse, ApiError>
where
    B: Body<Data = Bytes>,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let body: TestBody = parse(&body(call, request).await?)?;
    let input = serde_json::to_vec(&body.input)
        .map_err(|e| ApiError::bad_request(format!("input: {e}")).with("field", "input"))?;
    crate::body::check_input(&input).map_err(|e| e.with("field", "input"))?;
    if body.version.is_some() && body.source.is_some() {
        return Err(
            ApiError::bad_request("give version or source, not both").with("field", "source")
        );
    }
    let store = &call.platform.store;
    let record = match store.function(tenant, name).await {
        Ok(record) => Some(record),
        Err(authpipe_store::StoreError::NotFound(_)) if body.source.is_some() => None,
        Err(e) => return Err(store_error(e)),
    };
    let (source, settings, version) = match (&body.source, body.version, &record) {
        (Some(source), _, record) => (
            source.clone(),
            record.as_ref().map(|r| r.latest.settings.clone()),
            None,
        ),
        (None, Some(number), _) => {
            let version = store
                .version(tenant, name, number)
                .await
                .map_err(store_error)?;
            (version.source, Some(version.settings), Some(number))
        }
        (None, None, Some(record)) => (
            record.latest.source.clone(),
            Some(record.latest.settings.clone()),
            Some(record.latest.version),
        ),
        (None, None, None) => unreachable!("a missing function without source is an error above"),
    };
    let mut settings = settings.unwrap_or_else(default_settings);
    if let Some(language) = &body.language {
        settings.language = checked_language(language)?;
    }
    if let Some(flavor) = &body.flavor {
        settings.flavor = checked_flavor(flavor)?;
    }
    let function = if body.source.is_some() {
        // Unsaved source: compiled, not kept (one compile per tenant at a time).
        let gate = call.platform.compile_gate(tenant);
        let _one_compile_per_tenant = gate.lock().await;
        call.platform
            .registry
            .runtime()
            .compile_flavored_async(
                name,
                &settings.file_name(name),
                &source,
                flavor_of(&settings),
            )
            .await
            .map_err(compile_error)?
    } else {
        compile(
            call,
            tenant,
            name,
            &settings,
            &source,
            &source_hash(&source),
        )
        .await?
    };
    let deployment = deployment(call, tenant)?;
    let (limits, on_error) = super::registry::stage_settings(&settings)
        .map_err(|e| ApiError::bad_request(format!("{e:#}")))?;
    let stage = Stage {
        env: deployment.env.clone(),
        fetch: deployment.fetch.clone(),
        limits,
        on_error,
        version,
        ..Stage::new(function)
    };
    let pipeline = match &body.trigger {
        Some(trigger) => {
            let trigger = Trigger::parse(trigger).ok_or_else(|| {
                ApiError::bad_request(format!("unknown trigger {trigger:?}"))
                    .with("field", "trigger")
            })?;
            let own_order = record.as_ref().map_or(i64::MAX, |r| r.run_order);
            Some(pipeline_with(
                &deployment,
                trigger,
                name,
                own_order,
                stage.clone(),
            ))
        }
        None => None,
    };
    let hold = admit(call, tenant)?;
    let cancel = call.state.request_cancel();
    let mut result = match pipeline {
        Some(pipeline) => pipeline.run_with(input, cancel, hold).await,
        None => stage.run_with(input, cancel, hold).await,
    };
    redact_result(&mut result, &deployment.secrets);
    answer(&result, &execution_id(now_ms()))
}

/// `trigger`'s pipeline as `deployment` runs it (enabled, not async, in run
/// order), with `stage` in place of the function `name` at `order` — also
/// when that function is disabled, async, new or bound to other triggers:
/// a test run asks for it.
fn pipeline_with(
    deployment: &TenantDeployment,
    trigger: Trigger,
    name: &str,
    order: i64,
    stage: Stage,
) -> Pipeline {
    let mut members: Vec<(i64, &str, Stage)> = deployment
        .functions
        .values()
        .filter(|f| {
            f.record.name != name
                && f.settings.enabled
                && !f.settings.is_async
                && f.settings
                    .triggers
                    .iter()
                    .any(|t| Trigger::parse(t) == Some(trigger))
        })
        .map(|f| (f.record.run_order, f.record.name.as_str(), f.stage.clone()))
        .collect();
    members.push((order, name, stage));
    members.sort_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)));
    Pipeline::new(members.into_iter().map(|(_, _, stage)| stage).collect())
}
