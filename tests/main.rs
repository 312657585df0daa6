//! The end-to-end tests: a real Envoy 1.40 running the shipped filter
//! (support/ is the harness), and offline checks of the Istio kit against
//! Istio's own CRDs (istio_k8s/). One test binary, so the harness and the
//! heavy dependencies are compiled once; each file below is one concern.
//!
//! Run one file's tests with its module name as the filter, e.g.
//! `cargo test -p canary-e2e --test e2e rules::` (`make test` sets ENVOY and
//! CANARY_WASM, which the Envoy tests need).

// A test crate: helpers outside #[test] functions may panic and index too
// (clippy.toml allows that inside #[test] functions only).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod istio_envoy;
mod istio_k8s;
mod support;

mod auto;
mod console;
mod defence_in_depth;
mod differential;
mod fail_open_defence;
mod hostile_requests;
mod invalid_config;
mod istio_image;
mod istio_lanes;
mod istio_manifests;
mod istio_plugin_config;
mod istio_routing;
mod istio_yaml;
mod lanes_chain;
mod lanes_memory;
mod lanes_modes;
mod module;
mod observability;
mod reconfigure_chaos;
mod regex_envoy;
mod release_steps;
mod reload_latency;
mod routing_header;
mod rules;
mod soak;
mod sticky;
mod tags;
mod tags_invalid;
mod tags_istio;
mod tags_schema;
mod tenancy;
mod weights;
