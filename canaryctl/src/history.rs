//! The history of a config file: one JSON object a line in
//! `FILE.history.jsonl` beside it, appended by the console and by
//! canaryctl's edits, each entry with the content hash the file had after
//! it. A file whose hash is not the last entry's was changed by someone
//! else (the console records that as a change from outside).

use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use serde::{Deserialize, Serialize};

use crate::document::ContentHash;

/// Who made a change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    Console,
    Canaryctl,
    /// Written by something else (an editor, a deploy script).
    File,
}

/// One field of a release, before and after, in words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldChange {
    pub field: String,
    pub from: String,
    pub to: String,
}

/// One change of the file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// RFC 3339, UTC.
    pub time: String,
    pub source: Source,
    pub release: Option<String>,
    pub changes: Vec<FieldChange>,
    /// What the entry cannot say in fields ("changed while no console ran").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// The file's content hash after the change (hex).
    pub hash: String,
}

impl Entry {
    pub fn new(source: Source, release: Option<&str>, hash: &ContentHash) -> Self {
        Entry {
            time: humantime::format_rfc3339_seconds(SystemTime::now()).to_string(),
            source,
            release: release.map(str::to_string),
            changes: Vec::new(),
            note: None,
            hash: hex(hash),
        }
    }
}

/// A content hash as lower-case hex: the console's ETag and history key.
pub fn hex(hash: &ContentHash) -> String {
    hash.iter().map(|b| format!("{b:02x}")).collect()
}

/// `FILE.history.jsonl`, beside FILE.
pub fn path_for(file: &Path) -> PathBuf {
    let mut name = file.file_name().unwrap_or_default().to_os_string();
    name.push(".history.jsonl");
    file.with_file_name(name)
}

/// Appends `entry` as one line, in one write (appends of a line do not
/// interleave).
pub fn append(file: &Path, entry: &Entry) -> Result<(), String> {
    let path = path_for(file);
    let mut line = serde_json::to_string(entry).map_err(|e| e.to_string())?;
    line.push('\n');
    OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .and_then(|mut f| f.write_all(line.as_bytes()))
        .map_err(|e| format!("{}: cannot append: {e}", path.display()))
}

/// Appends `entry` if FILE keeps a history (a console has run on it);
/// otherwise leaves the folder as it is.
pub fn append_if_kept(file: &Path, entry: &Entry) -> Result<(), String> {
    if path_for(file).exists() {
        append(file, entry)
    } else {
        Ok(())
    }
}

/// Makes FILE keep a history from now on (an empty one to begin with).
pub fn keep(file: &Path) -> Result<(), String> {
    let path = path_for(file);
    OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .map(drop)
        .map_err(|e| format!("{}: cannot create: {e}", path.display()))
}

/// Every entry, oldest first; a line that is not an entry is skipped (a
/// history is a record, not something to refuse to show).
pub fn read(file: &Path) -> Result<Vec<Entry>, String> {
    let path = path_for(file);
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(format!("{}: {e}", path.display())),
    };
    Ok(text
        .lines()
        .filter_map(|line| serde_json::from_str(line).ok())
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn appends_and_reads_back_skipping_junk() {
        let dir = std::env::temp_dir().join(format!("canaryctl-history-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("canary.json");
        assert_eq!(path_for(&file), dir.join("canary.json.history.jsonl"));
        let _ = std::fs::remove_file(path_for(&file));
        assert!(read(&file).unwrap().is_empty());
        append_if_kept(&file, &Entry::new(Source::Canaryctl, None, &[1; 32])).unwrap();
        assert!(!path_for(&file).exists());
        keep(&file).unwrap();
        assert!(read(&file).unwrap().is_empty());
        let mut entry = Entry::new(Source::Console, Some("pay"), &[7; 32]);
        entry.changes.push(FieldChange {
            field: "weight".into(),
            from: "0%".into(),
            to: "35%".into(),
        });
        append(&file, &entry).unwrap();
        std::fs::OpenOptions::new()
            .append(true)
            .open(path_for(&file))
            .unwrap()
            .write_all(b"not json\n")
            .unwrap();
        append(&file, &Entry::new(Source::File, None, &[8; 32])).unwrap();
        let entries = read(&file).unwrap();
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[0], entry);
        assert_eq!(entries[1].source, Source::File);
        assert_eq!(entries[1].hash, "08".repeat(32));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
