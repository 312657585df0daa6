//! The run's loop over the persisted [`Phase`], each action recorded in
//! the state file before it is taken, so a run killed anywhere resumes at
//! the step it was on, never repeats a promotion and never loses a
//! rollback. Between samples it watches for a person's word (the control
//! file), the deadline, and edits of the release by anyone else.

use std::path::PathBuf;
use std::thread::sleep;
use std::time::{Duration, Instant};

use crate::auto::events::{Event, Reporter};
use crate::auto::judge::{describe, judge, Verdict};
use crate::auto::machine::after_verdict;
use crate::auto::settings::{weight_number, Settings};
use crate::auto::state::{now_unix_ms, Control, Measured, Phase, State};
use crate::auto::target::Target;
use crate::edit::Change;
use crate::error::{CliError, Result};
use crate::health::{Sample, Source};

/// How often a waiting run looks at the control file, the clock and the file.
const POLL: Duration = Duration::from_millis(100);
/// How a run ended (errors aside).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Completed,
    RolledBack,
}

/// What stops a wait.
enum Interrupt {
    Abort,
    Deadline,
    Edited(String),
}

/// A run under way; [`crate::auto::begin`] makes it.
pub struct Run<'a> {
    pub target: Target,
    pub state: State,
    pub state_path: PathBuf,
    pub source: &'a dyn Source,
    /// The baseline's and the canary's names in the source.
    pub keys: (String, String),
    pub reporter: Reporter<'a>,
    pub last_reason: Option<String>,
}

impl Run<'_> {
    fn settings(&self) -> &Settings {
        &self.state.settings
    }

    fn save(&self) -> Result<()> {
        self.state.save(&self.state_path)
    }

    fn set_phase(&mut self, phase: Phase) -> Result<()> {
        self.state.phase = phase;
        self.save()
    }

    pub fn go(&mut self) -> Result<Outcome> {
        loop {
            match self.state.phase.clone() {
                Phase::Step {
                    index,
                    applied: false,
                } => {
                    if let Some(interrupt) = self.interrupt()? {
                        self.on_interrupt(interrupt)?;
                        continue;
                    }
                    self.set_weight(index)?;
                }
                Phase::Step {
                    index,
                    applied: true,
                } => self.measure(index)?,
                Phase::AwaitingPromotion => self.await_promotion()?,
                Phase::Completing => {
                    self.finish(&Change::Complete)?;
                    self.set_phase(Phase::Completed)?;
                    self.reporter.emit(&Event::Completed)?;
                    return Ok(Outcome::Completed);
                }
                Phase::RollingBack { reason } => {
                    self.finish(&Change::Rollback)?;
                    self.set_phase(Phase::RolledBack {
                        reason: reason.clone(),
                    })?;
                    self.reporter.emit(&Event::RolledBack { reason })?;
                    return Ok(Outcome::RolledBack);
                }
                Phase::Completed => return Ok(Outcome::Completed),
                Phase::RolledBack { .. } => return Ok(Outcome::RolledBack),
                Phase::Stopped { message } => return Err(CliError::new(message)),
            }
        }
    }

    /// An abort, the deadline, or someone else's edit of the release.
    fn interrupt(&mut self) -> Result<Option<Interrupt>> {
        if Control::load(&self.state_path)?.abort {
            return Ok(Some(Interrupt::Abort));
        }
        if now_unix_ms() >= self.state.deadline_unix_ms {
            return Ok(Some(Interrupt::Deadline));
        }
        let current = self.target.current()?;
        if current == self.state.expected_release {
            return Ok(None);
        }
        if self.state.pending_release.as_ref() == Some(&current) {
            // Killed between the write and its record: the write is ours.
            self.state.expected_release = current;
            self.state.pending_release = None;
            self.save()?;
            return Ok(None);
        }
        Ok(Some(Interrupt::Edited(format!(
            "release {} in {} was edited by someone else meanwhile (it is now {current}); the run stops and overwrites nothing",
            self.target.release,
            self.target.path.display()
        ))))
    }

    fn on_interrupt(&mut self, interrupt: Interrupt) -> Result<()> {
        match interrupt {
            Interrupt::Abort => self.set_phase(Phase::RollingBack {
                reason: "aborted by a person (canaryctl abort)".to_string(),
            }),
            Interrupt::Deadline => {
                let last = self
                    .last_reason
                    .as_deref()
                    .map_or(String::new(), |r| format!("; last verdict: {r}"));
                let reason = format!(
                    "deadline: the run did not finish within {}s at {}{last}",
                    self.settings().deadline_ms / 1000,
                    self.state.phase.describe()
                );
                self.set_phase(Phase::RollingBack { reason })
            }
            Interrupt::Edited(message) => {
                self.set_phase(Phase::Stopped {
                    message: message.clone(),
                })?;
                Err(CliError::new(message))
            }
        }
    }

    /// Waits `duration`, looking out for interrupts and pauses; `false`
    /// when interrupted (the phase then says what comes next).
    fn wait(&mut self, duration: Duration, step: usize) -> Result<bool> {
        let end = Instant::now() + duration;
        let mut paused = false;
        loop {
            if let Some(interrupt) = self.interrupt()? {
                self.on_interrupt(interrupt)?;
                return Ok(false);
            }
            let control = Control::load(&self.state_path)?;
            if control.paused != paused {
                paused = control.paused;
                if paused {
                    self.reporter.emit(&Event::Paused { step })?;
                } else {
                    self.reporter.emit(&Event::Resumed { step })?;
                    // The interval is measured again, from now.
                    return Ok(false);
                }
            }
            if !paused && Instant::now() >= end {
                return Ok(true);
            }
            sleep(POLL);
        }
    }

    fn set_weight(&mut self, index: usize) -> Result<()> {
        let weight = self.settings().steps.get(index).copied().unwrap_or(100.0);
        let document = self.target.load()?;
        let planned = self
            .target
            .plan(&document, &Change::SetWeight(weight_number(weight)))?;
        self.state.pending_release = Some(planned.release_after.clone());
        self.save()?;
        let applied = match self.target.commit(&document, &planned) {
            Err(CliError::Changed(_)) => {
                // Someone wrote the file between our read and write.
                return match self.interrupt()? {
                    Some(interrupt) => self.on_interrupt(interrupt),
                    None => Ok(()),
                };
            }
            result => result?,
        };
        self.state.expected_release = planned.release_after;
        self.state.pending_release = None;
        self.set_phase(Phase::Step {
            index,
            applied: true,
        })?;
        self.reporter.emit(&Event::WeightSet {
            step: index,
            weight,
            applied,
        })
    }

    fn samples(&self) -> std::result::Result<(Sample, Sample), String> {
        Ok((
            self.source.sample(&self.keys.0)?,
            self.source.sample(&self.keys.1)?,
        ))
    }

    fn measure(&mut self, index: usize) -> Result<()> {
        let weight = self.settings().steps.get(index).copied().unwrap_or(100.0);
        let started = Instant::now();
        let before = self.samples();
        if !self.wait(self.settings().interval(), index)? {
            return Ok(());
        }
        let seconds = started.elapsed().as_secs_f64();
        let verdict = match (before, self.samples()) {
            (Ok(before), Ok(after)) => {
                let baseline = after.0.since(&before.0).health(seconds);
                let canary = after.1.since(&before.1).health(seconds);
                self.reporter.emit(&Event::Measurement {
                    step: index,
                    weight,
                    seconds,
                    canary,
                    baseline,
                })?;
                let verdict = judge(&canary, &baseline, &self.settings().limits);
                self.state.last_measurement = Some(Measured {
                    step: index,
                    weight,
                    requests: canary.requests,
                    error_rate: canary.error_rate,
                    p99_ms: canary.p99_ms,
                    verdict: match verdict {
                        Verdict::Pass => "pass",
                        Verdict::Fail { .. } => "fail",
                        Verdict::Inconclusive { .. } => "inconclusive",
                    }
                    .to_string(),
                });
                verdict
            }
            (Err(message), _) | (_, Err(message)) => {
                self.reporter.emit(&Event::SourceError {
                    step: index,
                    message: message.clone(),
                })?;
                // A source that cannot be read is a failed interval, never a pass.
                Verdict::Fail {
                    findings: Vec::new(),
                }
            }
        };
        let failed = matches!(verdict, Verdict::Fail { .. });
        if failed {
            self.state.failures += 1;
        }
        let reason = match &verdict {
            Verdict::Fail { findings } if findings.is_empty() => Some(format!(
                "step {} at {weight}%: the health source could not be read",
                index + 1
            )),
            Verdict::Fail { findings } => {
                let words: Vec<String> = findings.iter().map(describe).collect();
                Some(format!(
                    "step {} at {weight}%: {}",
                    index + 1,
                    words.join("; ")
                ))
            }
            Verdict::Inconclusive { reason } => Some(format!(
                "step {} at {weight}%: inconclusive: {reason}",
                index + 1
            )),
            Verdict::Pass => None,
        };
        if reason.is_some() {
            self.last_reason = reason.clone();
        }
        let failures = self.state.failures;
        let failure_limit = self.settings().failure_limit;
        let next = after_verdict(
            &verdict,
            index,
            failures,
            self.settings(),
            reason.as_deref().unwrap_or_default(),
        );
        self.set_phase(next)?;
        self.reporter.emit(&Event::Verdict {
            step: index,
            weight,
            verdict,
            failures,
            failure_limit,
        })
    }

    fn await_promotion(&mut self) -> Result<()> {
        self.reporter.emit(&Event::AwaitingPromotion)?;
        loop {
            if let Some(interrupt) = self.interrupt()? {
                return self.on_interrupt(interrupt);
            }
            if Control::load(&self.state_path)?.promote {
                self.reporter.emit(&Event::Promoted)?;
                return self.set_phase(Phase::Completing);
            }
            sleep(POLL);
        }
    }

    /// Complete or roll back: always done (a rollback is never lost), on
    /// the file as it is now.
    fn finish(&mut self, change: &Change) -> Result<()> {
        let document = self.target.load()?;
        let planned = self.target.plan(&document, change)?;
        self.state.pending_release = Some(planned.release_after.clone());
        self.save()?;
        let planned = match self.target.commit(&document, &planned) {
            // Written meanwhile: plan again on the new content.
            Err(CliError::Changed(_)) => {
                let document = self.target.load()?;
                let again = self.target.plan(&document, change)?;
                self.target.commit(&document, &again)?;
                again
            }
            result => {
                result?;
                planned
            }
        };
        self.state.expected_release = planned.release_after;
        self.state.pending_release = None;
        self.save()
    }
}
