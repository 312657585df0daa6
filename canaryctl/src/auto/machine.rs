//! The state machine's one decision, pure: the phase after a step's
//! verdict.
//!
//! ```text
//! Step{i, applied: false} --weight written, Envoy applied--> Step{i, applied: true}
//! Step{i, true} --pass, more steps--> Step{i+1, false}
//! Step{i, true} --pass, last step--> Completing (or AwaitingPromotion --promote--> Completing)
//! Step{i, true} --inconclusive, or fail below failure-limit--> Step{i, true} (held, measured again)
//! Step{i, true} --fail reaching failure-limit--> RollingBack
//! any running phase --abort or deadline--> RollingBack;  --someone else's edit--> Stopped
//! Completing --> Completed (exit 0);  RollingBack --> RolledBack (exit 3)
//! ```

use crate::auto::judge::Verdict;
use crate::auto::settings::Settings;
use crate::auto::state::Phase;

/// The phase after `verdict` on step `index`, with `failures` failed
/// intervals counted so far (this one included); `reason`: the verdict in
/// words, for a rollback.
pub fn after_verdict(
    verdict: &Verdict,
    index: usize,
    failures: u32,
    settings: &Settings,
    reason: &str,
) -> Phase {
    let last = index + 1 >= settings.steps.len();
    match verdict {
        Verdict::Fail { .. } if failures >= settings.failure_limit => Phase::RollingBack {
            reason: format!(
                "{reason} ({failures} failed intervals, failure-limit {})",
                settings.failure_limit
            ),
        },
        Verdict::Pass if last && settings.manual_promotion => Phase::AwaitingPromotion,
        Verdict::Pass if last => Phase::Completing,
        Verdict::Pass => Phase::Step {
            index: index + 1,
            applied: false,
        },
        Verdict::Fail { .. } | Verdict::Inconclusive { .. } => Phase::Step {
            index,
            applied: true,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transitions() {
        let settings = Settings {
            steps: vec![20.0, 50.0, 100.0],
            failure_limit: 2,
            ..Settings::default()
        };
        let fail = Verdict::Fail {
            findings: Vec::new(),
        };
        let held = Phase::Step {
            index: 1,
            applied: true,
        };
        assert_eq!(
            after_verdict(&Verdict::Pass, 0, 0, &settings, ""),
            Phase::Step {
                index: 1,
                applied: false
            }
        );
        assert_eq!(
            after_verdict(&Verdict::Pass, 2, 1, &settings, ""),
            Phase::Completing
        );
        let gated = Settings {
            manual_promotion: true,
            ..settings.clone()
        };
        assert_eq!(
            after_verdict(&Verdict::Pass, 2, 0, &gated, ""),
            Phase::AwaitingPromotion
        );
        assert_eq!(after_verdict(&fail, 1, 1, &settings, "x"), held);
        let inconclusive = Verdict::Inconclusive {
            reason: "few".into(),
        };
        // Inconclusive is held however often, never passed nor failed.
        assert_eq!(after_verdict(&inconclusive, 1, 5, &settings, "x"), held);
        assert_eq!(
            after_verdict(&fail, 1, 2, &settings, "p99 600 ms"),
            Phase::RollingBack {
                reason: "p99 600 ms (2 failed intervals, failure-limit 2)".into()
            }
        );
    }
}
