//! PROTOTYPE, not shipped: the canary filter written against the proxy-wasm
//! ABI directly, without the Rust SDK, to measure what fewer guest calls per
//! request are worth.
//!
//! The SDK keeps one context object per request, so Envoy must call into the
//! module to create it (`proxy_on_context_create`) and to drop it
//! (`proxy_on_delete`) around the one call that does work. This filter keeps
//! no per-request state: it exports neither, and Envoy then makes a single
//! guest call per request, `proxy_on_request_headers` (plus the allocation
//! callback of the one header read, as the shipped filter does).
//!
//! The decision, the host calls and the counters are the shipped filter's own
//! code (`core/`, `src/host.rs`, `src/metrics.rs`), so the difference between
//! this and the shipped module is the SDK's per-request overhead alone.
//!
//! The price: without `proxy_on_context_create` a request does not say which
//! plugin (root context) it belongs to, so one VM can serve only one plugin
//! configuration. The latest `proxy_on_configure` applies to every plugin in
//! the VM; plugins with different configurations need distinct VMs (a
//! distinct `vm_config.vm_id` each).

mod abi;
#[path = "../../../src/host.rs"]
mod host;
#[path = "../../../src/metrics.rs"]
mod metrics;

use std::cell::{Cell, RefCell};

use canary_core::{decide, Config, Request, Rng};

use abi::LogLevel;
use metrics::Metrics;

/// `Action::Continue` in the ABI.
const CONTINUE: u32 = 0;

struct Shared {
    config: Config,
    metrics: Metrics,
    rng: Cell<Rng>,
    /// Envoy's wasm log level was debug or finer at configure time.
    debug: bool,
}

thread_local! {
    static SHARED: RefCell<Option<Shared>> = const { RefCell::new(None) };
    static SEED: Cell<Option<u64>> = const { Cell::new(None) };
}

#[no_mangle]
pub extern "C" fn proxy_abi_version_0_2_1() {}

/// The host writes header maps and buffers into memory it asks for here;
/// `host::request_headers` takes the `Vec` back (capacity == size).
#[no_mangle]
pub extern "C" fn proxy_on_memory_allocate(size: usize) -> *mut u8 {
    std::mem::ManuallyDrop::new(Vec::<u8>::with_capacity(size)).as_mut_ptr()
}

#[no_mangle]
pub extern "C" fn proxy_on_configure(_root_context_id: u32, size: usize) -> u32 {
    match load(size) {
        Ok(shared) => {
            abi::log(
                LogLevel::Info,
                &format!(
                    "canary-filter (lean): loaded {} release(s)",
                    shared.config.releases.len()
                ),
            );
            SHARED.with(|slot| *slot.borrow_mut() = Some(shared));
            1
        }
        Err(message) => {
            abi::log(
                LogLevel::Error,
                &format!("canary-filter: invalid plugin configuration: {message}"),
            );
            0
        }
    }
}

fn load(size: usize) -> Result<Shared, String> {
    let bytes = abi::plugin_configuration(size)
        .map_err(|status| format!("cannot read it from the host (status {status})"))?;
    let config = Config::from_json(&bytes).map_err(|e| e.to_string())?;
    let metrics = Metrics::define(&config)
        .map_err(|e| format!("cannot define metrics (host status {})", e.0))?;
    let seed = next_seed();
    Ok(Shared {
        rng: Cell::new(Rng::new(
            seed ^ (config.releases.len() as u64).rotate_left(32),
        )),
        config,
        metrics,
        debug: abi::log_level().is_some_and(|level| level <= LogLevel::Debug as u32),
    })
}

/// A fresh random stream per configuration, from one seed per VM.
fn next_seed() -> u64 {
    SEED.with(|cell| {
        let seed = cell
            .get()
            .unwrap_or_else(|| getrandom::u64().unwrap_or(0x5eed));
        cell.set(Some(Rng::new(seed).next_u64()));
        seed
    })
}

#[no_mangle]
pub extern "C" fn proxy_on_request_headers(_context_id: u32, _headers: usize, _end: u32) -> u32 {
    SHARED.with(|slot| {
        if let Some(shared) = slot.borrow().as_ref() {
            route(shared);
        }
    });
    CONTINUE
}

/// For `make bench`'s breakdown only (`BENCH_BREAKDOWN=1`): a build with
/// `LEAN_STAGE` set stops the request path after that step, so each step's
/// cost is the difference between two builds.
#[derive(PartialEq, Eq)]
enum Stage {
    /// Return at once: the guest call alone.
    Call,
    /// Read and parse all request headers.
    Fetch,
    /// Decide.
    Decide,
    /// Write the routing header, but count nothing.
    Write,
    Full,
}

const STAGE: Stage = match option_env!("LEAN_STAGE") {
    Some(stage) => match stage.as_bytes() {
        b"call" => Stage::Call,
        b"fetch" => Stage::Fetch,
        b"decide" => Stage::Decide,
        b"write" => Stage::Write,
        _ => Stage::Full,
    },
    None => Stage::Full,
};

/// The shipped filter's request path (src/lib.rs `route`), with the SDK's
/// `log` macros replaced by direct host calls.
fn route(shared: &Shared) {
    if STAGE == Stage::Call {
        return;
    }
    let buffer = match host::request_headers() {
        Ok(buffer) => buffer,
        Err(e) => {
            let message = format!("canary-filter: cannot read request headers ({})", e.0);
            abi::log(LogLevel::Warn, &message);
            return;
        }
    };
    let pairs = host::parse_pairs(&buffer);
    if STAGE == Stage::Fetch {
        std::hint::black_box(&pairs);
        return;
    }
    let mut rng = shared.rng.get();
    let roll = rng.roll();
    shared.rng.set(rng);

    let outcome = decide(&shared.config, &Request::new(&pairs), roll);
    if STAGE == Stage::Decide {
        std::hint::black_box(outcome.as_ref().map(|o| o.index));
        return;
    }
    let written = outcome.as_ref().map(|o| o.release.header.as_str());
    for header in shared.config.routing_headers() {
        let sent = pairs
            .iter()
            .any(|(name, _)| name.eq_ignore_ascii_case(header.as_bytes()));
        if sent && written != Some(header.as_str()) && host::remove_request_header(header).is_err()
        {
            let message = format!("canary-filter: cannot remove the client's {header} header");
            abi::log(LogLevel::Warn, &message);
        }
    }
    let Some(outcome) = outcome else {
        shared.metrics.count_no_release();
        return;
    };
    let release = outcome.release;
    if host::set_request_header(&release.header, outcome.value()).is_err() {
        let message = format!("canary-filter: cannot set {}", release.header);
        abi::log(LogLevel::Warn, &message);
    }
    if STAGE != Stage::Write {
        shared
            .metrics
            .count(outcome.index, outcome.version, outcome.reason);
    }
    if shared.debug {
        let message = format!(
            "canary-filter: release={} version={} reason={} {}={}",
            release.name,
            outcome.version.as_str(),
            outcome.reason.as_str(),
            release.header,
            outcome.value()
        );
        abi::log(LogLevel::Debug, &message);
    }
}
