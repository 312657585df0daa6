//! The release steps that change a file: `set-weight`, `rule`, `complete`,
//! `rollback` and `start`. Each one edits the plugin config as an ordered
//! JSON value, validates the result with the filter's own checks, re-reads
//! the text it is about to write, and only then replaces the file atomically.

pub mod start;
pub mod when;

use std::io::Write;

use canary_core::{Config, Release};
use serde_json::{json, Map, Number, Value};

use crate::cli::{FileArgs, ModeArg, RuleArgs};
use crate::describe;
use crate::document::{write_atomically, Document};
use crate::error::{CliError, Result};
use start::Start;

/// What to change in one release.
#[derive(Debug, Clone)]
pub enum Step {
    SetWeight(Number),
    Rule(RuleChange),
    Complete,
    Rollback,
    /// Resolved (its baseline set) before it is applied.
    Start(Start),
}

#[derive(Debug, Clone, Default)]
pub struct RuleChange {
    /// `Some(None)`: remove the path.
    path: Option<Option<Value>>,
    mode: Option<&'static str>,
    /// `Some(None)`: remove the conditions.
    conditions: Option<Option<Vec<Value>>>,
    clear: bool,
}

impl RuleChange {
    pub fn from_args(args: &RuleArgs) -> Self {
        let path = if args.no_path {
            Some(None)
        } else {
            [
                ("prefix", &args.path_prefix),
                ("exact", &args.path_exact),
                ("regex", &args.path_regex),
            ]
            .into_iter()
            .find_map(|(kind, value)| value.as_ref().map(|v| Some(json!({ kind: v }))))
        };
        let conditions = if args.no_conditions {
            Some(None)
        } else if args.when.is_empty() {
            None
        } else {
            Some(Some(args.when.clone()))
        };
        RuleChange {
            path,
            mode: args.mode.map(|m| match m {
                ModeArg::All => "all",
                ModeArg::Any => "any",
            }),
            conditions,
            clear: args.clear,
        }
    }
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

fn apply(step: &Step, release: &mut Map<String, Value>) {
    match step {
        Step::SetWeight(weight) => set(release, "weight", Some(Value::Number(weight.clone()))),
        Step::Complete | Step::Rollback => {
            let weight = if matches!(step, Step::Complete) {
                100
            } else {
                0
            };
            set(release, "weight", Some(json!(weight)));
            clear_rule(release);
        }
        Step::Start(start) => {
            if let Some(baseline) = &start.baseline {
                set(release, "baseline", Some(json!(baseline)));
            }
            set(release, "canary", Some(json!(start.canary)));
            set(release, "weight", Some(json!(0)));
            clear_rule(release);
        }
        Step::Rule(change) => {
            if change.clear {
                clear_rule(release);
            }
            if let Some(path) = &change.path {
                set(release, "path", path.clone());
            }
            if let Some(mode) = change.mode {
                set(release, "mode", Some(json!(mode)));
            }
            if let Some(conditions) = &change.conditions {
                set(release, "conditions", conditions.clone().map(Value::Array));
            }
        }
    }
}

/// The raw release object at `index` of the plugin config.
fn release_object(plugin: &mut Value, index: usize) -> Option<&mut Map<String, Value>> {
    plugin.get_mut("releases")?.get_mut(index)?.as_object_mut()
}

/// Lines saying what changed, as `pay-service: weight 20% -> 50%`.
fn changes(before: &Release, after: &Release) -> Vec<String> {
    let name = &after.name;
    let mut lines = Vec::new();
    for (what, old, new) in [
        ("baseline", &before.baseline, &after.baseline),
        ("canary", &before.canary, &after.canary),
    ] {
        if old != new {
            lines.push(format!("{name}: {what} {old} -> {new}"));
        }
    }
    if before.weight_bp != after.weight_bp {
        lines.push(format!(
            "{name}: weight {} -> {}",
            describe::percent(before.weight_bp),
            describe::percent(after.weight_bp)
        ));
    }
    let (old_rule, new_rule) = (
        describe::rule(before.rule.as_ref()),
        describe::rule(after.rule.as_ref()),
    );
    if old_rule != new_rule {
        lines.push(format!("{name}: rule {old_rule} -> {new_rule}"));
    }
    lines
}

fn next_steps(step: &Step, release: &Release, file: &str) -> Option<String> {
    let (baseline, canary) = (&release.baseline, &release.canary);
    match step {
        Step::Complete => Some(format!(
            "{name} is complete: every request now goes to {canary}.\n\
             Next:\n\
             \x20 1. Check the live split (expect 100% canary): canaryctl status --admin http://127.0.0.1:9901\n\
             \x20 2. Scale the old Deployment (version {baseline}) to zero: kubectl scale deployment/<its name> --replicas=0\n\
             \x20 3. {canary} is the new baseline. Begin the next release with: canaryctl start {file} {name_word} --canary <next version>",
            name = release.name,
            name_word = start::shell_word(&release.name)
        )),
        Step::Rollback => Some(format!(
            "{name} is rolled back: every request now goes to {baseline}.\n\
             Next:\n\
             \x20 1. Check the live split (expect 0% canary): canaryctl status --admin http://127.0.0.1:9901\n\
             \x20 2. Scale the canary Deployment (version {canary}) to zero once it has drained; {baseline} stays the baseline.",
            name = release.name
        )),
        Step::Start(_) => Some(start::next_steps(release, file)),
        Step::SetWeight(_) | Step::Rule(_) => None,
    }
}

/// Renders the file around `plugin`, checks that the text reads back as
/// exactly that config, and replaces the file atomically.
fn write_checked(document: &Document, plugin: &Value) -> Result<()> {
    let path = &document.path;
    let text = document.render(plugin)?;
    let reread = Document::from_bytes(path, text.clone().into_bytes(), Some(document.kind))?;
    reread.config()?;
    if reread.plugin_value()? != *plugin {
        return Err(CliError::in_file(
            path,
            "internal error: the rewritten file would not hold the edited config; nothing written",
        ));
    }
    write_atomically(path, text.as_bytes()).map_err(|e| CliError::in_file(path, e))
}

pub fn run(file: &FileArgs, name: &str, step: &Step, out: &mut dyn Write) -> Result<()> {
    let path = &file.file;
    let document = Document::load(path, file.kind)?;
    let before = document.config().map_err(|e| {
        CliError::new(format!(
            "{e} (canaryctl edits only a valid config; fix this first)"
        ))
    })?;
    let Some(index) = before.releases.iter().position(|r| r.name == name) else {
        let names: Vec<&str> = before.releases.iter().map(|r| r.name.as_str()).collect();
        return Err(CliError::in_file(
            path,
            format!(
                "no release named \"{name}\"; the releases are: {}",
                names.join(", ")
            ),
        ));
    };
    // `start` checks the release as it stands and picks its new baseline.
    let step = &match (step, before.releases.get(index)) {
        (Step::Start(start), Some(old)) => {
            Step::Start(start.resolve(old).map_err(|e| CliError::in_file(path, e))?)
        }
        _ => step.clone(),
    };
    let mut plugin = document.plugin_value()?;
    let original = plugin.to_string();
    let release = release_object(&mut plugin, index)
        .ok_or_else(|| CliError::in_file(path, format!("releases[{index}]: expected an object")))?;
    apply(step, release);
    // The filter's checks on the edited config, before anything is written.
    let plugin_json = serde_json::to_vec(&plugin).map_err(|e| CliError::new(e.to_string()))?;
    let after = Config::from_json(&plugin_json).map_err(|e| CliError::in_file(path, e))?;
    let (Some(old), Some(new)) = (before.releases.get(index), after.releases.get(index)) else {
        return Err(CliError::in_file(path, "internal error: the release moved"));
    };
    let summary = format!(
        "weight {}, rule {}",
        describe::percent(new.weight_bp),
        describe::rule(new.rule.as_ref())
    );
    // Compared as ordered text: `Value` equality ignores key order.
    let edited = plugin.to_string();
    if edited == original {
        writeln!(out, "{name}: no change ({summary}); file left as it was")?;
    } else {
        write_checked(&document, &plugin)?;
        let lines = changes(old, new);
        if lines.is_empty() {
            writeln!(out, "{name}: rewritten; routing unchanged ({summary})")?;
        }
        for line in lines {
            writeln!(out, "{line}")?;
        }
    }
    if let Some(moved) = start::moved(step, old) {
        writeln!(out, "{moved}")?;
    }
    let file_word = start::shell_word(&path.to_string_lossy());
    if let Some(steps) = next_steps(step, new, &file_word) {
        writeln!(out, "{steps}")?;
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
        apply(&Step::Rule(change), &mut r);
        let keys: Vec<&str> = r.keys().map(String::as_str).collect();
        assert_eq!(keys, ["name", "path", "mode", "weight", "sticky"]);
        assert_eq!(r["path"], json!({"exact":"/b"}));
        apply(&Step::Complete, &mut r);
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
            mode: Some("all"),
            ..Default::default()
        };
        apply(&Step::Rule(change), &mut r);
        assert_eq!(r["conditions"], Value::Array(when));
        assert_eq!(r["mode"], "all");
        let change = RuleChange {
            conditions: Some(None),
            path: Some(None),
            ..Default::default()
        };
        apply(&Step::Rule(change), &mut r);
        assert!(!r.contains_key("conditions") && !r.contains_key("path"));
        apply(&Step::Rollback, &mut r);
        assert_eq!(r["weight"], json!(0));
    }
}
