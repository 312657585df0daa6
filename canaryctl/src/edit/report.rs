//! The report of an edit: the fields it changes, in words, and what to do
//! next; a `Serialize` type for programs and `to_text` for the CLI.

use canary_core::Release;
use serde::Serialize;

use crate::describe;
use crate::edit::change::Change;
use crate::edit::start;

/// One field of a release that an edit changed, in words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldChange {
    /// `baseline`, `canary`, `weight` or `rule`.
    pub field: &'static str,
    pub from: String,
    pub to: String,
}

/// What an edit changes (or changed), for people and programs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EditReport {
    pub file: String,
    pub release: String,
    /// Whether the file is rewritten; `false`: the edit changes nothing.
    pub rewrites: bool,
    /// The routing fields that change; empty when only the text changes.
    pub changes: Vec<FieldChange>,
    /// The release after the edit: `weight 50%, rule none`.
    pub state: String,
    /// For `start`: that requests changed version, when they did.
    pub moved: Option<String>,
    /// For `complete`, `rollback` and `start`: what to do next.
    pub next_steps: Option<String>,
}

impl EditReport {
    /// The lines the CLI prints.
    pub fn to_text(&self) -> String {
        let name = &self.release;
        let mut lines = Vec::new();
        if !self.rewrites {
            lines.push(format!(
                "{name}: no change ({}); file left as it was",
                self.state
            ));
        } else if self.changes.is_empty() {
            lines.push(format!(
                "{name}: rewritten; routing unchanged ({})",
                self.state
            ));
        }
        for change in &self.changes {
            lines.push(format!(
                "{name}: {} {} -> {}",
                change.field, change.from, change.to
            ));
        }
        lines.extend(self.moved.clone());
        lines.extend(self.next_steps.clone());
        let mut text = lines.join("\n");
        text.push('\n');
        text
    }
}

/// What changed, as `weight 20% -> 50%`.
pub fn changes(before: &Release, after: &Release) -> Vec<FieldChange> {
    let mut lines = Vec::new();
    for (field, old, new) in [
        ("baseline", &before.baseline, &after.baseline),
        (
            "canary",
            &before.canaries.first().value,
            &after.canaries.first().value,
        ),
    ] {
        if old != new {
            lines.push(FieldChange {
                field,
                from: old.clone(),
                to: new.clone(),
            });
        }
    }
    if before.canaries.first().weight_bp != after.canaries.first().weight_bp {
        lines.push(FieldChange {
            field: "weight",
            from: describe::percent(before.canaries.first().weight_bp),
            to: describe::percent(after.canaries.first().weight_bp),
        });
    }
    let (old_rule, new_rule) = (
        describe::rule(before.canaries.first().rule.as_ref()),
        describe::rule(after.canaries.first().rule.as_ref()),
    );
    if old_rule != new_rule {
        lines.push(FieldChange {
            field: "rule",
            from: old_rule,
            to: new_rule,
        });
    }
    lines
}

pub fn next_steps(change: &Change, release: &Release, file: &str) -> Option<String> {
    let (baseline, canary) = (&release.baseline, &release.canaries.first().value);
    match change {
        Change::Complete => Some(format!(
            "{name} is complete: every request now goes to {canary}.\n\
             Next:\n\
             \x20 1. Check the live split (expect 100% canary): canaryctl status --admin http://127.0.0.1:9901\n\
             \x20 2. Scale the old Deployment (version {baseline}) to zero: kubectl scale deployment/<its name> --replicas=0\n\
             \x20 3. {canary} is the new baseline. Begin the next release with: canaryctl start {file} {name_word} --canary <next version>",
            name = release.name,
            name_word = start::shell_word(&release.name)
        )),
        Change::Rollback => Some(format!(
            "{name} is rolled back: every request now goes to {baseline}.\n\
             Next:\n\
             \x20 1. Check the live split (expect 0% canary): canaryctl status --admin http://127.0.0.1:9901\n\
             \x20 2. Scale the canary Deployment (version {canary}) to zero once it has drained; {baseline} stays the baseline.",
            name = release.name
        )),
        Change::Start(_) => Some(start::next_steps(release, file)),
        Change::SetWeight(_) | Change::Rule(_) => None,
    }
}
