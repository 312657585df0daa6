//! The `regex` operator against Envoy's own RE2, differentially: every
//! corpus pattern is both an Envoy route's `safe_regex` header matcher and a
//! canary rule, in one Envoy, and every corpus value must get the same
//! answer from both. Envoy's matcher reads pattern and value as bytes (each
//! byte one character, RE2's Latin-1 mode): `.` is one byte, `é` in a
//! pattern is two literals, `(?i)` folds ASCII only. Where the two differ
//! on whether a pattern is valid, the patterns are listed here and in the
//! README: the filter's refusals (which Envoy must accept), patterns Envoy
//! refuses (which the filter must refuse too), and the few the filter
//! accepts although Envoy refuses them.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use crate::support;

use canary_core::Regex;
use support::regex_routes::{envoy_accepts, RegexRoutes};

/// Patterns both accept: classes, anchors, boundaries, repetition, case
/// folding, escapes, octal, and non-ASCII literals.
const PATTERNS: &[&str] = &[
    // literals and dots
    "a",
    "abc",
    "a.c",
    ".",
    "..",
    "...",
    "^...$",
    ".........",
    ".{3}",
    ".{9}",
    ".*",
    ".+",
    "(?s).*",
    "a.*",
    "日本語",
    "日本語.*",
    "日+",
    "(?:日)+",
    "é",
    "é+",
    "(?:é)+",
    "caf.",
    "caf..",
    "a日b",
    "€",
    "😀",
    ".😀",
    "\\Q日\\E+",
    // classes
    "[abc]+",
    "[a-c]+",
    "[^x]",
    "[^x]+",
    "[^x]{3}",
    "[^a]*",
    "[]a]+",
    "[^]a]+",
    "[-a]+",
    "[a-]+",
    "[a-c-e]+",
    "[日]",
    "[日]+",
    "[^日]+",
    "[é]",
    "[é]{2}",
    "[^é]",
    "[a-é]+",
    "[à-ÿ]+",
    "[\\x80-\\xFF]+",
    "[^\\x00-\\x7F]+",
    "[\\x{80}-\\x{BF}]",
    "[[:alpha:]]+",
    "[[:^alpha:]]+",
    "[[:alnum:]_-]+",
    "[[:punct:]]+",
    "[[:space:]]",
    "[[:upper:][:digit:]]+",
    "[[:word:]]+",
    "[[:print:]]+",
    "[[:graph:]]+",
    "[[:ascii:]]+",
    "[[:^ascii:]]+",
    "[\\d-z]+",
    "[\\w.]+",
    "[^\\w]+",
    "\\d+",
    "\\D+",
    "\\w+",
    "\\W+",
    "\\s",
    "\\S+",
    "\\S+\\s\\S+",
    "a\\tb",
    "a\\sb",
    // anchors and boundaries
    "^$",
    "^a",
    "a$",
    "^abc$",
    "a$b",
    "\\Aabc\\z",
    "(?m)^abc$",
    "\\bab\\b",
    "\\bab",
    "a\\b",
    "a\\B.",
    "\\B",
    ".\\b.*",
    "\\b.*\\b",
    "é\\b",
    "\\bé",
    "\\B日\\B",
    "(^a|b)c?",
    // repetition
    "a*",
    "a+",
    "a?",
    "a{3}",
    "a{2,}",
    "a{1,2}",
    "a{0}b?",
    "a*?",
    "a+?b??",
    "(?U)a+",
    "(a|ab)(c|bcd)?",
    "(a*)*",
    "(?:ab)+",
    "(?:[ab]c?)*",
    "a{,2}",
    "a{x}",
    "{",
    "a{",
    "x*y?z+",
    "a|b|",
    "(|a)+",
    // case folding
    "(?i)abc",
    "(?i)ABC",
    "(?i)[a-c]+",
    "(?i)[^a]+",
    "(?i)[[:upper:]]+",
    "(?i:a)b",
    "((?i)a)b",
    "(?i)a(?-i)b",
    "(?i)k",
    "(?i)s",
    "(?i)\\xC3\\xA9",
    "(?i)\\xC3.",
    "(?i)\\xE3..",
    "(?i)[\\xC0-\\xDE].",
    "(?i)[^\\xC3].*",
    "(?i)[\\xE0-\\xFE]..",
    "(?i)日本語",
    "(?i)a日",
    "(?i).",
    "(?i)\\xC3\\xA9.",
    "(?i)\\xE3.",
    "(?i)[\\xC3\\xE3]\\xA9.?",
    "(?s)[^a]",
    "(?m)^.$",
    "[^[:ascii:]]{2}",
    "\\S+é",
    "é\\B",
    // escapes
    "\\x{C3}\\x{A9}",
    "a\\x{20}b",
    "\\x41",
    "\\x{41}",
    "\\x61+",
    "\\xC3\\xA9",
    "\\xE9",
    "\\x{E9}",
    "\\xFF",
    "\\x{FF}",
    "\\xE6\\x97\\xA5.*",
    "\\.",
    "a\\.b",
    "\\Qa.b\\E",
    "\\Q.*\\E.*",
    "\\_",
    "\\%",
    "\\-",
    "\\/",
    "\\ ",
    "a\\ b",
    "\\t",
    "[\\t ]",
    "[\\]\\\\\\-]+",
    // octal
    "\\141",
    "\\141+",
    "\\060",
    "\\0601",
    "\\101\\102\\103",
    "\\12",
    "\\141\\142c",
    "\\0141",
    "\\303\\251",
    "\\351",
    "\\377",
    "[\\141-\\143]+",
    "[\\060-\\071]+",
    "[^\\141]",
    "(?i)\\141",
    "\\0",
    "a\\0?",
    "\\00b?",
    // groups
    "(ab)+",
    "(?:ab)?c",
    "(?P<v>v[0-9]+)",
    "(?<v>a)b?",
    "GET|POST",
    "a(|b)c",
    "((a)|b)+",
];

/// Values, all valid UTF-8 (a value that is not satisfies only `present`,
/// for every operator), none with a control character but tab (HTTP), none
/// with surrounding space (HTTP trims it).
const VALUES: &[&str] = &[
    "",
    "a",
    "A",
    "b",
    "c",
    "ab",
    "aB",
    "AB",
    "abc",
    "ABC",
    "aBc",
    "aaa",
    "aab",
    "ac",
    "abcd",
    "abbc",
    "xyz",
    "xz",
    "x",
    "0",
    "09",
    "a1_",
    "a-b",
    "a b",
    "a\tb",
    "a.b",
    "a.c",
    "]a]",
    "{",
    "a{x}",
    "a{,2}",
    "/api/v1",
    "v12",
    "GET",
    "K",
    "k",
    "S",
    "s",
    "%_-/",
    "é",
    "É",
    "ée",
    "éé",
    "e\u{301}",
    "café",
    "cafe",
    "CAFÉ",
    "ã",
    "Ã",
    "\u{3A40}",
    "日",
    "本",
    "日日",
    "日本語",
    "日本語!",
    "a日b",
    "ñ",
    "Ñ",
    "ß",
    "ÿ",
    "µ",
    "€",
    "😀",
    "a😀",
    "\u{212A}",
    "\u{17F}",
    "Ωmega",
    "\u{80}",
    "\u{FF}",
    "\u{10FFFF}",
];

/// Patterns Envoy accepts that the filter refuses, each with why: what the
/// README documents. Envoy routes them (so it accepts them); the filter
/// must refuse each.
const REFUSED_BY_THE_FILTER: &[(&str, &str)] = &[
    ("\\pL", "Unicode classes"),
    ("\\p{Greek}", "Unicode classes"),
    ("\\PL", "Unicode classes"),
    ("[\\pN]", "Unicode classes"),
    ("\\C", "\\C (any byte)"),
    ("(?i)é", "case-insensitive non-ASCII letter"),
    ("(?i)café", "case-insensitive non-ASCII letter"),
    ("(?i)[É]", "case-insensitive non-ASCII letter"),
    ("(?i)[a-é]", "case-insensitive class range beyond ASCII"),
    (
        "a{1000}b{1000}c{1000}d{1000}e{1000}f{1000}g{1000}h{1000}i{1000}j{1000}k{1000}",
        "compiled program exceeds",
    ),
];

/// Patterns Envoy refuses; the filter must refuse them too.
const REFUSED_BY_ENVOY: &[&str] = &[
    "[\\x{100}-\\x{200}]",
    "[\\x{263A}]",
    "(a{1000}){1000}",
    "\\1",
    "(a)\\1",
    "\\8",
    "\\400",
    "\\777",
    "\\Z",
    "\\é",
    "[é-a]",
    "\\e",
    "(?x)a",
    "(?=a)",
    "a**",
    "a{1001}",
    "[\\b]",
    "[a-\\d]",
    "(?P=n)",
    "(a",
    "a)",
    "[a",
];

#[test]
fn the_regex_operator_agrees_with_envoys_safe_regex() {
    let mut routed: Vec<&str> = PATTERNS.to_vec();
    let mut filtered: Vec<Option<&str>> = Vec::new();
    for pattern in PATTERNS {
        if let Err(e) = Regex::new(pattern) {
            panic!("the filter refuses corpus pattern {pattern:?}: {e}");
        }
        filtered.push(Some(pattern));
    }
    // One byte past the documented limit of 1,024, too long to write out.
    let longest = "a".repeat(1025);
    let refused = REFUSED_BY_THE_FILTER
        .iter()
        .copied()
        .chain([(longest.as_str(), "the limit is 1024")]);
    for (pattern, why) in refused {
        match Regex::new(pattern) {
            Ok(_) => panic!("the filter accepts {pattern:?}, documented as refused ({why})"),
            Err(e) => assert!(
                e.to_string().contains(why),
                "{pattern:?} refused for another reason: {e}"
            ),
        }
        routed.push(pattern);
        filtered.push(None);
    }
    // Envoy starting proves it accepts every routed pattern.
    let mut envoy = RegexRoutes::start(&routed, &filtered);
    let mut disagreements = Vec::new();
    let (mut asked, mut envoy_matched) = (0usize, 0usize);
    for (index, pattern) in PATTERNS.iter().enumerate() {
        for value in VALUES {
            let verdicts = envoy.ask(index, value);
            asked += 1;
            envoy_matched += usize::from(verdicts.envoy);
            if verdicts.envoy != verdicts.filter {
                disagreements.push(format!(
                    "{pattern:?} on {value:?}: Envoy {}, filter {}",
                    verdicts.envoy, verdicts.filter
                ));
            }
        }
    }
    eprintln!(
        "regex corpus: {} patterns x {} values = {asked} pairs, {} agree, Envoy matched {envoy_matched}",
        PATTERNS.len(),
        VALUES.len(),
        asked - disagreements.len()
    );
    assert!(
        disagreements.is_empty(),
        "{} of {asked} disagree:\n{}",
        disagreements.len(),
        disagreements.join("\n")
    );
    // The corpus compares something: neither side matches all or nothing.
    assert!(envoy_matched * 10 > asked && envoy_matched * 10 < asked * 9);
}

/// Patterns Envoy refuses that the filter accepts, each harmless where
/// Envoy would refuse the route: the empty pattern (Envoy's config
/// validation wants a character; here it matches the empty value), `\x{..}`
/// beyond `\xFF` (RE2's Latin-1 mode refuses it; here it is the char's
/// UTF-8 bytes, like the char written in the pattern, and ends a class
/// range at `\xFF`), and nested counts whose product passes 1,000 (RE2's
/// limit; here only the 10,000-instruction bound applies).
const ACCEPTED_BY_THE_FILTER_ONLY: &[&str] = &[
    "",
    "\\x{100}",
    "\\x{263A}",
    "\\x{10FFFF}",
    "[\\x00-\\x{10FFFF}]",
    "(?:a{100}){11}",
];

#[test]
fn patterns_envoy_refuses_are_refused_by_the_filter() {
    for pattern in REFUSED_BY_ENVOY {
        assert!(!envoy_accepts(pattern), "Envoy accepts {pattern:?}");
        assert!(
            Regex::new(pattern).is_err(),
            "the filter accepts {pattern:?}, which Envoy refuses"
        );
    }
    for pattern in ACCEPTED_BY_THE_FILTER_ONLY {
        assert!(!envoy_accepts(pattern), "Envoy accepts {pattern:?}");
        assert!(
            Regex::new(pattern).is_ok(),
            "the filter refuses {pattern:?}"
        );
    }
    // The check itself can tell acceptance apart.
    assert!(envoy_accepts("\\141"));
}
