//! The filter's own regex engine against regex-lite as an oracle. Input: a
//! pattern, then values, separated by NUL bytes (so seeds are readable). On
//! any input, compiling and matching must not panic; when both engines
//! accept the pattern they must agree on every whole-value match, except
//! where regex-lite's syntax knowingly departs from RE2's (listed below).
//! The engine reads pattern and value as bytes, as Envoy's RE2 does
//! (Latin-1 mode); regex-lite reads chars, so it gets both as Latin-1 text
//! (each byte the char of the same number), which it then reads alike.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut parts = data.split(|&b| b == 0).map(String::from_utf8_lossy);
    let Some(pattern) = parts.next() else { return };
    let Ok(ours) = canary_core::Regex::new(&pattern) else {
        return;
    };
    // The oracle sees the pattern as its own group, anchored at both ends.
    let oracle = regex_lite::RegexBuilder::new(&format!(r"\A(?:{})\z", latin1(&pattern)))
        .size_limit(1 << 24)
        .build()
        .ok()
        .filter(|_| !oracle_reads_pattern_differently(&pattern));
    for value in parts.take(8) {
        let matched = ours.is_match(&value);
        let judge = oracle
            .as_ref()
            .filter(|_| !oracle_reads_value_differently(&pattern, &value));
        if let Some(oracle) = judge {
            assert_eq!(
                matched,
                oracle.is_match(&latin1(&value)),
                "pattern {pattern:?} on {value:?}"
            );
        }
    }
});

/// `text` with each byte as the char of the same number (U+0000-U+00FF).
fn latin1(text: &str) -> String {
    text.bytes().map(char::from).collect()
}

/// Syntax that regex-lite reads otherwise than RE2 (whose reading the
/// filter's engine follows), so the oracle cannot judge it:
/// - whitespace inside a counted repetition: regex-lite reads `a{2 }` as
///   `aa`, RE2 takes a brace that is not a repetition as literal text;
/// - `\<`, `\>`, `\b{start}`...: word boundaries in regex-lite, escaped
///   literals (or errors) in RE2;
/// - a class opening with `]-`, as in `[^]-c]`: a range from `]` in RE2,
///   the three characters `]`, `-`, `c` in regex-lite;
/// - class set operations (`[a-z--c]`, `&&`, `~~`) and nested classes
///   (`[a[bc]]`): regex-lite has them, RE2 reads the characters literally;
/// - `\x{..}` beyond `\xFF`: RE2 (Latin-1) refuses it, the filter reads it
///   as the char's UTF-8 bytes, regex-lite as one char no Latin-1 text has.
fn oracle_reads_pattern_differently(pattern: &str) -> bool {
    let spaced_repetition = pattern.split('{').skip(1).any(|after| {
        after
            .split('}')
            .next()
            .is_some_and(|inside| inside.chars().any(char::is_whitespace))
    });
    let word_boundary = [r"\<", r"\>", r"\b{", r"\B{"]
        .iter()
        .any(|syntax| pattern.contains(syntax));
    let bracket_range = pattern.contains("[]-") || pattern.contains("[^]-");
    let set_operation = ["--", "&&", "~~"].iter().any(|op| pattern.contains(op));
    spaced_repetition
        || word_boundary
        || bracket_range
        || set_operation
        || nested_class(pattern)
        || wide_hex_escape(pattern)
}

/// Whether a `\x{H..}` names a char beyond `\xFF`.
fn wide_hex_escape(pattern: &str) -> bool {
    pattern.split(r"\x{").skip(1).any(|after| {
        after
            .split('}')
            .next()
            .and_then(|digits| u32::from_str_radix(digits, 16).ok())
            .map_or(true, |code| code > 0xFF)
    })
}

/// Whether a `[` (other than `[:`) appears inside a bracket class.
fn nested_class(pattern: &str) -> bool {
    let mut chars = pattern.chars().peekable();
    let mut in_class = false;
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                chars.next();
            }
            '[' if in_class => {
                if chars.peek() != Some(&':') {
                    return true;
                }
            }
            '[' => {
                in_class = true;
                // A leading `^` and `]` belong to the class.
                if chars.peek() == Some(&'^') {
                    chars.next();
                }
                if chars.peek() == Some(&']') {
                    chars.next();
                }
            }
            ']' => in_class = false,
            _ => {}
        }
    }
    false
}

/// `\s` is `[\t\n\f\r ]` in RE2 but also takes the vertical tab in
/// regex-lite.
fn oracle_reads_value_differently(pattern: &str, value: &str) -> bool {
    let perl_space = pattern.contains(r"\s") || pattern.contains(r"\S");
    perl_space && value.contains('\u{b}')
}
