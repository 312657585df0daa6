//! The console's page in a real headless Chromium (Debian's `chromium` and
//! `chromium-driver`, which the Makefile installs), driven over WebDriver
//! with fantoccini: find the release, set the weight through `Weight (%)`
//! and `Save` and see the file and Envoy follow; add a header condition and
//! see a matching request reach the canary; a wrong regex shows the core's
//! message and changes nothing; `Complete` → `Confirm`, `Rollback` →
//! `Confirm`; a Save after canaryctl wrote is refused and says so; the page
//! in Chinese for a browser that prefers it. Each step
//! is saved as a screenshot under `target/console-screenshots/`.

use std::fs;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::json;

use super::server::{versions_reached, ConsoleServer};
use crate::support::release::Canaryctl;
use crate::support::{pay_release, plugin_config, repo_root, Envoy};

/// Bound on waiting for the page to show something.
pub(super) const WAIT: Duration = Duration::from_secs(15);
const REQUESTS: usize = 20;

/// chromedriver on a free loopback port, in a process group of its own;
/// the group (chromedriver and the Chromium it started) is killed on drop,
/// so a failed test, which never closes its WebDriver session, leaves no
/// Chromium behind.
pub(super) struct Driver {
    child: Child,
    url: String,
}

impl Driver {
    pub(super) fn start() -> Self {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let child = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .process_group(0)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("cannot run chromedriver: install Debian's chromium and chromium-driver (make e2e does)");
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        // Bounded: about 10 s for chromedriver to listen.
        let up = (0..200).any(|_| {
            std::thread::sleep(Duration::from_millis(50));
            TcpStream::connect(addr).is_ok()
        });
        assert!(up, "chromedriver did not listen on {addr}");
        Driver {
            child,
            url: format!("http://{addr}"),
        }
    }

    /// A new headless Chromium preferring `language`, with its own profile.
    pub(super) async fn browser(&self, profile: &Path, language: &str) -> Client {
        let options = json!({
            "binary": "/usr/bin/chromium",
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--no-first-run", "--window-size=1280,1200", format!("--lang={language}"),
                format!("--user-data-dir={}", profile.display())],
            "prefs": {"intl.accept_languages": language},
        });
        let mut capabilities = serde_json::Map::new();
        capabilities.insert("goog:chromeOptions".to_owned(), options);
        ClientBuilder::new(HttpConnector::new())
            .capabilities(capabilities)
            .connect(&self.url)
            .await
            .expect("cannot start Chromium through chromedriver")
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        // The group's id is chromedriver's pid (process_group(0) above).
        let _ = Command::new("kill")
            .arg("-KILL")
            .arg("--")
            .arg(format!("-{}", self.child.id()))
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn screenshots() -> PathBuf {
    let dir = repo_root().join("target").join("console-screenshots");
    fs::create_dir_all(&dir).unwrap();
    dir
}

pub(super) async fn shot(browser: &Client, name: &str) {
    let png = browser.screenshot().await.unwrap();
    fs::write(screenshots().join(format!("{name}.png")), png).unwrap();
}

pub(super) async fn wait_for(browser: &Client, xpath: &str) -> fantoccini::elements::Element {
    browser
        .wait()
        .at_most(WAIT)
        .for_element(Locator::XPath(xpath))
        .await
        .unwrap_or_else(|e| panic!("the page never showed {xpath}: {e}"))
}

pub(super) async fn click(browser: &Client, xpath: &str) {
    wait_for(browser, xpath).await.click().await.unwrap();
}

/// The control a `<label>` with this text names.
pub(super) fn labelled(text: &str) -> String {
    format!("//*[@id=//label[normalize-space()='{text}']/@for]")
}

pub(super) fn control(aria_label: &str) -> String {
    format!("//*[@aria-label='{aria_label}']")
}

/// Script: the ids (or tags) of visible controls with no accessible name:
/// no `<label for>`, no `aria-label`, and (buttons, links) no text.
pub(super) const UNNAMED_CONTROLS: &str = r#"
  return [...document.querySelectorAll("input, select, button, a, textarea")]
    .filter((c) => c.offsetParent !== null)
    .filter((c) => !(c.labels && c.labels.length) && !c.getAttribute("aria-label")
      && !(["BUTTON", "A"].includes(c.tagName) && c.textContent.trim()))
    .map((c) => c.id || c.tagName);
"#;

pub(super) const SAVED: &str =
    "//p[@id='notice'][contains(., 'Saved.') and contains(., 'Envoy applied it.')]";

fn weight_in_file(file: &Path) -> u32 {
    let document = canaryctl::Document::load(file, None).unwrap();
    document.config().unwrap().releases[0]
        .canaries
        .first()
        .weight_bp
}

#[tokio::test(flavor = "current_thread")]
async fn a_release_driven_from_the_page_in_chromium() {
    let envoy = Envoy::start_ecds(&plugin_config([pay_release()]));
    let _log = envoy.log_on_failure();
    let file = envoy.dir().join("ecds").join("canary-filter.json");
    let console = ConsoleServer::start(&file, &["--admin", &format!("http://{}", envoy.admin)]);
    let driver = Driver::start();
    let profile = tempfile::tempdir().unwrap();
    let browser = driver.browser(profile.path(), "en-US").await;

    // The releases, then the release with its instances and live numbers.
    browser.goto(&console.url()).await.unwrap();
    wait_for(
        &browser,
        "//table[@id='releases']//td[contains(., 'pay-v1 → pay-v2')]",
    )
    .await;
    shot(&browser, "00-releases").await;
    click(
        &browser,
        "//table[@id='releases']//a[normalize-space()='pay']",
    )
    .await;
    wait_for(
        &browser,
        "//h2[@id='release-name'][normalize-space()='pay']",
    )
    .await;
    let _ = versions_reached(&envoy, None, REQUESTS);
    wait_for(
        &browser,
        "//table[@id='instances']//td/div[contains(., 'healthy')]",
    )
    .await;
    shot(&browser, "01-release").await;
    let unnamed = browser.execute(UNNAMED_CONTROLS, vec![]).await.unwrap();
    assert_eq!(unnamed, json!([]), "controls without an accessible name");

    // Weight (%) and Save: the file and Envoy follow.
    let weight = wait_for(&browser, &labelled("Weight (%)")).await;
    weight.clear().await.unwrap();
    weight.send_keys("100").await.unwrap();
    click(&browser, "//button[normalize-space()='Save']").await;
    wait_for(&browser, SAVED).await;
    assert_eq!(weight_in_file(&file), 10_000);
    assert_eq!(versions_reached(&envoy, None, REQUESTS), ["pay-v2"]);
    shot(&browser, "02-weight-100").await;
    let weight = wait_for(&browser, &labelled("Weight (%)")).await;
    weight.clear().await.unwrap();
    // With the keyboard alone: Enter in the field submits it.
    weight.send_keys("0\u{E007}").await.unwrap();
    wait_for(&browser, SAVED).await;
    assert_eq!(weight_in_file(&file), 0);
    assert_eq!(versions_reached(&envoy, None, REQUESTS), ["pay-v1"]);

    // A header condition in the rule editor: a matching request reaches the canary.
    click(&browser, "//button[normalize-space()='Add condition']").await;
    let key = wait_for(&browser, &control("Condition 1 Key")).await;
    key.send_keys("env").await.unwrap();
    let operator = wait_for(&browser, &control("Condition 1 Operator")).await;
    operator.select_by_value("equals").await.unwrap();
    wait_for(&browser, &control("Condition 1 Value"))
        .await
        .send_keys("test")
        .await
        .unwrap();
    click(&browser, "//button[normalize-space()='Save rule']").await;
    wait_for(&browser, SAVED).await;
    assert_eq!(
        versions_reached(&envoy, Some(("env", "test")), REQUESTS),
        ["pay-v2"]
    );
    assert_eq!(
        versions_reached(&envoy, Some(("env", "prod")), REQUESTS),
        ["pay-v1"]
    );
    shot(&browser, "03-rule").await;

    // A wrong regex: the core's message beside the value; nothing changes.
    let before = fs::read(&file).unwrap();
    let operator = wait_for(&browser, &control("Condition 1 Operator")).await;
    operator.select_by_value("regex").await.unwrap();
    let value = wait_for(&browser, &control("Condition 1 Value")).await;
    value.clear().await.unwrap();
    value.send_keys("(a").await.unwrap();
    click(&browser, "//button[normalize-space()='Save rule']").await;
    wait_for(
        &browser,
        "//table[@id='conditions']//span[@class='error'][contains(., 'invalid regex')]",
    )
    .await;
    assert_eq!(
        fs::read(&file).unwrap(),
        before,
        "a refused rule changed the file"
    );
    assert_eq!(
        versions_reached(&envoy, Some(("env", "test")), REQUESTS),
        ["pay-v2"]
    );
    shot(&browser, "04-bad-regex").await;

    // Complete → Confirm: every request to the canary, and the next steps.
    click(&browser, "//button[normalize-space()='Complete']").await;
    wait_for(
        &browser,
        "//dialog[@open]//p[contains(., 'Every request will go to pay-v2')]",
    )
    .await;
    shot(&browser, "05-complete-dialog").await;
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
    assert_eq!(
        versions_reached(&envoy, Some(("env", "prod")), REQUESTS),
        ["pay-v2"]
    );
    shot(&browser, "06-complete").await;

    // Rollback → Confirm: every request to the baseline.
    click(&browser, "//button[normalize-space()='Rollback']").await;
    click(
        &browser,
        "//dialog[@open]//button[normalize-space()='Confirm']",
    )
    .await;
    wait_for(
        &browser,
        "//pre[@id='next-steps'][contains(., 'pay is rolled back')]",
    )
    .await;
    assert_eq!(
        versions_reached(&envoy, Some(("env", "test")), REQUESTS),
        ["pay-v1"]
    );
    wait_for(
        &browser,
        "//table[@id='history']//td[normalize-space()='console']",
    )
    .await;
    shot(&browser, "07-rollback").await;

    // canaryctl writes behind the page's back: the page's Save is refused
    // (412), says so, and reloads; the file keeps canaryctl's weight.
    let run = Canaryctl::find().run(&["set-weight", file.to_str().unwrap(), "pay", "5"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    wait_for(
        &browser,
        "//p[@id='notice'][contains(., 'The file was changed elsewhere')]",
    )
    .await;
    let weight = wait_for(&browser, &labelled("Weight (%)")).await;
    weight.clear().await.unwrap();
    weight.send_keys("7").await.unwrap();
    click(&browser, "//button[normalize-space()='Save']").await;
    wait_for(
        &browser,
        "//p[@id='notice'][contains(., 'The file changed since this page read it')]",
    )
    .await;
    assert_eq!(weight_in_file(&file), 500);
    let shown = wait_for(&browser, &labelled("Weight (%)")).await;
    assert_eq!(shown.prop("value").await.unwrap().as_deref(), Some("5"));
    wait_for(
        &browser,
        "//table[@id='history']//td[normalize-space()='canaryctl']",
    )
    .await;
    shot(&browser, "08-stale").await;
    browser.close().await.unwrap();

    // A console with a token: the page asks for it once, then works.
    let dir = tempfile::tempdir().unwrap();
    let guarded_file = dir.path().join("canary.json");
    fs::write(&guarded_file, plugin_config([pay_release()])).unwrap();
    let guarded = ConsoleServer::start(&guarded_file, &["--token", "s3cret"]);
    let profile = tempfile::tempdir().unwrap();
    let browser = driver.browser(profile.path(), "en-US").await;
    browser.goto(&guarded.url()).await.unwrap();
    let token = wait_for(
        &browser,
        "//dialog[@open]//input[@id=//label[normalize-space()='Token']/@for]",
    )
    .await;
    token.send_keys("s3cret").await.unwrap();
    shot(&browser, "10-token").await;
    click(&browser, "//dialog[@open]//button[normalize-space()='OK']").await;
    wait_for(
        &browser,
        "//table[@id='releases']//a[normalize-space()='pay']",
    )
    .await;
    browser.close().await.unwrap();

    // A browser that prefers Chinese gets the page in Chinese.
    let profile = tempfile::tempdir().unwrap();
    let browser = driver.browser(profile.path(), "zh-CN").await;
    browser
        .goto(&format!("{}#/release/pay", console.url()))
        .await
        .unwrap();
    wait_for(&browser, &labelled("权重 (%)")).await;
    wait_for(&browser, "//h1[contains(., '灰度发布控制台')]").await;
    wait_for(
        &browser,
        "//table[@id='instances']//td/div[contains(., '健康')]",
    )
    .await;
    shot(&browser, "09-zh").await;
    browser.close().await.unwrap();
}
