//! Lanes: a canary user stays on the canary at every hop of a call chain.
//!
//! Pure pieces, used by the filter's shell (src/lane_store.rs):
//! - [`is_valid_lane_name`]: what a lane may be called;
//! - [`TraceId`] and [`TraceHeader`]: the trace id a request carries, read
//!   the same way at every hop whatever the span (W3C `traceparent`, B3);
//! - [`ListenerDirection`]: whether a request came in on a sidecar's inbound
//!   listener (where lanes are recorded) or not (where they are looked up);
//! - [`Lanes`]: the `lanes` block, and per request which lane it carries,
//!   what to record and what to look up;
//! - [`LaneTable`]: trace id → lane, recorded on a sidecar's inbound
//!   listener and looked up on its outbound one, in a fixed set of slots of
//!   a [`LaneStore`] (Envoy's shared data: get/set with a CAS token, no
//!   delete, no TTL), so memory stays bounded whatever the number of traces.

mod direction;
mod name;
mod settings;
mod slot;
mod table;
mod trace_id;

#[cfg(test)]
mod table_tests;

pub use direction::ListenerDirection;
pub use name::{is_valid_lane_name, MAX_LANE_NAME_LEN};
pub use settings::Lanes;
pub use table::{
    LaneStore, LaneTable, Recorded, SetError, StoreError, KEY_PREFIX, SLOTS, SLOT_BYTES, WAYS,
};
pub use trace_id::{trace_id, TraceHeader, TraceId};
