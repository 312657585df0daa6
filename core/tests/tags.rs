//! Tag routing: a release with several canaries (`canaries`). Its config
//! errors, its decision (rule priority, weights, sticky layout), and its
//! counters; and that `canaries` with one element is the two-version form.

#![allow(clippy::panic, clippy::unwrap_used, clippy::indexing_slicing)] // A test file: a failed expectation panics.

use canary_core::{
    bucket, counters, decide, landing, plan, Config, CounterName, CounterSlot, Reason, Request,
    Version, BUCKETS,
};
#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

/// The issue's example, with a third canary by regex path.
const THREE: &str = r#"{"releases":[{"name":"pay","hosts":["pay"],"header":"x-canary-version","baseline":"v1",
  "canaries":[
    {"value":"v2","path":{"prefix":"/pay"},"mode":"any","conditions":[{"header":"env","op":"equals","value":"test"},{"header":"x-debug","op":"present"}],"weight":10},
    {"value":"v3","conditions":[{"header":"x-tester","op":"present"}],"weight":5.5},
    {"value":"v4","path":{"regex":"/pay/[0-9]+"},"conditions":[{"header":"x-beta","op":"regex","value":"b[0-9]+"},{"header":"x-region","op":"equals","value":"eu"}],"weight":20}
  ],
  "sticky":{"header":"x-user-id"}}]}"#;

fn config(json: &str) -> Config {
    match Config::from_json(json.as_bytes()) {
        Ok(config) => config,
        Err(e) => panic!("refused: {e}\n{json}"),
    }
}

fn error_of(json: &str) -> String {
    match Config::from_json(json.as_bytes()) {
        Ok(_) => panic!("accepted: {json}"),
        Err(e) => e.to_string(),
    }
}

/// The value the request is routed to, and why.
fn route(config: &Config, path: &str, headers: &[(&str, &str)], roll: u32) -> (String, Reason) {
    let mut pairs: Vec<(&[u8], &[u8])> = vec![(b":authority", b"pay"), (b":path", path.as_bytes())];
    pairs.extend(headers.iter().map(|(n, v)| (n.as_bytes(), v.as_bytes())));
    let outcome = decide(config, &Request::new(&pairs), roll).unwrap();
    (outcome.value().to_string(), outcome.reason)
}

fn release_with(canaries: &str, extra: &str) -> String {
    format!(
        r#"{{"releases":[{{"name":"pay","header":"x-v","baseline":"v1","canaries":[{canaries}]{extra}}}]}}"#
    )
}

#[test]
#[rustfmt::skip] // One scenario per line reads as a table.
fn each_bad_tagged_config_gets_its_message() {
    let nine: Vec<String> = (2..=10).map(|i| format!(r#"{{"value":"v{i}"}}"#)).collect();
    let cases: Vec<(&str, String, &str)> = vec![
        ("both forms", r#"{"releases":[{"name":"p","header":"x","baseline":"v1","canary":"v2","canaries":[{"value":"v3"}]}]}"#.into(),
            "releases[0]: set either \"canary\" (one canary, with the release's rule and weight) or \"canaries\" (a list), not both"),
        ("neither form", r#"{"releases":[{"name":"p","header":"x","baseline":"v1"}]}"#.into(), "releases[0].canary: is required (or \"canaries\""),
        ("empty list", release_with("", ""), "releases[0].canaries: at least one canary is required"),
        ("more than 8", release_with(&nine.join(","), ""), "releases[0].canaries: 9 canaries; the limit is 8"),
        ("duplicate values", release_with(r#"{"value":"v2"},{"value":"v3"},{"value":"v2"}"#, ""),
            "releases[0].canaries[2].value: \"v2\" is used twice (counting '-' and '_' as one, as Prometheus does); canary values must be unique"),
        ("equal for Prometheus", release_with(r#"{"value":"v-2"},{"value":"v_2"}"#, ""), "releases[0].canaries[1].value: \"v-2\" is used twice"),
        ("value is the baseline", release_with(r#"{"value":"v2"},{"value":"v1"}"#, ""), "releases[0].canaries[1].value: must differ from baseline (both are \"v1\")"),
        ("sum over 100", release_with(r#"{"value":"v2","weight":60},{"value":"v3","weight":40.5}"#, ""),
            "releases[0].canaries: the weights sum to 100.5%; they may sum to at most 100%"),
        ("missing value", release_with(r#"{"weight":1}"#, ""), "releases[0].canaries[0].value: is required"),
        ("value names metrics", release_with(r#"{"value":"v2.1"}"#, ""),
            "releases[0].canaries[0].value: \"v2.1\" is not a valid canary value here: use 1 to 64 of a-z, A-Z, 0-9, '-' and '_' (it names metrics)"),
        ("value with space", release_with(r#"{"value":"v 2"}"#, ""), "releases[0].canaries[0].value: \"v 2\" must be non-empty visible ASCII"),
        ("release-level weight", release_with(r#"{"value":"v2"}"#, r#","weight":5"#),
            "releases[0].weight: with \"canaries\", each canary has its own \"weight\"; move it into the canary it belongs to"),
        ("release-level conditions", release_with(r#"{"value":"v2"}"#, r#","conditions":[]"#), "releases[0].conditions: with \"canaries\", each canary has its own"),
        ("bad canary weight", release_with(r#"{"value":"v2","weight":1.001}"#, ""), "releases[0].canaries[0].weight: 1.001 has more than two decimals"),
        ("bad canary mode", release_with(r#"{"value":"v2","mode":"some"}"#, ""), "releases[0].canaries[0].mode: unknown mode \"some\""),
        ("bad canary op", release_with(r#"{"value":"v2"},{"value":"v3","conditions":[{"header":"a","op":"eq"}]}"#, ""), "releases[0].canaries[1].conditions[0].op: unknown operator \"eq\""),
        ("bad canary path", release_with(r#"{"value":"v2","path":{"prefix":"pay"}}"#, ""), "releases[0].canaries[0].path.prefix: \"pay\" must start with '/'"),
        ("typo'd canary field", release_with(r#"{"value":"v2","wieght":1}"#, ""),
            "releases[0].canaries[0].wieght: unknown field \"wieght\", expected one of value, path, mode, conditions, weight"),
    ];
    let mut failures = Vec::new();
    for (name, json, want) in &cases {
        let got = error_of(json);
        if !got.starts_with(want) {
            failures.push(format!("{name}:\n  want prefix: {want}\n  got:         {got}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn eight_canaries_summing_to_100_are_accepted() {
    let eight: Vec<String> = (2..=9)
        .map(|i| format!(r#"{{"value":"v{i}","weight":12.5}}"#))
        .collect();
    let config = config(&release_with(&eight.join(","), ""));
    assert_eq!(config.releases[0].canaries.len(), 8);
    // Weights summing to 100 never reach the baseline.
    for roll in 0..BUCKETS {
        let (value, _) = route(&config, "/", &[], roll);
        assert_ne!(value, "v1", "roll {roll}");
    }
}

#[test]
fn the_first_canary_whose_rule_matches_takes_the_request() {
    let config = config(THREE);
    type Case = (
        &'static str,
        &'static [(&'static str, &'static str)],
        u32,
        &'static str,
        Reason,
    );
    let cases: [Case; 10] = [
        // v2 is "any" of two conditions, after its path.
        ("/pay", &[("env", "test")], 0, "v2", Reason::Rule),
        ("/pay", &[("x-debug", "1")], 0, "v2", Reason::Rule),
        ("/shop", &[("env", "test")], 5000, "v1", Reason::Weight),
        ("/shop", &[("x-tester", "1")], 0, "v3", Reason::Rule),
        // Both v2's and v3's rules match: the first in the list wins.
        (
            "/pay",
            &[("env", "test"), ("x-tester", "1")],
            9999,
            "v2",
            Reason::Rule,
        ),
        // v4 is "all" of a regex path and two conditions.
        (
            "/pay/12",
            &[("x-beta", "b7"), ("x-region", "eu")],
            0,
            "v4",
            Reason::Rule,
        ),
        ("/pay/12", &[("x-beta", "b7")], 5000, "v1", Reason::Weight),
        (
            "/pay/1x",
            &[("x-beta", "b7"), ("x-region", "eu")],
            5000,
            "v1",
            Reason::Weight,
        ),
        (
            "/pay/12",
            &[("x-beta", "b7"), ("x-region", "eu"), ("x-debug", "")],
            0,
            "v2",
            Reason::Rule,
        ),
        // No rule: roll 9999 is in the top slice, which is v3's (5.5%).
        ("/shop", &[], 9999, "v3", Reason::Weight),
    ];
    for (path, headers, roll, want, reason) in cases {
        assert_eq!(
            route(&config, path, headers, roll),
            (want.to_string(), reason),
            "{path} {headers:?}"
        );
    }
}

#[test]
fn all_mode_per_canary() {
    // v3's rule is "all" of a path and a header; v2 has none.
    let json = release_with(
        r#"{"value":"v2","weight":0},{"value":"v3","path":{"exact":"/beta"},"conditions":[{"header":"x-tester","op":"present"}]}"#,
        "",
    );
    let config = config(&json);
    assert_eq!(
        route(&config, "/beta", &[("x-tester", "1")], 0).0,
        "v3".to_string()
    );
    assert_eq!(route(&config, "/beta", &[], 0).0, "v1");
    assert_eq!(route(&config, "/", &[("x-tester", "1")], 0).0, "v1");
}

#[test]
fn rolls_land_by_the_layout() {
    let config = config(THREE);
    // v2 [0, 1000), baseline [1000, 7450), v4 [7450, 9450), v3 [9450, 10000).
    for (roll, want) in [
        (0, "v2"),
        (999, "v2"),
        (1000, "v1"),
        (7449, "v1"),
        (7450, "v4"),
        (9449, "v4"),
        (9450, "v3"),
        (9999, "v3"),
    ] {
        assert_eq!(route(&config, "/", &[], roll).0, want, "roll {roll}");
    }
}

#[test]
fn one_canary_in_the_list_is_the_two_version_form() {
    let rule = r#""path":{"prefix":"/pay"},"mode":"any","conditions":[{"header":"env","op":"equals","value":"test"}],"weight":37.25"#;
    let two = config(&format!(
        r#"{{"releases":[{{"name":"pay","header":"x-v","baseline":"v1","canary":"v2",{rule},"sticky":{{"header":"x-user-id"}}}}]}}"#
    ));
    let listed = config(&release_with(
        &format!(r#"{{"value":"v2",{rule}}}"#),
        r#","sticky":{"header":"x-user-id"}"#,
    ));
    for i in 0..2000u32 {
        let key = format!("user-{i}");
        let path = if i % 7 == 0 { "/pay/x" } else { "/x" };
        let env = if i % 11 == 0 { "test" } else { "prod" };
        let sticky: &[(&str, &str)] = &[("env", env), ("x-user-id", &key)];
        let plain: &[(&str, &str)] = &[("env", env)];
        for headers in [sticky, plain] {
            let roll = (i * 7919) % BUCKETS;
            assert_eq!(
                route(&two, path, headers, roll),
                route(&listed, path, headers, roll),
                "{path} {headers:?} {roll}"
            );
        }
    }
}

#[test]
fn sticky_keys_follow_the_layout_and_never_fall_back_to_the_baseline() {
    // Raise each weight in turn; over 1,000 keys, none moves to the
    // baseline, and with two canaries only baseline keys move, into the
    // raised one.
    let layouts: [&[u32]; 2] = [&[1000, 500], &[1000, 500, 800]];
    for weights in layouts {
        for raised in 0..weights.len() {
            let mut after = weights.to_vec();
            after[raised] += 1200;
            let before_config = config(&weighted(weights));
            let after_config = config(&weighted(&after));
            for i in 0..1000 {
                let key = format!("k{i}");
                let headers = [("x-user-id", key.as_str())];
                let (was, _) = route(&before_config, "/", &headers, 0);
                let (now, reason) = route(&after_config, "/", &headers, BUCKETS - 1);
                assert_eq!(reason, Reason::Sticky);
                let b = bucket("pay", key.as_bytes());
                let want = landing(b, after.iter().copied())
                    .map_or("v1".to_string(), |c| format!("v{}", c + 2));
                assert_eq!(now, want, "{key} bucket {b}");
                if was != "v1" {
                    assert_ne!(
                        now, "v1",
                        "{key} moved to the baseline ({weights:?} -> {after:?})"
                    );
                }
                if weights.len() == 2 && was != now {
                    assert_eq!(
                        (was.as_str(), now.clone()),
                        ("v1", format!("v{}", raised + 2))
                    );
                }
            }
        }
    }
}

fn weighted(weights_bp: &[u32]) -> String {
    let canaries: Vec<String> = weights_bp
        .iter()
        .enumerate()
        .map(|(i, w)| {
            format!(
                r#"{{"value":"v{}","weight":{}}}"#,
                i + 2,
                f64::from(*w) / 100.0
            )
        })
        .collect();
    release_with(&canaries.join(","), r#","sticky":{"header":"x-user-id"}"#)
}

#[test]
fn counters_are_named_by_value_and_slots_cover_the_table() {
    let json = r#"{"releases":[
      {"name":"shop","hosts":["shop"],"header":"x-v","baseline":"s1","canary":"s2","weight":50},
      {"name":"pay","hosts":["pay"],"header":"x-v","baseline":"v1","canaries":[{"value":"v2","weight":10},{"value":"v3","weight":10},{"value":"pay-v4","weight":10}]}
    ]}"#;
    let config = config(json);
    let table: Vec<String> = counters(&config).map(|c| c.to_string()).collect();
    let want: Vec<String> = [
        "canary.shop.baseline.rule",
        "canary.shop.baseline.sticky",
        "canary.shop.baseline.weight",
        "canary.shop.canary.rule",
        "canary.shop.canary.sticky",
        "canary.shop.canary.weight",
        "canary.pay.baseline.rule",
        "canary.pay.baseline.sticky",
        "canary.pay.baseline.weight",
        "canary.pay.tag.v2.rule",
        "canary.pay.tag.v2.sticky",
        "canary.pay.tag.v2.weight",
        "canary.no_release",
        "canary.pay.tag.v3.rule",
        "canary.pay.tag.v3.sticky",
        "canary.pay.tag.v3.weight",
        "canary.pay.tag.pay-v4.rule",
        "canary.pay.tag.pay-v4.sticky",
        "canary.pay.tag.pay-v4.weight",
    ]
    .map(String::from)
    .to_vec();
    assert_eq!(table, want);
    assert_eq!(CounterSlot::no_release(&config).index(), 12);
    // Each roll's plan counts the counter of the version it routed to.
    for roll in [0, 1500, 2500, 5000] {
        let pairs: [(&[u8], &[u8]); 1] = [(b":authority", b"pay")];
        let routing = plan(&config, &Request::new(&pairs), roll);
        let outcome = routing.outcome.unwrap();
        let slot = routing.count.unwrap().index();
        let name = CounterName::parse(&table[slot]).unwrap();
        let want = match outcome.version {
            Version::Baseline => CounterName::routed("pay", Version::Baseline, Reason::Weight),
            Version::Canary => CounterName::tagged("pay", outcome.value(), Reason::Weight),
        };
        assert_eq!(name, want, "roll {roll}");
        assert_eq!(
            outcome.version_name(),
            if outcome.version == Version::Baseline {
                "baseline"
            } else {
                outcome.value()
            }
        );
    }
}

#[test]
fn tagged_names_round_trip() {
    for (release, value) in [
        ("pay", "v2"),
        ("a-b", "c_d"),
        ("tag", "tag"),
        ("x", "canary"),
    ] {
        for reason in Reason::ALL {
            let counter = CounterName::tagged(release, value, reason);
            let name = counter.to_string();
            assert_eq!(CounterName::parse(&name), Some(counter), "{name}");
            let stats = counter.stats_name();
            assert_eq!(CounterName::parse_stats(&stats), Some(counter), "{stats}");
        }
    }
    let prometheus = CounterName::tagged("pay-service", "pay-v3", Reason::Sticky).prometheus_name();
    assert_eq!(prometheus, "canary_pay_service_tag_pay_v3_sticky");
    assert_eq!(
        CounterName::parse_prometheus(&prometheus),
        Some(CounterName::tagged("pay_service", "pay_v3", Reason::Sticky))
    );
    // Two readings: refused rather than guessed.
    assert_eq!(
        CounterName::parse_prometheus("canary_a_tag_tag_b_rule"),
        None
    );
    for garbage in [
        "canary.pay.tag.v2",
        "canary.pay.tag..rule",
        "canary.pay.tags.v2.rule",
        "canary.pay.tag.v.2.rule",
        "canary..tag.v2.rule",
    ] {
        assert_eq!(CounterName::parse(garbage), None, "{garbage}");
    }
}

#[test]
fn debug_line_names_the_tagged_version() {
    let config = config(THREE);
    let pairs: [(&[u8], &[u8]); 2] = [(b":authority", b"pay"), (b"x-tester", b"1")];
    let outcome = decide(&config, &Request::new(&pairs), 0).unwrap();
    assert_eq!(
        outcome.to_string(),
        "release=pay version=v3 reason=rule x-canary-version=v3"
    );
}
