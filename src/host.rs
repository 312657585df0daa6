//! The few proxy-wasm host calls made on the request path, declared here so
//! that an unexpected status is an error we handle, not a panic inside the
//! SDK (which traps the VM), and so the headers arrive as bytes.

use std::ptr::null_mut;

/// `MapType::HttpRequestHeaders` in the proxy-wasm ABI.
const REQUEST_HEADERS: u32 = 0;
/// `MetricType::Counter` in the proxy-wasm ABI.
const COUNTER: u32 = 0;
const OK: u32 = 0;

#[allow(clashing_extern_declarations)]
#[link(wasm_import_module = "env")]
extern "C" {
    fn proxy_get_header_map_pairs(map: u32, data: *mut *mut u8, size: *mut usize) -> u32;
    fn proxy_replace_header_map_value(
        map: u32,
        key: *const u8,
        key_size: usize,
        value: *const u8,
        value_size: usize,
    ) -> u32;
    fn proxy_remove_header_map_value(map: u32, key: *const u8, key_size: usize) -> u32;
    fn proxy_define_metric(kind: u32, name: *const u8, name_size: usize, id: *mut u32) -> u32;
    fn proxy_increment_metric(id: u32, offset: i64) -> u32;
}

/// A failed host call's status code.
#[derive(Debug, Clone, Copy)]
pub struct HostError(pub u32);

fn check(status: u32) -> Result<(), HostError> {
    if status == OK {
        Ok(())
    } else {
        Err(HostError(status))
    }
}

/// All request headers in the ABI's serialized form, in one host call.
pub fn request_headers() -> Result<Vec<u8>, HostError> {
    let mut data: *mut u8 = null_mut();
    let mut size: usize = 0;
    // SAFETY: the host writes a buffer it allocated through the SDK's
    // `proxy_on_memory_allocate` (a `Vec<u8>` with capacity == size), which we
    // take back ownership of exactly once.
    unsafe {
        check(proxy_get_header_map_pairs(
            REQUEST_HEADERS,
            &mut data,
            &mut size,
        ))?;
        if data.is_null() {
            return Ok(Vec::new());
        }
        Ok(Vec::from_raw_parts(data, size, size))
    }
}

/// Splits the serialized map into (name, value) pairs. A malformed buffer
/// yields the pairs read before the fault, never a panic.
pub fn parse_pairs(buffer: &[u8]) -> Vec<(&[u8], &[u8])> {
    let word = |at: usize| -> Option<usize> {
        let bytes = buffer.get(at..at + 4)?;
        Some(u32::from_le_bytes(bytes.try_into().ok()?) as usize)
    };
    let count = word(0).unwrap_or(0);
    let mut pairs = Vec::with_capacity(count.min(256));
    // Lengths come first, then each name and value followed by a NUL.
    let mut data = 4 + count.saturating_mul(8);
    for n in 0..count {
        let (Some(name_len), Some(value_len)) = (word(4 + n * 8), word(8 + n * 8)) else {
            break;
        };
        let name = buffer.get(data..data + name_len);
        let value_start = data + name_len + 1;
        let value = buffer.get(value_start..value_start + value_len);
        let (Some(name), Some(value)) = (name, value) else {
            break;
        };
        pairs.push((name, value));
        data = value_start + value_len + 1;
    }
    pairs
}

pub fn set_request_header(name: &str, value: &str) -> Result<(), HostError> {
    // SAFETY: pointers and lengths describe live borrowed slices.
    check(unsafe {
        proxy_replace_header_map_value(
            REQUEST_HEADERS,
            name.as_ptr(),
            name.len(),
            value.as_ptr(),
            value.len(),
        )
    })
}

pub fn remove_request_header(name: &str) -> Result<(), HostError> {
    // SAFETY: pointer and length describe a live borrowed slice.
    check(unsafe { proxy_remove_header_map_value(REQUEST_HEADERS, name.as_ptr(), name.len()) })
}

pub fn define_counter(name: &str) -> Result<u32, HostError> {
    let mut id = 0;
    // SAFETY: as above; `id` outlives the call.
    check(unsafe { proxy_define_metric(COUNTER, name.as_ptr(), name.len(), &mut id) })?;
    Ok(id)
}

pub fn increment_counter(id: u32) -> Result<(), HostError> {
    // SAFETY: plain values only.
    check(unsafe { proxy_increment_metric(id, 1) })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn serialize(pairs: &[(&str, &str)]) -> Vec<u8> {
        let mut out = (pairs.len() as u32).to_le_bytes().to_vec();
        for (n, v) in pairs {
            out.extend((n.len() as u32).to_le_bytes());
            out.extend((v.len() as u32).to_le_bytes());
        }
        for (n, v) in pairs {
            out.extend(n.as_bytes());
            out.push(0);
            out.extend(v.as_bytes());
            out.push(0);
        }
        out
    }

    #[test]
    fn parses_what_the_host_serializes() {
        let pairs = [(":authority", "pay"), (":path", "/x"), ("empty", "")];
        let buffer = serialize(&pairs);
        let got = parse_pairs(&buffer);
        let want: Vec<(&[u8], &[u8])> = pairs
            .iter()
            .map(|(n, v)| (n.as_bytes(), v.as_bytes()))
            .collect();
        assert_eq!(got, want);
    }

    #[test]
    fn truncated_or_garbage_buffers_do_not_panic() {
        let buffer = serialize(&[("a", "1"), ("b", "2")]);
        for cut in 0..buffer.len() {
            let got = parse_pairs(&buffer[..cut]);
            assert!(got.len() <= 2);
        }
        assert!(parse_pairs(&[0xff, 0xff, 0xff, 0xff, 1, 2]).is_empty());
        assert!(parse_pairs(&[]).is_empty());
    }
}
