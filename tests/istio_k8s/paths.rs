//! Field paths as the API server prints them: `spec.match[0].ports[0].number`.

use serde_json::Value;

/// Turns a JSON pointer into `document` into the API server's path form.
/// The document tells which segments are array indexes.
pub fn k8s_path(document: &Value, pointer: &str) -> String {
    let mut out = String::new();
    let mut here = Some(document);
    for raw in pointer.split('/').skip(1) {
        let segment = raw.replace("~1", "/").replace("~0", "~");
        match here {
            Some(Value::Array(items)) => {
                let index = segment.parse::<usize>().ok();
                out.push_str(&format!("[{segment}]"));
                here = index.and_then(|i| items.get(i));
            }
            other => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(&segment);
                here = other.and_then(|v| v.get(&segment));
            }
        }
    }
    out
}

/// `parent` extended by a field name (the same paths the YAML reader names).
pub use canaryctl::document::k8s_yaml::field;

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn indexes_and_fields() {
        let doc = json!({"spec": {"match": [{"ports": [{"number": 0}]}], "m": {"0": 1}}});
        assert_eq!(
            k8s_path(&doc, "/spec/match/0/ports/0/number"),
            "spec.match[0].ports[0].number"
        );
        assert_eq!(k8s_path(&doc, "/spec/m/0"), "spec.m.0");
        assert_eq!(k8s_path(&doc, ""), "");
    }
}
