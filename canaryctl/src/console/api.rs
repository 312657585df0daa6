//! The console's JSON API: the handlers behind each route. File and admin
//! work is blocking, so it runs on tokio's blocking pool; every answer is
//! JSON, errors included.

use std::sync::Arc;

use axum::body::{to_bytes, Body};
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use canary_core::{Operand, Release, OPERATORS};
use serde_json::{json, Map, Value};

use crate::console::body::{self, MAX_BODY};
use crate::console::error::ApiError;
use crate::console::metrics;
use crate::console::prometheus;
use crate::console::state::Console;
use crate::console::write::{self, etag};
use crate::describe;
use crate::edit::Change;
use crate::history;
use crate::status;

pub(super) type Shared = State<Arc<Console>>;
pub(super) type Named = Result<Path<String>, PathRejection>;

/// Runs blocking work (files, Envoy's admin) off the async threads.
pub(super) async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| ApiError::internal(format!("the request's task failed: {e}")))?
}

fn json_answer(value: &Value, etag: Option<&str>) -> Response {
    let mut response = (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        value.to_string(),
    )
        .into_response();
    if let Some(tag) = etag.and_then(|t| HeaderValue::from_str(t).ok()) {
        response.headers_mut().insert(header::ETAG, tag);
    }
    response
}

pub(super) fn answer(result: Result<(Value, Option<String>), ApiError>) -> Response {
    match result {
        Ok((value, etag)) => json_answer(&value, etag.as_deref()),
        Err(error) => error.into_response(),
    }
}

pub(super) fn release_name(path: Named) -> Result<String, ApiError> {
    path.map(|Path(name)| name)
        .map_err(|e| ApiError::bad_request(format!("bad release name in the URL: {e}")))
}

/// GET /api/releases: every release in words, with its live split.
pub async fn releases(State(console): Shared) -> Response {
    answer(
        blocking(move || {
            let (document, config) = console.load()?;
            let live = console.admin.as_ref().map(status::fetch);
            let (report, live_error) = match live {
                Some(Ok(counters)) => (Some(counters.report()), None),
                Some(Err(e)) => (None, Some(e.to_string())),
                None => (None, None),
            };
            let releases: Vec<Value> = config
                .releases
                .iter()
                .map(|release| {
                    let live = report.as_ref().and_then(|r| r.releases.get(&release.name));
                    json!({
                        "release": describe::release_view(release),
                        "rule_text": describe::rule(release.canaries.first().rule.as_ref()),
                        "live": live,
                    })
                })
                .collect();
            let tag = etag(&document);
            let value = json!({
                "file": document.path.display().to_string(),
                "kind": document.kind,
                "etag": tag,
                "admin": console.admin.as_ref().map(|a| a.authority.clone()),
                "live_error": live_error,
                "releases": releases,
            });
            Ok((value, Some(tag)))
        })
        .await,
    )
}

fn operand_name(operand: Operand) -> &'static str {
    match operand {
        Operand::Text => "text",
        Operand::Regex => "regex",
        Operand::TextList => "list",
        Operand::Nothing => "none",
        Operand::Number => "number",
        Operand::Percent => "percent",
    }
}

/// A rule's parts as the file has them (for the editor).
fn raw_rule(object: Option<&Map<String, Value>>) -> Value {
    let part = |key: &str| {
        object
            .and_then(|o| o.get(key))
            .cloned()
            .unwrap_or(Value::Null)
    };
    json!({"path": part("path"), "mode": part("mode"), "conditions": part("conditions")})
}

/// Each canary's rule as the file has it, by value: from `canaries` in
/// that form, else the two-version form's own path, mode and conditions.
fn canary_rules(raw: Option<&Map<String, Value>>, release: &Release) -> Map<String, Value> {
    let listed = raw
        .and_then(|r| r.get("canaries"))
        .and_then(Value::as_array);
    release
        .canaries
        .iter()
        .map(|canary| {
            let object = match listed {
                Some(list) => list.iter().filter_map(Value::as_object).find(|c| {
                    c.get("value").and_then(Value::as_str) == Some(canary.value.as_str())
                }),
                None => raw,
            };
            (canary.value.clone(), raw_rule(object))
        })
        .collect()
}

/// GET /api/releases/{name}: the release, its rule as the file has it (for
/// the editor; `canary_rules` has each canary's, by value), the filter's
/// operators, and the file's ETag.
pub async fn release(State(console): Shared, path: Named) -> Response {
    answer(
        blocking(move || {
            let name = release_name(path)?;
            let (document, config) = console.load()?;
            let Some((index, release)) = config
                .releases
                .iter()
                .enumerate()
                .find(|(_, r)| r.name == name)
            else {
                return Err(ApiError::not_found(format!("no release named \"{name}\"")));
            };
            let plugin = document
                .plugin_value()
                .map_err(|e| ApiError::internal(e.to_string()))?;
            let raw = plugin
                .get("releases")
                .and_then(|r| r.get(index))
                .and_then(Value::as_object);
            let operators: Vec<Value> = OPERATORS
                .iter()
                .map(|(op, operand)| {
                    json!({"name": op, "operand": operand_name(*operand), "field": operand.field()})
                })
                .collect();
            let tag = etag(&document);
            let value = json!({
                "release": describe::release_view(release),
                "index": index,
                "rule_text": describe::rule(release.canaries.first().rule.as_ref()),
                "rule": raw_rule(raw),
                "canary_rules": canary_rules(raw, release),
                "operators": operators,
                "etag": tag,
            });
            Ok((value, Some(tag)))
        })
        .await,
    )
}

/// GET /api/releases/{name}/metrics: per version, from Envoy's admin.
pub async fn metrics(State(console): Shared, path: Named) -> Response {
    answer(
        blocking(move || {
            let name = release_name(path)?;
            let (_, config) = console.load()?;
            let Some(release) = config.releases.iter().find(|r| r.name == name) else {
                return Err(ApiError::not_found(format!("no release named \"{name}\"")));
            };
            let sample = match (&console.admin, &console.prometheus) {
                (Some(admin), _) => metrics::read(admin, release),
                (None, Some(prometheus)) => prometheus::read(prometheus, release),
                (None, None) => {
                    let value = json!({"release": name, "available": false,
                        "reason": "the console was started without --admin or --prometheus"});
                    return Ok((value, None));
                }
            }
            .map_err(|e| ApiError::new(StatusCode::BAD_GATEWAY, e))?;
            let mut value = json!(sample);
            if let Some(object) = value.as_object_mut() {
                object.insert("available".to_string(), json!(true));
            }
            Ok((value, None))
        })
        .await,
    )
}

/// GET /api/history: every change, newest first.
pub async fn history(State(console): Shared) -> Response {
    answer(
        blocking(move || {
            // Reading the file first records a change from outside.
            let _ = console.load();
            let mut entries = history::read(&console.file).map_err(ApiError::internal)?;
            entries.reverse();
            Ok((json!({ "entries": entries }), None))
        })
        .await,
    )
}

type Parse = fn(&Map<String, Value>) -> Result<(Change, Option<String>), ApiError>;

/// Every write: the body read (size-limited) and parsed, then the one
/// write path.
async fn write(
    console: Arc<Console>,
    path: Named,
    headers: HeaderMap,
    body: Body,
    parse: Parse,
) -> Response {
    let result = async {
        let name = release_name(path)?;
        let too_large = || {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("the request body is over {MAX_BODY} bytes (or was cut off)"),
            )
        };
        let bytes = to_bytes(body, MAX_BODY).await.map_err(|_| too_large())?;
        let (change, canary) = parse(&body::object(&bytes)?)?;
        let if_match = headers
            .get(header::IF_MATCH)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        blocking(move || {
            let (value, tag) = write::apply(
                &console,
                &name,
                if_match.as_deref(),
                canary.as_deref(),
                &change,
            )?;
            Ok((value, Some(tag)))
        })
        .await
    }
    .await;
    answer(result)
}

pub async fn weight(
    State(console): Shared,
    path: Named,
    headers: HeaderMap,
    body: Body,
) -> Response {
    write(console, path, headers, body, body::weight).await
}

pub async fn rule(State(console): Shared, path: Named, headers: HeaderMap, body: Body) -> Response {
    write(console, path, headers, body, |b| {
        Ok((body::rule(b)?, body::canary(b)?))
    })
    .await
}

pub async fn complete(
    State(console): Shared,
    path: Named,
    headers: HeaderMap,
    body: Body,
) -> Response {
    write(console, path, headers, body, |b| {
        Ok((Change::Complete, body::canary(b)?))
    })
    .await
}

pub async fn rollback(
    State(console): Shared,
    path: Named,
    headers: HeaderMap,
    body: Body,
) -> Response {
    write(console, path, headers, body, |b| {
        Ok((Change::Rollback, body::canary(b)?))
    })
    .await
}

pub async fn not_found() -> Response {
    ApiError::not_found("no such page or API route").into_response()
}

pub async fn method_not_allowed() -> Response {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "this route does not take that method",
    )
    .into_response()
}
