//! The CLI's sequence for an edit: read, plan, watch Envoy's counters (with
//! `--wait`), commit, report, and wait for Envoy's verdict.

use std::io::Write;
use std::path::Path;
use std::time::Duration;

use crate::admin::Admin;
use crate::applied::{self, Verdict};
use crate::document::{Document, Kind};
use crate::edit::change::Change;
use crate::edit::plan::plan;
use crate::error::{CliError, Result};
use crate::history;

/// `--wait`: after the write, wait (up to `timeout`) for Envoy's verdict
/// at `admin`.
#[derive(Debug, Clone)]
pub struct WaitFor {
    pub admin: Admin,
    pub timeout: Duration,
}

/// The CLI's sequence: read, plan, (watch Envoy's counters,) commit, report,
/// (wait for Envoy's verdict).
pub fn run(
    path: &Path,
    kind: Option<Kind>,
    name: &str,
    change: &Change,
    wait: Option<&WaitFor>,
    out: &mut dyn Write,
) -> Result<()> {
    let document = Document::load(path, kind)?;
    let filter = match wait {
        Some(_) => Some(document.ecds_filter().ok_or_else(|| {
            CliError::in_file(
                path,
                format!(
                    "--wait: this is an {}; Envoy watches ECDS files only, so there is no verdict to wait for",
                    document.kind.describe()
                ),
            )
        })?),
        None => None,
    };
    let edit = plan(&document, name, change)?;
    let watch = match (wait, &filter) {
        (Some(wait), Some(filter)) if edit.new_text().is_some() => Some(
            applied::Watch::begin(&wait.admin, &filter.name)
                .map_err(|e| CliError::new(e.to_string()))?,
        ),
        _ => None,
    };
    edit.commit()?;
    if edit.new_text().is_some() {
        // Where a console keeps FILE's history, it names canaryctl as this
        // change's author; a history that cannot be written does not undo
        // the edit.
        if let Err(error) =
            history::append_if_kept(path, &edit.history_entry(history::Source::Canaryctl))
        {
            let _ = writeln!(std::io::stderr(), "canaryctl: warning: {error}");
        }
    }
    write!(out, "{}", edit.report.to_text())?;
    let Some(wait) = wait else {
        return Ok(());
    };
    let Some(watch) = watch else {
        writeln!(out, "nothing written, so nothing for Envoy to apply")?;
        return Ok(());
    };
    out.flush()?;
    match watch.wait(edit.filter_changes(), wait.timeout) {
        Ok(Verdict::Applied) => {
            writeln!(
                out,
                "{}",
                applied::applied_line(watch.filter(), &wait.admin)
            )?;
            Ok(())
        }
        Ok(Verdict::Refused) => Err(CliError::new(format!(
            "{}; {} holds the refused config",
            applied::refused_line(watch.filter(), &wait.admin),
            path.display()
        ))),
        Err(error) => Err(CliError::new(format!(
            "{error}; {} is written",
            path.display()
        ))),
    }
}
