//! The compiled `lanes` block, and what it means for one request: which lane
//! the request carries, what an inbound listener records, what any other
//! listener looks up. Pure: the store is asked by the caller.

use super::table::LaneTable;
use super::trace_id::{trace_id, TraceHeader, TraceId};
use crate::Request;

/// How lanes travel in this deployment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lanes {
    /// The header that carries the lane along a chain, lower-cased.
    pub header: String,
    /// A gateway: the client's lane header is removed, never honoured.
    pub edge: bool,
    /// Loose mode when not empty: where the trace id is read from, in order.
    pub trace_headers: Vec<TraceHeader>,
    /// Where loose mode remembers trace id → lane, and for how long.
    pub table: LaneTable,
    /// Every lane a canary of the config names, each once.
    pub names: Vec<String>,
}

impl Lanes {
    /// Loose mode: the apps forward only trace context.
    pub fn is_loose(&self) -> bool {
        !self.trace_headers.is_empty()
    }

    /// The known lane spelled `value`; `None` for any other bytes.
    pub fn known(&self, value: &[u8]) -> Option<&str> {
        self.names
            .iter()
            .map(String::as_str)
            .find(|name| name.as_bytes() == value)
    }

    /// The lane the request's lane header names, when it is a known one and
    /// this is not an edge (there a client's lane header means nothing).
    pub fn carried(&self, request: &Request<'_>) -> Option<&str> {
        if self.edge {
            return None;
        }
        self.known(&request.header(self.header.as_bytes())?)
    }

    /// On an inbound listener in loose mode: the trace id and lane to
    /// record, when the request carries both.
    pub fn to_record(&self, request: &Request<'_>) -> Option<(TraceId, &str)> {
        if !self.is_loose() {
            return None;
        }
        let lane = self.known(&request.header(self.header.as_bytes())?)?;
        Some((trace_id(request, &self.trace_headers)?, lane))
    }

    /// On any other listener in loose mode, not at an edge: the trace id
    /// whose lane to look up, when the request has no lane header at all
    /// (one it has, even unknown, is the app's word).
    pub fn to_look_up(&self, request: &Request<'_>) -> Option<TraceId> {
        if !self.is_loose() || self.edge || request.has_header(self.header.as_bytes()) {
            return None;
        }
        trace_id(request, &self.trace_headers)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    const TP: &[u8] = b"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    fn lanes(edge: bool, loose: bool) -> Lanes {
        Lanes {
            header: "x-canary-lane".to_owned(),
            edge,
            trace_headers: if loose {
                TraceHeader::ALL.to_vec()
            } else {
                Vec::new()
            },
            table: LaneTable::new(60),
            names: vec!["gray".to_owned(), "blue".to_owned()],
        }
    }

    fn with<'a>(pairs: &'a [(&'a [u8], &'a [u8])]) -> Request<'a> {
        Request::new(pairs)
    }

    #[test]
    fn a_sidecar_honours_a_known_lane_header_and_an_edge_never_does() {
        let pairs: &[(&[u8], &[u8])] = &[(b"X-Canary-Lane", b"gray")];
        assert_eq!(lanes(false, false).carried(&with(pairs)), Some("gray"));
        assert_eq!(lanes(false, true).carried(&with(pairs)), Some("gray"));
        assert_eq!(lanes(true, true).carried(&with(pairs)), None);
        for unknown in [&b"red"[..], b"Gray", b"", b"gray,gray"] {
            let pairs: &[(&[u8], &[u8])] = &[(b"x-canary-lane", unknown)];
            assert_eq!(
                lanes(false, true).carried(&with(pairs)),
                None,
                "{unknown:?}"
            );
        }
        let repeated: &[(&[u8], &[u8])] =
            &[(b"x-canary-lane", b"gray"), (b"x-canary-lane", b"blue")];
        assert_eq!(lanes(false, true).carried(&with(repeated)), None);
    }

    #[test]
    fn inbound_records_a_known_lane_with_a_trace_id_in_loose_mode_only() {
        let both: &[(&[u8], &[u8])] = &[(b"x-canary-lane", b"gray"), (b"traceparent", TP)];
        let loose = lanes(false, true);
        let recorded = loose.to_record(&with(both));
        assert_eq!(
            recorded.map(|(t, l)| (t.to_string(), l)),
            Some(("4bf92f3577b34da6a3ce929d0e0e4736".to_owned(), "gray"))
        );
        assert_eq!(lanes(false, false).to_record(&with(both)), None);
        let no_trace: &[(&[u8], &[u8])] = &[(b"x-canary-lane", b"gray")];
        assert_eq!(lanes(false, true).to_record(&with(no_trace)), None);
        let unknown: &[(&[u8], &[u8])] = &[(b"x-canary-lane", b"red"), (b"traceparent", TP)];
        assert_eq!(lanes(false, true).to_record(&with(unknown)), None);
        let no_lane: &[(&[u8], &[u8])] = &[(b"traceparent", TP)];
        assert_eq!(lanes(false, true).to_record(&with(no_lane)), None);
    }

    #[test]
    fn elsewhere_a_trace_without_a_lane_header_is_looked_up_except_at_an_edge() {
        let trace_only: &[(&[u8], &[u8])] = &[(b"traceparent", TP)];
        assert!(lanes(false, true).to_look_up(&with(trace_only)).is_some());
        assert_eq!(lanes(true, true).to_look_up(&with(trace_only)), None);
        assert_eq!(lanes(false, false).to_look_up(&with(trace_only)), None);
        let with_header: &[(&[u8], &[u8])] = &[(b"x-canary-lane", b"red"), (b"traceparent", TP)];
        assert_eq!(lanes(false, true).to_look_up(&with(with_header)), None);
        assert_eq!(lanes(false, true).to_look_up(&with(&[])), None);
    }
}
