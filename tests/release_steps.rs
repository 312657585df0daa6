//! The whole release, end to end, on one Envoy that is never restarted: the
//! real `canaryctl` binary edits the ECDS file Envoy watches, step by step,
//! while a second client keeps a keep-alive connection busy. Each step is
//! measured once Envoy has applied it; not one request may fail and no
//! connection may drop, counted here and cross-checked in Envoy's stats.
//!
//! Steps: (1) baseline only; (2) rule `env: test` at weight 0; (3) weight 20;
//! (4) complete; (5) the next release (the old canary is the baseline now),
//! given traffic, then rolled back. Between (2) and (3): edits canaryctl
//! refuses, and a broken file written behind its back, which Envoy rejects.
//!
//! canaryctl is `$CANARYCTL`, else the newest of `target/{debug,release}/
//! canaryctl`, else built here with `cargo build -p canaryctl`.

// A test crate: helpers outside #[test] functions may panic and index too
// (clippy.toml allows that inside #[test] functions only).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod support;

use std::collections::BTreeMap;
use std::fs;
use std::io;
use std::net::SocketAddr;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::thread::sleep;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use support::{
    binomial_bounds, ecds_stat, pay_release, plugin_config, Client, EcdsOutcome, Envoy, Request,
    Response,
};

/// Requests per measured group: a deterministic one, and a share.
const GROUP: u64 = 200;
const SHARE_GROUP: u64 = 1000;
/// The background client's pause between requests: steady load (several
/// hundred a second) that leaves most of the two shared cores to Envoy.
const LOAD_PAUSE: Duration = Duration::from_millis(1);
/// Hard bounds on the background client, should nothing stop it.
const LOAD_MAX_REQUESTS: u64 = 100_000;
const LOAD_MAX_TIME: Duration = Duration::from_secs(120);
/// Bound on waiting for Envoy's verdict on a new file.
const UPDATE_TIMEOUT: Duration = Duration::from_secs(30);

/// The steps, as the report names them; the background client counts
/// under the one in progress.
const STEPS: [&str; 8] = [
    "1 baseline only",
    "2 rule env: test, weight 0",
    "2b refused edits, bad file",
    "3 weight 20",
    "4 complete",
    "5a next release, weight 0",
    "5b next: rule + weight 20",
    "5c rolled back",
];

/// The kinds of request sent, by label.
fn request(label: &str) -> Request {
    let plain = Request::get("/checkout").host("pay-service");
    match label {
        "plain" => plain,
        "env: test" => plain.header("env", "test"),
        "env: prod" => plain.header("env", "prod"),
        other => panic!("no request kind {other}"),
    }
}

/// `$CANARYCTL`, else the newest built binary, else one built now.
fn canaryctl_binary() -> PathBuf {
    if let Some(path) = std::env::var_os("CANARYCTL").filter(|p| !p.is_empty()) {
        let path = PathBuf::from(path);
        assert!(path.is_file(), "CANARYCTL={} is not a file", path.display());
        return path;
    }
    let root = support::repo_root();
    let target =
        std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), |d| root.join(d));
    let newest = ["debug", "release"]
        .iter()
        .map(|profile| target.join(profile).join("canaryctl"))
        .filter_map(|path| Some((fs::metadata(&path).ok()?.modified().ok()?, path)))
        .max_by_key(|(modified, _)| *modified);
    if let Some((_, path)) = newest {
        return path;
    }
    eprintln!("no canaryctl built yet: running cargo build -p canaryctl");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let status = Command::new(cargo)
        .args(["build", "-p", "canaryctl"])
        .current_dir(&root)
        .status()
        .unwrap_or_else(|e| panic!("cannot run cargo build -p canaryctl: {e}"));
    assert!(
        status.success(),
        "cargo build -p canaryctl failed: {status}"
    );
    let path = target.join("debug").join("canaryctl");
    assert!(path.is_file(), "cargo built no {}", path.display());
    path
}

/// canaryctl's exit status, stdout and stderr.
fn canaryctl(binary: &Path, args: &[&str]) -> (i32, String, String) {
    let output = Command::new(binary)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", binary.display()));
    let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
    let code = output.status.code().expect("canaryctl exited by a signal");
    (code, text(&output.stdout), text(&output.stderr))
}

/// What a group of requests got back.
#[derive(Debug, Default, Clone)]
struct Tally {
    v1: u64,
    v2: u64,
    /// Non-2xx, or a 2xx from neither upstream.
    failed: u64,
    /// No response at all (connect, write or read error).
    connection_errors: u64,
    /// The first few failures, for the assertion message.
    problems: Vec<String>,
}

impl Tally {
    fn record(&mut self, result: io::Result<Response>) {
        let problem = match result {
            Ok(response) if (200..300).contains(&response.status) => {
                match response.version().as_str() {
                    "pay-v1" => return self.v1 += 1,
                    "pay-v2" => return self.v2 += 1,
                    _ => {}
                }
                self.failed += 1;
                format!("from neither upstream: {response:?}")
            }
            Ok(response) => {
                self.failed += 1;
                format!("{response:?}")
            }
            Err(e) => {
                self.connection_errors += 1;
                format!("connection error: {e}")
            }
        };
        if self.problems.len() < 5 {
            self.problems.push(problem);
        }
    }

    fn total(&self) -> u64 {
        self.v1 + self.v2 + self.failed + self.connection_errors
    }

    fn on(&self, version: &str) -> u64 {
        if version == "pay-v1" {
            self.v1
        } else {
            self.v2
        }
    }

    fn add(&mut self, other: &Tally) {
        self.v1 += other.v1;
        self.v2 += other.v2;
        self.failed += other.failed;
        self.connection_errors += other.connection_errors;
        self.problems.extend(other.problems.iter().cloned());
    }

    fn row(&self, step: &str, label: &str) -> String {
        format!(
            "{step:<28} {label:<10} {:>6} {:>6} {:>6} {:>6} {:>6}",
            self.total(),
            self.v1,
            self.v2,
            self.failed,
            self.connection_errors
        )
    }
}

/// The background client: plain, rule and other requests in turn on one
/// keep-alive connection until `stop`, counted under the current `step`
/// and in `answered` (responses and errors alike).
fn background_load(
    front: SocketAddr,
    stop: &AtomicBool,
    step: &AtomicUsize,
    answered: &AtomicU64,
) -> BTreeMap<usize, Tally> {
    let requests = ["plain", "env: test", "env: prod"].map(request);
    let mut client = Client::new(front);
    let mut tallies = BTreeMap::<usize, Tally>::new();
    let started = Instant::now();
    for n in 0..LOAD_MAX_REQUESTS {
        if stop.load(Ordering::SeqCst) || started.elapsed() > LOAD_MAX_TIME {
            break;
        }
        let result = client.try_send(&requests[n as usize % requests.len()]);
        tallies
            .entry(step.load(Ordering::SeqCst))
            .or_default()
            .record(result);
        answered.fetch_add(1, Ordering::SeqCst);
        sleep(LOAD_PAUSE);
    }
    tallies
}

/// Sets the flag when dropped, so a failing test stops the load it started.
struct StopOnDrop<'a>(&'a AtomicBool);

impl Drop for StopOnDrop<'_> {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

/// What a measured group must show.
#[derive(Clone, Copy)]
enum Want {
    /// Every request on this version.
    All(&'static str),
    /// This version's share within 4 sigma of p (binomial).
    Share(&'static str, f64),
}

/// The release under test: Envoy, its ECDS file, canaryctl, the measuring
/// client, and what each step measured.
struct Release<'a> {
    envoy: &'a Envoy,
    ctl: PathBuf,
    file: PathBuf,
    client: Client,
    /// The `typed_config` Envoy last received, applied or not: Envoy
    /// rebuilds the filter only when it changes (it compares hashes).
    delivered: Value,
    /// Updates applied (the start-up file included) and rejected.
    applied: u64,
    rejected: u64,
    step: &'a AtomicUsize,
    /// The background client's running count, and how much of it fell
    /// between a rename and Envoy's verdict (requests during reloads).
    background: &'a AtomicU64,
    during_updates: u64,
    measured: Vec<(&'static str, &'static str, Tally)>,
}

impl Release<'_> {
    fn path(&self) -> String {
        self.file.to_str().expect("a UTF-8 temp path").to_owned()
    }

    /// Starts step `STEPS[step]`.
    fn enter(&self, step: usize) {
        self.step.store(step, Ordering::SeqCst);
    }

    /// Runs `change` (which renames a new file into the watched folder) and
    /// waits for Envoy's verdict. `update_success` rises on the main thread
    /// when an update is accepted; `config_reload` once every worker holds
    /// the new filter (and after a rejection too), so a changed config
    /// counts as applied only when both have risen.
    fn change<T>(&mut self, want: EcdsOutcome, change: impl FnOnce(&Self) -> T) -> T {
        let counters = |envoy: &Envoy| {
            ["update_success", "update_rejected", "config_reload"]
                .map(|n| envoy.counter(&ecds_stat(n)))
        };
        let [success, rejected, reload] = counters(self.envoy);
        let background = self.background.load(Ordering::SeqCst);
        let result = change(self);
        let now = typed_config(&self.file);
        let rebuilt = now != self.delivered;
        self.delivered = now;
        let deadline = Instant::now() + UPDATE_TIMEOUT;
        loop {
            let [s, r, c] = counters(self.envoy);
            let outcome = match (s > success, r > rejected) {
                (false, false) => None,
                (true, false) => Some(EcdsOutcome::Applied),
                (false, true) => Some(EcdsOutcome::Rejected),
                (true, true) => panic!("one file, two verdicts"),
            };
            if let Some(outcome) = outcome.filter(|_| !rebuilt || c > reload) {
                assert_eq!(outcome, want, "{}", self.envoy.log_tail(20));
                match outcome {
                    EcdsOutcome::Applied => self.applied += 1,
                    EcdsOutcome::Rejected => self.rejected += 1,
                }
                self.during_updates += self.background.load(Ordering::SeqCst) - background;
                return result;
            }
            assert!(
                Instant::now() < deadline,
                "no verdict in {UPDATE_TIMEOUT:?}\n{}",
                self.envoy.log_tail(20)
            );
            sleep(Duration::from_millis(5));
        }
    }

    /// Runs a canaryctl edit that must succeed, prints what the user sees,
    /// and waits until Envoy applies it.
    fn edit(&mut self, args: &[&str]) {
        let ctl = self.ctl.clone();
        let (code, out, err) = self.change(EcdsOutcome::Applied, |_| canaryctl(&ctl, args));
        assert_eq!(code, 0, "canaryctl {args:?}: {err}");
        eprintln!("$ canaryctl {}\n{out}", args.join(" "));
    }

    /// Runs a canaryctl command that reads only, and prints its output.
    fn read(&self, args: &[&str]) {
        let (code, out, err) = canaryctl(&self.ctl, args);
        assert_eq!(code, 0, "canaryctl {args:?}: {err}");
        eprintln!("$ canaryctl {}\n{out}", args.join(" "));
    }

    /// Writes the ECDS file with `edit` applied to its plugin config, the
    /// way any tool but canaryctl would: whole, in the staging folder, then
    /// renamed into the watched one.
    fn write_by_hand(&mut self, want: EcdsOutcome, edit: impl FnOnce(&mut Value)) {
        let mut doc: Value =
            serde_json::from_str(&fs::read_to_string(&self.file).unwrap()).unwrap();
        let slot = &mut doc["resources"][0]["typed_config"]["config"]["configuration"]["value"];
        let mut plugin: Value = serde_json::from_str(slot.as_str().unwrap()).unwrap();
        edit(&mut plugin);
        *slot = json!(plugin.to_string());
        self.rename_in(want, &serde_json::to_string_pretty(&doc).unwrap());
    }

    fn rename_in(&mut self, want: EcdsOutcome, text: &str) {
        let staged = self.envoy.dir().join("ecds-staging").join("by-hand.json");
        fs::create_dir_all(staged.parent().unwrap()).unwrap();
        fs::write(&staged, text).unwrap();
        self.change(want, |this| fs::rename(&staged, &this.file).unwrap());
    }

    /// Measures each group and checks it.
    fn check(&mut self, groups: &[(&'static str, Want)]) {
        let step = STEPS[self.step.load(Ordering::SeqCst)];
        for &(label, want) in groups {
            let n = if matches!(want, Want::Share(..)) {
                SHARE_GROUP
            } else {
                GROUP
            };
            let request = request(label);
            let mut tally = Tally::default();
            for _ in 0..n {
                tally.record(self.client.try_send(&request));
            }
            let clean = tally.failed + tally.connection_errors == 0;
            match want {
                Want::All(version) => assert!(
                    clean && tally.on(version) == n,
                    "{step}, {label}: expected all {n} on {version}, got {tally:?}"
                ),
                Want::Share(version, p) => {
                    let bounds = binomial_bounds(n, p, 4.0);
                    assert!(
                        clean && bounds.contains(&tally.on(version)),
                        "{step}, {label}: {} of {n} on {version}, expected {bounds:?}: {tally:?}",
                        tally.on(version)
                    );
                }
            }
            self.measured.push((step, label, tally));
        }
    }
}

fn typed_config(file: &Path) -> Value {
    let doc: Value = serde_json::from_str(&fs::read_to_string(file).unwrap()).unwrap();
    doc["resources"][0]["typed_config"].clone()
}

/// The steps, each checked once applied.
fn run_release(r: &mut Release) {
    use Want::{All, Share};
    let file = r.path();
    let admin = format!("http://{}", r.envoy.admin);
    const V1: Want = All("pay-v1");
    const V2: Want = All("pay-v2");

    r.enter(0);
    r.read(&["show", &file]);
    r.check(&[("plain", V1), ("env: test", V1)]);

    r.enter(1);
    r.edit(&["rule", &file, "pay", "--when", "header env equals test"]);
    let rule_only = [("env: test", V2), ("plain", V1), ("env: prod", V1)];
    r.check(&rule_only);

    // Edits canaryctl refuses leave the file alone: same bytes, same inode.
    r.enter(2);
    let (good, inode) = (
        fs::read_to_string(&file).unwrap(),
        fs::metadata(&file).unwrap().ino(),
    );
    for args in [
        vec!["set-weight", &file, "pay", "101"],
        vec!["rule", &file, "pay", "--when", "header env regex ("],
        vec!["set-weight", &file, "shop", "10"],
    ] {
        let (code, out, err) = canaryctl(&r.ctl, &args);
        eprintln!("$ canaryctl {} -> exit {code}\n{err}", args.join(" "));
        assert_eq!(
            (code, out.as_str()),
            (1, ""),
            "canaryctl {args:?} should refuse"
        );
        assert!(
            err.starts_with("canaryctl: ") && err.lines().count() == 1,
            "{err}"
        );
        assert_eq!(
            fs::read_to_string(&file).unwrap(),
            good,
            "canaryctl {args:?} changed the file"
        );
        assert_eq!(
            fs::metadata(&file).unwrap().ino(),
            inode,
            "canaryctl {args:?} replaced it"
        );
    }
    let watched: Vec<_> = fs::read_dir(r.file.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(
        watched,
        ["canary-filter.json"],
        "canaryctl left a file behind"
    );

    // A broken file renamed in behind canaryctl's back: Envoy rejects it and
    // the last good config keeps routing. canaryctl will not edit the broken
    // file; renaming the good one back in restores it.
    r.write_by_hand(EcdsOutcome::Rejected, |plugin| {
        plugin["releases"][0]["canary"] = json!("pay-v1")
    });
    let reason = r#"invalid plugin configuration: releases[0].canary: must differ from baseline (both are "pay-v1")"#;
    assert!(r.envoy.log().contains(reason), "{}", r.envoy.log_tail(20));
    r.check(&rule_only);
    let (code, _, err) = canaryctl(&r.ctl, &["set-weight", &file, "pay", "20"]);
    eprintln!("$ canaryctl set-weight {file} pay 20 -> exit {code}\n{err}");
    assert!(
        code == 1 && err.contains("fix this first"),
        "canaryctl edited a broken file: {err}"
    );
    r.rename_in(EcdsOutcome::Applied, &good);

    r.enter(3);
    r.edit(&["set-weight", &file, "pay", "20"]);
    // n = 1000, p = 0.2: mean 200, sd 12.6, so 4 sd is 149..=251.
    r.check(&[("env: test", V2), ("plain", Share("pay-v2", 0.2))]);
    r.read(&["status", "--admin", &admin]);

    r.enter(4);
    r.edit(&["complete", &file, "pay"]);
    r.check(&[("plain", V2), ("env: test", V2)]);

    // The next release. The completed canary becomes the baseline and the
    // next version the canary, at weight 0, in one edit so that no request
    // moves (no canaryctl command does this: it is the user's JSON edit).
    // The demo has two upstreams, so the freed pay-v1 slot plays the next
    // version, as in a blue/green pair.
    r.enter(5);
    r.write_by_hand(EcdsOutcome::Applied, |plugin| {
        let release = &mut plugin["releases"][0];
        release["baseline"] = json!("pay-v2");
        release["canary"] = json!("pay-v1");
        release["weight"] = json!(0);
    });
    r.read(&["show", &file]);
    r.check(&[("plain", V2), ("env: test", V2)]);

    r.enter(6);
    r.edit(&["rule", &file, "pay", "--when", "header env equals test"]);
    r.edit(&["set-weight", &file, "pay", "20"]);
    r.check(&[("env: test", V1), ("plain", Share("pay-v1", 0.2))]);

    r.enter(7);
    r.edit(&["rollback", &file, "pay"]);
    r.check(&[("plain", V2), ("env: test", V2), ("env: prod", V2)]);
    r.read(&["status", "--admin", &admin]);
}

#[test]
fn whole_release_on_one_envoy_under_load_with_no_failed_request() {
    let ctl = canaryctl_binary();
    eprintln!("canaryctl: {}", ctl.display());
    // Two workers: the two clients' connections may land on either.
    let envoy = Envoy::builder(&plugin_config([pay_release()]))
        .ecds()
        .concurrency(2)
        .start();
    let _log = envoy.log_on_failure();
    let front = |name: &str| envoy.counter(&format!("http.front.{name}"));
    let (cx_before, rq_before) = (front("downstream_cx_total"), front("downstream_rq_total"));
    let file = envoy.dir().join("ecds").join("canary-filter.json");
    let (stop, step, answered) = (
        AtomicBool::new(false),
        AtomicUsize::new(0),
        AtomicU64::new(0),
    );
    let mut release = Release {
        envoy: &envoy,
        ctl,
        delivered: typed_config(&file),
        file,
        client: envoy.client(),
        applied: 1,
        rejected: 0,
        step: &step,
        background: &answered,
        during_updates: 0,
        measured: Vec::new(),
    };
    let load = std::thread::scope(|scope| {
        let load = scope.spawn(|| background_load(envoy.front, &stop, &step, &answered));
        let _stop = StopOnDrop(&stop);
        run_release(&mut release);
        stop.store(true, Ordering::SeqCst);
        load.join().expect("the background client panicked")
    });
    let Release {
        client,
        measured,
        applied,
        rejected,
        during_updates,
        ..
    } = release;
    drop(client);

    eprintln!(
        "\n{:<28} {:<10} {:>6} {:>6} {:>6} {:>6} {:>6}",
        "step", "requests", "total", "pay-v1", "pay-v2", "failed", "conn"
    );
    let (mut measured_total, mut load_total) = (Tally::default(), Tally::default());
    for (step, label, tally) in &measured {
        eprintln!("{}", tally.row(step, label));
        measured_total.add(tally);
    }
    for (step, tally) in &load {
        eprintln!("{}", tally.row(STEPS[*step], "background"));
        load_total.add(tally);
    }
    eprintln!("{}", measured_total.row("all measured", ""));
    eprintln!("{}", load_total.row("all background", ""));
    eprintln!("ECDS updates: {applied} applied (start-up file included), {rejected} rejected");
    eprintln!(
        "background requests answered between a rename and Envoy's verdict: {during_updates}"
    );
    for (what, tally) in [("measured", &measured_total), ("background", &load_total)] {
        let failures = (tally.failed, tally.connection_errors);
        assert_eq!(
            failures,
            (0, 0),
            "{what} requests failed: {:?}",
            tally.problems
        );
    }
    // The load ran through every step and across the reloads.
    assert!(
        during_updates > 0,
        "no background request overlapped a reload"
    );
    for (step, name) in STEPS.iter().enumerate() {
        let seen = load.get(&step).map_or(0, Tally::total);
        assert!(
            seen >= 10,
            "the background client sent {seen} requests in step {name}"
        );
    }

    // Envoy's own count: every request we sent completed with a 2xx, on the
    // two connections we opened, none of which Envoy closed.
    let sent = measured_total.total() + load_total.total();
    assert_eq!(
        front("downstream_rq_total") - rq_before,
        sent,
        "requests Envoy saw"
    );
    assert_eq!(
        front("downstream_rq_2xx"),
        front("downstream_rq_total"),
        "non-2xx in Envoy's count"
    );
    assert_eq!(
        front("downstream_cx_total") - cx_before,
        2,
        "connections Envoy accepted"
    );
    assert_eq!(
        front("downstream_cx_destroy_local"),
        0,
        "connections Envoy closed"
    );
    // Exactly the updates above reached Envoy: the refused edits wrote none.
    assert_eq!(envoy.counter(&ecds_stat("update_success")), applied);
    assert_eq!(envoy.counter(&ecds_stat("update_rejected")), rejected);
}
