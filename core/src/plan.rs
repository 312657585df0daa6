//! The routing plan: everything the filter does to one request, decided
//! here so the proxy-wasm shell only carries it out. Which routing header to
//! write, which of the client's routing headers to remove (so no client can
//! pick a version), and which counter to count.

use crate::config::Config;
use crate::decide::{decide, Outcome};
use crate::metric_names::CounterName;
use crate::request::Request;
use crate::version::{Reason, Version};

/// A counter's place in the table `counters` lists, so the shell keeps one
/// host id per slot and counts without looking names up.
///
/// The table: a block of `PER_RELEASE` per release (its baseline's and its
/// first canary's counters), the no-release counter, then the counters of
/// every canary after the first, release by release. So a config of the
/// two-version form numbers its counters as it always has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CounterSlot(usize);

impl CounterSlot {
    /// One counter per version and reason in each release.
    pub const PER_RELEASE: usize = Version::COUNT * Reason::COUNT;

    /// The counter of release `release` (its index in `Config::releases`)
    /// for its baseline or its first canary.
    pub fn routed(release: usize, version: Version, reason: Reason) -> Self {
        Self(release * Self::PER_RELEASE + version.index() * Reason::COUNT + reason.index())
    }

    /// The counter of an outcome: its release, version, canary and reason.
    pub fn of(outcome: &Outcome<'_>) -> Self {
        match (outcome.version, outcome.canary) {
            (Version::Canary, canary @ 1..) => Self(
                outcome.release.first_extra_slot
                    + (canary - 1) * Reason::COUNT
                    + outcome.reason.index(),
            ),
            (version, _) => Self::routed(outcome.index, version, outcome.reason),
        }
    }

    /// The counter of requests no release covers: after every release's.
    pub fn no_release(config: &Config) -> Self {
        Self(config.releases.len() * Self::PER_RELEASE)
    }

    /// Its position in `counters(config)`.
    pub fn index(self) -> usize {
        self.0
    }
}

/// Every counter the filter defines for `config`, in slot order: the n-th
/// has slot n. Refused plugins are counted outside any config.
pub fn counters(config: &Config) -> impl Iterator<Item = CounterName<'_>> {
    (0..).map_while(move |slot| counter_at(config, slot))
}

/// The counter in slot `slot`, the inverse of `CounterSlot::routed`,
/// `CounterSlot::of` and `CounterSlot::no_release`; `None` past the last.
fn counter_at(config: &Config, slot: usize) -> Option<CounterName<'_>> {
    let no_release = CounterSlot::no_release(config).0;
    if slot == no_release {
        return Some(CounterName::NoRelease);
    }
    if slot > no_release {
        return extra_counter_at(config, slot);
    }
    let (release, rest) = (
        slot / CounterSlot::PER_RELEASE,
        slot % CounterSlot::PER_RELEASE,
    );
    let release = config.releases.get(release)?;
    let version = *Version::ALL.get(rest / Reason::COUNT)?;
    let reason = *Reason::ALL.get(rest % Reason::COUNT)?;
    match (version, release.tagged, release.canaries.first()) {
        (Version::Canary, true, first) => {
            Some(CounterName::tagged(&release.name, &first.value, reason))
        }
        _ => Some(CounterName::routed(&release.name, version, reason)),
    }
}

/// A slot past the no-release counter: a canary after its release's first.
fn extra_counter_at(config: &Config, slot: usize) -> Option<CounterName<'_>> {
    let release = config
        .releases
        .iter()
        .rev()
        .find(|r| r.first_extra_slot <= slot)?;
    let offset = slot - release.first_extra_slot;
    let canary = release.canaries.get(1 + offset / Reason::COUNT)?;
    let reason = *Reason::ALL.get(offset % Reason::COUNT)?;
    Some(CounterName::tagged(&release.name, &canary.value, reason))
}

/// A header to write, replacing every value the client sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SetHeader<'c> {
    /// Lower-cased.
    pub name: &'c str,
    pub value: &'c str,
}

/// What to do with one request.
#[derive(Debug, Clone)]
pub struct RoutingPlan<'c> {
    /// The decision, when a release covers the request.
    pub outcome: Option<Outcome<'c>>,
    /// The routing header to write; `None` when no release covers the host.
    pub set: Option<SetHeader<'c>>,
    /// Routing headers to remove, each once, lower-cased, in config order:
    /// the ones the client sent that `set` does not overwrite. Empty (and
    /// not allocated) for a request that sends none.
    pub remove: Vec<&'c str>,
    /// The counter to count; `None` when the request could not be read.
    pub count: Option<CounterSlot>,
}

/// The plan for a request whose headers were read. `roll` is uniform in
/// `0..10000`, as for `decide`.
pub fn plan<'c>(config: &'c Config, request: &Request<'_>, roll: u32) -> RoutingPlan<'c> {
    let outcome = decide(config, request, roll);
    let set = outcome.map(|o| SetHeader {
        name: &o.release.header,
        value: o.value(),
    });
    let written = set.map(|s| s.name);
    // Pushed one by one: no allocation unless the client sent one.
    let mut remove = Vec::new();
    for header in config.routing_headers() {
        if written != Some(header.as_str()) && request.has_header(header.as_bytes()) {
            remove.push(header.as_str());
        }
    }
    let count = match &outcome {
        Some(o) => CounterSlot::of(o),
        None => CounterSlot::no_release(config),
    };
    RoutingPlan {
        outcome,
        set,
        remove,
        count: Some(count),
    }
}

/// The plan when the request's headers cannot be read: no decision and no
/// count, but still no client header may route, so every routing header
/// goes.
pub fn plan_unreadable(config: &Config) -> RoutingPlan<'_> {
    RoutingPlan {
        outcome: None,
        set: None,
        remove: config
            .routing_headers()
            .iter()
            .map(String::as_str)
            .collect(),
        count: None,
    }
}
