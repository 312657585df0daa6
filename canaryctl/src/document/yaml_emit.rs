//! Hand-written: the block must be in Kubernetes style (sequences indented under their key, which serde's YAML emitters do not do) and quote every scalar a YAML 1.1 reader would not take as a string.
//!
//! Block YAML for a JSON value, readable the same way by YAML 1.1 parsers
//! (kubectl, Istio: there `on`, `yes`, `n` and `0777` are not strings) and
//! YAML 1.2 ones: a string is written plain only when no parser could take
//! it for anything else, and quoted (with JSON's escapes, which YAML's double
//! quotes share) otherwise. Sequences are indented under their key, as in
//! Kubernetes manifests.

use serde_json::Value;

/// Words YAML 1.1 reads as booleans or null, in any case.
const RESERVED: [&str; 12] = [
    "y", "yes", "n", "no", "true", "false", "on", "off", "null", "~", "nan", "inf",
];

/// A string that every YAML parser reads back as this same string.
fn plain_is_safe(s: &str) -> bool {
    let mut chars = s.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '/');
    first_ok
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./".contains(c))
        && !RESERVED.contains(&s.to_ascii_lowercase().as_str())
}

fn quoted(s: &str) -> String {
    Value::String(s.to_string()).to_string()
}

/// A multi-line string as a literal block (`|`), when that is exact.
fn literal_block(s: &str, indent: usize) -> Option<String> {
    let (body, chomp) = match s.strip_suffix('\n') {
        Some(body) if !body.ends_with('\n') => (body, ""),
        Some(_) => return None,
        None => (s, "-"),
    };
    let printable = body
        .chars()
        .all(|c| c == '\n' || c == '\t' || !c.is_control());
    // A leading blank would need an indentation indicator; keep it simple.
    if !body.contains('\n') || !printable || body.starts_with([' ', '\t', '\n']) {
        return None;
    }
    let pad = " ".repeat(indent);
    let mut out = format!("|{chomp}\n");
    for line in body.split('\n') {
        if !line.is_empty() {
            out.push_str(&pad);
            out.push_str(line);
        }
        out.push('\n');
    }
    Some(out)
}

/// A scalar or empty collection after `key: ` or `- `, newline included.
fn scalar(value: &Value, indent: usize) -> String {
    let text = match value {
        Value::Null => "null".to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) if plain_is_safe(s) => s.clone(),
        Value::String(s) => return literal_block(s, indent).unwrap_or_else(|| quoted(s) + "\n"),
        Value::Array(_) => "[]".to_string(),
        Value::Object(_) => "{}".to_string(),
    };
    text + "\n"
}

fn key(k: &str) -> String {
    if plain_is_safe(k) {
        k.to_string()
    } else {
        quoted(k)
    }
}

fn is_nested(value: &Value) -> bool {
    match value {
        Value::Array(items) => !items.is_empty(),
        Value::Object(fields) => !fields.is_empty(),
        _ => false,
    }
}

/// `key: value` at `indent`.
pub fn entry(k: &str, value: &Value, indent: usize, out: &mut String) {
    out.push_str(&" ".repeat(indent));
    out.push_str(&key(k));
    out.push(':');
    if !is_nested(value) {
        out.push(' ');
        out.push_str(&scalar(value, indent + 2));
        return;
    }
    out.push('\n');
    body(value, indent + 2, out);
}

/// The lines of a non-empty mapping or sequence at `indent`.
fn body(value: &Value, indent: usize, out: &mut String) {
    match value {
        Value::Object(fields) => {
            for (k, v) in fields {
                entry(k, v, indent, out);
            }
        }
        Value::Array(items) => {
            for item in items {
                list_item(item, indent, out);
            }
        }
        _ => out.push_str(&scalar(value, indent)),
    }
}

/// `- item` at `indent`; a nested item starts on the dash's line.
fn list_item(item: &Value, indent: usize, out: &mut String) {
    if !is_nested(item) {
        out.push_str(&" ".repeat(indent));
        out.push_str("- ");
        out.push_str(&scalar(item, indent + 2));
        return;
    }
    let mut nested = String::new();
    body(item, indent + 2, &mut nested);
    // The first line's indent becomes "- " at this indent.
    out.push_str(&" ".repeat(indent));
    out.push_str("- ");
    out.push_str(nested.get(indent + 2..).unwrap_or_default());
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn yaml(value: &Value) -> String {
        let mut out = String::new();
        entry("pluginConfig", value, 2, &mut out);
        out
    }

    #[test]
    fn kubernetes_style_blocks() {
        let value = json!({"releases": [{"name": "pay", "values": ["staff", "1001"], "path": {"prefix": "/pay"}, "weight": 20.5, "hosts": []}]});
        assert_eq!(
            yaml(&value),
            "  pluginConfig:\n    releases:\n      - name: pay\n        values:\n          - staff\n          - \"1001\"\n        path:\n          prefix: /pay\n        weight: 20.5\n        hosts: []\n"
        );
    }

    #[test]
    fn strings_that_yaml_1_1_would_misread_are_quoted() {
        for s in [
            "on", "Off", "yes", "N", "~", "null", "1001", "0777", "1:20", "", " x", "a b", "#x",
            "@type", "-", ".inf", "x: y",
        ] {
            assert_eq!(scalar(&json!(s), 0), format!("{}\n", quoted(s)), "{s:?}");
        }
        for s in [
            "pay-service",
            "v2",
            "x-canary-version",
            "/pay/x",
            "beta_testers",
            "e5",
        ] {
            assert_eq!(scalar(&json!(s), 0), format!("{s}\n"));
        }
    }

    #[test]
    fn multi_line_strings_become_literal_blocks() {
        assert_eq!(
            scalar(&json!("{\n  \"a\": 1\n}\n"), 4),
            "|\n    {\n      \"a\": 1\n    }\n"
        );
        assert_eq!(scalar(&json!("{\n}"), 2), "|-\n  {\n  }\n");
        assert_eq!(scalar(&json!("a\n\n"), 2), "\"a\\n\\n\"\n");
        assert_eq!(scalar(&json!(" a\nb"), 2), "\" a\\nb\"\n");
    }

    #[test]
    fn output_parses_back_to_the_value() {
        let value = json!({"@type": "x", "list": [[1, 2], {"a": {"b": [true, null]}}], "s": "line 1\nline 2\n", "empty": {}});
        let mut out = String::new();
        entry("root", &value, 0, &mut out);
        // Read back as Kubernetes reads it (YAML 1.1).
        let back = super::super::k8s_yaml::parse(&out).unwrap();
        assert_eq!(back, [json!({"root": value})]);
    }

    #[test]
    fn every_scalar_written_reads_back_as_kubernetes_reads_it() {
        for s in [
            "on",
            "Yes",
            "n",
            "0000",
            "0755",
            "0o17",
            "0x1F",
            "1_000",
            "+12",
            "1e3",
            "1.10",
            "~",
            "null",
            "",
            "pay-service",
            "v2",
            "/pay",
            "e5",
            "1:20",
            "2001-12-14",
            ".inf",
            "@x",
        ] {
            let mut out = String::new();
            entry("k", &json!(s), 0, &mut out);
            let back = super::super::k8s_yaml::parse(&out).unwrap();
            assert_eq!(back, [json!({"k": s})], "{s:?} written as {out:?}");
        }
    }
}
