//! The JSON the management API reads and writes.

use crate::error::{ApiError, json_response};
use crate::platform::time::rfc3339;
use authpipe::Flavor;
use authpipe_store::{
    ApiKey, AuditEntry, EnvValue, FunctionRecord, FunctionVersion, Quotas, StoreError, Tenant,
};
use bytes::Bytes;
use http_body_util::Full;
use hyper::{Response, StatusCode};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

/// A response of the management API.
pub type HttpResponse = Response<Full<Bytes>>;

/// Parses a request body as `T`: 400 for bad JSON, naming the field for
/// an unknown or mistyped one.
pub fn parse<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::bad_request("the request needs a JSON body"));
    }
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    let value = serde_path_to_error::deserialize(&mut deserializer).map_err(|e| {
        // The path names the field at fault (an unknown one included).
        let field = e.path().to_string();
        let message = e.into_inner().to_string();
        let error = ApiError::bad_request(format!("invalid request body: {message}"));
        if field.is_empty() || field == "." || field == "?" {
            error
        } else {
            error.with("field", field)
        }
    })?;
    deserializer
        .end()
        .map_err(|e| ApiError::bad_request(format!("invalid request body: {e}")))?;
    Ok(value)
}

/// A 200 (or other) JSON response of `value`.
pub fn reply(status: StatusCode, value: &Value) -> HttpResponse {
    json_response(status, value.to_string().into_bytes())
}

/// 204.
pub fn no_content() -> HttpResponse {
    let mut response = Response::new(Full::new(Bytes::new()));
    *response.status_mut() = StatusCode::NO_CONTENT;
    response
}

/// The response for a store error: 404, 409, 412, or a logged 503.
pub fn store_error(error: StoreError) -> ApiError {
    match error {
        StoreError::NotFound(what) => ApiError::not_found(format!("{what} not found")),
        StoreError::Conflict(what) => ApiError::conflict(format!("{what} already exists")),
        StoreError::Precondition(message) => {
            ApiError::new(StatusCode::PRECONDITION_FAILED, message)
        }
        StoreError::Backend(e) => {
            tracing::error!(error = %format!("{e:#}"), "store failure");
            ApiError::unavailable("the store is not available; retry shortly")
        }
    }
}

/// A tenant as the API shows it (`quotas` resolved against the defaults).
pub fn tenant(tenant: &Tenant, effective: &Quotas) -> Value {
    json!({
        "id": tenant.id,
        "name": tenant.name,
        "quotas": effective,
        "created_at": rfc3339(tenant.created_at),
        "updated_at": rfc3339(tenant.updated_at),
    })
}

/// A key as listed: never its token.
pub fn key(key: &ApiKey) -> Value {
    json!({
        "id": key.id,
        "name": key.name,
        "role": key.role.as_str(),
        "prefix": key.prefix,
        "created_at": rfc3339(key.created_at),
        "last_used_at": key.last_used_at.map(rfc3339),
    })
}

/// The settings of a version, in authpipe.toml's names.
fn settings(version: &FunctionVersion) -> serde_json::Map<String, Value> {
    let s = &version.settings;
    let Value::Object(map) = json!({
        "description": s.description,
        "triggers": s.triggers,
        "enabled": s.enabled,
        "async": s.is_async,
        "timeout_ms": s.timeout_ms,
        "fuel": s.fuel,
        "memory_mb": s.memory_mb,
        "on_error": s.on_error,
        "language": s.language,
        // The flavour it runs as: as set, or as detected.
        "flavor": s.flavor.clone().unwrap_or_else(|| Flavor::detect(&version.source).name().to_string()),
        "flavor_detected": s.flavor.is_none(),
    }) else {
        unreachable!("json! of an object is an object")
    };
    map
}

/// A function: its newest version's source and settings, its place in
/// order, and which version is deployed.
pub fn function(record: &FunctionRecord) -> Value {
    let mut map = serde_json::Map::new();
    map.insert("name".into(), record.name.clone().into());
    map.extend(settings(&record.latest));
    map.insert("order".into(), record.run_order.into());
    map.insert("source".into(), record.latest.source.clone().into());
    map.insert("sha256".into(), record.latest.sha256.clone().into());
    map.insert("version".into(), record.latest.version.into());
    map.insert("deployed_version".into(), record.deployed_version.into());
    map.insert("etag".into(), record.etag().into());
    map.insert("created_at".into(), rfc3339(record.created_at).into());
    map.insert("updated_at".into(), rfc3339(record.updated_at).into());
    Value::Object(map)
}

/// A response with a function and its `ETag` header.
pub fn function_response(status: StatusCode, record: &FunctionRecord) -> HttpResponse {
    let mut response = reply(status, &function(record));
    if let Ok(etag) = hyper::header::HeaderValue::from_str(&record.etag()) {
        response.headers_mut().insert(hyper::header::ETAG, etag);
    }
    response
}

/// One entry of a version list (no source).
pub fn version_summary(version: &FunctionVersion, deployed: Option<i64>) -> Value {
    json!({
        "version": version.version,
        "sha256": version.sha256,
        "created_at": rfc3339(version.created_at),
        "created_by": version.created_by,
        "deployed": deployed == Some(version.version),
    })
}

/// One version with its source and settings.
pub fn version(version: &FunctionVersion, deployed: Option<i64>) -> Value {
    let Value::Object(mut map) = version_summary(version, deployed) else {
        unreachable!("json! of an object is an object")
    };
    map.extend(settings(version));
    map.insert("source".into(), version.source.clone().into());
    Value::Object(map)
}

/// An env value: secrets show only that they are set.
pub fn env_value(value: &EnvValue) -> Value {
    if value.secret {
        json!({"key": value.key, "secret": true, "updated_at": rfc3339(value.updated_at)})
    } else {
        json!({"key": value.key, "value": value.value, "secret": false,
               "updated_at": rfc3339(value.updated_at)})
    }
}

/// An audit entry.
pub fn audit(entry: &AuditEntry) -> Value {
    let mut value = json!({
        "at": rfc3339(entry.at),
        "actor": entry.actor,
        "action": entry.action,
        "target": entry.target,
    });
    if let Some(version) = entry.version {
        value["version"] = version.into();
    }
    value
}

/// `POST /v1/tenants`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewTenant {
    pub id: String,
    pub name: Option<String>,
    #[serde(default)]
    pub quotas: Quotas,
}

/// `PATCH /v1/tenants/{t}`: `quotas` fields given replace the stored
/// ones (`null` returns one to the default).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TenantChange {
    pub name: Option<String>,
    #[schema(value_type = Option<Quotas>)]
    pub quotas: Option<serde_json::Map<String, Value>>,
}

/// `POST …/keys`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewKeyBody {
    pub role: String,
    pub name: String,
}

/// `PUT …/env/{KEY}`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EnvBody {
    pub value: String,
    #[serde(default)]
    pub secret: bool,
}

/// `PUT …/fetch`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FetchBody {
    pub allow: Vec<String>,
}

/// `POST …/functions` and `PATCH …/functions/{name}`: the `[[function]]`
/// fields of authpipe.toml plus `description`, `source` and `deploy`.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FunctionBody {
    pub name: Option<String>,
    pub source: Option<String>,
    pub description: Option<String>,
    pub triggers: Option<Vec<String>>,
    pub order: Option<i64>,
    pub enabled: Option<bool>,
    #[serde(rename = "async")]
    pub is_async: Option<bool>,
    pub timeout_ms: Option<u64>,
    pub fuel: Option<u64>,
    pub memory_mb: Option<u64>,
    pub on_error: Option<String>,
    /// `javascript` (default) or `typescript`.
    pub language: Option<String>,
    /// `authing`, `auth0-rule`, `auth0-action`, or `auto` (default:
    /// detected from the source).
    pub flavor: Option<String>,
    pub deploy: Option<bool>,
}

/// `POST …/deploy`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeployBody {
    pub version: i64,
}

/// `PUT …/triggers/{trigger}`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrderBody {
    pub order: Vec<String>,
}

/// `POST …/functions/{name}/test`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TestBody {
    #[schema(value_type = InvocationInput)]
    pub input: Value,
    pub version: Option<i64>,
    pub source: Option<String>,
    /// The language of `source` (default: the function's, else javascript).
    pub language: Option<String>,
    /// The flavour of `source` (default: the function's, else detected).
    pub flavor: Option<String>,
    /// Run this trigger's whole pipeline (the deployed versions of the
    /// other functions, in run order) with this function in its place.
    pub trigger: Option<String>,
}

/// The body of an invocation: `{"user": {…}, "context": {…}}` (for the
/// OpenAPI document; invocations read their body as raw JSON).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct InvocationInput {
    /// The user, as the identity system has it.
    #[schema(value_type = Object)]
    pub user: Value,
    /// The request context.
    #[schema(value_type = Object)]
    pub context: Value,
}

/// True for a function name: 1–64 of letters, digits, `-`, `_`, `.`.
pub fn valid_function_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name != "."
        && name != ".."
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
}

/// True for an env name: a letter or `_`, then letters, digits, `_`; at
/// most 128.
pub fn valid_env_key(key: &str) -> bool {
    let mut chars = key.chars();
    key.len() <= 128
        && chars
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_and_mistyped_fields_are_named() {
        let error = parse::<FunctionBody>(br#"{"name":"a","sorce":"x"}"#).unwrap_err();
        assert_eq!(error.status, StatusCode::BAD_REQUEST);
        assert_eq!(error.detail("field").unwrap(), "sorce");
        let error = parse::<FunctionBody>(br#"{"fuel":"many"}"#).unwrap_err();
        assert_eq!(error.detail("field").unwrap(), "fuel");
        assert!(parse::<FunctionBody>(b"").is_err());
        assert!(parse::<FunctionBody>(br#"{"name":"a"} x"#).is_err());
        assert!(
            parse::<NewTenant>(br#"{"id":"a","quotas":{"max_fnctions":1}}"#)
                .unwrap_err()
                .detail("field")
                .and_then(Value::as_str)
                .unwrap()
                .ends_with("max_fnctions")
        );
    }

    #[test]
    fn names() {
        assert!(valid_function_name("email-domain.v2_x"));
        for bad in ["", ".", "..", "a/b", "a b", &"a".repeat(65)] {
            assert!(!valid_function_name(bad), "{bad:?}");
        }
        assert!(valid_env_key("SLACK_WEBHOOK") && valid_env_key("_x1"));
        for bad in ["", "1A", "A-B", "A=B"] {
            assert!(!valid_env_key(bad), "{bad:?}");
        }
    }
}
