//! The canary filter's brain: plugin config parsing and validation, rule
//! matching, and the baseline-or-canary decision.
//!
//! Nothing here talks to a proxy. The proxy-wasm filter and `canaryctl` are
//! two thin shells that feed requests in and act on the [`Outcome`].

mod bucket;
mod condition;
mod config;
mod decide;
mod hosts;
mod regex;
mod request;

pub use bucket::{bucket, percent_bucket, Rng, BUCKETS};
pub use condition::{Condition, Op, Source};
pub use config::{Config, ConfigError, Mode, PathMatch, Release, Rule, Sticky, MAX_CONFIG_BYTES};
pub use decide::{decide, Outcome, Reason, Version};
pub use regex::{Regex, RegexError};
pub use request::Request;
