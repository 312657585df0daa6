//! Checks of values that both phase-two modules take: header and cookie
//! names, and regexes.

use super::error::{ConfigError, Result};
use super::limits::MAX_REGEX_LEN;
use crate::regex::Regex;

/// Headers whose overwriting would break the request rather than route it.
pub(super) const RESERVED_HEADERS: [&str; 8] = [
    "host",
    "cookie",
    "content-length",
    "content-type",
    "transfer-encoding",
    "connection",
    "te",
    "upgrade",
];

fn is_token_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c)
}

/// A valid HTTP header name (RFC 9110 token), lower-cased.
pub(super) fn header_name(name: &str, at: &str) -> Result<String> {
    if name.is_empty() || !name.chars().all(is_token_char) {
        return Err(ConfigError::new(
            at,
            format!("\"{name}\" is not a valid HTTP header name"),
        ));
    }
    Ok(name.to_ascii_lowercase())
}

pub(super) fn compile_regex(pattern: &str, at: &str) -> Result<Regex> {
    if pattern.len() > MAX_REGEX_LEN {
        return Err(ConfigError::new(
            at,
            format!(
                "regex is {} bytes; the limit is {MAX_REGEX_LEN}",
                pattern.len()
            ),
        ));
    }
    // A full match of the whole value, as in Envoy and Istio.
    Regex::new(pattern)
        .map_err(|e| ConfigError::new(at, format!("invalid regex \"{pattern}\": {e}")))
}

pub(super) fn cookie_name(name: String, at: &str) -> Result<String> {
    if name.is_empty() || !name.chars().all(is_token_char) {
        return Err(ConfigError::new(
            at,
            format!("\"{name}\" is not a valid cookie name"),
        ));
    }
    Ok(name)
}
