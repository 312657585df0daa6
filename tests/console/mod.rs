//! `canaryctl console` end to end: its JSON API against a real Envoy
//! (api.rs), its live numbers from Prometheus (prometheus.rs), and its page
//! in a real headless Chromium (browser.rs); the console runs as the real
//! binary (server.rs).

mod api;
mod browser;
mod prometheus;
mod server;
