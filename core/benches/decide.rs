//! Microbenchmarks of the decision, natively: `cargo bench -p canary-core
//! --bench decide` (part of `make bench`).
//!
//! What is timed is `decide()` alone, on a request of 12 headers as Envoy
//! hands them over: the host lookup, the rule, the sticky bucket or the
//! roll. Each fixture is checked first to take the path it is named after,
//! so a bench cannot silently measure a shortcut. The figures to read:
//! - per rule shape: the three-condition rule (with a regex) should stay
//!   within ~200 ns;
//! - per number of releases: flat from 1 to 1,000 (the host index is a map);
//! - per number of conditions: linear in conditions actually evaluated;
//! - three canaries (tag routing): the two-version form's rule cost plus
//!   the other canaries' rules evaluated.

use std::process::exit;

use canary_core::{decide, Config, Reason, Request, Version};
use divan::{black_box, Bencher};

fn main() {
    divan::main();
}

const ROLL: u32 = 4_321;

/// A rule of one condition.
const ONE_HEADER: &str = r#"[{"header": "env", "op": "equals", "value": "test"}]"#;
/// The benchmark's realistic rule (bench/plugin-config.json): any of three,
/// the last a regex.
const THREE: &str = r#"[
    {"header": "env", "op": "equals", "value": "test"},
    {"query": "uid", "op": "in", "values": ["1001", "1002"]},
    {"header": "x-app-version", "op": "regex", "value": "2\\.[0-9]+\\.[0-9]+-beta"}]"#;

/// One release's JSON: `conditions` is a JSON array or "" for no rule.
fn release(name: &str, host: &str, conditions: &str, sticky: bool) -> String {
    let rule = if conditions.is_empty() {
        String::new()
    } else {
        format!(r#""mode": "any", "conditions": {conditions},"#)
    };
    let sticky = if sticky {
        r#", "sticky": {"header": "x-user-id"}"#
    } else {
        ""
    };
    format!(
        r#"{{"name": "{name}", "hosts": ["{host}"], "header": "x-canary-cluster",
        "baseline": "{name}-v1", "canary": "{name}-v2", {rule} "weight": 20{sticky}}}"#
    )
}

fn config(releases: &[String]) -> Config {
    let json = format!(r#"{{"releases": [{}]}}"#, releases.join(","));
    match Config::from_json(json.as_bytes()) {
        Ok(config) => config,
        Err(error) => {
            eprintln!("bench fixture is not a valid config: {error}");
            exit(2)
        }
    }
}

/// A request as Envoy hands it to the filter (pseudo-headers first).
fn headers(host: &str, extra: &[(&'static str, &'static str)]) -> Vec<(Vec<u8>, Vec<u8>)> {
    let mut pairs: Vec<(Vec<u8>, Vec<u8>)> = [
        (":authority", host),
        (":path", "/api/orders?page=2&sort=desc"),
        (":method", "GET"),
        (":scheme", "http"),
        ("user-agent", "bench-client/1.0"),
        ("accept", "application/json"),
        ("x-request-id", "3f2a9c1e-bench-000042"),
        ("x-forwarded-proto", "http"),
        ("x-app-version", "2.4.1"),
    ]
    .iter()
    .map(|(name, value)| (name.as_bytes().to_vec(), value.as_bytes().to_vec()))
    .collect();
    for (name, value) in extra {
        // A header the base request has is replaced, not repeated.
        match pairs.iter_mut().find(|(n, _)| n == name.as_bytes()) {
            Some(pair) => pair.1 = value.as_bytes().to_vec(),
            None => pairs.push((name.as_bytes().to_vec(), value.as_bytes().to_vec())),
        }
    }
    // Pad to 12 headers, so every fixture scans a realistic list.
    for filler in ["x-envoy-attempt-count", "x-b3-sampled", "content-length"] {
        if pairs.len() < 12 {
            pairs.push((filler.as_bytes().to_vec(), b"1".to_vec()));
        }
    }
    pairs
}

fn borrowed(pairs: &[(Vec<u8>, Vec<u8>)]) -> Vec<(&[u8], &[u8])> {
    pairs
        .iter()
        .map(|(name, value)| (name.as_slice(), value.as_slice()))
        .collect()
}

/// Stops the run when a fixture does not take the path it is named after.
fn expect(config: &Config, pairs: &[(&[u8], &[u8])], reason: Reason, what: &str) {
    let got = decide(config, &Request::new(pairs), ROLL).map(|o| o.reason);
    if got != Some(reason) {
        eprintln!("bench fixture {what}: decided {got:?}, expected {reason:?}");
        exit(2);
    }
}

fn run(bencher: Bencher, config: &Config, pairs: &[(&[u8], &[u8])]) {
    bencher.bench_local(|| {
        decide(
            black_box(config),
            &Request::new(black_box(pairs)),
            black_box(ROLL),
        )
        .map(|o| o.version == Version::Canary)
    });
}

/// The rule shapes, on a request that none of the conditions matches (so
/// every condition is evaluated), unless the name says it hits.
#[divan::bench(args = ["no_rule", "one_header_equals", "three_conditions",
    "three_conditions_regex_hit", "three_conditions_sticky"])]
fn rule_shape(bencher: Bencher, shape: &str) {
    let (conditions, sticky, extra, reason): (&str, bool, &[(&str, &str)], Reason) = match shape {
        "no_rule" => ("", false, &[], Reason::Weight),
        "one_header_equals" => (ONE_HEADER, false, &[], Reason::Weight),
        "three_conditions" => (THREE, false, &[], Reason::Weight),
        "three_conditions_regex_hit" => (
            THREE,
            false,
            &[("x-app-version", "2.10.3-beta")],
            Reason::Rule,
        ),
        _ => (THREE, true, &[("x-user-id", "user-4711")], Reason::Sticky),
    };
    let config = config(&[release("pay", "pay-service", conditions, sticky)]);
    let owned = headers("pay-service", extra);
    let pairs = borrowed(&owned);
    expect(&config, &pairs, reason, shape);
    run(bencher, &config, &pairs);
}

/// The realistic rule with sticky, against the number of releases (one host
/// each); the request is for the last release's host.
#[divan::bench(args = [1, 10, 100, 1000])]
fn releases(bencher: Bencher, count: usize) {
    let all: Vec<String> = (0..count)
        .map(|i| {
            let host = format!("svc-{i}.shop.svc.cluster.local");
            release(&format!("svc-{i}"), &host, THREE, true)
        })
        .collect();
    let config = config(&all);
    let host = format!("svc-{}.shop.svc.cluster.local", count - 1);
    let owned = headers(&host, &[("x-user-id", "user-4711")]);
    let pairs = borrowed(&owned);
    expect(&config, &pairs, Reason::Sticky, "releases");
    run(bencher, &config, &pairs);
}

/// Mode any over `count` header conditions, none satisfied: each is read
/// and compared.
#[divan::bench(args = [1, 4, 16, 32])]
fn conditions(bencher: Bencher, count: usize) {
    let list: Vec<String> = (0..count)
        .map(|i| format!(r#"{{"header": "x-app-version", "op": "equals", "value": "9.9.{i}"}}"#))
        .collect();
    let config = config(&[release(
        "pay",
        "pay-service",
        &format!("[{}]", list.join(",")),
        false,
    )]);
    let owned = headers("pay-service", &[]);
    let pairs = borrowed(&owned);
    expect(&config, &pairs, Reason::Weight, "conditions");
    run(bencher, &config, &pairs);
}

/// One condition of each kind the realistic rule uses, not satisfied: what
/// each costs on its own.
#[divan::bench(args = ["header_equals", "query_in", "header_regex", "cookie_equals"])]
fn single_condition(bencher: Bencher, kind: &str) {
    let condition = match kind {
        "header_equals" => r#"{"header": "env", "op": "equals", "value": "test"}"#,
        "query_in" => r#"{"query": "uid", "op": "in", "values": ["1001", "1002"]}"#,
        "header_regex" => {
            r#"{"header": "x-app-version", "op": "regex", "value": "2\\.[0-9]+\\.[0-9]+-beta"}"#
        }
        _ => r#"{"cookie": "beta", "op": "equals", "value": "yes"}"#,
    };
    let config = config(&[release(
        "pay",
        "pay-service",
        &format!("[{condition}]"),
        false,
    )]);
    let owned = headers("pay-service", &[("cookie", "session=abc123; theme=dark")]);
    let pairs = borrowed(&owned);
    expect(&config, &pairs, Reason::Weight, kind);
    run(bencher, &config, &pairs);
}

/// Tag routing: the realistic rule on the first of three canaries, a rule
/// of two conditions on the second, none on the third (as bench/'s
/// plugin-config-three.json), on a request no rule takes: every rule is
/// evaluated, then the draw lands among three slices. Next to
/// `rule_shape(three_conditions[_sticky])`, the two-version form.
#[divan::bench(args = ["weight", "sticky"])]
fn three_canaries(bencher: Bencher, draw: &str) {
    let sticky = draw == "sticky";
    let json = format!(
        r#"{{"releases": [{{"name": "pay", "hosts": ["pay-service"], "header": "x-canary-cluster",
        "baseline": "pay-v1", "canaries": [
          {{"value": "pay-v2", "mode": "any", "conditions": {THREE}, "weight": 20}},
          {{"value": "pay-v3", "conditions": [{{"header": "x-tester", "op": "present"}},
            {{"cookie": "pay_hotfix", "op": "equals", "value": "yes"}}], "weight": 5}},
          {{"value": "pay-v4", "weight": 5}}]{}}}]}}"#,
        if sticky {
            r#", "sticky": {"header": "x-user-id"}"#
        } else {
            ""
        }
    );
    let config = match Config::from_json(json.as_bytes()) {
        Ok(config) => config,
        Err(error) => {
            eprintln!("bench fixture is not a valid config: {error}");
            exit(2)
        }
    };
    let extra: &[(&str, &str)] = if sticky {
        &[("x-user-id", "user-4711")]
    } else {
        &[]
    };
    let owned = headers("pay-service", extra);
    let pairs = borrowed(&owned);
    let reason = if sticky {
        Reason::Sticky
    } else {
        Reason::Weight
    };
    expect(&config, &pairs, reason, "three_canaries");
    run(bencher, &config, &pairs);
}
