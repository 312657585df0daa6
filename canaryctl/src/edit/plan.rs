//! Plan and commit: [`plan`] is pure (a read document, a release and a
//! change to the new text and the report); [`Edit::commit`] writes it only
//! if the file still has the content it was planned on.

use std::path::PathBuf;

use canary_core::Config;
use serde_json::{Map, Value};

use crate::document::{write_if_unchanged, ContentHash, Document, WriteError};
use crate::edit::change::{apply, Change};
use crate::edit::report::{changes, next_steps, EditReport};
use crate::edit::start;
use crate::error::{CliError, Result};
use crate::history;

/// A planned edit: the new text of the file, the hash of the content it was
/// planned on, and the report.
#[derive(Debug, Clone)]
pub struct Edit {
    path: PathBuf,
    base: ContentHash,
    /// `None`: nothing to write.
    new_text: Option<String>,
    before: Document,
    /// The new text, read back.
    after: Document,
    pub report: EditReport,
}

impl Edit {
    /// The whole new file, if the edit changes it.
    pub fn new_text(&self) -> Option<&str> {
        self.new_text.as_deref()
    }

    /// For an ECDS file: whether the Wasm filter Envoy receives changes, so
    /// that Envoy rebuilds it (and reloads its workers).
    pub fn filter_changes(&self) -> bool {
        self.before.ecds_filter() != self.after.ecds_filter()
    }

    /// This edit as an entry of the file's history, to append after
    /// [`Edit::commit`].
    pub fn history_entry(&self, source: history::Source) -> history::Entry {
        let mut entry = history::Entry::new(source, Some(&self.report.release), self.after.hash());
        entry.changes = self
            .report
            .changes
            .iter()
            .map(history::FieldChange::from)
            .chain(
                self.report
                    .canary_changes
                    .iter()
                    .map(history::FieldChange::from),
            )
            .collect();
        entry
    }

    /// Writes the new text atomically, unless the file changed since it was
    /// read; an edit that changes nothing writes nothing.
    pub fn commit(&self) -> Result<()> {
        let Some(text) = &self.new_text else {
            return Ok(());
        };
        let path = &self.path;
        write_if_unchanged(path, text.as_bytes(), &self.base).map_err(|e| match e {
            WriteError::Changed => CliError::Changed(format!(
                "{}: changed since canaryctl read it (another writer?); nothing written: run the command again on the new content",
                path.display()
            )),
            WriteError::Failed(message) => CliError::in_file(path, message),
        })
    }
}

/// The raw release object at `index` of the plugin config.
fn release_object(plugin: &mut Value, index: usize) -> Option<&mut Map<String, Value>> {
    plugin.get_mut("releases")?.get_mut(index)?.as_object_mut()
}

/// Renders the file around `plugin` and checks that the text reads back as
/// exactly that config; returns the text and its reading.
fn render_checked(document: &Document, plugin: &Value) -> Result<(String, Document)> {
    let path = &document.path;
    let text = document.render(plugin)?;
    let reread = Document::from_bytes(path, text.clone().into_bytes(), Some(document.kind))?;
    reread.config()?;
    if reread.plugin_value()? != *plugin {
        return Err(CliError::in_file(
            path,
            "internal error: the rewritten file would not hold the edited config; nothing written",
        ));
    }
    Ok((text, reread))
}

/// The edit of release `name` in `document` by `change`: the new text and
/// the report, or why the edit is refused. Touches no file.
pub fn plan(document: &Document, name: &str, change: &Change) -> Result<Edit> {
    let path = &document.path;
    let before = document.config().map_err(|e| {
        CliError::new(format!(
            "{e} (canaryctl edits only a valid config; fix this first)"
        ))
    })?;
    let Some(index) = before.releases.iter().position(|r| r.name == name) else {
        let names: Vec<&str> = before.releases.iter().map(|r| r.name.as_str()).collect();
        return Err(CliError::in_file(
            path,
            format!(
                "no release named \"{name}\"; the releases are: {}",
                names.join(", ")
            ),
        ));
    };
    // `start` checks the release as it stands and picks its new baseline.
    let change = &match (change, before.releases.get(index)) {
        (Change::Start(start), Some(old)) => {
            Change::Start(start.resolve(old).map_err(|e| CliError::in_file(path, e))?)
        }
        _ => change.clone(),
    };
    let mut plugin = document.plugin_value()?;
    let original = plugin.to_string();
    let release = release_object(&mut plugin, index)
        .ok_or_else(|| CliError::in_file(path, format!("releases[{index}]: expected an object")))?;
    apply(change, release).map_err(|e| CliError::in_file(path, format!("{name}: {e}")))?;
    // The filter's checks on the edited config, before anything is written.
    let plugin_json = serde_json::to_vec(&plugin).map_err(|e| CliError::new(e.to_string()))?;
    let after = Config::from_json(&plugin_json).map_err(|e| CliError::in_file(path, e))?;
    let (Some(old), Some(new)) = (before.releases.get(index), after.releases.get(index)) else {
        return Err(CliError::in_file(path, "internal error: the release moved"));
    };
    // Compared as ordered text: `Value` equality ignores key order.
    let edited = plugin.to_string();
    let rewrites = edited != original;
    let (new_text, after_document) = if rewrites {
        let (text, reread) = render_checked(document, &plugin)?;
        (Some(text), reread)
    } else {
        (None, document.clone())
    };
    let file_word = start::shell_word(&path.to_string_lossy());
    let (changes, canary_changes) = if rewrites {
        changes(old, new)
    } else {
        (Vec::new(), Vec::new())
    };
    let report = EditReport {
        file: path.display().to_string(),
        release: name.to_string(),
        rewrites,
        changes,
        canary_changes,
        state: start::state(new),
        moved: match change {
            Change::Start(start) => start.moved(old),
            _ => None,
        },
        next_steps: next_steps(change, new, &file_word),
    };
    Ok(Edit {
        path: path.clone(),
        base: *document.hash(),
        new_text,
        before: document.clone(),
        after: after_document,
        report,
    })
}
