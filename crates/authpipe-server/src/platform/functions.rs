//! Functions, their versions, deploy and rollback, and run order.

use super::api::{Call, body, query};
use super::views::{
    self, FunctionBody, HttpResponse, function_response, no_content, parse, reply, store_error,
};
use crate::config::Trigger;
use crate::deployment::source_hash;
use crate::error::ApiError;
use authpipe::{CompileError, Flavor, Function, Limits};
use authpipe_store::{FunctionRecord, FunctionSettings, FunctionVersion, Quotas, Store, now_ms};
use bytes::Bytes;
use hyper::body::Body;
use hyper::header;
use hyper::{Request, StatusCode};
use serde_json::{Value, json};
use std::collections::BTreeSet;

/// The settings of a function that sets nothing: the default limits,
/// enabled, synchronous, failing closed, bound to no trigger.
pub(super) fn default_settings() -> FunctionSettings {
    let limits = Limits::default();
    FunctionSettings {
        description: String::new(),
        triggers: Vec::new(),
        enabled: true,
        is_async: false,
        timeout_ms: limits.timeout().as_millis() as u64,
        fuel: limits.fuel_budget(),
        memory_mb: (limits.max_memory_bytes() >> 20) as u32,
        on_error: "deny".into(),
        language: "javascript".into(),
        flavor: None,
    }
}

/// The flavour `flavor` asks for: `None` for `auto` (detected from the
/// source), 400 for an unknown name.
pub(super) fn checked_flavor(flavor: &str) -> Result<Option<String>, ApiError> {
    if flavor == "auto" {
        return Ok(None);
    }
    flavor
        .parse::<Flavor>()
        .map(|f| Some(f.name().to_string()))
        .map_err(|e| {
            ApiError::bad_request(format!("{e} (or auto: detected from the source)"))
                .with("field", "flavor")
        })
}

/// The flavour stored in `settings` (`None`: detect).
pub(super) fn flavor_of(settings: &FunctionSettings) -> Option<Flavor> {
    settings.flavor.as_deref().and_then(|f| f.parse().ok())
}

/// `language` when it is one functions may be written in (400 otherwise).
pub(super) fn checked_language(language: &str) -> Result<String, ApiError> {
    match language {
        "javascript" | "typescript" => Ok(language.to_string()),
        _ => Err(ApiError::bad_request(format!(
            "language {language:?} is not one of javascript, typescript"
        ))
        .with("field", "language")),
    }
}

/// The settings `body` asks for on top of `base` (a create starts from
/// the defaults), checked against the limits' ranges (400) and the
/// tenant's ceilings (422).
fn settings_from(
    body: &FunctionBody,
    base: Option<&FunctionSettings>,
    quotas: &Quotas,
) -> Result<FunctionSettings, ApiError> {
    let mut settings = base.cloned().unwrap_or_else(default_settings);
    if let Some(description) = &body.description {
        if description.chars().count() > 2000 {
            return Err(ApiError::bad_request("description is over 2000 characters")
                .with("field", "description"));
        }
        settings.description = description.clone();
    }
    if let Some(triggers) = &body.triggers {
        let mut canonical = Vec::new();
        for (i, name) in triggers.iter().enumerate() {
            let trigger = Trigger::parse(name).ok_or_else(|| {
                let known: Vec<_> = Trigger::ALL.iter().map(|t| t.as_str()).collect();
                ApiError::bad_request(format!(
                    "unknown trigger {name:?}; expected one of {}",
                    known.join(", ")
                ))
                .with("field", format!("triggers[{i}]"))
            })?;
            if !canonical.contains(&trigger.as_str().to_string()) {
                canonical.push(trigger.as_str().to_string());
            }
        }
        settings.triggers = canonical;
    }
    if settings.triggers.is_empty() {
        return Err(
            ApiError::bad_request("triggers must name at least one trigger")
                .with("field", "triggers"),
        );
    }
    if let Some(enabled) = body.enabled {
        settings.enabled = enabled;
    }
    if let Some(is_async) = body.is_async {
        settings.is_async = is_async;
    }
    if let Some(on_error) = &body.on_error {
        if on_error != "deny" && on_error != "skip" {
            return Err(ApiError::bad_request(format!(
                "on_error {on_error:?} is not one of deny, skip"
            ))
            .with("field", "on_error"));
        }
        settings.on_error = on_error.clone();
    }
    if let Some(language) = &body.language {
        settings.language = checked_language(language)?;
    }
    if let Some(flavor) = &body.flavor {
        settings.flavor = checked_flavor(flavor)?;
    }
    settings.timeout_ms = body.timeout_ms.unwrap_or(settings.timeout_ms);
    settings.fuel = body.fuel.unwrap_or(settings.fuel);
    if let Some(memory_mb) = body.memory_mb {
        settings.memory_mb = u32::try_from(memory_mb).unwrap_or(u32::MAX);
    }
    let mut limits = Limits::default();
    let range =
        |e: authpipe::LimitError| ApiError::bad_request(e.to_string()).with("field", e.name);
    limits.timeout_ms(settings.timeout_ms).map_err(range)?;
    limits.fuel(settings.fuel).map_err(range)?;
    limits.memory_mb(settings.memory_mb).map_err(range)?;
    let ceilings = [
        (
            "timeout_ms",
            settings.timeout_ms,
            quotas.max_timeout_ms,
            "max_timeout_ms",
        ),
        ("fuel", settings.fuel, quotas.max_fuel, "max_fuel"),
        (
            "memory_mb",
            u64::from(settings.memory_mb),
            quotas.max_memory_mb,
            "max_memory_mb",
        ),
    ];
    for (field, value, ceiling, quota) in ceilings {
        if let Some(ceiling) = ceiling.filter(|c| value > *c) {
            return Err(ApiError::unprocessable(format!(
                "{field} = {value} is above the tenant's ceiling ({quota} = {ceiling})"
            ))
            .with("field", field));
        }
    }
    Ok(settings)
}

/// The compiled function for `source`, or the 422 naming the line and
/// column of its error.
pub(super) async fn compile(
    call: &Call<'_>,
    tenant: &str,
    name: &str,
    settings: &FunctionSettings,
    source: &str,
    sha256: &str,
) -> Result<Function, ApiError> {
    if source.len() > authpipe::MAX_SOURCE_BYTES {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("source is over {} bytes", authpipe::MAX_SOURCE_BYTES),
        )
        .with("field", "source"));
    }
    let gate = call.platform.compile_gate(tenant);
    let _one_compile_per_tenant = gate.lock().await;
    let compiled = call
        .platform
        .registry
        .function_for(
            name,
            &settings.file_name(name),
            flavor_of(settings),
            source,
            sha256,
        )
        .await
        .map_err(|e| {
            tracing::error!(error = %format!("{e:#}"), "cannot compile (store)");
            ApiError::unavailable("the store is not available; retry shortly")
        })?;
    compiled.map_err(compile_error)
}

/// A compile error as a response: 422 with `line` and `column` for the
/// source's fault, 500 for the host's.
pub(super) fn compile_error(error: CompileError) -> ApiError {
    match &error {
        CompileError::Source { line, column, .. } => {
            let mut api = ApiError::unprocessable(format!("compile error: {error}"))
                .with("field", "source")
                .with("kind", "compile_error");
            if let Some(line) = line {
                api = api.with("line", *line);
            }
            if let Some(column) = column {
                api = api.with("column", *column);
            }
            api
        }
        CompileError::Internal(e) => {
            tracing::error!(error = %format!("{e:#}"), "compiler failure");
            ApiError::internal()
        }
    }
}

async fn quotas(call: &Call<'_>, tenant: &str) -> Result<Quotas, ApiError> {
    let stored = call
        .platform
        .store
        .tenant(tenant)
        .await
        .map_err(store_error)?;
    Ok(call.platform.settings.effective(&stored.quotas))
}

#[utoipa::path(
    get,
    path = "/v1/tenants/{tenant}/functions",
    tag = "functions",
    summary = "List functions",
    params(("tenant" = String, Path, description = "The tenant id"), ("trigger" = Option<String>, Query, description = "Only those bound to this trigger")),
    responses((status = 200, description = "`{functions: [...]}`"), super::openapi::Refusals),
    security(("bearer" = []))
)]
pub(super) async fn list<B>(
    call: &Call<'_>,
    tenant: &str,
    request: &Request<B>,
) -> Result<HttpResponse, ApiError> {
    let mut trigger = None;
    for (_, value) in query(request, &["trigger"])? {
        trigger = Some(Trigger::parse(&value).ok_or_else(|| {
            ApiError::bad_request(format!("unknown trigger {value:?}")).with("field", "trigger")
        })?);
    }
    let functions = call
        .platform
        .store
        .functions(tenant)
        .await
        .map_err(store_error)?;
    let list: Vec<Value> = functions
        .iter()
        .filter(|f| trigger.is_none_or(|t| bound_to(f, t)))
        .map(views::function)
        .collect();
    Ok(reply(StatusCode::OK, &json!({ "functions": list })))
}

/// True when `function`'s newest version names `trigger`.
fn bound_to(function: &FunctionRecord, trigger: Trigger) -> bool {
    function
        .latest
        .settings
        .triggers
        .iter()
        .any(|t| Trigger::parse(t) == Some(trigger))
}

#[utoipa::path(
    post,
    path = "/v1/tenants/{tenant}/functions",
    tag = "functions",
    summary = "Create a function (compiled first; version 1, deployed unless `deploy: false`)",
    params(("tenant" = String, Path, description = "The tenant id")),
    request_body = super::views::FunctionBody,
    responses((status = 201, description = "The function"), (status = 400, description = "Malformed body or unknown field (named in `field`)", body = super::openapi::ErrorBody), (status = 409, description = "Duplicate name", body = super::openapi::ErrorBody), (status = 422, description = "Compile error (with `line`, `column`), a limit above a ceiling, or the function quota", body = super::openapi::ErrorBody), super::openapi::Refusals),
    security(("bearer" = []))
)]
pub(super) async fn create<B>(
    call: &Call<'_>,
    tenant: &str,
    request: Request<B>,
) -> Result<HttpResponse, ApiError>
where
    B: Body<Data = Bytes>,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let body: FunctionBody = parse(&body(call, request).await?)?;
    let name = body
        .name
        .clone()
        .ok_or_else(|| ApiError::bad_request("name is required").with("field", "name"))?;
    if !views::valid_function_name(&name) {
        return Err(ApiError::bad_request(format!(
            "invalid function name {name:?}: 1–64 of letters, digits, '-', '_' and '.'"
        ))
        .with("field", "name"));
    }
    let source = body
        .source
        .clone()
        .ok_or_else(|| ApiError::bad_request("source is required").with("field", "source"))?;
    let quotas = quotas(call, tenant).await?;
    let settings = settings_from(&body, None, &quotas)?;
    let sha256 = source_hash(&source);
    compile(call, tenant, &name, &settings, &source, &sha256).await?;

    let lock = call.platform.tenant_lock(tenant);
    let _one_change = lock.lock().await;
    let existing = call
        .platform
        .store
        .functions(tenant)
        .await
        .map_err(store_error)?;
    if existing.iter().any(|f| f.name == name) {
        return Err(
            ApiError::conflict(format!("function {name:?} already exists")).with("field", "name"),
        );
    }
    if let Some(max) = quotas.max_functions
        && existing.len() as u64 >= max
    {
        return Err(ApiError::unprocessable(format!(
            "the tenant has {} functions, its max_functions quota",
            existing.len()
        ))
        .with("field", "name"));
    }
    let order = body
        .order
        .unwrap_or_else(|| existing.iter().map(|f| f.run_order).max().unwrap_or(0) + 10);
    let version = FunctionVersion {
        version: 0,
        source,
        sha256,
        settings,
        created_at: now_ms(),
        created_by: call.principal.actor(),
    };
    let deploy = body.deploy.unwrap_or(true);
    let record = call
        .platform
        .store
        .create_function(tenant, &name, &version, order, deploy)
        .await
        .map_err(store_error)?;
    if deploy {
        call.reload(tenant).await?;
    }
    call.audit(tenant, "function.create", &name, Some(1)).await;
    Ok(function_response(StatusCode::CREATED, &record))
}

#[utoipa::path(
    get,
    path = "/v1/tenants/{tenant}/functions/{name}",
    tag = "functions",
    summary = "One function (header ETag)",
    params(("tenant" = String, Path, description = "The tenant id"), ("name" = String, Path, description = "The function name")),
    responses((status = 200, description = "OK"), super::openapi::Refusals),
    security(("bearer" = []))
)]
pub(super) async fn get(
    call: &Call<'_>,
    tenant: &str,
    name: &str,
) -> Result<HttpResponse, ApiError> {
    let record = call
        .platform
        .store
        .function(tenant, name)
        .await
        .map_err(store_error)?;
    Ok(function_response(StatusCode::OK, &record))
}

#[utoipa::path(
    patch,
    path = "/v1/tenants/{tenant}/functions/{name}",
    tag = "functions",
    summary = "Change a function: a new version when something changed",
    params(("tenant" = String, Path, description = "The tenant id"), ("name" = String, Path, description = "The function name"), ("If-Match" = Option<String>, Header, description = "The ETag read; 412 when the function changed since")),
    request_body = super::views::FunctionBody,
    responses((status = 200, description = "OK"), (status = 400, description = "Malformed body or unknown field (named in `field`)", body = super::openapi::ErrorBody), (status = 412, description = "The function changed since the ETag", body = super::openapi::ErrorBody), (status = 422, description = "Compile error or a limit above a ceiling", body = super::openapi::ErrorBody), super::openapi::Refusals),
    security(("bearer" = []))
)]
pub(super) async fn update<B>(
    call: &Call<'_>,
    tenant: &str,
    name: &str,
    request: Request<B>,
) -> Result<HttpResponse, ApiError>
where
    B: Body<Data = Bytes>,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let if_match = request
        .headers()
        .get(header::IF_MATCH)
        .map(|v| v.to_str().unwrap_or("").trim().to_string());
    let body: FunctionBody = parse(&body(call, request).await?)?;
    if body.name.as_deref().is_some_and(|n| n != name) {
        return Err(ApiError::bad_request(
            "name cannot be changed; create a function with the new name and delete this one",
        )
        .with("field", "name"));
    }
    let quotas = quotas(call, tenant).await?;
    let lock = call.platform.tenant_lock(tenant);
    let _one_change = lock.lock().await;
    let mut record = call
        .platform
        .store
        .function(tenant, name)
        .await
        .map_err(store_error)?;
    if let Some(expected) = &if_match
        && expected != "*"
        && !expected.split(',').any(|tag| tag.trim() == record.etag())
    {
        return Err(ApiError::new(
            StatusCode::PRECONDITION_FAILED,
            format!(
                "function {name:?} changed since {expected} was read (now {}); read it again",
                record.etag()
            ),
        ));
    }
    let settings = settings_from(&body, Some(&record.latest.settings), &quotas)?;
    let source = body
        .source
        .clone()
        .unwrap_or_else(|| record.latest.source.clone());
    let sha256 = source_hash(&source);
    let changed = sha256 != record.latest.sha256 || settings != record.latest.settings;
    let deploy = body.deploy.unwrap_or(true);
    if changed {
        // What the snapshot depends on: the source, and how it is read.
        let recompile = sha256 != record.latest.sha256
            || settings.language != record.latest.settings.language
            || settings.flavor != record.latest.settings.flavor;
        if recompile {
            compile(call, tenant, name, &settings, &source, &sha256).await?;
        }
        let version = FunctionVersion {
            version: 0,
            source,
            sha256,
            settings,
            created_at: now_ms(),
            created_by: call.principal.actor(),
        };
        record = call
            .platform
            .store
            .add_version(tenant, name, &version, Some(record.latest.version), deploy)
            .await
            .map_err(store_error)?;
        call.audit(
            tenant,
            if deploy {
                "function.update"
            } else {
                "function.draft"
            },
            name,
            Some(record.latest.version),
        )
        .await;
    }
    let reorder = body.order.filter(|order| *order != record.run_order);
    if let Some(order) = reorder {
        record = call
            .platform
            .store
            .set_run_order(tenant, name, order)
            .await
            .map_err(store_error)?;
        call.audit(tenant, "function.order", name, None).await;
    }
    if (changed && deploy) || reorder.is_some() {
        call.reload(tenant).await?;
    }
    Ok(function_response(StatusCode::OK, &record))
}

#[utoipa::path(
    delete,
    path = "/v1/tenants/{tenant}/functions/{name}",
    tag = "functions",
    summary = "Delete a function and its versions",
    params(("tenant" = String, Path, description = "The tenant id"), ("name" = String, Path, description = "The function name")),
    responses((status = 204, description = "Deleted"), super::openapi::Refusals),
    security(("bearer" = []))
)]
pub(super) async fn delete(
    call: &Call<'_>,
    tenant: &str,
    name: &str,
) -> Result<HttpResponse, ApiError> {
    let lock = call.platform.tenant_lock(tenant);
    let _one_change = lock.lock().await;
    call.platform
        .store
        .delete_function(tenant, name)
        .await
        .map_err(store_error)?;
    call.reload(tenant).await?;
    call.audit(tenant, "function.delete", name, None).await;
    Ok(no_content())
}

#[utoipa::path(
    get,
    path = "/v1/tenants/{tenant}/functions/{name}/versions",
    tag = "functions",
    summary = "Versions, oldest first",
    params(("tenant" = String, Path, description = "The tenant id"), ("name" = String, Path, description = "The function name")),
    responses((status = 200, description = "OK"), super::openapi::Refusals),
    security(("bearer" = []))
)]
pub(super) async fn versions(
    call: &Call<'_>,
    tenant: &str,
    name: &str,
) -> Result<HttpResponse, ApiError> {
    let record = call
        .platform
        .store
        .function(tenant, name)
        .await
        .map_err(store_error)?;
    let versions = call
        .platform
        .store
        .versions(tenant, name)
        .await
        .map_err(store_error)?;
    let list: Vec<Value> = versions
        .iter()
        .map(|v| views::version_summary(v, record.deployed_version))
        .collect();
    Ok(reply(StatusCode::OK, &Value::Array(list)))
}

#[utoipa::path(
    get,
    path = "/v1/tenants/{tenant}/functions/{name}/versions/{version}",
    tag = "functions",
    summary = "One version with its source",
    params(("tenant" = String, Path, description = "The tenant id"), ("name" = String, Path, description = "The function name"), ("version" = i64, Path, description = "The version number")),
    responses((status = 200, description = "OK"), super::openapi::Refusals),
    security(("bearer" = []))
)]
pub(super) async fn version(
    call: &Call<'_>,
    tenant: &str,
    name: &str,
    number: &str,
) -> Result<HttpResponse, ApiError> {
    let number: i64 = number
        .parse()
        .ok()
        .filter(|n| *n >= 1)
        .ok_or_else(|| ApiError::bad_request(format!("{number:?} is not a version number")))?;
    let record = call
        .platform
        .store
        .function(tenant, name)
        .await
        .map_err(store_error)?;
    let version = call
        .platform
        .store
        .version(tenant, name, number)
        .await
        .map_err(store_error)?;
    Ok(reply(
        StatusCode::OK,
        &views::version(&version, record.deployed_version),
    ))
}

#[utoipa::path(
    post,
    path = "/v1/tenants/{tenant}/functions/{name}/deploy",
    tag = "functions",
    summary = "Deploy a version (rollback or promote a draft)",
    params(("tenant" = String, Path, description = "The tenant id"), ("name" = String, Path, description = "The function name")),
    request_body = super::views::DeployBody,
    responses((status = 200, description = "OK"), (status = 400, description = "Malformed body or unknown field (named in `field`)", body = super::openapi::ErrorBody), super::openapi::Refusals),
    security(("bearer" = []))
)]
pub(super) async fn deploy<B>(
    call: &Call<'_>,
    tenant: &str,
    name: &str,
    request: Request<B>,
) -> Result<HttpResponse, ApiError>
where
    B: Body<Data = Bytes>,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let body: views::DeployBody = parse(&body(call, request).await?)?;
    let lock = call.platform.tenant_lock(tenant);
    let _one_change = lock.lock().await;
    let record = call
        .platform
        .store
        .deploy(tenant, name, body.version)
        .await
        .map_err(|e| match e {
            authpipe_store::StoreError::NotFound(what) => {
                ApiError::not_found(format!("{what} not found")).with("field", "version")
            }
            other => store_error(other),
        })?;
    call.reload(tenant).await?;
    call.audit(tenant, "function.deploy", name, Some(body.version))
        .await;
    Ok(function_response(StatusCode::OK, &record))
}

/// The functions bound to `trigger`, in run order.
async fn bound(
    call: &Call<'_>,
    tenant: &str,
    trigger: Trigger,
) -> Result<Vec<FunctionRecord>, ApiError> {
    let mut functions: Vec<FunctionRecord> = call
        .platform
        .store
        .functions(tenant)
        .await
        .map_err(store_error)?
        .into_iter()
        .filter(|f| bound_to(f, trigger))
        .collect();
    functions.sort_by(|a, b| (a.run_order, &a.name).cmp(&(b.run_order, &b.name)));
    Ok(functions)
}

fn order_view(trigger: Trigger, functions: &[FunctionRecord]) -> Value {
    let list: Vec<Value> = functions
        .iter()
        .map(|f| {
            json!({
                "name": f.name,
                "order": f.run_order,
                "enabled": f.latest.settings.enabled,
                "async": f.latest.settings.is_async,
                "version": f.latest.version,
                "deployed_version": f.deployed_version,
            })
        })
        .collect();
    json!({"trigger": trigger.as_str(), "functions": list})
}

#[utoipa::path(
    get,
    path = "/v1/tenants/{tenant}/triggers/{trigger}",
    tag = "functions",
    summary = "A trigger's functions in run order",
    params(("tenant" = String, Path, description = "The tenant id"), ("trigger" = String, Path, description = "The trigger")),
    responses((status = 200, description = "OK"), super::openapi::Refusals),
    security(("bearer" = []))
)]
pub(super) async fn trigger_order(
    call: &Call<'_>,
    tenant: &str,
    trigger: &str,
) -> Result<HttpResponse, ApiError> {
    let trigger = Trigger::parse_or_404(trigger)?;
    let functions = bound(call, tenant, trigger).await?;
    Ok(reply(StatusCode::OK, &order_view(trigger, &functions)))
}

#[utoipa::path(
    put,
    path = "/v1/tenants/{tenant}/triggers/{trigger}",
    tag = "functions",
    summary = "Set the run order of a trigger's functions",
    params(("tenant" = String, Path, description = "The tenant id"), ("trigger" = String, Path, description = "The trigger")),
    request_body = super::views::OrderBody,
    responses((status = 200, description = "OK"), (status = 400, description = "Malformed body or unknown field (named in `field`)", body = super::openapi::ErrorBody), (status = 409, description = "The list does not name exactly the bound functions", body = super::openapi::ErrorBody), super::openapi::Refusals),
    security(("bearer" = []))
)]
pub(super) async fn set_trigger_order<B>(
    call: &Call<'_>,
    tenant: &str,
    trigger: &str,
    request: Request<B>,
) -> Result<HttpResponse, ApiError>
where
    B: Body<Data = Bytes>,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let trigger = Trigger::parse_or_404(trigger)?;
    let body: views::OrderBody = parse(&body(call, request).await?)?;
    let lock = call.platform.tenant_lock(tenant);
    let _one_change = lock.lock().await;
    let functions = bound(call, tenant, trigger).await?;
    let bound_names: BTreeSet<&str> = functions.iter().map(|f| f.name.as_str()).collect();
    let given: BTreeSet<&str> = body.order.iter().map(String::as_str).collect();
    let missing: Vec<&str> = bound_names.difference(&given).copied().collect();
    let extra: Vec<&str> = given.difference(&bound_names).copied().collect();
    if !missing.is_empty() || !extra.is_empty() || given.len() != body.order.len() {
        let mut problems = Vec::new();
        if !missing.is_empty() {
            problems.push(format!("missing {}", missing.join(", ")));
        }
        if !extra.is_empty() {
            problems.push(format!(
                "not bound to {}: {}",
                trigger.as_str(),
                extra.join(", ")
            ));
        }
        if given.len() != body.order.len() {
            problems.push("a name is given twice".to_string());
        }
        return Err(ApiError::conflict(format!(
            "order must name exactly the functions bound to {}: {}",
            trigger.as_str(),
            problems.join("; ")
        ))
        .with("field", "order")
        .with("missing", missing)
        .with("unexpected", extra));
    }
    call.platform
        .store
        .set_order(tenant, &body.order)
        .await
        .map_err(store_error)?;
    call.reload(tenant).await?;
    call.audit(tenant, "trigger.order", trigger.as_str(), None)
        .await;
    let functions = bound(call, tenant, trigger).await?;
    Ok(reply(StatusCode::OK, &order_view(trigger, &functions)))
}
