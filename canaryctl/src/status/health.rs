//! `status --file FILE`: per release and version, the requests, rate,
//! error rate and p50/p99 over the last interval, from a health source
//! (Envoy's admin or Prometheus, see [`crate::health`]). The versions and
//! their names come from the config file; `clusters` maps a version to its
//! name in the source when the two differ (Istio's subsets).

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::describe;
use crate::document::{Document, Kind};
use crate::error::{CliError, Result};
use crate::health::{Health, Sample, Source};

pub struct HealthOptions {
    pub file: PathBuf,
    pub kind: Option<Kind>,
    pub source: Box<dyn Source>,
    pub clusters: BTreeMap<String, String>,
    pub interval: Duration,
    /// Refresh every interval (until `count` samples, if given).
    pub watch: bool,
    pub count: Option<u64>,
    pub json: bool,
}

/// One version of one release.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VersionHealth {
    pub release: String,
    /// `baseline` or `canary`.
    pub role: &'static str,
    pub version: String,
    /// Its name in the source.
    pub source_name: String,
    #[serde(flatten)]
    pub health: Health,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HealthReport {
    pub source: String,
    pub interval_seconds: f64,
    pub versions: Vec<VersionHealth>,
}

/// `(release, role, version, name in the source)` of every version in the file.
pub fn versions(
    document: &Document,
    clusters: &BTreeMap<String, String>,
) -> Result<Vec<(String, &'static str, String, String)>> {
    let config = document.config()?;
    let mut out = Vec::new();
    for release in &config.releases {
        for (role, version) in describe::versions(release) {
            let name = clusters.get(version).map_or(version, String::as_str);
            out.push((
                release.name.clone(),
                role,
                version.to_string(),
                name.to_string(),
            ));
        }
    }
    Ok(out)
}

fn sample_all(source: &dyn Source, names: &[String]) -> Result<Vec<Sample>> {
    names
        .iter()
        .map(|name| source.sample(name).map_err(CliError::new))
        .collect()
}

/// The table of a report.
pub fn render(report: &HealthReport) -> Vec<String> {
    let ms = |v: Option<f64>| v.map_or("-".to_string(), |v| format!("{v:.1}"));
    let mut lines = vec![format!(
        "{:<12} {:<9} {:<16} {:>8} {:>8} {:>8} {:>9} {:>9}   (last {:.1}s, {})",
        "release",
        "version",
        "name",
        "requests",
        "rate/s",
        "5xx %",
        "p50 ms",
        "p99 ms",
        report.interval_seconds,
        report.source
    )];
    for v in &report.versions {
        let rate = v
            .health
            .error_rate
            .map_or("-".to_string(), |r| format!("{r:.2}"));
        lines.push(format!(
            "{:<12} {:<9} {:<16} {:>8} {:>8.1} {:>8} {:>9} {:>9}",
            v.release,
            v.role,
            v.version,
            v.health.requests,
            v.health.rate,
            rate,
            ms(v.health.p50_ms),
            ms(v.health.p99_ms)
        ));
    }
    lines
}

pub fn run(options: &HealthOptions, out: &mut dyn Write) -> Result<()> {
    let document = Document::load(&options.file, options.kind)?;
    let versions = versions(&document, &options.clusters)?;
    let names: Vec<String> = versions.iter().map(|v| v.3.clone()).collect();
    let source = options.source.as_ref();
    let mut before = sample_all(source, &names)?;
    let mut started = Instant::now();
    let mut shown = 0u64;
    loop {
        std::thread::sleep(options.interval);
        let after = sample_all(source, &names)?;
        let seconds = started.elapsed().as_secs_f64();
        started = Instant::now();
        let report = HealthReport {
            source: source.describe(),
            interval_seconds: seconds,
            versions: versions
                .iter()
                .zip(after.iter().zip(&before))
                .map(
                    |((release, role, version, name), (now, then))| VersionHealth {
                        release: release.clone(),
                        role,
                        version: version.clone(),
                        source_name: name.clone(),
                        health: now.since(then).health(seconds),
                    },
                )
                .collect(),
        };
        if options.json {
            let line = serde_json::to_string(&report).map_err(|e| CliError::new(e.to_string()))?;
            writeln!(out, "{line}")?;
        } else {
            writeln!(out, "{}", render(&report).join("\n"))?;
        }
        out.flush()?;
        shown += 1;
        if !options.watch || options.count.is_some_and(|count| shown >= count) {
            return Ok(());
        }
        before = after;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_come_from_the_file_and_the_mapping() {
        let text = br#"{"releases":[{"name":"pay","hosts":["a"],"header":"x-canary-version","baseline":"v1","canary":"v2","weight":10}]}"#;
        let document =
            Document::from_bytes(std::path::Path::new("p.json"), text.to_vec(), None).unwrap();
        let clusters = BTreeMap::from([("v2".to_string(), "outbound|80|v2|pay".to_string())]);
        let found = versions(&document, &clusters).unwrap();
        assert_eq!(
            found[0],
            ("pay".into(), "baseline", "v1".into(), "v1".into())
        );
        assert_eq!(found[1].3, "outbound|80|v2|pay");
        let report = HealthReport {
            source: "test".into(),
            interval_seconds: 2.0,
            versions: vec![VersionHealth {
                release: "pay".into(),
                role: "canary",
                version: "v2".into(),
                source_name: "v2".into(),
                health: Health {
                    requests: 10,
                    errors: 1,
                    rate: 5.0,
                    error_rate: Some(10.0),
                    p50_ms: None,
                    p99_ms: Some(12.5),
                },
            }],
        };
        let lines = render(&report);
        assert!(lines[0].starts_with("release") && lines[0].contains("last 2.0s"));
        assert!(
            lines[1].contains("10.00") && lines[1].contains("12.5"),
            "{}",
            lines[1]
        );
        let json = serde_json::to_value(&report).unwrap();
        assert_eq!(json["versions"][0]["error_rate"], 10.0);
    }
}
