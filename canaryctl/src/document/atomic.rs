//! Hand-written: no crate keeps the file's permissions, refuses symlinks and re-checks the content hash between the write and the rename.
//!
//! Replacing a file so that no reader ever sees half of it: the new content
//! goes to a temporary file in the same directory, is flushed to disk, and
//! is renamed over the old one. The rename is also what Envoy's ECDS file
//! watcher reacts to.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

/// The SHA-256 of a file's bytes: an edit is written only if the file still
/// has the hash it had when it was read.
pub type ContentHash = [u8; 32];

pub fn content_hash(bytes: &[u8]) -> ContentHash {
    Sha256::digest(bytes).into()
}

/// Why a checked write did not happen. Either way the file is as it was.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WriteError {
    /// The file's content is no longer the one the edit was planned on.
    Changed,
    /// Any other failure, said in words.
    Failed(String),
}

fn temp_path(path: &Path) -> Result<PathBuf, String> {
    let name = path
        .file_name()
        .ok_or_else(|| "is not a file name".to_string())?;
    let temp = format!(
        ".{}.canaryctl-{}.tmp",
        name.to_string_lossy(),
        std::process::id()
    );
    Ok(path.with_file_name(temp))
}

/// Writes `contents` to `path` atomically, keeping its permissions.
pub fn write_atomically(path: &Path, contents: &[u8]) -> Result<(), String> {
    write_checked(path, contents, None).map_err(|e| match e {
        WriteError::Changed => "changed while it was written".to_string(),
        WriteError::Failed(message) => message,
    })
}

/// Like [`write_atomically`], but refuses (writing nothing) unless the file
/// still hashes to `expected`, checked after the new content is on disk and
/// just before the rename, so that a concurrent writer is not overwritten.
/// (A writer that lands in the instant between that check and the rename
/// still loses; only a lock every writer honours would close that gap.)
pub fn write_if_unchanged(
    path: &Path,
    contents: &[u8],
    expected: &ContentHash,
) -> Result<(), WriteError> {
    write_checked(path, contents, Some(expected))
}

fn write_checked(
    path: &Path,
    contents: &[u8],
    expected: Option<&ContentHash>,
) -> Result<(), WriteError> {
    let metadata = fs::symlink_metadata(path).map_err(|e| WriteError::Failed(e.to_string()))?;
    if metadata.file_type().is_symlink() {
        return Err(WriteError::Failed("is a symbolic link; canaryctl replaces files by renaming, which would replace the link itself: give the link's target instead".to_string()));
    }
    let temp = temp_path(path).map_err(WriteError::Failed)?;
    let result = write_then_rename(&temp, path, contents, metadata.permissions(), expected);
    if result.is_err() {
        // Best effort: the original is intact either way.
        let _ = fs::remove_file(&temp);
    }
    result
}

fn write_then_rename(
    temp: &Path,
    path: &Path,
    contents: &[u8],
    permissions: fs::Permissions,
    expected: Option<&ContentHash>,
) -> Result<(), WriteError> {
    let io = |e: std::io::Error| WriteError::Failed(format!("cannot write: {e}"));
    // A temp file left by a killed run of this same pid is stale.
    let _ = fs::remove_file(temp);
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(temp)
        .map_err(io)?;
    file.write_all(contents).map_err(io)?;
    file.set_permissions(permissions).map_err(io)?;
    file.sync_all().map_err(io)?;
    drop(file);
    if let Some(expected) = expected {
        let now = fs::read(path).map_err(io)?;
        if content_hash(&now) != *expected {
            return Err(WriteError::Changed);
        }
    }
    fs::rename(temp, path).map_err(io)?;
    // Make the rename itself durable; not every filesystem allows this.
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        let _ = File::open(dir).and_then(|d| d.sync_all());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("canaryctl-atomic-{}-{name}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn replaces_content_and_leaves_no_temp_file() {
        let dir = scratch("replace");
        let file = dir.join("plugin.json");
        fs::write(&file, "old").unwrap();
        write_atomically(&file, b"new").unwrap();
        assert_eq!(fs::read_to_string(&file).unwrap(), "new");
        let names: Vec<_> = fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("plugin.json")]);
        fs::remove_dir_all(dir).unwrap();
    }

    #[cfg(unix)]
    #[test]
    fn keeps_permissions_and_refuses_symlinks() {
        use std::os::unix::fs::PermissionsExt;
        let dir = scratch("perm");
        let file = dir.join("ecds.yaml");
        fs::write(&file, "old").unwrap();
        fs::set_permissions(&file, fs::Permissions::from_mode(0o640)).unwrap();
        write_atomically(&file, b"new").unwrap();
        let mode = fs::metadata(&file).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o640);
        let link = dir.join("link.yaml");
        std::os::unix::fs::symlink(&file, &link).unwrap();
        assert!(write_atomically(&link, b"x")
            .unwrap_err()
            .contains("symbolic link"));
        assert_eq!(fs::read_to_string(&file).unwrap(), "new");
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_changed_file_is_not_overwritten() {
        let dir = scratch("changed");
        let file = dir.join("plugin.json");
        fs::write(&file, "read").unwrap();
        let read = content_hash(b"read");
        fs::write(&file, "theirs").unwrap();
        assert_eq!(
            write_if_unchanged(&file, b"mine", &read),
            Err(WriteError::Changed)
        );
        assert_eq!(fs::read_to_string(&file).unwrap(), "theirs");
        assert_eq!(fs::read_dir(&dir).unwrap().count(), 1, "no temp file left");
        write_if_unchanged(&file, b"mine", &content_hash(b"theirs")).unwrap();
        assert_eq!(fs::read_to_string(&file).unwrap(), "mine");
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn missing_file_is_an_error() {
        let dir = scratch("missing");
        assert!(write_atomically(&dir.join("nope.json"), b"x").is_err());
        fs::remove_dir_all(dir).unwrap();
    }
}
