//! The start of a run: the settings checked, the release found, the state
//! file read (resume) or made (a new run), both versions known to the
//! health source, all before anything changes.

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use crate::admin::Admin;
use crate::auto::events::{Event, Reporter};
use crate::auto::run::{Outcome, Run};
use crate::auto::settings::Settings;
use crate::auto::state::{default_path, now_unix_ms, Control, Phase, State};
use crate::auto::target::Target;
use crate::document::Kind;
use crate::error::{CliError, Result};
use crate::health::Source;

pub struct AutoOptions {
    pub file: PathBuf,
    pub kind: Option<Kind>,
    pub release: String,
    /// Which canary to drive when the release has several.
    pub canary: Option<String>,
    pub settings: Settings,
    pub source: Box<dyn Source>,
    pub admin: Option<Admin>,
    /// `None`: [`default_path`].
    pub state: Option<PathBuf>,
    /// Begin anew although the state file holds a run.
    pub restart: bool,
    pub json: bool,
}

pub fn run(options: &AutoOptions, out: &mut dyn Write) -> Result<Outcome> {
    let file = &options.file;
    let state_path = options
        .state
        .clone()
        .unwrap_or_else(|| default_path(file, &options.release));
    let existing = if options.restart {
        None
    } else {
        State::load(&state_path)?
    };
    let resumed = existing.as_ref().map(|s| s.phase.describe());
    let settings = match &existing {
        Some(state) => state.settings.clone(),
        None => options.settings.clone(),
    };
    settings.check().map_err(CliError::new)?;
    let target = Target {
        path: file.clone(),
        kind: options.kind,
        release: options.release.clone(),
        canary: None,
        admin: options.admin.clone(),
        apply_timeout: Duration::from_millis(settings.apply_timeout_ms),
    };
    let document = target.load()?;
    let config = document
        .config()
        .map_err(|e| CliError::new(format!("{e} (canaryctl auto runs on a valid config only)")))?;
    let Some(release) = config.releases.iter().find(|r| r.name == options.release) else {
        let names: Vec<&str> = config.releases.iter().map(|r| r.name.as_str()).collect();
        return Err(CliError::in_file(
            file,
            format!(
                "no release named \"{}\"; the releases are: {}",
                options.release,
                names.join(", ")
            ),
        ));
    };
    let wanted = existing
        .as_ref()
        .and_then(|s| s.canary.clone())
        .or_else(|| options.canary.clone());
    let canary =
        driven_canary(release, wanted.as_deref()).map_err(|e| CliError::in_file(file, e))?;
    check_room(release, &canary, &settings.steps).map_err(|e| CliError::in_file(file, e))?;
    let mut target = target;
    // A release of several canaries is driven on one: name it in every edit.
    target.canary = release.tagged.then(|| canary.clone());
    let keys = (
        settings.source_key(&release.baseline).to_string(),
        settings.source_key(&canary).to_string(),
    );
    let state = match existing {
        Some(state) => {
            if state.release != options.release {
                return Err(CliError::in_file(
                    &state_path,
                    format!(
                        "holds a run of release {}, not {}",
                        state.release, options.release
                    ),
                ));
            }
            if state.phase.is_final() {
                return Err(CliError::in_file(
                    &state_path,
                    format!(
                        "the run of release {} has ended ({}); pass --restart to begin a new one",
                        state.release,
                        state.phase.describe()
                    ),
                ));
            }
            state
        }
        None => {
            let now = now_unix_ms();
            State {
                file: file.display().to_string(),
                release: options.release.clone(),
                settings: settings.clone(),
                started_unix_ms: now,
                deadline_unix_ms: now.saturating_add(settings.deadline_ms),
                phase: Phase::Step {
                    index: 0,
                    applied: false,
                },
                failures: 0,
                expected_release: target.release_object(&document)?,
                pending_release: None,
                canary: target.canary.clone(),
                last_measurement: None,
            }
        }
    };
    // Both versions must be known to the source before anything changes.
    for key in [&keys.0, &keys.1] {
        options
            .source
            .sample(key)
            .map_err(|e| CliError::new(format!("{e}; nothing changed")))?;
    }
    if resumed.is_none() {
        Control::clear(&state_path)?;
        state.save(&state_path)?;
    }
    let mut run = Run {
        target,
        state,
        state_path,
        source: options.source.as_ref(),
        keys,
        reporter: Reporter {
            out,
            json: options.json,
        },
        last_reason: None,
    };
    run.reporter.emit(&Event::Started {
        release: options.release.clone(),
        file: file.display().to_string(),
        source: options.source.describe(),
        steps: settings.steps.clone(),
        resumed,
        state_file: run.state_path.display().to_string(),
    })?;
    run.go()
}

/// The canary a run drives: the one named, or the release's only one.
pub fn driven_canary(
    release: &canary_core::Release,
    wanted: Option<&str>,
) -> std::result::Result<String, String> {
    let values: Vec<&str> = release.canaries.iter().map(|c| c.value.as_str()).collect();
    match (wanted, values.as_slice()) {
        (Some(value), _) if values.contains(&value) => Ok(value.to_string()),
        (Some(value), _) => Err(format!(
            "release {} has no canary {value}; its canaries are: {}",
            release.name,
            values.join(", ")
        )),
        (None, [only]) => Ok((*only).to_string()),
        (None, _) => Err(format!(
            "release {} has {} canaries ({}); name the one to drive with --canary",
            release.name,
            values.len(),
            values.join(", ")
        )),
    }
}

/// The steps of a run on one canary of several must fit beside the others'
/// weights (which sum with it to at most 100%): refused before anything
/// changes, rather than failing at the step that would not fit.
fn check_room(
    release: &canary_core::Release,
    canary: &str,
    steps: &[f64],
) -> std::result::Result<(), String> {
    let others: u32 = release
        .canaries
        .iter()
        .filter(|c| c.value != canary)
        .map(|c| c.weight_bp)
        .sum();
    let room = f64::from(10_000u32.saturating_sub(others)) / 100.0;
    match steps.iter().copied().fold(None, |top: Option<f64>, s| Some(top.map_or(s, |t| t.max(s)))) {
        Some(top) if top > room => Err(format!(
            "the steps reach {top}% but the other canaries of {} hold {}%: {canary} has room for {room}% (end the steps there; completing still makes it the only canary at 100%)",
            release.name,
            f64::from(others) / 100.0
        )),
        _ => Ok(()),
    }
}
