//! The compiled plugin config: what the filter keeps after validation.

use crate::condition::Condition;
use crate::hosts::HostIndex;
use crate::regex::Regex;

/// A validated plugin config.
#[derive(Debug, Clone)]
pub struct Config {
    pub releases: Vec<Release>,
    pub(super) hosts: HostIndex,
    pub(super) routing_headers: Vec<String>,
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

/// One release: a service's baseline and canary, and how traffic is split.
#[derive(Debug, Clone)]
pub struct Release {
    pub name: String,
    /// As configured (lower-cased); empty means every host.
    pub hosts: Vec<String>,
    /// Routing header name, lower-cased.
    pub header: String,
    pub baseline: String,
    pub canary: String,
    pub rule: Option<Rule>,
    /// Canary share for requests outside the rule, in basis points (0..=10000).
    pub weight_bp: u32,
    pub sticky: Option<Sticky>,
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
