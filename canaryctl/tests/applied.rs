//! "Did Envoy apply it?" against a tiny fake Envoy admin on loopback that
//! serves a scripted series of ECDS counters: the library's verdicts, and
//! the CLI's `--wait` and `wait` on top of them.
// A test file: helpers panic on a failed expectation, as tests do.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::Duration;

use canaryctl::applied::{Verdict, WaitError, Watch};
use canaryctl::Admin;
use common::*;

const FILTER: &str = "canary-filter";

/// The admin's `/stats` body for (update_success, update_rejected, config_reload).
fn body((success, rejected, reload): (u64, u64, u64)) -> String {
    let stat = |name: &str, value: u64| {
        format!("extension_config_discovery.http_filter.{FILTER}.{name}: {value}\n")
    };
    stat("config_reload", reload)
        + &stat("update_rejected", rejected)
        + &stat("update_success", success)
}

/// A fake admin: the n-th request gets the n-th sample, the last one
/// repeated after that, until the returned flag is set.
struct FakeAdmin {
    url: String,
    stop: Arc<AtomicBool>,
    server: Option<JoinHandle<Vec<String>>>,
}

impl FakeAdmin {
    fn serve(samples: Vec<(u64, u64, u64)>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let server = thread::spawn(move || {
            let mut seen = Vec::new();
            while !flag.load(Ordering::SeqCst) {
                let Ok((stream, _)) = listener.accept() else {
                    thread::sleep(Duration::from_millis(2));
                    continue;
                };
                stream.set_nonblocking(false).unwrap();
                let mut reader = BufReader::new(stream);
                let mut line = String::new();
                reader.read_line(&mut line).unwrap();
                seen.push(line.trim_end().to_string());
                loop {
                    let mut header = String::new();
                    reader.read_line(&mut header).unwrap();
                    if header == "\r\n" || header.is_empty() {
                        break;
                    }
                }
                let sample = samples
                    .get(seen.len() - 1)
                    .or(samples.last())
                    .copied()
                    .unwrap();
                let text = body(sample);
                let mut stream = reader.into_inner();
                write!(
                    stream,
                    "HTTP/1.1 200 OK\r\ncontent-length: {}\r\n\r\n{text}",
                    text.len()
                )
                .unwrap();
            }
            seen
        });
        FakeAdmin {
            url,
            stop,
            server: Some(server),
        }
    }

    fn admin(&self) -> Admin {
        Admin::parse(&self.url).unwrap()
    }

    /// Stops the server; the request lines it saw.
    fn requests(mut self) -> Vec<String> {
        self.stop.store(true, Ordering::SeqCst);
        self.server.take().unwrap().join().unwrap()
    }
}

impl Drop for FakeAdmin {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

const LONG: Duration = Duration::from_secs(20);

#[test]
fn applied_once_every_worker_reloaded() {
    let fake = FakeAdmin::serve(vec![(1, 0, 1), (1, 0, 1), (2, 0, 1), (2, 0, 2)]);
    let watch = Watch::begin(&fake.admin(), FILTER).unwrap();
    assert_eq!(watch.before().update_success, 1);
    assert_eq!(watch.wait(true, LONG), Ok(Verdict::Applied));
    let requests = fake.requests();
    // Before, then polled until the reload: four reads.
    assert_eq!(requests.len(), 4, "{requests:?}");
    assert_eq!(
        requests[0],
        "GET /stats?filter=%5Eextension_config_discovery%5C.http_filter%5C.canary-filter%5C.%28update_success%7Cupdate_rejected%7Cconfig_reload%29%24 HTTP/1.1"
    );
}

#[test]
fn an_unchanged_filter_is_applied_without_a_reload() {
    let fake = FakeAdmin::serve(vec![(1, 0, 1), (2, 0, 1)]);
    let watch = Watch::begin(&fake.admin(), FILTER).unwrap();
    assert_eq!(watch.wait(false, LONG), Ok(Verdict::Applied));
}

#[test]
fn refused_and_settled() {
    let fake = FakeAdmin::serve(vec![(1, 0, 1), (1, 1, 1), (1, 1, 2)]);
    let watch = Watch::begin(&fake.admin(), FILTER).unwrap();
    assert_eq!(watch.wait(true, LONG), Ok(Verdict::Refused));
    assert_eq!(fake.requests().len(), 3);
    // A refusal whose reload never comes is still a refusal.
    let fake = FakeAdmin::serve(vec![(1, 0, 1), (1, 1, 1)]);
    let watch = Watch::begin(&fake.admin(), FILTER).unwrap();
    assert_eq!(
        watch.wait(true, Duration::from_millis(200)),
        Ok(Verdict::Refused)
    );
}

#[test]
fn no_answer_within_the_bound() {
    let fake = FakeAdmin::serve(vec![(1, 0, 1)]);
    let watch = Watch::begin(&fake.admin(), FILTER).unwrap();
    let error = watch.wait(true, Duration::from_millis(200)).unwrap_err();
    assert!(matches!(error, WaitError::NoAnswer { .. }), "{error:?}");
    assert!(
        error.to_string().contains(
            "did not answer: filter canary-filter was neither applied nor refused within"
        ),
        "{error}"
    );
    // Both verdicts at once: another writer.
    let fake = FakeAdmin::serve(vec![(1, 0, 1), (2, 1, 2)]);
    let watch = Watch::begin(&fake.admin(), FILTER).unwrap();
    assert!(matches!(
        watch.wait(true, LONG),
        Err(WaitError::TwoVerdicts { .. })
    ));
}

#[test]
fn an_admin_without_the_subscription_is_a_clear_error() {
    let fake = FakeAdmin::serve(vec![(1, 0, 1)]);
    let error = Watch::begin(&fake.admin(), "other-filter").unwrap_err();
    assert!(
        error.to_string().contains(
            "lists no ECDS counters extension_config_discovery.http_filter.other-filter.*"
        ),
        "{error}"
    );
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let nobody = Admin::parse(&format!("http://127.0.0.1:{port}")).unwrap();
    let error = Watch::begin(&nobody, FILTER).unwrap_err();
    assert!(
        error
            .to_string()
            .starts_with(&format!("cannot reach Envoy's admin at 127.0.0.1:{port}")),
        "{error}"
    );
}

#[test]
fn edit_with_wait_reports_envoys_verdict() {
    let dir = scratch("wait-edit");
    let path = write(&dir, "canary-filter.json", &ecds_json(PLUGIN));
    let fake = FakeAdmin::serve(vec![(1, 0, 1), (2, 0, 2)]);
    let out = ok(&[
        "set-weight",
        &path,
        "web",
        "30",
        "--wait",
        "--admin",
        &fake.url,
    ]);
    assert_eq!(
        out,
        format!(
            "web: weight 12.5% -> 30%\nEnvoy at {} applied the new config of filter canary-filter\n",
            &fake.url["http://".len()..]
        )
    );
    let fake = FakeAdmin::serve(vec![(2, 0, 2), (2, 1, 3)]);
    let stderr = rejected(&["complete", &path, "web", "--wait", "--admin", &fake.url]);
    assert!(
        stderr
            .contains("refused the new config of filter canary-filter and keeps the last good one"),
        "{stderr}"
    );
    let fake = FakeAdmin::serve(vec![(3, 1, 3)]);
    let run = canaryctl(&[
        "rollback",
        &path,
        "web",
        "--wait",
        "--admin",
        &fake.url,
        "--timeout",
        "0.2",
    ]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("did not answer"), "{}", run.stderr);
    // Nothing written: nothing to wait for, and Envoy is not asked.
    let fake = FakeAdmin::serve(vec![(3, 1, 3)]);
    let out = ok(&["rollback", &path, "web", "--wait", "--admin", &fake.url]);
    assert!(
        out.ends_with("nothing written, so nothing for Envoy to apply\n"),
        "{out}"
    );
    assert!(fake.requests().is_empty());
    // --wait needs an ECDS file, and says so before touching anything.
    let plugin = write(&dir, "plugin.json", PLUGIN);
    let stderr = rejected(&[
        "rollback",
        &plugin,
        "web",
        "--wait",
        "--admin",
        "http://127.0.0.1:9",
    ]);
    assert!(stderr.contains("Envoy watches ECDS files only"), "{stderr}");
    assert_eq!(read(&plugin), PLUGIN);
    // No admin to ask: refused before anything is written.
    let before = read(&path);
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let nobody = format!("http://127.0.0.1:{port}");
    let stderr = rejected(&[
        "set-weight",
        &path,
        "web",
        "45",
        "--wait",
        "--admin",
        &nobody,
    ]);
    assert!(stderr.contains("cannot reach Envoy's admin"), "{stderr}");
    assert_eq!(read(&path), before);
    // --wait and --admin go together.
    assert_eq!(canaryctl(&["rollback", &plugin, "web", "--wait"]).code, 2);
}

#[test]
fn wait_runs_the_command_then_waits() {
    let dir = scratch("wait-command");
    let path = write(&dir, "canary-filter.json", &ecds_json(PLUGIN));
    let staged = write(
        &dir,
        "staged.json",
        &ecds_json(&PLUGIN.replace("\"weight\": 20", "\"weight\": 25")),
    );
    let fake = FakeAdmin::serve(vec![(1, 0, 1), (2, 0, 2)]);
    let out = ok(&[
        "wait", "--admin", &fake.url, "--file", &path, "--", "mv", &staged, &path,
    ]);
    assert!(out.contains("applied the new config"), "{out}");
    assert!(read(&path).contains("\\\"weight\\\": 25"));
    let fake = FakeAdmin::serve(vec![(2, 0, 2), (2, 1, 3)]);
    let stderr = rejected(&["wait", "--admin", &fake.url, "--file", &path, "--", "true"]);
    assert!(stderr.contains("refused"), "{stderr}");
    let fake = FakeAdmin::serve(vec![(2, 0, 2)]);
    let stderr = rejected(&["wait", "--admin", &fake.url, "--file", &path, "--", "false"]);
    assert!(stderr.contains("false failed"), "{stderr}");
}
