//! Defence in depth for the routing header, against a filter that dies at
//! run time: through ECDS, a live canary filter is swapped for a stand-in
//! module whose request callback traps, with failure_policy FAIL_OPEN (as
//! Istio's `failStrategy: FAIL_OPEN` renders it). Envoy then skips the dead
//! filter, so nothing overwrites a client's routing header; the connection
//! manager's early strip (`make run`'s Envoy, `.early_strip()` here) must
//! keep a spoofed `x-canary-cluster: pay-v2` off v2. The control shows the
//! threat is real without the strip. (tests/defence_in_depth.rs covers a
//! filter that never loaded.)

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use crate::support;

use std::fs;
use std::path::Path;
use std::thread::sleep;
use std::time::{Duration, Instant};

use serde_json::json;
use support::{ecds_stat, pay_release, plugin_config, Envoy, Request, Response, FILTER_NAME};

/// A proxy-wasm module that loads and configures fine and traps on every
/// request, assembled from:
///
/// ```wat
/// (module
///   (memory (export "memory") 1)
///   (global $next (mut i32) (i32.const 1024))
///   (func (export "_initialize"))
///   (func (export "proxy_abi_version_0_2_1"))
///   (func (export "proxy_on_memory_allocate") (param $size i32) (result i32)
///     (local $at i32)
///     (local.set $at (global.get $next))
///     (global.set $next (i32.add (global.get $next) (local.get $size)))
///     (local.get $at))
///   (func (export "proxy_on_context_create") (param i32 i32))
///   (func (export "proxy_on_vm_start") (param i32 i32) (result i32) (i32.const 1))
///   (func (export "proxy_on_configure") (param i32 i32) (result i32) (i32.const 1))
///   (func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32) (unreachable))
///   (func (export "proxy_on_delete") (param i32)))
/// ```
const TRAPPING_MODULE: &[u8] = &[
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x1f, 0x06, 0x60, 0x00, 0x00, 0x60, 0x02,
    0x7f, 0x7f, 0x01, 0x7f, 0x60, 0x01, 0x7f, 0x01, 0x7f, 0x60, 0x02, 0x7f, 0x7f, 0x00, 0x60, 0x03,
    0x7f, 0x7f, 0x7f, 0x01, 0x7f, 0x60, 0x01, 0x7f, 0x00, 0x03, 0x09, 0x08, 0x00, 0x00, 0x02, 0x03,
    0x01, 0x01, 0x04, 0x05, 0x05, 0x03, 0x01, 0x00, 0x01, 0x06, 0x07, 0x01, 0x7f, 0x01, 0x41, 0x80,
    0x08, 0x0b, 0x07, 0xbd, 0x01, 0x09, 0x06, 0x6d, 0x65, 0x6d, 0x6f, 0x72, 0x79, 0x02, 0x00, 0x0b,
    0x5f, 0x69, 0x6e, 0x69, 0x74, 0x69, 0x61, 0x6c, 0x69, 0x7a, 0x65, 0x00, 0x00, 0x17, 0x70, 0x72,
    0x6f, 0x78, 0x79, 0x5f, 0x61, 0x62, 0x69, 0x5f, 0x76, 0x65, 0x72, 0x73, 0x69, 0x6f, 0x6e, 0x5f,
    0x30, 0x5f, 0x32, 0x5f, 0x31, 0x00, 0x01, 0x18, 0x70, 0x72, 0x6f, 0x78, 0x79, 0x5f, 0x6f, 0x6e,
    0x5f, 0x6d, 0x65, 0x6d, 0x6f, 0x72, 0x79, 0x5f, 0x61, 0x6c, 0x6c, 0x6f, 0x63, 0x61, 0x74, 0x65,
    0x00, 0x02, 0x17, 0x70, 0x72, 0x6f, 0x78, 0x79, 0x5f, 0x6f, 0x6e, 0x5f, 0x63, 0x6f, 0x6e, 0x74,
    0x65, 0x78, 0x74, 0x5f, 0x63, 0x72, 0x65, 0x61, 0x74, 0x65, 0x00, 0x03, 0x11, 0x70, 0x72, 0x6f,
    0x78, 0x79, 0x5f, 0x6f, 0x6e, 0x5f, 0x76, 0x6d, 0x5f, 0x73, 0x74, 0x61, 0x72, 0x74, 0x00, 0x04,
    0x12, 0x70, 0x72, 0x6f, 0x78, 0x79, 0x5f, 0x6f, 0x6e, 0x5f, 0x63, 0x6f, 0x6e, 0x66, 0x69, 0x67,
    0x75, 0x72, 0x65, 0x00, 0x05, 0x18, 0x70, 0x72, 0x6f, 0x78, 0x79, 0x5f, 0x6f, 0x6e, 0x5f, 0x72,
    0x65, 0x71, 0x75, 0x65, 0x73, 0x74, 0x5f, 0x68, 0x65, 0x61, 0x64, 0x65, 0x72, 0x73, 0x00, 0x06,
    0x0f, 0x70, 0x72, 0x6f, 0x78, 0x79, 0x5f, 0x6f, 0x6e, 0x5f, 0x64, 0x65, 0x6c, 0x65, 0x74, 0x65,
    0x00, 0x07, 0x0a, 0x2d, 0x08, 0x02, 0x00, 0x0b, 0x02, 0x00, 0x0b, 0x11, 0x01, 0x01, 0x7f, 0x23,
    0x00, 0x21, 0x01, 0x23, 0x00, 0x20, 0x00, 0x6a, 0x24, 0x00, 0x20, 0x01, 0x0b, 0x02, 0x00, 0x0b,
    0x04, 0x00, 0x41, 0x01, 0x0b, 0x04, 0x00, 0x41, 0x01, 0x0b, 0x03, 0x00, 0x00, 0x0b, 0x02, 0x00,
    0x0b,
];

/// Bound on waiting for Envoy to take the new filter and for it to trap.
const WAIT: Duration = Duration::from_secs(30);

fn spoofed() -> Request {
    Request::get("/")
        .host("pay-service")
        .header("x-canary-cluster", "pay-v2")
}

/// Hands Envoy, through its watched ECDS file, a filter config that runs
/// `module` and fails open; waits until Envoy has applied it.
fn swap_in_failing_open(envoy: &Envoy, module: &Path) {
    let filter = json!({
        "@type": "type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm",
        "config": {
            "name": FILTER_NAME,
            "failure_policy": "FAIL_OPEN",
            "vm_config": {
                "runtime": "envoy.wasm.runtime.v8",
                "code": {"local": {"filename": module.to_string_lossy()}}
            }
        }
    });
    let resource = json!({
        "version_info": "trapping",
        "resources": [{
            "@type": "type.googleapis.com/envoy.config.core.v3.TypedExtensionConfig",
            "name": FILTER_NAME,
            "typed_config": filter
        }]
    });
    let applied = || envoy.counter(&ecds_stat("update_success"));
    let before = applied();
    // Whole in a sibling folder, then renamed in: Envoy reacts to the move.
    let staging = envoy.dir().join("ecds-staging").join("canary-filter.json");
    fs::create_dir_all(staging.parent().unwrap()).unwrap();
    fs::write(&staging, resource.to_string()).unwrap();
    fs::rename(
        &staging,
        envoy.dir().join("ecds").join("canary-filter.json"),
    )
    .unwrap();
    let deadline = Instant::now() + WAIT;
    while applied() == before {
        assert!(
            Instant::now() < deadline,
            "Envoy did not apply the trapping filter"
        );
        sleep(Duration::from_millis(20));
    }
}

/// Starts an ECDS Envoy with a working filter (weight 0), kills the filter
/// as above, and returns Envoy's answers to 20 spoofed requests after.
fn spoof_after_the_filter_traps(early_strip: bool) -> Vec<Response> {
    let mut builder = Envoy::builder(&plugin_config([pay_release()])).ecds();
    if early_strip {
        builder = builder.early_strip();
    }
    let envoy = builder.start();
    let _log = envoy.log_on_failure();
    // Alive, the filter overwrites the client's value.
    let alive = envoy.send(&spoofed());
    assert_eq!(
        (
            alive.version().as_str(),
            alive.upstream_routing_header().as_deref()
        ),
        ("pay-v1", Some("pay-v1"))
    );

    let module = envoy.dir().join("trapping.wasm");
    fs::write(&module, TRAPPING_MODULE).unwrap();
    swap_in_failing_open(&envoy, &module);
    // The first request into the new VM traps it; Envoy logs why.
    let deadline = Instant::now() + WAIT;
    while !envoy.log().contains("proxy_on_request_headers failed") {
        assert!(
            Instant::now() < deadline,
            "the stand-in filter never trapped"
        );
        envoy.send(&spoofed());
    }
    (0..20).map(|_| envoy.send(&spoofed())).collect()
}

#[test]
fn a_trapped_filter_failing_open_cannot_be_steered_by_a_spoofed_header() {
    for (n, response) in spoof_after_the_filter_traps(true).iter().enumerate() {
        assert_eq!(response.status, 200, "request {n}: {response:?}");
        assert_eq!(response.version(), "pay-v1", "request {n}: {response:?}");
        assert_eq!(response.upstream_routing_header(), None, "request {n}");
    }
}

#[test]
fn control_without_the_strip_the_spoof_reaches_v2_once_the_filter_traps() {
    // Envoy chooses the route before any HTTP filter runs; with the dead
    // filter skipped, nothing makes it choose again.
    let responses = spoof_after_the_filter_traps(false);
    assert!(
        responses.iter().all(|r| r.version() == "pay-v2"),
        "{responses:?}"
    );
}
