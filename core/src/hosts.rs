//! Host to release lookup that does not grow with the number of releases:
//! one map probe for the exact host, one per label for `*.` wildcards, then
//! the catch-all. Overlapping claims are refused when the index is built, so
//! at most one entry can match and the order of probes does not matter.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use crate::bucket::fnv1a;

/// FNV-1a for host keys. The keys come from the config and requests only
/// look up, never insert, so hostile hosts cannot grow a probe chain; and
/// it spares the wasm SipHash and its random keys.
struct Fnv(u64);

impl Default for Fnv {
    fn default() -> Self {
        Self(fnv1a(0xcbf2_9ce4_8422_2325, &[]))
    }
}

impl Hasher for Fnv {
    fn write(&mut self, bytes: &[u8]) {
        self.0 = fnv1a(self.0, bytes);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

type HostMap = HashMap<Vec<u8>, usize, BuildHasherDefault<Fnv>>;

#[derive(Debug, Clone, Default)]
pub struct HostIndex {
    exact: HostMap,
    /// Keyed by the suffix with its leading dot: "*.example.com" is ".example.com".
    wildcard: HostMap,
    catch_all: Option<usize>,
}

/// A claim that clashes with one already in the index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Clash {
    /// The release that claimed it first.
    pub other: usize,
    /// The host pattern of that release that overlaps.
    pub pattern: String,
}

impl HostIndex {
    pub fn lookup(&self, host: &[u8]) -> Option<usize> {
        if let Some(&release) = self.exact.get(host) {
            return Some(release);
        }
        self.wildcard_for(host).or(self.catch_all)
    }

    fn wildcard_for(&self, host: &[u8]) -> Option<usize> {
        // Every suffix that starts at a dot and leaves at least one
        // character before it: "a.b.c" tries ".b.c" then ".c".
        host.iter()
            .enumerate()
            .skip(1)
            .filter(|(_, &b)| b == b'.')
            .find_map(|(i, _)| host.get(i..).and_then(|suffix| self.wildcard.get(suffix)))
            .copied()
    }

    /// Adds the catch-all (a release with no hosts).
    pub fn add_catch_all(&mut self, release: usize) -> Result<(), Clash> {
        match self.catch_all {
            Some(other) if other != release => Err(Clash {
                other,
                pattern: "every host".into(),
            }),
            _ => {
                self.catch_all = Some(release);
                Ok(())
            }
        }
    }

    /// Adds a lower-case host or `*.suffix` pattern. A pattern one release
    /// repeats is fine; one that another release can also claim is a clash.
    pub fn add(&mut self, pattern: &str, release: usize) -> Result<(), Clash> {
        let clash = |other: usize, pattern: String| Err(Clash { other, pattern });
        if let Some(suffix) = pattern.strip_prefix('*') {
            let key = suffix.as_bytes();
            if let Some(&other) = self.wildcard.get(key) {
                return if other == release {
                    Ok(())
                } else {
                    clash(other, pattern.into())
                };
            }
            // A broader wildcard of another release ("*.com" vs "*.a.com").
            if let Some(other) = self.wildcard_for(key).filter(|&o| o != release) {
                return clash(other, self.wildcard_pattern(other, key));
            }
            // A narrower wildcard or an exact host of another release.
            let narrower = self.wildcard.iter().map(|(k, &r)| (k, r, '*'));
            let exact = self.exact.iter().map(|(k, &r)| (k, r, ' '));
            for (claimed, other, kind) in narrower.chain(exact) {
                if other != release && claimed.len() > key.len() && claimed.ends_with(key) {
                    let name = String::from_utf8_lossy(claimed);
                    let shown = if kind == '*' {
                        format!("*{name}")
                    } else {
                        name.into_owned()
                    };
                    return clash(other, shown);
                }
            }
            self.wildcard.insert(key.to_vec(), release);
        } else {
            let key = pattern.as_bytes();
            if let Some(&other) = self.exact.get(key) {
                return if other == release {
                    Ok(())
                } else {
                    clash(other, pattern.into())
                };
            }
            if let Some(other) = self.wildcard_for(key).filter(|&o| o != release) {
                return clash(other, self.wildcard_pattern(other, key));
            }
            self.exact.insert(key.to_vec(), release);
        }
        Ok(())
    }

    /// The wildcard of `release` that covers `host`, for error messages.
    fn wildcard_pattern(&self, release: usize, host: &[u8]) -> String {
        self.wildcard
            .iter()
            .filter(|(suffix, &r)| r == release && host.ends_with(suffix))
            .map(|(suffix, _)| format!("*{}", std::str::from_utf8(suffix).unwrap_or_default()))
            .next()
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn lookup_order_and_wildcards() {
        let mut index = HostIndex::default();
        index.add("pay", 0).unwrap();
        index.add("*.example.com", 1).unwrap();
        index.add_catch_all(2).unwrap();
        let cases: [(&str, Option<usize>); 6] = [
            ("pay", Some(0)),
            ("a.example.com", Some(1)),
            ("a.b.example.com", Some(1)),
            ("example.com", Some(2)),
            (".example.com", Some(2)),
            ("other", Some(2)),
        ];
        for (host, want) in cases {
            assert_eq!(index.lookup(host.as_bytes()), want, "{host}");
        }
    }

    #[test]
    fn no_catch_all_means_no_release() {
        let mut index = HostIndex::default();
        index.add("pay", 0).unwrap();
        assert_eq!(index.lookup(b"other"), None);
        assert_eq!(index.lookup(b""), None);
    }

    #[test]
    fn clashes_between_releases() {
        let clash = |first: &str, second: &str| {
            let mut index = HostIndex::default();
            index.add(first, 0).unwrap();
            index.add(second, 1).err().map(|c| c.pattern)
        };
        assert_eq!(clash("pay", "pay"), Some("pay".into()));
        assert_eq!(clash("*.a.com", "*.a.com"), Some("*.a.com".into()));
        assert_eq!(clash("*.a.com", "x.a.com"), Some("*.a.com".into()));
        assert_eq!(clash("x.a.com", "*.a.com"), Some("x.a.com".into()));
        assert_eq!(clash("*.com", "*.a.com"), Some("*.com".into()));
        assert_eq!(clash("*.a.com", "*.com"), Some("*.a.com".into()));
        assert_eq!(clash("a.com", "*.a.com"), None);
        assert_eq!(clash("*.a.com", "b.com"), None);
    }

    #[test]
    fn one_release_may_overlap_itself() {
        let mut index = HostIndex::default();
        index.add("*.a.com", 0).unwrap();
        index.add("x.a.com", 0).unwrap();
        index.add("x.a.com", 0).unwrap();
        assert!(index.add_catch_all(1).is_ok());
        assert!(index.add_catch_all(2).is_err());
    }
}
