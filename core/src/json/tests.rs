//! Table tests of the reader, and a cross-check against serde_json.

use super::*;
#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

fn ok(text: &str) -> Json {
    match parse(text.as_bytes()) {
        Ok(v) => v,
        Err(e) => panic!("{text:?}: {e}"),
    }
}

fn err(text: &str) -> String {
    match parse(text.as_bytes()) {
        Ok(v) => panic!("{text:?} parsed as {v:?}"),
        Err(e) => e.to_string(),
    }
}

fn num(text: &str, value: f64) -> Json {
    Json::Number(Number {
        text: text.to_string(),
        value,
    })
}

fn s(text: &str) -> Json {
    Json::String(text.to_string())
}

#[test]
fn valid_documents() {
    let cases: Vec<(&str, Json)> = vec![
        ("null", Json::Null),
        (" true ", Json::Bool(true)),
        ("\t\r\nfalse\n", Json::Bool(false)),
        ("0", num("0", 0.0)),
        ("-0", num("-0", -0.0)),
        ("20.0", num("20.0", 20.0)),
        ("12.345", num("12.345", 12.345)),
        ("-1.5E+2", num("-1.5E+2", -150.0)),
        ("1e-400", num("1e-400", 0.0)),
        ("\"\"", s("")),
        ("[]", Json::Array(vec![])),
        ("{}", Json::Object(vec![])),
        (
            "[1, \"a\" ,null]",
            Json::Array(vec![num("1", 1.0), s("a"), Json::Null]),
        ),
        (
            r#"{"a":1,"b":{"c":[]},"a":2}"#,
            Json::Object(vec![
                ("a".into(), num("1", 1.0)),
                (
                    "b".into(),
                    Json::Object(vec![("c".into(), Json::Array(vec![]))]),
                ),
                ("a".into(), num("2", 2.0)),
            ]),
        ),
    ];
    for (text, want) in cases {
        assert_eq!(ok(text), want, "{text:?}");
    }
    // -0 keeps its sign and its text.
    let Json::Number(n) = ok("-0") else {
        panic!("not a number")
    };
    assert!(n.as_f64().is_sign_negative());
    assert_eq!(n.to_string(), "-0");
}

#[test]
fn escapes_and_surrogates() {
    let cases = [
        (r#""\"\\\/\b\f\n\r\t""#, "\"\\/\u{8}\u{c}\n\r\t"),
        (r#""\u0041\u00e9\u20AC""#, "Aé€"),
        (r#""\ud83d\ude00""#, "😀"),
        (r#""\uD834\uDD1E x""#, "𝄞 x"),
        ("\"héllo ✓\"", "héllo ✓"),
        (r#""\u0000""#, "\u{0}"),
    ];
    for (text, want) in cases {
        assert_eq!(ok(text), s(want), "{text}");
    }
}

#[test]
fn each_error_has_its_message_and_position() {
    let cases = [
        ("", "EOF while parsing a value at line 1 column 0"),
        ("   ", "EOF while parsing a value at line 1 column 3"),
        ("x", "expected value at line 1 column 1"),
        ("nul", "EOF while parsing a value at line 1 column 3"),
        ("nulx", "expected ident at line 1 column 4"),
        ("1 2", "trailing characters at line 1 column 3"),
        ("{}\n x", "trailing characters at line 2 column 2"),
        ("[1,]", "trailing comma at line 1 column 4"),
        (r#"{"a":1,}"#, "trailing comma at line 1 column 8"),
        ("[1 2]", "expected `,` or `]` at line 1 column 4"),
        ("[1", "EOF while parsing a list at line 1 column 2"),
        (r#"{"a" 1}"#, "expected `:` at line 1 column 6"),
        (r#"{"a":1 "b":2}"#, "expected `,` or `}` at line 1 column 8"),
        ("{1:2}", "key must be a string at line 1 column 2"),
        (
            r#"{"a":1"#,
            "EOF while parsing an object at line 1 column 6",
        ),
        ("\"abc", "EOF while parsing a string at line 1 column 4"),
        (
            "\"a\nb\"",
            "control character (\\u0000-\\u001F) found while parsing a string at line 2 column 0",
        ),
        (r#""\x""#, "invalid escape at line 1 column 3"),
        (r#""\u12g4""#, "invalid escape at line 1 column 7"),
        (
            r#""\ud83d""#,
            "unexpected end of hex escape at line 1 column 8",
        ),
        (
            r#""\ud83dx""#,
            "unexpected end of hex escape at line 1 column 8",
        ),
        (
            r#""\ud83d\u0041""#,
            "lone leading surrogate in hex escape at line 1 column 13",
        ),
        (
            r#""\ude00""#,
            "lone leading surrogate in hex escape at line 1 column 7",
        ),
        ("01", "invalid number at line 1 column 2"),
        ("-", "EOF while parsing a value at line 1 column 1"),
        ("-a", "invalid number at line 1 column 2"),
        ("1.", "EOF while parsing a value at line 1 column 2"),
        ("1.e3", "invalid number at line 1 column 3"),
        ("1e", "EOF while parsing a value at line 1 column 2"),
        ("+1", "expected value at line 1 column 1"),
        ("1e400", "number out of range at line 1 column 5"),
        ("[-1e400]", "number out of range at line 1 column 7"),
    ];
    let wrong: Vec<String> = cases
        .iter()
        .filter(|(text, want)| err(text) != *want)
        .map(|(text, _)| format!("({text:?}, {:?}),", err(text)))
        .collect();
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    // Invalid UTF-8 inside a string.
    let bad = parse(b"\"a\xff\"").map_err(|e| e.message);
    assert_eq!(bad, Err("invalid unicode code point"));
}

#[test]
fn nesting_limit_is_serde_jsons() {
    let at_limit = format!("{}{}", "[".repeat(MAX_DEPTH - 1), "]".repeat(MAX_DEPTH - 1));
    assert!(parse(at_limit.as_bytes()).is_ok());
    let over = format!("{}{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
    assert_eq!(err(&over), "recursion limit exceeded at line 1 column 128");
    let objects = format!("{}1{}", r#"{"a":"#.repeat(200), "}".repeat(200));
    assert_eq!(
        err(&objects),
        "recursion limit exceeded at line 1 column 636"
    );
}

#[test]
fn numbers_in_header_values() {
    for (text, want) in [
        ("1", Some(1.0)),
        (" -2.5e1 ", Some(-25.0)),
        ("\t0\n", Some(0.0)),
        ("-0", Some(-0.0)),
        ("1e400", None),
        ("nan", None),
        ("inf", None),
        ("+1", None),
        ("1.", None),
        ("01", None),
        ("1 2", None),
        ("", None),
        ("\"1\"", None),
    ] {
        assert_eq!(number(text), want, "{text:?}");
    }
}

/// The reader accepts and refuses what serde_json does, with the same
/// message and position, over a table of edge cases.
#[cfg(not(target_arch = "wasm32"))]
#[test]
fn agrees_with_serde_json() {
    let texts = [
        "null",
        "[1,2,{\"a\":[true,false,null]}]",
        "-0.0",
        "1E5",
        "0.1",
        "[",
        "]",
        "{\"a\"}",
        "\"\\uD800\\uDC00\"",
        "\"\\uDFFF\"",
        "[1,,2]",
        "1 x",
        "{\"a\":1,\"a\":2}",
        "123456789012345678901234567890",
        "\"\u{7f}\"",
        " \u{c}1",
        "[1]\u{a0}",
        "",
        "   ",
        "x",
        "nul",
        "nulx",
        "1 2",
        "{}\n x",
        "[1,]",
        "{\"a\":1,}",
        "[1 2]",
        "[1",
        "{\"a\" 1}",
        "{\"a\":1 \"b\":2}",
        "{1:2}",
        "{\"a\":1",
        "\"abc",
        "\"a\nb\"",
        "\"\\x\"",
        "\"\\u12g4\"",
        "\"\\ud83d\"",
        "\"\\ud83dx\"",
        "\"\\ud83d\\u0041\"",
        "\"\\ude00\"",
        "01",
        "-",
        "-a",
        "1.",
        "1.e3",
        "1e",
        "+1",
        "1e400",
        "[-1e400]",
        "{",
        "[1,",
        "{\"a\":",
        "{\"a\"",
        "tru",
        "[tx]",
        "\"\\u12",
        "\"\\",
        "{\"a\":1,",
        "[\n  1,\n  x]",
        "{\"a\":[1,2,]}",
        "1e-400",
        "[]]",
        "{} {}",
    ];
    let mut differ: Vec<String> = Vec::new();
    for text in texts {
        let ours = parse(text.as_bytes());
        let theirs = serde_json::from_str::<serde_json::Value>(text);
        let same = match (&ours, &theirs) {
            (Ok(_), Ok(_)) => true,
            (Err(ours), Err(theirs)) => ours.to_string() == theirs.to_string(),
            _ => false,
        };
        if !same {
            differ.push(format!("{text:?}: {ours:?} vs {theirs:?}"));
        }
    }
    assert!(differ.is_empty(), "{differ:#?}");
}

/// Through the config: an out-of-range number stays an error, as it was
/// with serde_json, and a repeated key's last value wins.
#[test]
fn config_reads_numbers_and_repeated_keys_as_before() {
    let weight = |w: &str| {
        format!(
            r#"{{"releases":[{{"name":"r","header":"x","baseline":"a","canary":"b","weight":{w}}}]}}"#
        )
    };
    let err = crate::Config::from_json(weight("1e400").as_bytes()).map(|_| ());
    let message = err.map_err(|e| e.message);
    assert_eq!(
        message,
        Err("not valid JSON: number out of range at line 1 column 80".to_string())
    );
    let config = crate::Config::from_json(weight(r#"5,"weight":20.0"#).as_bytes());
    let basis_points = config.map(|c| c.releases.first().map(|r| r.canaries.first().weight_bp));
    assert_eq!(basis_points, Ok(Some(2000)));
    let big = crate::Config::from_json(weight("100.5").as_bytes()).map(|_| ());
    assert_eq!(
        big.map_err(|e| e.message),
        Err("100.5 is out of range; expected 0 to 100".to_string())
    );
}

/// Every two-decimal weight reads exactly as std's correctly rounded parser
/// reads it; other numbers within a relative 1e-14.
#[test]
fn number_values_match_std() {
    for bp in 0..=10_000u32 {
        for text in [
            format!("{}.{:02}", bp / 100, bp % 100),
            format!("{}", f64::from(bp) / 100.0),
        ] {
            let want: f64 = text.parse().unwrap_or(f64::NAN);
            assert_eq!(
                number(&text).map(f64::to_bits),
                Some(want.to_bits()),
                "{text}"
            );
        }
    }
    for text in [
        "0",
        "-0",
        "1e22",
        "1e23",
        "123456789012345678901234567890",
        "0.000001",
        "1.5e308",
        "2.2250738585072014e-308",
        "5e-324",
        "1e-400",
        "-12.5E-3",
        "86400",
        "4503599627370497",
        "0.1e1",
        "100E-2",
        "1234.5678e10",
    ] {
        let want: f64 = text.parse().unwrap_or(f64::NAN);
        let got = number(text).unwrap_or(f64::NAN);
        let close = got == want || ((got - want) / want).abs() < 1e-14;
        assert!(
            close && got.is_sign_negative() == want.is_sign_negative(),
            "{text}: {got} vs {want}"
        );
    }
    assert_eq!(number("1e400"), None);
    assert_eq!(number("-1e99999999999999999999"), None);
    assert_eq!(number("1e-99999999999999999999"), Some(0.0));
}

/// Of several unknown fields, the first in the document is named.
#[test]
fn first_unknown_field_in_document_order_is_named() {
    let err = crate::Config::from_json(br#"{"zz":1,"releases":[],"aa":2}"#).map(|_| ());
    assert_eq!(err.map_err(|e| e.path), Err("zz".to_string()));
}
