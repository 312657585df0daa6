//! The filter's counters, defined once per configuration: one host id per
//! slot of the core's counter table, so the request path counts by index.
//! The names and the slots are the core's (canary_core::CounterName,
//! canary_core::counters); README "Metrics" lists them.

use canary_core::{counters, Config, CounterName, CounterSlot};

use crate::host::{self, HostError};

pub struct Metrics {
    /// The host's id of each counter, by slot.
    ids: Vec<u32>,
}

impl Metrics {
    pub fn define(config: &Config) -> Result<Self, HostError> {
        let mut ids = Vec::new();
        for counter in counters(config) {
            ids.push(host::define_counter(&counter.to_string())?);
        }
        Ok(Self { ids })
    }

    pub fn count(&self, slot: CounterSlot) {
        if let Some(&id) = self.ids.get(slot.index()) {
            // A lost increment must not fail the request.
            let _ = host::increment_counter(id);
        }
    }
}

/// Counts a plugin refused a VM: Envoy then skips that filter on the worker,
/// whatever its failure policy, and says so only in its log.
pub fn count_refused_plugin() {
    if let Ok(id) = host::define_counter(&CounterName::RefusedPlugin.to_string()) {
        let _ = host::increment_counter(id);
    }
}
