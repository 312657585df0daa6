//! Phase two for the `lanes` block: the lane header, the edge flag, the
//! trace headers of loose mode and the records' lifetime, checked against
//! the releases (every lane named needs the block and its header). The
//! messages are fixed text: the shipped module has a size budget.

use crate::json::Number;

use super::compiled::Release;
use super::error::{ConfigError, Result};
use super::fields::{header_name, RESERVED_HEADERS};
use super::raw::RawLanes;
use crate::lanes::{LaneTable, Lanes, TraceHeader};

/// A record's lifetime when `ttl_seconds` is left out.
const DEFAULT_TTL_SECONDS: u64 = 60;
/// The longest lifetime: a day, far beyond any call chain.
const MAX_TTL_SECONDS: u64 = 86_400;

/// The compiled block; `None` when no canary names a lane (then the filter
/// pays nothing for lanes).
pub(super) fn compile_lanes(
    raw: Option<RawLanes>,
    releases: &[Release],
    routing_headers: &[String],
) -> Result<Option<Lanes>> {
    let mut names: Vec<String> = Vec::new();
    for release in releases {
        let canaries = &release.canaries;
        for lane in (0..canaries.len()).filter_map(|i| canaries.get(i)?.lane.as_ref()) {
            if !names.contains(lane) {
                names.push(lane.clone());
            }
        }
    }
    let (Some(raw), false) = (raw, names.is_empty()) else {
        return match names.is_empty() {
            true => Ok(None),
            false => Err(ConfigError::new(
                "lanes",
                "is required when a canary names a lane: a \"lanes\" block with its \"header\"",
            )),
        };
    };
    let Some(header) = raw.header else {
        return Err(ConfigError::new(
            "lanes.header",
            "is required: the header that carries a lane along a call chain, such as x-canary-lane",
        ));
    };
    let header = header_name(&header, "lanes.header")?;
    let taken = RESERVED_HEADERS.contains(&header.as_str())
        || routing_headers.contains(&header)
        || TraceHeader::from_name(&header).is_some();
    if taken {
        return Err(ConfigError::new(
            "lanes.header",
            "must be a header of its own, not a reserved, routing or trace header (such as x-canary-lane)",
        ));
    }
    let mut trace_headers = Vec::new();
    for name in raw.trace_headers.iter().flatten() {
        match TraceHeader::from_name(name) {
            Some(h) if !trace_headers.contains(&h) => trace_headers.push(h),
            _ => {
                return Err(ConfigError::new(
                    "lanes.trace_headers",
                    "lists each of traceparent, x-b3-traceid and b3 at most once, and nothing else",
                ))
            }
        }
    }
    if raw.trace_headers.is_some_and(|l| l.is_empty()) {
        return Err(ConfigError::new(
            "lanes.trace_headers",
            "is empty: list traceparent, x-b3-traceid or b3, or leave it out for strict mode",
        ));
    }
    Ok(Some(Lanes {
        header,
        edge: raw.edge.unwrap_or(false),
        trace_headers,
        table: LaneTable::new(ttl_seconds(raw.ttl_seconds)?),
        names,
    }))
}

fn ttl_seconds(raw: Option<Number>) -> Result<u64> {
    let Some(number) = raw else {
        return Ok(DEFAULT_TTL_SECONDS);
    };
    // Istio sends numbers through a protobuf Struct: 60 arrives as 60.0.
    let seconds = number.as_f64();
    if seconds.fract() == 0.0 && (1.0..=MAX_TTL_SECONDS as f64).contains(&seconds) {
        return Ok(seconds as u64);
    }
    Err(ConfigError::new(
        "lanes.ttl_seconds",
        "must be a whole number of seconds from 1 to 86400",
    ))
}
