//! The library API as a web console would call it: plan (pure) -> commit
//! (refused if the file changed since it was read) -> report.
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
use std::path::Path;

use canaryctl::edit::{self, Change, FieldChange, RuleChange};
use canaryctl::{CliError, Document};
use common::*;

fn load(path: &str) -> Document {
    Document::load(Path::new(path), None).unwrap()
}

#[test]
fn plan_is_pure_and_commit_writes_what_it_planned() {
    let dir = scratch("lib-plan");
    let path = write(&dir, "plugin.json", PLUGIN);
    let document = load(&path);
    let edit = edit::plan(&document, "pay-service", &Change::SetWeight(50.into())).unwrap();
    // Planning touched nothing.
    assert_eq!(read(&path), PLUGIN);
    assert_eq!(
        edit.report.changes,
        [FieldChange {
            field: "weight",
            from: "20%".into(),
            to: "50%".into()
        }]
    );
    assert!(edit.report.rewrites);
    assert_eq!(edit.report.state, "weight 50%, rule header env equals test");
    assert_eq!(edit.report.to_text(), "pay-service: weight 20% -> 50%\n");
    let planned = edit.new_text().unwrap().to_string();
    edit.commit().unwrap();
    assert_eq!(read(&path), planned);
    // The report is a Serialize type: what --json and a console get.
    let json = serde_json::to_value(&edit.report).unwrap();
    assert_eq!(json["changes"][0]["field"], "weight");
    assert_eq!(json["release"], "pay-service");
}

#[test]
fn a_concurrent_writer_is_not_overwritten() {
    let dir = scratch("lib-conflict");
    let path = write(&dir, "plugin.json", PLUGIN);
    let document = load(&path);
    let edit = edit::plan(&document, "web", &Change::Rollback).unwrap();
    // Someone else writes between our read and our write.
    let theirs = PLUGIN.replace("\"weight\": 12.5", "\"weight\": 40");
    fs::write(&path, &theirs).unwrap();
    let inode = fs::metadata(&path).unwrap().ino();
    let error = edit.commit().unwrap_err();
    assert!(matches!(error, CliError::Changed(_)), "{error:?}");
    assert!(
        error
            .to_string()
            .contains("changed since canaryctl read it (another writer?); nothing written"),
        "{error}"
    );
    assert_eq!(read(&path), theirs, "their bytes are kept");
    assert_eq!(fs::metadata(&path).unwrap().ino(), inode, "not replaced");
    assert_eq!(fs::read_dir(&dir).unwrap().count(), 1, "no temp file left");
    // Planned again on what is there now, the edit goes through.
    let edit = edit::plan(&load(&path), "web", &Change::Rollback).unwrap();
    assert_eq!(edit.report.changes[0].from, "40%");
    edit.commit().unwrap();
}

#[test]
fn an_edit_that_changes_nothing_writes_nothing() {
    let dir = scratch("lib-noop");
    let path = write(&dir, "plugin.json", PLUGIN);
    let inode = fs::metadata(&path).unwrap().ino();
    let edit = edit::plan(&load(&path), "pay-service", &Change::SetWeight(20.into())).unwrap();
    assert!(!edit.report.rewrites && edit.new_text().is_none());
    edit.commit().unwrap();
    assert_eq!(fs::metadata(&path).unwrap().ino(), inode);
    assert!(edit
        .report
        .to_text()
        .starts_with("pay-service: no change (weight 20%"));
}

#[test]
fn refusals_come_from_the_plan_with_the_filters_message() {
    let dir = scratch("lib-refused");
    let path = write(&dir, "ecds.json", &ecds_json(PLUGIN));
    let document = load(&path);
    let change = Change::Rule(RuleChange {
        path: Some(Some(serde_json::json!({"prefix": "pay"}))),
        ..RuleChange::default()
    });
    let error = edit::plan(&document, "pay-service", &change).unwrap_err();
    assert!(
        error
            .to_string()
            .contains("releases[0].path.prefix: \"pay\" must start with '/'"),
        "{error}"
    );
    // The ECDS file names the filter whose counters --wait reads, and an
    // edit of the plugin config changes the filter Envoy rebuilds.
    assert_eq!(document.ecds_filter().unwrap().name, "canary-filter");
    let edit = edit::plan(&document, "web", &Change::Complete).unwrap();
    assert!(edit.filter_changes());
    let same = edit::plan(
        &document,
        "web",
        &Change::SetWeight(serde_json::Number::from_f64(12.5).unwrap()),
    );
    assert!(!same.unwrap().filter_changes());
}
