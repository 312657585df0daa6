//! `simulate`: the filter's real decision, run on synthetic requests with
//! the filter's own roll generator, so the split printed here is the split
//! Envoy would produce for the same config and request.

pub mod request;
pub mod split;
pub mod users;

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::io::Write;
use std::path::PathBuf;

use serde::Serialize;

use crate::document::{Document, Kind};
use crate::error::{CliError, Result};
use request::{RequestFlags, RequestSpec};
use split::{split, SplitReport};
use users::UsersReport;

/// Bounds the run time (about a second per ten million requests).
const MAX_REQUESTS: u64 = 100_000_000;

/// What `simulate` is asked to do.
#[derive(Debug, Clone, Default)]
pub struct SimulateOptions {
    pub file: PathBuf,
    pub kind: Option<Kind>,
    /// How many requests (default 10000 when `users` is not given).
    pub requests: Option<u64>,
    pub request: RequestFlags,
    /// Seed of the roll stream (default: random).
    pub seed: Option<u64>,
    /// For a sticky release: how many synthetic users.
    pub users: Option<u64>,
    /// With `users`: the weights to try, in basis points.
    pub weights: Vec<u32>,
    /// With `weights` and several canaries: the canary (its value) they
    /// set; `None`: the first.
    pub canary: Option<String>,
    pub json: bool,
}

/// `simulate --json`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SimulateReport {
    pub file: String,
    pub host: String,
    pub path: String,
    /// The release covering the request's host.
    pub release: Option<String>,
    pub seed: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub requests: Option<SplitReport>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub users: Option<UsersReport>,
}

fn random_seed() -> u64 {
    let mut hasher = RandomState::new().build_hasher();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    hasher.write_u128(now);
    hasher.finish()
}

pub fn run(args: &SimulateOptions, out: &mut dyn Write) -> Result<()> {
    let document = Document::load(&args.file, args.kind)?;
    let config = document.config()?;
    let spec = RequestSpec::from_flags(&args.request, &config);
    let seed = args.seed.unwrap_or_else(random_seed);
    let requests = match (args.requests, args.users) {
        (Some(n), _) => Some(n),
        (None, None) => Some(10_000),
        (None, Some(_)) => None,
    };
    if requests.is_some_and(|n| n > MAX_REQUESTS) {
        return Err(CliError::new(format!("--requests: at most {MAX_REQUESTS}")));
    }
    let mut report = SimulateReport {
        file: document.path.display().to_string(),
        host: spec.host.clone(),
        path: spec.path.clone(),
        release: spec.release(&config).map(|r| r.name.clone()),
        seed,
        requests: None,
        users: None,
    };
    if let Some(requests) = requests {
        let result = split(&config, &spec, requests, seed);
        if args.json {
            report.requests = Some(result.report(requests));
        } else {
            write!(out, "{}", result.to_text(&spec, seed))?;
        }
    }
    if let Some(count) = args.users {
        let table = users::table(&config, &spec, count, &args.weights, args.canary.as_deref())
            .map_err(|e| CliError::in_file(&document.path, e))?;
        if args.json {
            report.users = Some(table.report());
        } else {
            if requests.is_some() {
                writeln!(out)?;
            }
            write!(out, "{}", table.to_text())?;
        }
    }
    if args.json {
        let text = serde_json::to_string(&report).map_err(|e| CliError::new(e.to_string()))?;
        writeln!(out, "{text}")?;
    }
    Ok(())
}
