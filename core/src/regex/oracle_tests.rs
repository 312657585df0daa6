//! The engine against `regex_lite` as the oracle, on realistic header and
//! path patterns, and on hostile patterns that would take a backtracking
//! engine exponential time. The engine reads bytes as Envoy's RE2 does;
//! regex-lite reads chars, so it is given pattern and value as Latin-1
//! text: each byte the char of the same number.

use super::*;
#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

/// The oracle, anchored for a full match as the engine is, for a value
/// passed through [`latin1`].
pub(super) fn oracle(pattern: &str) -> Result<regex_lite::Regex, regex_lite::Error> {
    regex_lite::Regex::new(&format!("^(?:{})$", latin1(pattern)))
}

/// `text` with each byte as the char of the same number (U+0000-U+00FF).
pub(super) fn latin1(text: &str) -> String {
    text.bytes().map(char::from).collect()
}

/// Patterns in the shape users copy from Envoy and Istio configs.
const PATTERNS: &[&str] = &[
    "/api/v[0-9]+/users/[0-9]+",
    "/api/(v1|v2)/.*",
    r"/static/.*\.(css|js|png)",
    "/pay(/.*)?",
    "/users/[^/]+/orders/[^/]+",
    "[a-f0-9]{8}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{12}",
    "(?i)canary|beta",
    ".*(iPhone|Android).*",
    r"Mozilla/5\.0 .*Chrome/[0-9.]+.*",
    "user-(1|2|3)[0-9]*",
    "[^,]+(,[^,]+)*",
    r"\d{1,3}(\.\d{1,3}){3}",
    "[[:alnum:]_-]+",
    "(?i)^bearer [a-z0-9._~+/-]+=*$",
    r"\w+@\w+\.com",
    r"1\.[2-9](\.[0-9]+)?",
    "(?s).*debug=true.*",
    r"\bfoo\b.*",
    "(gzip|deflate|br)(, (gzip|deflate|br))*",
    r"en(-[A-Z]{2})?(;q=0\.[0-9])?",
    r"[\x20-\x7E]*",
    "(a|ab)(c|bcd)(d*)",
    "x*y?z+",
    "",
    "(?m)^a$\n^b$",
    r"\S+\s\S+",
    "[[:^space:]]*",
    "(?i:ABC)d",
    "(?P<version>v[0-9]+)(?:-(?<tag>[a-z]+))?",
    "a{2,4}?b{0,1}c{3,}",
];

const VALUES: &[&str] = &[
    "",
    "/api/v1/users/42",
    "/api/v2/x",
    "/api/v1/users/",
    "/api/v3/",
    "/static/app.min.js",
    "/static/app.jsx",
    "/pay",
    "/pay/",
    "/payment",
    "/users/7/orders/9",
    "/users//orders/9",
    "123e4567-e89b-12d3-a456-426614174000",
    "123E4567-E89B-12D3-A456-426614174000",
    "Canary",
    "BETA",
    "canary,beta",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0) AppleWebKit",
    "Mozilla/5.0 (X11; Linux) Chrome/120.0.1 Safari",
    "user-1",
    "user-19",
    "user-4",
    "a,b,c",
    "a,,b",
    "10.0.0.1",
    "256.1.1",
    "1.2.3.4.5",
    "my_name-1",
    "Bearer abc.DEF~123==",
    "bearer ",
    "a@b.com",
    "a@b.org",
    "1.5",
    "1.5.3",
    "1.1",
    "x\ndebug=true\ny",
    "foo bar",
    "foobar",
    "gzip, deflate, br",
    "gzip,deflate",
    "en-US;q=0.9",
    "en",
    "en-us",
    "héllo",
    "tab\there",
    "abcd",
    "abcdd",
    "xyzz",
    "z",
    "a\nb",
    "a\nb\n",
    "two words",
    "ABCd",
    "abcd",
    "v12",
    "v12-beta",
    "v12-",
    "aab",
    "aaaaccc",
    "aaccc",
    "bccc",
    "😀",
    "a\u{0}b",
];

#[test]
fn agrees_with_the_oracle_on_realistic_patterns() {
    let mut checked = 0;
    for pattern in PATTERNS {
        let ours = Regex::new(pattern).unwrap_or_else(|e| panic!("{pattern:?}: {e}"));
        let theirs = oracle(pattern).unwrap();
        for value in VALUES {
            assert_eq!(
                ours.is_match(value),
                theirs.is_match(&latin1(value)),
                "{pattern:?} on {value:?}"
            );
            checked += 1;
        }
    }
    assert_eq!(checked, PATTERNS.len() * VALUES.len());
}

#[test]
fn realistic_patterns_do_match_something() {
    // Guards the corpus itself: a pattern that matches no value, or every
    // value, would compare nothing interesting.
    for pattern in PATTERNS.iter().filter(|p| !p.is_empty()) {
        let ours = Regex::new(pattern).unwrap();
        let hits = VALUES.iter().filter(|v| ours.is_match(v)).count();
        assert!(
            hits > 0 && hits < VALUES.len(),
            "{pattern:?} matches {hits}"
        );
    }
}

/// Patterns that make backtracking engines take exponential time, and
/// values of 60 KB that do not match (or only at the very end).
#[test]
fn hostile_patterns_finish() {
    let a = "a".repeat(60_000);
    let x = "x".repeat(60_000);
    let cases: Vec<(&str, String, bool)> = vec![
        ("(a*)*b", a.clone(), false),
        ("(a*)*b", format!("{a}b"), true),
        ("(a|aa)*c", a.clone(), false),
        ("(a|aa)*", a.clone(), true),
        ("(x+x+)+y", x.clone(), false),
        ("(x+x+)+y", format!("{x}y"), true),
        ("(a|a?)+b", a.clone(), false),
        ("(.*a){20}", a.clone(), true),
        ("(?:a?){100}a{100}", a.clone(), false),
        ("(?:a?){100}a{100}", "a".repeat(150), true),
        (r"(\w+\s?)+$", format!("{}!", "word ".repeat(12_000)), false),
        ("(?i)(.*[a-z]+)*@", x.clone(), false),
    ];
    for (pattern, value, want) in cases {
        let ours = Regex::new(pattern).unwrap();
        assert_eq!(
            ours.is_match(&value),
            want,
            "{pattern:?} on {} chars",
            value.len()
        );
    }
}

#[test]
fn hostile_patterns_are_refused_quickly() {
    for pattern in [
        "(a{1000}){1000}",
        "((a{100}){100}){100}",
        "(?:(?:(?:x{1000}){1000}){1000}){1000}",
    ] {
        assert_eq!(
            Regex::new(pattern).unwrap_err().to_string(),
            "compiled program exceeds 10000 instructions"
        );
    }
}

/// Any text as a pattern (within the length limit) is either refused or
/// compiled, and any value then matches or not: no panic.
#[test]
fn garbage_never_panics() {
    let pieces = [
        "(", ")", "[", "]", "{", "}", "\\", "?", "*", "+", "|", "^", "$", "a", "é", "-", ":", "<",
        "P", "x", "1", ",", "i",
    ];
    // Every 3-piece combination, each checked on a few values.
    for first in pieces {
        for second in pieces {
            for third in pieces {
                let pattern = format!("{first}{second}{third}");
                if let Ok(regex) = Regex::new(&pattern) {
                    for value in ["", "a", "aé(", "\n"] {
                        let _ = regex.is_match(value);
                    }
                }
            }
        }
    }
}
