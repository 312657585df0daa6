//! The shipped module itself: within its size budget, and exporting only the
//! proxy-wasm callbacks the filter implements (Envoy calls every exported
//! callback on each request, so a stray export costs every request).

#![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)] // a test crate

use crate::support;

/// The budget the project promises: 200 KB.
const MAX_MODULE_BYTES: u64 = 200_000;

/// What `tools/wasm-slim` keeps (the Makefile's KEEP_EXPORTS): no per-request
/// context callbacks, so Envoy makes one call into the module per request
/// (plus the allocation callback of the header read).
const EXPORTS: [&str; 6] = [
    "memory",
    "_initialize",
    "proxy_abi_version_0_2_1",
    "proxy_on_memory_allocate",
    "proxy_on_configure",
    "proxy_on_request_headers",
];

#[test]
fn module_fits_the_size_budget() {
    let path = support::canary_wasm();
    let size = std::fs::metadata(&path).unwrap().len();
    assert!(
        size <= MAX_MODULE_BYTES,
        "{} is {size} bytes; the budget is {MAX_MODULE_BYTES}",
        path.display()
    );
}

#[test]
fn module_exports_only_the_callbacks_the_filter_uses() {
    let bytes = std::fs::read(support::canary_wasm()).unwrap();
    let mut exports = export_names(&bytes);
    exports.sort();
    let mut want: Vec<String> = EXPORTS.iter().map(|e| e.to_string()).collect();
    want.sort();
    assert_eq!(exports, want);
}

/// Export names from the module's export section (id 7), read by hand: the
/// format is a few LEB128 numbers and length-prefixed names.
fn export_names(module: &[u8]) -> Vec<String> {
    assert_eq!(module.get(..4), Some(&b"\0asm"[..]), "not a wasm module");
    let mut at = 8;
    while at < module.len() {
        let id = module[at];
        at += 1;
        let size = leb128(module, &mut at) as usize;
        let end = at + size;
        if id == 7 {
            let count = leb128(module, &mut at);
            return (0..count)
                .map(|_| {
                    let len = leb128(module, &mut at) as usize;
                    let name = String::from_utf8(module[at..at + len].to_vec()).unwrap();
                    at += len + 1; // the name, then the export kind byte
                    leb128(module, &mut at); // the index
                    name
                })
                .collect();
        }
        at = end;
    }
    panic!("the module has no export section")
}

fn leb128(bytes: &[u8], at: &mut usize) -> u64 {
    let (mut value, mut shift) = (0u64, 0);
    loop {
        let byte = bytes[*at];
        *at += 1;
        value |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return value;
        }
        shift += 7;
    }
}
