//! Traffic rules, end to end: path scopes, ALL versus ANY, every operator
//! family, and the header, cookie and query sources. One Envoy serves them
//! all: each scenario has its own release on its own host, with weight 0, so
//! a request outside the rule always reaches the baseline and one inside it
//! always the canary.

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

use serde_json::{json, Value};
use support::{pay_release, plugin_config, Envoy, Request};

/// A release for host `<name>.test` with `rule` (path, mode, conditions)
/// merged into the demo release.
fn release(name: &str, rule: Value) -> Value {
    let mut release = pay_release();
    release["name"] = json!(name);
    release["hosts"] = json!([format!("{name}.test")]);
    for (key, value) in rule.as_object().into_iter().flatten() {
        release[key] = value.clone();
    }
    release
}

/// A release whose only condition is `header x-v <op> ...`.
fn header_op(name: &str, op: &str, operand: Value) -> Value {
    let mut condition = json!({"header": "x-v", "op": op});
    if let Some(fields) = operand.as_object() {
        for (key, value) in fields {
            condition[key] = value.clone();
        }
    }
    release(name, json!({"conditions": [condition]}))
}

fn envoy() -> &'static Envoy {
    static ENVOY: OnceLock<Envoy> = OnceLock::new();
    ENVOY.get_or_init(|| {
        let env_test = json!({"header": "env", "op": "equals", "value": "test"});
        let beta_cookie = json!({"cookie": "beta", "op": "equals", "value": "yes"});
        let releases = vec![
            release(
                "all",
                json!({"mode": "all", "conditions": [env_test, beta_cookie]}),
            ),
            release(
                "any",
                json!({"mode": "any", "conditions": [env_test, beta_cookie]}),
            ),
            release("exact", json!({"path": {"exact": "/pay"}})),
            release("prefix", json!({"path": {"prefix": "/pay/"}})),
            release("regex", json!({"path": {"regex": "/pay/[0-9]+"}})),
            release(
                "path-and",
                json!({"path": {"prefix": "/api"}, "mode": "any", "conditions": [env_test]}),
            ),
            release(
                "always",
                json!({"weight": 50, "sticky": {"header": "x-user-id"}, "conditions": [env_test]}),
            ),
            header_op("equals", "equals", json!({"value": "test"})),
            header_op("not-equals", "not_equals", json!({"value": "prod"})),
            header_op("prefix-op", "prefix", json!({"value": "ab"})),
            header_op("suffix", "suffix", json!({"value": "bc"})),
            header_op("contains", "contains", json!({"value": "b"})),
            header_op("regex-op", "regex", json!({"value": "v[0-9]+"})),
            header_op("in", "in", json!({"values": ["1001", "1002"]})),
            header_op("not-in", "not_in", json!({"values": ["1001"]})),
            header_op("present", "present", json!({})),
            header_op("absent", "absent", json!({})),
            header_op("gt", "gt", json!({"value": 18})),
            header_op("ge", "ge", json!({"value": 18})),
            header_op("lt", "lt", json!({"value": 18})),
            header_op("le", "le", json!({"value": "18"})),
            header_op("percent", "percent", json!({"value": 30})),
            release(
                "joined",
                json!({"conditions": [{"header": "x-v", "op": "equals", "value": "a,b"}]}),
            ),
            release(
                "cookie",
                json!({"conditions": [{"cookie": "user", "op": "equals", "value": "u1"}]}),
            ),
            release(
                "query",
                json!({"conditions": [{"query": "uid", "op": "in", "values": ["1001", "a b"]}]}),
            ),
        ];
        Envoy::start(&plugin_config(releases))
    })
}

/// Sends each request to `<release>.test` and reports every request whose
/// version differs from the expected one, all at once.
fn expect(release: &str, cases: &[(Request, bool)]) {
    let envoy = envoy();
    let _log = envoy.log_on_failure();
    let mut client = envoy.client();
    let host = format!("{release}.test");
    let mut wrong = Vec::new();
    for (request, canary) in cases {
        let response = client.send(&request.clone().host(&host));
        let want = if *canary { "pay-v2" } else { "pay-v1" };
        if response.status != 200 || response.version() != want {
            wrong.push(format!(
                "  {:?}\n    -> {} {:?}, want {want}",
                String::from_utf8_lossy(&request.to_bytes()),
                response.status,
                response.version()
            ));
        }
    }
    assert!(wrong.is_empty(), "release {release}:\n{}", wrong.join("\n"));
}

fn with_x_v(value: impl AsRef<[u8]>) -> Request {
    Request::get("/").header("x-v", value)
}

fn no_x_v() -> Request {
    Request::get("/")
}

#[test]
fn rule_hit_goes_to_the_canary_every_time() {
    // Weight 50 and a sticky key in the baseline half: only the rule can
    // send all 200 to the canary.
    let alice = canary_core::bucket("always", b"alice");
    assert!(
        alice >= 5000,
        "pick a key in the baseline half (bucket {alice})"
    );
    let hit = Request::get("/")
        .header("env", "test")
        .header("x-user-id", "alice");
    let cases: Vec<(Request, bool)> = (0..200).map(|_| (hit.clone(), true)).collect();
    expect("always", &cases);
    expect(
        "always",
        &[(Request::get("/").header("x-user-id", "alice"), false)],
    );
}

#[test]
fn mode_all_needs_every_condition() {
    let env = || Request::get("/").header("env", "test");
    expect(
        "all",
        &[
            (env().cookies(&[("beta", "yes")]), true),
            (env(), false),
            (Request::get("/").cookies(&[("beta", "yes")]), false),
            (Request::get("/"), false),
            (env().cookies(&[("beta", "no")]), false),
        ],
    );
}

#[test]
fn mode_any_needs_one_condition() {
    let env = || Request::get("/").header("env", "test");
    expect(
        "any",
        &[
            (env().cookies(&[("beta", "yes")]), true),
            (env(), true),
            (Request::get("/").cookies(&[("beta", "yes")]), true),
            (Request::get("/"), false),
            (
                Request::get("/")
                    .header("env", "prod")
                    .cookies(&[("beta", "no")]),
                false,
            ),
        ],
    );
}

#[test]
fn path_exact_matches_the_whole_path_without_the_query() {
    expect(
        "exact",
        &[
            (Request::get("/pay"), true),
            (Request::get("/pay?x=1"), true),
            (Request::get("/pay/"), false),
            (Request::get("/payx"), false),
            (Request::get("/"), false),
        ],
    );
}

#[test]
fn path_prefix_matches_the_start() {
    expect(
        "prefix",
        &[
            (Request::get("/pay/"), true),
            (Request::get("/pay/x/y?z=1"), true),
            (Request::get("/pay"), false),
            (Request::get("/x/pay/"), false),
        ],
    );
}

#[test]
fn path_regex_is_anchored() {
    expect(
        "regex",
        &[
            (Request::get("/pay/123"), true),
            (Request::get("/pay/123?q=abc"), true),
            (Request::get("/pay/123/x"), false),
            (Request::get("/pay/abc"), false),
            (Request::get("/x/pay/1"), false),
        ],
    );
}

#[test]
fn path_and_conditions_must_both_hold() {
    let env = |path: &str| Request::get(path).header("env", "test");
    expect(
        "path-and",
        &[
            (env("/api/x"), true),
            (Request::get("/api/x"), false),
            (env("/other"), false),
        ],
    );
}

#[test]
fn string_operators() {
    expect(
        "equals",
        &[
            (with_x_v("test"), true),
            (with_x_v("Test"), false),
            (no_x_v(), false),
        ],
    );
    expect(
        "not-equals",
        &[
            (with_x_v("test"), true),
            (with_x_v("prod"), false),
            (no_x_v(), false),
        ],
    );
    expect(
        "prefix-op",
        &[
            (with_x_v("abc"), true),
            (with_x_v("cab"), false),
            (no_x_v(), false),
        ],
    );
    expect(
        "suffix",
        &[
            (with_x_v("abc"), true),
            (with_x_v("bca"), false),
            (no_x_v(), false),
        ],
    );
    expect(
        "contains",
        &[
            (with_x_v("abc"), true),
            (with_x_v("xyz"), false),
            (no_x_v(), false),
        ],
    );
}

#[test]
fn regex_operator_is_anchored() {
    expect(
        "regex-op",
        &[
            (with_x_v("v12"), true),
            (with_x_v("v12a"), false),
            (with_x_v("xv12"), false),
            (no_x_v(), false),
        ],
    );
}

#[test]
fn set_operators_in_and_not_in() {
    expect(
        "in",
        &[
            (with_x_v("1002"), true),
            (with_x_v("1003"), false),
            (no_x_v(), false),
        ],
    );
    expect(
        "not-in",
        &[
            (with_x_v("1003"), true),
            (with_x_v("1001"), false),
            (no_x_v(), false),
        ],
    );
}

#[test]
fn presence_operators() {
    expect(
        "present",
        &[
            (with_x_v("x"), true),
            (with_x_v(""), true),
            (no_x_v(), false),
        ],
    );
    expect("absent", &[(no_x_v(), true), (with_x_v("x"), false)]);
}

#[test]
fn numeric_operators() {
    expect(
        "gt",
        &[
            (with_x_v("18.5"), true),
            (with_x_v("18"), false),
            (with_x_v("abc"), false),
            (no_x_v(), false),
        ],
    );
    expect("ge", &[(with_x_v("18"), true), (with_x_v("17.9"), false)]);
    expect(
        "lt",
        &[
            (with_x_v("17"), true),
            (with_x_v("-2.5e-1"), true),
            (with_x_v("18"), false),
            (with_x_v("NaN"), false),
        ],
    );
    expect("le", &[(with_x_v("18"), true), (with_x_v("19"), false)]);
}

#[test]
fn percent_operator_follows_the_stable_bucket() {
    let cases: Vec<(Request, bool)> = (0..60)
        .map(|i| {
            let user = format!("user-{i}");
            let inside = canary_core::percent_bucket("percent", user.as_bytes()) < 30;
            (with_x_v(&user), inside)
        })
        .collect();
    let inside = cases.iter().filter(|(_, canary)| *canary).count();
    assert!(
        (1..60).contains(&inside),
        "pick users on both sides ({inside} inside)"
    );
    expect("percent", &cases);
}

#[test]
fn non_utf8_values_satisfy_only_present() {
    expect("present", &[(with_x_v(b"\xff\xfe"), true)]);
    expect("not-equals", &[(with_x_v(b"\xffprod"), false)]);
    expect("not-in", &[(with_x_v(b"\xff"), false)]);
    expect("absent", &[(with_x_v(b"\xff"), false)]);
}

#[test]
fn repeated_headers_are_joined_with_commas() {
    expect(
        "joined",
        &[
            (
                Request::get("/").header("x-v", "a").header("x-v", "b"),
                true,
            ),
            (Request::get("/").header("x-v", "a"), false),
        ],
    );
}

#[test]
fn cookie_source_takes_the_first_cookie_of_that_name() {
    let cookies = |pairs: &[(&str, &str)]| Request::get("/").cookies(pairs);
    expect(
        "cookie",
        &[
            (cookies(&[("user", "u1")]), true),
            (cookies(&[("a", "1"), ("user", "u1")]), true),
            (cookies(&[("user", "\"u1\"")]), true),
            (
                Request::get("/")
                    .header("cookie", "a=1")
                    .header("cookie", "user=u1"),
                true,
            ),
            (cookies(&[("user", "u2"), ("user", "u1")]), false),
            (cookies(&[("User", "u1")]), false),
            (Request::get("/"), false),
        ],
    );
}

#[test]
fn query_source_is_percent_decoded_and_first_key_wins() {
    expect(
        "query",
        &[
            (Request::get("/?uid=1001"), true),
            (Request::get("/x?a=1&uid=1001"), true),
            (Request::get("/?uid=%31001"), true),
            (Request::get("/?uid=a%20b"), true),
            (Request::get("/?%75id=1001"), true),
            (Request::get("/?uid=a+b"), false),
            (Request::get("/?uid=9&uid=1001"), false),
            (Request::get("/?uid"), false),
            (Request::get("/"), false),
        ],
    );
}

#[test]
fn header_names_match_in_any_case() {
    expect("equals", &[(Request::get("/").header("X-V", "test"), true)]);
}
