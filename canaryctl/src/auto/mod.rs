//! `canaryctl auto`: step the canary's weight on a schedule, judge each
//! step from the versions' health over its interval, and complete or roll
//! back without a person.

pub mod judge;
