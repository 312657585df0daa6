//! Every supported feature and every refusal, by name.

use super::*;
#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

/// (name, pattern, value, whether the whole value matches)
const MATCHES: &[(&str, &str, &str, bool)] = &[
    ("empty pattern, empty value", "", "", true),
    ("empty pattern, some value", "", "a", false),
    ("literal", "abc", "abc", true),
    (
        "literal is a full match, not a search",
        "abc",
        "xabcx",
        false,
    ),
    ("literal prefix only", "abc", "ab", false),
    ("unicode literal", "héllo→世界", "héllo→世界", true),
    ("dot", "a.c", "abc", true),
    ("dot is one byte, as in Envoy", "a.c", "a√c", false),
    ("a dot per byte", "a...c", "a√c", true),
    ("dot excludes newline", "a.c", "a\nc", false),
    ("(?s) dot takes newline", "(?s)a.c", "a\nc", true),
    ("class", "[abc]+", "cab", true),
    ("class range", "v[0-9]", "v7", true),
    ("class range miss", "v[0-9]", "vx", false),
    ("negated class", "[^/]+", "seg", true),
    ("negated class miss", "[^/]+", "a/b", false),
    ("negated class takes newline", "[^a]", "\n", true),
    ("] first is literal", "[]a]+", "]a]", true),
    ("] first in negated class", "[^]a]", "b", true),
    ("- at the ends is literal", "[-a-]+", "-a-", true),
    ("- after a range is literal", "[a-c-e]+", "a-e", true),
    ("- after a range: no d", "[a-c-e]", "d", false),
    ("escapes inside a class", r"[\]\\\-\n]+", "]\\-\n", true),
    ("hex inside a class", r"[\x41-\x43]+", "ABC", true),
    ("[ inside a class is literal", "[a[]+", "[a", true),
    ("posix class", "[[:alpha:]]+", "Abc", true),
    ("posix class miss", "[[:alpha:]]", "1", false),
    ("negated posix class", "[[:^digit:]]+", "ab", true),
    ("posix union", "[[:digit:][:upper:]_]+", "A1_", true),
    ("posix xdigit", "[[:xdigit:]]+", "09afAF", true),
    ("posix punct", "[[:punct:]]+", "!/:@[`{~", true),
    ("perl classes", r"\d\w\s", "7_ ", true),
    ("\\d is ASCII", r"\d", "٣", false),
    ("\\w is ASCII", r"\w", "é", false),
    ("\\s leaves out \\v (RE2)", r"\s", "\x0B", false),
    ("[[:space:]] has \\v", "[[:space:]]", "\x0B", true),
    ("negated perl classes", r"\D\W\S\S", "a-é", true),
    ("perl class in a class", r"[\d.]+", "1.2.3", true),
    ("negated perl class in a class", r"[^\d]+", "abc", true),
    ("word boundary", r"a\b-", "a-", true),
    ("word boundary miss", r"a\bb", "ab", false),
    ("not word boundary", r"a\Bb", "ab", true),
    ("boundary at the ends", r"\bab\b", "ab", true),
    ("caret and dollar are redundant", "^abc$", "abc", true),
    ("\\A and \\z", r"\Aabc\z", "abc", true),
    ("dollar in the middle never matches", "a$b", "ab", false),
    ("(?m) line anchors", "(?m)a$\n^b", "a\nb", true),
    ("without (?m) no line anchors", "a$\n^b", "a\nb", false),
    (
        "escaped metacharacters",
        r"\.\*\+\?\(\)\[\]\{\}\|\^\$\\",
        ".*+?()[]{}|^$\\",
        true,
    ),
    ("escaped punctuation", r"\/\-\#\<\ ", "/-#< ", true),
    ("escaped underscore (RE2 allows it)", r"\_", "_", true),
    (
        "control escapes",
        r"\t\n\r\f\v\a",
        "\t\n\r\x0C\x0B\x07",
        true,
    ),
    (
        "hex escape",
        r"\x41\x{263A}\x{10FFFF}",
        "A☺\u{10FFFF}",
        true,
    ),
    ("quoted text", r"\Qa.b*\E+", "a.b**", true),
    ("quoted text without \\E", r"x\Q(.)", "x(.)", true),
    ("group", "(ab)+", "abab", true),
    ("non-capturing group", "(?:ab)+c", "ababc", true),
    ("named group", "(?P<id>[0-9]+)-(?<part>x)", "42-x", true),
    ("alternation", "GET|POST|PUT", "POST", true),
    ("alternation is lowest precedence", "ab|cd", "abd", false),
    ("empty alternative", "a(|b)c", "ac", true),
    (
        "alternation in a group",
        "/api/(v1|v2)/users",
        "/api/v2/users",
        true,
    ),
    ("star", "a*", "", true),
    ("plus needs one", "a+", "", false),
    ("question", "ab?c", "ac", true),
    ("exact count", "a{3}", "aaa", true),
    ("exact count miss", "a{3}", "aaaa", false),
    ("at least", "a{2,}", "aaaaa", true),
    ("at least miss", "a{2,}", "a", false),
    ("range count", "a{2,3}", "aaa", true),
    ("range count miss", "a{2,3}", "aaaa", false),
    ("zero count", "ba{0}c", "bc", true),
    ("lazy forms match alike", "a*?b+?c??d{1,2}?", "abbd", true),
    (
        "brace without count is literal",
        "/users/{id}",
        "/users/{id}",
        true,
    ),
    ("brace with comma first is literal", "a{,3}", "a{,3}", true),
    ("lone closing brace is literal", "a}", "a}", true),
    ("(?i)", "(?i)hello", "HeLLo", true),
    ("(?i) class", "(?i)[a-c]+", "AbC", true),
    ("(?i) negated class", "(?i)[^a]", "A", false),
    ("(?i) posix upper takes lower", "(?i)[[:upper:]]", "a", true),
    ("(?i) scoped to group", "(?i:a)b", "AB", false),
    ("(?i) scoped to group match", "(?i:a)b", "Ab", true),
    ("(?i) ends with its group", "((?i)a)b", "AB", false),
    ("(?i) spans alternatives", "(?i)a|b", "B", true),
    ("(?-i) turns it off", "(?i)a(?-i)b", "Ab", true),
    ("(?-i) miss", "(?i)a(?-i)b", "AB", false),
    ("(?i) keeps caseless non-ASCII", "(?i)a中", "A中", true),
    ("(?U) is accepted", "(?U)a+", "aa", true),
    (
        "nested star of empty-matching group",
        "(a*)*b",
        "aaab",
        true,
    ),
    ("repeat of an assertion", "^*a", "a", true),
    (
        "empty class never matches",
        r"[^\x00-\x{10FFFF}]",
        "a",
        false,
    ),
    ("emoji", "(?:🦀)+", "🦀🦀", true),
    (
        "a repetition after an emoji repeats its last byte",
        "🦀+",
        "🦀🦀",
        false,
    ),
    (
        "kelvin sign is not k (ASCII folding)",
        "(?i)k",
        "\u{212A}",
        false,
    ),
    // Bytes, as Envoy's RE2 reads pattern and value (Latin-1 mode).
    (
        "three dots are not three CJK chars",
        "^...$",
        "日本語",
        false,
    ),
    ("nine dots are", ".........", "日本語", true),
    ("[^x] takes one byte", "[^x]", "本", false),
    ("[^x] per byte", "[^x]{3}", "本", true),
    ("a repetition repeats the last byte", "日+", "日日", false),
    ("a group repeats the char", "(?:日)+", "日日", true),
    ("non-ASCII in a class is its bytes", "[é]{2}", "é", true),
    ("non-ASCII in a class is not the char", "[é]", "é", false),
    ("range from a char's last byte", "[a-é]+", "é", true),
    ("\\xHH is one byte", r"\xC3\xA9", "é", true),
    ("\\xE9 is not é", r"\xE9", "é", false),
    (
        "\\x{..} beyond \\xFF is the char's bytes",
        r"\x{263A}",
        "☺",
        true,
    ),
    (
        "a class range to beyond \\xFF ends at \\xFF",
        r"[\x80-\x{10FFFF}]+",
        "é☺",
        true,
    ),
    ("\\b between non-ASCII bytes", r"é\b", "é", false),
    (
        "(?i) folds ASCII only: Ã is not ã",
        r"(?i)\xC3\xA9.",
        "\u{3A40}",
        false,
    ),
    (
        "(?i) folds ASCII only: ã is not Ã",
        r"(?i)\xE3.",
        "é",
        false,
    ),
    (
        "(?i) negated byte class",
        r"(?i)[^\xC3].*",
        "\u{3A40}",
        true,
    ),
    ("(?i) caseless char", "(?i)中", "中", true),
    // Octal escapes, as RE2 reads them.
    ("octal", r"\141", "a", true),
    ("octal zero", r"\060", "0", true),
    ("two octal digits", r"\12", "\n", true),
    ("\\0 alone", r"a\0?", "a", true),
    ("octal takes three digits at most", r"\0601", "01", true),
    ("\\0 and two more digits", r"\0141", "\x0C1", true),
    ("octal in a class", r"[\141-\143]+", "abc", true),
    ("octal bytes", r"\303\251", "é", true),
    ("largest octal is a byte, not ÿ", r"[\377]", "\u{FF}", false),
    ("(?i) octal", r"(?i)\141", "A", true),
];

#[test]
fn feature_table() {
    for (name, pattern, value, want) in MATCHES {
        let regex =
            Regex::new(pattern).unwrap_or_else(|e| panic!("{name}: {pattern:?} refused: {e}"));
        assert_eq!(
            regex.is_match(value),
            *want,
            "{name}: {pattern:?} on {value:?}"
        );
    }
}

/// (name, pattern, the error message)
const ERRORS: &[(&str, &str, &str)] = &[
    ("unclosed group", "/api/(v1", "unclosed group at offset 5"),
    ("innermost unclosed group", "(a(b", "unclosed group at offset 2"),
    ("unmatched )", "a)", "unmatched ')' at offset 1"),
    ("unclosed class", "x[a-z", "unclosed character class at offset 1"),
    ("unclosed class after ]", "[]", "unclosed character class at offset 0"),
    ("reversed range", "[z-a]", "invalid class range z-a at offset 1"),
    ("range to a class", r"[a-\d]", "invalid class range end at offset 3; a range ends in a single character"),
    ("unknown POSIX class", "[[:letters:]]", "unknown POSIX class [:letters:] at offset 1"),
    ("\\b in a class", r"[\b]", "\\b is not allowed in a character class at offset 1"),
    ("nothing to repeat", "*a", "repetition operator * has nothing to repeat at offset 0"),
    ("nothing to repeat after |", "a|+", "repetition operator + has nothing to repeat at offset 2"),
    ("nothing to repeat in a group", "(?i)?", "repetition operator ? has nothing to repeat at offset 4"),
    ("count with nothing to repeat", "{2}", "repetition operator {2} has nothing to repeat at offset 0"),
    ("stacked repetition", "a**", "repetition operator * follows another repetition at offset 2; RE2 refuses this too; group the inner one, as in (?:a*)*"),
    ("stacked counts", "a{2}{3}", "repetition operator {3} follows another repetition at offset 4; RE2 refuses this too; group the inner one, as in (?:a*)*"),
    ("count too large", "a{5000}", "repetition count 5000 exceeds 1000 at offset 1"),
    ("max too large", "a{1,1001}", "repetition count 1001 exceeds 1000 at offset 1"),
    ("count overflows", "a{99999999999}", "repetition count 99999999999 exceeds 1000 at offset 1"),
    ("min above max", "a{5,2}", "invalid repetition {5,2}: the minimum exceeds the maximum at offset 1"),
    ("program too large", "(a{1000}){1000}", "compiled program exceeds 10000 instructions"),
    ("program just too large", "(?:[ab]{1000}){10}", "compiled program exceeds 10000 instructions"),
    ("backreference", r"(a)\1", "unsupported: backreferences (\\1) at offset 3"),
    ("octal beyond a byte", r"\400", "octal escape \\400 is beyond \\377 at offset 0; an octal escape names one byte, as in RE2"),
    ("largest octal digits", r"a\777", "octal escape \\777 is beyond \\377 at offset 1; an octal escape names one byte, as in RE2"),
    ("single digit is a backreference", r"\1", "unsupported: backreferences (\\1) at offset 0"),
    ("\\8", r"\8", "unsupported: backreferences (\\8) at offset 0"),
    ("\\x{..} beyond \\xFF in a class", r"[\x{263A}]", "\\x{263A} (U+263A) in a character class is beyond \\xFF at offset 1; a class is a set of bytes, as Envoy's RE2 reads it"),
    ("reversed range of bytes", "[é-a]", "invalid class range \\xA9-a at offset 2; a non-ASCII character is its UTF-8 bytes here, as in Envoy's RE2"),
    ("lookahead", "a(?=b)", "unsupported: lookahead (?=...) at offset 1"),
    ("negative lookahead", "(?!b)", "unsupported: negative lookahead (?!...) at offset 0"),
    ("lookbehind", "(?<=b)a", "unsupported: lookbehind (?<=...) at offset 0"),
    ("negative lookbehind", "(?<!b)a", "unsupported: negative lookbehind (?<!...) at offset 0"),
    ("named backreference", "(?P<x>a)(?P=x)", "unsupported: named backreferences (?P=name) at offset 8"),
    ("atomic group", "(?>a)", "unsupported: atomic groups (?>...) at offset 0"),
    ("unicode class", r"\p{Greek}", "unsupported: Unicode classes (\\p{..}, \\pL) at offset 0; use ASCII classes such as [[:alpha:]] or [a-z]"),
    ("negated unicode class", r"[\PL]", "unsupported: Unicode classes (\\P{..}, \\PL) at offset 1; use ASCII classes such as [[:alpha:]] or [a-z]"),
    ("any byte", r"\C", "unsupported: \\C (any byte) at offset 0"),
    ("\\Z", r"a\Z", "unsupported: \\Z at offset 1; use \\z or $"),
    ("unknown escape", r"\e", "unknown escape \\e at offset 0"),
    ("escaped letter", r"\q", "unknown escape \\q at offset 0"),
    ("escaped non-ASCII", r"\é", "unknown escape \\é at offset 0"),
    ("lone backslash", "a\\", "pattern ends with a lone backslash at offset 1"),
    ("short hex", r"\x4", "invalid hex escape at offset 0; write \\xHH or \\x{HHHH}"),
    ("bad hex", r"\xZZ", "invalid hex escape at offset 0; write \\xHH or \\x{HHHH}"),
    ("unclosed hex", r"\x{41", "invalid hex escape at offset 0; write \\xHH or \\x{HHHH}"),
    ("surrogate", r"\x{D800}", "\\x{D800} is not a Unicode scalar value at offset 0"),
    ("beyond Unicode", r"\x{110000}", "\\x{110000} is not a Unicode scalar value at offset 0"),
    ("unknown flag", "(?x)a", "unknown flag 'x' at offset 2; RE2 flags are i, m, s and U"),
    ("empty flags", "(?)", "missing flags after (? at offset 0; expected i, m, s or U"),
    ("dangling -", "(?i-)", "missing flags after (? at offset 0; expected i, m, s or U"),
    ("repeated flag", "(?ii)", "flag 'i' given twice at offset 3"),
    ("unclosed flags", "(?i", "unclosed group at offset 0"),
    ("bad group name", "(?P<a b>x)", "invalid group name \"a b\" at offset 0; use letters, digits and _"),
    ("empty group name", "(?<>x)", "invalid group name \"\" at offset 0; use letters, digits and _"),
    ("duplicate group name", "(?P<a>x)(?P<a>y)", "duplicate group name \"a\" at offset 8"),
    ("unclosed group name", "(?P<a", "unclosed group name at offset 0"),
    ("non-ASCII under (?i)", "(?i)café", "unsupported: case-insensitive non-ASCII letter 'é' at offset 7; (?i) folds ASCII letters only"),
    ("non-ASCII class under (?i)", "(?i)[é]", "unsupported: case-insensitive non-ASCII letter 'é' at offset 5; (?i) folds ASCII letters only"),
    ("range beyond ASCII under (?i)", "(?i)[a-é]", "unsupported: case-insensitive class range beyond ASCII (a-é) at offset 5; (?i) folds ASCII letters only"),
];

#[test]
fn error_table() {
    for (name, pattern, want) in ERRORS {
        match Regex::new(pattern) {
            Ok(_) => panic!("{name}: {pattern:?} was accepted"),
            Err(e) => assert_eq!(e.to_string(), *want, "{name}: {pattern:?}"),
        }
    }
}

#[test]
fn limits_are_inclusive() {
    let longest = "a".repeat(MAX_PATTERN_BYTES);
    assert!(Regex::new(&longest).unwrap().is_match(&longest));
    let too_long = "a".repeat(MAX_PATTERN_BYTES + 1);
    assert_eq!(
        Regex::new(&too_long).unwrap_err().to_string(),
        "pattern is 1025 bytes; the limit is 1024"
    );
    let deepest = format!("{}a{}", "(".repeat(MAX_NESTING), ")".repeat(MAX_NESTING));
    assert!(Regex::new(&deepest).unwrap().is_match("a"));
    // A flag group opens no group, so it is fine at the deepest level.
    let flags_inside = format!(
        "{}(?i)a{}",
        "(".repeat(MAX_NESTING),
        ")".repeat(MAX_NESTING)
    );
    assert!(Regex::new(&flags_inside).unwrap().is_match("A"));
    let too_deep = format!("({deepest})");
    assert_eq!(
        Regex::new(&too_deep).unwrap_err().to_string(),
        "groups nest deeper than 32 at offset 32"
    );
    let most = Regex::new("a{1000}").unwrap();
    assert!(most.is_match(&"a".repeat(1000)));
    assert!(!most.is_match(&"a".repeat(999)));
    // 9,999 instructions plus the final match.
    assert!(Regex::new("(?:[ab]{999}){10}[ab]{9}").is_ok());
}

#[test]
fn keeps_the_pattern_as_written() {
    let regex = Regex::new("^v[0-9]+$").unwrap();
    assert_eq!(regex.as_str(), "^v[0-9]+$");
    assert_eq!(format!("{regex:?}"), "Regex(\"^v[0-9]+$\")");
}

#[test]
fn clones_match_alike() {
    let regex = Regex::new("(?i)canary-[0-9]+").unwrap();
    let copy = regex.clone();
    assert!(copy.is_match("CANARY-7") && regex.is_match("canary-7"));
}
