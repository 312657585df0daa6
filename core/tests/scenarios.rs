//! The decision as named scenarios: request headers in, routing header out.
//! The README's "Expected behaviour" table mirrors these; the end-to-end
//! tests replay the same kinds of request through a real Envoy.

use canary_core::{bucket, decide, Config, Reason, Request};
#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

const PAY: &str = r#"{"releases":[
  {"name":"pay-service","hosts":["pay-service","*.pay.example.com"],"header":"x-canary-cluster",
   "baseline":"pay-v1","canary":"pay-v2","path":{"prefix":"/pay"},"mode":"all",
   "conditions":[{"header":"env","op":"equals","value":"test"},{"cookie":"beta","op":"present"}],
   "weight":20,"sticky":{"header":"x-user-id"}},
  {"name":"search","hosts":["search"],"header":"x-canary-version","baseline":"v1","canary":"v2",
   "mode":"any","conditions":[{"query":"uid","op":"in","values":["1001","1002"]},{"header":"x-beta","op":"present"}]},
  {"name":"shop","header":"x-canary-version","baseline":"v1","canary":"v2","weight":100}
]}"#;

/// The routing header value and reason, or None when no release covers it.
type Expected = Option<(&'static str, Reason)>;

struct Scenario {
    name: &'static str,
    headers: &'static [(&'static str, &'static str)],
    roll: u32,
    expected: Expected,
}

const HIGH_ROLL: u32 = 9_999;
const LOW_ROLL: u32 = 0;

fn run(config: &Config, scenario: &Scenario) -> Option<(String, Reason)> {
    let pairs: Vec<(&[u8], &[u8])> = scenario
        .headers
        .iter()
        .map(|(n, v)| (n.as_bytes(), v.as_bytes()))
        .collect();
    decide(config, &Request::new(&pairs), scenario.roll).map(|o| (o.value().to_string(), o.reason))
}

#[test]
#[rustfmt::skip] // One scenario per line reads as a table.
fn pay_service_scenarios() {
    use Reason::*;
    let config = Config::from_json(PAY.as_bytes()).unwrap();
    let scenarios = [
        Scenario { name: "rule hit: path, header and cookie", headers: &[(":authority", "pay-service"), (":path", "/pay/order"), ("env", "test"), ("cookie", "beta=1")], roll: HIGH_ROLL, expected: Some(("pay-v2", Rule)) },
        Scenario { name: "ALL: one condition missing falls to the weight", headers: &[(":authority", "pay-service"), (":path", "/pay/order"), ("env", "test")], roll: HIGH_ROLL, expected: Some(("pay-v1", Weight)) },
        Scenario { name: "path outside the rule's scope", headers: &[(":authority", "pay-service"), (":path", "/refund"), ("env", "test"), ("cookie", "beta=1")], roll: HIGH_ROLL, expected: Some(("pay-v1", Weight)) },
        Scenario { name: "query string is not part of the path", headers: &[(":authority", "pay-service"), (":path", "/pay?x=/refund"), ("env", "test"), ("cookie", "beta=1")], roll: HIGH_ROLL, expected: Some(("pay-v2", Rule)) },
        Scenario { name: "header value is case-sensitive", headers: &[(":authority", "pay-service"), (":path", "/pay"), ("env", "Test"), ("cookie", "beta=1")], roll: HIGH_ROLL, expected: Some(("pay-v1", Weight)) },
        Scenario { name: "header name is not", headers: &[(":authority", "pay-service"), (":path", "/pay"), ("ENV", "test"), ("cookie", "beta=1")], roll: HIGH_ROLL, expected: Some(("pay-v2", Rule)) },
        Scenario { name: "repeated header is joined with a comma", headers: &[(":authority", "pay-service"), (":path", "/pay"), ("env", "test"), ("env", "test"), ("cookie", "beta=1")], roll: HIGH_ROLL, expected: Some(("pay-v1", Weight)) },
        Scenario { name: "low roll goes to the canary by weight", headers: &[(":authority", "pay-service"), (":path", "/")], roll: LOW_ROLL, expected: Some(("pay-v2", Weight)) },
        Scenario { name: "roll just under 20% is canary", headers: &[(":authority", "pay-service"), (":path", "/")], roll: 1_999, expected: Some(("pay-v2", Weight)) },
        Scenario { name: "roll at 20% is baseline", headers: &[(":authority", "pay-service"), (":path", "/")], roll: 2_000, expected: Some(("pay-v1", Weight)) },
        Scenario { name: "port and case in the authority are ignored", headers: &[(":authority", "PAY-SERVICE:8080"), (":path", "/")], roll: LOW_ROLL, expected: Some(("pay-v2", Weight)) },
        Scenario { name: "wildcard host", headers: &[(":authority", "eu.pay.example.com"), (":path", "/")], roll: HIGH_ROLL, expected: Some(("pay-v1", Weight)) },
        Scenario { name: "any: query in list", headers: &[(":authority", "search"), (":path", "/q?uid=1002")], roll: HIGH_ROLL, expected: Some(("v2", Rule)) },
        Scenario { name: "any: header present", headers: &[(":authority", "search"), (":path", "/q"), ("x-beta", "")], roll: HIGH_ROLL, expected: Some(("v2", Rule)) },
        Scenario { name: "any: neither, weight 0 never canary", headers: &[(":authority", "search"), (":path", "/q?uid=1003")], roll: LOW_ROLL, expected: Some(("v1", Weight)) },
        Scenario { name: "catch-all at weight 100 always canary", headers: &[(":authority", "anything"), (":path", "/")], roll: HIGH_ROLL, expected: Some(("v2", Weight)) },
        Scenario { name: "no authority falls to the catch-all", headers: &[(":path", "/")], roll: HIGH_ROLL, expected: Some(("v2", Weight)) },
    ];
    let mut failures = Vec::new();
    for scenario in &scenarios {
        let got = run(&config, scenario);
        let want = scenario.expected.map(|(v, r)| (v.to_string(), r));
        if got != want {
            failures.push(format!("{}: want {want:?}, got {got:?}", scenario.name));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn host_no_release_covers() {
    let config = Config::from_json(
        br#"{"releases":[{"name":"p","hosts":["pay"],"header":"x","baseline":"a","canary":"b","weight":100}]}"#,
    )
    .unwrap();
    let pairs: [(&[u8], &[u8]); 2] = [(b":authority", b"other"), (b"x", b"b")];
    assert!(decide(&config, &Request::new(&pairs), 0).is_none());
    assert_eq!(config.routing_headers(), ["x".to_string()]);
}

#[test]
fn sticky_key_decides_by_its_bucket() {
    let config = Config::from_json(PAY.as_bytes()).unwrap();
    let weight_bp = config.releases[0].canaries.first().weight_bp;
    for user in 0..500 {
        let key = format!("user-{user}");
        let pairs: [(&[u8], &[u8]); 3] = [
            (b":authority", b"pay-service"),
            (b":path", b"/"),
            (b"x-user-id", key.as_bytes()),
        ];
        let want = if bucket("pay-service", key.as_bytes()) < weight_bp {
            "pay-v2"
        } else {
            "pay-v1"
        };
        // The roll must not matter once a sticky key is present.
        for roll in [LOW_ROLL, HIGH_ROLL] {
            let outcome = decide(&config, &Request::new(&pairs), roll).unwrap();
            assert_eq!(
                (outcome.value(), outcome.reason),
                (want, Reason::Sticky),
                "{key} roll {roll}"
            );
        }
    }
}

#[test]
fn raising_the_weight_never_moves_a_sticky_user_back() {
    let at = |weight: u32| {
        let json = PAY.replace("\"weight\":20", &format!("\"weight\":{weight}"));
        Config::from_json(json.as_bytes()).unwrap()
    };
    let weights = [0, 1, 5, 10, 20, 30, 50, 75, 100];
    let configs: Vec<Config> = weights.iter().map(|&w| at(w)).collect();
    for user in 0..2_000 {
        let key = format!("u{user}");
        let pairs: [(&[u8], &[u8]); 2] = [
            (b":authority", b"pay-service"),
            (b"x-user-id", key.as_bytes()),
        ];
        let mut was_canary = false;
        for (config, weight) in configs.iter().zip(weights) {
            let canary = decide(config, &Request::new(&pairs), HIGH_ROLL)
                .unwrap()
                .value()
                == "pay-v2";
            assert!(
                canary || !was_canary,
                "{key} moved back to baseline at weight {weight}"
            );
            was_canary = canary;
        }
        assert!(was_canary, "{key} is not on the canary at weight 100");
    }
}

#[test]
fn weight_split_follows_the_roll_exactly() {
    // Every roll 0..10000 once: exactly weight_bp of them go to the canary.
    let config = Config::from_json(PAY.as_bytes()).unwrap();
    let pairs: [(&[u8], &[u8]); 1] = [(b":authority", b"pay-service")];
    let canary = (0..canary_core::BUCKETS)
        .filter(|&roll| {
            decide(&config, &Request::new(&pairs), roll)
                .unwrap()
                .value()
                == "pay-v2"
        })
        .count();
    assert_eq!(canary, 2_000);
}
