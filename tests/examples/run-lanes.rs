//! `make run-lanes [MODE=loose|strict]`: the lanes chain of the end-to-end
//! tests (tests/support/chain.rs: a gateway and a sidecar Envoy per pod of
//! order, pay, stock and ledger, with the lanes kit's plugin configs),
//! started on loopback ports, with curl lines that show a lane user's path.
//! Ctrl-C stops it all (the Envoys and apps watch this process).

#[path = "../support/mod.rs"]
mod support;

use support::chain::{kit_configs, Chain, Forward, LANE_HEADER};

fn main() {
    let mode = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "loose".to_owned());
    let forward = match mode.as_str() {
        "loose" => Forward::TraceContext,
        "strict" => Forward::LaneHeader,
        other => {
            eprintln!("run-lanes: mode {other:?}: use loose (apps forward traceparent) or strict (apps forward {LANE_HEADER})");
            std::process::exit(2);
        }
    };
    let (sidecar, gateway) = kit_configs(forward);
    eprintln!("run-lanes: starting 8 Envoys and 7 apps ({mode} mode)...");
    let chain = Chain::builder(forward, &gateway.to_string(), &sidecar.to_string()).start();
    let url = format!("http://{}/", chain.gateway.front);
    let path = r#"python3 -c 'import json,sys; print(" ".join(h["service"]+":"+h["version"]+("["+h["lane"]+"]" if h["lane"] else "") for h in json.load(sys.stdin)["path"]))'"#;
    // One trace id per user: in loose mode a trace id names one call chain.
    let trace = "traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    let other_trace = "traceparent: 00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
    println!("The lanes chain runs ({mode} mode): gateway {url}");
    for (pod, envoy) in chain.sidecars() {
        println!(
            "  {pod:<10} sidecar outbound {}  admin http://{}",
            envoy.front, envoy.admin
        );
    }
    println!("\nA beta user joins lane gray at the gateway and stays in it:");
    println!("  (order:v2[gray] pay:v2[gray] stock:v1[gray] ledger:v2[gray])");
    println!("  curl -s -H 'host: order' -H 'x-user-group: beta' -H '{trace}' {url} | {path}");
    println!("Everybody else stays on the baselines (order:v1 pay:v1 stock:v1 ledger:v1):");
    println!("  curl -s -H 'host: order' -H '{other_trace}' {url} | {path}");
    println!("A client cannot pick the lane (baselines again):");
    println!("  curl -s -H 'host: order' -H '{LANE_HEADER}: gray' {url} | {path}");
    if forward == Forward::TraceContext {
        println!("Without trace context the lane ends after the gateway's hop (order:v2[gray] pay:v1 ...):");
        println!("  curl -s -H 'host: order' -H 'x-user-group: beta' {url} | {path}");
    }
    println!("\nCtrl-C stops the chain.");
    // Interactive: Enter stops it too; without a terminal, run until killed.
    let mut line = String::new();
    if matches!(std::io::stdin().read_line(&mut line), Ok(0) | Err(_)) {
        loop {
            std::thread::park();
        }
    }
}
