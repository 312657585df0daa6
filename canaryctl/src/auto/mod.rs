//! `canaryctl auto`: step the canary's weight on a schedule, judge each
//! step from the versions' health over its interval, and complete or roll
//! back without a person.

pub mod begin;
pub mod events;
pub mod gates;
pub mod judge;
pub mod machine;
pub mod run;
pub mod settings;
pub mod state;
pub mod target;

pub use begin::{run, AutoOptions};
pub use run::Outcome;
