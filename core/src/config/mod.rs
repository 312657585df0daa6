//! The plugin config: parsed and validated in two phases, then kept in the
//! compiled types of `compiled.rs`.
//!
//! Phase one (`raw.rs`) walks the JSON document by hand into raw shapes
//! (unknown fields refused); phase two (`compile.rs`, `conditions.rs`)
//! validates every value and precompiles regexes, sets and the host index;
//! `versions.rs` turns both forms of a release's versions into one list,
//! `lanes.rs` checks the `lanes` block against the lanes the canaries name.
//! The phases depend on the types, the error and the limits, never back.

mod compile;
mod compiled;
mod conditions;
mod error;
mod fields;
mod lanes;
mod limits;
mod raw;
mod versions;

pub use compiled::{Canaries, Canary, Config, Mode, PathMatch, Release, Rule, Sticky};
pub use error::ConfigError;
pub use limits::{MAX_CANARIES, MAX_CONFIG_BYTES};

impl Config {
    /// Parses and validates the plugin configuration JSON. Defined here,
    /// above both phases, so that neither imports the types' module back.
    pub fn from_json(bytes: &[u8]) -> Result<Self, ConfigError> {
        compile::compile(raw::read(bytes)?)
    }
}
