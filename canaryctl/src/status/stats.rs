//! The filter's counters as Envoy's `/stats` lists them:
//! `wasmcustom.canary.<release>.<baseline|canary>.<rule|sticky|weight|lane>: N`,
//! for a release with several canaries
//! `wasmcustom.canary.<release>.tag.<value>.<rule|sticky|weight|lane>: N`,
//! and `wasmcustom.canary.no_release: N`. The names are the core's
//! ([`CounterName`]); this reads and sums them.

use std::collections::BTreeMap;

use canary_core::{CounterName, Reason, Version};
use serde::Serialize;

/// Requests of one version, by reason.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ByReason {
    pub rule: u64,
    pub sticky: u64,
    pub weight: u64,
    /// Requests that carried a lane.
    pub lane: u64,
}

impl ByReason {
    pub fn total(&self) -> u64 {
        self.rule + self.sticky + self.weight + self.lane
    }

    fn minus(&self, earlier: &ByReason) -> ByReason {
        // A counter that went down means Envoy restarted: count from zero.
        let delta = |now: u64, then: u64| if now >= then { now - then } else { now };
        ByReason {
            rule: delta(self.rule, earlier.rule),
            sticky: delta(self.sticky, earlier.sticky),
            weight: delta(self.weight, earlier.weight),
            lane: delta(self.lane, earlier.lane),
        }
    }

    fn slot(&mut self, reason: Reason) -> &mut u64 {
        match reason {
            Reason::Rule => &mut self.rule,
            Reason::Sticky => &mut self.sticky,
            Reason::Weight => &mut self.weight,
            Reason::Lane => &mut self.lane,
        }
    }

    fn report(self) -> ByReasonReport {
        ByReasonReport {
            rule: self.rule,
            sticky: self.sticky,
            weight: self.weight,
            lane: self.lane,
            total: self.total(),
        }
    }
}

/// One version's counters in `status --json`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ByReasonReport {
    pub rule: u64,
    pub sticky: u64,
    pub weight: u64,
    /// Left out when no request carried a lane.
    #[serde(skip_serializing_if = "is_zero")]
    pub lane: u64,
    pub total: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// One release in `status --json`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReleaseReport {
    pub baseline: ByReasonReport,
    /// Every canary together, for a release with several.
    pub canary: ByReasonReport,
    pub total: u64,
    /// Percent of every canary together; `None` before the first request.
    pub canary_share: Option<f64>,
    /// A release with several canaries: each, by its value.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: BTreeMap<String, ByReasonReport>,
}

/// `status --json`: one sample, and with `--watch` the last interval too.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CountersReport {
    pub releases: BTreeMap<String, ReleaseReport>,
    pub no_release: u64,
    pub refused_plugin: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub interval: Option<Box<CountersReport>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub interval_seconds: Option<f64>,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ReleaseCounts {
    pub baseline: ByReason,
    /// Every canary of the release together.
    pub canary: ByReason,
}

impl ReleaseCounts {
    pub fn total(&self) -> u64 {
        self.baseline.total() + self.canary.total()
    }

    /// The canary's share in percent; `None` before the first request.
    pub fn canary_share(&self) -> Option<f64> {
        let total = self.total();
        (total > 0).then(|| self.canary.total() as f64 / total as f64 * 100.0)
    }
}

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Counters {
    pub releases: BTreeMap<String, ReleaseCounts>,
    /// Releases with several canaries: release → canary value → counts
    /// (also summed into the release's `canary`).
    pub tags: BTreeMap<String, BTreeMap<String, ByReason>>,
    pub no_release: u64,
    /// Plugins a worker refused because they would share a VM with other
    /// settings: Envoy then skips them.
    pub refused_plugin: u64,
}

impl Counters {
    /// The requests `release` routed to its version `value`, by reason;
    /// zero for a version the counters do not hold.
    pub fn version(&self, release: &canary_core::Release, value: &str) -> ByReason {
        let counts = self
            .releases
            .get(&release.name)
            .copied()
            .unwrap_or_default();
        if value == release.baseline {
            counts.baseline
        } else if release.tagged {
            self.tags
                .get(&release.name)
                .and_then(|tags| tags.get(value))
                .copied()
                .unwrap_or_default()
        } else {
            counts.canary
        }
    }

    /// Reads the text format of `/stats`; other lines are ignored.
    pub fn parse(text: &str) -> Counters {
        let mut counters = Counters::default();
        for line in text.lines() {
            let Some((name, value)) = line.split_once(':') else {
                continue;
            };
            let Some(name) = CounterName::parse_stats(name.trim()) else {
                continue;
            };
            let Ok(value) = value.trim().parse::<u64>() else {
                continue;
            };
            match name {
                CounterName::NoRelease => counters.no_release = value,
                CounterName::RefusedPlugin => counters.refused_plugin = value,
                CounterName::Routed {
                    release,
                    version,
                    reason,
                } => {
                    let counts = counters.releases.entry(release.to_string()).or_default();
                    let by_reason = match version {
                        Version::Baseline => &mut counts.baseline,
                        Version::Canary => &mut counts.canary,
                    };
                    *by_reason.slot(reason) = value;
                }
                CounterName::Tagged {
                    release,
                    value: tag,
                    reason,
                } => {
                    let counts = counters.releases.entry(release.to_string()).or_default();
                    *counts.canary.slot(reason) += value;
                    let tags = counters.tags.entry(release.to_string()).or_default();
                    *tags.entry(tag.to_string()).or_default().slot(reason) = value;
                }
            }
        }
        counters
    }

    /// What happened between `earlier` and now.
    pub fn since(&self, earlier: &Counters) -> Counters {
        let releases = self
            .releases
            .iter()
            .map(|(name, now)| {
                let then = earlier.releases.get(name).copied().unwrap_or_default();
                let delta = ReleaseCounts {
                    baseline: now.baseline.minus(&then.baseline),
                    canary: now.canary.minus(&then.canary),
                };
                (name.clone(), delta)
            })
            .collect();
        let tags = self
            .tags
            .iter()
            .map(|(name, now)| {
                let then = earlier.tags.get(name);
                let delta = now
                    .iter()
                    .map(|(tag, counts)| {
                        let before = then.and_then(|t| t.get(tag)).copied().unwrap_or_default();
                        (tag.clone(), counts.minus(&before))
                    })
                    .collect();
                (name.clone(), delta)
            })
            .collect();
        let no_release = if self.no_release >= earlier.no_release {
            self.no_release - earlier.no_release
        } else {
            self.no_release
        };
        Counters {
            releases,
            tags,
            no_release,
            // A count of configurations, not traffic: the total matters.
            refused_plugin: self.refused_plugin,
        }
    }

    pub fn report(&self) -> CountersReport {
        let releases = self
            .releases
            .iter()
            .map(|(name, counts)| {
                let report = ReleaseReport {
                    baseline: counts.baseline.report(),
                    canary: counts.canary.report(),
                    total: counts.total(),
                    canary_share: counts.canary_share(),
                    tags: self
                        .tags
                        .get(name)
                        .map(|tags| tags.iter().map(|(t, c)| (t.clone(), c.report())).collect())
                        .unwrap_or_default(),
                };
                (name.clone(), report)
            })
            .collect();
        CountersReport {
            releases,
            no_release: self.no_release,
            refused_plugin: self.refused_plugin,
            interval: None,
            interval_seconds: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const STATS: &str = "\
wasmcustom.canary.pay-service.baseline.rule: 0
wasmcustom.canary.pay-service.baseline.sticky: 10
wasmcustom.canary.pay-service.baseline.weight: 70
wasmcustom.canary.pay-service.canary.rule: 5
wasmcustom.canary.pay-service.canary.sticky: 3
wasmcustom.canary.pay-service.canary.weight: 12
wasmcustom.canary.no_release: 4
wasmcustom.canary.refused_plugin: 2
wasmcustom.canary.odd.sideways.rule: 9
wasmcustom.canary.hist: P0(nan,0) P25(nan,0)
cluster.x.upstream_rq: 7
";

    #[test]
    fn parses_the_filter_counters_only() {
        let counters = Counters::parse(STATS);
        assert_eq!(counters.no_release, 4);
        assert_eq!(counters.refused_plugin, 2);
        let pay = counters.releases["pay-service"];
        assert_eq!(
            pay.baseline,
            ByReason {
                rule: 0,
                sticky: 10,
                weight: 70,
                lane: 0
            }
        );
        assert_eq!(pay.canary.total(), 20);
        assert_eq!(pay.canary_share(), Some(20.0));
        // Not a counter of the filter (no such version): no phantom release.
        assert!(!counters.releases.contains_key("odd"));
        assert_eq!(Counters::parse("").releases.len(), 0);
    }

    #[test]
    fn differences_between_samples() {
        let earlier = Counters::parse(STATS);
        let later = Counters::parse(
            &STATS
                .replace("weight: 70", "weight: 100")
                .replace("no_release: 4", "no_release: 1"),
        );
        let delta = later.since(&earlier);
        assert_eq!(delta.releases["pay-service"].baseline.weight, 30);
        assert_eq!(delta.releases["pay-service"].canary.total(), 0);
        assert_eq!(delta.releases["pay-service"].canary_share(), Some(0.0));
        // Went down: Envoy restarted, so the new value is what happened since.
        assert_eq!(delta.no_release, 1);
        assert_eq!(delta.report().releases["pay-service"].baseline.total, 30);
    }

    #[test]
    fn tagged_canaries_are_counted_each_and_together() {
        let text = "\
wasmcustom.canary.pay.baseline.weight: 70
wasmcustom.canary.pay.tag.v2.rule: 5
wasmcustom.canary.pay.tag.v2.weight: 15
wasmcustom.canary.pay.tag.v3.sticky: 10
";
        let counters = Counters::parse(text);
        let pay = counters.releases["pay"];
        assert_eq!(pay.canary.total(), 30);
        assert_eq!(pay.canary_share(), Some(30.0));
        assert_eq!(counters.tags["pay"]["v2"].total(), 20);
        assert_eq!(counters.tags["pay"]["v3"].sticky, 10);
        let later = Counters::parse(&text.replace("v3.sticky: 10", "v3.sticky: 16"));
        let delta = later.since(&counters);
        assert_eq!(delta.tags["pay"]["v3"].sticky, 6);
        assert_eq!(delta.tags["pay"]["v2"].total(), 0);
        let report = counters.report();
        assert_eq!(report.releases["pay"].tags["v2"].total, 20);
        assert!(Counters::parse(STATS).report().releases["pay-service"]
            .tags
            .is_empty());
    }
}
