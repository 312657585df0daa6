//! Lanes without a proxy: the config's `lanes` block and `lane` fields, the
//! decision for lane traffic, and the plan's lane header (joining, a
//! recorded lane, the edge's strip), with the counters of reason `lane`.

// Helpers outside #[test] functions may unwrap too (clippy.toml allows it
// inside them only).
#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use canary_core::{
    counters, plan, plan_unreadable, plan_with_lane, Config, CounterName, Reason, Request, Version,
};
#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

/// The issue's chain: order (rule, lane gray), pay (lane gray), stock (a
/// lane-less canary at weight 100, so any weighed request would reach it),
/// and a tagged release with canaries in two lanes.
fn config(edge: bool, loose: bool) -> Config {
    let trace = if loose {
        r#","trace_headers":["traceparent","b3"]"#
    } else {
        ""
    };
    let json = format!(
        r#"{{"lanes":{{"header":"X-Canary-Lane","edge":{edge}{trace},"ttl_seconds":30}},
        "releases":[
          {{"name":"order","hosts":["order"],"header":"x-canary-version","baseline":"v1","canary":"v2",
            "lane":"gray","conditions":[{{"header":"x-user-group","op":"equals","value":"beta"}}]}},
          {{"name":"pay","hosts":["pay"],"header":"x-canary-version","baseline":"v1","canary":"v2","lane":"gray"}},
          {{"name":"stock","hosts":["stock"],"header":"x-canary-version","baseline":"v1","canary":"v2","weight":100}},
          {{"name":"ledger","hosts":["ledger"],"header":"x-canary-version","baseline":"v1",
            "canaries":[{{"value":"v2","lane":"gray"}},{{"value":"v3","lane":"blue","weight":100}}]}}
        ]}}"#
    );
    Config::from_json(json.as_bytes()).unwrap()
}

const ROLL: u32 = 0;
const TP: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

/// (routing header value, lane header written, headers removed, counter).
fn run(
    config: &Config,
    headers: &[(&str, &str)],
    recorded: Option<&str>,
) -> (Option<String>, Option<String>, Vec<String>, String) {
    let pairs: Vec<(&[u8], &[u8])> = headers
        .iter()
        .map(|(n, v)| (n.as_bytes(), v.as_bytes()))
        .collect();
    let routing = plan_with_lane(config, &Request::new(&pairs), ROLL, recorded);
    let names: Vec<String> = counters(config).map(|c| c.to_string()).collect();
    let count = routing
        .count
        .and_then(|slot| names.get(slot.index()).cloned())
        .unwrap_or_default();
    if let Some(lane) = routing.set_lane {
        assert_eq!(lane.name, "x-canary-lane");
    }
    (
        routing.set.map(|s| s.value.to_owned()),
        routing.set_lane.map(|s| s.value.to_owned()),
        routing.remove.iter().map(|s| s.to_string()).collect(),
        count,
    )
}

#[test]
fn joining_by_rule_writes_the_lane_header() {
    let gateway = config(true, true);
    let (version, lane, _, count) = run(
        &gateway,
        &[(":authority", "order"), ("x-user-group", "beta")],
        None,
    );
    assert_eq!(version.as_deref(), Some("v2"));
    assert_eq!(lane.as_deref(), Some("gray"));
    assert_eq!(count, "canary.order.canary.rule");
    // Everybody else: the baseline, no lane.
    let (version, lane, _, _) = run(&gateway, &[(":authority", "order")], None);
    assert_eq!((version.as_deref(), lane), (Some("v1"), None));
}

#[test]
fn joining_by_weight_writes_the_lane_of_the_canary_drawn() {
    let sidecar = config(false, false);
    let (version, lane, _, count) = run(&sidecar, &[(":authority", "ledger")], None);
    assert_eq!(version.as_deref(), Some("v3"));
    assert_eq!(lane.as_deref(), Some("blue"));
    assert_eq!(count, "canary.ledger.tag.v3.weight");
    // A lane-less canary drawn by weight joins no lane.
    let (version, lane, _, _) = run(&sidecar, &[(":authority", "stock")], None);
    assert_eq!((version.as_deref(), lane), (Some("v2"), None));
}

#[test]
fn lane_traffic_goes_to_its_lanes_version_else_the_baseline_before_rules_and_weights() {
    let sidecar = config(false, false);
    let gray = |host: &'static str| vec![(":authority", host), ("x-canary-lane", "gray")];
    let cases = [
        ("order", Some("v2"), "canary.order.canary.lane"),
        ("pay", Some("v2"), "canary.pay.canary.lane"),
        // No gray stock: its baseline, not the weight-100 canary.
        ("stock", Some("v1"), "canary.stock.baseline.lane"),
        ("ledger", Some("v2"), "canary.ledger.tag.v2.lane"),
    ];
    for (host, want, counter) in cases {
        let (version, lane, remove, count) = run(&sidecar, &gray(host), None);
        assert_eq!(version.as_deref(), want, "{host}");
        // The header is the app's: kept as it is, not rewritten.
        assert_eq!(lane, None, "{host}");
        assert!(remove.is_empty(), "{host}: {remove:?}");
        assert_eq!(count, counter, "{host}");
    }
    // Blue never reaches gray's canary, nor a rule's.
    let blue = [
        (":authority", "order"),
        ("x-canary-lane", "blue"),
        ("x-user-group", "beta"),
    ];
    let (version, _, _, count) = run(&sidecar, &blue, None);
    assert_eq!(version.as_deref(), Some("v1"));
    assert_eq!(count, "canary.order.baseline.lane");
}

#[test]
fn an_unknown_lane_is_no_lane() {
    let sidecar = config(false, true);
    for lane in ["red", "GRAY", "gray,gray", ""] {
        let headers = [(":authority", "pay"), ("x-canary-lane", lane)];
        let (version, written, _, count) = run(&sidecar, &headers, None);
        assert_eq!(version.as_deref(), Some("v1"), "{lane:?}");
        assert_eq!(written, None, "{lane:?}");
        assert_eq!(count, "canary.pay.baseline.weight", "{lane:?}");
    }
    let (version, written, _, _) = run(&sidecar, &[(":authority", "pay")], Some("red"));
    assert_eq!((version.as_deref(), written), (Some("v1"), None));
}

#[test]
fn a_recorded_lane_is_followed_and_written_even_where_no_release_covers_the_host() {
    let sidecar = config(false, true);
    let traced = |host: &'static str| vec![(":authority", host), ("traceparent", TP)];
    let (version, lane, _, count) = run(&sidecar, &traced("pay"), Some("gray"));
    assert_eq!(version.as_deref(), Some("v2"));
    assert_eq!(lane.as_deref(), Some("gray"));
    assert_eq!(count, "canary.pay.canary.lane");
    // A host no release covers: no routing header, but the lane goes on.
    let (version, lane, _, count) = run(&sidecar, &traced("audit"), Some("gray"));
    assert_eq!((version, lane.as_deref()), (None, Some("gray")));
    assert_eq!(count, "canary.no_release");
    // The request's own lane header comes first.
    let mut own = traced("ledger");
    own.push(("x-canary-lane", "blue"));
    let (version, lane, _, _) = run(&sidecar, &own, Some("gray"));
    assert_eq!((version.as_deref(), lane), (Some("v3"), None));
}

#[test]
fn an_edge_strips_the_clients_lane_header_and_never_follows_it() {
    let gateway = config(true, true);
    let spoofed = [(":authority", "pay"), ("x-canary-lane", "gray")];
    let (version, lane, remove, count) = run(&gateway, &spoofed, None);
    assert_eq!((version.as_deref(), lane), (Some("v1"), None));
    assert_eq!(remove, ["x-canary-lane"]);
    assert_eq!(count, "canary.pay.baseline.weight");
    // Joining at the edge overwrites the client's header instead.
    let joining = [
        (":authority", "order"),
        ("x-canary-lane", "blue"),
        ("x-user-group", "beta"),
    ];
    let (_, lane, remove, _) = run(&gateway, &joining, None);
    assert_eq!((lane.as_deref(), remove.len()), (Some("gray"), 0));
    assert_eq!(
        plan_unreadable(&gateway).remove,
        ["x-canary-version", "x-canary-lane"]
    );
    // A sidecar keeps it when its headers cannot be read.
    assert_eq!(
        plan_unreadable(&config(false, true)).remove,
        ["x-canary-version"]
    );
}

#[test]
fn lane_counters_come_last_and_only_with_lanes() {
    let with = config(false, true);
    let names: Vec<CounterName<'_>> = counters(&with).collect();
    let lane_names: Vec<String> = names
        .iter()
        .filter(|c| c.to_string().ends_with(".lane"))
        .map(|c| c.to_string())
        .collect();
    assert_eq!(
        lane_names,
        [
            "canary.order.baseline.lane",
            "canary.order.canary.lane",
            "canary.pay.baseline.lane",
            "canary.pay.canary.lane",
            "canary.stock.baseline.lane",
            "canary.stock.canary.lane",
            "canary.ledger.baseline.lane",
            "canary.ledger.tag.v2.lane",
            "canary.ledger.tag.v3.lane",
        ]
    );
    let first_lane = names
        .iter()
        .position(|c| c.to_string().ends_with(".lane"))
        .unwrap();
    assert!(names[first_lane..]
        .iter()
        .all(|c| c.to_string().ends_with(".lane")));
    for name in &lane_names {
        assert_eq!(
            CounterName::parse(name).map(|c| c.to_string()),
            Some(name.clone())
        );
    }
    assert_eq!(
        CounterName::parse("canary.pay.canary.lane"),
        Some(CounterName::routed("pay", Version::Canary, Reason::Lane))
    );
    // The same releases without lanes: no lane counter at all.
    let without = Config::from_json(
        br#"{"releases":[{"name":"pay","hosts":["pay"],"header":"x-canary-version","baseline":"v1","canary":"v2"}]}"#,
    )
    .unwrap();
    assert!(without.lanes.is_none());
    assert!(counters(&without).all(|c| !c.to_string().ends_with(".lane")));
    let pairs: [(&[u8], &[u8]); 2] = [(b":authority", b"pay"), (b"x-canary-lane", b"gray")];
    let routing = plan(&without, &Request::new(&pairs), ROLL);
    assert!(routing.set_lane.is_none() && routing.remove.is_empty());
}

#[test]
fn bad_lanes_configs_are_refused_with_the_field_and_the_reason() {
    let release = |extra: &str| {
        format!(
            r#"{{"name":"pay","hosts":["pay"],"header":"x-canary-version","baseline":"v1","canary":"v2"{extra}}}"#
        )
    };
    let cases: Vec<(String, &str, &str)> = vec![
        (
            format!(r#"{{"releases":[{}]}}"#, release(r#","lane":"gray""#)),
            "lanes",
            "is required when a canary names a lane",
        ),
        (
            format!(r#"{{"lanes":{{}},"releases":[{}]}}"#, release(r#","lane":"gray""#)),
            "lanes.header",
            "is required",
        ),
        (
            format!(r#"{{"lanes":{{"header":"x-l"}},"releases":[{}]}}"#, release(r#","lane":"Gray""#)),
            "releases[0].lane",
            "not a valid lane name",
        ),
        (
            format!(r#"{{"lanes":{{"header":"x-canary-version"}},"releases":[{}]}}"#, release(r#","lane":"gray""#)),
            "lanes.header",
            "a header of its own",
        ),
        (
            format!(r#"{{"lanes":{{"header":"traceparent"}},"releases":[{}]}}"#, release(r#","lane":"gray""#)),
            "lanes.header",
            "a header of its own",
        ),
        (
            format!(r#"{{"lanes":{{"header":"x-l","trace_headers":["uber-trace-id"]}},"releases":[{}]}}"#, release(r#","lane":"gray""#)),
            "lanes.trace_headers",
            "traceparent, x-b3-traceid and b3",
        ),
        (
            format!(r#"{{"lanes":{{"header":"x-l","trace_headers":["b3","b3"]}},"releases":[{}]}}"#, release(r#","lane":"gray""#)),
            "lanes.trace_headers",
            "at most once",
        ),
        (
            format!(r#"{{"lanes":{{"header":"x-l","trace_headers":[]}},"releases":[{}]}}"#, release(r#","lane":"gray""#)),
            "lanes.trace_headers",
            "is empty",
        ),
        (
            format!(r#"{{"lanes":{{"header":"x-l","ttl_seconds":0.5}},"releases":[{}]}}"#, release(r#","lane":"gray""#)),
            "lanes.ttl_seconds",
            "whole number of seconds",
        ),
        (
            format!(r#"{{"lanes":{{"header":"x-l","edge":"yes"}},"releases":[{}]}}"#, release(r#","lane":"gray""#)),
            "lanes.edge",
            "expected true or false",
        ),
        (
            format!(r#"{{"lanes":{{"header":"x-l","color":1}},"releases":[{}]}}"#, release(r#","lane":"gray""#)),
            "lanes.color",
            "unknown field",
        ),
        (
            r#"{"lanes":{"header":"x-l"},"releases":[{"name":"l","hosts":["l"],"header":"x-v","baseline":"v1","canaries":[{"value":"v2","lane":"gray"},{"value":"v3","lane":"gray"}]}]}"#.to_owned(),
            "releases[0].canaries[1].lane",
            "one version of a release",
        ),
        (
            r#"{"lanes":{"header":"x-l"},"releases":[{"name":"l","hosts":["l"],"header":"x-v","baseline":"v1","lane":"gray","canaries":[{"value":"v2"}]}]}"#.to_owned(),
            "releases[0].lane",
            "each canary has its own",
        ),
    ];
    for (json, path, message) in cases {
        let error = Config::from_json(json.as_bytes()).unwrap_err();
        assert_eq!(error.path, path, "{json}");
        assert!(error.message.contains(message), "{json}: {error}");
    }
    // A lanes block with no lane named is inert; Istio's 60.0 is 60.
    let inert = format!(
        r#"{{"lanes":{{"header":"x-l"}},"releases":[{}]}}"#,
        release("")
    );
    assert!(Config::from_json(inert.as_bytes()).unwrap().lanes.is_none());
    let whole = format!(
        r#"{{"lanes":{{"header":"x-l","ttl_seconds":60.0}},"releases":[{}]}}"#,
        release(r#","lane":"gray""#)
    );
    let lanes = Config::from_json(whole.as_bytes()).unwrap().lanes.unwrap();
    assert_eq!(lanes.table.ttl_seconds(), 60);
    assert!(!lanes.edge && !lanes.is_loose());
}
