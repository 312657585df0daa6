//! The proxy-wasm shell around `canary-core`: reads the plugin config,
//! hands each request's headers to the core's routing plan, and carries it
//! out (removes and writes headers, counts, logs). Nothing here decides
//! anything.
//!
//! The SDK supplies the host calls, the allocator and the logger, but not
//! its per-request context objects: Envoy calls into a module once for
//! every exported callback on every request, and the SDK's contexts need
//! three such calls (create, headers, delete) where the filter needs one.
//! So the filter implements the two callbacks it uses itself, exported as
//! `canary_on_*` (the SDK already defines the ABI names) and renamed to
//! `proxy_on_*` by tools/wasm-slim, which also drops the SDK's exports.
//! Without `proxy_on_context_create` a request does not say which plugin it
//! belongs to, so a VM serves one configuration (src/tenancy.rs).

mod host;
mod lane_store;
mod metrics;
mod tenancy;

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use canary_core::{
    plan_unreadable, plan_with_lane, Config, Lanes, ListenerDirection, Request, Rng,
};
use log::{debug, error, info, warn};
use proxy_wasm::hostcalls;
use proxy_wasm::types::{BufferType, LogLevel};

use metrics::Metrics;
use tenancy::{Admission, Tenancy};

proxy_wasm::main! {{
    // Installs the SDK's logger and a panic hook; the real level is read
    // from the host at configure time.
    proxy_wasm::set_log_level(LogLevel::Info);
    std::panic::set_hook(Box::new(|panic| {
        let _ = hostcalls::log(LogLevel::Critical, &format!("canary-filter panicked: {panic}"));
    }));
}}

/// What every request in this VM shares.
struct Shared {
    config: Config,
    metrics: Metrics,
    rng: Cell<Rng>,
}

/// The VM's state: one per VM (Envoy runs one VM per worker thread).
#[derive(Default)]
struct Vm {
    shared: Option<Rc<Shared>>,
    tenancy: Tenancy,
    seed: Option<u64>,
}

thread_local! {
    static VM: RefCell<Vm> = RefCell::new(Vm::default());
}

/// `proxy_on_configure`: once per plugin in each VM, and again for each
/// update. Returning 0 refuses the configuration: a static Envoy does not
/// start, an ECDS or WasmPlugin update is rejected and the last good
/// configuration keeps routing.
#[export_name = "canary_on_configure"]
pub extern "C" fn on_configure(_root_context_id: u32, _configuration_size: usize) -> u32 {
    follow_host_log_level();
    let admitted = VM.with(|vm| match vm.try_borrow_mut() {
        Ok(mut vm) => configure(&mut vm),
        Err(_) => Err("re-entered while configuring".to_owned()),
    });
    match admitted {
        Ok(()) => 1,
        Err(message) => {
            error!("canary-filter: invalid plugin configuration: {message}");
            0
        }
    }
}

/// `proxy_on_request_headers`: routes the request. Always continues.
#[export_name = "canary_on_request_headers"]
pub extern "C" fn on_request_headers(
    _context_id: u32,
    _headers: usize,
    _end_of_stream: u32,
) -> u32 {
    let shared = VM.with(|vm| vm.try_borrow().ok().and_then(|vm| vm.shared.clone()));
    if let Some(shared) = shared {
        route(&shared);
    }
    CONTINUE
}

/// `Action::Continue` in the ABI.
const CONTINUE: u32 = 0;

fn configure(vm: &mut Vm) -> Result<(), String> {
    let bytes = hostcalls::get_buffer(BufferType::PluginConfiguration, 0, usize::MAX)
        .map_err(|status| format!("cannot read it from the host (status {})", status as u32))?
        .unwrap_or_default();
    // Envoy's `plugin_name`: Istio's `<namespace>.<WasmPlugin name>`, the
    // filter's `config.name` in Envoy. Absent, all plugins count as one.
    let plugin = hostcalls::get_property(vec!["plugin_name"])
        .ok()
        .flatten()
        .unwrap_or_default();
    let admission = vm.tenancy.admit(&plugin, &bytes);
    match &admission {
        Admission::Share => {
            // Debug: Istio configures one plugin once per listener.
            debug!(
                "canary-filter: plugin {} shares this VM's configuration",
                String::from_utf8_lossy(&plugin)
            );
            vm.tenancy.record(&admission, &plugin, &bytes);
            return Ok(());
        }
        Admission::Refuse { holders } => {
            metrics::count_refused_plugin();
            return Err(format!(
                "plugin '{}' would share a VM with plugin(s) '{}', which run other settings, \
                 and one VM serves one canary configuration: put all releases in one plugin \
                 configuration, or give this plugin its own vm_config.vm_id",
                String::from_utf8_lossy(&plugin),
                holders.join("', '")
            ));
        }
        Admission::Replace => {}
    }
    let config = Config::from_json(&bytes).map_err(|e| e.to_string())?;
    let metrics = Metrics::define(&config)
        .map_err(|e| format!("cannot define metrics (host status {})", e.0))?;
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
    // A fresh stream for each configuration, from one seed per VM.
    let seed = vm.seed.unwrap_or_else(fresh_seed);
    vm.seed = Some(Rng::new(seed).next_u64());
    let rng = Rng::new(seed ^ (config.releases.len() as u64).rotate_left(32));
    vm.shared = Some(Rc::new(Shared {
        config,
        metrics,
        rng: Cell::new(rng),
    }));
    vm.tenancy.record(&admission, &plugin, &bytes);
    Ok(())
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

/// Sets the `log` crate's level to the host's, so a per-request `debug!`
/// costs nothing unless Envoy's wasm logger is at debug.
fn follow_host_log_level() {
    if let Ok(level) = hostcalls::get_log_level() {
        proxy_wasm::set_log_level(level);
    }
}

fn route(shared: &Shared) {
    let config = &shared.config;
    // Only a config with lanes asks which listener this is: without lanes
    // the request path makes no property or shared-data call.
    let inbound = config
        .lanes
        .as_ref()
        .filter(|_| lane_store::listener_direction() == ListenerDirection::Inbound);
    let routing = match host::request_headers() {
        Ok(buffer) => {
            let pairs = host::parse_pairs(&buffer);
            let request = Request::new(&pairs);
            if let Some(lanes) = inbound {
                // The caller's sidecar routed this request; here the lane is
                // only remembered for the calls the app makes next.
                record_lane(lanes, &request);
                return;
            }
            let recorded = config
                .lanes
                .as_ref()
                .and_then(|lanes| recorded_lane(lanes, &request));
            let mut rng = shared.rng.get();
            let roll = rng.roll();
            shared.rng.set(rng);
            plan_with_lane(config, &request, roll, recorded.as_deref())
        }
        Err(e) => {
            warn!(
                "canary-filter: cannot read request headers (host status {})",
                e.0
            );
            // Already warned: a header map that cannot be read is unlikely
            // to be writable, so one line per request is enough.
            for header in plan_unreadable(config).remove {
                let _ = host::remove_request_header(header);
            }
            return;
        }
    };
    for header in &routing.remove {
        if host::remove_request_header(header).is_err() {
            warn!("canary-filter: cannot remove the client's {header} header");
        }
    }
    for set in [routing.set, routing.set_lane].into_iter().flatten() {
        if host::set_request_header(set.name, set.value).is_err() {
            warn!("canary-filter: cannot set {}: {}", set.name, set.value);
        }
    }
    if let Some(slot) = routing.count {
        shared.metrics.count(slot);
    }
    if let Some(outcome) = routing.outcome {
        debug!("canary-filter: {outcome}");
    }
}

/// Inbound, loose mode: remembers the request's trace id → lane. Losing a
/// record (store error, contention) only costs that trace its lane.
fn record_lane(lanes: &Lanes, request: &Request<'_>) {
    if let (Some((trace, lane)), Some(now)) = (lanes.to_record(request), lane_store::now_seconds())
    {
        if lanes
            .table
            .record(&lane_store::SharedData, trace, lane, now)
            .is_err()
        {
            warn!("canary-filter: cannot record a lane in shared data");
        }
    }
}

/// Outbound, loose mode: the lane recorded for the request's trace, if any
/// and still fresh. A store error is no lane, never a failed request.
fn recorded_lane(lanes: &Lanes, request: &Request<'_>) -> Option<String> {
    let trace = lanes.to_look_up(request)?;
    let now = lane_store::now_seconds()?;
    lanes
        .table
        .lookup(&lane_store::SharedData, trace, now)
        .unwrap_or_else(|_| {
            warn!("canary-filter: cannot look a lane up in shared data");
            None
        })
}
