//! Per-version health: each version's requests, 5xx answers and latency
//! histogram as cumulative counters read from a [`Source`] (Envoy's admin,
//! or a Prometheus server), and what happened between two samples
//! ([`Sample::since`]): judgements look at an interval, never at totals.
//! A live table (the console) reads several versions at once as
//! [`Totals`] ([`Source::totals`]) and takes its own differences.

pub mod admin;
pub mod prometheus;

use serde::Serialize;

/// Where per-version counters come from. `key` names one version there: a
/// cluster name (Envoy's stats) or a `destination_version` (Istio's).
pub trait Source {
    /// The version's counters now; an error when the source cannot be read
    /// or does not know the metric (never a silent zero).
    fn sample(&self, key: &str) -> Result<Sample, String>;
    /// Where the numbers come from, for messages.
    fn describe(&self) -> String;
    /// The totals of several versions in one read, in the order of `keys`;
    /// a version the source does not know has no numbers (not an error:
    /// a table shows it empty). An error when the source cannot be read.
    /// By default, each version's [`Source::sample`], its p99 over all
    /// it counted; the sources here read all versions at once.
    fn totals(&self, keys: &[&str]) -> Result<Vec<Totals>, String> {
        keys.iter()
            .map(|key| {
                let sample = self.sample(key)?;
                Ok(Totals {
                    requests: Some(sample.requests),
                    errors: Some(sample.errors),
                    recent_p99_ms: sample.latency.quantile(0.99),
                })
            })
            .collect()
    }
}

/// Cumulative counters of one version as a live table shows them, and the
/// p99 latency over the source's own recent window (Envoy's last stats
/// flush, Prometheus's last minute): a table shows latency now, not since
/// the start. `None`: the source has no such number (yet).
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Totals {
    pub requests: Option<u64>,
    pub errors: Option<u64>,
    pub recent_p99_ms: Option<f64>,
}

/// Cumulative counters of one version at one moment.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Sample {
    /// Requests answered (any status).
    pub requests: u64,
    /// Of which answered 5xx.
    pub errors: u64,
    pub latency: Histogram,
}

/// A latency histogram: `(upper bound in ms, cumulative count)`, bounds
/// rising, as Envoy and Prometheus give them.
#[derive(Debug, Default, Clone, PartialEq, Serialize)]
pub struct Histogram {
    pub buckets: Vec<(f64, u64)>,
}

/// `now - then`, or `now` when the counter went down (the source
/// restarted, so counting began again from zero).
fn delta(now: u64, then: u64) -> u64 {
    now.checked_sub(then).unwrap_or(now)
}

impl Histogram {
    /// Bucket by bucket; a bound the earlier sample lacks counts from zero.
    pub fn since(&self, earlier: &Histogram) -> Histogram {
        let restarted = self.count() < earlier.count();
        let buckets = self
            .buckets
            .iter()
            .map(|&(bound, now)| {
                let then = earlier
                    .buckets
                    .iter()
                    .find(|(b, _)| *b == bound)
                    .map_or(0, |&(_, c)| c);
                (bound, if restarted { now } else { delta(now, then) })
            })
            .collect();
        Histogram { buckets }
    }

    /// Observations counted (the last bucket's cumulative count).
    pub fn count(&self) -> u64 {
        self.buckets.last().map_or(0, |&(_, c)| c)
    }

    /// The `q` quantile (0..=1) in ms, interpolated linearly inside its
    /// bucket as Prometheus' `histogram_quantile` does; `None` without
    /// observations. Beyond the last finite bound: that bound.
    pub fn quantile(&self, q: f64) -> Option<f64> {
        let total = self.count();
        if total == 0 || !(0.0..=1.0).contains(&q) {
            return None;
        }
        let rank = q * total as f64;
        let mut lower = (0.0, 0u64);
        for &(bound, cumulative) in &self.buckets {
            if cumulative as f64 >= rank && cumulative > lower.1 {
                if !bound.is_finite() {
                    return Some(lower.0);
                }
                let inside = (rank - lower.1 as f64) / (cumulative - lower.1) as f64;
                return Some(lower.0 + (bound - lower.0) * inside.clamp(0.0, 1.0));
            }
            if bound.is_finite() {
                lower = (bound, cumulative);
            }
        }
        Some(lower.0)
    }
}

impl Sample {
    /// What happened between `earlier` and this sample.
    pub fn since(&self, earlier: &Sample) -> Window {
        let restarted = self.requests < earlier.requests;
        let (requests, errors) = if restarted {
            (self.requests, self.errors)
        } else {
            (
                delta(self.requests, earlier.requests),
                delta(self.errors, earlier.errors),
            )
        };
        Window {
            requests,
            // A 5xx counted before its request completed: never above 100%.
            errors: errors.min(requests),
            latency: self.latency.since(&earlier.latency),
        }
    }
}

/// One version over one interval.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Window {
    pub requests: u64,
    pub errors: u64,
    pub latency: Histogram,
}

/// A [`Window`] in numbers, as printed and judged.
#[derive(Debug, Default, Clone, Copy, PartialEq, Serialize)]
pub struct Health {
    pub requests: u64,
    pub errors: u64,
    /// Requests per second over the interval.
    pub rate: f64,
    /// Percent of requests answered 5xx; `None` without requests.
    pub error_rate: Option<f64>,
    pub p50_ms: Option<f64>,
    pub p99_ms: Option<f64>,
}

impl Window {
    /// The numbers over an interval of `seconds`.
    pub fn health(&self, seconds: f64) -> Health {
        let rate = if seconds > 0.0 {
            self.requests as f64 / seconds
        } else {
            0.0
        };
        Health {
            requests: self.requests,
            errors: self.errors,
            rate,
            error_rate: (self.requests > 0)
                .then(|| self.errors as f64 / self.requests as f64 * 100.0),
            // The histogram lags the counters a little: no requests, no latency.
            p50_ms: self.latency.quantile(0.5).filter(|_| self.requests > 0),
            p99_ms: self.latency.quantile(0.99).filter(|_| self.requests > 0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hist(buckets: &[(f64, u64)]) -> Histogram {
        Histogram {
            buckets: buckets.to_vec(),
        }
    }

    #[test]
    fn quantiles_interpolate_inside_the_bucket() {
        // 100 observations: 50 up to 10 ms, 40 in (10, 50], 10 in (50, 100].
        let h = hist(&[(10.0, 50), (50.0, 90), (100.0, 100)]);
        assert_eq!(h.quantile(0.5), Some(10.0));
        // rank 99: 9 of the 10 in (50, 100] -> 50 + 50 * 0.9.
        assert_eq!(h.quantile(0.99), Some(95.0));
        assert_eq!(h.quantile(0.25), Some(5.0));
        assert_eq!(hist(&[]).quantile(0.99), None);
        assert_eq!(hist(&[(10.0, 0), (50.0, 0)]).quantile(0.5), None);
        assert_eq!(h.quantile(f64::NAN), None);
        // Everything beyond the last finite bound: that bound.
        let inf = hist(&[(10.0, 0), (f64::INFINITY, 4)]);
        assert_eq!(inf.quantile(0.99), Some(10.0));
    }

    #[test]
    fn windows_are_differences_and_survive_a_restart() {
        let then = Sample {
            requests: 100,
            errors: 5,
            latency: hist(&[(10.0, 90), (100.0, 100)]),
        };
        let now = Sample {
            requests: 150,
            errors: 15,
            latency: hist(&[(10.0, 100), (100.0, 150)]),
        };
        let w = now.since(&then);
        assert_eq!((w.requests, w.errors), (50, 10));
        assert_eq!(w.latency, hist(&[(10.0, 10), (100.0, 50)]));
        let health = w.health(2.0);
        assert_eq!(health.rate, 25.0);
        assert_eq!(health.error_rate, Some(20.0));
        // Restarted source: the new totals are the interval.
        let restarted = Sample {
            requests: 7,
            errors: 1,
            latency: hist(&[(10.0, 7), (100.0, 7)]),
        };
        let w = restarted.since(&now);
        assert_eq!((w.requests, w.errors, w.latency.count()), (7, 1, 7));
        // No requests: no error rate, no quantiles, no division by zero.
        let idle = now.since(&now).health(0.0);
        assert_eq!((idle.error_rate, idle.p99_ms, idle.rate), (None, None, 0.0));
    }
}
