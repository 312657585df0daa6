//! `canaryctl auto --prometheus`: a real Prometheus server (Debian's
//! `prometheus`, which `make test` installs when missing; `PROMETHEUS`
//! overrides the path) on a loopback port, scraping Envoy's
//! `/stats/prometheus` every second into a temporary folder, as the health
//! source of one healthy and one failing run.

use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::thread::sleep;
use std::time::{Duration, Instant};

use serde_json::json;

use super::bench::{run_auto, Bench, Faults, FAST};
use crate::support::{Client, Request, TempDir};

const READY_TIMEOUT: Duration = Duration::from_secs(60);

/// A Prometheus process, killed on drop.
struct Prometheus {
    child: Child,
    addr: SocketAddr,
    _dir: TempDir,
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn binary() -> PathBuf {
    let path = std::env::var_os("PROMETHEUS")
        .filter(|p| !p.is_empty())
        .map_or_else(|| PathBuf::from("/usr/bin/prometheus"), PathBuf::from);
    assert!(
        path.is_file(),
        "no Prometheus at {}: `make test` installs Debian's prometheus package (apt-get install -y prometheus), or set PROMETHEUS",
        path.display()
    );
    path
}

impl Prometheus {
    /// Starts Prometheus scraping `envoy_admin`, and waits until it holds
    /// Envoy's cluster counters.
    fn start(envoy_admin: SocketAddr) -> Prometheus {
        let dir = TempDir::new("prometheus");
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .unwrap()
            .port();
        let config = dir.path().join("prometheus.yml");
        std::fs::write(
            &config,
            format!(
                "global: {{scrape_interval: 1s, evaluation_interval: 1s}}\n\
                 scrape_configs:\n- job_name: envoy\n  metrics_path: /stats/prometheus\n  \
                 static_configs: [{{targets: ['{envoy_admin}']}}]\n"
            ),
        )
        .unwrap();
        let log = std::fs::File::create(dir.path().join("prometheus.log")).unwrap();
        let child = Command::new(binary())
            .arg(format!("--config.file={}", config.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.path().join("data").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .arg("--log.level=warn")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start prometheus");
        let prometheus = Prometheus {
            child,
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
            _dir: dir,
        };
        let started = Instant::now();
        while !prometheus.has_envoy_counters() {
            assert!(
                started.elapsed() < READY_TIMEOUT,
                "Prometheus did not scrape Envoy within {READY_TIMEOUT:?}"
            );
            sleep(Duration::from_millis(200));
        }
        prometheus
    }

    fn has_envoy_counters(&self) -> bool {
        let request = Request::get(
            "/api/v1/query?query=envoy_cluster_upstream_rq_completed%7Benvoy_cluster_name%3D%22pay-v2%22%7D",
        )
        .host("prometheus")
        .header("connection", "close");
        Client::new(self.addr)
            .try_send(&request)
            .is_ok_and(|r| r.status == 200 && r.body_text().contains("pay-v2"))
    }

    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

fn args<'a>(admin: &'a str, prometheus: &'a str) -> Vec<&'a str> {
    let mut args = vec!["--admin", admin, "--prometheus", prometheus];
    args.extend_from_slice(FAST);
    args.extend_from_slice(&["--interval", "2s"]);
    args
}

#[test]
fn prometheus_as_the_source_completes_a_healthy_canary() {
    let bench = Bench::start(Faults::default());
    let prometheus = Prometheus::start(bench.envoy.admin);
    let load = bench.load("pay-service", 1);
    let (admin, url) = (bench.admin_url(), prometheus.url());
    let run = run_auto(bench.file(), &args(&admin, &url));
    // status reads the same source: the canary, at 100% now, has the traffic.
    let status = crate::support::release::Canaryctl::find().run(&[
        "status",
        "--prometheus",
        &url,
        "--file",
        bench.file(),
        "--interval",
        "2",
        "--json",
    ]);
    let tally = load.finish();
    run.print("prometheus, healthy");
    assert_eq!(status.code, 0, "{}", status.stderr);
    let report: serde_json::Value = serde_json::from_str(&status.stdout).unwrap();
    assert!(report["source"]
        .as_str()
        .unwrap()
        .starts_with("Prometheus at"));
    assert_eq!(report["versions"][1]["version"], "pay-v2");
    assert!(
        report["versions"][1]["requests"].as_u64().unwrap() > 0,
        "{report}"
    );
    assert_eq!(report["versions"][1]["error_rate"], 0.0, "{report}");
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.of("started")[0]["source"]
        .as_str()
        .unwrap()
        .starts_with("Prometheus at"));
    assert_eq!(
        run.verdicts().iter().filter(|(_, v)| v == "pass").count(),
        3
    );
    assert_eq!(bench.weight(), json!(100));
    tally.assert_no_failure("during the Prometheus-judged run");
}

#[test]
fn prometheus_as_the_source_rolls_back_a_failing_canary() {
    let bench = Bench::start(Faults {
        abort_percent: 20,
        ..Faults::default()
    });
    let prometheus = Prometheus::start(bench.envoy.admin);
    let _load = bench.load("pay-service", 1);
    let (admin, url) = (bench.admin_url(), prometheus.url());
    let run = run_auto(bench.file(), &args(&admin, &url));
    run.print("prometheus, 20% errors");
    assert_eq!(run.code, 3, "{}", run.stderr);
    let reason = run.of("rolled_back")[0]["reason"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(reason.contains("error rate"), "{reason}");
    assert_eq!(bench.weight(), json!(0));
    eprintln!(
        "first bad step to rollback (Prometheus, 20% errors): {} ms",
        run.first_bad_step_to_rollback_ms()
    );
}
