//! One simulated run: the filter's decision, rolled like the filter, on the
//! same request many times; its counts and their shares.

use canary_core::{decide, Config, Reason, Request, Rng, Version};
use serde::Serialize;

use crate::simulate::request::RequestSpec;

const BAR_WIDTH: usize = 40;

/// Counts of one simulated run.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Split {
    /// The release that covered the request, with its baseline and canary.
    pub release: Option<(String, String, String)>,
    pub baseline: u64,
    /// On any canary.
    pub canary: u64,
    /// Several canaries: each one's value and count, in the release's order.
    pub by_canary: Vec<(String, u64)>,
    pub rule: u64,
    pub sticky: u64,
    pub weight: u64,
    /// Requests that carried a lane (its lane header).
    pub lane: u64,
}

impl Split {
    pub fn total(&self) -> u64 {
        self.baseline + self.canary
    }
}

/// Decides `requests` times for the same request, rolling like the filter.
pub fn split(config: &Config, spec: &RequestSpec, requests: u64, seed: u64) -> Split {
    let pairs = spec.pairs(None);
    let borrowed: Vec<(&[u8], &[u8])> = pairs
        .iter()
        .map(|(n, v)| (n.as_slice(), v.as_slice()))
        .collect();
    let request = Request::new(&borrowed);
    let mut rng = Rng::new(seed);
    let mut split = Split {
        release: spec.release(config).map(|r| {
            (
                r.name.clone(),
                r.baseline.clone(),
                r.canaries.first().value.clone(),
            )
        }),
        by_canary: spec
            .release(config)
            .filter(|r| r.tagged)
            .map(|r| r.canaries.iter().map(|c| (c.value.clone(), 0)).collect())
            .unwrap_or_default(),
        ..Split::default()
    };
    for _ in 0..requests {
        let Some(outcome) = decide(config, &request, rng.roll()) else {
            return split;
        };
        match outcome.version {
            Version::Baseline => split.baseline += 1,
            Version::Canary => {
                split.canary += 1;
                if let Some((_, count)) = split.by_canary.get_mut(outcome.canary) {
                    *count += 1;
                }
            }
        }
        match outcome.reason {
            Reason::Rule => split.rule += 1,
            Reason::Sticky => split.sticky += 1,
            Reason::Weight => split.weight += 1,
            Reason::Lane => split.lane += 1,
        }
    }
    split
}

/// A share as a bar of `BAR_WIDTH` cells.
pub fn bar(count: u64, total: u64) -> String {
    let filled = if total == 0 {
        0
    } else {
        // At most BAR_WIDTH, so the cast cannot truncate.
        ((count as f64 / total as f64) * BAR_WIDTH as f64).round() as usize
    };
    let filled = filled.min(BAR_WIDTH);
    format!("{}{}", "█".repeat(filled), "░".repeat(BAR_WIDTH - filled))
}

pub fn share(count: u64, total: u64) -> f64 {
    if total == 0 {
        0.0
    } else {
        count as f64 / total as f64 * 100.0
    }
}

/// One version's count in a run, as `--json` gives it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VersionCount {
    /// `None` when no release covers the request.
    pub version: Option<String>,
    pub count: u64,
    pub share: f64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reasons {
    pub rule: u64,
    pub sticky: u64,
    pub weight: u64,
    /// Left out when no request carried a lane.
    #[serde(skip_serializing_if = "is_zero")]
    pub lane: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// A run, as `--json` gives it under `requests`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SplitReport {
    pub count: u64,
    pub baseline: VersionCount,
    /// Every canary together.
    pub canary: VersionCount,
    /// Several canaries: each.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub canaries: Vec<VersionCount>,
    pub reasons: Reasons,
}

impl Split {
    pub fn report(&self, requests: u64) -> SplitReport {
        let total = self.total();
        let (baseline, canary) = match &self.release {
            Some((_, b, c)) => (Some(b.clone()), Some(c.clone())),
            None => (None, None),
        };
        SplitReport {
            count: requests,
            baseline: VersionCount {
                version: baseline,
                count: self.baseline,
                share: share(self.baseline, total),
            },
            canary: VersionCount {
                version: canary,
                count: self.canary,
                share: share(self.canary, total),
            },
            canaries: self
                .by_canary
                .iter()
                .map(|(value, count)| VersionCount {
                    version: Some(value.clone()),
                    count: *count,
                    share: share(*count, total),
                })
                .collect(),
            reasons: Reasons {
                rule: self.rule,
                sticky: self.sticky,
                weight: self.weight,
                lane: self.lane,
            },
        }
    }

    pub fn to_text(&self, spec: &RequestSpec, seed: u64) -> String {
        let total = self.total();
        let Some((name, baseline, canary)) = &self.release else {
            return format!(
                "no release covers host \"{}\": the filter passes such requests on and removes any routing header\n",
                spec.host
            );
        };
        let line = |label: &str, version: &str, count: u64| {
            format!(
                "  {label:<9}{version:<10}{count:>9}  {:>6.2}%  {}\n",
                share(count, total),
                bar(count, total)
            )
        };
        let canaries = if self.by_canary.is_empty() {
            line("canary", canary, self.canary)
        } else {
            self.by_canary
                .iter()
                .map(|(value, count)| line("canary", value, *count))
                .collect()
        };
        let lane = match self.lane {
            0 => String::new(),
            n => format!(", lane {n}"),
        };
        format!(
            "{name} on {} GET {}: {total} requests, seed {seed}\n{}{}  reasons: rule {}, sticky {}, weight {}{lane}\n",
            spec.host,
            spec.path,
            line("baseline", baseline, self.baseline),
            canaries,
            self.rule,
            self.sticky,
            self.weight,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::simulate::request::RequestFlags;

    #[test]
    fn bars_fill_in_proportion() {
        assert_eq!(bar(0, 0).chars().count(), BAR_WIDTH);
        assert_eq!(bar(1, 4).chars().filter(|&c| c == '█').count(), 10);
        assert_eq!(bar(4, 4).chars().filter(|&c| c == '░').count(), 0);
    }

    #[test]
    fn split_matches_the_weight_within_four_sigma() {
        let config = Config::from_json(
            br#"{"releases":[{"name":"pay","header":"x-v","baseline":"v1","canary":"v2","weight":20}]}"#,
        )
        .unwrap();
        let flags = RequestFlags {
            path: "/".into(),
            ..RequestFlags::default()
        };
        let spec = RequestSpec::from_flags(&flags, &config);
        // n = 10000, p = 0.2: sd = 40, so 4 sd is 160.
        let result = split(&config, &spec, 10_000, 7);
        assert_eq!(result.total(), 10_000);
        assert!((1840..=2160).contains(&result.canary), "{result:?}");
        assert_eq!(result.weight, 10_000);
        // The same seed gives the same run.
        assert_eq!(split(&config, &spec, 10_000, 7), result);
        // No requests: still the covering release, and nothing counted.
        let none = split(&config, &spec, 0, 7);
        assert_eq!(none.release.as_ref().unwrap().0, "pay");
        assert_eq!(none.total(), 0);
    }
}
