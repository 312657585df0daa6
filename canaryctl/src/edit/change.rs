//! What an edit changes in one release, and how that is applied to the
//! release's raw JSON object (key order kept).

use canary_core::Mode;
use serde_json::{json, Map, Number, Value};

use crate::edit::start::Start;

/// What to change in one release.
#[derive(Debug, Clone)]
pub enum Change {
    SetWeight(Number),
    Rule(RuleChange),
    Complete,
    Rollback,
    /// Resolved (its baseline set) before it is applied.
    Start(Start),
}

/// A `rule` step; each `None` leaves that part as it is.
#[derive(Debug, Clone, Default)]
pub struct RuleChange {
    /// `Some(None)`: remove the path. The value is `{"prefix"|"exact"|"regex": P}`.
    pub path: Option<Option<Value>>,
    pub mode: Option<Mode>,
    /// `Some(None)`: remove the conditions. Each is a condition object, as
    /// [`when::parse`] makes them.
    pub conditions: Option<Option<Vec<Value>>>,
    /// Remove path, mode and conditions first.
    pub clear: bool,
}

fn set(release: &mut Map<String, Value>, key: &str, value: Option<Value>) {
    match value {
        // Existing keys keep their place; new ones go last.
        Some(value) => {
            release.insert(key.to_string(), value);
        }
        None => {
            release.shift_remove(key);
        }
    }
}

fn clear_rule(release: &mut Map<String, Value>) {
    for key in ["path", "mode", "conditions"] {
        release.shift_remove(key);
    }
}

pub fn apply(change: &Change, release: &mut Map<String, Value>) {
    match change {
        Change::SetWeight(weight) => set(release, "weight", Some(Value::Number(weight.clone()))),
        Change::Complete | Change::Rollback => {
            let weight = if matches!(change, Change::Complete) {
                100
            } else {
                0
            };
            set(release, "weight", Some(json!(weight)));
            clear_rule(release);
        }
        Change::Start(start) => {
            if let Some(baseline) = &start.baseline {
                set(release, "baseline", Some(json!(baseline)));
            }
            set(release, "canary", Some(json!(start.canary)));
            set(release, "weight", Some(json!(0)));
            clear_rule(release);
        }
        Change::Rule(rule) => {
            if rule.clear {
                clear_rule(release);
            }
            if let Some(path) = &rule.path {
                set(release, "path", path.clone());
            }
            if let Some(mode) = rule.mode {
                let mode = match mode {
                    Mode::All => "all",
                    Mode::Any => "any",
                };
                set(release, "mode", Some(json!(mode)));
            }
            if let Some(conditions) = &rule.conditions {
                set(release, "conditions", conditions.clone().map(Value::Array));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn release(value: Value) -> Map<String, Value> {
        value.as_object().unwrap().clone()
    }

    #[test]
    fn rule_edits_keep_key_order() {
        let mut r = release(
            json!({"name":"p","path":{"prefix":"/a"},"mode":"any","weight":5,"sticky":{"header":"u"}}),
        );
        let change = RuleChange {
            path: Some(Some(json!({"exact":"/b"}))),
            ..Default::default()
        };
        apply(&Change::Rule(change), &mut r);
        let keys: Vec<&str> = r.keys().map(String::as_str).collect();
        assert_eq!(keys, ["name", "path", "mode", "weight", "sticky"]);
        assert_eq!(r["path"], json!({"exact":"/b"}));
        apply(&Change::Complete, &mut r);
        let keys: Vec<&str> = r.keys().map(String::as_str).collect();
        assert_eq!(keys, ["name", "weight", "sticky"]);
        assert_eq!(r["weight"], json!(100));
    }

    #[test]
    fn conditions_replace_or_go() {
        let mut r = release(json!({"name":"p","conditions":[{"cookie":"a","op":"present"}]}));
        let when = vec![json!({"header":"env","op":"equals","value":"test"})];
        let change = RuleChange {
            conditions: Some(Some(when.clone())),
            mode: Some(Mode::All),
            ..Default::default()
        };
        apply(&Change::Rule(change), &mut r);
        assert_eq!(r["conditions"], Value::Array(when));
        assert_eq!(r["mode"], "all");
        let change = RuleChange {
            conditions: Some(None),
            path: Some(None),
            ..Default::default()
        };
        apply(&Change::Rule(change), &mut r);
        assert!(!r.contains_key("conditions") && !r.contains_key("path"));
        apply(&Change::Rollback, &mut r);
        assert_eq!(r["weight"], json!(0));
    }
}
