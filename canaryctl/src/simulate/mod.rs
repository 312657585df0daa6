//! `simulate`: the filter's real decision, run on synthetic requests with
//! the filter's own roll generator, so the split printed here is the split
//! Envoy would produce for the same config and request.

pub mod request;
mod users;

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::io::Write;

use canary_core::{decide, Config, Reason, Request, Rng, Version};
use serde_json::{json, Map, Value};

use crate::cli::SimulateArgs;
use crate::document::Document;
use crate::error::{CliError, Result};
use request::RequestSpec;

/// Bounds the run time (about a second per ten million requests).
const MAX_REQUESTS: u64 = 100_000_000;
const BAR_WIDTH: usize = 40;

/// Counts of one simulated run.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Split {
    /// The release that covered the request, with its baseline and canary.
    pub release: Option<(String, String, String)>,
    pub baseline: u64,
    pub canary: u64,
    pub rule: u64,
    pub sticky: u64,
    pub weight: u64,
}

impl Split {
    fn total(&self) -> u64 {
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
        release: spec
            .release(config)
            .map(|r| (r.name.clone(), r.baseline.clone(), r.canary.clone())),
        ..Split::default()
    };
    for _ in 0..requests {
        let Some(outcome) = decide(config, &request, rng.roll()) else {
            return split;
        };
        match outcome.version {
            Version::Baseline => split.baseline += 1,
            Version::Canary => split.canary += 1,
        }
        match outcome.reason {
            Reason::Rule => split.rule += 1,
            Reason::Sticky => split.sticky += 1,
            Reason::Weight => split.weight += 1,
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

fn random_seed() -> u64 {
    let mut hasher = RandomState::new().build_hasher();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    hasher.write_u128(now);
    hasher.finish()
}

fn split_text(split: &Split, spec: &RequestSpec, seed: u64) -> String {
    let total = split.total();
    let Some((name, baseline, canary)) = &split.release else {
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
    format!(
        "{name} on {} GET {}: {total} requests, seed {seed}\n{}{}  reasons: rule {}, sticky {}, weight {}\n",
        spec.host,
        spec.path,
        line("baseline", baseline, split.baseline),
        line("canary", canary, split.canary),
        split.rule,
        split.sticky,
        split.weight,
    )
}

fn split_json(split: &Split, requests: u64) -> Value {
    let (baseline, canary) = match &split.release {
        Some((_, b, c)) => (json!(b), json!(c)),
        None => (Value::Null, Value::Null),
    };
    let total = split.total();
    json!({
        "count": requests,
        "baseline": {"version": baseline, "count": split.baseline, "share": share(split.baseline, total)},
        "canary": {"version": canary, "count": split.canary, "share": share(split.canary, total)},
        "reasons": {"rule": split.rule, "sticky": split.sticky, "weight": split.weight},
    })
}

pub fn run(args: &SimulateArgs, out: &mut dyn Write) -> Result<()> {
    let document = Document::load(&args.file.file, args.file.kind)?;
    let config = document.config()?;
    let spec = RequestSpec::from_args(args, &config);
    let seed = args.seed.unwrap_or_else(random_seed);
    let requests = match (args.requests, args.users) {
        (Some(n), _) => Some(n),
        (None, None) => Some(10_000),
        (None, Some(_)) => None,
    };
    if requests.is_some_and(|n| n > MAX_REQUESTS) {
        return Err(CliError::new(format!("--requests: at most {MAX_REQUESTS}")));
    }
    let covering = spec.release(&config).map(|r| r.name.clone());
    let mut report = Map::new();
    report.insert("file".into(), json!(document.path.display().to_string()));
    report.insert("host".into(), json!(spec.host));
    report.insert("path".into(), json!(spec.path));
    report.insert("release".into(), json!(covering));
    report.insert("seed".into(), json!(seed));
    if let Some(requests) = requests {
        let result = split(&config, &spec, requests, seed);
        if args.json {
            report.insert("requests".into(), split_json(&result, requests));
        } else {
            write!(out, "{}", split_text(&result, &spec, seed))?;
        }
    }
    if let Some(count) = args.users {
        let table = users::table(&config, &spec, count, &args.weights)
            .map_err(|e| CliError::in_file(&document.path, e))?;
        if args.json {
            report.insert("users".into(), table.to_json());
        } else {
            if requests.is_some() {
                writeln!(out)?;
            }
            write!(out, "{}", table.to_text())?;
        }
    }
    if args.json {
        writeln!(out, "{}", Value::Object(report))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let spec = RequestSpec::from_args(
            &SimulateArgs {
                file: crate::cli::FileArgs {
                    file: "x".into(),
                    kind: None,
                },
                requests: None,
                headers: vec![],
                path: "/".into(),
                host: None,
                cookies: vec![],
                queries: vec![],
                seed: None,
                users: None,
                weights: vec![],
                json: false,
            },
            &config,
        );
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
