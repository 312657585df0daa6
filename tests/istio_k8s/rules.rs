//! What the API server checks beyond OpenAPI: `x-kubernetes-validations`
//! (CEL rules with `self` bound to the field's value, typed by the schema)
//! and `x-kubernetes-list-type` (map keys and set items unique).
//!
//! Transition rules (those reading `oldSelf`) only run on updates; a
//! manifest is judged as a create, so they are skipped and counted. A rule
//! that does not compile or errors while running is never a pass: it is
//! reported as unevaluated, which fails validation.

use std::collections::HashMap;
use std::sync::Arc;

use cel::Value as CelValue;
use serde_json::Value;

use super::cel_env::CelEnv;
use super::paths::field;

#[derive(Debug, Default)]
pub struct Findings {
    pub violations: Vec<String>,
    pub unevaluated: Vec<String>,
    pub rules_passed: usize,
    pub transition_rules_skipped: usize,
}

pub fn check(env: &CelEnv, schema: &Value, value: &Value, path: &str, out: &mut Findings) {
    if value.is_null() {
        return;
    }
    for rule in schema
        .get("x-kubernetes-validations")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        run_rule(env, rule, schema, value, path, out);
    }
    check_list_type(schema, value, path, out);
    for branch in ["anyOf", "oneOf", "allOf", "not"] {
        if schema.get(branch).is_some_and(has_rules) {
            out.unevaluated.push(format!(
                "{path}: x-kubernetes-validations inside {branch} are not supported by this validator"
            ));
        }
    }
    match value {
        Value::Object(fields) => {
            let properties = schema.get("properties");
            let additional = schema.get("additionalProperties").filter(|a| a.is_object());
            for (name, child) in fields {
                let child_schema = properties.and_then(|p| p.get(name)).or(additional);
                if let Some(child_schema) = child_schema {
                    check(env, child_schema, child, &field(path, name), out);
                }
            }
        }
        Value::Array(items) => {
            if let Some(item_schema) = schema.get("items") {
                for (i, item) in items.iter().enumerate() {
                    check(env, item_schema, item, &format!("{path}[{i}]"), out);
                }
            }
        }
        _ => {}
    }
}

fn has_rules(node: &Value) -> bool {
    match node {
        Value::Object(map) => {
            map.contains_key("x-kubernetes-validations") || map.values().any(has_rules)
        }
        Value::Array(items) => items.iter().any(has_rules),
        _ => false,
    }
}

fn run_rule(
    env: &CelEnv,
    rule: &Value,
    schema: &Value,
    value: &Value,
    path: &str,
    out: &mut Findings,
) {
    let Some(source) = rule.get("rule").and_then(Value::as_str) else {
        out.unevaluated
            .push(format!("{path}: a validation without a rule: {rule}"));
        return;
    };
    let program = match env.compile(source) {
        Ok(program) => program,
        Err(e) => {
            out.unevaluated
                .push(format!("{path}: rule {source:?} does not compile: {e}"));
            return;
        }
    };
    let references = program.references();
    if references.has_variable("oldSelf") {
        out.transition_rules_skipped += 1;
        return;
    }
    match env.check(&program, to_cel(value, schema)) {
        Ok(true) => out.rules_passed += 1,
        Ok(false) => {
            let message = rule
                .get("message")
                .and_then(Value::as_str)
                .map_or_else(|| format!("failed rule: {source}"), str::to_string);
            let kind = schema
                .get("type")
                .and_then(Value::as_str)
                .unwrap_or("object");
            out.violations
                .push(format!("{path}: Invalid value: \"{kind}\": {message}"));
        }
        Err(e) => out.unevaluated.push(format!(
            "{path}: rule {source:?} could not be evaluated: {e}"
        )),
    }
}

/// `map` lists: no two items with the same key fields; `set`: no two equal.
fn check_list_type(schema: &Value, value: &Value, path: &str, out: &mut Findings) {
    let Value::Array(items) = value else { return };
    let list_type = schema.get("x-kubernetes-list-type").and_then(Value::as_str);
    let key_of = |item: &Value| -> Value {
        match list_type {
            Some("map") => {
                let keys = schema
                    .get("x-kubernetes-list-map-keys")
                    .and_then(Value::as_array);
                let mut key = serde_json::Map::new();
                for name in keys.into_iter().flatten().filter_map(Value::as_str) {
                    key.insert(name.into(), item.get(name).cloned().unwrap_or(Value::Null));
                }
                Value::Object(key)
            }
            _ => item.clone(),
        }
    };
    if !matches!(list_type, Some("map") | Some("set")) {
        return;
    }
    let mut seen: Vec<Value> = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let key = key_of(item);
        if seen.contains(&key) {
            out.violations
                .push(format!("{path}[{i}]: Duplicate value: {key}"));
        }
        seen.push(key);
    }
}

/// A JSON value as CEL sees it under `schema`: `integer` fields are ints,
/// `number` fields doubles (even when written as 5), objects maps.
pub fn to_cel(value: &Value, schema: &Value) -> CelValue {
    let declared = schema.get("type").and_then(Value::as_str);
    match value {
        Value::Null => CelValue::Null,
        Value::Bool(b) => CelValue::Bool(*b),
        Value::Number(n) => match (declared, n.as_i64(), n.as_f64()) {
            (Some("number"), _, Some(f)) => CelValue::Float(f),
            (_, Some(i), _) => CelValue::Int(i),
            (Some("integer"), None, Some(f)) if f.fract() == 0.0 => CelValue::Int(f as i64),
            (_, None, f) => n
                .as_u64()
                .map_or(CelValue::Float(f.unwrap_or(f64::NAN)), CelValue::UInt),
        },
        Value::String(s) => CelValue::String(Arc::new(s.clone())),
        Value::Array(items) => {
            let item_schema = schema.get("items").unwrap_or(&Value::Null);
            CelValue::List(Arc::new(
                items.iter().map(|v| to_cel(v, item_schema)).collect(),
            ))
        }
        Value::Object(fields) => {
            let properties = schema.get("properties");
            let additional = schema.get("additionalProperties");
            let map: HashMap<String, CelValue> = fields
                .iter()
                .map(|(name, v)| {
                    let s = properties
                        .and_then(|p| p.get(name))
                        .or(additional)
                        .unwrap_or(&Value::Null);
                    (name.clone(), to_cel(v, s))
                })
                .collect();
            CelValue::from(map)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn findings(schema: Value, value: Value) -> Findings {
        let mut out = Findings::default();
        check(&CelEnv::new().unwrap(), &schema, &value, "spec", &mut out);
        out
    }

    #[test]
    fn numbers_take_the_schema_type() {
        let rule = |r: &str| json!([{"rule": r, "message": "m"}]);
        let ok = findings(
            json!({"type": "number", "x-kubernetes-validations": rule("self == 5.0")}),
            json!(5),
        );
        assert_eq!(
            (ok.violations.len(), ok.unevaluated.len(), ok.rules_passed),
            (0, 0, 1)
        );
        let ok = findings(
            json!({"type": "integer", "x-kubernetes-validations": rule("self == 5")}),
            json!(5.0),
        );
        assert_eq!(
            (ok.violations.len(), ok.unevaluated.len(), ok.rules_passed),
            (0, 0, 1)
        );
    }

    #[test]
    fn transition_rules_are_skipped_and_broken_rules_are_not_passes() {
        let schema = json!({"type": "string", "x-kubernetes-validations": [
            {"rule": "self == oldSelf", "message": "immutable"},
            {"rule": "self.noSuchFunction()", "message": "x"},
            {"rule": "self ==", "message": "x"}
        ]});
        let out = findings(schema, json!("a"));
        assert_eq!(out.transition_rules_skipped, 1);
        assert_eq!(out.unevaluated.len(), 2, "{:?}", out.unevaluated);
        assert!(out.violations.is_empty());
    }

    #[test]
    fn list_map_keys_and_sets_are_unique() {
        let schema = json!({"type": "array", "x-kubernetes-list-type": "map",
            "x-kubernetes-list-map-keys": ["name"], "items": {"type": "object"}});
        let out = findings(
            schema,
            json!([{"name": "a", "v": 1}, {"name": "a", "v": 2}]),
        );
        assert_eq!(
            out.violations,
            ["spec[1]: Duplicate value: {\"name\":\"a\"}"]
        );
        let set =
            json!({"type": "array", "x-kubernetes-list-type": "set", "items": {"type": "string"}});
        assert_eq!(findings(set, json!(["x", "y", "x"])).violations.len(), 1);
    }
}
