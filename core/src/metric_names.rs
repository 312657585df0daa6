//! The filter's counter names, defined once: what the filter registers,
//! what Envoy shows in `/stats` and `/stats/prometheus`, and the parsers
//! that read each back (for `canaryctl status` and the tests).
//!
//! ```text
//! filter:      canary.<release>.<baseline|canary>.<rule|sticky|weight|lane>
//!              canary.<release>.tag.<value>.<rule|sticky|weight|lane>
//!              canary.no_release   canary.refused_plugin
//! /stats:      wasmcustom. + the filter's name
//! prometheus:  the filter's name with every byte outside [a-zA-Z0-9_] as '_'
//! ```
//!
//! The two-version form (`canary`) names its versions `baseline` and
//! `canary`; a release written with `canaries` keeps `baseline` for its
//! baseline and names each canary by its value after the word `tag`.
//! Release names and canary values (the free parts) are 1 to 64 of
//! `a-z A-Z 0-9 - _`, so they hold no '.': a name has three parts after
//! `canary.` (release, version, reason) or four (release, `tag`, value,
//! reason).

use std::fmt;

use crate::version::{Reason, Version};

/// What the filter's counter names start with.
pub const FILTER_PREFIX: &str = "canary.";
/// What Envoy puts before a wasm filter's counter names in `/stats`.
pub const STATS_NAMESPACE: &str = "wasmcustom.";
/// `STATS_NAMESPACE` + `FILTER_PREFIX`: every canary counter in `/stats`.
pub const STATS_PREFIX: &str = "wasmcustom.canary.";
/// `FILTER_PREFIX` as Prometheus spells it.
pub const PROMETHEUS_PREFIX: &str = "canary_";

const NO_RELEASE: &str = "no_release";
/// Marks a canary named by its value.
const TAG: &str = "tag";
const REFUSED_PLUGIN: &str = "refused_plugin";

/// The longest release name: it is part of every counter name.
pub const MAX_RELEASE_NAME_LEN: usize = 64;

/// A release name may name counters: 1 to 64 of `a-z A-Z 0-9 - _`.
pub fn is_valid_release_name(name: &str) -> bool {
    let valid = |b: u8| b.is_ascii_alphanumeric() || b == b'-' || b == b'_';
    !name.is_empty() && name.len() <= MAX_RELEASE_NAME_LEN && name.bytes().all(valid)
}

/// A canary value of the `canaries` form names counters, as a release name
/// does, so it follows the same rule.
pub fn is_valid_tag(value: &str) -> bool {
    is_valid_release_name(value)
}

/// Prometheus turns '-' into '_', so "a-b" and "a_b" would share counters.
/// Compares without allocating (the config compares every pair of names).
pub fn same_prometheus_name(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .all(|(x, y)| prometheus_byte(x) == prometheus_byte(y))
}

/// Envoy's Prometheus rule: every byte outside `[a-zA-Z0-9_]` becomes '_'.
fn prometheus_byte(b: u8) -> u8 {
    if b.is_ascii_alphanumeric() || b == b'_' {
        b
    } else {
        b'_'
    }
}

/// One of the filter's counters. Displays as the name the filter defines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CounterName<'a> {
    /// Requests of a release that went to `version` because of `reason`.
    Routed {
        release: &'a str,
        version: Version,
        reason: Reason,
    },
    /// Requests of a release written with `canaries` that went to the
    /// canary whose value is `value` because of `reason`.
    Tagged {
        release: &'a str,
        value: &'a str,
        reason: Reason,
    },
    /// Requests whose host no release covers.
    NoRelease,
    /// Plugins a worker refused a VM (configurations, not requests).
    RefusedPlugin,
}

impl<'a> CounterName<'a> {
    /// The counter of one release, version and reason.
    pub fn routed(release: &'a str, version: Version, reason: Reason) -> Self {
        CounterName::Routed {
            release,
            version,
            reason,
        }
    }

    /// The counter of one canary of a release written with `canaries`.
    pub fn tagged(release: &'a str, value: &'a str, reason: Reason) -> Self {
        CounterName::Tagged {
            release,
            value,
            reason,
        }
    }

    /// As `/stats` lists it: `wasmcustom.canary.…`.
    pub fn stats_name(&self) -> String {
        format!("{STATS_NAMESPACE}{self}")
    }

    /// As `/stats/prometheus` lists it: `canary_…`, with the release's '-'
    /// as '_'.
    pub fn prometheus_name(&self) -> String {
        let name = self.to_string().into_bytes();
        name.into_iter()
            .map(|b| char::from(prometheus_byte(b)))
            .collect()
    }

    /// Reads a name the filter defines (`canary.…`); `None` for any other
    /// name, including ones with an invalid release, version or reason.
    pub fn parse(name: &'a str) -> Option<Self> {
        Self::parse_parts(name.strip_prefix(FILTER_PREFIX)?, '.')
    }

    /// Reads a name as `/stats` lists it (`wasmcustom.canary.…`).
    pub fn parse_stats(name: &'a str) -> Option<Self> {
        Self::parse(name.strip_prefix(STATS_NAMESPACE)?)
    }

    /// Reads a name as `/stats/prometheus` lists it (`canary_…`). The
    /// release and value come back as Prometheus spells them, '-' turned
    /// into '_' (compare them with `same_prometheus_name`). Prometheus
    /// joins parts with '_', which names may hold too: a tagged name is read
    /// only when `_tag_` occurs once in it, else it is `None` (read `/stats`),
    /// and a name that reads as the two-version form is read so.
    pub fn parse_prometheus(name: &'a str) -> Option<Self> {
        let rest = name.strip_prefix(PROMETHEUS_PREFIX)?;
        Self::parse_parts(rest, '_').or_else(|| Self::parse_tagged_prometheus(rest))
    }

    /// `rest` is the name after its prefix; `separator` joins the parts.
    fn parse_parts(rest: &'a str, separator: char) -> Option<Self> {
        match rest {
            NO_RELEASE => return Some(CounterName::NoRelease),
            REFUSED_PLUGIN => return Some(CounterName::RefusedPlugin),
            _ => {}
        }
        let mut parts = rest.rsplitn(3, separator);
        let reason = Reason::from_name(parts.next()?)?;
        let middle = parts.next()?;
        let release = parts.next()?;
        if let Some(version) = Version::from_name(middle) {
            if is_valid_release_name(release) {
                return Some(CounterName::Routed {
                    release,
                    version,
                    reason,
                });
            }
        }
        // Four parts: release, "tag", value, reason ('.' only: see above).
        if separator != '.' {
            return None;
        }
        let (release, tag) = release.split_once('.')?;
        (tag == TAG && is_valid_release_name(release) && is_valid_tag(middle)).then_some(
            CounterName::Tagged {
                release,
                value: middle,
                reason,
            },
        )
    }

    /// `<release>_tag_<value>_<reason>` with `_tag_` once in it.
    fn parse_tagged_prometheus(rest: &'a str) -> Option<Self> {
        let (before, reason) = rest.rsplit_once('_')?;
        let reason = Reason::from_name(reason)?;
        let marker = "_tag_";
        let at = before.find(marker)?;
        // Overlapping ones count too: "a_tag_tag_b" reads two ways.
        if before.rfind(marker) != Some(at) {
            return None;
        }
        let release = before.get(..at)?;
        let value = before.get(at + marker.len()..)?;
        (is_valid_release_name(release) && is_valid_tag(value)).then_some(CounterName::Tagged {
            release,
            value,
            reason,
        })
    }
}

impl fmt::Display for CounterName<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CounterName::Routed {
                release,
                version,
                reason,
            } => write!(
                f,
                "{FILTER_PREFIX}{release}.{}.{}",
                version.as_str(),
                reason.as_str()
            ),
            CounterName::Tagged {
                release,
                value,
                reason,
            } => write!(
                f,
                "{FILTER_PREFIX}{release}.{TAG}.{value}.{}",
                reason.as_str()
            ),
            CounterName::NoRelease => write!(f, "{FILTER_PREFIX}{NO_RELEASE}"),
            CounterName::RefusedPlugin => write!(f, "{FILTER_PREFIX}{REFUSED_PLUGIN}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn every_counter_of(release: &str) -> Vec<CounterName<'_>> {
        let mut all = vec![CounterName::NoRelease, CounterName::RefusedPlugin];
        for version in Version::ALL {
            for reason in Reason::ALL {
                all.push(CounterName::routed(release, version, reason));
            }
        }
        all
    }

    #[test]
    fn the_names_operators_see() {
        // Written out independently of the code: the README's "Metrics" table.
        let cases = [
            (
                CounterName::routed("pay", Version::Canary, Reason::Rule),
                "canary.pay.canary.rule",
                "wasmcustom.canary.pay.canary.rule",
                "canary_pay_canary_rule",
            ),
            (
                CounterName::routed("shop-v2", Version::Baseline, Reason::Weight),
                "canary.shop-v2.baseline.weight",
                "wasmcustom.canary.shop-v2.baseline.weight",
                "canary_shop_v2_baseline_weight",
            ),
            (
                CounterName::tagged("pay", "pay-v3", Reason::Sticky),
                "canary.pay.tag.pay-v3.sticky",
                "wasmcustom.canary.pay.tag.pay-v3.sticky",
                "canary_pay_tag_pay_v3_sticky",
            ),
            (
                CounterName::NoRelease,
                "canary.no_release",
                "wasmcustom.canary.no_release",
                "canary_no_release",
            ),
            (
                CounterName::RefusedPlugin,
                "canary.refused_plugin",
                "wasmcustom.canary.refused_plugin",
                "canary_refused_plugin",
            ),
        ];
        for (counter, filter, stats, prometheus) in cases {
            assert_eq!(counter.to_string(), filter);
            assert_eq!(counter.stats_name(), stats);
            assert_eq!(counter.prometheus_name(), prometheus);
        }
        assert_eq!(STATS_PREFIX, format!("{STATS_NAMESPACE}{FILTER_PREFIX}"));
    }

    #[test]
    fn names_round_trip_in_every_form() {
        // Releases that look like the special names or like versions and
        // reasons, and ones with '_' and '-' in them.
        let releases = [
            "pay",
            "no_release",
            "refused_plugin",
            "canary",
            "rule",
            "a_b-c",
            "baseline_weight",
            "-",
            "_",
            "x1234567890123456789012345678901234567890123456789012345678901y",
        ];
        for release in releases {
            assert!(is_valid_release_name(release), "{release}");
            for counter in every_counter_of(release) {
                let filter = counter.to_string();
                assert_eq!(CounterName::parse(&filter), Some(counter), "{filter}");
                let stats = counter.stats_name();
                assert_eq!(CounterName::parse_stats(&stats), Some(counter), "{stats}");
                let prometheus = counter.prometheus_name();
                let folded = release.replace('-', "_");
                let want = match counter {
                    CounterName::Routed {
                        version, reason, ..
                    } => CounterName::routed(&folded, version, reason),
                    other => other,
                };
                assert_eq!(
                    CounterName::parse_prometheus(&prometheus),
                    Some(want),
                    "{prometheus}"
                );
            }
        }
    }

    #[test]
    fn garbage_is_refused() {
        let names = [
            "",
            "canary.",
            "canary",
            "canary.pay",
            "canary.pay.canary",
            "canary..canary.rule",
            "canary.pay.sideways.rule",
            "canary.pay.canary.luck",
            "canary.pay.Canary.rule",
            "canary.a.b.canary.rule",
            "canary.pay service.canary.rule",
            "canary.pay.canary.rule.",
            "canary.no_release.",
            "canary.hist",
            "wasmcustom.canary.pay.canary.rule",
            "cluster.x.upstream_rq",
            "Canary.pay.canary.rule",
            "canary.p\u{e9}.canary.rule",
        ];
        for name in names {
            assert_eq!(CounterName::parse(name), None, "{name:?}");
        }
        let too_long = format!("canary.{}.canary.rule", "x".repeat(65));
        assert_eq!(CounterName::parse(&too_long), None);
        assert_eq!(CounterName::parse_stats("canary.pay.canary.rule"), None);
        assert_eq!(
            CounterName::parse_stats("wasmcustom.canary.odd.sideways.rule"),
            None
        );
        for name in [
            "canary_pay_sideways_rule",
            "canary_",
            "canary_pay",
            "envoy_canary_no_release",
        ] {
            assert_eq!(CounterName::parse_prometheus(name), None, "{name}");
        }
    }

    #[test]
    fn release_names_and_their_prometheus_clashes() {
        for bad in ["", "a.b", "a b", "é", "a/b", &"x".repeat(65)] {
            assert!(!is_valid_release_name(bad), "{bad:?}");
        }
        assert!(is_valid_release_name(&"x".repeat(64)));
        assert!(same_prometheus_name("a-b", "a_b"));
        assert!(same_prometheus_name("a-b", "a-b"));
        assert!(!same_prometheus_name("a-b", "a-c"));
        assert!(!same_prometheus_name("ab", "a-b"));
        assert!(!same_prometheus_name("Ab", "ab"));
    }
}
