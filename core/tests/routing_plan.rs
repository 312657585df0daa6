//! The routing plan as a table: request headers in; the routing header
//! written, the client's routing headers removed and the counter counted
//! out. This is the filter's anti-spoofing, decided without Envoy.

use canary_core::{counters, plan, plan_unreadable, Config, CounterSlot, Reason, Request, Version};
#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

/// Three releases, two routing headers: `pay` writes x-canary-cluster,
/// `search` and `shop` both write x-canary-version. No catch-all, so other
/// hosts are uncovered.
const CONFIG: &str = r#"{"releases":[
  {"name":"pay","hosts":["pay"],"header":"X-Canary-Cluster","baseline":"pay-v1","canary":"pay-v2",
   "conditions":[{"header":"env","op":"equals","value":"test"}],"weight":20,"sticky":{"header":"x-user-id"}},
  {"name":"search","hosts":["search"],"header":"x-canary-version","baseline":"v1","canary":"v2","weight":50},
  {"name":"shop_v2","hosts":["shop"],"header":"x-canary-version","baseline":"s1","canary":"s2","weight":100}
]}"#;

fn config() -> Result<Config, canary_core::ConfigError> {
    Config::from_json(CONFIG.as_bytes())
}

/// What the shell is told to do, in plain words.
#[derive(Debug, PartialEq, Eq)]
struct Done {
    set: Option<(String, String)>,
    remove: Vec<String>,
    count: Option<String>,
}

fn run(config: &Config, headers: &[(&str, &str)], roll: u32) -> Done {
    let pairs: Vec<(&[u8], &[u8])> = headers
        .iter()
        .map(|(n, v)| (n.as_bytes(), v.as_bytes()))
        .collect();
    let routing = plan(config, &Request::new(&pairs), roll);
    Done {
        set: routing
            .set
            .map(|s| (s.name.to_string(), s.value.to_string())),
        remove: routing.remove.iter().map(|h| h.to_string()).collect(),
        count: routing.count.map(|slot| counter_at(config, slot)),
    }
}

fn counter_at(config: &Config, slot: CounterSlot) -> String {
    counters(config)
        .nth(slot.index())
        .map(|c| c.to_string())
        .unwrap_or_else(|| format!("no counter at slot {}", slot.index()))
}

fn done(set: Option<(&str, &str)>, remove: &[&str], count: &str) -> Done {
    Done {
        set: set.map(|(n, v)| (n.to_string(), v.to_string())),
        remove: remove.iter().map(|h| h.to_string()).collect(),
        count: Some(count.to_string()),
    }
}

/// A case: its name, the request's headers, the roll, what is done.
type Case = (&'static str, Vec<(&'static str, &'static str)>, u32, Done);

const HIGH: u32 = 9_999;
const LOW: u32 = 0;
const CLUSTER: &str = "x-canary-cluster";
const VERSION: &str = "x-canary-version";

#[test]
fn routing_plans() {
    let config = config().unwrap();
    let pay_canary = Some((CLUSTER, "pay-v2"));
    let pay_baseline = Some((CLUSTER, "pay-v1"));
    // (name, headers, roll, expected)
    let cases: Vec<Case> = vec![
        (
            "rule hit, nothing spoofed",
            vec![(":authority", "pay"), ("env", "test")],
            HIGH,
            done(pay_canary, &[], "canary.pay.canary.rule"),
        ),
        (
            "the release's own header spoofed: overwritten, not removed",
            vec![(":authority", "pay"), (CLUSTER, "pay-v2")],
            HIGH,
            done(pay_baseline, &[], "canary.pay.baseline.weight"),
        ),
        (
            "another release's header spoofed in mixed case: removed",
            vec![(":authority", "pay:8080"), ("X-Canary-VERSION", "v2")],
            LOW,
            done(pay_canary, &[VERSION], "canary.pay.canary.weight"),
        ),
        (
            "repeated and mixed-case routing headers: each removed once",
            vec![
                (":authority", "Pay"),
                ("x-canary-version", "v2"),
                ("X-CANARY-VERSION", "v2"),
                ("X-Canary-Cluster", "pay-v2"),
                ("x-canary-cluster", "pay-v2"),
            ],
            HIGH,
            done(pay_baseline, &[VERSION], "canary.pay.baseline.weight"),
        ),
        (
            "sticky key decides, by its bucket",
            vec![(":authority", "pay"), ("x-user-id", "ivan")],
            HIGH,
            // README: bucket("pay", "ivan") is 520, below the weight's 2000.
            done(pay_canary, &[], "canary.pay.canary.sticky"),
        ),
        (
            "a second release with another header: the first's is removed",
            vec![(":authority", "search"), (CLUSTER, "pay-v2")],
            HIGH,
            done(
                Some((VERSION, "v1")),
                &[CLUSTER],
                "canary.search.baseline.weight",
            ),
        ),
        (
            "a release sharing a header with another: overwritten",
            vec![(":authority", "shop"), (VERSION, "v1")],
            HIGH,
            done(Some((VERSION, "s2")), &[], "canary.shop_v2.canary.weight"),
        ),
        (
            "uncovered host: every routing header sent is removed",
            vec![
                (":authority", "other"),
                (VERSION, "v2"),
                ("X-Canary-Cluster", "pay-v2"),
            ],
            LOW,
            done(None, &[CLUSTER, VERSION], "canary.no_release"),
        ),
        (
            "uncovered host, no routing header sent",
            vec![(":authority", "other"), ("env", "test")],
            LOW,
            done(None, &[], "canary.no_release"),
        ),
        (
            "no host at all",
            vec![(VERSION, "v2")],
            LOW,
            done(None, &[VERSION], "canary.no_release"),
        ),
        (
            "header names that only resemble routing headers stay",
            vec![
                (":authority", "pay"),
                ("x-canary-version2", "v2"),
                ("x-canary", "v2"),
            ],
            HIGH,
            done(pay_baseline, &[], "canary.pay.baseline.weight"),
        ),
    ];
    for (name, headers, roll, want) in cases {
        assert_eq!(run(&config, &headers, roll), want, "{name}");
    }
}

#[test]
fn unreadable_headers_remove_every_routing_header_and_count_nothing() {
    let config = config().unwrap();
    let routing = plan_unreadable(&config);
    assert_eq!(routing.remove, [CLUSTER, VERSION]);
    assert!(routing.set.is_none());
    assert!(routing.outcome.is_none());
    assert_eq!(routing.count, None);
}

#[test]
fn the_plan_carries_the_outcome_for_the_log_line() {
    let config = config().unwrap();
    let pairs: [(&[u8], &[u8]); 2] = [(b":authority", b"pay"), (b"env", b"test")];
    let routing = plan(&config, &Request::new(&pairs), HIGH);
    let line = routing.outcome.map(|o| o.to_string());
    assert_eq!(
        line.as_deref(),
        Some("release=pay version=canary reason=rule x-canary-cluster=pay-v2")
    );
}

#[test]
fn counter_slots_cover_the_table_without_gaps() {
    let config = config().unwrap();
    let table: Vec<String> = counters(&config).map(|c| c.to_string()).collect();
    assert_eq!(table.len(), 3 * CounterSlot::PER_RELEASE + 1);
    assert_eq!(CounterSlot::PER_RELEASE, 6);
    for (index, release) in config.releases.iter().enumerate() {
        for version in Version::ALL {
            for reason in Reason::ALL {
                let slot = CounterSlot::routed(index, version, reason);
                let want = format!(
                    "canary.{}.{}.{}",
                    release.name,
                    version.as_str(),
                    reason.as_str()
                );
                assert_eq!(table.get(slot.index()), Some(&want));
            }
        }
    }
    let last = CounterSlot::no_release(&config).index();
    assert_eq!(last, table.len() - 1);
    assert_eq!(table.last().map(String::as_str), Some("canary.no_release"));
    // Distinct slots: every name once.
    let mut sorted = table.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted.len(), table.len());
}
