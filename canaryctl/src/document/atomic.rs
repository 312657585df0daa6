//! Replacing a file so that no reader ever sees half of it: the new content
//! goes to a temporary file in the same directory, is flushed to disk, and
//! is renamed over the old one. The rename is also what Envoy's ECDS file
//! watcher reacts to.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

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
    let metadata = fs::symlink_metadata(path).map_err(|e| e.to_string())?;
    if metadata.file_type().is_symlink() {
        return Err("is a symbolic link; canaryctl replaces files by renaming, which would replace the link itself: give the link's target instead".to_string());
    }
    let temp = temp_path(path)?;
    let result = write_then_rename(&temp, path, contents, metadata.permissions());
    if result.is_err() {
        // Best effort: the original is intact either way.
        let _ = fs::remove_file(&temp);
    }
    result.map_err(|e| format!("cannot write: {e}"))
}

fn write_then_rename(
    temp: &Path,
    path: &Path,
    contents: &[u8],
    permissions: fs::Permissions,
) -> std::io::Result<()> {
    // A temp file left by a killed run of this same pid is stale.
    let _ = fs::remove_file(temp);
    let mut file = OpenOptions::new().write(true).create_new(true).open(temp)?;
    file.write_all(contents)?;
    file.set_permissions(permissions)?;
    file.sync_all()?;
    drop(file);
    fs::rename(temp, path)?;
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
    fn missing_file_is_an_error() {
        let dir = scratch("missing");
        assert!(write_atomically(&dir.join("nope.json"), b"x").is_err());
        fs::remove_dir_all(dir).unwrap();
    }
}
