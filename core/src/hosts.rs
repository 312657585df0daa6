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

#[derive(Debug, Clone, Default)]
pub struct HostIndex {
    /// Host to (release, position in its `hosts`).
    exact: HostMap,
    /// Keyed by the suffix with its leading dot: "*.example.com" is ".example.com".
    wildcard: HostMap,
    catch_all: Option<usize>,
}

type HostMap = HashMap<Vec<u8>, (usize, usize), BuildHasherDefault<Fnv>>;

/// One host pattern of one release: lower-case, a name or `*.suffix`.
#[derive(Debug, Clone, Copy)]
pub struct Claim<'a> {
    pub pattern: &'a str,
    pub release: usize,
    /// Its place in the release's `hosts`, for error messages.
    pub position: usize,
}

/// Two releases that can claim the same host. Reported at the later
/// release's pattern, naming the earlier one's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Clash {
    pub release: usize,
    pub position: usize,
    pub pattern: String,
    pub other: usize,
    pub other_pattern: String,
}

impl HostIndex {
    pub fn lookup(&self, host: &[u8]) -> Option<usize> {
        if let Some(&(release, _)) = self.exact.get(host) {
            return Some(release);
        }
        self.wildcard_for(host)
            .map(|(_, (release, _))| release)
            .or(self.catch_all)
    }

    /// The wildcard covering `host`, by its key: every suffix that starts at
    /// a dot and leaves at least one character before it ("a.b.c" tries
    /// ".b.c", then ".c").
    fn wildcard_for<'h>(&self, host: &'h [u8]) -> Option<(&'h [u8], (usize, usize))> {
        host.iter()
            .enumerate()
            .skip(1)
            .filter(|(_, &b)| b == b'.')
            .find_map(|(i, _)| {
                let suffix = host.get(i..)?;
                self.wildcard.get(suffix).map(|&entry| (suffix, entry))
            })
    }

    /// Builds the index in time linear in the claims' length. A pattern one
    /// release repeats is fine; one that another release can also claim is a
    /// clash: the first one, in config order, is returned.
    pub fn build<'a>(
        claims: impl IntoIterator<Item = Claim<'a>>,
        catch_all: Option<usize>,
    ) -> Result<Self, Clash> {
        let mut index = HostIndex {
            catch_all,
            ..HostIndex::default()
        };
        let claims: Vec<Claim<'a>> = claims.into_iter().collect();
        let mut clashes = Vec::new();
        // Same pattern twice.
        for claim in &claims {
            let (map, key) = match claim.pattern.strip_prefix('*') {
                Some(suffix) => (&mut index.wildcard, suffix.as_bytes()),
                None => (&mut index.exact, claim.pattern.as_bytes()),
            };
            match map.get(key) {
                Some(&(other, _)) if other != claim.release => {
                    clashes.push(clash(claim, other, claim.pattern.to_string()));
                }
                Some(_) => {}
                None => {
                    map.insert(key.to_vec(), (claim.release, claim.position));
                }
            }
        }
        // A pattern under another release's broader wildcard: each such pair
        // is found from its narrower side, so one probe per label suffices.
        for claim in &claims {
            let key = claim.pattern.strip_prefix('*').unwrap_or(claim.pattern);
            let Some((suffix, (other, position))) = index.wildcard_for(key.as_bytes()) else {
                continue;
            };
            if other == claim.release {
                continue;
            }
            let broader = format!("*{}", std::str::from_utf8(suffix).unwrap_or_default());
            if other < claim.release {
                clashes.push(clash(claim, other, broader));
            } else {
                let later = Claim {
                    pattern: &broader,
                    release: other,
                    position,
                };
                clashes.push(clash(&later, claim.release, claim.pattern.into()));
            }
        }
        match clashes.into_iter().min_by_key(|c| (c.release, c.position)) {
            Some(first) => Err(first),
            None => Ok(index),
        }
    }
}

fn clash(claim: &Claim<'_>, other: usize, other_pattern: String) -> Clash {
    Clash {
        release: claim.release,
        position: claim.position,
        pattern: claim.pattern.to_string(),
        other,
        other_pattern,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn claims<'a>(patterns: &[(&'a str, usize)]) -> Vec<Claim<'a>> {
        patterns
            .iter()
            .enumerate()
            .map(|(position, &(pattern, release))| Claim {
                pattern,
                release,
                position,
            })
            .collect()
    }

    #[test]
    fn lookup_order_and_wildcards() {
        let index = HostIndex::build(claims(&[("pay", 0), ("*.example.com", 1)]), Some(2)).unwrap();
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
        let index = HostIndex::build(claims(&[("pay", 0)]), None).unwrap();
        assert_eq!(index.lookup(b"other"), None);
        assert_eq!(index.lookup(b""), None);
    }

    #[test]
    fn clashes_are_reported_at_the_later_release() {
        // (first release's pattern, second's) -> (pattern blamed, pattern named)
        let clash = |first: &str, second: &str| {
            HostIndex::build(claims(&[(first, 0), (second, 1)]), None)
                .err()
                .map(|c| {
                    assert_eq!((c.release, c.other), (1, 0));
                    (c.pattern, c.other_pattern)
                })
        };
        let pair = |a: &str, b: &str| Some((a.to_string(), b.to_string()));
        assert_eq!(clash("pay", "pay"), pair("pay", "pay"));
        assert_eq!(clash("*.a.com", "*.a.com"), pair("*.a.com", "*.a.com"));
        assert_eq!(clash("*.a.com", "x.a.com"), pair("x.a.com", "*.a.com"));
        assert_eq!(clash("x.a.com", "*.a.com"), pair("*.a.com", "x.a.com"));
        assert_eq!(clash("*.com", "*.a.com"), pair("*.a.com", "*.com"));
        assert_eq!(clash("*.a.com", "*.com"), pair("*.com", "*.a.com"));
        assert_eq!(clash("a.com", "*.a.com"), None);
        assert_eq!(clash("*.a.com", "b.com"), None);
    }

    #[test]
    fn one_release_may_overlap_itself() {
        let patterns = [("*.a.com", 0), ("x.a.com", 0), ("x.a.com", 0)];
        assert!(HostIndex::build(claims(&patterns), Some(1)).is_ok());
    }

    #[test]
    fn many_wildcards_build_without_pairwise_checks() {
        // 20,000 distinct wildcards of distinct releases: linear, not quadratic.
        let patterns: Vec<String> = (0..20_000).map(|i| format!("*.h{i}.example")).collect();
        let claims = patterns.iter().enumerate().map(|(i, p)| Claim {
            pattern: p,
            release: i,
            position: 0,
        });
        let index = HostIndex::build(claims, None).unwrap();
        assert_eq!(index.lookup(b"x.h19999.example"), Some(19_999));
    }
}
