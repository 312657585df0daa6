//! `validate` and `show`: read-only looks at a config file.

use std::io::Write;

use canary_core::{Config, Release};
use serde_json::json;

use crate::cli::FileArgs;
use crate::describe;
use crate::document::Document;
use crate::error::{CliError, Result};

fn load(file: &FileArgs) -> Result<(Document, Config)> {
    let document = Document::load(&file.file, file.kind)?;
    let config = document.config()?;
    Ok((document, config))
}

fn summary(release: &Release) -> String {
    let mut parts = vec![format!(
        "{} to {}",
        describe::percent(release.weight_bp),
        release.canary
    )];
    if release.rule.is_some() {
        parts.push("rule".to_string());
    }
    if release.sticky.is_some() {
        parts.push("sticky".to_string());
    }
    format!("{} ({})", release.name, parts.join(", "))
}

pub fn validate(file: &FileArgs, as_json: bool, out: &mut dyn Write) -> Result<()> {
    let (document, config) = match load(file) {
        Ok(loaded) => loaded,
        Err(error) => {
            if as_json {
                let report = json!({
                    "file": file.file.display().to_string(),
                    "valid": false,
                    "error": error.to_string(),
                });
                writeln!(out, "{report}")?;
            }
            return Err(error);
        }
    };
    if as_json {
        let report = json!({
            "file": document.path.display().to_string(),
            "kind": document.kind.as_str(),
            "valid": true,
            "releases": config.releases.iter().map(|r| json!({
                "name": r.name,
                "weight": describe::percent_number(r.weight_bp),
                "rule": r.rule.is_some(),
                "sticky": r.sticky.is_some(),
            })).collect::<Vec<_>>(),
        });
        writeln!(out, "{report}")?;
        return Ok(());
    }
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

pub fn show(file: &FileArgs, as_json: bool, out: &mut dyn Write) -> Result<()> {
    let (document, config) = load(file)?;
    if as_json {
        let report = json!({
            "file": document.path.display().to_string(),
            "kind": document.kind.as_str(),
            "releases": config.releases.iter().map(describe::release_json).collect::<Vec<_>>(),
        });
        let text =
            serde_json::to_string_pretty(&report).map_err(|e| CliError::new(e.to_string()))?;
        writeln!(out, "{text}")?;
        return Ok(());
    }
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
