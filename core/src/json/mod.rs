//! Hand-written (not serde_json) to keep the filter within its wasm size budget: serde_json's `Value` machinery cost ~23 KB.
//!
//! A strict RFC 8259 reader into [`Json`], enough for the plugin config and
//! for numbers in header values. Messages and positions follow serde_json's,
//! which the config's errors were built on.

mod decimal;
mod parse;
#[cfg(test)]
mod tests;

use std::fmt;

pub(crate) use parse::{number, parse};

/// Nesting deeper than this is refused, as serde_json did: the 128th open
/// bracket or brace is the error.
pub(crate) const MAX_DEPTH: usize = 128;

/// A JSON value.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Json {
    Null,
    Bool(bool),
    Number(Number),
    String(String),
    Array(Vec<Json>),
    /// In document order, duplicates kept: the config reader takes the last,
    /// as serde_json's map did.
    Object(Vec<(String, Json)>),
}

/// A finite JSON number: its literal text (so decimals can be judged from
/// what was written) and its value.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Number {
    text: String,
    value: f64,
}

impl Number {
    pub(crate) fn as_f64(&self) -> f64 {
        self.value
    }
}

impl fmt::Display for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// Why a document is not JSON, and where (1-based line, column in bytes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct JsonError {
    pub(crate) message: &'static str,
    pub(crate) line: usize,
    pub(crate) column: usize,
}

impl fmt::Display for JsonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} at line {} column {}",
            self.message, self.line, self.column
        )
    }
}
