//! The console's one write path, the CLI's sequence behind `If-Match`:
//! read FILE, compare its content hash with the ETag the browser read (412
//! if stale), plan with the library (422 with the core's message), watch
//! Envoy's counters, commit (compare-and-swap again, 412 if another writer
//! came in between), record the history, wait for Envoy's verdict.

use std::time::Duration;

use axum::http::StatusCode;
use serde_json::{json, Value};

use crate::applied::{self, Verdict};
use crate::console::error::ApiError;
use crate::console::state::Console;
use crate::document::Document;
use crate::edit::{self, Change};
use crate::error::CliError;
use crate::history::{self, Source};
use crate::versions;

/// How long a write waits for Envoy's verdict before it answers anyway.
const VERDICT_WAIT: Duration = Duration::from_secs(10);

/// A document's ETag: its content hash, quoted.
pub fn etag(document: &Document) -> String {
    format!("\"{}\"", history::hex(document.hash()))
}

/// Whether `if_match` names `etag` (one tag or a list; weak tags compare
/// by their value).
pub fn if_match_names(if_match: &str, etag: &str) -> bool {
    if_match
        .split(',')
        .map(|t| t.trim().trim_start_matches("W/"))
        .any(|t| t == etag)
}

/// Does `change` to release `name` of the console's FILE, if the file is
/// still the one with ETag `if_match`; the JSON answer of the write.
pub fn apply(
    console: &Console,
    name: &str,
    if_match: Option<&str>,
    canary: Option<&str>,
    change: &Change,
) -> Result<(Value, String), ApiError> {
    let one_at_a_time = console.write_lock();
    let (document, config) = console.load_for_write(&one_at_a_time)?;
    let Some(release) = config.releases.iter().find(|r| r.name == name) else {
        return Err(ApiError::not_found(format!("no release named \"{name}\"")));
    };
    let current = etag(&document);
    let Some(if_match) = if_match else {
        return Err(ApiError::new(
            StatusCode::PRECONDITION_REQUIRED,
            "a write needs If-Match with the ETag of GET /api/releases/{name}",
        )
        .with("etag", json!(current)));
    };
    if !if_match_names(if_match, &current) {
        return Err(stale(&current));
    }
    // A rollback with no canary named is the whole release's (every
    // canary at 0%, rules cleared); any other write on a release of
    // several canaries names one.
    let selected = match (canary, change) {
        (None, Change::Rollback) => None,
        _ => {
            versions::on_canary_of(release, canary).map_err(|e| ApiError::bad_field("canary", e))?
        }
    };
    let on_canary;
    let change = match selected {
        Some(value) => {
            on_canary = Change::OnCanary {
                canary: value,
                change: Box::new(change.clone()),
            };
            &on_canary
        }
        None => change,
    };
    let edit = edit::plan(&document, name, change)
        .map_err(|e| ApiError::invalid(&console.file_prefix(), &e))?;
    let filter = document.ecds_filter();
    let watch = match (&console.admin, &filter) {
        (Some(admin), Some(filter)) if edit.new_text().is_some() => {
            Some(applied::Watch::begin(admin, &filter.name))
        }
        _ => None,
    };
    edit.commit().map_err(|e| match e {
        CliError::Changed(_) => stale(
            &Document::load(&console.file, console.kind)
                .map(|d| etag(&d))
                .unwrap_or_default(),
        ),
        other => ApiError::internal(other.to_string()),
    })?;
    let after = match edit.new_text() {
        Some(text) => {
            Document::from_bytes(&console.file, text.as_bytes().to_vec(), Some(document.kind))
                .map_err(|e| ApiError::internal(e.to_string()))?
        }
        None => document.clone(),
    };
    if edit.new_text().is_some() {
        // A history that cannot be written does not undo the edit.
        let _ = history::append(&console.file, &edit.history_entry(Source::Console));
        console.wrote(&after);
    }
    let envoy = match (watch, &console.admin) {
        (None, _) | (_, None) => json!(null),
        (Some(Err(e)), _) => json!({"verdict": null, "message": e.to_string()}),
        (Some(Ok(watch)), Some(admin)) => match watch.wait(edit.filter_changes(), VERDICT_WAIT) {
            Ok(Verdict::Applied) => json!({
                "verdict": "applied",
                "message": applied::applied_line(watch.filter(), admin),
            }),
            Ok(Verdict::Refused) => json!({
                "verdict": "refused",
                "message": applied::refused_line(watch.filter(), admin),
            }),
            Err(e) => json!({"verdict": null, "message": e.to_string()}),
        },
    };
    let new_etag = etag(&after);
    let answer = json!({
        "release": name,
        "report": edit.report,
        "text": edit.report.to_text(),
        "etag": new_etag,
        "envoy": envoy,
    });
    Ok((answer, new_etag))
}

fn stale(current: &str) -> ApiError {
    ApiError::new(
        StatusCode::PRECONDITION_FAILED,
        "the file changed since it was read (another browser or canaryctl?); nothing written: reload and try again",
    )
    .with("etag", json!(current))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn if_match_forms() {
        assert!(if_match_names("\"ab\"", "\"ab\""));
        assert!(if_match_names("W/\"ab\", \"cd\"", "\"ab\""));
        assert!(!if_match_names("\"ab\"", "\"abc\""));
        assert!(!if_match_names("*", "\"ab\""));
    }
}
