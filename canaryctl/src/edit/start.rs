//! `start`: the next release, begun from a completed one. A completed
//! release sends every request to its canary; `start` makes that canary the
//! baseline and the next version the canary, at weight 0 with no rule, in
//! one edit, so the same version keeps every request and nobody moves until
//! a rule or a weight says so.

use canary_core::Release;

use crate::describe;

#[derive(Debug, Clone)]
pub struct Start {
    pub canary: String,
    /// `None`: the current canary (filled in by `resolve`).
    pub baseline: Option<String>,
    pub force: bool,
}

/// Where a release's requests go as it stands.
#[derive(Debug, PartialEq, Eq)]
enum Serving<'r> {
    /// Every request, to this version.
    All(&'r str),
    /// Some to each.
    Both,
}

fn serving(release: &Release) -> Serving<'_> {
    let canaries = &release.canaries;
    if let Some(all) = canaries.iter().find(|c| c.weight_bp == 10_000) {
        return Serving::All(&all.value);
    }
    if canaries
        .iter()
        .all(|c| c.weight_bp == 0 && c.rule.is_none())
    {
        return Serving::All(&release.baseline);
    }
    Serving::Both
}

/// One canary left, at 100% with no rule.
fn is_complete(release: &Release) -> bool {
    let first = release.canaries.first();
    release.canaries.len() == 1 && first.weight_bp == 10_000 && first.rule.is_none()
}

/// "weight 20%, rule header env equals test", as the other edits say it;
/// with several canaries, each: "v2 weight 10%, rule none; v3 weight 5%, ...".
pub fn state(release: &Release) -> String {
    let one = |c: &canary_core::Canary| {
        format!(
            "weight {}, rule {}",
            describe::percent(c.weight_bp),
            describe::rule(c.rule.as_ref())
        )
    };
    if !release.tagged {
        return one(release.canaries.first());
    }
    let each: Vec<String> = release
        .canaries
        .iter()
        .map(|c| format!("{} {}", c.value, one(c)))
        .collect();
    each.join("; ")
}

impl Start {
    fn new_baseline<'s>(&'s self, release: &'s Release) -> &'s str {
        self.baseline
            .as_deref()
            .unwrap_or(&release.canaries.first().value)
    }

    /// The step with its baseline filled in, or why it must not run.
    pub fn resolve(&self, release: &Release) -> Result<Start, String> {
        let name = &release.name;
        let baseline = self.new_baseline(release);
        if self.canary == baseline {
            let source = if self.baseline.is_some() {
                "--baseline"
            } else {
                "the current canary, which becomes the baseline"
            };
            return Err(format!(
                "{name}: --canary {baseline} is the new baseline ({source}); give the next version's label"
            ));
        }
        if !is_complete(release) && !self.force {
            return Err(not_complete(release, baseline, self.baseline.is_none()));
        }
        Ok(Start {
            baseline: Some(baseline.to_string()),
            ..self.clone()
        })
    }

    /// A line saying that requests changed version, when they did (only
    /// with --force or an explicit --baseline).
    pub fn moved(&self, before: &Release) -> Option<String> {
        let baseline = self.new_baseline(before);
        let went_to = match serving(before) {
            Serving::All(version) if version == baseline => return None,
            Serving::All(version) => format!("went to {version}"),
            Serving::Both => format!(
                "were split between {} and {}",
                before.baseline,
                canary_values(before)
            ),
        };
        Some(format!(
            "{}: requests moved: they {went_to}; every request now goes to {baseline}",
            before.name
        ))
    }
}

/// The canaries' values, "v2" or "v2, v3".
fn canary_values(release: &Release) -> String {
    let values: Vec<&str> = release.canaries.iter().map(|c| c.value.as_str()).collect();
    values.join(", ")
}

/// Why an unfinished release is not started without --force.
fn not_complete(release: &Release, new_baseline: &str, default_baseline: bool) -> String {
    // Several canaries read as one list ("v2, v3"), which is never the
    // one new baseline: their users all move.
    let (name, baseline, canary) = (&release.name, &release.baseline, &canary_values(release));
    let head = format!("{name} is not complete ({})", state(release));
    let body = match serving(release) {
        Serving::All(version) if version == new_baseline => format!(
            "every request already goes to {version}, so none would move, but the release is unfinished: \
             run canaryctl complete first, or add --force to start from here"
        ),
        Serving::All(version) => {
            // As after a rollback: the baseline serves everyone, and the
            // default (the canary) would move them; starting from the
            // baseline would not.
            let keep_baseline = if default_baseline && version == baseline.as_str() {
                format!("; to start from {version}, which serves every request now, add --baseline {version} --force")
            } else {
                String::new()
            };
            format!(
                "every request goes to {version}, and starting now would move them all to {new_baseline} at once: \
                 run canaryctl complete first, or add --force to start anyway{keep_baseline}"
            )
        }
        Serving::Both => {
            let who = if new_baseline == canary.as_str() {
                format!("the users still on {baseline} to {canary}")
            } else if new_baseline == baseline.as_str() {
                format!("the users on {canary} back to {baseline}")
            } else {
                format!("every user to {new_baseline}")
            };
            format!(
                "requests still go to both {baseline} and {canary}, and starting mid-release would move {who} at once: \
                 finish with canaryctl complete (or undo with rollback) first, or add --force to start anyway"
            )
        }
    };
    format!("{head}: {body}")
}

/// What comes after a start.
pub fn next_steps(release: &Release, file: &str) -> String {
    let (name, baseline, canary) = (
        &release.name,
        &release.baseline,
        &release.canaries.first().value,
    );
    let name_word = shell_word(name);
    format!(
        "{name}: next release started: every request goes to {baseline}, the baseline; {canary} gets none yet.\n\
         Next:\n\
         \x20 1. Deploy version {canary} next to {baseline}.\n\
         \x20 2. Send it chosen requests first: canaryctl rule {file} {name_word} --when 'header env equals test'\n\
         \x20 3. Then a share of the rest: canaryctl set-weight {file} {name_word} 5"
    )
}

/// `text` as one shell word, quoted only when it needs to be, so that a
/// printed command can be pasted.
pub fn shell_word(text: &str) -> String {
    let plain = !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:@%+=,".contains(c));
    if plain {
        text.to_string()
    } else {
        format!("'{}'", text.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use canary_core::Config;

    fn release(fields: &str) -> Release {
        let json = format!(
            r#"{{"releases":[{{"name":"pay","header":"x-v","baseline":"v1","canary":"v2",{fields}}}]}}"#
        );
        Config::from_json(json.as_bytes())
            .unwrap()
            .releases
            .remove(0)
    }

    fn start(canary: &str, baseline: Option<&str>, force: bool) -> Start {
        Start {
            canary: canary.to_string(),
            baseline: baseline.map(str::to_string),
            force,
        }
    }

    #[test]
    fn a_completed_release_starts_from_its_canary() {
        let done = release(r#""weight":100"#);
        let resolved = start("v3", None, false).resolve(&done).unwrap();
        assert_eq!(resolved.baseline.as_deref(), Some("v2"));
        assert_eq!(start("v3", None, false).moved(&done), None);
        let err = start("v2", None, false).resolve(&done).unwrap_err();
        assert!(err.contains("--canary v2 is the new baseline"), "{err}");
        let err = start("v1", Some("v1"), true).resolve(&done).unwrap_err();
        assert!(err.contains("(--baseline)"), "{err}");
        let moved = start("v3", Some("v2b"), false).moved(&done).unwrap();
        assert!(moved.ends_with("they went to v2; every request now goes to v2b"));
    }

    #[test]
    fn an_unfinished_release_needs_force_and_says_why() {
        let mid = release(r#""weight":20,"path":{"prefix":"/a"}"#);
        let err = start("v3", None, false).resolve(&mid).unwrap_err();
        assert!(
            err.starts_with("pay is not complete (weight 20%, rule path prefix /a): requests still go to both v1 and v2, and starting mid-release would move the users still on v1 to v2 at once"),
            "{err}"
        );
        assert!(start("v3", None, true).resolve(&mid).is_ok());
        assert!(start("v3", None, true).moved(&mid).is_some());

        let rolled_back = release(r#""weight":0"#);
        let err = start("v3", None, false).resolve(&rolled_back).unwrap_err();
        assert!(
            err.contains(
                "; to start from v1, which serves every request now, add --baseline v1 --force"
            ),
            "{err}"
        );
        let err = start("v3", Some("v1"), false)
            .resolve(&rolled_back)
            .unwrap_err();
        assert!(err.contains("so none would move"), "{err}");
        assert_eq!(start("v3", Some("v1"), true).moved(&rolled_back), None);

        let full_with_rule =
            release(r#""weight":100,"conditions":[{"cookie":"b","op":"present"}]"#);
        assert!(start("v3", None, false).resolve(&full_with_rule).is_err());
    }

    #[test]
    fn shell_words() {
        assert_eq!(
            shell_word("/tmp/ecds/canary-filter.json"),
            "/tmp/ecds/canary-filter.json"
        );
        assert_eq!(shell_word("my file's.json"), r"'my file'\''s.json'");
        assert_eq!(shell_word(""), "''");
    }
}
