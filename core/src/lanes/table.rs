//! The trace id → lane table in a store shaped like Envoy's shared data:
//! get returns (value, CAS token), set takes a CAS token, and nothing is
//! ever deleted or expires by itself. So the table is a fixed array of
//! [`SLOTS`] keys, `canary-lanes/<slot>`, each holding one (trace id, time,
//! lane) record of at most [`SLOT_BYTES`]: memory is bounded by their product
//! whatever the number of traces.
//!
//! A trace may live in one of [`WAYS`] slots chosen by hashing its id. A new
//! trace takes an empty or expired one of them, else the oldest; the trace
//! it displaces loses its lane, so its later hops go to the baselines (the
//! same as a trace whose record expired: never an error). Freshness is
//! checked on read against the TTL.

use super::slot::SlotRecord;
use super::trace_id::TraceId;

pub use super::slot::SLOT_BYTES;

/// Slots in the table: 2^16 keys of at most [`SLOT_BYTES`] bytes each.
pub const SLOTS: u32 = 1 << 16;
/// Slots a trace may live in: two halves the chance that a busy table
/// displaces a live trace, for a second lookup.
pub const WAYS: usize = 2;
/// The keys' prefix. Shared data is process-wide and every plugin in an
/// Istio proxy shares the one (empty) vm_id namespace, so ours are marked.
pub const KEY_PREFIX: &str = "canary-lanes/";
/// Tries of a record that loses CAS races before it gives up.
const RECORD_ATTEMPTS: usize = 3;

/// A store with get/set and compare-and-swap, as proxy-wasm shared data.
pub trait LaneStore {
    /// The value under `key` and its CAS token; `(None, None)` when absent.
    fn get(&self, key: &str) -> Result<(Option<Vec<u8>>, Option<u32>), StoreError>;
    /// Writes `value` if the key's token is still `cas` (`None`: always).
    fn set(&self, key: &str, value: &[u8], cas: Option<u32>) -> Result<(), SetError>;
}

/// A store call failed with this host status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoreError(pub u32);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetError {
    /// Someone wrote the key since it was read.
    CasMismatch,
    Store(StoreError),
}

/// What recording a trace's lane did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recorded {
    /// Written into an empty or expired slot (or over its own older record).
    Written,
    /// Already recorded with this lane this second: nothing written.
    Unchanged,
    /// Written over another live trace, which loses its lane.
    Displaced { lane: String },
    /// Every try lost a CAS race to other writers; not recorded.
    Contended,
}

/// The table's shape: how many slots, and how long a record lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LaneTable {
    /// A power of two.
    slots: u32,
    ttl_seconds: u64,
}

/// One way's slot as read: its key, its record if it holds one, its token.
struct Read {
    key: String,
    record: Option<SlotRecord>,
    cas: Option<u32>,
}

impl LaneTable {
    pub fn new(ttl_seconds: u64) -> Self {
        Self {
            slots: SLOTS,
            ttl_seconds,
        }
    }

    /// A table of `slots` (rounded up to a power of two, at most [`SLOTS`]),
    /// for tests that fill it.
    pub fn with_slots(slots: u32, ttl_seconds: u64) -> Self {
        Self {
            slots: slots.clamp(1, SLOTS).next_power_of_two(),
            ttl_seconds,
        }
    }

    pub fn slots(&self) -> u32 {
        self.slots
    }

    pub fn ttl_seconds(&self) -> u64 {
        self.ttl_seconds
    }

    /// The store keys of `trace`'s slots.
    pub fn keys(&self, trace: TraceId) -> [String; WAYS] {
        [0u64, 1].map(|way| slot_key(self.slot(trace, way)))
    }

    /// The lane recorded for `trace` and still fresh at `now` (seconds).
    pub fn lookup(
        &self,
        store: &impl LaneStore,
        trace: TraceId,
        now: u64,
    ) -> Result<Option<String>, StoreError> {
        for key in self.keys(trace) {
            let (value, _) = store.get(&key)?;
            let found = value
                .as_deref()
                .and_then(SlotRecord::decode)
                .filter(|r| r.trace == trace && r.is_fresh(now, self.ttl_seconds));
            if let Some(record) = found {
                return Ok(Some(record.lane));
            }
        }
        Ok(None)
    }

    /// Records `lane` for `trace` at `now` (seconds): in the trace's own
    /// slot, else an empty or expired one, else the older. A CAS race
    /// re-reads the slots and tries again, a bounded number of times.
    pub fn record(
        &self,
        store: &impl LaneStore,
        trace: TraceId,
        lane: &str,
        now: u64,
    ) -> Result<Recorded, StoreError> {
        let value = SlotRecord {
            trace,
            at: now,
            lane: lane.to_owned(),
        }
        .encode();
        let ttl = self.ttl_seconds;
        // Lower is better: its own slot, a free one, then the oldest.
        let rank = |r: &Read| match &r.record {
            Some(old) if old.trace == trace => (0, 0),
            Some(old) if old.is_fresh(now, ttl) => (2, old.at),
            _ => (1, 0),
        };
        for _ in 0..RECORD_ATTEMPTS {
            let [first, second] = self.keys(trace);
            let [a, b] = [read(store, first)?, read(store, second)?];
            let target = if rank(&b) < rank(&a) { b } else { a };
            let outcome = match &target.record {
                Some(old) if old.trace == trace && old.lane == lane && old.at == now => {
                    return Ok(Recorded::Unchanged)
                }
                Some(old) if old.trace != trace && old.is_fresh(now, ttl) => Recorded::Displaced {
                    lane: old.lane.clone(),
                },
                _ => Recorded::Written,
            };
            match store.set(&target.key, &value, target.cas) {
                Ok(()) => return Ok(outcome),
                Err(SetError::CasMismatch) => continue,
                Err(SetError::Store(e)) => return Err(e),
            }
        }
        Ok(Recorded::Contended)
    }

    /// The slot of `trace`'s `way`: a 64-bit mix of both halves of its id,
    /// so 64-bit B3 ids (upper half zero) spread as well as 128-bit ones.
    fn slot(&self, trace: TraceId, way: u64) -> u32 {
        let id = trace.get();
        let folded = (id as u64) ^ ((id >> 64) as u64).rotate_left(29);
        let mixed = splitmix64(folded ^ way.wrapping_mul(0x9e37_79b9_7f4a_7c15));
        (mixed as u32) & (self.slots - 1)
    }
}

fn read(store: &impl LaneStore, key: String) -> Result<Read, StoreError> {
    let (value, cas) = store.get(&key)?;
    let record = value.as_deref().and_then(SlotRecord::decode);
    Ok(Read { key, record, cas })
}

/// `canary-lanes/` and the slot in 4 hex digits (by hand: `format!` would
/// cost the shipped module more than this).
fn slot_key(slot: u32) -> String {
    let mut key = String::with_capacity(KEY_PREFIX.len() + 4);
    key.push_str(KEY_PREFIX);
    for shift in [12, 8, 4, 0] {
        let digit = (slot >> shift) & 0xf;
        key.push(char::from_digit(digit, 16).unwrap_or('0'));
    }
    key
}

/// Stafford's mix 13 (as in SplitMix64): every input bit moves every
/// output bit, so neighbouring ids land far apart.
fn splitmix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}
