//! The compiled plugin config: what the filter keeps after validation.
//!
//! Parsing runs in two phases: serde reads the JSON into the raw shapes of
//! `raw.rs` (unknown fields refused), then `compile.rs` validates every value
//! and precompiles regexes, sets and the host index into these types.

use std::fmt;

use crate::condition::Condition;
use crate::hosts::HostIndex;
use crate::regex::Regex;

mod compile;
mod conditions;
mod raw;

/// Configs larger than this are refused before parsing (bounds memory and time).
pub const MAX_CONFIG_BYTES: usize = 512 * 1024;

/// A validation failure: where in the JSON, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// Like `releases[0].conditions[1].op`; empty for the document itself.
    pub path: String,
    pub message: String,
}

impl ConfigError {
    pub(crate) fn new(path: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            path: path.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.path, self.message)
        }
    }
}

impl std::error::Error for ConfigError {}

/// A validated plugin config.
#[derive(Debug, Clone)]
pub struct Config {
    pub releases: Vec<Release>,
    hosts: HostIndex,
    routing_headers: Vec<String>,
}

impl Config {
    /// Parses and validates the plugin configuration JSON.
    pub fn from_json(bytes: &[u8]) -> Result<Self, ConfigError> {
        compile::compile(raw::read(bytes)?)
    }

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
