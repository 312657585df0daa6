//! Request bodies of the console's writes, read into the library's
//! [`Change`]s. Only the body's shape is checked here; every value (weight,
//! path, operator, regex) is left to the core, so the console refuses
//! exactly what the filter does.

use canary_core::Mode;
use serde_json::{Map, Value};

use crate::console::error::ApiError;
use crate::edit::{Change, RuleChange};

/// Bodies above this are refused (413) before they are parsed.
pub const MAX_BODY: usize = 64 * 1024;

/// A write's body as a JSON object; an empty body is `{}`.
pub fn object(bytes: &[u8]) -> Result<Map<String, Value>, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(Map::new());
    }
    match serde_json::from_slice::<Value>(bytes) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(ApiError::bad_request("the body must be a JSON object")),
        Err(e) => Err(ApiError::bad_request(format!("malformed JSON: {e}"))),
    }
}

/// `{"weight": 35}`, with an optional `"canary"` naming which canary.
pub fn weight(body: &Map<String, Value>) -> Result<(Change, Option<String>), ApiError> {
    let weight = match body.get("weight") {
        Some(Value::Number(n)) => n.clone(),
        Some(_) => {
            return Err(ApiError::bad_field(
                "weight",
                "expected a number of percent",
            ))
        }
        None => return Err(ApiError::bad_field("weight", "missing")),
    };
    Ok((Change::SetWeight(weight), canary(body)?))
}

/// A write's optional `"canary"`: which canary of several it is about.
pub fn canary(body: &Map<String, Value>) -> Result<Option<String>, ApiError> {
    match body.get("canary") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(ApiError::bad_field("canary", "expected a version's name")),
    }
}

/// `{"path": null | {"prefix"|"exact"|"regex": P}, "mode": "all"|"any",
/// "conditions": [...]}`: the whole rule, replacing the current one. No
/// path and no conditions: no rule.
pub fn rule(body: &Map<String, Value>) -> Result<Change, ApiError> {
    let path = match body.get("path") {
        None | Some(Value::Null) => None,
        Some(path @ Value::Object(_)) => Some(path.clone()),
        Some(_) => {
            return Err(ApiError::bad_field(
                "path",
                "expected null or {\"prefix\"|\"exact\"|\"regex\": P}",
            ))
        }
    };
    let mode = match body.get("mode") {
        None | Some(Value::Null) => None,
        Some(Value::String(m)) if m == "all" => Some(Mode::All),
        Some(Value::String(m)) if m == "any" => Some(Mode::Any),
        Some(_) => return Err(ApiError::bad_field("mode", "expected \"all\" or \"any\"")),
    };
    let conditions = match body.get("conditions") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(list)) => list.clone(),
        Some(_) => return Err(ApiError::bad_field("conditions", "expected a list")),
    };
    let has_conditions = !conditions.is_empty();
    Ok(Change::Rule(RuleChange {
        path: Some(path),
        // A mode means something only with conditions.
        mode: mode.filter(|_| has_conditions),
        conditions: Some(has_conditions.then_some(conditions)),
        clear: true,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn map(value: Value) -> Map<String, Value> {
        value.as_object().unwrap().clone()
    }

    #[test]
    fn bodies_and_their_mistakes() {
        assert!(object(b"").unwrap().is_empty());
        assert_eq!(object(b"[1]").unwrap_err().status, 400);
        assert!(object(b"{\"weight\":").unwrap_err().body["error"]
            .as_str()
            .unwrap()
            .starts_with("malformed JSON"));
        let (change, canary) = weight(&map(json!({"weight": 35, "canary": "v2"}))).unwrap();
        assert!(matches!(change, Change::SetWeight(n) if n.as_u64() == Some(35)));
        assert_eq!(canary.as_deref(), Some("v2"));
        assert_eq!(
            weight(&map(json!({"weight": "35"}))).unwrap_err().body["field"],
            "weight"
        );
        assert_eq!(
            rule(&map(json!({"mode": "some"}))).unwrap_err().body["field"],
            "mode"
        );
        let Change::Rule(r) = rule(&map(json!({"mode": "any"}))).unwrap() else {
            panic!("a rule change")
        };
        assert!(r.clear && r.mode.is_none() && matches!(r.conditions, Some(None)));
    }
}
