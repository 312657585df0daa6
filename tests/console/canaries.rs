//! The console on a release of several canaries (tag routing): the API
//! refuses a write that does not say which canary, and shows each canary's
//! rule; the page, in Chromium against a real Envoy with the demo's three
//! upstreams, lists one instance row per version, and its `Canary` selector
//! makes `Weight (%)`, `Rollback` and `Complete` act on that canary alone
//! (the file and Envoy's routing follow for it only), while `Roll back all
//! canaries` acts on every one. Screenshots under
//! `target/console-screenshots/` (`2x-*`).

use std::fs;
use std::path::Path;

use fantoccini::{Client, Locator};
use serde_json::{json, Value};

use super::browser::{click, labelled, shot, wait_for, Driver, SAVED, UNNAMED_CONTROLS, WAIT};
use super::server::{json, versions_reached, ConsoleServer};
use crate::support::release::leaves_alone;
use crate::support::{plugin_config, Envoy};

const REQUESTS: usize = 20;

/// pay-v1 the baseline; pay-v2 with a rule (`env: test`) and pay-v3, both
/// at 0%. The values are the demo's cluster names: Envoy routes on them.
fn three_versions() -> Value {
    json!({
        "name": "pay",
        "hosts": ["pay-service", "localhost"],
        "header": "x-canary-cluster",
        "baseline": "pay-v1",
        "canaries": [
            {"value": "pay-v2", "weight": 0,
             "conditions": [{"header": "env", "op": "equals", "value": "test"}]},
            {"value": "pay-v3", "weight": 0}
        ]
    })
}

/// The canaries in FILE: (value, weight in basis points, has a rule).
fn canaries_in(file: &Path) -> Vec<(String, u32, bool)> {
    let document = canaryctl::Document::load(file, None).unwrap();
    document.config().unwrap().releases[0]
        .canaries
        .iter()
        .map(|c| (c.value.clone(), c.weight_bp, c.rule.is_some()))
        .collect()
}

fn canaries(list: &[(&str, u32, bool)]) -> Vec<(String, u32, bool)> {
    list.iter()
        .map(|(v, w, r)| (v.to_string(), *w, *r))
        .collect()
}

#[test]
fn a_write_on_several_canaries_names_one_and_each_rule_is_shown() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("canary.json");
    fs::write(&file, plugin_config([three_versions()])).unwrap();
    let console = ConsoleServer::start(&file, &[]);
    let etag = console.etag("pay");

    let detail = json(&console.get("/api/releases/pay"));
    assert_eq!(
        detail["canary_rules"]["pay-v2"]["conditions"],
        json!([{"header": "env", "op": "equals", "value": "test"}]),
        "{detail}"
    );
    assert_eq!(detail["canary_rules"]["pay-v3"]["conditions"], Value::Null);

    // Without "canary": 422 naming the field; FILE untouched.
    let writes = [
        ("PUT", "weight", r#"{"weight": 10}"#),
        ("PUT", "rule", r#"{"conditions": []}"#),
        ("POST", "complete", "{}"),
    ];
    for (method, action, body) in writes {
        let refused = leaves_alone(&file, action, || {
            console.write(
                method,
                &format!("/api/releases/pay/{action}"),
                Some(&etag),
                body,
            )
        });
        assert_eq!(refused.status, 422, "{action}: {refused:?}");
        let refused = json(&refused);
        assert_eq!(refused["field"], "canary", "{action}: {refused}");
        assert!(
            refused["message"]
                .as_str()
                .unwrap()
                .contains("has 2 canaries (pay-v2, pay-v3): name one"),
            "{refused}"
        );
    }

    // Naming one changes that one only.
    let done = console.write(
        "PUT",
        "/api/releases/pay/weight",
        Some(&etag),
        r#"{"weight": 10, "canary": "pay-v3"}"#,
    );
    assert_eq!(done.status, 200, "{done:?}");
    assert_eq!(
        canaries_in(&file),
        canaries(&[("pay-v2", 0, true), ("pay-v3", 1_000, false)])
    );
    // A rollback without one is the whole release's.
    let done = console.write(
        "POST",
        "/api/releases/pay/rollback",
        Some(&console.etag("pay")),
        "{}",
    );
    assert_eq!(done.status, 200, "{done:?}");
    assert_eq!(
        canaries_in(&file),
        canaries(&[("pay-v2", 0, false), ("pay-v3", 0, false)])
    );
}

/// The `<tr>` of the instances table whose routing value is `value`.
fn instance_row(value: &str) -> String {
    format!("//table[@id='instances']//tr[td[2][normalize-space()='{value}']]")
}

/// The routing values of the instances table's rows, read in one script:
/// the page redraws the table every poll, so elements found one call
/// earlier may be gone (a stale element reference) by the next.
async fn instance_values(browser: &Client) -> Vec<String> {
    let script =
        "return Array.from(document.querySelectorAll('#instances tbody tr td:nth-child(2)'))\
                  .map((td) => td.textContent.trim());";
    let values = browser.execute(script, vec![]).await.unwrap();
    serde_json::from_value(values).unwrap()
}

/// Clicks `button`, checks the dialog says `text`, and confirms.
async fn confirm(browser: &Client, button: &str, text: &str) {
    click(browser, &format!("//button[normalize-space()='{button}']")).await;
    wait_for(
        browser,
        &format!("//dialog[@open]//p[contains(., '{text}')]"),
    )
    .await;
    click(
        browser,
        "//dialog[@open]//button[normalize-space()='Confirm']",
    )
    .await;
}

#[tokio::test(flavor = "current_thread")]
async fn a_release_of_three_versions_driven_from_the_page() {
    let envoy = Envoy::start_ecds(&plugin_config([three_versions()]));
    let _log = envoy.log_on_failure();
    let file = envoy.dir().join("ecds").join("canary-filter.json");
    let console = ConsoleServer::start(&file, &["--admin", &format!("http://{}", envoy.admin)]);
    let driver = Driver::start();
    let profile = tempfile::tempdir().unwrap();
    let browser = driver.browser(profile.path(), "en-US").await;

    browser.goto(&console.url()).await.unwrap();
    wait_for(
        &browser,
        "//table[@id='releases']//td[contains(., 'pay-v1 → pay-v2, pay-v3')]",
    )
    .await;
    click(
        &browser,
        "//table[@id='releases']//a[normalize-space()='pay']",
    )
    .await;
    let _ = versions_reached(&envoy, Some(("env", "test")), REQUESTS);
    let _ = versions_reached(&envoy, None, REQUESTS);
    // One row per version, keyed by its value, each with its live numbers.
    wait_for(
        &browser,
        &format!("{}/td/div[contains(., 'healthy')]", instance_row("pay-v3")),
    )
    .await;
    assert_eq!(
        instance_values(&browser).await,
        ["pay-v1", "pay-v2", "pay-v3"]
    );
    let unnamed = browser.execute(UNNAMED_CONTROLS, vec![]).await.unwrap();
    assert_eq!(unnamed, json!([]), "controls without an accessible name");

    // The selector starts on the first canary: its rule is in the editor.
    let selector = wait_for(&browser, &labelled("Canary")).await;
    assert_eq!(
        selector.prop("value").await.unwrap().as_deref(),
        Some("pay-v2")
    );
    let key = wait_for(&browser, "//*[@aria-label='Condition 1 Key']").await;
    assert_eq!(key.prop("value").await.unwrap().as_deref(), Some("env"));

    // pay-v3 selected: no rule in the editor; its weight to 100%.
    selector.select_by_value("pay-v3").await.unwrap();
    let rows = browser
        .find_all(Locator::XPath("//table[@id='conditions']/tbody/tr"))
        .await
        .unwrap();
    assert!(rows.is_empty(), "pay-v3 has no rule");
    let weight = wait_for(&browser, &labelled("Weight (%)")).await;
    weight.clear().await.unwrap();
    weight.send_keys("100").await.unwrap();
    click(&browser, "//button[normalize-space()='Save']").await;
    wait_for(&browser, SAVED).await;
    assert_eq!(
        canaries_in(&file),
        canaries(&[("pay-v2", 0, true), ("pay-v3", 10_000, false)])
    );
    assert_eq!(versions_reached(&envoy, None, REQUESTS), ["pay-v3"]);
    assert_eq!(
        versions_reached(&envoy, Some(("env", "test")), REQUESTS),
        ["pay-v2"]
    );
    wait_for(
        &browser,
        &format!("{}/td[3][normalize-space()='100%']", instance_row("pay-v3")),
    )
    .await;
    // The selection survives the reload after the write.
    let selector = wait_for(&browser, &labelled("Canary")).await;
    assert_eq!(
        selector.prop("value").await.unwrap().as_deref(),
        Some("pay-v3")
    );
    let _ = versions_reached(&envoy, None, REQUESTS);
    wait_for(
        &browser,
        &format!("{}/td/div[contains(., 'healthy')]", instance_row("pay-v3")),
    )
    .await;
    shot(&browser, "20-canaries").await;

    // Rollback: pay-v3 alone; pay-v2 keeps its rule.
    confirm(&browser, "Rollback", "pay-v3 gets no requests").await;
    wait_for(
        &browser,
        &format!("{}/td[3][normalize-space()='0%']", instance_row("pay-v3")),
    )
    .await;
    assert_eq!(
        canaries_in(&file),
        canaries(&[("pay-v2", 0, true), ("pay-v3", 0, false)])
    );
    assert_eq!(versions_reached(&envoy, None, REQUESTS), ["pay-v1"]);
    assert_eq!(
        versions_reached(&envoy, Some(("env", "test")), REQUESTS),
        ["pay-v2"]
    );

    // Roll back all canaries: every rule goes too.
    confirm(
        &browser,
        "Roll back all canaries",
        "Every request will go to pay-v1; pay-v2, pay-v3 get none",
    )
    .await;
    wait_for(
        &browser,
        "//p[@id='release-rule'][contains(., 'pay-v2: no rule')]",
    )
    .await;
    assert_eq!(
        canaries_in(&file),
        canaries(&[("pay-v2", 0, false), ("pay-v3", 0, false)])
    );
    assert_eq!(
        versions_reached(&envoy, Some(("env", "test")), REQUESTS),
        ["pay-v1"]
    );

    // In Chinese: the selector and the dialog say which canary.
    let zh_profile = tempfile::tempdir().unwrap();
    let zh = driver.browser(zh_profile.path(), "zh-CN").await;
    zh.goto(&format!("{}#/release/pay", console.url()))
        .await
        .unwrap();
    wait_for(&zh, &labelled("灰度版本")).await;
    click(&zh, "//button[normalize-space()='回滚']").await;
    wait_for(
        &zh,
        "//dialog[@open]//h3[normalize-space()='回滚 pay 的 pay-v2？']",
    )
    .await;
    shot(&zh, "23-zh-canaries").await;
    zh.close().await.unwrap();

    // Complete with pay-v3: the only canary left, at 100%.
    click(&browser, "//button[normalize-space()='Complete']").await;
    wait_for(
        &browser,
        "//dialog[@open]//p[contains(., 'Every request will go to pay-v3: it becomes the only canary (pay-v2 removed)')]",
    )
    .await;
    shot(&browser, "21-complete-dialog").await;
    click(
        &browser,
        "//dialog[@open]//button[normalize-space()='Confirm']",
    )
    .await;
    wait_for(
        &browser,
        "//pre[@id='next-steps'][contains(., 'pay is complete')]",
    )
    .await;
    assert_eq!(canaries_in(&file), canaries(&[("pay-v3", 10_000, false)]));
    assert_eq!(
        versions_reached(&envoy, Some(("env", "test")), REQUESTS),
        ["pay-v3"]
    );
    assert_eq!(versions_reached(&envoy, None, REQUESTS), ["pay-v3"]);
    // One canary now: no selector, two instance rows.
    browser
        .wait()
        .at_most(WAIT)
        .for_element(Locator::XPath("//div[@id='canary-row'][@hidden]"))
        .await
        .unwrap();
    assert_eq!(instance_values(&browser).await, ["pay-v1", "pay-v3"]);
    shot(&browser, "22-completed").await;
    browser.close().await.unwrap();
}
