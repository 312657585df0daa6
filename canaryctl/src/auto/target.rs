//! The release a run drives, and the run's only calls into [`crate::edit`]:
//! plan (pure), then commit (compare-and-swap on the file's content hash)
//! and wait for Envoy's verdict when it watches the file.

use std::path::PathBuf;
use std::time::Duration;

use serde_json::Value;

use crate::admin::Admin;
use crate::applied::{self, Verdict};
use crate::document::{Document, Kind};
use crate::edit::{self, Change, Edit};
use crate::error::{CliError, Result};

#[derive(Debug, Clone)]
pub struct Target {
    pub path: PathBuf,
    pub kind: Option<Kind>,
    pub release: String,
    /// The canary the run drives, in a release of several (`--canary`):
    /// every change is then made on that canary alone.
    pub canary: Option<String>,
    /// Where to ask whether Envoy applied an edit; `None`: not confirmed.
    pub admin: Option<Admin>,
    pub apply_timeout: Duration,
}

/// What became of a committed edit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Applied {
    /// Written, and Envoy said it applied it.
    Confirmed,
    /// Written; no admin to ask, or the file is not one Envoy watches.
    Unconfirmed,
    /// The file already held it (a resumed run): nothing written.
    Unchanged,
}

/// A planned edit and the release object it leaves in the file.
#[derive(Debug)]
pub struct Planned {
    edit: Edit,
    pub release_after: Value,
}

impl Target {
    pub fn load(&self) -> Result<Document> {
        Document::load(&self.path, self.kind)
    }

    /// The raw object of the release in `document` (compared by value,
    /// key order aside, to tell whether someone edited it).
    pub fn release_object(&self, document: &Document) -> Result<Value> {
        let plugin = document.plugin_value()?;
        let releases = plugin.get("releases").and_then(Value::as_array);
        releases
            .into_iter()
            .flatten()
            .find(|r| r.get("name").and_then(Value::as_str) == Some(self.release.as_str()))
            .cloned()
            .ok_or_else(|| {
                CliError::in_file(
                    &self.path,
                    format!("no release named \"{}\" any more", self.release),
                )
            })
    }

    pub fn current(&self) -> Result<Value> {
        self.release_object(&self.load()?)
    }

    pub fn plan(&self, document: &Document, change: &Change) -> Result<Planned> {
        let on_canary;
        let change = match &self.canary {
            Some(canary) => {
                on_canary = Change::OnCanary {
                    canary: canary.clone(),
                    change: Box::new(change.clone()),
                };
                &on_canary
            }
            None => change,
        };
        let edit = edit::plan(document, &self.release, change)?;
        let release_after = match edit.new_text() {
            Some(text) => {
                let after = Document::from_bytes(
                    &self.path,
                    text.as_bytes().to_vec(),
                    Some(document.kind),
                )?;
                self.release_object(&after)?
            }
            None => self.release_object(document)?,
        };
        Ok(Planned {
            edit,
            release_after,
        })
    }

    /// Writes the planned edit unless the file changed since `document` was
    /// read; and, when it can, waits for Envoy to apply it.
    pub fn commit(&self, document: &Document, planned: &Planned) -> Result<Applied> {
        let edit = &planned.edit;
        if edit.new_text().is_none() {
            return Ok(Applied::Unchanged);
        }
        let filter = document.ecds_filter();
        let watch = match (&self.admin, &filter, edit.new_text()) {
            (Some(admin), Some(filter), Some(_)) => Some(
                applied::Watch::begin(admin, &filter.name)
                    .map_err(|e| CliError::new(e.to_string()))?,
            ),
            _ => None,
        };
        edit.commit()?;
        let Some(watch) = watch else {
            return Ok(Applied::Unconfirmed);
        };
        match watch.wait(edit.filter_changes(), self.apply_timeout) {
            Ok(Verdict::Applied) => Ok(Applied::Confirmed),
            Ok(Verdict::Refused) => Err(CliError::new(format!(
                "Envoy refused the new config of filter {} (see its log); {} holds it",
                watch.filter(),
                self.path.display()
            ))),
            Err(e) => Err(CliError::new(format!(
                "{e}; {} is written",
                self.path.display()
            ))),
        }
    }
}
