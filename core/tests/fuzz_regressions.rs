//! Inputs the fuzzers (fuzz/) turned up, minimized and replayed here so the
//! answers they settled stay settled.
//!
//! The regex target compares the filter's engine with regex-lite. Where the
//! two disagreed, regex-lite had departed from RE2 (the syntax Envoy and
//! Istio use, which the filter follows); these pin RE2's reading.

#![allow(clippy::panic)] // A test file: a failed expectation panics.

use canary_core::{Config, Regex};
#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

fn matches(pattern: &str, value: &str) -> bool {
    Regex::new(pattern)
        .unwrap_or_else(|e| panic!("{pattern:?} refused: {e}"))
        .is_match(value)
}

#[test]
fn a_brace_that_is_no_repetition_is_literal_text() {
    // regex-lite reads `a{2 }` as `aa`.
    assert!(matches("a{2 }F", "a{2 }F"));
    assert!(!matches("a{2 }F", "aaF"));
}

#[test]
fn escaped_angle_brackets_are_literals_not_word_boundaries() {
    // regex-lite reads `\<` as the start of a word.
    assert!(!matches(r"\<ze", "ze"));
    assert!(matches(r"\<ze", "<ze"));
}

#[test]
fn a_class_may_open_with_a_range_from_its_closing_bracket() {
    // `[^]-c]` is "not ] to c"; regex-lite reads `]`, `-`, `c`.
    assert!(!matches("^(?:\\x{e9}u|[^]-c])+$", "\u{e9}a.bz"));
    assert!(matches("[^]-c]+", "xyz"));
    // `[--x]` is the range `-` to `x`, not a set difference.
    assert!(matches("[--\u{fffd}k\u{fffd},c\u{a9}]", "?"));
}

#[test]
fn perl_space_leaves_out_the_vertical_tab() {
    // RE2's `\s` is `[\t\n\f\r ]`; regex-lite's takes \v too.
    assert!(matches(r"\S", "\u{b}"));
    assert!(!matches(r"\s", "\u{b}"));
}

#[test]
fn a_regex_cannot_escape_its_anchoring() {
    // The regex-lite era wrapped patterns as `^(?:P)$`, so `test)|(.*` was
    // accepted and matched every value. The engine parses the pattern alone.
    let json = r#"{"releases":[{"name":"pay","header":"x","baseline":"a","canary":"b",
        "conditions":[{"header":"env","op":"regex","value":"test)|(.*"}]}]}"#;
    let error = Config::from_json(json.as_bytes())
        .err()
        .map(|e| e.to_string());
    assert_eq!(
        error.as_deref(),
        Some("releases[0].conditions[0].value: invalid regex \"test)|(.*\": unmatched ')' at offset 4")
    );
}
