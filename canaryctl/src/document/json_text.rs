//! Writing JSON back in the style it was read: the same indent, compact
//! when it was compact, and the final newline kept or left out.

use serde::Serialize;
use serde_json::ser::{PrettyFormatter, Serializer};
use serde_json::Value;

/// The layout of a JSON text.
#[derive(Debug, PartialEq, Eq)]
struct Style {
    /// `None`: all on one line.
    indent: Option<String>,
    final_newline: bool,
}

fn style_of(text: &str) -> Style {
    let body = text.trim_end();
    let indent = body
        .lines()
        .skip(1)
        .filter(|line| !line.trim().is_empty())
        .map(|line| line.strip_suffix(line.trim_start()).unwrap_or_default())
        .find(|lead| !lead.is_empty())
        .map(str::to_string);
    // A multi-line text without indented lines still wants newlines.
    let indent = indent.or_else(|| body.contains('\n').then(|| "  ".to_string()));
    Style {
        indent,
        final_newline: text.ends_with('\n'),
    }
}

fn render(value: &Value, style: &Style) -> Result<String, String> {
    let mut out = match &style.indent {
        None => serde_json::to_vec(value).map_err(|e| e.to_string())?,
        Some(indent) => {
            let mut buffer = Vec::new();
            let formatter = PrettyFormatter::with_indent(indent.as_bytes());
            let mut serializer = Serializer::with_formatter(&mut buffer, formatter);
            value
                .serialize(&mut serializer)
                .map_err(|e| e.to_string())?;
            buffer
        }
    };
    if style.final_newline {
        out.push(b'\n');
    }
    String::from_utf8(out).map_err(|e| e.to_string())
}

/// `value` laid out like `original`.
pub fn render_like(value: &Value, original: &str) -> Result<String, String> {
    render(value, &style_of(original))
}

/// A JSON file with one value changed. When the old value's literal occurs
/// exactly once in the text, only it is replaced, so the rest of the file
/// keeps its bytes; otherwise the whole document is written in the file's
/// style. Either way the result must parse to `new_doc`.
pub fn replace_or_render(
    text: &str,
    old_value: &Value,
    new_value: &Value,
    new_doc: &Value,
) -> Result<String, String> {
    let literal = |v: &Value| serde_json::to_string(v).map_err(|e| e.to_string());
    let old_literal = literal(old_value)?;
    if text.matches(&old_literal).count() == 1 {
        let candidate = text.replacen(&old_literal, &literal(new_value)?, 1);
        if serde_json::from_str::<Value>(&candidate).ok().as_ref() == Some(new_doc) {
            return Ok(candidate);
        }
    }
    render_like(new_doc, text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn keeps_indent_compactness_and_final_newline() {
        let value = json!({"a": [1, 2]});
        assert_eq!(render_like(&value, "{\"x\":1}").unwrap(), r#"{"a":[1,2]}"#);
        assert_eq!(
            render_like(&value, "{\n    \"x\": 1\n}\n").unwrap(),
            "{\n    \"a\": [\n        1,\n        2\n    ]\n}\n"
        );
        assert_eq!(
            render_like(&value, "{\n\t\"x\": 1\n}").unwrap(),
            "{\n\t\"a\": [\n\t\t1,\n\t\t2\n\t]\n}"
        );
    }

    #[test]
    fn replaces_only_the_literal_when_it_is_unique() {
        let text = "{ \"keep\":   [1,2],\n  \"value\": \"{\\\"w\\\":1}\" }\n";
        let new_doc = json!({"keep": [1, 2], "value": "{\"w\":2}"});
        let out = replace_or_render(text, &json!("{\"w\":1}"), &json!("{\"w\":2}"), &new_doc);
        assert_eq!(
            out.unwrap(),
            "{ \"keep\":   [1,2],\n  \"value\": \"{\\\"w\\\":2}\" }\n"
        );
    }

    #[test]
    fn rewrites_the_document_when_the_literal_is_ambiguous() {
        let text = "{\"a\": \"x\", \"b\": \"x\"}";
        let new_doc = json!({"a": "x", "b": "y"});
        let out = replace_or_render(text, &json!("x"), &json!("y"), &new_doc).unwrap();
        assert_eq!(out, r#"{"a":"x","b":"y"}"#);
    }
}
