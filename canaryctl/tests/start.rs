//! `start` on each kind of file: after `complete`, the canary becomes the
//! baseline and the next version the canary at 0% with no rule, keeping
//! everything else; an unfinished release or a canary equal to the new
//! baseline is refused with the file's bytes untouched.
// A test file: helpers panic on a failed expectation, as tests do.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::fs;
use std::os::unix::fs::MetadataExt;

use common::*;
use serde_json::{json, Value};

/// The plugin config inside any of the three kinds of file, as `show --json`
/// cannot give the raw fields: read through the same parsers the tests use.
fn plugin_in(path: &str) -> Value {
    let text = read(path);
    if path.ends_with("plugin.json") {
        return serde_json::from_str(&text).unwrap();
    }
    let doc: Value = if path.ends_with(".json") {
        serde_json::from_str(&text).unwrap()
    } else {
        canaryctl::document::k8s_yaml::parse(&text)
            .unwrap()
            .remove(0)
    };
    if doc["kind"] == "WasmPlugin" {
        return doc["spec"]["pluginConfig"].clone();
    }
    let value = &doc["resources"][0]["typed_config"]["config"]["configuration"]["value"];
    serde_json::from_str(value.as_str().unwrap()).unwrap()
}

fn keys(release: &Value) -> Vec<&str> {
    release
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect()
}

/// The four files, each holding PLUGIN's pay-service release (the
/// WasmPlugin's has a cookie rule and cookie stickiness).
fn every_kind(dir: &std::path::Path) -> [String; 4] {
    [
        write(dir, "plugin.json", PLUGIN),
        write(dir, "ecds.json", &ecds_json(PLUGIN)),
        write(dir, "ecds.yaml", &ecds_yaml(PLUGIN)),
        write(dir, "wasmplugin.yaml", WASMPLUGIN),
    ]
}

fn files_in(dir: &std::path::Path) -> usize {
    fs::read_dir(dir).unwrap().count()
}

#[test]
fn complete_names_the_start_command() {
    let dir = scratch("complete-next");
    let path = write(&dir, "plugin.json", PLUGIN);
    let out = ok(&["complete", &path, "pay-service"]);
    assert!(
        out.contains(&format!(
            "3. v2 is the new baseline. Begin the next release with: canaryctl start {path} pay-service --canary <next version>\n"
        )),
        "{out}"
    );
}

#[test]
fn start_after_complete_on_every_kind_of_file() {
    let dir = scratch("start");
    for path in every_kind(&dir) {
        ok(&["complete", &path, "pay-service"]);
        let before = plugin_in(&path);
        let out = ok(&["start", &path, "pay-service", "--canary", "v3"]);
        assert_eq!(
            out,
            format!(
                "pay-service: baseline v1 -> v2\n\
                 pay-service: canary v2 -> v3\n\
                 pay-service: weight 100% -> 0%\n\
                 pay-service: next release started: every request goes to v2, the baseline; v3 gets none yet.\n\
                 Next:\n\
                 \x20 1. Deploy version v3 next to v2.\n\
                 \x20 2. Send it chosen requests first: canaryctl rule {path} pay-service --when 'header env equals test'\n\
                 \x20 3. Then a share of the rest: canaryctl set-weight {path} pay-service 5\n"
            ),
            "{path}"
        );
        let after = plugin_in(&path);
        let mut expected = before.clone();
        expected["releases"][0]["baseline"] = json!("v2");
        expected["releases"][0]["canary"] = json!("v3");
        expected["releases"][0]["weight"] = json!(0);
        assert_eq!(after, expected, "{path}");
        // Same keys in the same order: only values changed.
        assert_eq!(
            keys(&after["releases"][0]),
            keys(&before["releases"][0]),
            "{path}"
        );
        let shown = ok(&["show", &path]);
        assert!(
            shown.contains(
                "x-version: v2 (baseline) or v3 (canary)\n  rule:    none\n  weight:  0%"
            ),
            "{path}: {shown}"
        );
    }
    assert_eq!(files_in(&dir), 4, "no temp files left");
}

#[test]
fn yaml_outside_the_config_keeps_its_bytes() {
    let dir = scratch("start-yaml");
    let path = write(&dir, "wasmplugin.yaml", WASMPLUGIN);
    ok(&["complete", &path, "pay-service"]);
    ok(&["start", &path, "pay-service", "--canary", "v3"]);
    let after = read(&path);
    let (head, _) = WASMPLUGIN.split_once("  pluginConfig:\n").unwrap();
    assert!(after.starts_with(head), "{after}");
    assert!(
        after.ends_with(
            "        baseline: v2\n        canary: v3\n        weight: 0\n        sticky:\n          cookie: uid\n  failStrategy: FAIL_OPEN\n"
        ),
        "{after}"
    );

    let path = write(&dir, "ecds.yaml", &ecds_yaml(PLUGIN));
    ok(&["complete", &path, "pay-service"]);
    ok(&["start", &path, "pay-service", "--canary", "v3"]);
    let after = read(&path);
    let original = ecds_yaml(PLUGIN);
    let head = original.split("        value: |\n").next().unwrap();
    assert!(after.starts_with(head), "{after}");
    assert!(after.ends_with("   # V8, as in Istio\n"), "{after}");
}

#[test]
fn explicit_baseline_and_force() {
    let dir = scratch("start-options");
    let path = write(&dir, "plugin.json", PLUGIN);
    // Mid-release with --force: the move is said out loud.
    let out = ok(&["start", &path, "pay-service", "--canary", "v3", "--force"]);
    assert!(
        out.contains("pay-service: requests moved: they were split between v1 and v2; every request now goes to v2\n"),
        "{out}"
    );
    assert!(
        out.contains("pay-service: rule header env equals test -> none\n"),
        "{out}"
    );
    // After a rollback, the next release starts from the baseline.
    ok(&["rollback", &path, "pay-service"]);
    let out = ok(&[
        "start",
        &path,
        "pay-service",
        "--canary",
        "v4",
        "--baseline",
        "v2",
        "--force",
    ]);
    assert!(
        out.starts_with("pay-service: canary v3 -> v4\npay-service: next release started: every request goes to v2"),
        "{out}"
    );
    let release = &plugin_in(&path)["releases"][0];
    assert_eq!(
        (&release["baseline"], &release["canary"]),
        (&json!("v2"), &json!("v4"))
    );
    assert_eq!(release["sticky"], json!({"header": "x-user-id"}));
    // The other release is untouched.
    let original: Value = serde_json::from_str(PLUGIN).unwrap();
    assert_eq!(plugin_in(&path)["releases"][1], original["releases"][1]);
}

#[test]
fn refusals_leave_every_kind_of_file_as_it_was() {
    let dir = scratch("start-refused");
    let files = every_kind(&dir);
    for path in &files {
        let refuse = |args: &[&str], message: &str| {
            let (before, before_inode) =
                (fs::read(path).unwrap(), fs::metadata(path).unwrap().ino());
            let stderr = rejected(args);
            assert!(
                stderr.starts_with(&format!("canaryctl: {path}: ")),
                "{stderr}"
            );
            assert!(stderr.contains(message), "{args:?}: {stderr}");
            assert_eq!(
                fs::read(path).unwrap(),
                before,
                "{path} changed after {args:?}"
            );
            assert_eq!(fs::metadata(path).unwrap().ino(), before_inode);
        };
        // Mid-release: weight 20% and a rule.
        refuse(
            &["start", path, "pay-service", "--canary", "v3"],
            "pay-service is not complete (weight 20%, rule ",
        );
        refuse(
            &["start", path, "pay-service", "--canary", "v3"],
            "starting mid-release would move the users still on v1 to v2 at once: finish with canaryctl complete (or undo with rollback) first, or add --force to start anyway",
        );
        // Full weight but a rule left: not complete either.
        ok(&["set-weight", path, "pay-service", "100"]);
        refuse(
            &["start", path, "pay-service", "--canary", "v3"],
            "pay-service is not complete (weight 100%, rule ",
        );
        ok(&["complete", path, "pay-service"]);
        // The next version must differ from the new baseline.
        refuse(
            &["start", path, "pay-service", "--canary", "v2"],
            "pay-service: --canary v2 is the new baseline (the current canary, which becomes the baseline); give the next version's label",
        );
        refuse(
            &[
                "start",
                path,
                "pay-service",
                "--canary",
                "v3",
                "--baseline",
                "v3",
                "--force",
            ],
            "pay-service: --canary v3 is the new baseline (--baseline)",
        );
        refuse(
            &["start", path, "nope", "--canary", "v3"],
            "no release named \"nope\"",
        );
        // Rolled back: everyone is on v1; the default start would move them to v2.
        ok(&["rollback", path, "pay-service"]);
        refuse(
            &["start", path, "pay-service", "--canary", "v3"],
            "pay-service is not complete (weight 0%, rule none): every request goes to v1, and starting now would move them all to v2 at once: run canaryctl complete first, or add --force to start anyway; to start from v1, which serves every request now, add --baseline v1 --force",
        );
        refuse(
            &[
                "start",
                path,
                "pay-service",
                "--canary",
                "v3",
                "--baseline",
                "v1",
            ],
            "every request already goes to v1, so none would move",
        );
    }
    assert_eq!(files_in(&dir), 4, "no temp files left");
}

#[test]
fn start_needs_a_canary() {
    assert_eq!(canaryctl(&["start", "f.json", "pay"]).code, 2);
    let run = canaryctl(&["start", "--help"]);
    assert_eq!(run.code, 0);
    assert!(
        run.stdout.contains("--baseline <VERSION>"),
        "{}",
        run.stdout
    );
}
