//! One Envoy process running the canary filter, the way `make run` does, on
//! free loopback ports and in its own temporary folder.

use std::fs::{self, File};
use std::io::Read;
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::atomic::AtomicU32;
use std::sync::Mutex;
use std::thread::sleep;
use std::time::{Duration, Instant};

use super::http::{Client, Request, Response};
use super::render::{self, Mode, Ports};
use super::{canary_wasm, envoy_binary, TempDir};

/// Bounds on waiting for Envoy to start and to stop.
const START_TIMEOUT: Duration = Duration::from_secs(60);
const STOP_TIMEOUT: Duration = Duration::from_secs(20);
pub(super) const POLL: Duration = Duration::from_millis(20);
/// Lines of Envoy's log printed when a test fails.
pub(super) const TAIL_LINES: usize = 60;
/// Binding the upstream ports can lose a race with another process; retry.
const START_ATTEMPTS: u32 = 3;

/// The ECDS filter's name (= the HTTP filter's name in the bootstrap).
pub const FILTER_NAME: &str = "canary-filter";

/// Runs Envoy as the child of a small shell that holds the test process's
/// pipe: when the test process ends (even from a panic in a `static`'s
/// initializer, whose Drop never runs), the pipe closes and the shell stops
/// Envoy, so no Envoy outlives `cargo test`. Its exit status is Envoy's.
const WATCHDOG: &str = r#"
exec 3<&0
"$0" "$@" </dev/null &
envoy=$!
( read -r _ <&3; kill -TERM "$envoy" 2>/dev/null ) &
watcher=$!
exec 3<&-
status=0
wait "$envoy" || status=$?
kill "$watcher" 2>/dev/null
exit "$status"
"#;

/// How to start an Envoy; see [`Envoy::builder`].
#[derive(Debug, Clone)]
pub struct EnvoyBuilder {
    /// `None`: the Wasm filter gets no `configuration` field at all.
    plugin_config: Option<String>,
    mode: Mode,
    concurrency: u32,
    log_level: String,
    component_log_level: Option<String>,
    early_strip: bool,
    /// A bootstrap of the test's own instead of envoy-test's templates.
    bootstrap: Option<String>,
}

impl EnvoyBuilder {
    /// Runs `bootstrap` (JSON or YAML text) instead of the envoy-test
    /// templates, for a test that needs routes of its own. Its listener must
    /// be named `front` and its admin port may be 0; the demo upstreams are
    /// not started. With [`Self::ecds`], its filters' `config_discovery`
    /// may be [`render::OWN_ECDS_SOURCE`], the harness's ECDS file.
    pub fn bootstrap(mut self, bootstrap: String) -> Self {
        self.bootstrap = Some(bootstrap);
        self
    }

    /// Static (default) or ECDS mode.
    pub fn mode(mut self, mode: Mode) -> Self {
        self.mode = mode;
        self
    }

    /// ECDS mode: the plugin config comes from a watched file, and
    /// [`Envoy::apply_plugin_config`] replaces it while Envoy runs.
    pub fn ecds(self) -> Self {
        self.mode(Mode::Ecds)
    }

    /// Leaves the `configuration` field out of the Wasm filter's config
    /// altogether (the plugin then reads an empty configuration).
    pub fn without_configuration(mut self) -> Self {
        self.plugin_config = None;
        self
    }

    /// Strips the client's routing headers before any filter runs, as
    /// `make run` does (off by default, so tests see what the filter does
    /// with a client's header).
    pub fn early_strip(mut self) -> Self {
        self.early_strip = true;
        self
    }

    /// Worker threads (default 1: tests share 2 cores).
    pub fn concurrency(mut self, workers: u32) -> Self {
        self.concurrency = workers;
        self
    }

    /// Envoy's `-l` level (default `warning`, which keeps the log short
    /// enough for its tail to show what went wrong).
    pub fn log_level(mut self, level: &str) -> Self {
        self.log_level = level.to_owned();
        self
    }

    /// Envoy's `--component-log-level` (default `wasm:info`: the filter's
    /// own messages); `wasm:debug` adds its per-request
    /// `canary-filter: release=...` line.
    pub fn component_log_level(mut self, levels: &str) -> Self {
        self.component_log_level = Some(levels.to_owned());
        self
    }

    /// Starts Envoy and waits until it is ready; panics with the log's tail
    /// if it exits or is not ready within a minute.
    pub fn start(self) -> Envoy {
        for attempt in 1..=START_ATTEMPTS {
            let mut envoy = self.spawn();
            match envoy.wait_ready() {
                Ok(()) => return envoy,
                Err(StartError::PortTaken) if attempt < START_ATTEMPTS => {
                    eprintln!("envoy: a chosen port was taken meanwhile; retrying");
                }
                Err(StartError::PortTaken) => panic!(
                    "Envoy could not bind its ports in {START_ATTEMPTS} attempts\n{}",
                    envoy.log_tail(TAIL_LINES)
                ),
                Err(StartError::Exited(status)) => panic!(
                    "Envoy exited during start-up ({status}); its log {}:\n{}",
                    envoy.log_path().display(),
                    envoy.log_tail(TAIL_LINES)
                ),
                Err(StartError::Timeout) => panic!(
                    "Envoy was not ready within {START_TIMEOUT:?}; its log {}:\n{}",
                    envoy.log_path().display(),
                    envoy.log_tail(TAIL_LINES)
                ),
            }
        }
        unreachable!("the last attempt returns or panics")
    }

    /// Starts Envoy expecting it to refuse the config and exit; panics if it
    /// becomes ready instead, or does not exit within a minute.
    pub fn start_expecting_exit(self) -> Exited {
        let mut envoy = self.spawn();
        match envoy.wait_ready() {
            Err(StartError::Exited(status)) => Exited {
                status,
                log: envoy.log(),
            },
            Ok(()) => panic!(
                "Envoy accepted the config and started, but it should have refused it; its log:\n{}",
                envoy.log_tail(TAIL_LINES)
            ),
            Err(e) => panic!(
                "Envoy neither started nor exited as expected ({e:?}); its log:\n{}",
                envoy.log_tail(TAIL_LINES)
            ),
        }
    }

    fn spawn(&self) -> Envoy {
        let dir = TempDir::new("envoy");
        let ecds_file = dir.path().join("ecds").join("canary-filter.json");
        let ports = Ports {
            admin: 0,
            front: 0,
            pay_v1: free_port(),
            pay_v2: free_port(),
            pay_v3: free_port(),
        };
        let wasm = canary_wasm();
        let bootstrap_path = dir.path().join("envoy.yaml");
        let admin_path = dir.path().join("admin-address");
        let log_path = dir.path().join("envoy.log");
        let bootstrap = match &self.bootstrap {
            Some(own) => own.replace(
                render::OWN_ECDS_SOURCE,
                &render::config_discovery(&ecds_file),
            ),
            None => render::bootstrap(
                ports,
                self.mode,
                &wasm,
                self.plugin_config.as_deref(),
                &ecds_file,
                self.early_strip,
            ),
        };
        write(&bootstrap_path, &bootstrap);
        if self.mode == Mode::Ecds {
            // Envoy reads the first ECDS file at start-up.
            write_renamed(
                &ecds_file,
                &render::ecds_resource(&wasm, self.plugin_config.as_deref(), "harness-0"),
            );
        }
        let log = File::create(&log_path)
            .unwrap_or_else(|e| panic!("cannot create {}: {e}", log_path.display()));
        let log_err = log.try_clone().expect("clone the log file handle");
        let mut command = Command::new("bash");
        command
            .arg("-c")
            .arg(WATCHDOG)
            .arg(envoy_binary())
            .arg("-c")
            .arg(&bootstrap_path)
            .arg("--disable-hot-restart")
            .arg("--concurrency")
            .arg(self.concurrency.to_string())
            .arg("--admin-address-path")
            .arg(&admin_path)
            .arg("-l")
            .arg(&self.log_level);
        if let Some(levels) = &self.component_log_level {
            command.arg("--component-log-level").arg(levels);
        }
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(log)
            .stderr(log_err)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start bash to run Envoy: {e}"));
        let lifeline = child.stdin.take();
        Envoy {
            process: Mutex::new(Process {
                child,
                lifeline,
                exit: None,
            }),
            mode: self.mode,
            wasm,
            admin_path,
            log_path,
            ecds_file,
            admin: SocketAddr::from(([127, 0, 0, 1], 0)),
            front: SocketAddr::from(([127, 0, 0, 1], 0)),
            ecds_version: AtomicU32::new(0),
            dir,
        }
    }
}

/// What an Envoy that refused to start left behind.
#[derive(Debug)]
pub struct Exited {
    pub status: ExitStatus,
    /// Its whole log.
    pub log: String,
}

#[derive(Debug)]
enum StartError {
    Exited(ExitStatus),
    PortTaken,
    Timeout,
}

struct Process {
    child: Child,
    /// Our end of the watchdog's pipe: dropping it stops Envoy.
    lifeline: Option<ChildStdin>,
    exit: Option<ExitStatus>,
}

/// A running Envoy with the canary filter. Dropping it stops Envoy (and
/// prints its log's tail if the test is failing). `Sync`, so a test file
/// may share one through a `static OnceLock<Envoy>`; then use
/// [`Envoy::log_on_failure`] to see its log when a test fails.
pub struct Envoy {
    process: Mutex<Process>,
    pub(super) mode: Mode,
    pub(super) wasm: PathBuf,
    admin_path: PathBuf,
    log_path: PathBuf,
    pub(super) ecds_file: PathBuf,
    /// Envoy's admin interface.
    pub admin: SocketAddr,
    /// The front listener, where requests go through the canary filter.
    pub front: SocketAddr,
    /// Numbers the ECDS updates (their `version_info`).
    pub(super) ecds_version: AtomicU32,
    /// Last, so the folder goes after the process.
    dir: TempDir,
}

impl Envoy {
    /// A builder for an Envoy whose canary filter has `plugin_config` (the
    /// filter's JSON, sent as is: it may be invalid on purpose).
    pub fn builder(plugin_config: &str) -> EnvoyBuilder {
        EnvoyBuilder {
            plugin_config: Some(plugin_config.to_owned()),
            mode: Mode::Static,
            concurrency: 1,
            log_level: "warning".to_owned(),
            component_log_level: Some("wasm:info".to_owned()),
            early_strip: false,
            bootstrap: None,
        }
    }

    /// Starts an Envoy with `plugin_config` inline in the bootstrap.
    pub fn start(plugin_config: &str) -> Envoy {
        Self::builder(plugin_config).start()
    }

    /// Starts an Envoy that loads `plugin_config` through ECDS.
    pub fn start_ecds(plugin_config: &str) -> Envoy {
        Self::builder(plugin_config).ecds().start()
    }

    /// A new keep-alive client of the front listener.
    pub fn client(&self) -> Client {
        Client::new(self.front)
    }

    /// Sends one request to the front listener on a fresh connection.
    pub fn send(&self, request: &Request) -> Response {
        self.client().send(request)
    }

    /// This Envoy's temporary folder (config, log, ECDS files).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    pub fn log_path(&self) -> &Path {
        &self.log_path
    }

    /// Envoy's whole log so far.
    pub fn log(&self) -> String {
        let mut text = String::new();
        if let Ok(mut file) = File::open(&self.log_path) {
            let mut bytes = Vec::new();
            let _ = file.read_to_end(&mut bytes);
            text = String::from_utf8_lossy(&bytes).into_owned();
        }
        text
    }

    /// The last `lines` lines of the log, headed by the log's path.
    pub fn log_tail(&self, lines: usize) -> String {
        let log = self.log();
        let all: Vec<&str> = log.lines().collect();
        let from = all.len().saturating_sub(lines);
        format!(
            "---- last {} lines of {} ----\n{}\n----",
            all.len() - from,
            self.log_path.display(),
            all[from..].join("\n")
        )
    }

    /// A guard that prints the log's tail if the test panics while it lives.
    /// For a shared Envoy, whose Drop never runs: `let _log = envoy.log_on_failure();`
    pub fn log_on_failure(&self) -> LogOnFailure<'_> {
        LogOnFailure { envoy: self }
    }

    /// Stops Envoy (SIGTERM through the watchdog) and returns its exit
    /// status. Later calls return the same status.
    pub fn stop(&self) -> ExitStatus {
        let mut process = self.process.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(status) = process.exit {
            return status;
        }
        process.lifeline = None;
        let deadline = Instant::now() + STOP_TIMEOUT;
        loop {
            if let Ok(Some(status)) = process.child.try_wait() {
                process.exit = Some(status);
                return status;
            }
            if Instant::now() >= deadline {
                let _ = process.child.kill();
                let status = process.child.wait().expect("reap the Envoy watchdog");
                process.exit = Some(status);
                return status;
            }
            sleep(POLL);
        }
    }

    /// Polls until Envoy is ready, has exited, or the start-up bound passes.
    fn wait_ready(&mut self) -> Result<(), StartError> {
        let deadline = Instant::now() + START_TIMEOUT;
        while Instant::now() < deadline {
            if let Some(status) = self.exit_status() {
                let log = self.log();
                if log.contains("Address already in use") || log.contains("cannot bind") {
                    return Err(StartError::PortTaken);
                }
                return Err(StartError::Exited(status));
            }
            if self.admin.port() == 0 {
                if let Some(addr) = fs::read_to_string(&self.admin_path)
                    .ok()
                    .and_then(|text| text.trim().parse().ok())
                {
                    self.admin = addr;
                }
            } else if self.is_ready() {
                self.front = self.listener_address("front");
                return Ok(());
            }
            sleep(POLL);
        }
        Err(StartError::Timeout)
    }

    fn exit_status(&self) -> Option<ExitStatus> {
        let mut process = self.process.lock().unwrap_or_else(|e| e.into_inner());
        if process.exit.is_none() {
            process.exit = process.child.try_wait().ok().flatten();
        }
        process.exit
    }

    fn is_ready(&self) -> bool {
        Client::new(self.admin)
            .try_send(
                &Request::get("/ready")
                    .host("admin")
                    .header("connection", "close"),
            )
            .is_ok_and(|r| r.status == 200 && r.body_text().trim() == "LIVE")
    }

    /// The bound address of listener `name`, from `/listeners?format=json`.
    fn listener_address(&self, name: &str) -> SocketAddr {
        let body = self.admin_get("/listeners?format=json");
        let json: serde_json::Value = serde_json::from_str(&body).expect("listeners JSON");
        let listener = json["listener_statuses"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|l| l["name"] == name)
            .unwrap_or_else(|| panic!("Envoy has no listener {name}: {body}"));
        let socket = &listener["local_address"]["socket_address"];
        let ip: std::net::IpAddr = socket["address"]
            .as_str()
            .unwrap_or("")
            .parse()
            .expect("listener ip");
        let port = socket["port_value"].as_u64().unwrap_or(0);
        SocketAddr::new(ip, u16::try_from(port).expect("port fits u16"))
    }
}

impl Drop for Envoy {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("{}", self.log_tail(TAIL_LINES));
        }
        self.stop();
    }
}

/// See [`Envoy::log_on_failure`].
pub struct LogOnFailure<'a> {
    envoy: &'a Envoy,
}

impl Drop for LogOnFailure<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("{}", self.envoy.log_tail(TAIL_LINES));
        }
    }
}

/// A loopback port free right now. Envoy binds it moments later; a rare
/// race with another process is retried by [`EnvoyBuilder::start`].
pub(super) fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or_else(|e| panic!("cannot find a free loopback port: {e}"))
}

fn write(path: &Path, text: &str) {
    fs::write(path, text).unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
}

/// Writes `target` whole under a sibling `ecds-staging` folder, then renames
/// it into place: Envoy's watched directory reacts to a move only, and must
/// never see a half-written file.
pub(super) fn write_renamed(target: &Path, text: &str) {
    let watched = target.parent().expect("the ECDS file has a folder");
    let staging = watched.with_file_name("ecds-staging");
    for dir in [watched, staging.as_path()] {
        fs::create_dir_all(dir).unwrap_or_else(|e| panic!("cannot create {}: {e}", dir.display()));
    }
    let staged = staging.join(target.file_name().expect("the ECDS file has a name"));
    write(&staged, text);
    fs::rename(&staged, target).unwrap_or_else(|e| {
        panic!(
            "cannot rename {} into {}: {e}",
            staged.display(),
            watched.display()
        )
    });
}
