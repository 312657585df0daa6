//! Generated patterns and values, the engine against `regex_lite`: the same
//! verdict on every value, and the same acceptance of every pattern where
//! the two syntaxes overlap. Native only (proptest does not build for wasm).

use proptest::collection::vec;
use proptest::prelude::*;
use proptest::test_runner::{FileFailurePersistence, RngSeed};

use super::oracle_tests::{latin1, oracle};
use super::*;

fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        failure_persistence: Some(Box::new(FileFailurePersistence::WithSource("regressions"))),
        // A fixed seed keeps `make test` repeatable; fuzzing explores further.
        rng_seed: RngSeed::Fixed(0x0ca7_a4ee),
        ..ProptestConfig::default()
    }
}

/// Atoms both syntaxes read alike. No non-ASCII letter: under `(?i)` this
/// engine refuses one (RE2 would fold it, regex-lite would not).
const ATOMS: &[&str] = &[
    "a",
    "b",
    "A",
    "-",
    "1",
    ".",
    "[ab]",
    "[^a]",
    "[a-c]",
    "[]a]",
    "[-a]",
    r"\d",
    r"\w",
    r"\W",
    r"\s",
    r"\S",
    "[[:upper:]]",
    "[[:^alpha:]]",
    r"[\d-]",
    "^",
    "$",
    r"\b",
    r"\B",
    r"\.",
    "→",
    r"\x41",
    r"\n",
    "\n",
];

const QUANTIFIERS: &[&str] = &[
    "*", "+", "?", "{2}", "{0,2}", "{1,}", "*?", "+?", "??", "{1,3}?",
];

/// Well-formed patterns: every one must be accepted by both.
fn pattern() -> impl Strategy<Value = String> {
    let atom = proptest::sample::select(ATOMS).prop_map(String::from);
    atom.prop_recursive(4, 24, 4, |inner| {
        let quantifier = proptest::sample::select(QUANTIFIERS);
        prop_oneof![
            vec(inner.clone(), 0..4).prop_map(|items| items.concat()),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("{a}|{b}")),
            inner.clone().prop_map(|a| format!("({a})")),
            inner.clone().prop_map(|a| format!("(?i:{a})")),
            inner.clone().prop_map(|a| format!("(?s)(?:{a})")),
            inner.clone().prop_map(|a| format!("(?m:{a})")),
            (inner, quantifier).prop_map(|(a, q)| format!("(?:{a}){q}")),
        ]
    })
}

/// Token soup: mostly malformed patterns, to compare what each refuses.
const TOKENS: &[&str] = &[
    "a", "b", ".", "[ab]", "[^a]", r"\d", "^", "$", r"\b", "(", ")", "(?:", "(?i)", "(?i:",
    "(?P<n>", "|", "*", "+", "?", "{2}", "{1,3}", "*?", "[", "]", "\\", "-", "{3,1}",
];

/// Short values over a small alphabet. No `\v`: RE2's `\s` leaves it out,
/// regex-lite's takes it (the syntax table pins RE2's side).
fn values() -> impl Strategy<Value = Vec<String>> {
    let alphabet = &[
        'a', 'b', 'A', '1', '-', '_', ' ', '\t', '\n', '\r', '\x0C', 'é', '→', '.',
    ][..];
    let value = vec(proptest::sample::select(alphabet), 0..8)
        .prop_map(|chars| chars.into_iter().collect::<String>());
    vec(value, 12)
}

fn assert_same_verdicts(
    pattern: &str,
    ours: &Regex,
    values: &[String],
) -> Result<(), TestCaseError> {
    let theirs = oracle(pattern)
        .map_err(|e| TestCaseError::fail(format!("oracle refused {pattern:?}: {e}")))?;
    for value in values {
        prop_assert_eq!(
            ours.is_match(value),
            theirs.is_match(&latin1(value)),
            "{:?} on {:?}",
            pattern,
            value
        );
    }
    Ok(())
}

/// Where RE2 (which this engine follows) and regex-lite disagree on
/// whether a pattern is valid.
fn known_difference(pattern: &str, error: &RegexError) -> bool {
    let message = error.to_string();
    // RE2 refuses stacked repetitions such as `a**`; regex-lite accepts.
    if message.contains("follows another repetition") {
        return true;
    }
    // `[]-\[a]`: RE2 reads a leading `]` as a literal that starts a range
    // (here reversed, so refused); regex-lite reads it differently.
    if message.contains("invalid class range ]-") && pattern.contains("[]-") {
        return true;
    }
    // `a(?i)*`: regex-lite repeats the `a`; this engine has nothing to repeat.
    let offset = message
        .rsplit("at offset ")
        .next()
        .and_then(|n| n.parse::<usize>().ok());
    message.contains("has nothing to repeat")
        && offset.is_some_and(|at| {
            pattern
                .get(..at)
                .is_some_and(|before| before.ends_with("(?i)"))
        })
}

proptest! {
    #![proptest_config(config(3000))]

    #[test]
    fn well_formed_patterns_match_as_the_oracle_does(pattern in pattern(), values in values()) {
        let ours = Regex::new(&pattern).map_err(|e| TestCaseError::fail(format!("{pattern:?} refused: {e}")))?;
        assert_same_verdicts(&pattern, &ours, &values)?;
    }

    #[test]
    fn token_soup_is_refused_or_matched_as_the_oracle_does(
        tokens in vec(proptest::sample::select(TOKENS), 0..10),
        values in values(),
    ) {
        let pattern = tokens.concat();
        // Unanchored, so that `a)(` is not balanced by the anchoring group.
        match (Regex::new(&pattern), regex_lite::Regex::new(&latin1(&pattern))) {
            (Ok(ours), Ok(_)) => assert_same_verdicts(&pattern, &ours, &values)?,
            (Err(_), Err(_)) => {}
            (Err(e), Ok(_)) => prop_assert!(known_difference(&pattern, &e), "{:?} refused: {}", pattern, e),
            // RE2 reads `[` inside a class as itself; regex-lite nests classes.
            (Ok(_), Err(e)) => prop_assert!(
                e.to_string().contains("nested character class"),
                "{:?} accepted; the oracle says {}", pattern, e
            ),
        }
    }
}
