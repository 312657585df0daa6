//! One slot's bytes in the store: a format byte, the trace id, the time it
//! was recorded and the lane. Anything else found under a slot's key (an
//! older format, another plugin's data) reads as an empty slot.

use super::name::{is_valid_lane_name, MAX_LANE_NAME_LEN};
use super::trace_id::TraceId;

/// Bumped when the layout changes, so an old record is never misread.
const FORMAT: u8 = 1;
const HEADER_BYTES: usize = 1 + 16 + 8;
/// The most a slot's value takes.
pub const SLOT_BYTES: usize = HEADER_BYTES + MAX_LANE_NAME_LEN;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlotRecord {
    pub trace: TraceId,
    /// Seconds since the Unix epoch, as the host's clock gave them.
    pub at: u64,
    pub lane: String,
}

impl SlotRecord {
    pub fn encode(&self) -> Vec<u8> {
        let mut bytes = Vec::with_capacity(HEADER_BYTES + self.lane.len());
        bytes.push(FORMAT);
        bytes.extend_from_slice(&self.trace.to_bytes());
        bytes.extend_from_slice(&self.at.to_be_bytes());
        bytes.extend_from_slice(self.lane.as_bytes());
        bytes
    }

    pub fn decode(bytes: &[u8]) -> Option<Self> {
        let (&format, rest) = bytes.split_first()?;
        if format != FORMAT {
            return None;
        }
        let trace = TraceId::from_bytes(rest.get(..16)?.try_into().ok()?)?;
        let at = u64::from_be_bytes(rest.get(16..24)?.try_into().ok()?);
        let lane = std::str::from_utf8(rest.get(24..)?).ok()?;
        is_valid_lane_name(lane).then(|| Self {
            trace,
            at,
            lane: lane.to_owned(),
        })
    }

    /// Whether it is younger than `ttl` seconds at `now`. A record from the
    /// future (a clock stepped back) counts as fresh until it ages.
    pub fn is_fresh(&self, now: u64, ttl: u64) -> bool {
        now < self.at.saturating_add(ttl)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn record(lane: &str) -> SlotRecord {
        SlotRecord {
            trace: TraceId::new(0x4bf9_2f35_77b3_4da6_a3ce_929d_0e0e_4736).unwrap(),
            at: 1_700_000_000,
            lane: lane.to_owned(),
        }
    }

    #[test]
    fn a_record_round_trips_and_fits_the_slot_size() {
        for lane in ["gray", &"x".repeat(MAX_LANE_NAME_LEN)] {
            let bytes = record(lane).encode();
            assert!(bytes.len() <= SLOT_BYTES);
            assert_eq!(SlotRecord::decode(&bytes), Some(record(lane)));
        }
    }

    #[test]
    fn foreign_or_damaged_bytes_read_as_an_empty_slot() {
        let good = record("gray").encode();
        let mut other_format = good.clone();
        other_format[0] = 2;
        let mut bad_lane = good.clone();
        bad_lane.push(b'!');
        let mut zero_trace = good.clone();
        zero_trace[1..17].fill(0);
        for bytes in [
            &b""[..],
            b"hello",
            &good[..HEADER_BYTES],
            &good[..10],
            &other_format,
            &bad_lane,
            &zero_trace,
        ] {
            assert_eq!(SlotRecord::decode(bytes), None, "{bytes:?}");
        }
    }

    #[test]
    fn freshness_is_strictly_younger_than_the_ttl() {
        let r = record("gray");
        assert!(r.is_fresh(r.at, 60));
        assert!(r.is_fresh(r.at + 59, 60));
        assert!(!r.is_fresh(r.at + 60, 60));
        assert!(r.is_fresh(r.at - 5, 60));
        assert!(!r.is_fresh(r.at, 0));
    }
}
