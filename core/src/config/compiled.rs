//! The compiled plugin config: what the filter keeps after validation.

use crate::condition::Condition;
use crate::hosts::HostIndex;
use crate::lanes::Lanes;
use crate::regex::Regex;

/// A validated plugin config.
#[derive(Debug, Clone)]
pub struct Config {
    pub releases: Vec<Release>,
    pub(super) hosts: HostIndex,
    pub(super) routing_headers: Vec<String>,
    /// The `lanes` block, when some canary names a lane.
    pub lanes: Option<Lanes>,
}

impl Config {
    /// The release that covers `host` (lower-case, no port) and its index.
    pub fn release_for_host(&self, host: &[u8]) -> Option<(usize, &Release)> {
        let index = self.hosts.lookup(host)?;
        Some((index, self.releases.get(index)?))
    }

    /// Every distinct routing header the config writes, lower-cased. The
    /// filter strips these from requests so a client cannot pick a version.
    pub fn routing_headers(&self) -> &[String] {
        &self.routing_headers
    }
}

/// One release: a service's baseline and its canaries, and how traffic is
/// split. The two-version form (`canary`) compiles to one canary, so both
/// forms share one decision and one bucket layout.
#[derive(Debug, Clone)]
pub struct Release {
    pub name: String,
    /// As configured (lower-cased); empty means every host.
    pub hosts: Vec<String>,
    /// Routing header name, lower-cased.
    pub header: String,
    pub baseline: String,
    /// 1 to `MAX_CANARIES`, in priority order; their weights sum to at
    /// most 10000 basis points.
    pub canaries: Canaries,
    /// Written in the `canaries` form: its canaries' counters are named by
    /// their values (`canary.<release>.tag.<value>.<reason>`).
    pub tagged: bool,
    pub sticky: Option<Sticky>,
    /// Where the counters of canaries after the first start in the
    /// counter table (see `plan::CounterSlot`).
    pub(crate) first_extra_slot: usize,
    /// Where its lane counters start (see `plan::CounterSlot`).
    pub(crate) first_lane_slot: usize,
}

/// A release's canaries: never empty, so the first is always there.
#[derive(Debug, Clone)]
pub struct Canaries {
    first: Canary,
    rest: Vec<Canary>,
}

impl Canaries {
    pub(super) fn new(first: Canary, rest: Vec<Canary>) -> Self {
        Self { first, rest }
    }

    /// The first: the only one in the two-version form.
    pub fn first(&self) -> &Canary {
        &self.first
    }

    /// The canaries after the first, for the decision's fast path (the
    /// two-version form has none).
    pub(crate) fn rest(&self) -> &[Canary] {
        &self.rest
    }

    /// The canary at `position` in the list.
    pub fn get(&self, position: usize) -> Option<&Canary> {
        match position.checked_sub(1) {
            None => Some(&self.first),
            Some(later) => self.rest.get(later),
        }
    }

    /// In priority order.
    pub fn iter(&self) -> impl Iterator<Item = &Canary> + '_ {
        std::iter::once(&self.first).chain(&self.rest)
    }

    /// For tools that try other weights or rules on a compiled config
    /// (`canaryctl simulate`); the filter never changes a config.
    pub fn iter_mut(&mut self) -> impl Iterator<Item = &mut Canary> + '_ {
        std::iter::once(&mut self.first).chain(&mut self.rest)
    }

    /// The position of the canary in `lane`, if one is.
    pub fn in_lane(&self, lane: &str) -> Option<usize> {
        (0..self.len()).find(|&i| self.get(i).and_then(|c| c.lane.as_deref()) == Some(lane))
    }

    /// The canary whose value is `value`, and its position.
    pub fn find(&self, value: &str) -> Option<(usize, &Canary)> {
        self.iter().enumerate().find(|(_, c)| c.value == value)
    }

    /// At least 1.
    pub fn len(&self) -> usize {
        1 + self.rest.len()
    }

    /// Always false; for symmetry with `len`.
    pub fn is_empty(&self) -> bool {
        false
    }
}

/// One canary version of a release.
#[derive(Debug, Clone)]
pub struct Canary {
    /// What the filter writes in the routing header.
    pub value: String,
    pub rule: Option<Rule>,
    /// Share of the requests no rule took, in basis points (0..=10000).
    pub weight_bp: u32,
    /// The lane this version belongs to.
    pub lane: Option<String>,
}

/// The traffic rule: the path (if any) AND the conditions combined by mode.
#[derive(Debug, Clone)]
pub struct Rule {
    pub path: Option<PathMatch>,
    pub mode: Mode,
    pub conditions: Vec<Condition>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    All,
    Any,
}

#[derive(Debug, Clone)]
pub enum PathMatch {
    Exact(String),
    Prefix(String),
    /// Anchored: must match the whole path.
    Regex(Regex),
}

/// Where the sticky key comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sticky {
    /// Lower-cased header name.
    Header(String),
    Cookie(String),
}

impl PathMatch {
    pub fn matches(&self, path: &[u8]) -> bool {
        match self {
            PathMatch::Exact(want) => path == want.as_bytes(),
            PathMatch::Prefix(want) => path.starts_with(want.as_bytes()),
            PathMatch::Regex(re) => std::str::from_utf8(path).is_ok_and(|p| re.is_match(p)),
        }
    }
}
