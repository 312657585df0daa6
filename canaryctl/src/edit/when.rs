//! The condition syntax of `rule --when`: `SOURCE KEY OP [VALUE]`.
//!
//! ```text
//! header env equals test        {"header":"env","op":"equals","value":"test"}
//! header:env equals test        (the same)
//! query uid in 1001,1002        {"query":"uid","op":"in","values":["1001","1002"]}
//! cookie beta present           {"cookie":"beta","op":"present"}
//! header x-age ge 18            {"header":"x-age","op":"ge","value":18}
//! header x-user percent 10      {"header":"x-user","op":"percent","value":10}
//! ```
//!
//! VALUE is the rest of the line, spaces included. Which operand an
//! operator takes is the core's table ([`operand_of`]); the value itself
//! (and an unknown operator) is checked by the core, so the messages match
//! the filter's.

use canary_core::{operand_of, Operand};
use serde_json::{json, Map, Value};

const USAGE: &str =
    "expected 'SOURCE KEY OP [VALUE]' with SOURCE header, cookie or query, e.g. 'header env equals test'";

/// The condition's key for an operand that has one.
fn field(operand: Operand) -> String {
    operand.field().unwrap_or("value").to_string()
}

/// Splits off the first whitespace-separated word.
fn next_word(text: &str) -> Option<(&str, &str)> {
    let text = text.trim_start();
    if text.is_empty() {
        return None;
    }
    let end = text.find(char::is_whitespace).unwrap_or(text.len());
    Some((text.get(..end)?, text.get(end..)?))
}

pub fn parse(text: &str) -> Result<Value, String> {
    let (first, rest) = next_word(text).ok_or(USAGE)?;
    let (source, key, rest) = match first.split_once(':') {
        Some((source, key)) if !key.is_empty() => (source, key, rest),
        Some((source, _)) => {
            let (key, rest) = next_word(rest).ok_or(USAGE)?;
            (source, key, rest)
        }
        None => {
            let (key, rest) = next_word(rest).ok_or(USAGE)?;
            (first, key, rest)
        }
    };
    if !["header", "cookie", "query"].contains(&source) {
        return Err(format!("unknown source \"{source}\"; {USAGE}"));
    }
    let (op, rest) = next_word(rest).ok_or(USAGE)?;
    let value = rest.trim();
    let mut condition = Map::new();
    condition.insert(source.to_string(), json!(key));
    condition.insert("op".to_string(), json!(op));
    let operand = operand_of(op);
    match operand {
        Some(Operand::Nothing) if !value.is_empty() => {
            return Err(format!("operator \"{op}\" takes no value, got \"{value}\""));
        }
        Some(Operand::Nothing) => {}
        _ if value.is_empty() => return Err(format!("operator \"{op}\" needs a value; {USAGE}")),
        Some(Operand::TextList) => {
            let values: Vec<Value> = value.split(',').map(|v| json!(v.trim())).collect();
            condition.insert(field(Operand::TextList), Value::Array(values));
        }
        Some(kind @ (Operand::Number | Operand::Percent)) => {
            // A JSON number stays a number; anything else goes to the core as
            // a string, which then says what is wrong with it.
            let number = match serde_json::from_str::<Value>(value) {
                Ok(n @ Value::Number(_)) => n,
                _ => json!(value),
            };
            condition.insert(field(kind), number);
        }
        Some(kind @ (Operand::Text | Operand::Regex)) => {
            condition.insert(field(kind), json!(value));
        }
        // Unknown operators are left for the core to name.
        None => {
            condition.insert(field(Operand::Text), json!(value));
        }
    }
    Ok(Value::Object(condition))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_forms() {
        let cases = [
            (
                "header env equals test",
                json!({"header":"env","op":"equals","value":"test"}),
            ),
            (
                "header:env equals test",
                json!({"header":"env","op":"equals","value":"test"}),
            ),
            (
                "header: env equals test",
                json!({"header":"env","op":"equals","value":"test"}),
            ),
            (
                "query uid in 1001, 1002",
                json!({"query":"uid","op":"in","values":["1001","1002"]}),
            ),
            (
                "cookie beta present",
                json!({"cookie":"beta","op":"present"}),
            ),
            (
                "header x-age ge 18",
                json!({"header":"x-age","op":"ge","value":18}),
            ),
            (
                "header x-user percent 10",
                json!({"header":"x-user","op":"percent","value":10}),
            ),
            (
                "header ua contains Mobile Safari",
                json!({"header":"ua","op":"contains","value":"Mobile Safari"}),
            ),
            (
                "header v regex v[0-9]+",
                json!({"header":"v","op":"regex","value":"v[0-9]+"}),
            ),
        ];
        for (text, want) in cases {
            assert_eq!(parse(text).unwrap(), want, "{text}");
        }
    }

    #[test]
    fn mistakes_are_explained() {
        assert!(parse("").unwrap_err().contains("expected 'SOURCE KEY OP"));
        assert!(parse("header env").unwrap_err().contains("expected"));
        assert!(parse("path /x equals y")
            .unwrap_err()
            .contains("unknown source \"path\""));
        assert!(parse("header env equals")
            .unwrap_err()
            .contains("needs a value"));
        assert!(parse("cookie beta present yes")
            .unwrap_err()
            .contains("takes no value"));
        // Unknown operators are left for the core to name.
        assert_eq!(parse("header a eq b").unwrap()["op"], "eq");
    }
}
