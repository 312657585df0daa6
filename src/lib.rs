//! The proxy-wasm shell around `canary-core`: reads the plugin config,
//! hands each request's headers to the core's decision, writes the routing
//! header and counts. Nothing here decides anything.

mod host;
mod metrics;

use std::cell::Cell;
use std::rc::Rc;

use canary_core::{decide, Config, Request, Rng};
use log::{debug, error, info, warn};
use proxy_wasm::hostcalls;
use proxy_wasm::traits::{Context, HttpContext, RootContext};
use proxy_wasm::types::{Action, BufferType, ContextType, LogLevel};

use metrics::Metrics;

proxy_wasm::main! {{
    // Installs the SDK's logger and its panic hook; the real level is read
    // from the host once it can answer (in `on_vm_start`).
    proxy_wasm::set_log_level(LogLevel::Info);
    std::panic::set_hook(Box::new(|panic| {
        let _ = hostcalls::log(LogLevel::Critical, &format!("canary-filter panicked: {panic}"));
    }));
    proxy_wasm::set_root_context(|_| -> Box<dyn RootContext> { Box::new(CanaryRoot::default()) });
}}

/// What every request of one configuration shares.
struct Shared {
    config: Config,
    metrics: Metrics,
    rng: Cell<Rng>,
}

#[derive(Default)]
struct CanaryRoot {
    shared: Option<Rc<Shared>>,
    seed: u64,
}

impl Context for CanaryRoot {}

impl RootContext for CanaryRoot {
    fn on_vm_start(&mut self, _: usize) -> bool {
        follow_host_log_level();
        self.seed = fresh_seed();
        true
    }

    fn on_configure(&mut self, _: usize) -> bool {
        follow_host_log_level();
        // Envoy starts a VM once; a second plugin sharing it is only configured.
        if self.seed == 0 {
            self.seed = fresh_seed();
        }
        match load() {
            Ok((config, metrics)) => {
                info!(
                    "canary-filter: loaded {} release(s): {}",
                    config.releases.len(),
                    config
                        .releases
                        .iter()
                        .map(|r| r.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                );
                // A fresh stream for each configuration, from the VM's seed.
                let rng = Rng::new(self.seed ^ (config.releases.len() as u64).rotate_left(32));
                self.seed = Rng::new(self.seed).next_u64();
                self.shared = Some(Rc::new(Shared {
                    config,
                    metrics,
                    rng: Cell::new(rng),
                }));
                true
            }
            Err(message) => {
                error!("canary-filter: invalid plugin configuration: {message}");
                false
            }
        }
    }

    fn get_type(&self) -> Option<ContextType> {
        Some(ContextType::HttpContext)
    }

    fn create_http_context(&self, _: u32) -> Option<Box<dyn HttpContext>> {
        Some(Box::new(CanaryStream {
            shared: self.shared.clone(),
        }))
    }
}

fn fresh_seed() -> u64 {
    match getrandom::u64() {
        Ok(seed) => seed,
        Err(e) => {
            // Still random enough to split traffic; just not secret.
            warn!("canary-filter: getrandom failed ({e}); seeding from the clock");
            hostcalls::get_current_time()
                .ok()
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .map(|d| d.as_nanos() as u64)
                .unwrap_or(0x5eed)
        }
    }
}

fn load() -> Result<(Config, Metrics), String> {
    let bytes = hostcalls::get_buffer(BufferType::PluginConfiguration, 0, usize::MAX)
        .map_err(|status| format!("cannot read it from the host (status {})", status as u32))?
        .unwrap_or_default();
    let config = Config::from_json(&bytes).map_err(|e| e.to_string())?;
    let metrics = Metrics::define(&config)
        .map_err(|e| format!("cannot define metrics (host status {})", e.0))?;
    Ok((config, metrics))
}

/// Sets the `log` crate's level to the host's, so a per-request `debug!`
/// costs nothing unless Envoy's wasm logger is at debug.
fn follow_host_log_level() {
    if let Ok(level) = hostcalls::get_log_level() {
        proxy_wasm::set_log_level(level);
    }
}

struct CanaryStream {
    shared: Option<Rc<Shared>>,
}

impl Context for CanaryStream {}

impl HttpContext for CanaryStream {
    fn on_http_request_headers(&mut self, _: usize, _: bool) -> Action {
        if let Some(shared) = &self.shared {
            route(shared);
        }
        Action::Continue
    }
}

fn route(shared: &Shared) {
    let buffer = match host::request_headers() {
        Ok(buffer) => buffer,
        Err(e) => {
            // No decision without headers; still, no client header may route.
            warn!(
                "canary-filter: cannot read request headers (host status {})",
                e.0
            );
            for header in shared.config.routing_headers() {
                let _ = host::remove_request_header(header);
            }
            return;
        }
    };
    let pairs = host::parse_pairs(&buffer);
    let mut rng = shared.rng.get();
    let roll = rng.roll();
    shared.rng.set(rng);

    let outcome = decide(&shared.config, &Request::new(&pairs), roll);
    let written = outcome.as_ref().map(|o| o.release.header.as_str());
    // Anti-spoofing: no routing header of the client's survives.
    for header in shared.config.routing_headers() {
        let sent = pairs
            .iter()
            .any(|(name, _)| name.eq_ignore_ascii_case(header.as_bytes()));
        if sent && written != Some(header.as_str()) && host::remove_request_header(header).is_err()
        {
            warn!("canary-filter: cannot remove the client's {header} header");
        }
    }
    let Some(outcome) = outcome else {
        shared.metrics.count_no_release();
        return;
    };
    let release = outcome.release;
    if host::set_request_header(&release.header, outcome.value()).is_err() {
        warn!(
            "canary-filter: cannot set {}: {}",
            release.header,
            outcome.value()
        );
    }
    shared
        .metrics
        .count(outcome.index, outcome.version, outcome.reason);
    debug!(
        "canary-filter: release={} version={} reason={} {}={}",
        release.name,
        outcome.version.as_str(),
        outcome.reason.as_str(),
        release.header,
        outcome.value()
    );
}
