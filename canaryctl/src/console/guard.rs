//! Checks every request passes before a handler sees it: the `Host` is the
//! console's own (no DNS rebinding), the bearer token when one is set, and
//! for writes a JSON content type and no sign of another site (`Origin`,
//! `Sec-Fetch-Site`). Also sets the headers that keep the page out of
//! frames and off other sites' scripts.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::console::error::ApiError;
use crate::console::state::Console;

fn text<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// Whether a write says it comes from a page on another site.
pub fn cross_site(origin: Option<&str>, fetch_site: Option<&str>, host: Option<&str>) -> bool {
    if fetch_site
        .is_some_and(|s| !s.eq_ignore_ascii_case("same-origin") && !s.eq_ignore_ascii_case("none"))
    {
        return true;
    }
    match (origin, host) {
        (None, _) => false,
        (Some(origin), Some(host)) => {
            let own = [format!("http://{host}"), format!("https://{host}")];
            !own.iter().any(|o| o.eq_ignore_ascii_case(origin))
        }
        (Some(_), None) => true,
    }
}

/// `application/json`, with or without parameters.
pub fn is_json(content_type: Option<&str>) -> bool {
    content_type
        .and_then(|c| c.split(';').next())
        .is_some_and(|c| c.trim().eq_ignore_ascii_case("application/json"))
}

fn check(
    console: &Console,
    method: &Method,
    path: &str,
    headers: &HeaderMap,
) -> Result<(), ApiError> {
    let host = text(headers, "host");
    if !console.allowed_hosts.is_empty()
        && !host.is_some_and(|h| {
            console
                .allowed_hosts
                .iter()
                .any(|a| a.eq_ignore_ascii_case(h))
        })
    {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            format!(
                "Host {} is not this console's address (use {})",
                host.unwrap_or("(none)"),
                console.allowed_hosts.join(" or ")
            ),
        ));
    }
    if path.starts_with("/api/") && console.needs_token() {
        let given = headers
            .get(header::AUTHORIZATION)
            .map(HeaderValue::as_bytes)
            .and_then(|v| v.strip_prefix(b"Bearer "));
        if !given.is_some_and(|t| console.token_matches(t)) {
            return Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                "this console needs its token: Authorization: Bearer <token>",
            ));
        }
    }
    let writes = !matches!(*method, Method::GET | Method::HEAD);
    if writes {
        let origin = text(headers, "origin");
        if cross_site(origin, text(headers, "sec-fetch-site"), host) {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                format!(
                    "a write from another site ({}) is refused",
                    origin.unwrap_or("Sec-Fetch-Site")
                ),
            ));
        }
        let has_body = matches!(*method, Method::PUT | Method::POST | Method::PATCH);
        if has_body && !is_json(text(headers, "content-type")) {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "a write needs Content-Type: application/json",
            ));
        }
    }
    Ok(())
}

pub async fn guard(State(console): State<Arc<Console>>, request: Request, next: Next) -> Response {
    let checked = check(
        &console,
        request.method(),
        request.uri().path(),
        request.headers(),
    );
    let mut response = match checked {
        Ok(()) => next.run(request).await,
        Err(error) => {
            let unauthorized = error.status == StatusCode::UNAUTHORIZED;
            let mut response = error.into_response();
            if unauthorized {
                response
                    .headers_mut()
                    .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            }
            response
        }
    };
    let headers = response.headers_mut();
    for (name, value) in [
        ("x-content-type-options", "nosniff"),
        ("x-frame-options", "DENY"),
        (
            "content-security-policy",
            "default-src 'self'; frame-ancestors 'none'",
        ),
        ("referrer-policy", "no-referrer"),
        ("cache-control", "no-store"),
    ] {
        headers.insert(name, HeaderValue::from_static(value));
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn other_sites_are_told_apart() {
        let host = Some("127.0.0.1:8080");
        assert!(!cross_site(None, None, host));
        assert!(!cross_site(
            Some("http://127.0.0.1:8080"),
            Some("same-origin"),
            host
        ));
        assert!(cross_site(Some("http://evil.test"), None, host));
        assert!(cross_site(Some("null"), None, host));
        assert!(cross_site(None, Some("cross-site"), host));
        assert!(cross_site(None, Some("same-site"), host));
        assert!(!cross_site(None, Some("none"), host));
    }

    #[test]
    fn json_content_types() {
        assert!(is_json(Some("application/json")));
        assert!(is_json(Some("Application/JSON; charset=utf-8")));
        assert!(!is_json(Some("text/plain")));
        assert!(!is_json(None));
    }
}
