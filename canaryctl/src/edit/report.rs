//! The report of an edit: the fields it changes, in words, and what to do
//! next; a `Serialize` type for programs and `to_text` for the CLI.

use canary_core::Release;
use serde::Serialize;

use crate::describe;
use crate::edit::change::Change;
use crate::edit::start;
use crate::history;

/// One field of a release that an edit changed, in words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldChange {
    /// `baseline`, `canary` (`canaries` for several), `weight` or `rule`.
    pub field: &'static str,
    pub from: String,
    pub to: String,
}

/// A field of one canary of a release with several that an edit changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CanaryChange {
    /// The canary's value.
    pub canary: String,
    /// `weight` or `rule`.
    pub field: &'static str,
    pub from: String,
    pub to: String,
}

/// The same change, as the file's history keeps it.
impl From<&FieldChange> for history::FieldChange {
    fn from(change: &FieldChange) -> Self {
        history::FieldChange {
            field: change.field.to_string(),
            from: change.from.clone(),
            to: change.to.clone(),
        }
    }
}

/// A change of one canary of several, as the history keeps it: the field
/// named after the canary (`v3 weight`).
impl From<&CanaryChange> for history::FieldChange {
    fn from(change: &CanaryChange) -> Self {
        history::FieldChange {
            field: format!("{} {}", change.canary, change.field),
            from: change.from.clone(),
            to: change.to.clone(),
        }
    }
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
    /// A release with several canaries: the weights and rules that change,
    /// by canary.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub canary_changes: Vec<CanaryChange>,
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
        } else if self.changes.is_empty() && self.canary_changes.is_empty() {
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
        for change in &self.canary_changes {
            lines.push(format!(
                "{name}: {} {} {} -> {}",
                change.canary, change.field, change.from, change.to
            ));
        }
        lines.extend(self.moved.clone());
        lines.extend(self.next_steps.clone());
        let mut text = lines.join("\n");
        text.push('\n');
        text
    }
}

/// What changed, as `weight 20% -> 50%`; with several canaries, each
/// canary's weight and rule go to the second list (`v3 weight 5% -> 10%`).
pub fn changes(before: &Release, after: &Release) -> (Vec<FieldChange>, Vec<CanaryChange>) {
    let mut lines = Vec::new();
    let mut by_canary = Vec::new();
    if before.baseline != after.baseline {
        lines.push(FieldChange {
            field: "baseline",
            from: before.baseline.clone(),
            to: after.baseline.clone(),
        });
    }
    let several = before.tagged || after.tagged;
    let (old_values, new_values) = (values(before), values(after));
    if old_values != new_values {
        lines.push(FieldChange {
            field: if several { "canaries" } else { "canary" },
            from: old_values.join(", "),
            to: new_values.join(", "),
        });
    }
    for new in after.canaries.iter() {
        // A canary that is new has no "before"; the list line says it came.
        let old = match before.canaries.find(&new.value) {
            Some((_, old)) => old,
            None if !several => before.canaries.first(),
            None => continue,
        };
        let mut fields = Vec::new();
        if old.weight_bp != new.weight_bp {
            fields.push((
                "weight",
                describe::percent(old.weight_bp),
                describe::percent(new.weight_bp),
            ));
        }
        let (old_rule, new_rule) = (
            describe::rule(old.rule.as_ref()),
            describe::rule(new.rule.as_ref()),
        );
        if old_rule != new_rule {
            fields.push(("rule", old_rule, new_rule));
        }
        for (field, from, to) in fields {
            if several {
                by_canary.push(CanaryChange {
                    canary: new.value.clone(),
                    field,
                    from,
                    to,
                });
            } else {
                lines.push(FieldChange { field, from, to });
            }
        }
    }
    (lines, by_canary)
}

fn values(release: &Release) -> Vec<String> {
    release.canaries.iter().map(|c| c.value.clone()).collect()
}

pub fn next_steps(change: &Change, release: &Release, file: &str) -> Option<String> {
    let (baseline, canary) = (&release.baseline, &release.canaries.first().value);
    let canaries = values(release).join(", ");
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
        Change::OnCanary { change, .. } if matches!(**change, Change::Complete) => {
            next_steps(change, release, file)
        }
        Change::Rollback => Some(format!(
            "{name} is rolled back: every request now goes to {baseline}.\n\
             Next:\n\
             \x20 1. Check the live split (expect 0% canary): canaryctl status --admin http://127.0.0.1:9901\n\
             \x20 2. Scale the canary Deployment{s} (version {canaries}) to zero once drained; {baseline} stays the baseline.",
            name = release.name,
            s = if release.canaries.len() > 1 { "s" } else { "" }
        )),
        Change::Start(_) => Some(start::next_steps(release, file)),
        Change::SetWeight(_)
        | Change::Rule(_)
        | Change::OnCanary { .. }
        | Change::AddCanary { .. }
        | Change::RemoveCanary(_) => None,
    }
}
