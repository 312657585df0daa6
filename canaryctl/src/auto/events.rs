//! What a run prints as it happens: one line of text per event, or with
//! `--json` one JSON object per line (`{"at_unix_ms": .., "event": "..", ..}`)
//! for scripts and the console.

use std::io::Write;

use serde::Serialize;

use crate::auto::judge::{describe, Verdict};
use crate::auto::state::now_unix_ms;
use crate::auto::target::Applied;
use crate::error::{CliError, Result};
use crate::health::Health;

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    Started {
        release: String,
        file: String,
        source: String,
        steps: Vec<f64>,
        /// `Some(step index)`: resumed from the state file at that phase.
        resumed: Option<String>,
        state_file: String,
    },
    /// The step's weight is written (and applied, when Envoy confirms).
    WeightSet {
        step: usize,
        weight: f64,
        applied: Applied,
    },
    Measurement {
        step: usize,
        weight: f64,
        seconds: f64,
        canary: Health,
        baseline: Health,
    },
    /// A measurement could not be taken: counts as a failed interval.
    SourceError {
        step: usize,
        message: String,
    },
    Verdict {
        step: usize,
        weight: f64,
        #[serde(flatten)]
        verdict: Verdict,
        failures: u32,
        failure_limit: u32,
    },
    Paused {
        step: usize,
    },
    Resumed {
        step: usize,
    },
    AwaitingPromotion,
    Promoted,
    Completed,
    RolledBack {
        reason: String,
    },
}

#[derive(Serialize)]
struct Record<'a> {
    at_unix_ms: u64,
    #[serde(flatten)]
    event: &'a Event,
}

fn health_text(h: &Health) -> String {
    let ms = |v: Option<f64>| v.map_or("-".to_string(), |v| format!("{v:.1}ms"));
    let rate = h.error_rate.map_or("-".to_string(), |r| format!("{r:.2}%"));
    format!(
        "{} req ({:.1}/s), 5xx {} ({rate}), p50 {} p99 {}",
        h.requests,
        h.rate,
        h.errors,
        ms(h.p50_ms),
        ms(h.p99_ms)
    )
}

/// The line of text for `event`.
pub fn text(event: &Event) -> String {
    match event {
        Event::Started {
            release,
            file,
            source,
            steps,
            resumed,
            state_file,
        } => {
            let steps: Vec<String> = steps.iter().map(|s| format!("{s}%")).collect();
            let how = resumed
                .as_ref()
                .map_or("started".to_string(), |at| format!("resumed at {at}"));
            format!(
                "auto {how}: release {release} in {file}, steps {}, health from {source} (state: {state_file})",
                steps.join(" → ")
            )
        }
        Event::WeightSet {
            step,
            weight,
            applied,
        } => format!(
            "step {}: canary weight {weight}%{}",
            step + 1,
            match applied {
                Applied::Confirmed => ", applied by Envoy",
                Applied::Unconfirmed => " written (not confirmed: no --admin, or not an ECDS file)",
                Applied::Unchanged => " (already in the file)",
            }
        ),
        Event::Measurement {
            step,
            seconds,
            canary,
            baseline,
            ..
        } => format!(
            "step {}: last {seconds:.1}s: canary {} | baseline {}",
            step + 1,
            health_text(canary),
            health_text(baseline)
        ),
        Event::SourceError { step, message } => {
            format!("step {}: measurement failed: {message}", step + 1)
        }
        Event::Verdict {
            step,
            weight,
            verdict,
            failures,
            failure_limit,
        } => {
            let what = match verdict {
                Verdict::Pass => "PASS".to_string(),
                Verdict::Inconclusive { reason } => format!("INCONCLUSIVE, held: {reason}"),
                Verdict::Fail { findings } => {
                    let reasons: Vec<String> = findings.iter().map(describe).collect();
                    format!("FAIL: {}", reasons.join("; "))
                }
            };
            format!(
                "step {} at {weight}%: {what} (failures {failures}/{failure_limit})",
                step + 1
            )
        }
        Event::Paused { step } => format!("step {}: paused (canaryctl resume goes on)", step + 1),
        Event::Resumed { step } => format!("step {}: resumed", step + 1),
        Event::AwaitingPromotion => {
            "every step passed: waiting for `canaryctl promote` (or abort)".to_string()
        }
        Event::Promoted => "promoted by a person".to_string(),
        Event::Completed => "COMPLETED: the canary takes 100%, rule cleared".to_string(),
        Event::RolledBack { reason } => {
            format!("ROLLED BACK: the canary takes 0%, rule cleared: {reason}")
        }
    }
}

/// Prints events as they happen.
pub struct Reporter<'a> {
    pub out: &'a mut dyn Write,
    pub json: bool,
}

impl Reporter<'_> {
    pub fn emit(&mut self, event: &Event) -> Result<()> {
        if self.json {
            let record = Record {
                at_unix_ms: now_unix_ms(),
                event,
            };
            let line = serde_json::to_string(&record).map_err(|e| CliError::new(e.to_string()))?;
            writeln!(self.out, "{line}")?;
        } else {
            writeln!(self.out, "{}", text(event))?;
        }
        self.out.flush()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auto::judge::{Finding, Metric};

    #[test]
    fn json_lines_and_text() {
        let event = Event::Verdict {
            step: 1,
            weight: 50.0,
            verdict: Verdict::Fail {
                findings: vec![Finding {
                    metric: Metric::ErrorRate,
                    value: 20.0,
                    limit: 1.0,
                    baseline: Some(0.0),
                }],
            },
            failures: 1,
            failure_limit: 2,
        };
        let mut out = Vec::new();
        Reporter {
            out: &mut out,
            json: true,
        }
        .emit(&event)
        .unwrap();
        let line: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(line["event"], "verdict");
        assert_eq!(line["verdict"], "fail");
        assert_eq!(line["findings"][0]["metric"], "error_rate");
        assert_eq!(line["findings"][0]["baseline"], 0.0);
        assert!(line["at_unix_ms"].as_u64().unwrap() > 0);
        assert_eq!(
            text(&event),
            "step 2 at 50%: FAIL: error rate 20.00% > max-error-rate 1% (baseline 0.00%) (failures 1/2)"
        );
    }
}
