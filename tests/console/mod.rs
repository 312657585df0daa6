//! `canaryctl console` end to end: its JSON API against a real Envoy
//! (api.rs), its live numbers from Prometheus (prometheus.rs), and its page
//! in a real headless Chromium (browser.rs), on a release of several canaries
//! (canaries.rs); the console runs as the real
//! binary (server.rs).

mod analysis;
mod analysis_browser;
mod api;
mod browser;
mod canaries;
mod prometheus;
mod server;
