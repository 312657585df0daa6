//! `wait`: runs a command that puts a new ECDS file in place (a rename, a
//! script) and waits for Envoy's verdict on it, for tools other than
//! canaryctl's own edits (which have `--wait`).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::admin::Admin;
use crate::applied::{self, Verdict};
use crate::document::{Document, EcdsFilter, Kind};
use crate::error::{CliError, Result};

/// What `wait` is asked to do.
#[derive(Debug, Clone)]
pub struct WaitOptions {
    pub admin: Admin,
    /// The ECDS file Envoy watches; it names the filter and shows whether
    /// the command changed it.
    pub file: PathBuf,
    pub timeout: Duration,
    /// The program and its arguments.
    pub command: Vec<String>,
}

/// The Wasm filter an ECDS file delivers.
pub fn ecds_filter(file: &Path) -> Result<EcdsFilter> {
    let document = Document::load(file, Some(Kind::Ecds))?;
    document
        .ecds_filter()
        .ok_or_else(|| CliError::in_file(file, "resources: no named Wasm filter"))
}

pub fn run(args: &WaitOptions, out: &mut dyn Write) -> Result<()> {
    let before = ecds_filter(&args.file)?;
    let watch = applied::Watch::begin(&args.admin, &before.name)
        .map_err(|e| CliError::new(e.to_string()))?;
    let Some((program, rest)) = args.command.split_first() else {
        return Err(CliError::new("wait: give the command that writes the file"));
    };
    let status = Command::new(program)
        .args(rest)
        .status()
        .map_err(|e| CliError::new(format!("wait: cannot run {program}: {e}")))?;
    if !status.success() {
        return Err(CliError::new(format!(
            "wait: {program} failed ({status}); not waiting for Envoy"
        )));
    }
    let after = ecds_filter(&args.file)?;
    let verdict = watch
        .wait(after != before, args.timeout)
        .map_err(|e| CliError::new(e.to_string()))?;
    match verdict {
        Verdict::Applied => {
            writeln!(out, "{}", applied::applied_line(&after.name, &args.admin))?;
            Ok(())
        }
        Verdict::Refused => Err(CliError::new(applied::refused_line(
            &after.name,
            &args.admin,
        ))),
    }
}
