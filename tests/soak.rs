//! Soak: one million requests through one Envoy (two workers) running the
//! filter with a realistic config, in ten rounds of 100,000. Between rounds
//! (no load), it samples Envoy's resident memory and each wasm VM's linear
//! memory, from /proc. Promises:
//! - the wasm VMs' linear memory does not grow in the second half at all
//!   (a leak in the filter would grow it page by page);
//! - Envoy's RSS grows less than `RSS_GROWTH_BOUND_KIB` in the second half;
//! - the weighted split stays within 4 sigma of its binomial mean, rule hits
//!   always reach the canary, and sticky users land where their bucket says.
//!
//! Ignored by `cargo test` (minutes of load): `make soak` runs it.

// A test crate: helpers outside #[test] functions may panic and index too
// (clippy.toml allows that inside #[test] functions only).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use crate::support;

use std::path::Path;
use std::sync::{Arc, Barrier};
use std::thread;

use canary_core::bucket;
use serde_json::json;
use support::{binomial_bounds, pay_release, plugin_config, Client, Envoy, Request};

const ROUNDS: u64 = 10;
const CLIENTS: u64 = 2;
const PER_CLIENT_PER_ROUND: u64 = 50_000;
const REQUESTS: u64 = ROUNDS * CLIENTS * PER_CLIENT_PER_ROUND;
/// Envoy's RSS may grow this much from the 500,000th to the 1,000,000th
/// request: allocator caches settle in the first rounds, while a leak of
/// even 4 bytes per request would add 2 MB here. (Seen: 0 KiB.)
const RSS_GROWTH_BOUND_KIB: u64 = 1024;
const USERS: u64 = 1_000;

/// The pay-service release of the README's rollout at its 20% step: a
/// rule for testers and listed users, sticky on x-user-id.
fn config() -> String {
    let mut pay = pay_release();
    pay["weight"] = json!(20);
    pay["mode"] = json!("any");
    pay["conditions"] = json!([
        {"header": "env", "op": "equals", "value": "test"},
        {"query": "uid", "op": "in", "values": ["1001", "1002"]}
    ]);
    pay["sticky"] = json!({"header": "x-user-id"});
    plugin_config([pay])
}

/// The kinds of request in the mix, by request number.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// 1 in 10: satisfies the rule.
    Rule,
    /// 3 in 10: a sticky user.
    Sticky(u64),
    /// The rest: decided by the random roll.
    Weighted,
}

fn kind(n: u64) -> Kind {
    match n % 10 {
        0 => Kind::Rule,
        1..=3 => Kind::Sticky(n % USERS),
        _ => Kind::Weighted,
    }
}

fn request(n: u64) -> Request {
    let base = |target: &str| Request::get(target).host("pay-service");
    match kind(n) {
        Kind::Rule if n % 20 == 0 => base("/pay?uid=1001"),
        Kind::Rule => base("/pay").header("env", "test"),
        Kind::Sticky(user) => base("/pay").header("x-user-id", format!("user-{user}")),
        Kind::Weighted => base(&format!("/pay/order/{n}")),
    }
}

/// What one client saw: requests of each kind that reached the canary.
#[derive(Default, Clone, Copy)]
struct Seen {
    weighted: u64,
    weighted_canary: u64,
    wrong: u64,
}

/// Memory at one point, in KiB.
#[derive(Debug, Clone)]
struct Sample {
    requests: u64,
    envoy_rss: u64,
    /// Per VM: (linear memory size, its resident part).
    wasm_memories: Vec<(u64, u64)>,
    tcmalloc_allocated: u64,
}

#[test]
#[ignore = "a million requests: run with `make soak`"]
fn one_million_requests_level_off_and_keep_the_split() {
    let envoy = Envoy::builder(&config()).concurrency(2).start();
    let _log = envoy.log_on_failure();
    let pid = envoy_pid(&envoy);
    let weight_bp = 2_000;

    let barrier = Arc::new(Barrier::new(CLIENTS as usize + 1));
    let clients: Vec<_> = (0..CLIENTS)
        .map(|c| {
            let (front, barrier) = (envoy.front, Arc::clone(&barrier));
            thread::spawn(move || {
                let mut client = Client::new(front);
                let mut seen = Seen::default();
                for round in 0..ROUNDS {
                    let first = (round * CLIENTS + c) * PER_CLIENT_PER_ROUND;
                    for n in first..first + PER_CLIENT_PER_ROUND {
                        let response = client.send(&request(n));
                        let canary = match response.version().as_str() {
                            "pay-v2" => true,
                            "pay-v1" => false,
                            _ => panic!("request {n}: {response:?}"),
                        };
                        let right = match kind(n) {
                            Kind::Rule => canary,
                            Kind::Sticky(user) => {
                                let key = format!("user-{user}");
                                canary == (bucket("pay", key.as_bytes()) < weight_bp)
                            }
                            Kind::Weighted => {
                                seen.weighted += 1;
                                seen.weighted_canary += u64::from(canary);
                                true
                            }
                        };
                        seen.wrong += u64::from(!right);
                    }
                    barrier.wait(); // round done
                    barrier.wait(); // sampled
                }
                seen
            })
        })
        .collect();

    let mut samples = vec![sample(&envoy, pid, 0)];
    for round in 1..=ROUNDS {
        barrier.wait();
        samples.push(sample(&envoy, pid, round * CLIENTS * PER_CLIENT_PER_ROUND));
        barrier.wait();
    }
    let seen = clients
        .into_iter()
        .map(|c| c.join().unwrap())
        .fold(Seen::default(), |a, b| Seen {
            weighted: a.weighted + b.weighted,
            weighted_canary: a.weighted_canary + b.weighted_canary,
            wrong: a.wrong + b.wrong,
        });

    for s in &samples {
        eprintln!(
            "soak: {:>9} requests: envoy rss {:>7} KiB, tcmalloc {:>7} KiB, wasm VMs (size/rss KiB) {:?}",
            s.requests, s.envoy_rss, s.tcmalloc_allocated, s.wasm_memories
        );
    }
    let half = &samples[samples.len() / 2];
    let last = samples.last().unwrap();
    assert_eq!(last.requests, REQUESTS);
    assert_eq!(
        seen.wrong, 0,
        "rule hits off the canary or sticky users off their bucket"
    );
    let bounds = binomial_bounds(seen.weighted, 0.2, 4.0);
    eprintln!(
        "soak: weighted {} of {} to the canary ({:.3}%), 4-sigma bounds {bounds:?}",
        seen.weighted_canary,
        seen.weighted,
        100.0 * seen.weighted_canary as f64 / seen.weighted as f64
    );
    assert!(bounds.contains(&seen.weighted_canary));
    assert!(
        !half.wasm_memories.is_empty(),
        "no wasm VM memory found in /proc/{pid}/smaps"
    );
    let sizes = |s: &Sample| s.wasm_memories.iter().map(|m| m.0).collect::<Vec<_>>();
    assert_eq!(
        sizes(half),
        sizes(last),
        "wasm linear memory grew in the second half"
    );
    let growth = last.envoy_rss.saturating_sub(half.envoy_rss);
    eprintln!(
        "soak: envoy rss grew {growth} KiB over the second half (bound {RSS_GROWTH_BOUND_KIB} KiB)"
    );
    assert!(growth < RSS_GROWTH_BOUND_KIB);
}

fn sample(envoy: &Envoy, pid: u32, requests: u64) -> Sample {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let envoy_rss = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS in /proc/<pid>/status");
    Sample {
        requests,
        envoy_rss,
        wasm_memories: wasm_memories(pid),
        tcmalloc_allocated: envoy.counter("server.memory_allocated") / 1024,
    }
}

/// V8 reserves each wasm memory as one large mapping (several GiB, mostly
/// inaccessible); the accessible start, the memory's current size, is a
/// read-write mapping right below the inaccessible rest.
fn wasm_memories(pid: u32) -> Vec<(u64, u64)> {
    let smaps = std::fs::read_to_string(format!("/proc/{pid}/smaps")).unwrap();
    // (start, end, perms, rss KiB) of each mapping.
    let mut maps: Vec<(u64, u64, String, u64)> = Vec::new();
    for line in smaps.lines() {
        let mut fields = line.split_whitespace();
        let first = fields.next().unwrap_or_default();
        if let Some((start, end)) = first
            .split_once('-')
            .filter(|(s, _)| u64::from_str_radix(s, 16).is_ok())
        {
            let perms = fields.next().unwrap_or_default().to_owned();
            let (start, end) = (
                u64::from_str_radix(start, 16).unwrap(),
                u64::from_str_radix(end, 16).unwrap(),
            );
            maps.push((start, end, perms, 0));
        } else if let (Some("Rss:"), Some(kib)) = (Some(first), fields.next()) {
            if let Some(last) = maps.last_mut() {
                last.3 = kib.parse().unwrap_or(0);
            }
        }
    }
    maps.windows(2)
        .filter(|pair| {
            let (low, high) = (&pair[0], &pair[1]);
            low.2 == "rw-p" && high.2 == "---p" && low.1 == high.0 && high.1 - high.0 >= 1 << 32
        })
        .map(|pair| ((pair[0].1 - pair[0].0) / 1024, pair[0].3))
        .collect()
}

/// The Envoy process of `envoy`: the one named envoy whose command line
/// holds this Envoy's own bootstrap path.
fn envoy_pid(envoy: &Envoy) -> u32 {
    let bootstrap = envoy.dir().join("envoy.yaml");
    let bootstrap = bootstrap.to_string_lossy();
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|entry| entry.file_name().to_str()?.parse::<u32>().ok())
        .find(|pid| {
            let proc = Path::new("/proc").join(pid.to_string());
            let comm = std::fs::read_to_string(proc.join("comm")).unwrap_or_default();
            let cmdline = std::fs::read(proc.join("cmdline")).unwrap_or_default();
            comm.trim() == "envoy" && String::from_utf8_lossy(&cmdline).contains(&*bootstrap)
        })
        .unwrap_or_else(|| panic!("no envoy process runs {bootstrap}"))
}
