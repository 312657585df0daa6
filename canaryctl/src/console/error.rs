//! The console's error answers: a status and a JSON body
//! `{"error": message, ...}`, never a panic or a bare text page.

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Map, Value};

use crate::error::CliError;

#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub body: Map<String, Value>,
}

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        let mut body = Map::new();
        body.insert("error".to_string(), json!(message.into()));
        ApiError { status, body }
    }

    /// Adds `key: value` to the body.
    pub fn with(mut self, key: &str, value: Value) -> Self {
        self.body.insert(key.to_string(), value);
        self
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, message)
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, message)
    }

    /// A config the core refuses: 422 with its message and, when it names
    /// one, the field (`releases[0].conditions[1].value`).
    pub fn invalid(file_prefix: &str, error: &CliError) -> Self {
        let text = error.to_string();
        let (field, message) = split_field(text.strip_prefix(file_prefix).unwrap_or(&text));
        let mut answer = Self::new(StatusCode::UNPROCESSABLE_ENTITY, text.clone())
            .with("message", json!(message));
        if let Some(field) = field {
            answer = answer.with("field", json!(field));
        }
        answer
    }

    /// A bad value in the request body itself (not the config): 422 naming
    /// the body's field.
    pub fn bad_field(field: &str, message: impl Into<String>) -> Self {
        let message = message.into();
        Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("{field}: {message}"),
        )
        .with("message", json!(message))
        .with("field", json!(field))
    }
}

/// `releases[0].weight: must be ...` → (`releases[0].weight`, `must be ...`).
/// The core's [`canary_core::ConfigError`] has reached here as text (through
/// [`CliError`]), so the path is read back from its `path: message` shape.
fn split_field(text: &str) -> (Option<&str>, &str) {
    let is_path = |p: &str| {
        !p.is_empty()
            && p.starts_with(|c: char| c.is_ascii_alphabetic())
            && p.chars()
                .all(|c| c.is_ascii_alphanumeric() || "_[].-".contains(c))
    };
    match text.split_once(": ") {
        Some((path, message)) if is_path(path) => (Some(path), message),
        _ => (None, text),
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (
            self.status,
            [(header::CONTENT_TYPE, "application/json")],
            Value::Object(self.body).to_string(),
        )
            .into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_paths_are_read_back() {
        assert_eq!(
            split_field("releases[0].conditions[1].value: bad regex"),
            (Some("releases[0].conditions[1].value"), "bad regex")
        );
        assert_eq!(
            split_field("no release named \"x\": y"),
            (None, "no release named \"x\": y")
        );
        let error = CliError::new("/tmp/f.json: releases[0].weight: must be at most 100");
        let answer = ApiError::invalid("/tmp/f.json: ", &error);
        assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(answer.body["field"], "releases[0].weight");
        assert_eq!(answer.body["message"], "must be at most 100");
    }
}
