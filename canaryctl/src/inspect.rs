//! `validate` and `show`: read-only looks at a config file.

use std::io::Write;
use std::path::Path;

use canary_core::{Config, Release};
use serde::Serialize;

use crate::describe::{self, Percent, ReleaseView};
use crate::document::{Document, Kind};
use crate::error::{CliError, Result};

/// One release in `validate --json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReleaseSummary {
    pub name: String,
    pub weight: Percent,
    pub rule: bool,
    pub sticky: bool,
}

/// `validate --json`: a valid file and its releases, or why it is not.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum ValidateReport {
    Valid {
        file: String,
        kind: Kind,
        valid: bool,
        releases: Vec<ReleaseSummary>,
    },
    Invalid {
        file: String,
        valid: bool,
        error: String,
    },
}

/// `show --json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ShowReport {
    pub file: String,
    pub kind: Kind,
    pub releases: Vec<ReleaseView>,
}

fn load(file: &Path, kind: Option<Kind>) -> Result<(Document, Config)> {
    let document = Document::load(file, kind)?;
    let config = document.config()?;
    Ok((document, config))
}

fn summary(release: &Release) -> String {
    let mut parts: Vec<String> = release
        .canaries
        .iter()
        .map(|c| format!("{} to {}", describe::percent(c.weight_bp), c.value))
        .collect();
    let rules = release.canaries.iter().filter(|c| c.rule.is_some()).count();
    match rules {
        0 => {}
        1 if release.canaries.len() == 1 => parts.push("rule".to_string()),
        n => parts.push(format!("{n} rule{}", if n == 1 { "" } else { "s" })),
    }
    if release.sticky.is_some() {
        parts.push("sticky".to_string());
    }
    format!("{} ({})", release.name, parts.join(", "))
}

fn json_line<T: Serialize>(value: &T, out: &mut dyn Write) -> Result<()> {
    let text = serde_json::to_string(value).map_err(|e| CliError::new(e.to_string()))?;
    writeln!(out, "{text}")?;
    Ok(())
}

/// The `validate --json` report of a file; `Err` only for the text form.
pub fn validate_report(file: &Path, kind: Option<Kind>) -> (ValidateReport, Result<Config>) {
    match load(file, kind) {
        Ok((document, config)) => {
            let report = ValidateReport::Valid {
                file: document.path.display().to_string(),
                kind: document.kind,
                valid: true,
                releases: config
                    .releases
                    .iter()
                    .map(|r| ReleaseSummary {
                        name: r.name.clone(),
                        // Every canary's together; a rule of any canary.
                        weight: Percent(r.canaries.iter().map(|c| c.weight_bp).sum()),
                        rule: r.canaries.iter().any(|c| c.rule.is_some()),
                        sticky: r.sticky.is_some(),
                    })
                    .collect(),
            };
            (report, Ok(config))
        }
        Err(error) => {
            let report = ValidateReport::Invalid {
                file: file.display().to_string(),
                valid: false,
                error: error.to_string(),
            };
            (report, Err(error))
        }
    }
}

pub fn validate(file: &Path, kind: Option<Kind>, as_json: bool, out: &mut dyn Write) -> Result<()> {
    if as_json {
        let (report, result) = validate_report(file, kind);
        json_line(&report, out)?;
        return result.map(|_| ());
    }
    let (document, config) = load(file, kind)?;
    let count = config.releases.len();
    let releases: Vec<String> = config.releases.iter().map(summary).collect();
    writeln!(
        out,
        "OK {}: {}, {count} release{}: {}",
        document.path.display(),
        document.kind.describe(),
        if count == 1 { "" } else { "s" },
        releases.join(", ")
    )?;
    Ok(())
}

/// The `show --json` report of a file.
pub fn show_report(file: &Path, kind: Option<Kind>) -> Result<ShowReport> {
    let (document, config) = load(file, kind)?;
    Ok(ShowReport {
        file: document.path.display().to_string(),
        kind: document.kind,
        releases: config.releases.iter().map(describe::release_view).collect(),
    })
}

pub fn show(file: &Path, kind: Option<Kind>, as_json: bool, out: &mut dyn Write) -> Result<()> {
    if as_json {
        let report = show_report(file, kind)?;
        let text =
            serde_json::to_string_pretty(&report).map_err(|e| CliError::new(e.to_string()))?;
        writeln!(out, "{text}")?;
        return Ok(());
    }
    let (document, config) = load(file, kind)?;
    writeln!(
        out,
        "{} ({})\n",
        document.path.display(),
        document.kind.describe()
    )?;
    let texts: Vec<String> = config.releases.iter().map(describe::release_text).collect();
    write!(out, "{}", texts.join("\n"))?;
    Ok(())
}
