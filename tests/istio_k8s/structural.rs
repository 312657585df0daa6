//! The OpenAPI v3 part of a CRD version's schema, checked the way the API
//! server does: the structural schema is turned into a JSON Schema (2020-12)
//! and run with the `jsonschema` crate; its errors are worded like the API
//! server's ("spec.url in body should be at least 1 chars long"), since
//! Istio's invalid examples name the error they expect.
//!
//! Translation:
//! - pruning: an object without `x-kubernetes-preserve-unknown-fields`
//!   keeps only its declared properties. The API server drops the others (and
//!   `kubectl apply` with strict field validation, the default, refuses
//!   them); a manifest relying on a dropped field is wrong either way, so an
//!   unknown field is an error here.
//! - `nullable: true` adds `null` to the type; otherwise null is a type error.
//! - the root gets `apiVersion`, `kind` and `metadata` (ObjectMeta), which
//!   the API server adds to every CRD schema.
//! - `x-kubernetes-*` keywords are dropped here; `rules.rs` checks
//!   `x-kubernetes-validations` and list types. Formats are left to
//!   `jsonschema` (date-time is checked; int32, double are annotations).

use jsonschema::error::{TypeKind, ValidationErrorKind};
use jsonschema::{Draft, Validator};
use serde_json::{json, Map, Value};

use super::paths::k8s_path;

pub fn validator(open_api: &Value) -> Result<Validator, String> {
    let mut schema = translate(open_api);
    add_object_meta(&mut schema);
    if let Value::Object(root) = &mut schema {
        root.insert(
            "$schema".into(),
            json!("https://json-schema.org/draft/2020-12/schema"),
        );
    }
    jsonschema::options()
        .with_draft(Draft::Draft202012)
        .should_validate_formats(true)
        .build(&schema)
        .map_err(|e| format!("the CRD schema does not translate: {e}"))
}

/// API-server style messages for every structural error in `document`.
pub fn errors(validator: &Validator, document: &Value) -> Vec<String> {
    validator
        .iter_errors(document)
        .map(|e| {
            let path = k8s_path(document, e.instance_path().as_str());
            message(&path, e.instance(), e.kind())
        })
        .collect()
}

fn message(path: &str, value: &Value, kind: &ValidationErrorKind) -> String {
    let shown = match value {
        Value::String(s) => format!("{s:?}"),
        other => other.to_string(),
    };
    let invalid =
        |detail: String| format!("{path}: Invalid value: {shown}: {path} in body {detail}");
    let field = |name: &str| {
        if path.is_empty() {
            name.to_string()
        } else {
            format!("{path}.{name}")
        }
    };
    match kind {
        ValidationErrorKind::Required { property } => {
            format!(
                "{}: Required value",
                field(property.as_str().unwrap_or("?"))
            )
        }
        ValidationErrorKind::AdditionalProperties { unexpected } => unexpected
            .iter()
            .map(|name| format!("unknown field {:?}", field(name)))
            .collect::<Vec<_>>()
            .join(", "),
        ValidationErrorKind::Type { kind } => {
            let actual = json_type(value);
            let wanted = match kind {
                TypeKind::Single(t) => t.to_string(),
                TypeKind::Multiple(set) => set
                    .iter()
                    .map(|t| t.to_string())
                    .collect::<Vec<_>>()
                    .join("/"),
            };
            format!("{path}: Invalid value: \"{actual}\": {path} in body must be of type {wanted}: \"{actual}\"")
        }
        ValidationErrorKind::MinLength { limit } => {
            invalid(format!("should be at least {limit} chars long"))
        }
        ValidationErrorKind::MaxLength { limit } => {
            invalid(format!("should be at most {limit} chars long"))
        }
        ValidationErrorKind::Pattern { pattern } => invalid(format!("should match '{pattern}'")),
        ValidationErrorKind::Minimum { limit } => {
            invalid(format!("should be greater than or equal to {limit}"))
        }
        ValidationErrorKind::Maximum { limit } => {
            invalid(format!("should be less than or equal to {limit}"))
        }
        ValidationErrorKind::ExclusiveMinimum { limit } => {
            invalid(format!("should be greater than {limit}"))
        }
        ValidationErrorKind::ExclusiveMaximum { limit } => {
            invalid(format!("should be less than {limit}"))
        }
        ValidationErrorKind::MaxItems { limit } => {
            format!("{path}: Too many: must have at most {limit} items")
        }
        ValidationErrorKind::MinItems { limit } => {
            invalid(format!("should have at least {limit} items"))
        }
        ValidationErrorKind::MaxProperties { limit } => {
            format!("{path}: Too many: must have at most {limit} properties")
        }
        ValidationErrorKind::MinProperties { limit } => {
            invalid(format!("should have at least {limit} properties"))
        }
        ValidationErrorKind::Enum { options } => {
            format!("{path}: Unsupported value: {shown}: supported values: {options}")
        }
        ValidationErrorKind::Format { format } => invalid(format!("must be of type {format}")),
        ValidationErrorKind::OneOfNotValid { .. }
        | ValidationErrorKind::OneOfMultipleValid { .. } => {
            invalid("must validate one and only one schema (oneOf)".into())
        }
        ValidationErrorKind::AnyOf { .. } => {
            invalid("must validate at least one schema (anyOf)".into())
        }
        ValidationErrorKind::Not { .. } => invalid("must not validate the schema (not)".into()),
        other => invalid(format!("fails {other:?}")),
    }
}

fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// The structural schema node `node` as JSON Schema.
fn translate(node: &Value) -> Value {
    let Value::Object(source) = node else {
        return node.clone();
    };
    let mut out = Map::new();
    for (key, value) in source {
        match key.as_str() {
            "description" | "nullable" | "default" | "example" => {}
            k if k.starts_with("x-kubernetes-") => {}
            "properties" => {
                let props = value.as_object().map(|p| {
                    p.iter()
                        .map(|(name, s)| (name.clone(), translate(s)))
                        .collect::<Map<_, _>>()
                });
                out.insert(key.clone(), Value::Object(props.unwrap_or_default()));
            }
            "items" | "additionalProperties" if value.is_object() => {
                out.insert(key.clone(), translate(value));
            }
            // Value validations: translated, but not pruned (they restrict,
            // they do not declare fields).
            "anyOf" | "oneOf" | "allOf" => {
                let branches = value
                    .as_array()
                    .map(|b| b.iter().map(translate_value_rule).collect());
                out.insert(key.clone(), Value::Array(branches.unwrap_or_default()));
            }
            "not" => {
                out.insert(key.clone(), translate_value_rule(value));
            }
            _ => {
                out.insert(key.clone(), value.clone());
            }
        }
    }
    let flag = |name: &str| source.get(name).and_then(Value::as_bool).unwrap_or(false);
    if flag("x-kubernetes-int-or-string") {
        // anyOf [integer, string] already says it; a `type` would contradict.
        out.remove("type");
    }
    if flag("nullable") {
        if let Some(Value::String(t)) = out.get("type").cloned() {
            out.insert("type".into(), json!([t, "null"]));
        }
        if let Some(Value::Array(options)) = out.get_mut("enum") {
            options.push(Value::Null);
        }
    }
    let is_object = source.get("type").and_then(Value::as_str) == Some("object");
    if is_object
        && !flag("x-kubernetes-preserve-unknown-fields")
        && !out.contains_key("additionalProperties")
    {
        out.insert("additionalProperties".into(), Value::Bool(false));
    }
    Value::Object(out)
}

/// A branch of anyOf/oneOf/allOf/not: same keywords, no pruning.
fn translate_value_rule(node: &Value) -> Value {
    let mut out = translate(node);
    if let (Value::Object(translated), Value::Object(source)) = (&mut out, node) {
        if !source.contains_key("additionalProperties") {
            translated.remove("additionalProperties");
        }
    }
    out
}

/// The fields every object has, as the API server checks them (ObjectMeta:
/// a DNS-1123 subdomain name, string labels and annotations).
fn add_object_meta(schema: &mut Value) {
    let Value::Object(root) = schema else { return };
    let dns_subdomain = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$";
    let properties = root.entry("properties").or_insert_with(|| json!({}));
    if let Value::Object(properties) = properties {
        properties.insert("apiVersion".into(), json!({"type": "string"}));
        properties.insert("kind".into(), json!({"type": "string"}));
        properties.insert(
            "metadata".into(),
            json!({
                "type": "object",
                "required": ["name"],
                "properties": {
                    "name": {"type": "string", "maxLength": 253, "pattern": dns_subdomain},
                    "namespace": {"type": "string", "maxLength": 63, "pattern": "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"},
                    "labels": {"type": "object", "additionalProperties": {"type": "string", "maxLength": 63}},
                    "annotations": {"type": "object", "additionalProperties": {"type": "string"}},
                    "generateName": {"type": "string"},
                    "finalizers": {"type": "array", "items": {"type": "string"}},
                    "ownerReferences": {"type": "array"},
                    "resourceVersion": {"type": "string"},
                    "uid": {"type": "string"},
                    "generation": {"type": "integer"},
                    "creationTimestamp": {"type": ["string", "null"]},
                    "managedFields": {"type": "array"}
                },
                "additionalProperties": false
            }),
        );
    }
    let required = root.entry("required").or_insert_with(|| json!([]));
    if let Value::Array(required) = required {
        for name in ["apiVersion", "kind", "metadata"] {
            if !required.iter().any(|r| r == name) {
                required.push(json!(name));
            }
        }
    }
    root.entry("type").or_insert_with(|| json!("object"));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pruning_nullable_and_int_or_string() {
        let open_api = json!({
            "type": "object",
            "properties": {
                "spec": {
                    "type": "object",
                    "properties": {
                        "port": {"anyOf": [{"type": "integer"}, {"type": "string"}], "x-kubernetes-int-or-string": true},
                        "priority": {"type": "integer", "nullable": true},
                        "free": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}
                    }
                }
            }
        });
        let v = validator(&open_api).unwrap();
        let doc = |spec: Value| json!({"apiVersion": "x/v1", "kind": "K", "metadata": {"name": "a"}, "spec": spec});
        assert!(errors(
            &v,
            &doc(json!({"port": 80, "priority": null, "free": {"any": 1}}))
        )
        .is_empty());
        assert!(errors(&v, &doc(json!({"port": "http"}))).is_empty());
        assert_eq!(
            errors(&v, &doc(json!({"bogus": 1}))),
            ["unknown field \"spec.bogus\""]
        );
        assert_eq!(
            errors(&v, &doc(json!({"port": 1.5}))),
            ["spec.port: Invalid value: 1.5: spec.port in body must validate at least one schema (anyOf)"]
        );
        let no_name = json!({"apiVersion": "x/v1", "kind": "K", "metadata": {}, "spec": {}});
        assert_eq!(errors(&v, &no_name), ["metadata.name: Required value"]);
    }
}
