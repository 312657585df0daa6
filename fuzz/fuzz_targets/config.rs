//! Arbitrary bytes as a plugin config. Whatever parses must parse the same
//! way again, and its decisions on a few requests must keep the contract:
//! a covered request gets its release's baseline or canary, the rule means
//! the canary, and weights 0 and 100 are absolute outside the rule.
#![no_main]

use canary_core::{decide, Config, Outcome, Reason, Request, Version, BUCKETS};
use libfuzzer_sys::fuzz_target;

type Pairs = &'static [(&'static [u8], &'static [u8])];

const REQUESTS: &[Pairs] = &[
    &[
        (b":authority", b"pay-service"),
        (b":path", b"/pay/order?uid=1001"),
        (b"env", b"test"),
    ],
    &[
        (b":authority", b"PAY.example.com:8443"),
        (b":path", b"/"),
        (b"cookie", b"beta=1; uid=7"),
    ],
    &[
        (b":authority", b"search"),
        (b":path", b"/q?q=%61b&uid=1002"),
        (b"x-user-id", b"u1"),
    ],
    &[
        (b":path", b"/pay"),
        (b"age", b"18.5"),
        (b"env", b"\xff\xfe"),
    ],
    &[],
];

fuzz_target!(|data: &[u8]| {
    let first = Config::from_json(data);
    let second = Config::from_json(data);
    let (config, again) = match (first, second) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(a), Err(b)) => {
            assert_eq!(a, b, "two parses, two errors");
            assert!(!a.message.is_empty());
            return;
        }
        _ => panic!("two parses, two verdicts"),
    };
    for release in &config.releases {
        assert!(config.routing_headers().contains(&release.header));
    }
    // The configured hosts themselves, so matching is exercised.
    let own_hosts: Vec<Vec<(&[u8], &[u8])>> = config
        .releases
        .iter()
        .flat_map(|r| r.hosts.iter().take(2))
        .map(|host| vec![(&b":authority"[..], host.trim_start_matches("*.").as_bytes())])
        .collect();
    let requests = REQUESTS
        .iter()
        .copied()
        .chain(own_hosts.iter().map(Vec::as_slice));
    for pairs in requests {
        let request = Request::new(pairs);
        for roll in [0, BUCKETS / 2, BUCKETS - 1] {
            let outcome = decide(&config, &request, roll);
            let repeat = decide(&again, &request, roll);
            assert_eq!(summary(&outcome), summary(&repeat));
            if let Some(outcome) = outcome {
                check(&outcome);
            }
        }
    }
});

fn summary(outcome: &Option<Outcome<'_>>) -> Option<(usize, Version, Reason)> {
    outcome.as_ref().map(|o| (o.index, o.version, o.reason))
}

fn check(outcome: &Outcome<'_>) {
    let release = outcome.release;
    let value = outcome.value();
    assert!(value == release.baseline || release.canaries.iter().any(|c| c.value == value));
    assert!(release.canaries.iter().all(|c| c.value != release.baseline));
    // Every canary's weight together: 0 never and 10000 always leaves the baseline.
    let weights: u32 = release.canaries.iter().map(|c| c.weight_bp).sum();
    assert!(weights <= BUCKETS);
    match (outcome.reason, weights) {
        (Reason::Rule, _) => assert_eq!(outcome.version, Version::Canary),
        (_, 0) => assert_eq!(outcome.version, Version::Baseline),
        (_, BUCKETS) => assert_eq!(outcome.version, Version::Canary),
        _ => {}
    }
}
