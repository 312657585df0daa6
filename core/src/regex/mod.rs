//! A small, linear-time regex engine for config patterns (RE2 syntax, as in
//! Envoy's `safe_regex` and Istio), matched against request values. Hand-
//! written: no crate matches as Envoy's RE2 does (bytes) within the
//! module's size budget.
//!
//! It reads pattern and value as Envoy 1.40's `safe_regex` does (checked
//! against a real Envoy by tests/regex_envoy.rs): byte by byte, each byte
//! one character (RE2's Latin-1 mode). So `.` and `[^x]` take one byte, a
//! non-ASCII character in a pattern is its UTF-8 bytes in a row (`é+`
//! repeats the last byte; write `(?:é)+`), `\xHH` and octal `\141` name
//! one byte, and `(?i)` folds ASCII letters only.
//!
//! A [`Regex`] always matches the WHOLE value. Matching is a Pike VM over a
//! Thompson NFA: no backtracking, so time is O(value bytes × program size)
//! for every pattern. Compile cost is bounded by the limits below. What RE2
//! refuses (backreferences, lookaround) and what this engine leaves out
//! (Unicode classes, `\C`, a non-ASCII letter under `(?i)`) are refused
//! with a message; `\x{100}` and beyond, which RE2 refuses, is taken as the
//! character's UTF-8 bytes (a route cannot hold it, so nothing disagrees).
//!
//! Supported: literals, `.`, `[...]` with ranges, `[^...]` and `[[:alpha:]]`,
//! `\d \D \w \W \s \S` (ASCII), `\b \B \A \z ^ $`, escapes `\t \n \r \f \v
//! \a \xHH \x{H..} \0 \141` and `\Q...\E`, groups `(...)`, `(?:...)`,
//! `(?P<n>...)`, `(?<n>...)`, flags `i m s U` as `(?i)` or `(?i:...)`, `|`,
//! and `* + ? {n} {n,} {n,m}` with their lazy forms.

use std::fmt;

mod ast;
mod bitset;
mod class;
mod compile;
mod escape;
mod group;
mod parse;
mod vm;

#[cfg(test)]
mod oracle_tests;
#[cfg(all(test, not(target_arch = "wasm32")))]
mod prop_tests;
#[cfg(test)]
mod syntax_tests;

/// Longest pattern accepted, in bytes.
pub const MAX_PATTERN_BYTES: usize = 1024;
/// Largest count in `{n,m}` (RE2's limit too).
pub const MAX_REPEAT: u32 = 1000;
/// Deepest group nesting.
pub const MAX_NESTING: usize = 32;
/// Largest compiled program; matching costs up to this much per byte.
pub const MAX_INSTRUCTIONS: usize = 10_000;

/// A compiled pattern that matches whole values.
#[derive(Clone)]
pub struct Regex {
    pattern: String,
    program: compile::Program,
    /// The faster path, for the small programs it takes.
    bits: Option<bitset::BitProgram>,
}

impl Regex {
    pub fn new(pattern: &str) -> Result<Regex, RegexError> {
        if pattern.len() > MAX_PATTERN_BYTES {
            return Err(RegexError::new(format!(
                "pattern is {} bytes; the limit is {MAX_PATTERN_BYTES}",
                pattern.len()
            )));
        }
        let program = compile::compile(parse::parse(pattern)?)?;
        Ok(Regex {
            pattern: pattern.to_string(),
            bits: bitset::BitProgram::new(&program),
            program,
        })
    }

    /// Whether the pattern matches all of `value` (a full match, as in
    /// Envoy and Istio; `^` and `$` at the ends are allowed but redundant).
    /// Matched byte by byte, as Envoy matches (see the module doc).
    pub fn is_match(&self, value: &str) -> bool {
        let value = value.as_bytes();
        self.bits
            .as_ref()
            .and_then(|bits| bits.full_match(&self.program, value))
            .unwrap_or_else(|| vm::full_match(&self.program, value))
    }

    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        &self.pattern
    }
}

impl fmt::Debug for Regex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Regex").field(&self.pattern).finish()
    }
}

/// Why a pattern was refused; the message names the place when there is one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegexError {
    message: String,
}

impl RegexError {
    fn new(message: impl Into<String>) -> RegexError {
        RegexError {
            message: message.into(),
        }
    }

    /// A message about the pattern text at byte offset `at`.
    fn at(message: impl fmt::Display, at: usize) -> RegexError {
        RegexError::new(format!("{message} at offset {at}"))
    }

    /// Adds what to do instead.
    fn hint(mut self, hint: &str) -> RegexError {
        self.message.push_str("; ");
        self.message.push_str(hint);
        self
    }
}

impl fmt::Display for RegexError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for RegexError {}
