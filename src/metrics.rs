//! Counters per release, version and reason, defined once per configuration.
//!
//! Envoy shows them under `wasmcustom.` in `/stats`:
//! `canary.<release>.<baseline|canary>.<rule|sticky|weight>`,
//! `canary.no_release` for requests whose host no release covers, and
//! `canary.refused_plugin` for plugins refused a VM (src/tenancy.rs).

use canary_core::{Config, Reason, Version};

use crate::host::{self, HostError};

pub struct Metrics {
    /// Six ids per release, in `slot` order.
    ids: Vec<u32>,
    no_release: u32,
}

fn slot(release: usize, version: Version, reason: Reason) -> usize {
    let version = match version {
        Version::Baseline => 0,
        Version::Canary => 1,
    };
    let reason = match reason {
        Reason::Rule => 0,
        Reason::Sticky => 1,
        Reason::Weight => 2,
    };
    release * 6 + version * 3 + reason
}

/// The counter name for one release, version and reason.
pub fn name(release: &str, version: Version, reason: Reason) -> String {
    format!("canary.{release}.{}.{}", version.as_str(), reason.as_str())
}

impl Metrics {
    pub fn define(config: &Config) -> Result<Self, HostError> {
        let mut ids = vec![0; config.releases.len() * 6];
        for (index, release) in config.releases.iter().enumerate() {
            for version in Version::ALL {
                for reason in Reason::ALL {
                    let id = host::define_counter(&name(&release.name, version, reason))?;
                    if let Some(entry) = ids.get_mut(slot(index, version, reason)) {
                        *entry = id;
                    }
                }
            }
        }
        let no_release = host::define_counter("canary.no_release")?;
        Ok(Self { ids, no_release })
    }

    pub fn count(&self, release: usize, version: Version, reason: Reason) {
        if let Some(&id) = self.ids.get(slot(release, version, reason)) {
            // A lost increment must not fail the request.
            let _ = host::increment_counter(id);
        }
    }

    pub fn count_no_release(&self) {
        let _ = host::increment_counter(self.no_release);
    }
}

/// Counts a plugin refused a VM: Envoy then skips that filter on the worker,
/// whatever its failure policy, and says so only in its log.
pub fn count_refused_plugin() {
    if let Ok(id) = host::define_counter("canary.refused_plugin") {
        let _ = host::increment_counter(id);
    }
}
