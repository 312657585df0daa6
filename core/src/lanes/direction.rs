//! The listener a request came in on, as Envoy's `xds.listener_direction`
//! attribute gives it: the listener's `traffic_direction`
//! (config.core.v3.TrafficDirection) as a CEL int64, which the host
//! serializes as 8 little-endian bytes. Istio sets it on a sidecar's
//! inbound and outbound listeners; a gateway's is unspecified.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListenerDirection {
    /// UNSPECIFIED (0), or no property at all.
    Unspecified,
    /// INBOUND (1): traffic into the workload next to the sidecar.
    Inbound,
    /// OUTBOUND (2): traffic the workload sends out.
    Outbound,
}

impl ListenerDirection {
    /// The property paths to ask the host for, in order (segments joined
    /// by NUL, as the ABI has them): the CEL attribute, then the older
    /// Wasm-only property.
    pub const PROPERTY_PATHS: [&'static [u8]; 2] =
        [b"xds\0listener_direction", b"listener_direction"];

    /// From the property's bytes; anything unreadable is `Unspecified`.
    pub fn from_property(bytes: Option<&[u8]>) -> Self {
        let value = bytes
            .and_then(|b| <[u8; 8]>::try_from(b).ok())
            .map(i64::from_le_bytes);
        match value {
            Some(1) => ListenerDirection::Inbound,
            Some(2) => ListenerDirection::Outbound,
            _ => ListenerDirection::Unspecified,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn the_property_is_an_int64_in_little_endian_bytes() {
        let of = |n: i64| ListenerDirection::from_property(Some(&n.to_le_bytes()));
        assert_eq!(of(0), ListenerDirection::Unspecified);
        assert_eq!(of(1), ListenerDirection::Inbound);
        assert_eq!(of(2), ListenerDirection::Outbound);
        assert_eq!(of(3), ListenerDirection::Unspecified);
        assert_eq!(of(1 << 56), ListenerDirection::Unspecified);
        assert_eq!(
            ListenerDirection::from_property(None),
            ListenerDirection::Unspecified
        );
        assert_eq!(
            ListenerDirection::from_property(Some(b"\x01")),
            ListenerDirection::Unspecified
        );
    }
}
