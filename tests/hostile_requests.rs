//! Requests built to hurt, through a real Envoy running the shipped filter:
//! huge and numerous headers, bytes that are not UTF-8, repeated and
//! malformed headers, odd query strings, no host, IPv6 hosts, and a regex
//! fed its worst case. Each gets the documented routing, Envoy keeps
//! serving, and the filter never panics (its panic hook would log
//! `canary-filter panicked` at critical level).
//!
//! One release, weight 0, mode `any`: a request satisfying the rule reaches
//! pay-v2, every other request it covers reaches pay-v1 *with* the routing
//! header written (the upstream echoes `pay-v1`), and a host no release
//! covers reaches pay-v1 with no routing header at all.

// A test crate: helpers outside #[test] functions may panic and index too
// (clippy.toml allows that inside #[test] functions only).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use crate::support;

use std::sync::OnceLock;

use canary_core::{Reason, Version};
use serde_json::json;
use support::{pay_release, plugin_config, routed_stat, Envoy, Request, Response};

/// The regex with the classic exponential backtracking blow-up: "a"*n
/// without a final "b" takes 2^n steps in a backtracking engine.
const WORST_CASE_REGEX: &str = "(a|aa)*b";

fn envoy() -> &'static Envoy {
    static ENVOY: OnceLock<Envoy> = OnceLock::new();
    ENVOY.get_or_init(|| {
        let mut pay = pay_release();
        pay["hosts"] = json!(["pay-service", "localhost", "[::1]"]);
        pay["mode"] = json!("any");
        pay["conditions"] = json!([
            {"header": "env", "op": "equals", "value": "test"},
            {"query": "uid", "op": "in", "values": ["1001", "1002"]},
            {"cookie": "beta", "op": "equals", "value": "yes"},
            {"header": "x-beta", "op": "present"},
            {"header": "user-agent", "op": "regex", "value": WORST_CASE_REGEX},
        ]);
        let mut crowd = pay_release();
        crowd["name"] = json!("crowd");
        crowd["hosts"] = json!(["crowd.test"]);
        crowd["conditions"] = json!([{"header": "env", "op": "equals", "value": "test"}]);
        Envoy::start(&plugin_config([pay, crowd]))
    })
}

/// Where a request went, as the upstream saw it.
#[derive(Debug, PartialEq, Eq)]
enum Routed {
    /// Rule hit: pay-v2, routing header `pay-v2`.
    Canary,
    /// Covered, outside the rule: pay-v1, routing header `pay-v1`.
    Baseline,
    /// No release covers the host: pay-v1, no routing header.
    Uncovered,
}

fn routed(response: &Response) -> Routed {
    assert_eq!(response.status, 200, "{response:?}");
    match (
        response.version().as_str(),
        response.upstream_routing_header().as_deref(),
    ) {
        ("pay-v2", Some("pay-v2")) => Routed::Canary,
        ("pay-v1", Some("pay-v1")) => Routed::Baseline,
        ("pay-v1", None) => Routed::Uncovered,
        other => panic!("unexpected routing {other:?}: {response:?}"),
    }
}

fn send(request: Request) -> Routed {
    routed(&envoy().client().send(&request))
}

fn pay(target: &str) -> Request {
    Request::get(target).host("pay-service")
}

/// Envoy still routes an ordinary request through a working filter, and
/// the log shows no panic and no failed VM.
fn assert_still_healthy() {
    let envoy = envoy();
    assert_eq!(send(pay("/").header("env", "test")), Routed::Canary);
    assert_eq!(send(pay("/")), Routed::Baseline);
    let log = envoy.log();
    for sign in ["panicked", "[critical]", "Uncaught", "wasm_vm.cc"] {
        assert!(
            !log.contains(sign),
            "Envoy's log shows {sign:?}:\n{}",
            envoy.log_tail(40)
        );
    }
}

#[test]
fn a_60_kb_header_value_is_routed_by_its_content() {
    let _log = envoy().log_on_failure();
    let padding = "p".repeat(60_000);
    // The padding is beside the rule's header, then is the rule's header.
    let beside = pay("/").header("x-padding", &padding).header("env", "test");
    assert_eq!(send(beside), Routed::Canary);
    assert_eq!(send(pay("/").header("env", &padding)), Routed::Baseline);
    // Past Envoy's own 60 KiB bound on request headers: refused before the
    // filter runs, and the connection's next request is served.
    let too_big = pay("/").header("x-padding", "p".repeat(64 * 1024));
    let response = envoy().client().send(&too_big);
    assert_eq!(response.status, 431, "{response:?}");
    assert_still_healthy();
}

#[test]
fn a_regex_fed_its_worst_case_string_still_decides() {
    let _log = envoy().log_on_failure();
    let mut almost = "a".repeat(50_000);
    let request = pay("/").header("user-agent", &almost);
    assert_eq!(send(request), Routed::Baseline);
    almost.push('b');
    assert_eq!(send(pay("/").header("user-agent", &almost)), Routed::Canary);
    assert_still_healthy();
}

#[test]
fn one_hundred_headers_are_read_in_full() {
    let _log = envoy().log_on_failure();
    let envoy = envoy();
    // `others` headers besides host, then the rule's header last.
    let crowd = |others: usize, env: &str| {
        (0..others)
            .fold(Request::get("/").host("crowd.test"), |r, i| {
                r.header(format!("x-header-{i}"), format!("value-{i}"))
            })
            .header("env", env)
    };
    let rule_hits = || envoy.counter(&routed_stat("crowd", Version::Canary, Reason::Rule));

    // 100 headers, Envoy's default maximum: the filter reads them all and
    // the rule's header, last, decides. The front then adds its own (the
    // routing header, x-request-id, ...), which the demo upstream, an
    // Envoy with the same default, refuses: 431 from upstream.
    let before = rule_hits();
    let response = envoy.client().send(&crowd(98, "test"));
    assert_eq!(rule_hits(), before + 1);
    assert_eq!(response.status, 431, "{response:?}");
    assert!(response.header("x-envoy-upstream-service-time").is_some());

    // 96 fit through both hops: routed end to end.
    assert_eq!(send(crowd(94, "test")), Routed::Canary);
    assert_eq!(send(crowd(94, "prod")), Routed::Baseline);

    // 101: refused by the front itself, before the filter sees it.
    let before = rule_hits();
    let response = envoy.client().send(&crowd(99, "test"));
    assert_eq!(response.status, 431, "{response:?}");
    assert!(response.header("x-envoy-upstream-service-time").is_none());
    assert_eq!(rule_hits(), before);
    assert_still_healthy();
}

#[test]
fn values_that_are_not_utf8_satisfy_only_present() {
    let _log = envoy().log_on_failure();
    let bytes = b"\xff\xfe t\xe9st \x80";
    assert_eq!(send(pay("/").header("x-beta", bytes)), Routed::Canary);
    assert_eq!(send(pay("/").header("env", bytes)), Routed::Baseline);
    assert_eq!(
        send(pay("/").header("user-agent", b"aa\xffb")),
        Routed::Baseline
    );
    assert_eq!(
        send(pay("/").header("cookie", b"beta=\xffyes")),
        Routed::Baseline
    );
    // Envoy itself refuses control bytes in values and non-ASCII hosts.
    for request in [
        pay("/").header("env", b"a\x01b"),
        pay("/").header("env", b"a\x7fb"),
        Request::get("/").host(b"pay-\xffservice"),
    ] {
        let response = envoy().client().send(&request);
        assert_eq!(response.status, 400, "{request:?}");
    }
    assert_still_healthy();
}

#[test]
fn repeated_headers_are_joined_with_a_comma() {
    let _log = envoy().log_on_failure();
    // "test,test" is not "test": Envoy's own header matcher sees the same.
    let twice = pay("/").header("env", "test").header("env", "test");
    assert_eq!(send(twice), Routed::Baseline);
    let split = pay("/").header("env", "te").header("env", "st");
    assert_eq!(send(split), Routed::Baseline);
    // `present` holds however often the header comes.
    let many = (0..50).fold(pay("/"), |r, _| r.header("x-beta", "1"));
    assert_eq!(send(many), Routed::Canary);
    assert_still_healthy();
}

#[test]
fn malformed_cookie_headers_yield_only_well_formed_pairs() {
    let _log = envoy().log_on_failure();
    let cases: [(&[u8], Routed); 7] = [
        (b";;=; beta; =yes; beta=yes", Routed::Canary),
        (b"beta", Routed::Baseline),
        (b"beta=", Routed::Baseline),
        (b"beta=\"yes\"", Routed::Canary),
        (b"beta=no; beta=yes", Routed::Baseline),
        (b"=====", Routed::Baseline),
        (b"\xff=\xfe; beta = yes ", Routed::Canary),
    ];
    for (cookie, want) in cases {
        let got = send(pay("/").header("cookie", cookie));
        assert_eq!(got, want, "cookie {:?}", String::from_utf8_lossy(cookie));
    }
    // Two cookie headers: the first "beta" of either wins.
    let two = pay("/")
        .header("cookie", "a=1")
        .header("cookie", "beta=yes");
    assert_eq!(send(two), Routed::Canary);
    assert_still_healthy();
}

#[test]
fn query_keys_are_percent_decoded_and_the_first_one_wins() {
    let _log = envoy().log_on_failure();
    let cases = [
        ("/?uid=1001", Routed::Canary),
        ("/?%75id=1001", Routed::Canary),
        ("/?uid=%31%30%30%31", Routed::Canary),
        ("/?uid=9&uid=1001", Routed::Baseline),
        ("/?uid=1002&uid=9", Routed::Canary),
        ("/?uid=1001%", Routed::Baseline),
        ("/?uid=%zz1001", Routed::Baseline),
        ("/?uid+=1001", Routed::Baseline),
        ("/?uid", Routed::Baseline),
        ("/?&&&=&uid=1001", Routed::Canary),
        ("/path%3Fuid=1001", Routed::Baseline),
    ];
    for (target, want) in cases {
        assert_eq!(send(pay(target)), want, "{target}");
    }
    let long = format!("/?{}uid=1001", "x=1&".repeat(2_000));
    assert_eq!(send(pay(&long)), Routed::Canary);
    assert_still_healthy();
}

#[test]
fn a_request_without_a_host_is_refused_by_envoy_before_the_filter() {
    let _log = envoy().log_on_failure();
    let mut client = envoy().client();
    // HTTP/1.0 without Host: Envoy's default is to refuse HTTP/1.0.
    let old = client.send_raw(b"GET / HTTP/1.0\r\nx-canary-cluster: pay-v2\r\n\r\n");
    assert_eq!(old.unwrap().status, 426);
    // HTTP/1.1 requires Host.
    let no_host = client.send_raw(b"GET / HTTP/1.1\r\nx-canary-cluster: pay-v2\r\n\r\n");
    assert_eq!(no_host.unwrap().status, 400);
    // An empty Host is a host no release covers, and the spoofed routing
    // header is removed.
    let empty = Request::get("/")
        .host("")
        .header("x-canary-cluster", "pay-v2");
    assert_eq!(send(empty), Routed::Uncovered);
    assert_still_healthy();
}

#[test]
fn ipv6_hosts_are_matched_without_their_port() {
    let _log = envoy().log_on_failure();
    let v6 = |host: &str| Request::get("/").host(host);
    assert_eq!(send(v6("[::1]:10000")), Routed::Baseline);
    assert_eq!(send(v6("[::1]")), Routed::Baseline);
    assert_eq!(
        send(v6("[::1]:10000").header("env", "test")),
        Routed::Canary
    );
    assert_eq!(send(v6("[::2]:10000")), Routed::Uncovered);
    assert_eq!(send(v6("[::1")), Routed::Uncovered);
    assert_eq!(send(v6("PAY-SERVICE.:8080")), Routed::Baseline);
    assert_still_healthy();
}
