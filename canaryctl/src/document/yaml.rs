//! YAML in and out. No YAML library keeps comments through a load and a
//! dump, so an edit rewrites only the block under one key (`pluginConfig:`
//! or `value:`) and leaves every other line of the file as it was. The
//! rewrite is accepted only if the whole file then parses to exactly the
//! expected documents; a block that holds comments is refused rather than
//! losing them.

use serde_json::Value;

use super::yaml_emit;

/// Every document of a YAML stream (`---` separated), as JSON values, read
/// as Kubernetes reads a manifest (YAML 1.1: an unquoted `on` is `true`,
/// `0755` the integer 493; see `k8s_yaml`). So canaryctl checks the
/// pluginConfig Istio will really receive. Envoy's own YAML reader (an ECDS
/// file) also takes plain `on`/`yes` as booleans, so it is read the same way.
pub fn parse_documents(text: &str) -> Result<Vec<Value>, String> {
    super::k8s_yaml::parse(text)
}

/// The indent of a line that starts the mapping entry `key:`, and the rest
/// of the line after the colon.
fn key_line<'l>(line: &'l str, key: &str) -> Option<(usize, &'l str)> {
    let trimmed = line.trim_start_matches(' ');
    let indent = line.len() - trimmed.len();
    let after_key = [
        format!("{key}:"),
        format!("\"{key}\":"),
        format!("'{key}':"),
    ]
    .iter()
    .find_map(|spelling| trimmed.strip_prefix(spelling.as_str()))?;
    let starts_value = after_key.is_empty() || after_key.starts_with([' ', '\t', '\r', '\n']);
    starts_value.then_some((indent, after_key))
}

fn indent_of(line: &str) -> usize {
    line.len() - line.trim_start_matches(' ').len()
}

/// A `#` that YAML would read as a comment (at a line start or after a blank).
fn has_comment(fragment: &str) -> bool {
    let trimmed = fragment.trim_start();
    trimmed.starts_with('#') || fragment.contains(" #") || fragment.contains("\t#")
}

/// `key: value` as block YAML, every line indented by `indent` spaces.
fn fragment(key: &str, value: &Value, indent: usize) -> String {
    let mut out = String::new();
    yaml_emit::entry(key, value, indent, &mut out);
    out
}

/// The text with the block under `key` replaced by `key: new_value`, such
/// that the file parses to `expected`; see the module comment.
pub fn replace_block(
    text: &str,
    key: &str,
    new_value: &Value,
    expected: &[Value],
) -> Result<String, String> {
    let lines: Vec<(usize, &str)> = text
        .split_inclusive('\n')
        .scan(0, |offset, line| {
            let start = *offset;
            *offset += line.len();
            Some((start, line))
        })
        .collect();
    let mut commented = false;
    for (i, &(start, line)) in lines.iter().enumerate() {
        let Some((indent, rest_of_line)) = key_line(line, key) else {
            continue;
        };
        // The block: the key line and every deeper (or blank) line after it,
        // up to the last non-blank one, so blank lines after it stay.
        let mut end = start + line.len();
        let mut comment = has_comment(rest_of_line);
        for &(next_start, next) in lines.iter().skip(i + 1) {
            if next.trim().is_empty() {
                continue;
            }
            if indent_of(next) <= indent || next.starts_with("---") || next.starts_with("...") {
                break;
            }
            comment |= has_comment(next);
            end = next_start + next.len();
        }
        if comment {
            commented = true;
            continue;
        }
        let (Some(before), Some(after)) = (text.get(..start), text.get(end..)) else {
            continue;
        };
        let candidate = format!("{before}{}{after}", fragment(key, new_value, indent));
        if parse_documents(&candidate).ok().as_deref() == Some(expected) {
            return Ok(candidate);
        }
    }
    Err(if commented {
        format!("the \"{key}\" block holds comments (or a \" #\" in a value), which a rewrite would lose; edit this file by hand, or move the comments out of that block")
    } else {
        format!("cannot rewrite the \"{key}\" block of this YAML in place without touching the rest of the file; edit it by hand")
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const MANIFEST: &str = "\
# The canary filter for pay-service.
apiVersion: extensions.istio.io/v1alpha1
kind: WasmPlugin
metadata:
  name: canary   # keep this name
spec:
  url: oci://example/canary:1
  pluginConfig:
    releases:
      - name: pay
        weight: 20.0

  # Filter phase: before Istio's own routing.
  phase: AUTHN
---
kind: Other
";

    fn edited(weight: Value) -> (Value, Vec<Value>) {
        let mut docs = parse_documents(MANIFEST).unwrap();
        let config = json!({"releases": [{"name": "pay", "weight": weight}]});
        docs[0]["spec"]["pluginConfig"] = config.clone();
        (config, docs)
    }

    #[test]
    fn rewrites_only_the_block_and_keeps_comments_outside_it() {
        let (config, docs) = edited(json!(50));
        let out = replace_block(MANIFEST, "pluginConfig", &config, &docs).unwrap();
        assert!(out.contains("  name: canary   # keep this name\n"));
        assert!(out.contains(
            "\n\n  # Filter phase: before Istio's own routing.\n  phase: AUTHN\n---\nkind: Other\n"
        ));
        assert!(
            out.contains("  pluginConfig:\n    releases:\n      - name: pay\n        weight: 50\n\n  # Filter"),
            "{out}"
        );
        assert_eq!(parse_documents(&out).unwrap(), docs);
    }

    #[test]
    fn refuses_a_block_with_comments() {
        let text = MANIFEST.replace("weight: 20.0", "weight: 20.0  # step 2");
        let (config, docs) = edited(json!(50));
        let err = replace_block(&text, "pluginConfig", &config, &docs).unwrap_err();
        assert!(err.contains("holds comments"), "{err}");
    }

    #[test]
    fn multi_line_strings_round_trip() {
        let text =
            "resources:\n- typed_config:\n    configuration:\n      value: |\n        {\"a\": 1}\n";
        let new_string = json!("{\n  \"a\": 2\n}\n");
        let mut docs = parse_documents(text).unwrap();
        docs[0]["resources"][0]["typed_config"]["configuration"]["value"] = new_string.clone();
        let out = replace_block(text, "value", &new_string, &docs).unwrap();
        assert_eq!(parse_documents(&out).unwrap(), docs);
        assert!(
            out.starts_with("resources:\n- typed_config:\n    configuration:\n      value: |\n")
        );
    }

    #[test]
    fn refuses_when_the_key_is_not_found() {
        let docs = vec![json!({"a": 1})];
        let err = replace_block("a: 2\n", "pluginConfig", &json!({}), &docs).unwrap_err();
        assert!(err.contains("cannot rewrite"));
    }
}
