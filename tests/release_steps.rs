//! The whole release, end to end, on one Envoy that is never restarted: the
//! real `canaryctl` binary edits the ECDS file Envoy watches, step by step,
//! while a second client keeps a keep-alive connection busy. Each step is
//! measured once Envoy has applied it; not one request may fail and no
//! connection may drop, counted here and cross-checked in Envoy's stats.
//!
//! Steps: (1) baseline only; (2) rule `env: test` at weight 0; (3) weight 20;
//! (4) complete; (5) `canaryctl start` of the next release (the old canary
//! is the baseline now), given traffic, then rolled back. Between (2) and
//! (3): edits canaryctl refuses, and a broken file written behind its back,
//! which Envoy rejects.
//!
//! canaryctl is found by [`Canaryctl::find`]: `$CANARYCTL`, else the newest
//! built one, else built here.

// A test crate: helpers outside #[test] functions may panic and index too
// (clippy.toml allows that inside #[test] functions only).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use crate::support;

use std::fs;

use serde_json::{json, Value};
use support::release::{leaves_alone, print_counts, Canaryctl, EcdsWatch, Load, Tally};
use support::{binomial_bounds, pay_release, plugin_config, Client, EcdsOutcome, Envoy, Request};

/// Requests per measured group: a deterministic one, and a share.
const GROUP: u64 = 200;
const SHARE_GROUP: u64 = 1000;

/// The steps, as the report names them; the background client counts
/// under the one in progress.
const STEPS: [&str; 8] = [
    "1 baseline only",
    "2 rule env: test, weight 0",
    "2b refused edits, bad file",
    "3 weight 20",
    "4 complete",
    "5a start next, weight 0",
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

/// What a measured group must show.
#[derive(Clone, Copy)]
enum Want {
    /// Every request on this version.
    All(&'static str),
    /// This version's share within 4 sigma of p (binomial).
    Share(&'static str, f64),
}

/// The release under test: Envoy, its ECDS file, canaryctl, the measuring
/// client, the background load, and what each step measured.
struct Release<'a> {
    envoy: &'a Envoy,
    ctl: Canaryctl,
    watch: EcdsWatch,
    client: Client,
    load: &'a Load,
    /// Updates applied (the start-up file included) and rejected.
    applied: u64,
    rejected: u64,
    /// Background requests sent between a rename and Envoy's verdict.
    during_updates: u64,
    measured: Vec<(&'static str, &'static str, Tally)>,
}

impl Release<'_> {
    fn path(&self) -> String {
        self.watch
            .file()
            .to_str()
            .expect("a UTF-8 temp path")
            .to_owned()
    }

    /// Runs `change` (which renames a new file into the watched folder),
    /// waits for Envoy's verdict and checks it is `want`.
    fn change<T>(&mut self, want: EcdsOutcome, change: impl FnOnce() -> T) -> T {
        let sent = self.load.sent();
        let (outcome, result) = self.watch.change(self.envoy, change);
        assert_eq!(outcome, want, "{}", self.envoy.log_tail(20));
        match outcome {
            EcdsOutcome::Applied => self.applied += 1,
            EcdsOutcome::Rejected => self.rejected += 1,
        }
        self.during_updates += self.load.sent() - sent;
        result
    }

    /// Runs a canaryctl edit that must succeed, prints what the user sees,
    /// and waits until Envoy applies it.
    fn edit(&mut self, args: &[&str]) {
        let ctl = self.ctl.clone();
        let run = self.change(EcdsOutcome::Applied, || ctl.run(args));
        assert_eq!(run.code, 0, "canaryctl {args:?}: {}", run.stderr);
        eprintln!("$ canaryctl {}\n{}", args.join(" "), run.stdout);
    }

    /// Runs a canaryctl command that reads only, and prints its output.
    fn read(&self, args: &[&str]) {
        let run = self.ctl.run(args);
        assert_eq!(run.code, 0, "canaryctl {args:?}: {}", run.stderr);
        eprintln!("$ canaryctl {}\n{}", args.join(" "), run.stdout);
    }

    /// Runs a canaryctl edit that must be refused and leave the file
    /// alone; returns its message.
    fn refused(&self, args: &[&str]) -> String {
        let what = format!("canaryctl {}", args.join(" "));
        let run = leaves_alone(self.watch.file(), &what, || self.ctl.run(args));
        eprintln!("$ {what} -> exit {}\n{}", run.code, run.stderr);
        run.assert_refused(args);
        run.stderr
    }

    /// Writes the ECDS file with `edit` applied to its plugin config, the
    /// way any tool but canaryctl would: whole, in the staging folder, then
    /// renamed into the watched one.
    fn write_by_hand(&mut self, want: EcdsOutcome, edit: impl FnOnce(&mut Value)) {
        let mut doc: Value =
            serde_json::from_str(&fs::read_to_string(self.watch.file()).unwrap()).unwrap();
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
        let file = self.watch.file().to_path_buf();
        self.change(want, || fs::rename(&staged, &file).unwrap());
    }

    /// Measures each group and checks it.
    fn check(&mut self, groups: &[(&'static str, Want)]) {
        let step = STEPS[self.load.step()];
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

/// The steps, each checked once applied.
fn run_release(r: &mut Release) {
    use Want::{All, Share};
    let file = r.path();
    let admin = format!("http://{}", r.envoy.admin);
    const V1: Want = All("pay-v1");
    const V2: Want = All("pay-v2");

    r.load.enter(0);
    r.read(&["show", &file]);
    r.check(&[("plain", V1), ("env: test", V1)]);

    r.load.enter(1);
    r.edit(&["rule", &file, "pay", "--when", "header env equals test"]);
    let rule_only = [("env: test", V2), ("plain", V1), ("env: prod", V1)];
    r.check(&rule_only);

    // Edits canaryctl refuses leave the file alone: same bytes, same inode.
    r.load.enter(2);
    r.refused(&["set-weight", &file, "pay", "101"]);
    r.refused(&["rule", &file, "pay", "--when", "header env regex ("]);
    r.refused(&["set-weight", &file, "shop", "10"]);
    let err = r.refused(&["start", &file, "pay", "--canary", "pay-v3"]);
    assert!(
        err.contains("would move the users still on pay-v1 to pay-v2"),
        "{err}"
    );
    let watched: Vec<_> = fs::read_dir(r.watch.file().parent().unwrap())
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
    let good = fs::read_to_string(&file).unwrap();
    r.write_by_hand(EcdsOutcome::Rejected, |plugin| {
        plugin["releases"][0]["canary"] = json!("pay-v1")
    });
    let reason = r#"invalid plugin configuration: releases[0].canary: must differ from baseline (both are "pay-v1")"#;
    assert!(r.envoy.log().contains(reason), "{}", r.envoy.log_tail(20));
    r.check(&rule_only);
    let err = r.refused(&["set-weight", &file, "pay", "20"]);
    assert!(
        err.contains("fix this first"),
        "canaryctl edited a broken file: {err}"
    );
    r.rename_in(EcdsOutcome::Applied, &good);

    r.load.enter(3);
    r.edit(&["set-weight", &file, "pay", "20"]);
    // n = 1000, p = 0.2: mean 200, sd 12.6, so 4 sd is 149..=251.
    r.check(&[("env: test", V2), ("plain", Share("pay-v2", 0.2))]);
    r.read(&["status", "--admin", &admin]);

    r.load.enter(4);
    r.edit(&["complete", &file, "pay"]);
    r.check(&[("plain", V2), ("env: test", V2)]);

    // The next release: the completed canary becomes the baseline and the
    // next version the canary, at weight 0, in one edit, so no request
    // moves. The demo has two upstreams, so the freed pay-v1 slot plays the
    // next version, as in a blue/green pair.
    r.load.enter(5);
    r.edit(&["start", &file, "pay", "--canary", "pay-v1"]);
    r.read(&["show", &file]);
    r.check(&[("plain", V2), ("env: test", V2)]);

    r.load.enter(6);
    r.edit(&["rule", &file, "pay", "--when", "header env equals test"]);
    r.edit(&["set-weight", &file, "pay", "20"]);
    r.check(&[("env: test", V1), ("plain", Share("pay-v1", 0.2))]);

    r.load.enter(7);
    r.edit(&["rollback", &file, "pay"]);
    r.check(&[("plain", V2), ("env: test", V2), ("env: prod", V2)]);
    r.read(&["status", "--admin", &admin]);
}

#[test]
fn whole_release_on_one_envoy_under_load_with_no_failed_request() {
    let ctl = Canaryctl::find();
    eprintln!("canaryctl: {}", ctl.path().display());
    // Two workers: the two clients' connections may land on either.
    let envoy = Envoy::builder(&plugin_config([pay_release()]))
        .ecds()
        .concurrency(2)
        .start();
    let _log = envoy.log_on_failure();
    let front = |name: &str| envoy.counter(&format!("http.front.{name}"));
    let (cx_before, rq_before) = (front("downstream_cx_total"), front("downstream_rq_total"));
    let load = Load::default();
    let mut release = Release {
        envoy: &envoy,
        ctl,
        watch: EcdsWatch::new(&envoy.dir().join("ecds").join("canary-filter.json")),
        client: envoy.client(),
        load: &load,
        applied: 1,
        rejected: 0,
        during_updates: 0,
        measured: Vec::new(),
    };
    let requests = ["plain", "env: test", "env: prod"].map(request);
    let background = std::thread::scope(|scope| {
        let background = scope.spawn(|| load.run(envoy.front, &requests));
        let _stop = load.stop_on_drop();
        run_release(&mut release);
        load.stop();
        background.join().expect("the background client panicked")
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

    let (measured_total, background_total) = print_counts(&measured, &background, &STEPS);
    eprintln!("ECDS updates: {applied} applied (start-up file included), {rejected} rejected");
    eprintln!("background requests sent between a rename and Envoy's verdict: {during_updates}");
    measured_total.assert_no_failure("measured");
    background_total.assert_no_failure("background");
    // The load ran through every step and across the reloads.
    assert!(
        during_updates > 0,
        "no background request overlapped a reload"
    );
    for (step, name) in STEPS.iter().enumerate() {
        let seen = background.get(&step).map_or(0, Tally::total);
        assert!(
            seen >= 10,
            "the background client sent {seen} requests in step {name}"
        );
    }

    // Envoy's own count: every request we sent completed with a 2xx, on the
    // two connections we opened, none of which Envoy closed.
    let sent = measured_total.total() + background_total.total();
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
    assert_eq!(
        envoy.counter(&support::ecds_stat("update_success")),
        applied
    );
    assert_eq!(
        envoy.counter(&support::ecds_stat("update_rejected")),
        rejected
    );
}
