//! The run's state file, and the control file the gates write
//! (`promote`, `abort`, `pause`, `resume`). Both live in
//! `.canaryctl-auto/` beside the config (or at `--state`): a folder of
//! their own, because Envoy reloads an ECDS file on any rename in its
//! watched folder. Each is replaced atomically, so a killed run leaves the
//! last whole state, written *before* the action it names: a resumed run
//! redoes at most an edit that changes nothing the second time.

use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::auto::settings::Settings;
use crate::document::write_atomically;
use crate::error::{CliError, Result};

/// Where the run is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "phase", rename_all = "snake_case")]
pub enum Phase {
    /// At step `index` (0-based); `applied`: its weight is written and
    /// Envoy applied it, so measuring goes on.
    Step {
        index: usize,
        applied: bool,
    },
    /// Every step passed; waiting for `canaryctl promote`.
    AwaitingPromotion,
    Completing,
    RollingBack {
        reason: String,
    },
    Completed,
    RolledBack {
        reason: String,
    },
    /// Stopped without a verdict (the release was edited meanwhile).
    Stopped {
        message: String,
    },
}

impl Phase {
    /// The phase in words: "step 2", "rolled back: ...".
    pub fn describe(&self) -> String {
        match self {
            Phase::Step { index, .. } => format!("step {}", index + 1),
            Phase::AwaitingPromotion => "awaiting promotion".to_string(),
            Phase::Completing => "completing".to_string(),
            Phase::RollingBack { reason } => format!("rolling back: {reason}"),
            Phase::Completed => "completed".to_string(),
            Phase::RolledBack { reason } => format!("rolled back: {reason}"),
            Phase::Stopped { message } => format!("stopped: {message}"),
        }
    }

    pub fn is_final(&self) -> bool {
        matches!(
            self,
            Phase::Completed | Phase::RolledBack { .. } | Phase::Stopped { .. }
        )
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct State {
    pub file: String,
    pub release: String,
    pub settings: Settings,
    pub started_unix_ms: u64,
    pub deadline_unix_ms: u64,
    pub phase: Phase,
    /// Failed intervals so far (never reset by a pass).
    pub failures: u32,
    /// The release object as this run last wrote or found it: anything
    /// else there means a person edited it.
    pub expected_release: Value,
    /// An edit being made: the release object it writes (also accepted on
    /// resume, when the run was killed between write and record).
    pub pending_release: Option<Value>,
    /// The canary the run drives in a release of several (absent in a
    /// two-version release, and in state files written before tags).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub canary: Option<String>,
    /// The canary's numbers over the last interval judged, for the
    /// console's Analysis panel (absent before the first, and in older
    /// state files).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_measurement: Option<Measured>,
}

/// One judged interval of the canary: its numbers and the verdict.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Measured {
    pub step: usize,
    pub weight: f64,
    pub requests: u64,
    pub error_rate: Option<f64>,
    pub p99_ms: Option<f64>,
    /// `pass`, `fail` or `inconclusive`.
    pub verdict: String,
}

/// A person's word to a run.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Control {
    #[serde(default)]
    pub paused: bool,
    #[serde(default)]
    pub promote: bool,
    #[serde(default)]
    pub abort: bool,
}

pub fn now_unix_ms() -> u64 {
    let since = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    u64::try_from(since.as_millis()).unwrap_or(u64::MAX)
}

/// `<dir of file>/.canaryctl-auto/<file name>.<release>.json`.
pub fn default_path(file: &Path, release: &str) -> PathBuf {
    let name = file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let dir = file.parent().unwrap_or(Path::new("."));
    dir.join(".canaryctl-auto")
        .join(format!("{name}.{release}.json"))
}

/// The control file beside state file `state`.
pub fn control_path(state: &Path) -> PathBuf {
    let mut name = state.as_os_str().to_owned();
    name.push(".control");
    PathBuf::from(name)
}

fn read_json<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<Option<T>> {
    match std::fs::read(path) {
        Ok(bytes) => serde_json::from_slice(&bytes).map(Some).map_err(|e| {
            CliError::in_file(path, format!("not a state file of canaryctl auto: {e}"))
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(CliError::in_file(path, e)),
    }
}

fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| CliError::in_file(dir, e))?;
    }
    let text = serde_json::to_string_pretty(value).map_err(|e| CliError::new(e.to_string()))?;
    let bytes = format!("{text}\n").into_bytes();
    if path.exists() {
        return write_atomically(path, &bytes).map_err(|e| CliError::in_file(path, e));
    }
    // The first write: whole under another name, then renamed into place.
    let mut staged = path.as_os_str().to_owned();
    staged.push(".new");
    let staged = PathBuf::from(staged);
    std::fs::write(&staged, &bytes)
        .and_then(|()| std::fs::rename(&staged, path))
        .map_err(|e| CliError::in_file(path, e))
}

impl State {
    pub fn load(path: &Path) -> Result<Option<State>> {
        read_json(path)
    }

    pub fn save(&self, path: &Path) -> Result<()> {
        write_json(path, self)
    }
}

impl Control {
    pub fn load(state: &Path) -> Result<Control> {
        Ok(read_json(&control_path(state))?.unwrap_or_default())
    }

    pub fn save(&self, state: &Path) -> Result<()> {
        write_json(&control_path(state), self)
    }

    /// A new run starts with no word from anyone.
    pub fn clear(state: &Path) -> Result<()> {
        match std::fs::remove_file(control_path(state)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                Err(CliError::in_file(&control_path(state), e))
            }
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_and_round_trip() {
        let path = default_path(Path::new("/etc/ecds/canary-filter.json"), "pay");
        assert_eq!(
            path,
            Path::new("/etc/ecds/.canaryctl-auto/canary-filter.json.pay.json")
        );
        assert_eq!(
            control_path(&path),
            Path::new("/etc/ecds/.canaryctl-auto/canary-filter.json.pay.json.control")
        );
        let dir = std::env::temp_dir().join(format!("canaryctl-state-{}", std::process::id()));
        let path = dir.join("s.json");
        let state = State {
            file: "f".into(),
            release: "pay".into(),
            settings: Settings::default(),
            started_unix_ms: 1,
            deadline_unix_ms: 2,
            phase: Phase::Step {
                index: 1,
                applied: true,
            },
            failures: 1,
            expected_release: serde_json::json!({"name": "pay"}),
            pending_release: None,
            canary: None,
            last_measurement: None,
        };
        assert_eq!(State::load(&path).unwrap(), None);
        state.save(&path).unwrap();
        assert_eq!(State::load(&path).unwrap(), Some(state));
        assert_eq!(Control::load(&path).unwrap(), Control::default());
        let control = Control {
            abort: true,
            ..Default::default()
        };
        control.save(&path).unwrap();
        assert_eq!(Control::load(&path).unwrap(), control);
        Control::clear(&path).unwrap();
        Control::clear(&path).unwrap();
        std::fs::write(&path, "{").unwrap();
        assert!(State::load(&path).is_err());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
