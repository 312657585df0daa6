//! The lane table against an in-memory store that keeps Envoy's shared-data
//! rules (a CAS token per key, bumped on every write; a set without a token
//! always writes; no delete), including writers that race it.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;

use super::*;
#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

#[derive(Default)]
struct FakeStore {
    data: RefCell<HashMap<String, (Vec<u8>, u32)>>,
    next_cas: Cell<u32>,
    failing: Cell<bool>,
}

impl LaneStore for FakeStore {
    fn get(&self, key: &str) -> Result<(Option<Vec<u8>>, Option<u32>), StoreError> {
        if self.failing.get() {
            return Err(StoreError(2));
        }
        Ok(match self.data.borrow().get(key) {
            Some((value, cas)) => (Some(value.clone()), Some(*cas)),
            None => (None, None),
        })
    }

    fn set(&self, key: &str, value: &[u8], cas: Option<u32>) -> Result<(), SetError> {
        if self.failing.get() {
            return Err(SetError::Store(StoreError(2)));
        }
        let mut data = self.data.borrow_mut();
        if let (Some(cas), Some((_, current))) = (cas, data.get(key)) {
            if cas != *current {
                return Err(SetError::CasMismatch);
            }
        }
        self.next_cas.set(self.next_cas.get() + 1);
        data.insert(key.to_owned(), (value.to_vec(), self.next_cas.get()));
        Ok(())
    }
}

/// A store where another writer gets in between our read and our write:
/// before each of our sets, `racer` writes first (for `races` sets).
struct RacingStore<'a> {
    inner: FakeStore,
    races: Cell<u32>,
    racer: &'a dyn Fn(&FakeStore),
}

impl LaneStore for RacingStore<'_> {
    fn get(&self, key: &str) -> Result<(Option<Vec<u8>>, Option<u32>), StoreError> {
        self.inner.get(key)
    }

    fn set(&self, key: &str, value: &[u8], cas: Option<u32>) -> Result<(), SetError> {
        if self.races.get() > 0 {
            self.races.set(self.races.get() - 1);
            (self.racer)(&self.inner);
        }
        self.inner.set(key, value, cas)
    }
}

fn trace(n: u128) -> TraceId {
    TraceId::new(n.wrapping_mul(0x9e37_79b9_7f4a_7c15_f39c_c060_5ced_c835) | 1).unwrap()
}

const T0: u64 = 1_700_000_000;

#[test]
fn a_recorded_lane_is_found_for_its_trace_only_until_its_ttl() {
    let store = FakeStore::default();
    let table = LaneTable::new(60);
    assert_eq!(table.lookup(&store, trace(1), T0), Ok(None));
    assert_eq!(
        table.record(&store, trace(1), "gray", T0),
        Ok(Recorded::Written)
    );
    assert_eq!(
        table.lookup(&store, trace(1), T0 + 59),
        Ok(Some("gray".to_owned()))
    );
    assert_eq!(table.lookup(&store, trace(1), T0 + 60), Ok(None));
    assert_eq!(table.lookup(&store, trace(2), T0), Ok(None));
}

#[test]
fn every_hop_refreshes_the_record_but_one_second_writes_once() {
    let store = FakeStore::default();
    let table = LaneTable::new(60);
    table.record(&store, trace(1), "gray", T0).unwrap();
    assert_eq!(
        table.record(&store, trace(1), "gray", T0),
        Ok(Recorded::Unchanged)
    );
    let writes = store.next_cas.get();
    assert_eq!(
        table.record(&store, trace(1), "gray", T0 + 50),
        Ok(Recorded::Written)
    );
    assert_eq!(store.next_cas.get(), writes + 1);
    assert_eq!(
        table.lookup(&store, trace(1), T0 + 100),
        Ok(Some("gray".to_owned()))
    );
    // A later hop in another lane wins: the record follows the request.
    table.record(&store, trace(1), "blue", T0 + 100).unwrap();
    assert_eq!(
        table.lookup(&store, trace(1), T0 + 100),
        Ok(Some("blue".to_owned()))
    );
}

#[test]
fn a_full_table_displaces_the_oldest_trace_which_falls_back_to_no_lane() {
    let store = FakeStore::default();
    let table = LaneTable::with_slots(1, 60);
    table.record(&store, trace(1), "gray", T0).unwrap();
    assert_eq!(
        table.record(&store, trace(2), "blue", T0 + 1),
        Ok(Recorded::Displaced {
            lane: "gray".to_owned()
        })
    );
    assert_eq!(table.lookup(&store, trace(1), T0 + 1), Ok(None));
    assert_eq!(
        table.lookup(&store, trace(2), T0 + 1),
        Ok(Some("blue".to_owned()))
    );
    // An expired record is free room, not a displacement.
    assert_eq!(
        table.record(&store, trace(3), "gray", T0 + 61),
        Ok(Recorded::Written)
    );
}

#[test]
fn memory_is_bounded_by_the_slots_whatever_the_number_of_traces() {
    let store = FakeStore::default();
    let table = LaneTable::with_slots(64, 60);
    for n in 0..20_000u128 {
        table.record(&store, trace(n), "gray", T0).unwrap();
        // The newest trace is always found.
        assert_eq!(
            table.lookup(&store, trace(n), T0),
            Ok(Some("gray".to_owned()))
        );
    }
    let data = store.data.borrow();
    assert!(data.len() <= 64, "{} keys", data.len());
    assert!(
        data.len() >= 60,
        "the hash leaves slots unused: {}",
        data.len()
    );
    assert!(data.keys().all(|k| k.starts_with(KEY_PREFIX)));
    assert!(data.values().all(|(v, _)| v.len() <= SLOT_BYTES));
}

#[test]
fn two_ways_keep_most_live_traces_of_a_table_at_half_load() {
    // 2 ways: a table filled to half its slots keeps nearly all (one way
    // would lose about a fifth: 1 - (1 - e^-0.5)/0.5).
    let store = FakeStore::default();
    let table = LaneTable::with_slots(1024, 60);
    for n in 0..512u128 {
        table.record(&store, trace(n), "gray", T0).unwrap();
    }
    let kept = (0..512u128)
        .filter(|&n| table.lookup(&store, trace(n), T0) == Ok(Some("gray".to_owned())))
        .count();
    assert!(kept >= 460, "kept {kept} of 512");
}

#[test]
fn a_cas_race_with_another_writer_of_the_same_trace_writes_it_once() {
    let table = LaneTable::with_slots(1, 60);
    let same = |store: &FakeStore| {
        table.record(store, trace(1), "gray", T0).unwrap();
    };
    let store = RacingStore {
        inner: FakeStore::default(),
        races: Cell::new(1),
        racer: &same,
    };
    // A never-written key has no token to compare (Envoy's rule), so the
    // second writer simply writes the same record again.
    assert_eq!(
        table.record(&store, trace(1), "gray", T0),
        Ok(Recorded::Written)
    );
    // Over a written (here expired) slot, the race is seen and re-read.
    table.record(&store, trace(9), "blue", T0 - 100).unwrap();
    store.races.set(1);
    assert_eq!(
        table.record(&store, trace(1), "gray", T0),
        Ok(Recorded::Unchanged)
    );
    assert_eq!(
        table.lookup(&store, trace(1), T0),
        Ok(Some("gray".to_owned()))
    );
}

#[test]
fn a_cas_race_with_another_trace_rereads_and_decides_again() {
    let table = LaneTable::with_slots(1, 60);
    // The slot holds trace 1; a racer writes trace 2 between our read and
    // our write; ours then displaces the racer's, not a stale copy.
    let other = |store: &FakeStore| {
        table.record(store, trace(2), "blue", T0).unwrap();
    };
    let store = RacingStore {
        inner: FakeStore::default(),
        races: Cell::new(0),
        racer: &other,
    };
    table.record(&store, trace(1), "gray", T0).unwrap();
    store.races.set(1);
    assert_eq!(
        table.record(&store, trace(3), "gray", T0 + 1),
        Ok(Recorded::Displaced {
            lane: "blue".to_owned()
        })
    );
    assert_eq!(
        table.lookup(&store, trace(3), T0 + 1),
        Ok(Some("gray".to_owned()))
    );
}

#[test]
fn a_slot_raced_on_every_try_gives_up_without_error() {
    let table = LaneTable::with_slots(1, 60);
    let n = Cell::new(10u128);
    let busy = |store: &FakeStore| {
        n.set(n.get() + 1);
        table.record(store, trace(n.get()), "blue", T0).unwrap();
    };
    let store = RacingStore {
        inner: FakeStore::default(),
        races: Cell::new(0),
        racer: &busy,
    };
    table.record(&store, trace(1), "gray", T0).unwrap();
    store.races.set(u32::MAX);
    assert_eq!(
        table.record(&store, trace(2), "gray", T0),
        Ok(Recorded::Contended)
    );
    assert_eq!(table.lookup(&store, trace(2), T0), Ok(None));
}

#[test]
fn foreign_bytes_under_a_key_are_an_empty_slot() {
    let store = FakeStore::default();
    let table = LaneTable::with_slots(1, 60);
    let [key, _] = table.keys(trace(1));
    store.set(&key, b"someone else's", None).unwrap();
    assert_eq!(table.lookup(&store, trace(1), T0), Ok(None));
    assert_eq!(
        table.record(&store, trace(1), "gray", T0),
        Ok(Recorded::Written)
    );
    assert_eq!(
        table.lookup(&store, trace(1), T0),
        Ok(Some("gray".to_owned()))
    );
}

#[test]
fn a_failing_store_is_an_error_the_caller_can_treat_as_no_lane() {
    let store = FakeStore::default();
    let table = LaneTable::new(60);
    store.failing.set(true);
    assert_eq!(table.lookup(&store, trace(1), T0), Err(StoreError(2)));
    assert_eq!(
        table.record(&store, trace(1), "gray", T0),
        Err(StoreError(2))
    );
}

#[test]
fn keys_are_prefixed_and_within_the_table() {
    let table = LaneTable::new(60);
    assert_eq!(table.slots(), SLOTS);
    for n in 0..1000u128 {
        for key in table.keys(trace(n)) {
            let slot = key.strip_prefix(KEY_PREFIX).unwrap();
            assert!(u32::from_str_radix(slot, 16).unwrap() < SLOTS, "{key}");
        }
    }
    assert_eq!(LaneTable::with_slots(1000, 1).slots(), 1024);
    assert_eq!(LaneTable::with_slots(0, 1).slots(), 1);
    assert_eq!(LaneTable::with_slots(u32::MAX, 1).slots(), SLOTS);
}
