//! Properties of parsing and deciding that must hold for every input, checked
//! on generated configs and requests (proptest). The configs are built from
//! small vocabularies so that a good share is valid and rules do match; the
//! request bytes are anything at all.
//!
//! Native only: proptest does not run under wasm-bindgen-test.
#![cfg(not(target_arch = "wasm32"))]

use canary_core::{bucket, decide, Config, Reason, Request, Version, BUCKETS};
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::test_runner::{FileFailurePersistence, RngSeed};
use serde_json::{json, Value};

type Pairs = Vec<(Vec<u8>, Vec<u8>)>;

/// `n` cases per property; a failing case is saved beside this file
/// (`properties.regressions`) and replayed first on every later run.
fn cases(n: u32) -> ProptestConfig {
    ProptestConfig {
        cases: n,
        failure_persistence: Some(Box::new(FileFailurePersistence::WithSource("regressions"))),
        // A fixed seed keeps `make test` repeatable; fuzzing explores further.
        rng_seed: RngSeed::Fixed(0x0ca7_a4ee),
        ..ProptestConfig::default()
    }
}

fn borrowed(pairs: &Pairs) -> Vec<(&[u8], &[u8])> {
    pairs
        .iter()
        .map(|(n, v)| (n.as_slice(), v.as_slice()))
        .collect()
}

/// A value that is sometimes missing (the field is left out).
fn maybe<T: Strategy>(inner: T) -> impl Strategy<Value = Option<T::Value>>
where
    T::Value: Clone,
{
    prop_oneof![1 => Just(None), 3 => inner.prop_map(Some)]
}

/// Mostly `good`, now and then `bad`: each field is rarely wrong, so about
/// half of the generated configs are valid and the rest fail in varied places.
fn mostly<T: std::fmt::Debug + Clone + 'static>(
    good: impl Strategy<Value = T> + 'static,
    bad: impl Strategy<Value = T> + 'static,
) -> BoxedStrategy<T> {
    prop_oneof![30 => good, 1 => bad].boxed()
}

fn pick(words: &'static [&'static str]) -> impl Strategy<Value = String> {
    proptest::sample::select(words).prop_map(str::to_string)
}

const WORDS: &[&str] = &["test", "1001", "1002", "18", "v", "", "\u{e9}"];

/// An operator with the operand it takes (or, rarely, a wrong one).
fn operator() -> impl Strategy<Value = Value> {
    let string_op = pick(&["equals", "not_equals", "prefix", "suffix", "contains"]);
    let numeric_op = pick(&["gt", "ge", "lt", "le"]);
    let good = prop_oneof![
        (string_op, pick(WORDS)).prop_map(|(op, v)| json!({ "op": op, "value": v })),
        pick(&["v[0-9]+", "(a|aa)*b", ".*", "te.t"])
            .prop_map(|v| json!({ "op": "regex", "value": v })),
        (pick(&["in", "not_in"]), vec(pick(WORDS), 1..4))
            .prop_map(|(op, vs)| json!({ "op": op, "values": vs })),
        pick(&["present", "absent"]).prop_map(|op| json!({ "op": op })),
        (numeric_op, -5i32..120).prop_map(|(op, n)| json!({ "op": op, "value": n })),
        (0u32..=100).prop_map(|n| json!({ "op": "percent", "value": n })),
    ];
    let bad = proptest::sample::select(vec![
        json!({ "op": "eq", "value": "test" }),
        json!({ "op": "equals", "value": 1001 }),
        json!({ "op": "in", "values": [] }),
        json!({ "op": "in", "values": ["1", 2] }),
        json!({ "op": "present", "value": "x" }),
        json!({ "op": "regex", "value": "(" }),
        json!({ "op": "percent", "value": 101 }),
        json!({ "op": "gt", "value": "old" }),
        json!({ "value": "x" }),
    ]);
    mostly(good, bad)
}

fn condition() -> impl Strategy<Value = Value> {
    let good = prop_oneof![
        pick(&["env", "x-user-id", "x-beta", "age"]).prop_map(|k| json!({ "header": k })),
        pick(&["beta", "uid"]).prop_map(|k| json!({ "cookie": k })),
        pick(&["uid", "q"]).prop_map(|k| json!({ "query": k })),
    ];
    let bad = proptest::sample::select(vec![
        json!({ "header": "Bad Name" }),
        json!({ "cookie": "a=b" }),
        json!({ "query": "" }),
        json!({}),
        json!({ "header": "env", "cookie": "beta" }),
    ]);
    (mostly(good, bad), operator()).prop_map(|(mut condition, operator)| {
        if let (Value::Object(into), Value::Object(from)) = (&mut condition, operator) {
            into.extend(from);
        }
        condition
    })
}

fn path() -> impl Strategy<Value = Value> {
    let good = prop_oneof![
        pick(&["/pay", "/"]).prop_map(|p| json!({ "prefix": p })),
        pick(&["/pay", "/q"]).prop_map(|p| json!({ "exact": p })),
        pick(&["/pay/[0-9]+", "/(a|b)*", "/.*"]).prop_map(|p| json!({ "regex": p })),
    ];
    let bad = proptest::sample::select(vec![
        json!({ "prefix": "pay" }),
        json!({ "regex": "(" }),
        json!({ "exact": "/a", "prefix": "/b" }),
    ]);
    mostly(good, bad)
}

fn weight() -> impl Strategy<Value = Value> {
    let good = prop_oneof![
        (0u32..=10_000).prop_map(|bp| json!(f64::from(bp) / 100.0)),
        (0u32..=100).prop_map(Value::from),
    ];
    let bad = proptest::sample::select(vec![json!(100.5), json!(-1), json!(0.001), json!("20")]);
    mostly(good, bad)
}

fn sticky() -> impl Strategy<Value = Value> {
    let good = prop_oneof![
        Just(json!({ "header": "x-user-id" })),
        Just(json!({ "cookie": "uid" })),
    ];
    let bad = proptest::sample::select(vec![
        json!({ "header": "bad name" }),
        json!({ "cookie": "a;b" }),
        json!({ "header": "a", "cookie": "b" }),
    ]);
    mostly(good, bad)
}

/// Release `i` of a config; its hosts are its own unless a rare bad draw
/// makes them clash with release 0's or leaves a catch-all before the end.
fn release(i: usize, last: bool) -> impl Strategy<Value = Value> {
    let first = format!("svc{i}");
    let own_hosts = vec(
        proptest::sample::select(vec![
            format!("*.r{i}.example.com"),
            format!("Host{i}.Example.org"),
        ]),
        0..3,
    )
    .prop_map(move |more| Some([vec![first.clone()], more].concat()));
    let hosts = if last {
        prop_oneof![Just(None), Just(Some(vec!["*".to_string()])), own_hosts].boxed()
    } else {
        let bad = proptest::sample::select(vec![
            None,
            Some(vec!["pay:80".to_string()]),
            Some(vec!["svc0".to_string()]),
            Some(vec!["x.r0.example.com".to_string()]),
            Some(vec![String::new()]),
        ]);
        mostly(own_hosts, bad)
    };
    let name = mostly(Just(format!("r{i}")), pick(&["", "bad.name", "r0"]));
    let header = mostly(
        pick(&["x-canary", "x-canary-cluster", "X-Version"]),
        pick(&["cookie", "bad header", ""]),
    );
    let versions = mostly(
        Just(("v1".to_string(), "v2".to_string())),
        proptest::sample::select(vec![
            ("v1".to_string(), "v1".to_string()),
            ("v 1".to_string(), "v2".to_string()),
        ]),
    );
    let mode = mostly(pick(&["all", "any"]), Just("xor".to_string()));
    (
        (name, hosts, header, versions),
        (
            maybe(path()),
            maybe(mode),
            maybe(vec(condition(), 0..5)),
            maybe(weight()),
            maybe(sticky()),
        ),
    )
        .prop_map(
            |(
                (name, hosts, header, (baseline, canary)),
                (path, mode, conditions, weight, sticky),
            )| {
                let mut release = json!({
                    "name": name, "header": header, "baseline": baseline, "canary": canary,
                });
                let optional = [
                    ("hosts", hosts.map(Value::from)),
                    ("path", path),
                    ("mode", mode.map(Value::from)),
                    ("conditions", conditions.map(Value::from)),
                    ("weight", weight),
                    ("sticky", sticky),
                ];
                if let Some(fields) = release.as_object_mut() {
                    for (key, value) in optional {
                        if let Some(value) = value {
                            fields.insert(key.to_string(), value);
                        }
                    }
                }
                release
            },
        )
}

fn config_json() -> impl Strategy<Value = String> {
    let releases = (1usize..4).prop_flat_map(|n| {
        (0..n)
            .map(|i| release(i, i + 1 == n).boxed())
            .collect::<Vec<_>>()
    });
    mostly(releases, Just(Vec::new()))
        .prop_map(|releases| json!({ "releases": releases }).to_string())
}

/// Requests in the configs' vocabulary (so rules and hosts match often),
/// with arbitrary bytes mixed in.
fn request() -> impl Strategy<Value = Pairs> {
    let bytes = |words: &'static [&'static str]| {
        prop_oneof![
            3 => pick(words).prop_map(String::into_bytes),
            1 => vec(any::<u8>(), 0..24),
        ]
    };
    let named = |name: &'static str, words: &'static [&'static str]| {
        bytes(words).prop_map(move |value| (name.as_bytes().to_vec(), value))
    };
    let pair = prop_oneof![
        named(
            ":authority",
            &[
                "svc0",
                "SVC1:8080",
                "x.r1.example.com",
                "host2.example.org.",
                "pay",
                "search",
                "[::1]:80",
                ""
            ]
        ),
        named(
            ":path",
            &[
                "/pay/1?uid=1001",
                "/q?uid=%31002&uid=9",
                "/aab?q=aab",
                "/",
                "/pay#f"
            ]
        ),
        named("env", WORDS),
        named("x-user-id", &["u1", "u2", "u3"]),
        named("cookie", &["beta=1; uid=1001", "uid=\"1002\"", ";;=;"]),
        named("age", &["17", "18.5", "-2e1", "NaN"]),
        (vec(any::<u8>(), 0..12), vec(any::<u8>(), 0..24)),
    ];
    vec(pair, 0..8)
}

/// What a decision amounts to, comparable across two parses.
fn summary(config: &Config, pairs: &Pairs, roll: u32) -> Option<(usize, Version, Reason)> {
    decide(config, &Request::new(&borrowed(pairs)), roll).map(|o| (o.index, o.version, o.reason))
}

proptest! {
    #![proptest_config(cases(2_000))]

    /// Parsing is a function of the bytes: the same verdict, the same error
    /// text, and for a valid config the same decision on every request.
    #[test]
    fn parsing_twice_agrees(
        json in config_json(),
        requests in vec((request(), 0..BUCKETS), 1..6),
    ) {
        let first = Config::from_json(json.as_bytes());
        let second = Config::from_json(json.as_bytes());
        match (&first, &second) {
            (Ok(a), Ok(b)) => {
                prop_assert_eq!(a.routing_headers(), b.routing_headers());
                for (pairs, roll) in &requests {
                    prop_assert_eq!(summary(a, pairs, *roll), summary(b, pairs, *roll));
                }
            }
            (Err(a), Err(b)) => {
                prop_assert_eq!(a, b);
                prop_assert!(!a.message.is_empty());
            }
            _ => prop_assert!(false, "verdicts differ on {}", json),
        }
    }

    /// Any bytes at all: an error or a config, never a panic.
    #[test]
    fn arbitrary_bytes_never_panic(bytes in vec(any::<u8>(), 0..256)) {
        let first = Config::from_json(&bytes).map(|c| c.releases.len());
        prop_assert_eq!(first, Config::from_json(&bytes).map(|c| c.releases.len()));
    }
}

/// A config that uses every operator and both sticky kinds.
const EVERY_OPERATOR: &str = r#"{"releases":[
  {"name":"pay","hosts":["pay","*.example.com"],"header":"x-canary","baseline":"v1","canary":"v2",
   "path":{"regex":"/pay(/[a-z0-9]+)*"},"mode":"all",
   "conditions":[{"header":"env","op":"not_equals","value":"prod"},{"cookie":"beta","op":"present"},
     {"query":"uid","op":"not_in","values":["1","2"]},{"header":"age","op":"ge","value":18},
     {"header":"x-user-id","op":"percent","value":50}],
   "weight":12.34,"sticky":{"header":"x-user-id"}},
  {"name":"search","hosts":["search"],"header":"x-version","baseline":"s1","canary":"s2","mode":"any",
   "conditions":[{"query":"q","op":"regex","value":"(a|aa)*b"},{"header":"env","op":"prefix","value":"te"},
     {"header":"env","op":"suffix","value":"st"},{"header":"env","op":"contains","value":"es"},
     {"cookie":"uid","op":"in","values":["1001"]},{"header":"age","op":"lt","value":1e3},
     {"header":"age","op":"gt","value":-1},{"header":"age","op":"le","value":0},
     {"header":"env","op":"equals","value":"test"},{"header":"x-none","op":"absent"}],
   "weight":50,"sticky":{"cookie":"uid"}},
  {"name":"rest","header":"x-canary","baseline":"r1","canary":"r2","path":{"exact":"/x"},"weight":100}
]}"#;

proptest! {
    #![proptest_config(cases(5_000))]

    /// Every request gets an outcome of the covering release, never a panic;
    /// the rule always means the canary.
    #[test]
    fn decide_never_panics(pairs in request(), roll in 0..BUCKETS) {
        let config = Config::from_json(EVERY_OPERATOR.as_bytes()).unwrap();
        let request_pairs = borrowed(&pairs);
        let request = Request::new(&request_pairs);
        // The last release covers every host.
        let outcome = decide(&config, &request, roll).unwrap();
        let value = outcome.value();
        prop_assert!(value == outcome.release.baseline || value == outcome.release.canaries.first().value);
        if outcome.reason == Reason::Rule {
            prop_assert_eq!(outcome.version, Version::Canary);
        }
    }

    /// Weight 0 never sends a request outside the rule to the canary, and
    /// weight 100 always does, whatever the roll and the sticky key.
    #[test]
    fn weight_0_and_100_are_absolute(pairs in request(), roll in 0..BUCKETS, sticky in any::<bool>()) {
        for (weight, want) in [(0, Version::Baseline), (100, Version::Canary)] {
            let sticky = if sticky { r#","sticky":{"header":"x-user-id"}"# } else { "" };
            let json = format!(
                r#"{{"releases":[{{"name":"pay","header":"x-canary","baseline":"v1","canary":"v2",
                  "mode":"any","conditions":[{{"header":"env","op":"equals","value":"test"}},
                  {{"query":"uid","op":"in","values":["1001","1002"]}}],"weight":{weight}{sticky}}}]}}"#
            );
            let config = Config::from_json(json.as_bytes()).unwrap();
            let request_pairs = borrowed(&pairs);
            let outcome = decide(&config, &Request::new(&request_pairs), roll).unwrap();
            if outcome.reason != Reason::Rule {
                prop_assert_eq!(outcome.version, want, "weight {} reason {:?}", weight, outcome.reason);
            }
        }
    }

    /// As the weight rises a sticky key moves to the canary once and stays.
    #[test]
    fn sticky_key_never_moves_back(
        key in vec(any::<u8>(), 0..32),
        name in "[a-zA-Z0-9_-]{1,16}",
        mut weights in vec(0u32..=10_000, 2..12),
    ) {
        weights.sort_unstable();
        let mut was_canary = false;
        for weight_bp in weights {
            let json = format!(
                r#"{{"releases":[{{"name":"{name}","header":"x-canary","baseline":"v1","canary":"v2",
                  "weight":{},"sticky":{{"header":"x-user-id"}}}}]}}"#,
                f64::from(weight_bp) / 100.0
            );
            let config = Config::from_json(json.as_bytes()).unwrap();
            prop_assert_eq!(config.releases[0].canaries.first().weight_bp, weight_bp);
            let pairs: [(&[u8], &[u8]); 1] = [(b"x-user-id", &key)];
            // The roll must not matter: try both ends.
            for roll in [0, BUCKETS - 1] {
                let outcome = decide(&config, &Request::new(&pairs), roll).unwrap();
                prop_assert_eq!(outcome.reason, Reason::Sticky);
                let canary = outcome.version == Version::Canary;
                prop_assert_eq!(canary, bucket(&name, &key) < weight_bp);
                prop_assert!(canary || !was_canary, "moved back at {} bp", weight_bp);
                was_canary = canary;
            }
        }
    }

    /// The request view answers every lookup on any pair list, and its
    /// answers keep their documented shape.
    #[test]
    fn request_lookups_never_panic(pairs in request(), name in vec(any::<u8>(), 0..8)) {
        let request_pairs = borrowed(&pairs);
        let request = Request::new(&request_pairs);
        let host = request.host();
        prop_assert!(!host.iter().any(u8::is_ascii_uppercase));
        prop_assert!(!host.ends_with(b"."));
        let path = request.path();
        prop_assert!(!path.contains(&b'?') && !path.contains(&b'#'));
        let lower = name.to_ascii_lowercase();
        if let Some(joined) = request.header(&lower) {
            let parts: Vec<&[u8]> = pairs
                .iter()
                .filter(|(n, _)| n.eq_ignore_ascii_case(&lower))
                .map(|(_, v)| v.as_slice())
                .collect();
            let want = parts.join(&b","[..]);
            prop_assert_eq!(joined.as_ref(), want.as_slice());
        }
        let _ = request.cookie(&name);
        if let Some(value) = request.query(&name) {
            prop_assert!(value.len() <= request.header(b":path").map_or(0, |p| p.len()));
        }
    }
}
