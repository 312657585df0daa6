//! The decision: which release covers the request, and whether it goes to
//! the baseline or one of the canaries, and why. A pure function: the random
//! roll is a parameter, so every branch is testable exactly.

use std::fmt;

use crate::bucket::bucket;
use crate::config::{Canary, Config, Mode, Release, Rule, Sticky};
use crate::request::Request;
use crate::split::landing;
use crate::version::{Reason, Version};

/// What to do with a request that a release covers.
#[derive(Debug, Clone, Copy)]
pub struct Outcome<'c> {
    /// Index of the release in `Config::releases`.
    pub index: usize,
    pub release: &'c Release,
    pub version: Version,
    /// When `version` is `Canary`: which one, its position in
    /// `release.canaries` (always 0 in the two-version form). 0 otherwise.
    pub canary: usize,
    pub reason: Reason,
}

impl<'c> Outcome<'c> {
    /// The routing header's value for this outcome.
    pub fn value(&self) -> &'c str {
        match self.version {
            Version::Baseline => &self.release.baseline,
            // `decide` only picks canaries that exist; the baseline is the
            // safe answer for an outcome built by hand.
            Version::Canary => self
                .release
                .canaries
                .get(self.canary)
                .map_or(&self.release.baseline, |c| &c.value),
        }
    }

    /// The version as counters and logs name it: `baseline` or `canary` in
    /// the two-version form, a tagged canary by its value.
    pub fn version_name(&self) -> &'c str {
        match self.version {
            Version::Canary if self.release.tagged => self.value(),
            version => version.as_str(),
        }
    }
}

/// The filter's debug line for a routed request:
/// `release=pay version=canary reason=rule x-canary-cluster=pay-v2`.
impl fmt::Display for Outcome<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "release={} version={} reason={} {}={}",
            self.release.name,
            self.version_name(),
            self.reason.as_str(),
            self.release.header,
            self.value()
        )
    }
}

/// Decides for one request. `roll` is uniform in `0..10000` and is used only
/// when neither the rule nor a sticky key decides. `None`: no release covers
/// the request's host.
pub fn decide<'c>(config: &'c Config, request: &Request<'_>, roll: u32) -> Option<Outcome<'c>> {
    let lane = config
        .lanes
        .as_ref()
        .and_then(|lanes| lanes.carried(request));
    decide_in_lane(config, request, roll, lane)
}

/// Decides for a request that carries `lane` (a known lane, from its lane
/// header or the trace's record), or none.
pub fn decide_in_lane<'c>(
    config: &'c Config,
    request: &Request<'_>,
    roll: u32,
    lane: Option<&str>,
) -> Option<Outcome<'c>> {
    let host = request.host();
    let (index, release) = config.release_for_host(&host)?;
    let (canary, reason) = match lane {
        // Lane traffic goes to the lane's version, else the baseline: never
        // to another lane's canary nor to a lane-less one by weight.
        Some(lane) => (release.canaries.in_lane(lane), Reason::Lane),
        None => route(release, request, roll),
    };
    Some(Outcome {
        index,
        release,
        version: if canary.is_some() {
            Version::Canary
        } else {
            Version::Baseline
        },
        canary: canary.unwrap_or(0),
        reason,
    })
}

/// The canary the request goes to (`None`: the baseline), and why. The
/// first canary whose rule the request satisfies takes it; otherwise the
/// draw lands by the weights.
fn route(release: &Release, request: &Request<'_>, roll: u32) -> (Option<usize>, Reason) {
    let canaries = &release.canaries;
    let takes = |canary: &Canary| {
        canary
            .rule
            .as_ref()
            .is_some_and(|rule| rule_matches(rule, request, &release.name))
    };
    // The first apart: the two-version form has only it, and pays for no
    // iterator over the (empty) rest.
    if takes(canaries.first()) {
        return (Some(0), Reason::Rule);
    }
    if let Some(later) = canaries.rest().iter().position(takes) {
        return (Some(later + 1), Reason::Rule);
    }
    let sticky_key = release.sticky.as_ref().and_then(|sticky| match sticky {
        Sticky::Header(name) => request.header(name.as_bytes()),
        Sticky::Cookie(name) => request.cookie(name.as_bytes()).map(Into::into),
    });
    let (draw, reason) = match sticky_key {
        Some(key) => (bucket(&release.name, &key), Reason::Sticky),
        None => (roll, Reason::Weight),
    };
    let first = canaries.first().weight_bp;
    let weights = std::iter::once(first).chain(canaries.rest().iter().map(|c| c.weight_bp));
    (landing(draw, weights), reason)
}

fn rule_matches(rule: &Rule, request: &Request<'_>, release: &str) -> bool {
    if let Some(path) = &rule.path {
        if !path.matches(request.path()) {
            return false;
        }
    }
    let mut conditions = rule.conditions.iter();
    match rule.mode {
        Mode::All => conditions.all(|c| c.matches(request, release)),
        // A path with no conditions is a rule of its own.
        Mode::Any => rule.conditions.is_empty() || conditions.any(|c| c.matches(request, release)),
    }
}
