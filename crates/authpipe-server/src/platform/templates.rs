//! `GET /v1/templates` and `GET /v1/templates/{name}`: the bundled
//! templates, for the console's "new from template" (and for `curl`).

use super::views::{HttpResponse, reply};
use crate::error::ApiError;
use crate::templates::{Bundled, Metadata, TEMPLATES};
use hyper::StatusCode;
use serde_json::{Value, json};

/// The fields a list shows of one template.
fn summary(template: &Bundled, metadata: &Metadata) -> Value {
    json!({
        "name": template.id,
        "title": metadata.title,
        "description": metadata.description,
        "use_case": metadata.use_case,
        "triggers": metadata.triggers,
        "async": metadata.is_async,
        "flavor": metadata.flavor,
    })
}

fn metadata(template: &Bundled) -> Result<Metadata, ApiError> {
    template.metadata().map_err(|e| {
        tracing::error!(template = template.id, error = %format!("{e:#}"), "a bundled template is broken");
        ApiError::internal()
    })
}

/// `GET /v1/templates`.
#[utoipa::path(
    get,
    path = "/v1/templates",
    tag = "templates",
    summary = "The bundled templates: name, title, description, use case, triggers, async (any valid token)",
    responses((status = 200, description = "`{\"templates\": [...]}`, sorted by name"), (status = 401, description = "Missing or wrong token", body = super::openapi::ErrorBody)),
    security(("bearer" = []))
)]
pub(super) fn list() -> Result<HttpResponse, ApiError> {
    let mut templates = Vec::with_capacity(TEMPLATES.len());
    for template in TEMPLATES {
        templates.push(summary(template, &metadata(template)?));
    }
    Ok(reply(StatusCode::OK, &json!({ "templates": templates })))
}

/// `GET /v1/templates/{name}`.
#[utoipa::path(
    get,
    path = "/v1/templates/{name}",
    tag = "templates",
    summary = "One template with its source, the env it reads, its fetch allow-list entries and its fixtures (any valid token)",
    params(("name" = String, Path, description = "The template's name")),
    responses((status = 200, description = "The summary fields plus `language`, `source`, `env` (`[{key, description, example, secret}]`), `fetch_allow` and `fixtures` (`[{name, description, trigger, env, input, expect}]`, sorted by name)"), (status = 404, description = "No such template", body = super::openapi::ErrorBody), (status = 401, description = "Missing or wrong token", body = super::openapi::ErrorBody)),
    security(("bearer" = []))
)]
pub(super) fn get(name: &str) -> Result<HttpResponse, ApiError> {
    let template = TEMPLATES.iter().find(|t| t.id == name).ok_or_else(|| {
        ApiError::not_found(format!(
            "no template {name:?}; GET /v1/templates lists them"
        ))
    })?;
    let metadata = metadata(template)?;
    let source = template.source().map_err(|e| {
        tracing::error!(template = template.id, error = %format!("{e:#}"), "a bundled template is broken");
        ApiError::internal()
    })?;
    let env: Vec<Value> = metadata
        .env
        .iter()
        .map(|(key, spec)| {
            json!({
                "key": key,
                "description": spec.description,
                "example": spec.example,
                "secret": spec.secret,
            })
        })
        .collect();
    let mut fixtures = Vec::new();
    for (file, text) in template.fixtures() {
        let mut fixture: Value = serde_json::from_str(text).map_err(|e| {
            tracing::error!(template = template.id, file, error = %e, "a bundled fixture is not JSON");
            ApiError::internal()
        })?;
        if let Some(object) = fixture.as_object_mut() {
            let stem = file.strip_suffix(".json").unwrap_or(file);
            object.insert("name".into(), stem.into());
        }
        fixtures.push(fixture);
    }
    let mut body = summary(template, &metadata);
    let object = body.as_object_mut().expect("summary is an object");
    object.insert("language".into(), "javascript".into());
    object.insert("source".into(), source.into());
    object.insert("env".into(), env.into());
    object.insert("fetch_allow".into(), metadata.fetch.allow.clone().into());
    object.insert("fixtures".into(), fixtures.into());
    Ok(reply(StatusCode::OK, &body))
}
