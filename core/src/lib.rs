//! The canary filter's brain: plugin config parsing and validation, rule
//! matching, the decision among a baseline and its canaries, the routing plan built on it,
//! and the counters' names.
//!
//! Nothing here talks to a proxy. The proxy-wasm filter and `canaryctl` are
//! two thin shells that feed requests in and carry out the [`RoutingPlan`]
//! (or read the [`Outcome`]).

mod bucket;
mod condition;
mod config;
mod decide;
mod hosts;
mod json;
mod lanes;
mod metric_names;
mod plan;
mod regex;
mod request;
mod split;
mod validation;
mod version;

pub use bucket::{bucket, percent_bucket, Rng, BUCKETS};
pub use condition::{Condition, Op, Source};
pub use config::{
    Canaries, Canary, Config, ConfigError, Mode, PathMatch, Release, Rule, Sticky, MAX_CANARIES,
    MAX_CONFIG_BYTES,
};
pub use decide::{decide, decide_in_lane, Outcome};
pub use lanes::{
    is_valid_lane_name, trace_id, LaneStore, LaneTable, Lanes, ListenerDirection, Recorded,
    SetError, StoreError, TraceHeader, TraceId, KEY_PREFIX as LANE_KEY_PREFIX, MAX_LANE_NAME_LEN,
    SLOTS as LANE_SLOTS, SLOT_BYTES as LANE_SLOT_BYTES, WAYS as LANE_WAYS,
};
pub use metric_names::{
    is_valid_release_name, is_valid_tag, same_prometheus_name, CounterName, FILTER_PREFIX,
    MAX_RELEASE_NAME_LEN, PROMETHEUS_PREFIX, STATS_NAMESPACE, STATS_PREFIX,
};
pub use plan::{
    counters, plan, plan_unreadable, plan_with_lane, CounterSlot, RoutingPlan, SetHeader,
};
pub use regex::{Regex, RegexError};
pub use request::Request;
pub use split::landing;
pub use validation::{
    operand_of, operator_list, parse_weight, percent_text, weight_basis_points, Operand,
    WeightError, OPERATORS, WEIGHT_DECIMALS, WEIGHT_MAX_PERCENT,
};
pub use version::{Reason, Version};
