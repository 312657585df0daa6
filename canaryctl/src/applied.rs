//! Did Envoy apply this config? The one answer, from the ECDS subscription's
//! counters on Envoy's admin (`extension_config_discovery.http_filter.<filter>.*`):
//!
//! - applied: `update_success` rose, and `config_reload` too (every worker
//!   holds the new filter) unless the filter's `typed_config` did not change
//!   (Envoy then skips the rebuild and no reload comes);
//! - refused: `update_rejected` rose; for a changed filter the wait goes on
//!   (within the same bound) for the `config_reload` that follows, so that
//!   the next watch starts from settled counters, and it is a refusal anyway
//!   if that never comes.
//!
//! Read the counters before the change ([`Watch::begin`]), make the change,
//! then [`Watch::wait`] for the verdict.

use std::fmt;
use std::thread::sleep;
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::admin::Admin;

/// How often the counters are read while waiting.
const POLL: Duration = Duration::from_millis(20);

/// The three counters of one filter's ECDS subscription.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct EcdsCounters {
    pub update_success: u64,
    pub update_rejected: u64,
    pub config_reload: u64,
}

/// Envoy's verdict on a new config.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// In force for requests from now on.
    Applied,
    /// Rejected; the last good config stays in force.
    Refused,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WaitError {
    /// The admin could not be read, or lists no such subscription.
    Admin(String),
    /// No verdict within the bound.
    NoAnswer {
        filter: String,
        authority: String,
        waited: Duration,
    },
    /// Both counters rose: more than one update landed meanwhile.
    TwoVerdicts { filter: String },
}

impl fmt::Display for WaitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WaitError::Admin(message) => f.write_str(message),
            WaitError::NoAnswer {
                filter,
                authority,
                waited,
            } => write!(
                f,
                "Envoy at {authority} did not answer: filter {filter} was neither applied nor refused within {}s (see Envoy's log)",
                waited.as_secs_f64()
            ),
            WaitError::TwoVerdicts { filter } => write!(
                f,
                "Envoy both applied and refused an update of filter {filter} meanwhile: did another writer change the file too?"
            ),
        }
    }
}

impl std::error::Error for WaitError {}

/// The stat name of counter `counter` of `filter`'s ECDS subscription.
pub fn stat_name(filter: &str, counter: &str) -> String {
    format!("extension_config_discovery.http_filter.{filter}.{counter}")
}

/// `text` as a literal inside an RE2 pattern.
pub fn regex_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 2);
    for c in text.chars() {
        if "\\.+*?()|[]{}^$".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

pub fn url_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Reads `filter`'s three counters in one GET.
pub fn read_counters(admin: &Admin, filter: &str) -> Result<EcdsCounters, WaitError> {
    let prefix = stat_name(filter, "");
    let pattern = format!(
        "^{}(update_success|update_rejected|config_reload)$",
        regex_escape(&prefix)
    );
    let body = admin
        .get(&format!("/stats?filter={}", url_encode(&pattern)))
        .map_err(WaitError::Admin)?;
    let mut found = [None; 3];
    for line in body.lines() {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let Ok(value) = value.trim().parse::<u64>() else {
            continue;
        };
        let slot = match name.trim().strip_prefix(&prefix) {
            Some("update_success") => found.get_mut(0),
            Some("update_rejected") => found.get_mut(1),
            Some("config_reload") => found.get_mut(2),
            _ => None,
        };
        if let Some(slot) = slot {
            *slot = Some(value);
        }
    }
    match found {
        [Some(update_success), Some(update_rejected), Some(config_reload)] => Ok(EcdsCounters {
            update_success,
            update_rejected,
            config_reload,
        }),
        _ => Err(WaitError::Admin(format!(
            "Envoy's admin at {} lists no ECDS counters {prefix}*: is {filter} the name of an HTTP filter Envoy gets through ECDS?",
            admin.authority
        ))),
    }
}

/// What the counters say so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Judgement {
    /// No verdict yet (or not yet on every worker).
    Pending,
    Done(Verdict),
    /// Both `update_success` and `update_rejected` rose.
    TwoVerdicts,
}

/// The verdict `now` shows against `before`, if any yet.
pub fn judge(before: &EcdsCounters, now: &EcdsCounters, filter_changed: bool) -> Judgement {
    let settled = !filter_changed || now.config_reload > before.config_reload;
    let verdict = match (
        now.update_success > before.update_success,
        now.update_rejected > before.update_rejected,
    ) {
        (true, true) => return Judgement::TwoVerdicts,
        (true, false) => Verdict::Applied,
        (false, true) => Verdict::Refused,
        (false, false) => return Judgement::Pending,
    };
    if settled {
        Judgement::Done(verdict)
    } else {
        Judgement::Pending
    }
}

/// One change being watched: the counters as they were before it.
#[derive(Debug, Clone)]
pub struct Watch {
    admin: Admin,
    filter: String,
    before: EcdsCounters,
}

impl Watch {
    /// Reads `filter`'s counters now, before the change is made.
    pub fn begin(admin: &Admin, filter: &str) -> Result<Watch, WaitError> {
        Ok(Watch {
            admin: admin.clone(),
            filter: filter.to_string(),
            before: read_counters(admin, filter)?,
        })
    }

    pub fn filter(&self) -> &str {
        &self.filter
    }

    pub fn before(&self) -> &EcdsCounters {
        &self.before
    }

    /// Waits up to `timeout` for Envoy's verdict on the change made since
    /// [`Watch::begin`]; `filter_changed`: whether the filter's
    /// `typed_config` changed (then a reload must follow).
    pub fn wait(&self, filter_changed: bool, timeout: Duration) -> Result<Verdict, WaitError> {
        let started = Instant::now();
        let deadline = started + timeout;
        loop {
            let now = read_counters(&self.admin, &self.filter)?;
            match judge(&self.before, &now, filter_changed) {
                Judgement::TwoVerdicts => {
                    return Err(WaitError::TwoVerdicts {
                        filter: self.filter.clone(),
                    })
                }
                Judgement::Done(verdict) => return Ok(verdict),
                Judgement::Pending => {}
            }
            if Instant::now() >= deadline {
                // Refused, only the reload after it never came.
                if now.update_rejected > self.before.update_rejected {
                    return Ok(Verdict::Refused);
                }
                return Err(WaitError::NoAnswer {
                    filter: self.filter.clone(),
                    authority: self.admin.authority.clone(),
                    waited: started.elapsed(),
                });
            }
            sleep(POLL);
        }
    }
}

/// The line the CLI prints for an applied change.
pub fn applied_line(filter: &str, admin: &Admin) -> String {
    format!(
        "Envoy at {} applied the new config of filter {filter}",
        admin.authority
    )
}

/// The message of a refused change.
pub fn refused_line(filter: &str, admin: &Admin) -> String {
    format!(
        "Envoy at {} refused the new config of filter {filter} and keeps the last good one (see Envoy's log)",
        admin.authority
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counters(update_success: u64, update_rejected: u64, config_reload: u64) -> EcdsCounters {
        EcdsCounters {
            update_success,
            update_rejected,
            config_reload,
        }
    }

    #[test]
    fn verdicts_from_counters() {
        let before = counters(1, 0, 1);
        assert_eq!(judge(&before, &before, true), Judgement::Pending);
        // Accepted on the main thread, not yet on every worker.
        assert_eq!(judge(&before, &counters(2, 0, 1), true), Judgement::Pending);
        assert_eq!(
            judge(&before, &counters(2, 0, 2), true),
            Judgement::Done(Verdict::Applied)
        );
        // The same typed_config: Envoy skips the rebuild.
        assert_eq!(
            judge(&before, &counters(2, 0, 1), false),
            Judgement::Done(Verdict::Applied)
        );
        assert_eq!(judge(&before, &counters(1, 1, 1), true), Judgement::Pending);
        assert_eq!(
            judge(&before, &counters(1, 1, 2), true),
            Judgement::Done(Verdict::Refused)
        );
        assert_eq!(
            judge(&before, &counters(2, 1, 2), true),
            Judgement::TwoVerdicts
        );
    }

    #[test]
    fn stat_patterns_are_escaped_and_encoded() {
        assert_eq!(
            url_encode(&regex_escape("a.b-c")),
            "a%5C.b-c",
            "the dot is literal"
        );
        assert_eq!(
            stat_name("canary-filter", "config_reload"),
            "extension_config_discovery.http_filter.canary-filter.config_reload"
        );
    }
}
