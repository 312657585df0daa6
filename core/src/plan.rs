//! The routing plan: everything the filter does to one request, decided
//! here so the proxy-wasm shell only carries it out. Which routing header to
//! write, which of the client's routing headers to remove (so no client can
//! pick a version), which lane header to write, and which counter to count.

use crate::config::Config;
use crate::decide::{decide_in_lane, Outcome};
use crate::metric_names::CounterName;
use crate::request::Request;
use crate::version::{Reason, Version};

/// A counter's place in the table `counters` lists, so the shell keeps one
/// host id per slot and counts without looking names up.
///
/// The table: a block of `PER_RELEASE` per release (its baseline's and its
/// first canary's counters), the no-release counter, then the counters of
/// every canary after the first, release by release, and last, only with
/// lanes, the reason-`lane` counters: per release its baseline's and each
/// canary's. So a config of the two-version form numbers its counters as it
/// always has, and one without lanes defines no lane counter.
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
        if outcome.reason == Reason::Lane {
            let version = match outcome.version {
                Version::Baseline => 0,
                Version::Canary => 1 + outcome.canary,
            };
            return Self(outcome.release.first_lane_slot + version);
        }
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
    let first_lane = config.releases.first().map(|r| r.first_lane_slot);
    if first_lane.is_some_and(|first| slot >= first) {
        return lane_counter_at(config, slot);
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

/// A slot of the lane block: a release's baseline, then its canaries;
/// only a config with lanes has them.
fn lane_counter_at(config: &Config, slot: usize) -> Option<CounterName<'_>> {
    config.lanes.as_ref()?;
    let release = config
        .releases
        .iter()
        .rev()
        .find(|r| r.first_lane_slot <= slot)?;
    let name = &release.name;
    match (slot - release.first_lane_slot).checked_sub(1) {
        None => Some(CounterName::routed(name, Version::Baseline, Reason::Lane)),
        Some(canary) => {
            let canary = release.canaries.get(canary)?;
            Some(match release.tagged {
                true => CounterName::tagged(name, &canary.value, Reason::Lane),
                false => CounterName::routed(name, Version::Canary, Reason::Lane),
            })
        }
    }
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
    /// The lane header to write: the request joins a lane (its canary has
    /// one) or follows a recorded one it did not carry. `None` otherwise,
    /// and always without `lanes`.
    pub set_lane: Option<SetHeader<'c>>,
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
    plan_with_lane(config, request, roll, None)
}

/// The plan for a request whose trace has `recorded` as its lane (loose
/// mode's lookup; the request's own lane header comes first). An unknown
/// recorded lane is no lane.
pub fn plan_with_lane<'c>(
    config: &'c Config,
    request: &Request<'_>,
    roll: u32,
    recorded: Option<&str>,
) -> RoutingPlan<'c> {
    let lanes = config.lanes.as_ref();
    let carried = lanes.and_then(|l| l.carried(request));
    let recorded = match carried {
        Some(_) => None,
        None => lanes.zip(recorded).and_then(|(l, r)| l.known(r.as_bytes())),
    };
    let outcome = decide_in_lane(config, request, roll, carried.or(recorded));
    let set = outcome.map(|o| SetHeader {
        name: &o.release.header,
        value: o.value(),
    });
    let joined = match (carried, outcome) {
        (None, Some(o)) if o.version == Version::Canary => o
            .release
            .canaries
            .get(o.canary)
            .and_then(|c| c.lane.as_deref()),
        _ => None,
    };
    let set_lane = lanes.zip(recorded.or(joined)).map(|(l, lane)| SetHeader {
        name: &l.header,
        value: lane,
    });
    let written = set.map(|s| s.name);
    // Pushed one by one: no allocation unless the client sent one.
    let mut remove = Vec::new();
    for header in config.routing_headers() {
        if written != Some(header.as_str()) && request.has_header(header.as_bytes()) {
            remove.push(header.as_str());
        }
    }
    // At an edge the client's lane header goes, like a routing header.
    if let Some(l) = lanes.filter(|l| l.edge) {
        if set_lane.is_none() && request.has_header(l.header.as_bytes()) {
            remove.push(l.header.as_str());
        }
    }
    let count = match &outcome {
        Some(o) => CounterSlot::of(o),
        None => CounterSlot::no_release(config),
    };
    RoutingPlan {
        outcome,
        set,
        set_lane,
        remove,
        count: Some(count),
    }
}

/// The plan when the request's headers cannot be read: no decision and no
/// count, but still no client header may route, so every routing header
/// goes.
pub fn plan_unreadable(config: &Config) -> RoutingPlan<'_> {
    let mut remove: Vec<&str> = config
        .routing_headers()
        .iter()
        .map(String::as_str)
        .collect();
    if let Some(lanes) = config.lanes.as_ref().filter(|l| l.edge) {
        remove.push(&lanes.header);
    }
    RoutingPlan {
        outcome: None,
        set: None,
        set_lane: None,
        remove,
        count: None,
    }
}
