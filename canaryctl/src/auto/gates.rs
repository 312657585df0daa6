//! A person's word to a run, through its control file: `promote` (let a
//! run waiting before completion go on), `pause` and `resume` (hold the
//! step; the deadline still runs), and `abort` (roll back now: done here
//! at once, and the run, if one is active, ends with exit status 3).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::auto::state::{default_path, Control, State};
use crate::auto::target::Target;
use crate::document::Kind;
use crate::edit::Change;
use crate::error::{CliError, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gate {
    Promote,
    Abort,
    Pause,
    Resume,
}

fn state_path(file: &Path, release: &str, state: Option<&Path>) -> PathBuf {
    state.map_or_else(|| default_path(file, release), Path::to_path_buf)
}

pub fn run(
    gate: Gate,
    file: &Path,
    kind: Option<Kind>,
    release: &str,
    state: Option<&Path>,
    out: &mut dyn Write,
) -> Result<()> {
    let path = state_path(file, release, state);
    let run = State::load(&path)?;
    if gate != Gate::Abort {
        match &run {
            None => {
                return Err(CliError::new(format!(
                    "no run of release {release}: no state file {}",
                    path.display()
                )))
            }
            Some(s) if s.phase.is_final() => {
                return Err(CliError::in_file(
                    &path,
                    format!("the run of release {release} has already ended"),
                ))
            }
            Some(_) => {}
        }
    }
    let mut control = Control::load(&path)?;
    match gate {
        Gate::Promote => control.promote = true,
        Gate::Pause => control.paused = true,
        Gate::Resume => control.paused = false,
        Gate::Abort => control.abort = true,
    }
    control.save(&path)?;
    if gate == Gate::Abort {
        let target = Target {
            path: file.to_path_buf(),
            kind,
            release: release.to_string(),
            // The run's canary, in a release of several: abort rolls back
            // that one, as the run would.
            canary: run.as_ref().and_then(|s| s.canary.clone()),
            admin: None,
            apply_timeout: Duration::from_secs(30),
        };
        let document = target.load()?;
        let planned = target.plan(&document, &Change::Rollback)?;
        target.commit(&document, &planned)?;
    }
    let said = match gate {
        Gate::Promote => "promote: the run completes the release",
        Gate::Pause => "paused: the run holds its step (the deadline still runs)",
        Gate::Resume => "resumed: the run measures its step again",
        Gate::Abort => {
            "aborted: the canary takes 0% and the rule is cleared; the run ends rolled back"
        }
    };
    writeln!(out, "{said} (release {release}, {})", path.display())?;
    Ok(())
}
