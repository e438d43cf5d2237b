//! `/v1/tenants/…`: routing, authentication and the tenant, key, env,
//! fetch, execution and audit endpoints. Functions are in `functions.rs`,
//! invocations and test runs in `invoke.rs`.

use super::auth::{Need, Principal, tenant_not_found};
use super::views::{self, HttpResponse, no_content, parse, reply, store_error};
use super::{Platform, functions, invoke};
use crate::error::ApiError;
use crate::http::{self, AppState};
use authpipe::fetch::AllowPattern;
use authpipe_store::{AuditEntry, ExecutionQuery, Quotas, Role, Store, Tenant, now_ms};
use bytes::Bytes;
use hyper::body::Body;
use hyper::header::{self, HeaderValue};
use hyper::{Method, Request, StatusCode};
use serde_json::{Value, json};
use std::sync::Arc;

/// One management or invocation request, authenticated.
pub(super) struct Call<'a> {
    pub state: &'a Arc<AppState>,
    pub platform: &'a Platform,
    pub principal: Principal,
}

impl Call<'_> {
    /// Appends to `tenant`'s audit log (a failure is logged: the change
    /// itself is done).
    pub async fn audit(&self, tenant: &str, action: &str, target: &str, version: Option<i64>) {
        let entry = AuditEntry {
            at: now_ms(),
            actor: self.principal.actor(),
            action: action.into(),
            target: target.into(),
            version,
        };
        if let Err(e) = self.platform.store.audit(tenant, &entry).await {
            tracing::error!(tenant, action, error = %e, "cannot write an audit entry");
        }
    }

    /// Rebuilds what `tenant` serves after a change; a failure is logged
    /// and answered 503 (the change is stored; the next rebuild serves it).
    pub async fn reload(&self, tenant: &str) -> Result<(), ApiError> {
        self.platform.registry.reload(tenant).await.map_err(|e| {
            tracing::error!(tenant, error = %format!("{e:#}"), "cannot rebuild a tenant's deployment");
            ApiError::unavailable("the change is stored but could not be deployed yet; retry")
        })
    }
}

/// A tenant this node does not serve yet may have been created through
/// another node a moment ago (the change notification is still on its
/// way): look in the store before answering 404, and load it if it is
/// there. Only reached by callers already allowed to act on `tenant`, so
/// it cannot be used to make the node query the store for random names.
async fn catch_up_on_tenant(platform: &Platform, tenant: &str) -> Result<(), ApiError> {
    platform.sync_tenant(tenant).await.map_err(|e| {
        tracing::error!(tenant, error = %format!("{e:#}"), "cannot load a tenant from the store");
        ApiError::unavailable("the store is not available; retry shortly")
    })?;
    match platform.registry.get(tenant) {
        Some(_) => Ok(()),
        None => Err(tenant_not_found(tenant)),
    }
}

/// The methods a route accepts.
fn methods(rest: &[&str]) -> Option<&'static [Method]> {
    const GET: &[Method] = &[Method::GET];
    const POST: &[Method] = &[Method::POST];
    const GET_POST: &[Method] = &[Method::GET, Method::POST];
    const GET_PUT: &[Method] = &[Method::GET, Method::PUT];
    const ONE: &[Method] = &[Method::GET, Method::PATCH, Method::DELETE];
    const PUT_DELETE: &[Method] = &[Method::PUT, Method::DELETE];
    const DELETE: &[Method] = &[Method::DELETE];
    Some(match rest {
        [] => GET_POST,
        [_] => ONE,
        [_, "keys"] => GET_POST,
        [_, "keys", _] => DELETE,
        [_, "functions"] => GET_POST,
        [_, "functions", _] => ONE,
        [_, "functions", _, "versions"] => GET,
        [_, "functions", _, "versions", _] => GET,
        [_, "functions", _, "deploy" | "invoke" | "test"] => POST,
        [_, "triggers", _] => GET_PUT,
        [_, "env"] => GET,
        [_, "env", _] => PUT_DELETE,
        [_, "fetch"] => GET_PUT,
        [_, "pipelines", _] => POST,
        [_, "executions"] => GET,
        [_, "executions", _] => GET,
        [_, "audit"] => GET,
        [_, "stats"] => GET,
        _ => return None,
    })
}

/// What a route under `/v1/tenants/{t}` needs of its caller (`rest` is
/// the path after the tenant).
fn need(rest: &[&str]) -> Need {
    match rest {
        [] => Need::Admin,
        ["pipelines", _] | ["functions", _, "invoke"] => Need::Invoke,
        _ => Need::Manage,
    }
}

/// The caller of `request`: 401 without a valid token.
async fn authenticate<'a, B>(
    state: &'a Arc<AppState>,
    platform: &'a Platform,
    request: &Request<B>,
) -> Result<Call<'a>, ApiError> {
    let token = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(http::bearer_token);
    let principal = platform.auth.principal(&*platform.store, token).await?;
    if let Principal::Key(key) = &principal
        && platform.auth.should_note_use(key)
    {
        let (store, id) = (platform.store.clone(), key.id.clone());
        tokio::spawn(async move {
            let _ = store.note_key_use(&id, now_ms()).await;
        });
    }
    Ok(Call {
        state,
        platform,
        principal,
    })
}

/// Answers `/v1/whoami` and `/v1/templates[/{name}]` (`rest` is the path
/// after `/v1`): read-only, for any valid token.
pub async fn route_shared<B>(
    state: &Arc<AppState>,
    platform: &Platform,
    request: Request<B>,
    rest: &[&str],
) -> Result<HttpResponse, ApiError> {
    let path = request.uri().path();
    if !matches!(rest, ["whoami"] | ["templates"] | ["templates", _]) {
        return Err(ApiError::not_found(format!("no such endpoint: {path}")));
    }
    if request.method() != Method::GET {
        return Err(ApiError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            format!("{path} accepts GET"),
        )
        .with_header(header::ALLOW, "GET"));
    }
    let call = authenticate(state, platform, &request).await?;
    match rest {
        ["whoami"] => Ok(whoami(&call)),
        ["templates"] => super::templates::list(),
        [_, name] => super::templates::get(name),
        _ => unreachable!("matched above"),
    }
}

/// `GET /v1/whoami`.
#[utoipa::path(
    get,
    path = "/v1/whoami",
    tag = "tenants",
    summary = "Who the token belongs to: the platform admin, or a tenant key with its tenant and role",
    responses((status = 200, description = "`{\"principal\": \"admin\"}` or `{\"principal\": \"key\", \"tenant\", \"role\", \"key_id\", \"key_name\"}`"), (status = 401, description = "Missing or wrong token", body = super::openapi::ErrorBody)),
    security(("bearer" = []))
)]
fn whoami(call: &Call<'_>) -> HttpResponse {
    let body = match &call.principal {
        Principal::Admin => json!({"principal": "admin"}),
        Principal::Key(key) => json!({
            "principal": "key",
            "tenant": key.tenant,
            "role": key.role.as_str(),
            "key_id": key.id,
            "key_name": key.name,
        }),
    };
    reply(StatusCode::OK, &body)
}

/// Answers a request under `/v1/tenants` (`rest` is the path after it).
pub async fn route<B>(
    state: &Arc<AppState>,
    platform: &Platform,
    request: Request<B>,
    rest: &[&str],
) -> Result<HttpResponse, ApiError>
where
    B: Body<Data = Bytes>,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let path = request.uri().path().to_string();
    let Some(allowed) = methods(rest) else {
        return Err(ApiError::not_found(format!("no such endpoint: {path}")));
    };
    if !allowed.contains(request.method()) {
        let list: Vec<&str> = allowed.iter().map(Method::as_str).collect();
        return Err(ApiError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            format!("{path} accepts {}", list.join(", ")),
        )
        .with_header(header::ALLOW, allow_header(allowed)));
    }
    let call = authenticate(state, platform, &request).await?;
    let Some((tenant, rest)) = rest.split_first() else {
        if call.principal != Principal::Admin {
            return Err(ApiError::forbidden(
                "only the platform admin may list or create tenants",
            ));
        }
        return match *request.method() {
            Method::POST => create_tenant(&call, request).await,
            _ => list_tenants(&call).await,
        };
    };
    let tenant = tenant.to_string();
    call.principal.require(&tenant, need(rest))?;
    if platform.registry.get(&tenant).is_none() {
        catch_up_on_tenant(platform, &tenant).await?;
    }
    let method = request.method().clone();
    match (rest, method) {
        ([], Method::GET) => get_tenant(&call, &tenant).await,
        ([], Method::PATCH) => update_tenant(&call, &tenant, request).await,
        ([], _) => delete_tenant(&call, &tenant).await,
        (["keys"], Method::GET) => list_keys(&call, &tenant).await,
        (["keys"], _) => create_key(&call, &tenant, request).await,
        (["keys", id], _) => revoke_key(&call, &tenant, id).await,
        (["functions"], Method::GET) => functions::list(&call, &tenant, &request).await,
        (["functions"], _) => functions::create(&call, &tenant, request).await,
        (["functions", name], Method::GET) => functions::get(&call, &tenant, name).await,
        (["functions", name], Method::PATCH) => {
            functions::update(&call, &tenant, name, request).await
        }
        (["functions", name], _) => functions::delete(&call, &tenant, name).await,
        (["functions", name, "versions"], _) => functions::versions(&call, &tenant, name).await,
        (["functions", name, "versions", n], _) => {
            functions::version(&call, &tenant, name, n).await
        }
        (["functions", name, "deploy"], _) => {
            functions::deploy(&call, &tenant, name, request).await
        }
        (["functions", name, "invoke"], _) => invoke::function(&call, &tenant, name, request).await,
        (["functions", name, "test"], _) => invoke::test(&call, &tenant, name, request).await,
        (["triggers", trigger], Method::GET) => {
            functions::trigger_order(&call, &tenant, trigger).await
        }
        (["triggers", trigger], _) => {
            functions::set_trigger_order(&call, &tenant, trigger, request).await
        }
        (["env"], _) => list_env(&call, &tenant).await,
        (["env", key], Method::PUT) => set_env(&call, &tenant, key, request).await,
        (["env", key], _) => delete_env(&call, &tenant, key).await,
        (["fetch"], Method::GET) => get_fetch(&call, &tenant).await,
        (["fetch"], _) => set_fetch(&call, &tenant, request).await,
        (["pipelines", trigger], _) => invoke::pipeline(&call, &tenant, trigger, request).await,
        (["executions"], _) => list_executions(&call, &tenant, &request).await,
        (["executions", id], _) => get_execution(&call, &tenant, id).await,
        (["audit"], _) => audit_log(&call, &tenant, &request).await,
        (["stats"], _) => super::stats::stats(&call, &tenant, &request).await,
        _ => Err(ApiError::not_found(format!("no such endpoint: {path}"))),
    }
}

fn allow_header(methods: &[Method]) -> &'static str {
    match methods {
        [Method::GET] => "GET",
        [Method::POST] => "POST",
        [Method::DELETE] => "DELETE",
        [Method::GET, Method::POST] => "GET, POST",
        [Method::GET, Method::PUT] => "GET, PUT",
        [Method::PUT, Method::DELETE] => "PUT, DELETE",
        _ => "GET, PATCH, DELETE",
    }
}

/// Reads a management request's body (size and time limits apply).
pub(super) async fn body<B>(call: &Call<'_>, request: Request<B>) -> Result<Vec<u8>, ApiError>
where
    B: Body<Data = Bytes>,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    http::read_body(call.state, request).await
}

/// The query parameters of `request`, refusing any not in `known`.
pub(super) fn query<B>(
    request: &Request<B>,
    known: &[&str],
) -> Result<Vec<(String, String)>, ApiError> {
    let pairs: Vec<(String, String)> =
        url::form_urlencoded::parse(request.uri().query().unwrap_or("").as_bytes())
            .into_owned()
            .collect();
    for (name, _) in &pairs {
        if !known.contains(&name.as_str()) {
            return Err(ApiError::bad_request(format!(
                "unknown query parameter {name:?}; expected one of {}",
                known.join(", ")
            ))
            .with("field", name.as_str()));
        }
    }
    Ok(pairs)
}

#[utoipa::path(
    get,
    path = "/v1/tenants",
    tag = "tenants",
    summary = "List tenants (admin)",
    responses((status = 200, description = "`{tenants: [...]}`"), super::openapi::Refusals),
    security(("bearer" = []))
)]
async fn list_tenants(call: &Call<'_>) -> Result<HttpResponse, ApiError> {
    let tenants = call.platform.store.tenants().await.map_err(store_error)?;
    let list: Vec<Value> = tenants
        .iter()
        .map(|t| views::tenant(t, &call.platform.settings.effective(&t.quotas)))
        .collect();
    Ok(reply(StatusCode::OK, &json!({ "tenants": list })))
}

fn check_quotas(quotas: &Quotas) -> Result<(), ApiError> {
    for (name, value) in quotas.fields() {
        if value == Some(0) {
            return Err(ApiError::bad_request(format!(
                "quotas.{name} must be at least 1 (leave it out for the default)"
            ))
            .with("field", format!("quotas.{name}")));
        }
    }
    if quotas.max_concurrent.is_some_and(|n| n > 100_000) {
        return Err(
            ApiError::bad_request("quotas.max_concurrent must be at most 100000")
                .with("field", "quotas.max_concurrent"),
        );
    }
    Ok(())
}

#[utoipa::path(
    post,
    path = "/v1/tenants",
    tag = "tenants",
    summary = "Create a tenant (admin)",
    request_body = super::views::NewTenant,
    responses((status = 201, description = "The tenant"), (status = 400, description = "Malformed body or unknown field (named in `field`)", body = super::openapi::ErrorBody), (status = 409, description = "The id is taken", body = super::openapi::ErrorBody), super::openapi::Refusals),
    security(("bearer" = []))
)]
async fn create_tenant<B>(call: &Call<'_>, request: Request<B>) -> Result<HttpResponse, ApiError>
where
    B: Body<Data = Bytes>,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let body: views::NewTenant = parse(&body(call, request).await?)?;
    if !Tenant::valid_id(&body.id) {
        return Err(ApiError::bad_request(format!(
            "invalid tenant id {:?}: 1–63 of a-z, 0-9 and '-', starting with a letter or digit",
            body.id
        ))
        .with("field", "id"));
    }
    check_quotas(&body.quotas)?;
    let name = body.name.unwrap_or_else(|| body.id.clone());
    check_display_name(&name)?;
    let now = now_ms();
    let tenant = Tenant {
        id: body.id,
        name,
        quotas: body.quotas,
        created_at: now,
        updated_at: now,
    };
    let lock = call.platform.tenant_lock(&tenant.id);
    let _one_change = lock.lock().await;
    call.platform
        .store
        .create_tenant(&tenant)
        .await
        .map_err(store_error)?;
    call.platform.apply_quotas(&tenant);
    call.reload(&tenant.id).await?;
    call.audit(&tenant.id, "tenant.create", &tenant.id, None)
        .await;
    let effective = call.platform.settings.effective(&tenant.quotas);
    Ok(reply(
        StatusCode::CREATED,
        &views::tenant(&tenant, &effective),
    ))
}

fn check_display_name(name: &str) -> Result<(), ApiError> {
    if name.trim().is_empty() || name.chars().count() > 200 || name.chars().any(char::is_control) {
        return Err(ApiError::bad_request(
            "name must be 1–200 characters without control characters",
        )
        .with("field", "name"));
    }
    Ok(())
}

#[utoipa::path(
    get,
    path = "/v1/tenants/{tenant}",
    tag = "tenants",
    summary = "One tenant (admin)",
    params(("tenant" = String, Path, description = "The tenant id")),
    responses((status = 200, description = "OK"), super::openapi::Refusals),
    security(("bearer" = []))
)]
async fn get_tenant(call: &Call<'_>, tenant: &str) -> Result<HttpResponse, ApiError> {
    let tenant = call
        .platform
        .store
        .tenant(tenant)
        .await
        .map_err(store_error)?;
    let effective = call.platform.settings.effective(&tenant.quotas);
    Ok(reply(StatusCode::OK, &views::tenant(&tenant, &effective)))
}

#[utoipa::path(
    patch,
    path = "/v1/tenants/{tenant}",
    tag = "tenants",
    summary = "Change a tenant's name or quotas (admin)",
    params(("tenant" = String, Path, description = "The tenant id")),
    request_body = super::views::TenantChange,
    responses((status = 200, description = "OK"), (status = 400, description = "Malformed body or unknown field (named in `field`)", body = super::openapi::ErrorBody), super::openapi::Refusals),
    security(("bearer" = []))
)]
async fn update_tenant<B>(
    call: &Call<'_>,
    id: &str,
    request: Request<B>,
) -> Result<HttpResponse, ApiError>
where
    B: Body<Data = Bytes>,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let change: views::TenantChange = parse(&body(call, request).await?)?;
    let lock = call.platform.tenant_lock(id);
    let _one_change = lock.lock().await;
    let mut tenant = call.platform.store.tenant(id).await.map_err(store_error)?;
    if let Some(name) = change.name {
        check_display_name(&name)?;
        tenant.name = name;
    }
    if let Some(fields) = change.quotas {
        let mut merged = serde_json::to_value(&tenant.quotas)
            .ok()
            .and_then(|v| v.as_object().cloned())
            .unwrap_or_default();
        for (key, value) in fields {
            if value.is_null() {
                merged.remove(&key);
            } else {
                merged.insert(key, value);
            }
        }
        tenant.quotas = parse(Value::Object(merged).to_string().as_bytes()).map_err(|e| {
            let field = e
                .detail("field")
                .and_then(Value::as_str)
                .map(|f| format!("quotas.{f}"));
            match field {
                Some(field) => ApiError::bad_request(e.message).with("field", field),
                None => e,
            }
        })?;
        check_quotas(&tenant.quotas)?;
    }
    tenant.updated_at = now_ms();
    call.platform
        .store
        .update_tenant(&tenant)
        .await
        .map_err(store_error)?;
    call.platform.apply_quotas(&tenant);
    call.audit(id, "tenant.update", id, None).await;
    let effective = call.platform.settings.effective(&tenant.quotas);
    Ok(reply(StatusCode::OK, &views::tenant(&tenant, &effective)))
}

#[utoipa::path(
    delete,
    path = "/v1/tenants/{tenant}",
    tag = "tenants",
    summary = "Delete a tenant and everything it owns (admin)",
    params(("tenant" = String, Path, description = "The tenant id")),
    responses((status = 204, description = "Deleted"), super::openapi::Refusals),
    security(("bearer" = []))
)]
async fn delete_tenant(call: &Call<'_>, id: &str) -> Result<HttpResponse, ApiError> {
    let lock = call.platform.tenant_lock(id);
    let _one_change = lock.lock().await;
    call.platform
        .store
        .delete_tenant(id)
        .await
        .map_err(store_error)?;
    call.platform.auth.forget(|key| key.tenant == id);
    call.platform.admission.remove(id);
    call.reload(id).await?;
    Ok(no_content())
}

#[utoipa::path(
    get,
    path = "/v1/tenants/{tenant}/keys",
    tag = "keys",
    summary = "List API keys (never their tokens)",
    params(("tenant" = String, Path, description = "The tenant id")),
    responses((status = 200, description = "`{keys: [...]}`"), super::openapi::Refusals),
    security(("bearer" = []))
)]
async fn list_keys(call: &Call<'_>, tenant: &str) -> Result<HttpResponse, ApiError> {
    let keys = call
        .platform
        .store
        .keys(tenant)
        .await
        .map_err(store_error)?;
    let list: Vec<Value> = keys.iter().map(views::key).collect();
    Ok(reply(StatusCode::OK, &json!({ "keys": list })))
}

#[utoipa::path(
    post,
    path = "/v1/tenants/{tenant}/keys",
    tag = "keys",
    summary = "Create an API key; its token is returned once",
    params(("tenant" = String, Path, description = "The tenant id")),
    request_body = super::views::NewKeyBody,
    responses((status = 201, description = "The key with `token`"), (status = 400, description = "Malformed body or unknown field (named in `field`)", body = super::openapi::ErrorBody), super::openapi::Refusals),
    security(("bearer" = []))
)]
async fn create_key<B>(
    call: &Call<'_>,
    tenant: &str,
    request: Request<B>,
) -> Result<HttpResponse, ApiError>
where
    B: Body<Data = Bytes>,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let body: views::NewKeyBody = parse(&body(call, request).await?)?;
    let role = Role::parse(&body.role).ok_or_else(|| {
        ApiError::bad_request(format!("role {:?} is not one of manage, invoke", body.role))
            .with("field", "role")
    })?;
    check_display_name(&body.name)?;
    let created = call
        .platform
        .store
        .create_key(tenant, &body.name, role)
        .await
        .map_err(store_error)?;
    call.audit(tenant, "key.create", &created.key.id, None)
        .await;
    let mut value = views::key(&created.key);
    value["token"] = created.token.into();
    let mut response = reply(StatusCode::CREATED, &value);
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

#[utoipa::path(
    delete,
    path = "/v1/tenants/{tenant}/keys/{id}",
    tag = "keys",
    summary = "Revoke a key at once",
    params(("tenant" = String, Path, description = "The tenant id"), ("id" = String, Path, description = "The key id")),
    responses((status = 204, description = "Revoked"), super::openapi::Refusals),
    security(("bearer" = []))
)]
async fn revoke_key(call: &Call<'_>, tenant: &str, id: &str) -> Result<HttpResponse, ApiError> {
    call.platform
        .store
        .revoke_key(tenant, id)
        .await
        .map_err(store_error)?;
    call.platform.auth.forget(|key| key.id == id);
    call.audit(tenant, "key.revoke", id, None).await;
    Ok(no_content())
}

#[utoipa::path(
    get,
    path = "/v1/tenants/{tenant}/env",
    tag = "env",
    summary = "List env values (secrets without their value)",
    params(("tenant" = String, Path, description = "The tenant id")),
    responses((status = 200, description = "`{env: [...]}`"), super::openapi::Refusals),
    security(("bearer" = []))
)]
async fn list_env(call: &Call<'_>, tenant: &str) -> Result<HttpResponse, ApiError> {
    let env = call.platform.store.env(tenant).await.map_err(store_error)?;
    let list: Vec<Value> = env.iter().map(views::env_value).collect();
    Ok(reply(StatusCode::OK, &json!({ "env": list })))
}

/// Largest env value, in bytes.
const MAX_ENV_VALUE_BYTES: usize = 64 << 10;

#[utoipa::path(
    put,
    path = "/v1/tenants/{tenant}/env/{key}",
    tag = "env",
    summary = "Set an env value or secret",
    params(("tenant" = String, Path, description = "The tenant id"), ("key" = String, Path, description = "The env name"), ("dry_run" = Option<bool>, Query, description = "Only answer whether this would change anything")),
    request_body = super::views::EnvBody,
    responses((status = 200, description = "OK"), (status = 400, description = "Malformed body or unknown field (named in `field`)", body = super::openapi::ErrorBody), super::openapi::Refusals),
    security(("bearer" = []))
)]
async fn set_env<B>(
    call: &Call<'_>,
    tenant: &str,
    key: &str,
    request: Request<B>,
) -> Result<HttpResponse, ApiError>
where
    B: Body<Data = Bytes>,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    if !views::valid_env_key(key) {
        return Err(ApiError::bad_request(format!(
            "invalid env name {key:?}: a letter or '_', then letters, digits and '_' (at most 128)"
        ))
        .with("field", "key"));
    }
    let mut dry_run = false;
    for (_, value) in query(&request, &["dry_run"])? {
        dry_run = value == "true" || value == "1";
    }
    let body: views::EnvBody = parse(&body(call, request).await?)?;
    if body.value.len() > MAX_ENV_VALUE_BYTES || body.value.contains('\0') {
        return Err(ApiError::bad_request(format!(
            "value must be at most {MAX_ENV_VALUE_BYTES} bytes without NUL characters"
        ))
        .with("field", "value"));
    }
    let lock = call.platform.tenant_lock(tenant);
    let _one_change = lock.lock().await;
    let store = &call.platform.store;
    let current = store.env(tenant).await.map_err(store_error)?;
    let changed = !current
        .iter()
        .any(|v| v.key == key && v.value == body.value && v.secret == body.secret);
    // `?dry_run=true` only says whether this would change anything (what
    // `authpipe deploy --dry-run` needs to plan secrets it cannot read).
    if dry_run {
        return Ok(reply(
            StatusCode::OK,
            &json!({ "key": key, "changed": changed }),
        ));
    }
    if changed {
        store
            .set_env(tenant, key, &body.value, body.secret)
            .await
            .map_err(store_error)?;
        call.reload(tenant).await?;
        let action = if body.secret { "secret.set" } else { "env.set" };
        call.audit(tenant, action, key, None).await;
    }
    let env = store.env(tenant).await.map_err(store_error)?;
    let mut value = env
        .iter()
        .find(|v| v.key == key)
        .map(views::env_value)
        .unwrap_or(Value::Null);
    value["changed"] = changed.into();
    Ok(reply(StatusCode::OK, &value))
}

#[utoipa::path(
    delete,
    path = "/v1/tenants/{tenant}/env/{key}",
    tag = "env",
    summary = "Delete an env value",
    params(("tenant" = String, Path, description = "The tenant id"), ("key" = String, Path, description = "The env name")),
    responses((status = 204, description = "Deleted"), super::openapi::Refusals),
    security(("bearer" = []))
)]
async fn delete_env(call: &Call<'_>, tenant: &str, key: &str) -> Result<HttpResponse, ApiError> {
    let lock = call.platform.tenant_lock(tenant);
    let _one_change = lock.lock().await;
    call.platform
        .store
        .delete_env(tenant, key)
        .await
        .map_err(store_error)?;
    call.reload(tenant).await?;
    call.audit(tenant, "env.delete", key, None).await;
    Ok(no_content())
}

#[utoipa::path(
    get,
    path = "/v1/tenants/{tenant}/fetch",
    tag = "env",
    summary = "The fetch allow-list",
    params(("tenant" = String, Path, description = "The tenant id")),
    responses((status = 200, description = "`{allow: [...]}`"), super::openapi::Refusals),
    security(("bearer" = []))
)]
async fn get_fetch(call: &Call<'_>, tenant: &str) -> Result<HttpResponse, ApiError> {
    let allow = call
        .platform
        .store
        .fetch_allow(tenant)
        .await
        .map_err(store_error)?;
    Ok(reply(StatusCode::OK, &json!({ "allow": allow })))
}

/// Allow-list entries per tenant at most.
const MAX_ALLOW_ENTRIES: usize = 256;

#[utoipa::path(
    put,
    path = "/v1/tenants/{tenant}/fetch",
    tag = "env",
    summary = "Replace the fetch allow-list",
    params(("tenant" = String, Path, description = "The tenant id")),
    request_body = super::views::FetchBody,
    responses((status = 200, description = "OK"), (status = 400, description = "Malformed body or unknown field (named in `field`)", body = super::openapi::ErrorBody), super::openapi::Refusals),
    security(("bearer" = []))
)]
async fn set_fetch<B>(
    call: &Call<'_>,
    tenant: &str,
    request: Request<B>,
) -> Result<HttpResponse, ApiError>
where
    B: Body<Data = Bytes>,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let body: views::FetchBody = parse(&body(call, request).await?)?;
    if body.allow.len() > MAX_ALLOW_ENTRIES {
        return Err(
            ApiError::bad_request(format!("at most {MAX_ALLOW_ENTRIES} allow entries"))
                .with("field", "allow"),
        );
    }
    for (i, entry) in body.allow.iter().enumerate() {
        AllowPattern::parse(entry).map_err(|e| {
            ApiError::bad_request(format!("allow[{i}] {entry:?}: {e}"))
                .with("field", format!("allow[{i}]"))
        })?;
    }
    let lock = call.platform.tenant_lock(tenant);
    let _one_change = lock.lock().await;
    call.platform
        .store
        .set_fetch_allow(tenant, &body.allow)
        .await
        .map_err(store_error)?;
    call.reload(tenant).await?;
    call.audit(tenant, "fetch.set", "fetch", None).await;
    Ok(reply(StatusCode::OK, &json!({ "allow": body.allow })))
}

/// Records per page by default and at most.
const PAGE_DEFAULT: u32 = 50;
const PAGE_MAX: u32 = 1000;

#[utoipa::path(
    get,
    path = "/v1/tenants/{tenant}/executions",
    tag = "history",
    summary = "Execution records, newest first",
    params(("tenant" = String, Path, description = "The tenant id"), ("trigger" = Option<String>, Query, description = "Only this trigger"), ("function" = Option<String>, Query, description = "Only with a stage of this function"), ("outcome" = Option<String>, Query, description = "allow, deny or error"), ("limit" = Option<u32>, Query, description = "1..=1000, default 50"), ("before" = Option<String>, Query, description = "The cursor: `next` of the previous page")),
    responses((status = 200, description = "`{executions: [...], next}`"), super::openapi::Refusals),
    security(("bearer" = []))
)]
async fn list_executions<B>(
    call: &Call<'_>,
    tenant: &str,
    request: &Request<B>,
) -> Result<HttpResponse, ApiError> {
    let mut query = ExecutionQuery {
        limit: PAGE_DEFAULT,
        ..ExecutionQuery::default()
    };
    for (name, value) in super::api::query(
        request,
        &["trigger", "function", "outcome", "limit", "before"],
    )? {
        match name.as_str() {
            "trigger" => {
                let trigger = crate::config::Trigger::parse(&value).ok_or_else(|| {
                    ApiError::bad_request(format!("unknown trigger {value:?}"))
                        .with("field", "trigger")
                })?;
                query.trigger = Some(trigger.as_str().to_string());
            }
            "function" => query.function = Some(value),
            "outcome" => {
                if !["allow", "deny", "error"].contains(&value.as_str()) {
                    return Err(ApiError::bad_request(format!(
                        "outcome {value:?} is not one of allow, deny, error"
                    ))
                    .with("field", "outcome"));
                }
                query.outcome = Some(value);
            }
            "limit" => {
                query.limit = value
                    .parse()
                    .ok()
                    .filter(|n| (1..=PAGE_MAX).contains(n))
                    .ok_or_else(|| {
                        ApiError::bad_request(format!("limit must be 1..={PAGE_MAX}"))
                            .with("field", "limit")
                    })?;
            }
            _ => query.before = Some(value),
        }
    }
    let records = call
        .platform
        .store
        .executions(tenant, &query)
        .await
        .map_err(store_error)?;
    let next = (records.len() == query.limit as usize)
        .then(|| records.last().map(|r| r.id.clone()))
        .flatten();
    // The records are stored as the JSON the API returns.
    let mut body = String::from("{\"executions\":[");
    for (i, record) in records.iter().enumerate() {
        if i > 0 {
            body.push(',');
        }
        body.push_str(&record.json);
    }
    body.push_str("],\"next\":");
    body.push_str(&serde_json::to_string(&next).unwrap_or_else(|_| "null".into()));
    body.push('}');
    Ok(crate::error::json_response(
        StatusCode::OK,
        body.into_bytes(),
    ))
}

#[utoipa::path(
    get,
    path = "/v1/tenants/{tenant}/executions/{id}",
    tag = "history",
    summary = "One execution record",
    params(("tenant" = String, Path, description = "The tenant id"), ("id" = String, Path, description = "The execution id")),
    responses((status = 200, description = "OK"), super::openapi::Refusals),
    security(("bearer" = []))
)]
async fn get_execution(call: &Call<'_>, tenant: &str, id: &str) -> Result<HttpResponse, ApiError> {
    let record = call
        .platform
        .store
        .execution(tenant, id)
        .await
        .map_err(store_error)?;
    Ok(crate::error::json_response(
        StatusCode::OK,
        record.json.into_bytes(),
    ))
}

#[utoipa::path(
    get,
    path = "/v1/tenants/{tenant}/audit",
    tag = "history",
    summary = "The audit log, newest first",
    params(("tenant" = String, Path, description = "The tenant id"), ("limit" = Option<u32>, Query, description = "1..=1000, default 100")),
    responses((status = 200, description = "OK"), super::openapi::Refusals),
    security(("bearer" = []))
)]
async fn audit_log<B>(
    call: &Call<'_>,
    tenant: &str,
    request: &Request<B>,
) -> Result<HttpResponse, ApiError> {
    let mut limit = 100;
    for (_, value) in query(request, &["limit"])? {
        limit = value
            .parse()
            .ok()
            .filter(|n| (1..=PAGE_MAX).contains(n))
            .ok_or_else(|| {
                ApiError::bad_request(format!("limit must be 1..={PAGE_MAX}"))
                    .with("field", "limit")
            })?;
    }
    let entries = call
        .platform
        .store
        .audit_log(tenant, limit)
        .await
        .map_err(store_error)?;
    let list: Vec<Value> = entries.iter().map(views::audit).collect();
    Ok(reply(StatusCode::OK, &Value::Array(list)))
}
