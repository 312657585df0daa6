//! The trace id of a request, the one part of its trace context that is the
//! same at every hop (the span id changes at each): W3C `traceparent`'s
//! trace-id field, `x-b3-traceid`, or the first field of B3's single `b3`
//! header. B3 ids of 64 bits are left-padded to 128, so both B3 forms and a
//! 128-bit id of the same trace agree.

use crate::Request;

/// A 128-bit trace id, never zero (zero means "no trace" in both W3C and B3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TraceId(u128);

/// A header a trace id can be read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TraceHeader {
    /// W3C Trace Context: `00-<32 hex trace id>-<16 hex parent id>-<2 hex flags>`.
    Traceparent,
    /// B3 multi-header: 16 or 32 lower-hex.
    B3TraceId,
    /// B3 single header: `<trace id>-<span id>[-<sampling>[-<parent>]]`.
    B3,
}

impl TraceHeader {
    pub const ALL: [TraceHeader; 3] = [
        TraceHeader::Traceparent,
        TraceHeader::B3TraceId,
        TraceHeader::B3,
    ];

    /// The header's name, lower case (as the config spells it).
    pub fn name(self) -> &'static str {
        match self {
            TraceHeader::Traceparent => "traceparent",
            TraceHeader::B3TraceId => "x-b3-traceid",
            TraceHeader::B3 => "b3",
        }
    }

    /// The inverse of `name`.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|h| h.name() == name)
    }

    /// The trace id in this header's `value`; `None` when malformed.
    pub fn parse(self, value: &[u8]) -> Option<TraceId> {
        match self {
            TraceHeader::Traceparent => from_traceparent(value),
            TraceHeader::B3TraceId => from_b3_id(value),
            TraceHeader::B3 => from_b3_single(value),
        }
    }
}

/// The trace id from the first of `headers` that the request carries. A
/// malformed value there means no trace id (the next header is not asked:
/// every hop then reads the same header, so they agree on the trace).
pub fn trace_id(request: &Request<'_>, headers: &[TraceHeader]) -> Option<TraceId> {
    let header = headers
        .iter()
        .copied()
        .find(|h| request.has_header(h.name().as_bytes()))?;
    let value = request.header(header.name().as_bytes())?;
    header.parse(&value)
}

impl TraceId {
    /// `None` for zero, which is no trace.
    pub fn new(id: u128) -> Option<Self> {
        (id != 0).then_some(Self(id))
    }

    pub fn get(self) -> u128 {
        self.0
    }

    /// Its 16 bytes, big-endian (the order of its hex form).
    pub fn to_bytes(self) -> [u8; 16] {
        self.0.to_be_bytes()
    }

    pub fn from_bytes(bytes: [u8; 16]) -> Option<Self> {
        Self::new(u128::from_be_bytes(bytes))
    }
}

impl std::fmt::Display for TraceId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:032x}", self.0)
    }
}

fn from_traceparent(value: &[u8]) -> Option<TraceId> {
    let mut fields = value.split(|&b| b == b'-');
    let version = fields.next()?;
    let id = fields.next()?;
    let parent = fields.next()?;
    let flags = fields.next()?;
    // Version ff is forbidden; later versions may append fields, 00 may not.
    let version = hex(version).filter(|_| version.len() == 2)?;
    if version == 0xff || (version == 0 && fields.next().is_some()) {
        return None;
    }
    if id.len() != 32 || parent.len() != 16 || flags.len() != 2 {
        return None;
    }
    hex(parent).filter(|&p| p != 0)?;
    hex(flags)?;
    hex(id).and_then(TraceId::new)
}

fn from_b3_id(value: &[u8]) -> Option<TraceId> {
    if value.len() != 16 && value.len() != 32 {
        return None;
    }
    hex(value).and_then(TraceId::new)
}

fn from_b3_single(value: &[u8]) -> Option<TraceId> {
    // A lone sampling flag ("0", "1", "d") carries no trace id; a trace id
    // always comes with a span id.
    let mut fields = value.split(|&b| b == b'-');
    let id = fields.next()?;
    let span = fields.next()?;
    if span.len() != 16 {
        return None;
    }
    hex(span)?;
    from_b3_id(id)
}

/// Lower-case hex of at most 32 digits; `None` for anything else (W3C and
/// B3 both specify lower case).
fn hex(digits: &[u8]) -> Option<u128> {
    if digits.is_empty() || digits.len() > 32 {
        return None;
    }
    digits.iter().try_fold(0u128, |n, &d| {
        let v = match d {
            b'0'..=b'9' => d - b'0',
            b'a'..=b'f' => d - b'a' + 10,
            _ => return None,
        };
        Some((n << 4) | u128::from(v))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    const ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
    const ID64: &str = "a3ce929d0e0e4736";

    fn id(hex: &str) -> Option<TraceId> {
        TraceId::new(u128::from_str_radix(hex, 16).ok()?)
    }

    #[test]
    fn traceparent_yields_its_trace_id_field_whatever_the_span() {
        let tp = |s: &str| TraceHeader::Traceparent.parse(s.as_bytes());
        assert_eq!(tp(&format!("00-{ID}-00f067aa0ba902b7-01")), id(ID));
        assert_eq!(tp(&format!("00-{ID}-b7ad6b7169203331-00")), id(ID));
        // A later version may carry more fields.
        assert_eq!(tp(&format!("01-{ID}-00f067aa0ba902b7-01-extra")), id(ID));
        assert_eq!(id(ID).map(|i| i.to_string()), Some(ID.to_owned()));
    }

    #[test]
    fn malformed_traceparents_carry_no_trace_id() {
        let zero = "0".repeat(32);
        let upper = ID.to_uppercase();
        let bad = [
            String::new(),
            format!("00-{zero}-00f067aa0ba902b7-01"),
            format!("00-{ID}-0000000000000000-01"),
            format!("ff-{ID}-00f067aa0ba902b7-01"),
            format!("00-{ID}-00f067aa0ba902b7-01-extra"),
            format!("00-{upper}-00f067aa0ba902b7-01"),
            format!("00-{ID}x-00f067aa0ba902b7-01"),
            format!("00-{}-00f067aa0ba902b7-01", &ID[..31]),
            format!("0-{ID}-00f067aa0ba902b7-01"),
            format!("00-{ID}-00f067aa0ba902b7-1"),
            format!("00-{ID}-00f067aa0ba902b7"),
            format!("00-{ID}-00f067aa0ba902b7-0g"),
            format!("00-+{}-00f067aa0ba902b7-01", &ID[1..]),
            format!("00-{ID}-00f067aa0ba902b7-01,00-{ID}-00f067aa0ba902b7-01"),
        ];
        for value in bad {
            assert_eq!(
                TraceHeader::Traceparent.parse(value.as_bytes()),
                None,
                "{value:?}"
            );
        }
    }

    #[test]
    fn b3_ids_of_64_bits_are_left_padded_so_both_forms_agree() {
        let padded = id(&format!("{}{ID64}", "0".repeat(16)));
        assert_eq!(TraceHeader::B3TraceId.parse(ID64.as_bytes()), padded);
        assert_eq!(
            TraceHeader::B3.parse(format!("{ID64}-00f067aa0ba902b7-1").as_bytes()),
            padded
        );
        assert_eq!(TraceHeader::B3TraceId.parse(ID.as_bytes()), id(ID));
        assert_eq!(
            TraceHeader::B3.parse(format!("{ID}-00f067aa0ba902b7-1-05e3ac9a4f6e3b90").as_bytes()),
            id(ID)
        );
        assert_eq!(
            TraceHeader::B3.parse(format!("{ID}-00f067aa0ba902b7").as_bytes()),
            id(ID)
        );
    }

    #[test]
    fn malformed_b3_headers_carry_no_trace_id() {
        let zero = "0".repeat(16);
        for value in [
            "",
            "1",
            "d",
            "abc",
            &zero,
            &ID64.to_uppercase(),
            &format!("{ID64}0"),
        ] {
            assert_eq!(
                TraceHeader::B3TraceId.parse(value.as_bytes()),
                None,
                "{value:?}"
            );
        }
        for value in [
            "0".to_owned(),
            "1".to_owned(),
            ID64.to_owned(),
            format!("{ID64}-"),
            format!("{ID64}-00f067aa0ba902b"),
            format!("{zero}-00f067aa0ba902b7-1"),
            format!("{ID}0-00f067aa0ba902b7-1"),
        ] {
            assert_eq!(TraceHeader::B3.parse(value.as_bytes()), None, "{value:?}");
        }
    }

    #[test]
    fn the_first_header_the_request_carries_gives_the_trace_id() {
        let tp = format!("00-{ID}-00f067aa0ba902b7-01");
        let other = "00000000000000000000000000000abc";
        let pairs: Vec<(&[u8], &[u8])> = vec![
            (b"X-B3-TraceId", other.as_bytes()),
            (b"traceparent", tp.as_bytes()),
        ];
        let request = Request::new(&pairs);
        let all = TraceHeader::ALL;
        assert_eq!(trace_id(&request, &all), id(ID));
        let b3_first = [TraceHeader::B3TraceId, TraceHeader::Traceparent];
        assert_eq!(trace_id(&request, &b3_first), id(other));
        assert_eq!(trace_id(&request, &[TraceHeader::B3]), None);
        assert_eq!(trace_id(&request, &[]), None);
        // A malformed first header is no trace id, not the next one's.
        let pairs: Vec<(&[u8], &[u8])> = vec![
            (b"traceparent", b"garbage"),
            (b"x-b3-traceid", other.as_bytes()),
        ];
        assert_eq!(trace_id(&Request::new(&pairs), &all), None);
    }

    #[test]
    fn header_names_round_trip() {
        for header in TraceHeader::ALL {
            assert_eq!(TraceHeader::from_name(header.name()), Some(header));
        }
        assert_eq!(TraceHeader::from_name("Traceparent"), None);
        assert_eq!(TraceId::new(0), None);
        let some = id(ID);
        assert_eq!(some.and_then(|i| TraceId::from_bytes(i.to_bytes())), some);
    }
}
