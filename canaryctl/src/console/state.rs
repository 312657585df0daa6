//! What every request of the console shares: the one FILE, Envoy's admin,
//! the token, the lock that makes the console's writes one at a time, and
//! the file as last seen (so that a change from outside becomes a history
//! entry when it is first noticed).

use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard, PoisonError, TryLockError};

use canary_core::{Config, Release};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::admin::Admin;
use crate::console::error::ApiError;
use crate::document::{ContentHash, Document, Kind};
use crate::edit;
use crate::health::prometheus::PrometheusSource;
use crate::history::{self, Entry, Source};

/// The file as last seen by the console.
struct Seen {
    hash: ContentHash,
    releases: Vec<Release>,
}

pub struct Console {
    pub file: PathBuf,
    pub kind: Option<Kind>,
    pub admin: Option<Admin>,
    /// `--prometheus`: live numbers from there instead of the admin.
    pub prometheus: Option<PrometheusSource>,
    /// SHA-256 of the token: compared in constant time and whatever its length.
    token: Option<[u8; 32]>,
    /// `Host` values accepted (empty: any; only with a token).
    pub allowed_hosts: Vec<String>,
    writing: Mutex<()>,
    seen: Mutex<Option<Seen>>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic elsewhere cannot leave these half-updated in a way that matters.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Console {
    pub fn new(
        file: PathBuf,
        kind: Option<Kind>,
        admin: Option<Admin>,
        prometheus: Option<PrometheusSource>,
        token: Option<&str>,
        allowed_hosts: Vec<String>,
    ) -> Self {
        Console {
            file,
            kind,
            admin,
            prometheus,
            token: token.map(|t| Sha256::digest(t.as_bytes()).into()),
            allowed_hosts,
            writing: Mutex::new(()),
            seen: Mutex::new(None),
        }
    }

    pub fn needs_token(&self) -> bool {
        self.token.is_some()
    }

    /// Whether `given` is the token (true when none is required).
    pub fn token_matches(&self, given: &[u8]) -> bool {
        match &self.token {
            None => true,
            Some(want) => {
                let given: [u8; 32] = Sha256::digest(given).into();
                bool::from(want.ct_eq(&given))
            }
        }
    }

    /// Held for the whole of a write: the console's writes never race each
    /// other (the content hash still guards against other writers).
    pub fn write_lock(&self) -> MutexGuard<'_, ()> {
        lock(&self.writing)
    }

    /// `<file>: `, the prefix of every message about the file.
    pub fn file_prefix(&self) -> String {
        format!("{}: ", self.file.display())
    }

    /// Reads FILE for a read-only request, and notes a change from outside
    /// in the history, unless a write of the console is under way (whose
    /// new content is not in the history yet; the next read looks again).
    pub fn load(&self) -> Result<(Document, Config), ApiError> {
        let writing = match self.writing.try_lock() {
            Ok(guard) => Some(guard),
            Err(TryLockError::Poisoned(poisoned)) => Some(poisoned.into_inner()),
            Err(TryLockError::WouldBlock) => None,
        };
        self.read(writing.is_some())
    }

    /// Reads FILE inside a write, under [`Console::write_lock`].
    pub fn load_for_write(
        &self,
        _held: &MutexGuard<'_, ()>,
    ) -> Result<(Document, Config), ApiError> {
        self.read(true)
    }

    fn read(&self, observe: bool) -> Result<(Document, Config), ApiError> {
        let document =
            Document::load(&self.file, self.kind).map_err(|e| ApiError::internal(e.to_string()))?;
        let config = document.config();
        if observe {
            self.observe(&document, config.as_ref().ok());
        }
        let config = config.map_err(|e| ApiError::internal(e.to_string()))?;
        Ok((document, config))
    }

    /// After the console's own write: that content is known.
    pub fn wrote(&self, document: &Document) {
        let releases = document.config().map(|c| c.releases).unwrap_or_default();
        *lock(&self.seen) = Some(Seen {
            hash: *document.hash(),
            releases,
        });
    }

    fn observe(&self, document: &Document, config: Option<&Config>) {
        let mut seen = lock(&self.seen);
        let hash = *document.hash();
        if seen.as_ref().is_some_and(|s| s.hash == hash) {
            return;
        }
        let releases = config.map(|c| c.releases.clone()).unwrap_or_default();
        let recorded = history::read(&self.file).unwrap_or_default();
        let known = recorded
            .last()
            .is_some_and(|e| e.hash == history::hex(&hash));
        if !known {
            let entries = match (seen.as_ref(), recorded.is_empty()) {
                (Some(before), _) => outside_changes(&before.releases, &releases, config, &hash),
                (None, false) => vec![note(&hash, "changed while no console was running")],
                // First sight of a file without history: where it starts.
                (None, true) => Vec::new(),
            };
            for entry in entries {
                // A history that cannot be written does not stop the console.
                let _ = history::append(&self.file, &entry);
            }
        }
        *seen = Some(Seen { hash, releases });
    }
}

fn note(hash: &ContentHash, text: &str) -> Entry {
    let mut entry = Entry::new(Source::File, None, hash);
    entry.note = Some(text.to_string());
    entry
}

/// The history entries of a change from outside: one per release it changed.
fn outside_changes(
    before: &[Release],
    after: &[Release],
    config: Option<&Config>,
    hash: &ContentHash,
) -> Vec<Entry> {
    if config.is_none() {
        return vec![note(
            hash,
            "the file was changed and is not a valid config now",
        )];
    }
    let mut entries = Vec::new();
    for new in after {
        let Some(old) = before.iter().find(|r| r.name == new.name) else {
            let mut entry = Entry::new(Source::File, Some(&new.name), hash);
            entry.note = Some("release added".to_string());
            entries.push(entry);
            continue;
        };
        let (fields, by_canary) = edit::changes(old, new);
        if !fields.is_empty() || !by_canary.is_empty() {
            let mut entry = Entry::new(Source::File, Some(&new.name), hash);
            entry.changes = fields
                .iter()
                .map(history::FieldChange::from)
                .chain(by_canary.iter().map(history::FieldChange::from))
                .collect();
            entries.push(entry);
        }
    }
    for old in before
        .iter()
        .filter(|o| !after.iter().any(|n| n.name == o.name))
    {
        let mut entry = Entry::new(Source::File, Some(&old.name), hash);
        entry.note = Some("release removed".to_string());
        entries.push(entry);
    }
    if entries.is_empty() {
        entries.push(note(hash, "rewritten; routing unchanged"));
    }
    entries
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(weight: u32, extra: &str) -> Config {
        let json = format!(
            r#"{{"releases":[{{"name":"pay","hosts":["pay"],"header":"x-v","baseline":"v1","canary":"v2","weight":{weight}}}{extra}]}}"#
        );
        Config::from_json(json.as_bytes()).unwrap()
    }

    #[test]
    fn changes_from_outside_are_said_per_release() {
        let before = config(20, "").releases;
        let added = r#",{"name":"web","hosts":["web"],"header":"x-w","baseline":"a","canary":"b"}"#;
        let after = config(35, added);
        let entries = outside_changes(&before, &after.releases, Some(&after), &[1; 32]);
        assert_eq!(entries.len(), 2, "{entries:?}");
        assert_eq!(entries[0].source, Source::File);
        assert_eq!(entries[0].changes[0].field, "weight");
        assert_eq!(
            (
                entries[0].changes[0].from.as_str(),
                entries[0].changes[0].to.as_str()
            ),
            ("20%", "35%")
        );
        assert_eq!(entries[1].note.as_deref(), Some("release added"));
        let same = config(20, "");
        let entries = outside_changes(&before, &same.releases, Some(&same), &[2; 32]);
        assert_eq!(
            entries[0].note.as_deref(),
            Some("rewritten; routing unchanged")
        );
        let broken = outside_changes(&before, &[], None, &[3; 32]);
        assert!(broken[0]
            .note
            .as_deref()
            .unwrap()
            .contains("not a valid config"));
    }
}
