//! The Analysis panel's API: the state of a `canaryctl auto` run on a
//! release (read from its default state path beside FILE), and its gates
//! (promote, abort) through `auto::gates`, the one place a gate is given.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::{json, Value};

use crate::auto::gates::{self, Gate};
use crate::auto::state::{default_path, Control, Phase, State as Run};
use crate::console::api::{answer, blocking, release_name, Named, Shared};
use crate::console::error::ApiError;
use crate::console::state::Console;
use crate::console::write::{etag, if_match_names};

/// The run's state for release `name`, or 404 when it has none.
fn load_run(console: &Console, name: &str) -> Result<(Run, std::path::PathBuf), ApiError> {
    let path = default_path(&console.file, name);
    match Run::load(&path) {
        Ok(Some(state)) => Ok((state, path)),
        Ok(None) => Err(ApiError::not_found(format!(
            "no run of canaryctl auto for release \"{name}\" (no state file {})",
            path.display()
        ))),
        Err(e) => Err(ApiError::internal(e.to_string())),
    }
}

/// The state in the panel's terms: each step with the current one marked.
fn view(state: &Run, control: &Control) -> Value {
    let current = match state.phase {
        Phase::Step { index, .. } => Some(index),
        _ => None,
    };
    let steps: Vec<Value> = state
        .settings
        .steps
        .iter()
        .enumerate()
        .map(|(i, weight)| json!({"index": i, "weight": weight, "current": current == Some(i)}))
        .collect();
    let limits = &state.settings.limits;
    json!({
        "release": state.release,
        "canary": state.canary,
        "phase": state.phase,
        "phase_text": state.phase.describe(),
        "final": state.phase.is_final(),
        "current_step": current,
        "steps": steps,
        "failures": state.failures,
        "failure_limit": state.settings.failure_limit,
        "limits": {
            "min_requests": limits.min_requests,
            "max_error_rate": limits.max_error_rate,
            "max_p99_ms": limits.max_p99_ms,
        },
        "manual_promotion": state.settings.manual_promotion,
        "started_unix_ms": state.started_unix_ms,
        "deadline_unix_ms": state.deadline_unix_ms,
        "control": control,
        // The canary's last judged interval (null before the first).
        "measurements": state.last_measurement,
    })
}

/// GET /api/releases/{name}/analysis.
pub async fn analysis(State(console): Shared, path: Named) -> Response {
    answer(
        blocking(move || {
            let name = release_name(path)?;
            let (state, path) = load_run(&console, &name)?;
            let control = Control::load(&path).map_err(|e| ApiError::internal(e.to_string()))?;
            Ok((view(&state, &control), None))
        })
        .await,
    )
}

/// A gate, behind the same If-Match as every write (the guard has already
/// checked the token, Origin and content type).
async fn gate(console: Arc<Console>, path: Named, headers: HeaderMap, gate: Gate) -> Response {
    let if_match = headers
        .get(header::IF_MATCH)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    answer(
        blocking(move || {
            let name = release_name(path)?;
            let one_at_a_time = console.write_lock();
            let (document, _) = console.load_for_write(&one_at_a_time)?;
            let current = etag(&document);
            let Some(if_match) = if_match else {
                return Err(ApiError::new(
                    StatusCode::PRECONDITION_REQUIRED,
                    "a gate needs If-Match with the ETag of GET /api/releases/{name}",
                )
                .with("etag", json!(current)));
            };
            if !if_match_names(&if_match, &current) {
                return Err(ApiError::new(
                    StatusCode::PRECONDITION_FAILED,
                    "the file changed since it was read; nothing done: reload and try again",
                )
                .with("etag", json!(current)));
            }
            let (_, state_path) = load_run(&console, &name)?;
            let mut said = Vec::new();
            gates::run(gate, &console.file, console.kind, &name, None, &mut said)
                .map_err(|e| ApiError::new(StatusCode::CONFLICT, e.to_string()))?;
            let (after, _) = console.load_for_write(&one_at_a_time)?;
            let (state, _) = load_run(&console, &name)?;
            let control =
                Control::load(&state_path).map_err(|e| ApiError::internal(e.to_string()))?;
            let tag = etag(&after);
            let value = json!({
                "text": String::from_utf8_lossy(&said).trim_end(),
                "analysis": view(&state, &control),
                "etag": tag,
            });
            Ok((value, Some(tag)))
        })
        .await,
    )
}

/// POST /api/releases/{name}/promote.
pub async fn promote(State(console): Shared, path: Named, headers: HeaderMap) -> Response {
    gate(console, path, headers, Gate::Promote).await
}

/// POST /api/releases/{name}/abort: rolls the release back at once.
pub async fn abort(State(console): Shared, path: Named, headers: HeaderMap) -> Response {
    gate(console, path, headers, Gate::Abort).await
}
