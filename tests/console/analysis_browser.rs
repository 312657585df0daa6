//! The Analysis section in a real headless Chromium: a run's steps with the
//! current one marked (aria-current), its last measurement with value,
//! limit and verdict, `Promote` (the control file's flag) and `Abort` →
//! `Confirm` (the release rolled back in FILE).

use std::time::Duration;

use canaryctl::auto::settings::Settings;
use canaryctl::auto::state::{default_path, Control};
use serde_json::json;

use super::browser::{click, shot, wait_for, Driver};
use super::server::{run_at_second_step, ConsoleServer};
use crate::support::{pay_release, plugin_config};

/// Bounded: about 15 s for a gate to reach the files.
fn eventually(what: &str, done: impl Fn() -> bool) {
    let reached = (0..300).any(|_| {
        std::thread::sleep(Duration::from_millis(50));
        done()
    });
    assert!(reached, "{what} never happened");
}

#[tokio::test(flavor = "current_thread")]
async fn the_analysis_section_shows_the_run_and_its_gates_work() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("plugin.json");
    let mut release = pay_release();
    release["weight"] = json!(25);
    std::fs::write(&file, plugin_config([release.clone()])).unwrap();
    let state_path = default_path(&file, "pay");
    run_at_second_step(
        &file,
        release,
        Settings {
            steps: vec![10.0, 25.0, 50.0],
            ..Settings::default()
        },
    )
    .save(&state_path)
    .unwrap();
    let console = ConsoleServer::start(&file, &[]);
    let driver = Driver::start();
    let profile = tempfile::tempdir().unwrap();
    let browser = driver.browser(profile.path(), "en-US").await;
    browser
        .goto(&format!("{}#/release/pay", console.url()))
        .await
        .unwrap();

    wait_for(
        &browser,
        "//div[@id='analysis']//li[@aria-current='step'][normalize-space()='Step 2: 25%']",
    )
    .await;
    wait_for(
        &browser,
        "//table[@id='analysis-measurements']//tr[td[1]='Error rate'][td[2]='2.5%'][td[3]='at most 1%'][td[4]='fail']",
    )
    .await;
    wait_for(
        &browser,
        "//table[@id='analysis-measurements']//tr[td[1]='p99 latency'][td[2]='80 ms'][td[4]='pass']",
    )
    .await;
    shot(&browser, "20-analysis").await;

    click(&browser, "//button[normalize-space()='Promote']").await;
    eventually("promote in the control file", || {
        Control::load(&state_path).is_ok_and(|c| c.promote)
    });

    click(&browser, "//button[normalize-space()='Abort']").await;
    click(
        &browser,
        "//dialog[@id='confirm-dialog']//button[normalize-space()='Confirm']",
    )
    .await;
    eventually("the rollback in FILE", || {
        let document = canaryctl::Document::load(&file, None).unwrap();
        document.config().unwrap().releases[0]
            .canaries
            .first()
            .weight_bp
            == 0
    });
    assert!(Control::load(&state_path).unwrap().abort);
    shot(&browser, "21-analysis-aborted").await;
    browser.close().await.unwrap();
}
