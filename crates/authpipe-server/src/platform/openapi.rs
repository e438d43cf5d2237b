//! `GET /v1/openapi.json`: the OpenAPI 3.1 description of store mode's API,
//! generated from the handlers' annotations and the request types.

use super::{api, functions, invoke, stats, templates, views};
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};

/// An error answer: `{"error": {"status", "message", "field"?, "line"?,
/// "column"?}}`.
#[derive(utoipa::ToSchema)]
pub struct ErrorBody {
    /// The error.
    #[allow(dead_code)]
    error: ErrorDetail,
}

/// The members of an error answer.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
struct ErrorDetail {
    /// The HTTP status.
    status: u16,
    /// What was wrong.
    message: String,
    /// The request field at fault, when there is one.
    field: Option<String>,
    /// A compile error's line.
    line: Option<u32>,
    /// A compile error's column.
    column: Option<u32>,
}

/// The refusals every endpoint may answer.
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)]
pub enum Refusals {
    /// Missing or wrong bearer token.
    #[response(status = 401)]
    Unauthorized(ErrorBody),
    /// Not allowed for this principal (an invoke key on a manage route, a
    /// key on an admin route).
    #[response(status = 403)]
    Forbidden(ErrorBody),
    /// No such tenant (or not the caller's), or no such resource.
    #[response(status = 404)]
    NotFound(ErrorBody),
}

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
        );
    }
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "authpipe store mode",
        description = "Tenants, API keys, functions with versions, deploy and rollback, run order, env and secrets, invocations, test runs, execution history and audit. The platform admin's token or a tenant key goes in `Authorization: Bearer`."
    ),
    paths(
        api::list_tenants, api::create_tenant, api::get_tenant, api::update_tenant, api::delete_tenant,
        api::list_keys, api::create_key, api::revoke_key,
        functions::list, functions::create, functions::get, functions::update, functions::delete,
        functions::versions, functions::version, functions::deploy,
        functions::trigger_order, functions::set_trigger_order,
        api::list_env, api::set_env, api::delete_env, api::get_fetch, api::set_fetch,
        invoke::pipeline, invoke::function, invoke::test,
        api::list_executions, api::get_execution, api::audit_log, stats::stats,
        api::whoami, templates::list, templates::get,
    ),
    components(schemas(
        ErrorBody, ErrorDetail, authpipe_store::Quotas, views::NewTenant, views::TenantChange,
        views::NewKeyBody, views::EnvBody, views::FetchBody, views::FunctionBody,
        views::DeployBody, views::OrderBody, views::TestBody, views::InvocationInput,
    )),
    modifiers(&BearerAuth),
)]
struct ApiDoc;

/// The OpenAPI document, as JSON.
pub fn document() -> String {
    ApiDoc::openapi()
        .to_pretty_json()
        .unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
}
