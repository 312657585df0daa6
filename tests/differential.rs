//! The filter in Envoy decides exactly as `canary_core::decide` does on the
//! same request. Seeded random requests mix hosts (case, port, wildcard,
//! uncovered), paths, queries (percent-encoded, repeated keys), headers
//! (repeated, mixed case, non-UTF-8), cookies and spoofed routing headers;
//! each goes through Envoy and through the core, and the versions (and the
//! routing header the upstream saw) must agree. This covers what the unit
//! tests cannot: how Envoy hands headers to the proxy-wasm shell.

// A test crate: helpers outside #[test] functions may panic and index too
// (clippy.toml allows that inside #[test] functions only).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use crate::support;

use canary_core::{decide, Config, Rng};
use serde_json::json;
use support::{plugin_config, Envoy, Request};

const REQUESTS: usize = 600;
const SEED: u64 = 0x00c0_ffee_cafe_f00d;

fn config() -> String {
    let release = |name: &str, hosts: serde_json::Value| {
        json!({
            "name": name,
            "hosts": hosts,
            "header": "x-canary-cluster",
            "baseline": "pay-v1",
            "canary": "pay-v2",
        })
    };
    let mut a = release("diff-a", json!(["a.test", "*.wild.test"]));
    a["path"] = json!({"prefix": "/api"});
    a["mode"] = json!("any");
    a["conditions"] = json!([
        {"header": "env", "op": "in", "values": ["test", "qa"]},
        {"cookie": "beta", "op": "equals", "value": "yes"},
        {"query": "uid", "op": "prefix", "value": "10"},
    ]);
    a["weight"] = json!(50);
    a["sticky"] = json!({"header": "x-user-id"});
    let mut b = release("diff-b", json!(["b.test"]));
    b["conditions"] = json!([
        {"header": "x-tier", "op": "equals", "value": "gold"},
        {"header": "x-age", "op": "ge", "value": 18},
        {"cookie": "region", "op": "regex", "value": "eu-[a-z]+"},
    ]);
    b["weight"] = json!(30);
    b["sticky"] = json!({"cookie": "uid"});
    plugin_config([a, b])
}

struct Gen(Rng);

impl Gen {
    fn below(&mut self, n: usize) -> usize {
        (self.0.next_u64() % n as u64) as usize
    }
    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())]
    }
    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }
}

/// A random request, as (target, headers in wire order).
fn random_request(g: &mut Gen) -> (String, Vec<(String, Vec<u8>)>) {
    let mut headers: Vec<(String, Vec<u8>)> = Vec::new();
    let mut add = |name: &str, value: &[u8]| headers.push((name.to_owned(), value.to_vec()));
    let hosts = [
        "a.test",
        "A.Test:8080",
        "a.test.",
        "x.wild.test",
        "Deep.X.Wild.Test",
        "wild.test",
        "b.test",
        "b.test:1",
        "c.test",
        "localhost",
    ];
    add("host", g.pick(&hosts).as_bytes());
    let paths = ["/", "/api", "/api/x", "/apix", "/x/api", "/API"];
    let mut target = g.pick(&paths).to_owned();
    let query_parts = [
        "uid=1001",
        "uid=%310x",
        "uid=99",
        "uid",
        "a=1",
        "uid=10%2B",
        "%75id=105",
        "uid=",
    ];
    let parts: Vec<&str> = (0..g.below(3)).map(|_| g.pick(&query_parts)).collect();
    if !parts.is_empty() {
        target = format!("{target}?{}", parts.join("&"));
    }
    let envs: [&[u8]; 6] = [b"test", b"qa", b"prod", b"TEST", b"\xfftest", b""];
    for _ in 0..g.below(3) {
        let name = g.pick(&["env", "Env", "ENV"]);
        add(name, g.pick(&envs));
    }
    if g.chance(50) {
        add(
            "x-tier",
            g.pick(&["gold", "silver", "gold,gold"]).as_bytes(),
        );
    }
    if g.chance(50) {
        add(
            "x-age",
            g.pick(&["18", "17", "18.0", "abc", "1e2", "-5"]).as_bytes(),
        );
    }
    if g.chance(50) {
        add("x-user-id", format!("user-{}", g.below(50)).as_bytes());
    }
    if g.chance(30) {
        add(
            "x-canary-cluster",
            g.pick(&["pay-v1", "pay-v2", "nope"]).as_bytes(),
        );
    }
    let cookies = [
        "beta=yes",
        "beta=no",
        "region=eu-west",
        "region=us-east",
        "region=eu-1",
        "uid=u1",
        "uid=u2",
        "uid=\"u3\"",
        "junk",
    ];
    let jar: Vec<&str> = (0..g.below(4)).map(|_| g.pick(&cookies)).collect();
    if !jar.is_empty() {
        add("cookie", jar.join("; ").as_bytes());
    }
    (target, headers)
}

/// The versions the core allows for this request: one when the decision
/// does not depend on the roll, both when it does.
fn expected(config: &Config, target: &str, headers: &[(String, Vec<u8>)]) -> Vec<Option<String>> {
    // What Envoy hands the filter: the Host as :authority, names lower-cased.
    let mut pairs: Vec<(Vec<u8>, Vec<u8>)> = vec![
        (b":method".to_vec(), b"GET".to_vec()),
        (b":path".to_vec(), target.as_bytes().to_vec()),
    ];
    for (name, value) in headers {
        let name = if name == "host" {
            ":authority".to_owned()
        } else {
            name.to_ascii_lowercase()
        };
        pairs.push((name.into_bytes(), value.clone()));
    }
    let borrowed: Vec<(&[u8], &[u8])> = pairs.iter().map(|(n, v)| (&n[..], &v[..])).collect();
    let request = canary_core::Request::new(&borrowed);
    let mut allowed: Vec<Option<String>> = [0, canary_core::BUCKETS - 1]
        .iter()
        .map(|&roll| decide(config, &request, roll).map(|o| o.value().to_owned()))
        .collect();
    allowed.dedup();
    allowed
}

#[test]
fn envoy_and_the_core_agree_on_random_requests() {
    let config_json = config();
    let config = Config::from_json(config_json.as_bytes()).expect("the test's config is valid");
    let envoy = Envoy::start(&config_json);
    let _log = envoy.log_on_failure();
    let mut client = envoy.client();
    let mut g = Gen(Rng::new(SEED));
    let mut disagreements = Vec::new();
    // How often each outcome came up, so the test cannot pass vacuously.
    let (mut uncovered, mut baseline, mut canary) = (0, 0, 0);
    for _ in 0..REQUESTS {
        let (target, headers) = random_request(&mut g);
        let mut request = Request::get(&target);
        for (name, value) in &headers {
            request = request.header(name, value);
        }
        let response = client.send(&request);
        let allowed = expected(&config, &target, &headers);
        // None: no release covers the host, so the header is removed and
        // the default route (pay-v1) answers.
        let seen = response.upstream_routing_header();
        match seen.as_deref() {
            None => uncovered += 1,
            Some("pay-v1") => baseline += 1,
            Some(_) => canary += 1,
        }
        let version_ok = match &seen {
            Some(value) => response.version() == *value,
            None => response.version() == "pay-v1",
        };
        if response.status != 200 || !version_ok || !allowed.contains(&seen) {
            disagreements.push(format!(
                "{:?}\n    envoy: {} {:?}, upstream saw {seen:?}; core allows {allowed:?}",
                String::from_utf8_lossy(&request.to_bytes()),
                response.status,
                response.version(),
            ));
        }
    }
    for (outcome, count) in [
        ("uncovered", uncovered),
        ("baseline", baseline),
        ("canary", canary),
    ] {
        assert!(
            count >= 30,
            "only {count} {outcome} outcomes in {REQUESTS}: widen the generator"
        );
    }
    assert!(
        disagreements.is_empty(),
        "{} of {REQUESTS} requests disagree:\n{}",
        disagreements.len(),
        disagreements
            .iter()
            .take(10)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}
