//! `canaryctl console`: the release console, a web page and its JSON API
//! over the same library calls as the CLI (so it accepts and refuses what
//! the filter does).
//!
//! - `state`: FILE, Envoy's admin, the token, the history's view of FILE;
//! - `write`: the one write path (If-Match → plan → commit → verdict);
//! - `api`, `body`, `metrics`, `prometheus`: the handlers, request bodies,
//!   live numbers (from Envoy's admin, or from Prometheus);
//! - `analysis`: the run of `canaryctl auto` on a release, and its gates;
//! - `guard`: Host, token, Origin and content-type checks;
//! - `server`, `assets`: the routes and the embedded page.
//!
//! It listens on loopback unless given a token; it reads and writes FILE
//! and its history (`FILE.history.jsonl`) only.

mod analysis;
mod api;
mod assets;
mod body;
mod error;
mod guard;
mod metrics;
mod prometheus;
mod server;
mod state;
mod write;

use std::io::Write;
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};

use crate::admin::Admin;
use crate::document::{Document, Kind};
use crate::error::{CliError, Result};
use crate::history;
use state::Console;

/// What `canaryctl console` is asked to do.
#[derive(Debug, Clone)]
pub struct ConsoleOptions {
    pub file: PathBuf,
    pub kind: Option<Kind>,
    pub admin: Option<Admin>,
    /// `--prometheus URL`: live numbers from Prometheus instead.
    pub prometheus: Option<String>,
    /// `host:port`; port 0 picks a free one (the printed URL says which).
    pub listen: String,
    pub token: Option<String>,
}

/// A token from `--token-file`: its first line.
pub fn read_token_file(path: &Path) -> Result<String> {
    let text = std::fs::read_to_string(path).map_err(|e| CliError::in_file(path, e))?;
    let token = text.lines().next().unwrap_or_default().trim().to_string();
    if token.is_empty() {
        return Err(CliError::in_file(path, "the token file is empty"));
    }
    Ok(token)
}

/// The `Host` values a loopback console answers to; empty (any) elsewhere,
/// where the token guards it.
fn allowed_hosts(address: SocketAddr) -> Vec<String> {
    if !address.ip().is_loopback() {
        return Vec::new();
    }
    let port = address.port();
    let mut hosts = vec![
        format!("127.0.0.1:{port}"),
        format!("localhost:{port}"),
        format!("[::1]:{port}"),
    ];
    if !hosts.contains(&address.to_string()) {
        hosts.push(address.to_string());
    }
    hosts
}

/// Checks the options, binds, prints the URL and serves until stopped.
pub fn run(options: &ConsoleOptions, out: &mut dyn Write) -> Result<()> {
    let address: SocketAddr = options.listen.parse().map_err(|_| {
        CliError::new(format!(
            "--listen {}: expected IP:PORT, such as 127.0.0.1:8080",
            options.listen
        ))
    })?;
    if options.token.as_deref().is_some_and(str::is_empty) {
        return Err(CliError::new("--token: the token is empty"));
    }
    if !address.ip().is_loopback() && options.token.is_none() {
        return Err(CliError::new(format!(
            "--listen {address} is not a loopback address: anyone who reaches it could change the release; give --token or --token-file (or listen on 127.0.0.1)"
        )));
    }
    let prometheus = match &options.prometheus {
        Some(url) => Some(prometheus::source(url).map_err(CliError::new)?),
        None => None,
    };
    // Refuse at once a FILE the console could not work on.
    Document::load(&options.file, options.kind)?.config()?;
    history::keep(&options.file).map_err(CliError::new)?;
    let listener = TcpListener::bind(address)
        .map_err(|e| CliError::new(format!("cannot listen on {address}: {e}")))?;
    let bound = listener
        .local_addr()
        .map_err(|e| CliError::new(format!("cannot listen on {address}: {e}")))?;
    let console = Console::new(
        options.file.clone(),
        options.kind,
        options.admin.clone(),
        prometheus,
        options.token.as_deref(),
        allowed_hosts(bound),
    );
    writeln!(out, "console: http://{bound}/ ({})", options.file.display())?;
    out.flush()?;
    server::serve(console, listener).map_err(CliError::new)
}
