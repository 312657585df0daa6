//! The release steps that change a file: `set-weight`, `rule`, `complete`,
//! `rollback` and `start`, as plan → commit → report:
//!
//! - [`plan`] is pure: from a read [`Document`](crate::document::Document),
//!   a release's name and a [`Change`] to the new file text (if any) and an
//!   [`EditReport`]. It edits the plugin config as an ordered JSON value,
//!   validates the result with the filter's own checks, and re-reads the
//!   text it would write.
//! - [`Edit::commit`] replaces the file atomically, and only if it still has
//!   the content hash it had when it was read (no concurrent writer is
//!   silently overwritten).
//! - [`run`] is the CLI's sequence, with `--wait` for Envoy's verdict.

mod change;
mod plan;
mod report;
mod run;
pub mod start;
pub mod when;

pub use change::{Change, RuleChange};
pub use plan::{plan, Edit};
pub use report::{changes, CanaryChange, EditReport, FieldChange};
pub use run::{run, WaitFor};
pub use start::Start;
