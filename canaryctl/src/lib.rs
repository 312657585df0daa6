//! canaryctl, the library: the release steps of the canary filter as
//! functions, for the CLI (`main.rs` only parses arguments into these plain
//! types) and for the tools that come next (a web console, an automated
//! analysis). It shares the filter's config checks and decision through
//! `canary-core`, so what it accepts, explains and simulates is what the
//! filter does.
//!
//! # Types
//!
//! - [`Document`]: a config file as read (plugin JSON, ECDS file or Istio
//!   WasmPlugin; [`Kind`]), with the content hash of the bytes read.
//! - [`edit::Change`]: one step on one release (`SetWeight`, `Rule`,
//!   `Complete`, `Rollback`, `Start`; for a release with several canaries
//!   `OnCanary` names the one a step is for, and `AddCanary` /
//!   `RemoveCanary` change the list).
//! - [`edit::Edit`]: a planned edit: the new text and its
//!   [`edit::EditReport`] (`Serialize`; `to_text()` is what the CLI prints).
//! - [`Admin`]: Envoy's admin address; [`applied::Watch`] and
//!   [`applied::Verdict`]: did Envoy apply the new config?
//! - Reports behind every `--json`: [`inspect::ValidateReport`],
//!   [`inspect::ShowReport`], [`simulate::SimulateReport`],
//!   [`status::stats::CountersReport`]. Errors: [`CliError`].
//! - [`health::Source`]: per-version requests, 5xx and latency from Envoy's
//!   admin ([`health::admin`]) or Prometheus ([`health::prometheus`]);
//!   [`health::Sample::since`] gives an interval's [`health::Window`].
//! - [`auto`]: `canaryctl auto`: [`auto::judge::judge`] (pure: a step's
//!   verdict), [`auto::machine::after_verdict`] (pure: the next phase),
//!   [`auto::run()`] (the run, with its state file); every edit it makes goes
//!   through [`auto::target::Target`].
//! - [`history::Entry`]: one line of `FILE.history.jsonl` (who changed what);
//!   [`edit::Edit::history_entry`] makes one from an edit.
//! - [`console`]: `canaryctl console`, the web page and JSON API over these
//!   same calls (its writes: `console::write`, If-Match on the content hash).
//!
//! # Call sequence of an edit
//!
//! 1. [`Document::load`] reads the file once (and remembers its hash).
//! 2. [`edit::plan`] is pure: (document, release, change) → new text + report,
//!    refused with the filter's own message when the result is invalid.
//! 3. For an ECDS file Envoy watches: [`applied::Watch::begin`] reads
//!    Envoy's counters *before* the write.
//! 4. [`edit::Edit::commit`] writes atomically, and refuses
//!    ([`CliError::Changed`], file untouched) if the file changed since 1.
//! 5. [`applied::Watch::wait`] gives Envoy's verdict, bounded in time.
//!
//! ```no_run
//! use std::time::Duration;
//! use canaryctl::{applied, edit, Admin, Document};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let path = std::path::Path::new(".run/ecds/canary-filter.json");
//! let document = Document::load(path, None)?;
//! let edit = edit::plan(&document, "pay", &edit::Change::SetWeight(20.into()))?;
//! let admin = Admin::parse("http://127.0.0.1:9901")?;
//! let filter = document.ecds_filter().ok_or("not an ECDS file")?;
//! let watch = applied::Watch::begin(&admin, &filter.name)?;
//! edit.commit()?;
//! print!("{}", edit.report.to_text());
//! let verdict = watch.wait(edit.filter_changes(), Duration::from_secs(30))?;
//! assert_eq!(verdict, applied::Verdict::Applied);
//! # Ok(())
//! # }
//! ```

pub mod admin;
pub mod applied;
pub mod auto;
pub mod console;
pub mod describe;
pub mod document;
pub mod edit;
pub mod error;
pub mod health;
pub mod history;
pub mod inspect;
pub mod simulate;
pub mod status;
pub mod wait;

pub use admin::Admin;
pub use document::{Document, Kind};
pub use error::{CliError, Result};
