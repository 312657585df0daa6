//! The judgement of one step, pure: the canary's and the baseline's numbers
//! over the same interval and the limits in, a [`Verdict`] with its reasons
//! out. No I/O.
//!
//! - Too few canary requests: inconclusive (held, never passed).
//! - The canary's error rate above `max_error_rate`, or its p99 above
//!   `max_p99_ms`: a failure.
//! - The canary's error rate significantly above the baseline's: a failure.
//!   The test is the one-sided two-proportion z-test with pooled variance,
//!   z = (p_c - p_b) / sqrt(p (1 - p) (1/n_c + 1/n_b)), failing at
//!   z > [`Z_CRITICAL`] (significance 1%). It counts errors, so sparse errors
//!   weigh in, where a rank test on latencies would miss them. Without
//!   baseline requests (the canary at 100%) only the limits apply.
//! - No latency data although there were requests: inconclusive.

use serde::{Deserialize, Serialize};

use crate::health::Health;

/// The one-sided 1% point of the standard normal distribution.
pub const Z_CRITICAL: f64 = 2.326_347_874;

/// The limits a step is judged by.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Limits {
    pub min_requests: u64,
    /// Percent of the canary's requests answered 5xx.
    pub max_error_rate: f64,
    pub max_p99_ms: f64,
}

/// Which number failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    ErrorRate,
    P99Ms,
    /// The error rate against the baseline's, by the z-test.
    ErrorRateVsBaseline,
}

/// One reason a step failed: the metric, its value, the limit it crossed
/// and the baseline's value over the same interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Finding {
    pub metric: Metric,
    pub value: f64,
    /// For `error_rate_vs_baseline`: the critical z, and `value` is z.
    pub limit: f64,
    pub baseline: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "verdict", rename_all = "snake_case")]
pub enum Verdict {
    Pass,
    Fail { findings: Vec<Finding> },
    Inconclusive { reason: String },
}

/// The z statistic of "the canary's error rate is higher"; `None` when
/// either side has no requests or no side has errors (or every request
/// failed on both sides): nothing to compare.
pub fn two_proportion_z(canary: (u64, u64), baseline: (u64, u64)) -> Option<f64> {
    let ((c_err, c_n), (b_err, b_n)) = (canary, baseline);
    if c_n == 0 || b_n == 0 {
        return None;
    }
    let (c_err, b_err) = (c_err.min(c_n) as f64, b_err.min(b_n) as f64);
    let (c_n, b_n) = (c_n as f64, b_n as f64);
    let pooled = (c_err + b_err) / (c_n + b_n);
    let variance = pooled * (1.0 - pooled) * (1.0 / c_n + 1.0 / b_n);
    if variance.is_nan() || variance <= 0.0 {
        return None;
    }
    let z = (c_err / c_n - b_err / b_n) / variance.sqrt();
    z.is_finite().then_some(z)
}

/// A number that must be finite to be judged.
fn known(value: Option<f64>) -> Option<f64> {
    value.filter(|v| v.is_finite())
}

/// The verdict on the canary over one interval, with the baseline's numbers
/// over the same interval.
pub fn judge(canary: &Health, baseline: &Health, limits: &Limits) -> Verdict {
    if canary.requests < limits.min_requests || canary.requests == 0 {
        return Verdict::Inconclusive {
            reason: format!(
                "the canary had {} requests, fewer than min-requests {}",
                canary.requests, limits.min_requests
            ),
        };
    }
    let mut findings = Vec::new();
    let baseline_rate = known(baseline.error_rate);
    match known(canary.error_rate) {
        Some(rate) if rate > limits.max_error_rate => findings.push(Finding {
            metric: Metric::ErrorRate,
            value: rate,
            limit: limits.max_error_rate,
            baseline: baseline_rate,
        }),
        Some(_) => {}
        None => {
            return Verdict::Inconclusive {
                reason: "the canary's error rate is unknown".to_string(),
            }
        }
    }
    let z = two_proportion_z(
        (canary.errors, canary.requests),
        (baseline.errors, baseline.requests),
    );
    if let Some(z) = z.filter(|z| *z > Z_CRITICAL) {
        findings.push(Finding {
            metric: Metric::ErrorRateVsBaseline,
            value: z,
            limit: Z_CRITICAL,
            baseline: baseline_rate,
        });
    }
    match known(canary.p99_ms) {
        Some(p99) if p99 > limits.max_p99_ms => findings.push(Finding {
            metric: Metric::P99Ms,
            value: p99,
            limit: limits.max_p99_ms,
            baseline: known(baseline.p99_ms),
        }),
        Some(_) => {}
        // Failures above are certain without it; a pass is not.
        None if findings.is_empty() => {
            return Verdict::Inconclusive {
                reason: format!(
                    "no latency data for the canary's {} requests (the source has not merged its histogram yet?)",
                    canary.requests
                ),
            }
        }
        None => {}
    }
    if findings.is_empty() {
        Verdict::Pass
    } else {
        Verdict::Fail { findings }
    }
}

/// One finding in words: "error rate 20.0% > 1% (baseline 0.0%)".
pub fn describe(finding: &Finding) -> String {
    let baseline = |unit: &str| match finding.baseline {
        Some(b) => format!(" (baseline {b:.2}{unit})"),
        None => " (no baseline requests)".to_string(),
    };
    match finding.metric {
        Metric::ErrorRate => format!(
            "error rate {:.2}% > max-error-rate {}%{}",
            finding.value,
            finding.limit,
            baseline("%")
        ),
        Metric::P99Ms => format!(
            "p99 {:.1} ms > max-p99-ms {}{}",
            finding.value,
            finding.limit,
            baseline(" ms")
        ),
        Metric::ErrorRateVsBaseline => format!(
            "error rate significantly above the baseline's: two-proportion z = {:.2} > {:.3} (1% one-sided){}",
            finding.value,
            finding.limit,
            baseline("%")
        ),
    }
}

#[cfg(test)]
#[path = "judge_tests.rs"]
mod tests;
