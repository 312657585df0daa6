//! The settings of a run, from defaults, a plan file and the command line
//! (in that order, the later winning), checked before anything changes.
//!
//! The plan file (YAML or JSON) takes the command line's names:
//!
//! ```yaml
//! steps: [5, 10, 25, 50, 100]
//! interval: 30s
//! min-requests: 100
//! max-error-rate: 1      # percent of the canary's requests answered 5xx
//! max-p99-ms: 500
//! failure-limit: 2
//! deadline: 30m
//! manual-promotion: false
//! apply-timeout: 30s
//! clusters: {pay-v2: "outbound|80|v2|pay-service.default.svc.cluster.local"}
//! ```

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use canary_core::weight_basis_points;
use serde::{Deserialize, Serialize};

use crate::auto::judge::Limits;
use crate::error::{CliError, Result};

/// Everything a run goes by; stored in its state file, so a resumed run
/// keeps the settings it began with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Settings {
    /// Canary weights in percent, rising.
    pub steps: Vec<f64>,
    pub interval_ms: u64,
    pub limits: Limits,
    pub failure_limit: u32,
    /// Bounds the whole run.
    pub deadline_ms: u64,
    /// Wait for `canaryctl promote` before completing.
    pub manual_promotion: bool,
    /// How long to wait for Envoy's verdict on each edit.
    pub apply_timeout_ms: u64,
    /// Version value → the name the source knows it by (cluster name, or
    /// Istio's `destination_version`); a version not listed is its own name.
    pub clusters: BTreeMap<String, String>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            steps: vec![5.0, 10.0, 25.0, 50.0, 100.0],
            interval_ms: 30_000,
            limits: Limits {
                min_requests: 100,
                max_error_rate: 1.0,
                max_p99_ms: 500.0,
            },
            failure_limit: 2,
            deadline_ms: 30 * 60_000,
            manual_promotion: false,
            apply_timeout_ms: 30_000,
            clusters: BTreeMap::new(),
        }
    }
}

/// Settings given in a plan file or on the command line; `None`: not given.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Overrides {
    pub steps: Option<Vec<f64>>,
    #[serde(default, deserialize_with = "duration_field")]
    pub interval: Option<Duration>,
    pub min_requests: Option<u64>,
    pub max_error_rate: Option<f64>,
    pub max_p99_ms: Option<f64>,
    pub failure_limit: Option<u32>,
    #[serde(default, deserialize_with = "duration_field")]
    pub deadline: Option<Duration>,
    pub manual_promotion: Option<bool>,
    #[serde(default, deserialize_with = "duration_field")]
    pub apply_timeout: Option<Duration>,
    pub clusters: Option<BTreeMap<String, String>>,
}

/// A duration as "30s", "2m", "1h30m", "500ms", or a number of seconds.
pub fn parse_duration(text: &str) -> std::result::Result<Duration, String> {
    let text = text.trim();
    if let Ok(seconds) = text.parse::<f64>() {
        return Duration::try_from_secs_f64(seconds)
            .map_err(|_| format!("\"{text}\" is not a duration"));
    }
    humantime::parse_duration(text)
        .map_err(|e| format!("\"{text}\" is not a duration such as 30s, 2m or 1h30m ({e})"))
}

fn duration_field<'de, D>(deserializer: D) -> std::result::Result<Option<Duration>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Given {
        Seconds(f64),
        Text(String),
    }
    let text = match Given::deserialize(deserializer)? {
        Given::Seconds(seconds) => seconds.to_string(),
        Given::Text(text) => text,
    };
    parse_duration(&text)
        .map(Some)
        .map_err(serde::de::Error::custom)
}

/// Reads a plan file (YAML, of which JSON is a part).
pub fn read_plan(path: &Path) -> Result<Overrides> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| CliError::in_file(path, format!("cannot read the plan file: {e}")))?;
    parse_plan(&text).map_err(|e| CliError::in_file(path, e))
}

/// A plan file's text, read by the one YAML reader canaryctl has (YAML 1.1,
/// as for manifests).
pub fn parse_plan(text: &str) -> std::result::Result<Overrides, String> {
    let mut documents =
        crate::document::k8s_yaml::parse(text).map_err(|e| format!("not YAML: {e}"))?;
    if documents.len() != 1 {
        return Err(format!(
            "a plan file holds one document, not {}",
            documents.len()
        ));
    }
    serde_json::from_value(documents.remove(0)).map_err(|e| e.to_string())
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

impl Settings {
    /// `self` with what `overrides` gives replaced.
    pub fn with(mut self, overrides: &Overrides) -> Settings {
        let o = overrides.clone();
        if let Some(steps) = o.steps {
            self.steps = steps;
        }
        if let Some(interval) = o.interval {
            self.interval_ms = millis(interval);
        }
        if let Some(v) = o.min_requests {
            self.limits.min_requests = v;
        }
        if let Some(v) = o.max_error_rate {
            self.limits.max_error_rate = v;
        }
        if let Some(v) = o.max_p99_ms {
            self.limits.max_p99_ms = v;
        }
        if let Some(v) = o.failure_limit {
            self.failure_limit = v;
        }
        if let Some(deadline) = o.deadline {
            self.deadline_ms = millis(deadline);
        }
        if let Some(v) = o.manual_promotion {
            self.manual_promotion = v;
        }
        if let Some(timeout) = o.apply_timeout {
            self.apply_timeout_ms = millis(timeout);
        }
        if let Some(clusters) = o.clusters {
            self.clusters.extend(clusters);
        }
        self
    }

    /// Every setting in range, said in one line when one is not.
    pub fn check(&self) -> std::result::Result<(), String> {
        if self.steps.is_empty() {
            return Err("--steps: give at least one weight, e.g. 5,10,25,50,100".into());
        }
        let mut previous = 0.0;
        for &step in &self.steps {
            weight_basis_points(step).map_err(|e| format!("--steps: {step} {e}"))?;
            if step <= previous {
                return Err(format!(
                    "--steps must rise and be above 0: {step} after {previous}"
                ));
            }
            previous = step;
        }
        if !(50..=86_400_000).contains(&self.interval_ms) {
            return Err("--interval must be from 50ms to 24h".into());
        }
        if self.limits.min_requests == 0 {
            return Err("--min-requests must be at least 1 (no traffic is never a pass)".into());
        }
        let rate = self.limits.max_error_rate;
        if !(0.0..=100.0).contains(&rate) {
            return Err(format!("--max-error-rate {rate}: a percent from 0 to 100"));
        }
        let p99 = self.limits.max_p99_ms;
        if !(p99.is_finite() && p99 > 0.0) {
            return Err(format!("--max-p99-ms {p99}: a number of ms above 0"));
        }
        if self.failure_limit == 0 {
            return Err("--failure-limit must be at least 1".into());
        }
        if self.deadline_ms < self.interval_ms {
            return Err("--deadline must be at least one --interval".into());
        }
        if self.apply_timeout_ms == 0 {
            return Err("--apply-timeout must be above 0".into());
        }
        Ok(())
    }

    pub fn interval(&self) -> Duration {
        Duration::from_millis(self.interval_ms)
    }

    /// The name `version` has in the health source.
    pub fn source_key<'a>(&'a self, version: &'a str) -> &'a str {
        self.clusters.get(version).map_or(version, String::as_str)
    }
}

/// A step's weight as the config writes it: 20, not 20.0.
pub fn weight_number(percent: f64) -> serde_json::Number {
    if percent.fract() == 0.0 && (0.0..=100.0).contains(&percent) {
        serde_json::Number::from(percent as u64)
    } else {
        serde_json::Number::from_f64(percent).unwrap_or_else(|| serde_json::Number::from(0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plan_file_overrides_defaults_and_refuses_unknown_keys() {
        let plan: Overrides = parse_plan(
            "steps: [20, 50, 100]\ninterval: 1.5s\nmax-error-rate: 2\ndeadline: 2m\nclusters: {pay-v2: x}\n",
        )
        .unwrap();
        let s = Settings::default().with(&plan);
        assert_eq!(s.steps, [20.0, 50.0, 100.0]);
        assert_eq!((s.interval_ms, s.deadline_ms), (1500, 120_000));
        assert_eq!(s.limits.max_error_rate, 2.0);
        assert_eq!(s.limits.min_requests, 100);
        assert_eq!(s.source_key("pay-v2"), "x");
        assert_eq!(s.source_key("pay-v1"), "pay-v1");
        assert!(s.check().is_ok());
        let err = parse_plan("max-eror-rate: 2\n").unwrap_err();
        assert!(
            err.to_string().contains("unknown field `max-eror-rate`"),
            "{err}"
        );
        assert!(parse_plan("interval: soon\n").is_err());
        let seconds: Overrides = parse_plan("interval: 2\n").unwrap();
        assert_eq!(seconds.interval, Some(Duration::from_secs(2)));
    }

    #[test]
    fn out_of_range_settings_are_refused() {
        let bad = |o: Overrides| Settings::default().with(&o).check().unwrap_err();
        assert!(bad(Overrides {
            steps: Some(vec![10.0, 5.0]),
            ..Default::default()
        })
        .contains("must rise"));
        assert!(bad(Overrides {
            steps: Some(vec![0.0, 5.0]),
            ..Default::default()
        })
        .contains("above 0"));
        assert!(bad(Overrides {
            steps: Some(vec![]),
            ..Default::default()
        })
        .contains("at least one"));
        assert!(bad(Overrides {
            steps: Some(vec![50.0, 101.0]),
            ..Default::default()
        })
        .contains("--steps: 101"));
        assert!(bad(Overrides {
            max_error_rate: Some(101.0),
            ..Default::default()
        })
        .contains("0 to 100"));
        assert!(bad(Overrides {
            max_error_rate: Some(f64::NAN),
            ..Default::default()
        })
        .contains("0 to 100"));
        assert!(bad(Overrides {
            max_p99_ms: Some(0.0),
            ..Default::default()
        })
        .contains("above 0"));
        assert!(bad(Overrides {
            min_requests: Some(0),
            ..Default::default()
        })
        .contains("never a pass"));
        assert!(bad(Overrides {
            failure_limit: Some(0),
            ..Default::default()
        })
        .contains("at least 1"));
        let short = Overrides {
            deadline: Some(Duration::from_secs(1)),
            ..Default::default()
        };
        assert!(bad(short).contains("--deadline"));
        assert_eq!(weight_number(20.0).to_string(), "20");
        assert_eq!(weight_number(12.5).to_string(), "12.5");
    }
}
