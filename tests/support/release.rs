//! What a test of the release steps needs beyond one Envoy: the real
//! `canaryctl` binary, a tally of the responses a group of requests got, a
//! background client that keeps a connection busy meanwhile, and Envoy's
//! verdict on an ECDS file that something else (canaryctl, a script)
//! renamed into place.
//!
//! ```ignore
//! let ctl = Canaryctl::find();
//! let mut watch = EcdsWatch::new(&file);
//! let (outcome, run) = watch.change(&envoy, || ctl.run(&["set-weight", path, "pay", "20"]));
//! assert_eq!((outcome, run.code), (EcdsOutcome::Applied, 0));
//! ```

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

use canaryctl::document::EcdsFilter;

use super::admin::{ecds_filter, EcdsOutcome};
use super::envoy::Envoy;
use super::http::{Client, Request, Response};
use super::repo_root;

/// The background client's pause between requests: steady load (several
/// hundred a second) that leaves most of two shared cores to Envoy.
const LOAD_PAUSE: Duration = Duration::from_millis(1);
/// Hard bounds on the background client, should nothing stop it.
const LOAD_MAX_REQUESTS: u64 = 100_000;
const LOAD_MAX_TIME: Duration = Duration::from_secs(120);

/// The canaryctl binary the tests drive.
#[derive(Debug, Clone)]
pub struct Canaryctl {
    path: PathBuf,
}

/// canaryctl's exit status, stdout and stderr.
#[derive(Debug)]
pub struct CtlRun {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Canaryctl {
    /// `$CANARYCTL`, else the newest of `target/{debug,release}/canaryctl`
    /// (so a fresh `cargo build` or `make build` wins), else one built now
    /// with `cargo build -p canaryctl`.
    pub fn find() -> Self {
        if let Some(path) = std::env::var_os("CANARYCTL").filter(|p| !p.is_empty()) {
            let path = PathBuf::from(path);
            assert!(path.is_file(), "CANARYCTL={} is not a file", path.display());
            return Self { path };
        }
        let root = repo_root();
        let target = std::env::var_os("CARGO_TARGET_DIR")
            .map_or_else(|| root.join("target"), |d| root.join(d));
        let newest = ["debug", "release"]
            .iter()
            .map(|profile| target.join(profile).join("canaryctl"))
            .filter_map(|path| Some((fs::metadata(&path).ok()?.modified().ok()?, path)))
            .max_by_key(|(modified, _)| *modified);
        if let Some((_, path)) = newest {
            return Self { path };
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
        Self { path }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Runs canaryctl with `args` to the end; panics only if it cannot be
    /// started or dies from a signal.
    pub fn run(&self, args: &[&str]) -> CtlRun {
        let output = Command::new(&self.path)
            .args(args)
            .output()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", self.path.display()));
        let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
        CtlRun {
            code: output.status.code().expect("canaryctl exited by a signal"),
            stdout: text(&output.stdout),
            stderr: text(&output.stderr),
        }
    }
}

impl CtlRun {
    /// Asserts that canaryctl refused: exit 1, nothing on stdout, one line
    /// `canaryctl: ...` on stderr.
    pub fn assert_refused(&self, args: &[&str]) {
        assert_eq!(
            (self.code, self.stdout.as_str()),
            (1, ""),
            "canaryctl {args:?} should refuse: {}",
            self.stderr
        );
        assert!(
            self.stderr.starts_with("canaryctl: ") && self.stderr.lines().count() == 1,
            "canaryctl {args:?}: not one line: {}",
            self.stderr
        );
    }
}

/// Runs `edit`, which must leave `file` as it was: the same bytes, and the
/// same inode (no new file renamed over it).
pub fn leaves_alone<T>(file: &Path, what: &str, edit: impl FnOnce() -> T) -> T {
    let read = || (fs::read(file).unwrap(), fs::metadata(file).unwrap().ino());
    let (bytes, inode) = read();
    let result = edit();
    let (bytes_after, inode_after) = read();
    assert!(bytes_after == bytes, "{what} changed {}", file.display());
    assert_eq!(inode_after, inode, "{what} replaced {}", file.display());
    result
}

/// What a group of requests to the demo service got back.
#[derive(Debug, Default, Clone)]
pub struct Tally {
    pub v1: u64,
    pub v2: u64,
    /// Non-2xx, or a 2xx from neither upstream.
    pub failed: u64,
    /// No response at all (connect, write or read error).
    pub connection_errors: u64,
    /// The first few failures, for an assertion message.
    pub problems: Vec<String>,
}

impl Tally {
    /// Counts one request's outcome.
    pub fn record(&mut self, result: io::Result<Response>) {
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

    /// Every request counted, answered or not.
    pub fn total(&self) -> u64 {
        self.v1 + self.v2 + self.failed + self.connection_errors
    }

    /// Responses from `version` (`pay-v1` or `pay-v2`).
    pub fn on(&self, version: &str) -> u64 {
        match version {
            "pay-v1" => self.v1,
            "pay-v2" => self.v2,
            other => panic!("the demo has no upstream {other}"),
        }
    }

    pub fn add(&mut self, other: &Tally) {
        self.v1 += other.v1;
        self.v2 += other.v2;
        self.failed += other.failed;
        self.connection_errors += other.connection_errors;
        self.problems.extend(other.problems.iter().cloned());
    }

    /// Asserts that every request got a 2xx from one of the upstreams.
    pub fn assert_no_failure(&self, what: &str) {
        let failures = (self.failed, self.connection_errors);
        assert_eq!(
            failures,
            (0, 0),
            "{what} requests failed: {:?}",
            self.problems
        );
    }

    /// The header of a table of [`Tally::row`]s.
    pub fn header() -> String {
        format!(
            "{:<28} {:<10} {:>6} {:>6} {:>6} {:>6} {:>6}",
            "step", "requests", "total", "pay-v1", "pay-v2", "failed", "conn"
        )
    }

    /// One line of the table: the step, what was sent, the counts.
    pub fn row(&self, step: &str, label: &str) -> String {
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

/// Prints the per-step table: each measured group, then the background
/// client's tally per step (named by `steps`), then both totals, which it
/// returns.
pub fn print_counts(
    measured: &[(&str, &str, Tally)],
    background: &BTreeMap<usize, Tally>,
    steps: &[&str],
) -> (Tally, Tally) {
    eprintln!("\n{}", Tally::header());
    let (mut measured_total, mut background_total) = (Tally::default(), Tally::default());
    for (step, label, tally) in measured {
        eprintln!("{}", tally.row(step, label));
        measured_total.add(tally);
    }
    for (&step, tally) in background {
        let name = steps.get(step).copied().unwrap_or("(unnamed step)");
        eprintln!("{}", tally.row(name, "background"));
        background_total.add(tally);
    }
    eprintln!("{}", measured_total.row("all measured", ""));
    eprintln!("{}", background_total.row("all background", ""));
    (measured_total, background_total)
}

/// A background client's state, shared with the test that drives it: the
/// step in progress (its requests are counted under it), how many it has
/// sent so far, and when to stop.
#[derive(Debug, Default)]
pub struct Load {
    stop: AtomicBool,
    step: AtomicUsize,
    sent: AtomicU64,
}

impl Load {
    /// Sends `requests` in turn on one keep-alive connection to `front`, a
    /// short pause apart, until [`Load::stop`] (or a hard bound of 100,000
    /// requests or 120 s); returns the tally of each step.
    pub fn run(&self, front: SocketAddr, requests: &[Request]) -> BTreeMap<usize, Tally> {
        assert!(!requests.is_empty(), "the background client needs requests");
        let mut client = Client::new(front);
        let mut tallies = BTreeMap::<usize, Tally>::new();
        let started = Instant::now();
        for request in requests.iter().cycle().take(LOAD_MAX_REQUESTS as usize) {
            if self.stop.load(Ordering::SeqCst) || started.elapsed() > LOAD_MAX_TIME {
                break;
            }
            let result = client.try_send(request);
            tallies.entry(self.step()).or_default().record(result);
            self.sent.fetch_add(1, Ordering::SeqCst);
            sleep(LOAD_PAUSE);
        }
        tallies
    }

    /// Counts the requests from now on under `step`.
    pub fn enter(&self, step: usize) {
        self.step.store(step, Ordering::SeqCst);
    }

    pub fn step(&self) -> usize {
        self.step.load(Ordering::SeqCst)
    }

    /// Requests sent so far, answered or failed.
    pub fn sent(&self) -> u64 {
        self.sent.load(Ordering::SeqCst)
    }

    pub fn stop(&self) {
        self.stop.store(true, Ordering::SeqCst);
    }

    /// Stops the client when dropped, so that a failing test does not wait
    /// for the load it started.
    pub fn stop_on_drop(&self) -> StopOnDrop<'_> {
        StopOnDrop(self)
    }
}

/// See [`Load::stop_on_drop`].
pub struct StopOnDrop<'a>(&'a Load);

impl Drop for StopOnDrop<'_> {
    fn drop(&mut self) {
        self.0.stop();
    }
}

/// One ECDS file that Envoy watches and something other than the harness
/// rewrites (unlike [`Envoy::apply_plugin_config`], which writes it too).
#[derive(Debug)]
pub struct EcdsWatch {
    file: PathBuf,
    /// The filter Envoy last received, applied or not: Envoy rebuilds the
    /// filter only when its `typed_config` changes (it compares hashes).
    delivered: EcdsFilter,
}

impl EcdsWatch {
    /// Watches `file` as it is now, which Envoy has already received.
    pub fn new(file: &Path) -> Self {
        Self {
            file: file.to_path_buf(),
            delivered: ecds_filter(file),
        }
    }

    pub fn file(&self) -> &Path {
        &self.file
    }

    /// Runs `change`, which renames a new file into place (or does
    /// nothing), and waits (bounded) for Envoy's verdict on it, decided by
    /// canaryctl's library (`canaryctl::applied`), as `canaryctl --wait` is.
    pub fn change<T>(&mut self, envoy: &Envoy, change: impl FnOnce() -> T) -> (EcdsOutcome, T) {
        let watch = envoy.ecds_watch();
        let result = change();
        let now = ecds_filter(&self.file);
        let rebuilt = now != self.delivered;
        self.delivered = now;
        (envoy.ecds_verdict(&watch, rebuilt), result)
    }
}
