//! What an edit changes in one release, and how that is applied to the
//! release's raw JSON object (key order kept). A release of the `canaries`
//! form has its rule and weight in each canary's object: a step on one
//! canary names it (`OnCanary`), and one that would be ambiguous without a
//! name is refused.

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
    /// `SetWeight`, `Rule` or `Complete` on the canary whose value is
    /// `canary` (`--canary`). `Complete` makes it the winner: the only
    /// canary left, at 100% with no rule.
    OnCanary {
        canary: String,
        change: Box<Change>,
    },
    /// Adds a canary version at the end of the list (weight 0 unless
    /// given, no rule). A two-version release becomes the `canaries` form,
    /// its canary first with its rule and weight: same routing and sticky
    /// buckets, but its counters are then named by value.
    AddCanary {
        value: String,
        weight: Option<Number>,
    },
    /// Removes a canary version (not the last one: use `rollback`).
    RemoveCanary(String),
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

/// Applies `change` to a release object; `Err` says why it cannot apply.
pub fn apply(change: &Change, release: &mut Map<String, Value>) -> Result<(), String> {
    let tagged = release.get("canaries").is_some_and(Value::is_array);
    match change {
        Change::AddCanary { value, weight } => return add_canary(release, value, weight),
        Change::RemoveCanary(value) => return remove_canary(release, value),
        Change::OnCanary { canary, change } if tagged => {
            return on_canary(release, canary, change);
        }
        Change::OnCanary { canary, change } => {
            let only = release.get("canary").and_then(Value::as_str).unwrap_or("");
            if only != canary {
                return Err(format!(
                    "--canary {canary}: this release's only canary is {only}"
                ));
            }
            return apply(change, release);
        }
        Change::Rollback if tagged => {
            for canary in canaries_mut(release) {
                set(canary, "weight", Some(json!(0)));
                clear_rule(canary);
            }
            return Ok(());
        }
        Change::SetWeight(_) | Change::Rule(_) | Change::Complete if tagged => {
            let values = canary_values(release);
            return match values.as_slice() {
                [only] => on_canary(release, &only.clone(), change),
                _ => Err(format!(
                    "this release has {} canaries ({}); choose one with --canary",
                    values.len(),
                    values.join(", ")
                )),
            };
        }
        Change::Start(start) if tagged => {
            if let Some(baseline) = &start.baseline {
                set(release, "baseline", Some(json!(baseline)));
            }
            let next = json!([{ "value": start.canary, "weight": 0 }]);
            set(release, "canaries", Some(next));
            return Ok(());
        }
        _ => {}
    }
    apply_two_version(change, release);
    Ok(())
}

fn apply_two_version(change: &Change, release: &mut Map<String, Value>) {
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
        Change::OnCanary { .. } | Change::AddCanary { .. } | Change::RemoveCanary(_) => {}
    }
}

/// The canary objects of a `canaries` release.
fn canaries_mut(release: &mut Map<String, Value>) -> impl Iterator<Item = &mut Map<String, Value>> {
    release
        .get_mut("canaries")
        .and_then(Value::as_array_mut)
        .into_iter()
        .flatten()
        .filter_map(Value::as_object_mut)
}

fn canary_values(release: &Map<String, Value>) -> Vec<String> {
    release
        .get("canaries")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|c| c.get("value")?.as_str().map(str::to_string))
        .collect()
}

fn unknown_canary(release: &Map<String, Value>, value: &str) -> String {
    format!(
        "--canary {value}: no such canary; the canaries are: {}",
        canary_values(release).join(", ")
    )
}

/// A step on the canary `value` of a `canaries` release.
fn on_canary(release: &mut Map<String, Value>, value: &str, change: &Change) -> Result<(), String> {
    let missing = unknown_canary(release, value);
    if matches!(change, Change::Complete) {
        let winner = canaries_mut(release)
            .find(|c| c.get("value").and_then(Value::as_str) == Some(value))
            .map(|c| {
                let mut winner = c.clone();
                clear_rule(&mut winner);
                set(&mut winner, "weight", Some(json!(100)));
                winner
            })
            .ok_or(missing)?;
        set(release, "canaries", Some(json!([winner])));
        return Ok(());
    }
    if !matches!(
        change,
        Change::SetWeight(_) | Change::Rule(_) | Change::Rollback
    ) {
        return Err(
            "--canary selects a canary for set-weight, rule, complete and rollback only"
                .to_string(),
        );
    }
    let canary = canaries_mut(release)
        .find(|c| c.get("value").and_then(Value::as_str) == Some(value))
        .ok_or(missing)?;
    // Rolling back one canary of several: it takes 0% and loses its rule;
    // the others keep theirs.
    apply_two_version(change, canary);
    Ok(())
}

fn add_canary(
    release: &mut Map<String, Value>,
    value: &str,
    weight: &Option<Number>,
) -> Result<(), String> {
    let mut added = Map::new();
    added.insert("value".to_string(), json!(value));
    added.insert(
        "weight".to_string(),
        weight.clone().map_or(json!(0), Value::Number),
    );
    if let Some(list) = release.get_mut("canaries").and_then(Value::as_array_mut) {
        list.push(Value::Object(added));
        return Ok(());
    }
    // The two-version form: its canary, rule and weight become the first
    // canary, in the place the canary was.
    let at = release
        .keys()
        .position(|k| k == "canary")
        .unwrap_or(release.len());
    let mut first = Map::new();
    if let Some(canary) = release.shift_remove("canary") {
        first.insert("value".to_string(), canary);
    }
    for key in ["path", "mode", "conditions", "weight"] {
        if let Some(field) = release.shift_remove(key) {
            first.insert(key.to_string(), field);
        }
    }
    let list = json!([Value::Object(first), Value::Object(added)]);
    release.shift_insert(at.min(release.len()), "canaries".to_string(), list);
    Ok(())
}

fn remove_canary(release: &mut Map<String, Value>, value: &str) -> Result<(), String> {
    let values = canary_values(release);
    if !values.iter().any(|v| v == value) {
        let only = release.get("canary").and_then(Value::as_str);
        return Err(match only {
            Some(only) if only == value => format!(
                "{value} is this release's only canary; a release keeps at least one (use rollback to send it nothing)"
            ),
            _ => unknown_canary(release, value),
        });
    }
    if values.len() == 1 {
        return Err(format!(
            "{value} is this release's only canary; a release keeps at least one (use rollback to send it nothing)"
        ));
    }
    if let Some(list) = release.get_mut("canaries").and_then(Value::as_array_mut) {
        list.retain(|c| c.get("value").and_then(Value::as_str) != Some(value));
    }
    Ok(())
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
        apply(&Change::Rule(change), &mut r).unwrap();
        let keys: Vec<&str> = r.keys().map(String::as_str).collect();
        assert_eq!(keys, ["name", "path", "mode", "weight", "sticky"]);
        assert_eq!(r["path"], json!({"exact":"/b"}));
        apply(&Change::Complete, &mut r).unwrap();
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
        apply(&Change::Rule(change), &mut r).unwrap();
        assert_eq!(r["conditions"], Value::Array(when));
        assert_eq!(r["mode"], "all");
        let change = RuleChange {
            conditions: Some(None),
            path: Some(None),
            ..Default::default()
        };
        apply(&Change::Rule(change), &mut r).unwrap();
        assert!(!r.contains_key("conditions") && !r.contains_key("path"));
        apply(&Change::Rollback, &mut r).unwrap();
        assert_eq!(r["weight"], json!(0));
    }
}
