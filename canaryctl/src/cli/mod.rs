//! The command line: every command, option and its help text, and their
//! translation into the library's plain types. The only module that knows
//! clap.

pub mod auto;
mod console;
mod convert;
mod parse;

pub use console::ConsoleArgs;
pub use convert::on_canary;

use std::path::PathBuf;
use std::time::Duration;

use clap::{ArgGroup, Args, Parser, Subcommand, ValueEnum};

use canaryctl::edit::when;
use canaryctl::simulate::request::{parse_header, parse_pair};
use parse::{parse_interval, parse_percent, parse_weight_bp};

#[derive(Debug, Parser)]
#[command(
    name = "canaryctl",
    version,
    about = "Release steps for the canary filter: check and explain a config, simulate \
             its split, change rules and weights safely, and watch live traffic.",
    after_help = "FILE is the plugin JSON, the ECDS file that Envoy watches (a DiscoveryResponse, \
                  JSON or YAML), or an Istio WasmPlugin manifest; the kind is detected.\n\
                  Exit status: 0 success, 1 rejected input or failed step, 2 usage error, \
                  3 rolled back by `auto`."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check FILE with the filter's own validation; print OK and a summary, or the error.
    Validate {
        #[command(flatten)]
        file: FileArgs,
        /// Print a JSON object instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Explain each release in words: hosts, header and versions, rule, weight, stickiness.
    Show {
        #[command(flatten)]
        file: FileArgs,
        /// Print a JSON object instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Run the filter's decision on synthetic requests and print the split.
    Simulate(SimulateArgs),
    /// Set the canary's share of the requests the rule does not catch.
    SetWeight {
        #[command(flatten)]
        file: FileArgs,
        /// The release's name.
        release: String,
        /// 0 to 100, at most two decimals ("20", "12.5", "50%").
        #[arg(value_parser = parse_percent)]
        percent: serde_json::Number,
        /// With several canaries: the one whose weight to set (its value).
        #[arg(long, value_name = "VALUE")]
        canary: Option<String>,
        #[command(flatten)]
        wait: WaitArgs,
    },
    /// Set or clear the traffic rule: the path, the mode and the conditions.
    Rule(RuleArgs),
    /// Finish a release: the canary gets 100% and the rule is cleared.
    Complete {
        #[command(flatten)]
        file: FileArgs,
        /// The release's name.
        release: String,
        /// With several canaries: the winner (its value), which stays as
        /// the only canary, at 100% with no rule.
        #[arg(long, value_name = "VALUE")]
        canary: Option<String>,
        #[command(flatten)]
        wait: WaitArgs,
    },
    /// Add a canary version to a release (weight 0 unless --weight, no rule). A
    /// two-version release becomes the "canaries" form: same routing, but its
    /// counters are then named by value.
    AddCanary {
        #[command(flatten)]
        file: FileArgs,
        /// The release's name.
        release: String,
        /// The new version's routing value.
        value: String,
        /// Its weight in percent (default 0).
        #[arg(long, value_parser = parse_percent)]
        weight: Option<serde_json::Number>,
        #[command(flatten)]
        wait: WaitArgs,
    },
    /// Remove a canary version from a release with several.
    RemoveCanary {
        #[command(flatten)]
        file: FileArgs,
        /// The release's name.
        release: String,
        /// The version's routing value.
        value: String,
        #[command(flatten)]
        wait: WaitArgs,
    },
    /// Undo a release: every canary gets 0% and every rule is cleared.
    Rollback {
        #[command(flatten)]
        file: FileArgs,
        /// The release's name.
        release: String,
        #[command(flatten)]
        wait: WaitArgs,
    },
    /// Begin the next release after `complete`: the canary becomes the baseline and
    /// VERSION the canary, at 0% with no rule, so no request moves.
    Start(StartArgs),
    /// Show the live split per release from Envoy's admin counters.
    Status(StatusArgs),
    /// Run COMMAND, which puts a new ECDS file in place, and wait for Envoy's
    /// verdict: applied (exit 0), or refused or no answer (exit 1).
    Wait(WaitCommandArgs),
    /// Step the canary's weight on a schedule, judge each step from the versions'
    /// health, and complete (exit 0) or roll back (exit 3) without a person.
    Auto(Box<auto::AutoArgs>),
    /// Let a run of `auto --manual-promotion` complete the release.
    Promote(auto::GateArgs),
    /// Roll the release back now and end its `auto` run (exit 3).
    Abort(auto::GateArgs),
    /// Hold an `auto` run at its step.
    Pause(auto::GateArgs),
    /// Let a paused `auto` run measure its step again.
    Resume(auto::GateArgs),
    /// Serve the release console: a web page and a JSON API over FILE.
    Console(ConsoleArgs),
}

/// `--wait` on an edit of an ECDS file.
#[derive(Debug, Args)]
pub struct WaitArgs {
    /// After writing, wait until Envoy (at --admin) applied or refused the
    /// new file; exit 1 when it refused or did not answer within --timeout.
    #[arg(long, requires = "admin")]
    pub wait: bool,
    /// Envoy's admin address, for --wait.
    #[arg(long, value_name = "URL", requires = "wait")]
    pub admin: Option<String>,
    /// With --wait: seconds to wait for Envoy's verdict.
    #[arg(long, default_value = "30", value_name = "SECS", value_parser = parse_interval, requires = "wait")]
    pub timeout: Duration,
}

#[derive(Debug, Args)]
pub struct WaitCommandArgs {
    /// Envoy's admin address.
    #[arg(long, default_value = "http://127.0.0.1:9901")]
    pub admin: String,
    /// The ECDS file Envoy watches (it names the filter).
    #[arg(long, value_name = "ECDS_FILE")]
    pub file: PathBuf,
    /// Seconds to wait for Envoy's verdict.
    #[arg(long, default_value = "30", value_name = "SECS", value_parser = parse_interval)]
    pub timeout: Duration,
    /// The command and its arguments (after --).
    #[arg(required = true, last = true, value_name = "COMMAND")]
    pub command: Vec<String>,
}

#[derive(Debug, Args)]
pub struct FileArgs {
    /// Plugin JSON, ECDS file (JSON or YAML) or Istio WasmPlugin YAML.
    pub file: PathBuf,
    /// What FILE is, when detection guesses wrong.
    #[arg(long, value_enum)]
    pub kind: Option<KindArg>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum KindArg {
    /// The plugin JSON.
    Plugin,
    /// An ECDS DiscoveryResponse (JSON or YAML).
    Ecds,
    /// An Istio WasmPlugin manifest.
    Wasmplugin,
}

#[derive(Debug, Args)]
pub struct SimulateArgs {
    #[command(flatten)]
    pub file: FileArgs,
    /// How many requests to decide (default 10000 when --users is not given).
    #[arg(long, value_name = "N")]
    pub requests: Option<u64>,
    /// A request header, as 'name: value' (repeatable).
    #[arg(short = 'H', long = "header", value_name = "'NAME: VALUE'", value_parser = parse_header)]
    pub headers: Vec<(String, String)>,
    /// The request path (default "/").
    #[arg(long, default_value = "/")]
    pub path: String,
    /// The request's host (default: the first host of the first release).
    #[arg(long)]
    pub host: Option<String>,
    /// A cookie, as 'name=value' (repeatable).
    #[arg(long = "cookie", value_name = "'NAME=VALUE'", value_parser = parse_pair)]
    pub cookies: Vec<(String, String)>,
    /// A query parameter, as 'name=value' (repeatable), appended to the path.
    #[arg(long = "query", value_name = "'NAME=VALUE'", value_parser = parse_pair)]
    pub queries: Vec<(String, String)>,
    /// Seed of the roll stream, for a repeatable run (default: random).
    #[arg(long)]
    pub seed: Option<u64>,
    /// For a sticky release: how many synthetic users (keys user-1..user-N) sit on each version.
    #[arg(long, value_name = "N")]
    pub users: Option<u64>,
    /// With --users: the weights to try in turn, e.g. 10,20,50 (percent).
    #[arg(long, value_delimiter = ',', value_parser = parse_weight_bp, requires = "users")]
    pub weights: Vec<u32>,
    /// With --weights and several canaries: the canary (its value) whose
    /// weight they set; the others keep theirs (default: the first).
    #[arg(long, value_name = "VALUE", requires = "weights")]
    pub canary: Option<String>,
    /// Print a JSON object instead of text.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
#[command(group(ArgGroup::new("change").required(true).multiple(true)
    .args(["path_prefix", "path_exact", "path_regex", "no_path", "mode", "when", "no_conditions", "clear"])))]
pub struct RuleArgs {
    #[command(flatten)]
    pub file: FileArgs,
    /// The release's name.
    pub release: String,
    /// Rule requests whose path starts with P.
    #[arg(long, value_name = "P", group = "path_choice")]
    pub path_prefix: Option<String>,
    /// Rule requests whose path is exactly P.
    #[arg(long, value_name = "P", group = "path_choice")]
    pub path_exact: Option<String>,
    /// Rule requests whose whole path matches the regex R.
    #[arg(long, value_name = "R", group = "path_choice")]
    pub path_regex: Option<String>,
    /// Remove the path from the rule.
    #[arg(long, group = "path_choice")]
    pub no_path: bool,
    /// How the conditions combine: all must hold, or any one.
    #[arg(long, value_enum)]
    pub mode: Option<ModeArg>,
    /// A condition, replacing the current ones (repeatable):
    /// 'SOURCE KEY OP [VALUE]' with SOURCE header, cookie or query, e.g.
    /// 'header env equals test', 'query uid in 1001,1002', 'cookie beta present',
    /// 'header x-user percent 10'. 'header:env equals test' works too.
    #[arg(long, value_name = "CONDITION", value_parser = when::parse)]
    pub when: Vec<serde_json::Value>,
    /// Remove every condition (the path stays).
    #[arg(long, conflicts_with = "when")]
    pub no_conditions: bool,
    /// Remove the whole rule: path, mode and conditions.
    #[arg(long, conflicts_with_all = ["path_choice", "mode", "when", "no_conditions"])]
    pub clear: bool,
    /// With several canaries: the one whose rule to change (its value).
    #[arg(long, value_name = "VALUE")]
    pub canary: Option<String>,
    #[command(flatten)]
    pub wait: WaitArgs,
}

#[derive(Debug, Args)]
pub struct StartArgs {
    #[command(flatten)]
    pub file: FileArgs,
    /// The release's name.
    pub release: String,
    /// The next version's label: the new canary.
    #[arg(long, value_name = "VERSION")]
    pub canary: String,
    /// The new baseline (default: the current canary, which a completed
    /// release already sends every request to).
    #[arg(long, value_name = "VERSION")]
    pub baseline: Option<String>,
    /// Start although the release is not complete; requests may move.
    #[arg(long)]
    pub force: bool,
    #[command(flatten)]
    pub wait: WaitArgs,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ModeArg {
    All,
    Any,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Envoy's admin address.
    #[arg(long, default_value = "http://127.0.0.1:9901")]
    pub admin: String,
    /// Refresh in place, showing the split over each interval too.
    #[arg(long)]
    pub watch: bool,
    /// Seconds between refreshes with --watch.
    #[arg(long, default_value = "2", value_name = "SECS", value_parser = parse_interval)]
    pub interval: Duration,
    /// With --watch: stop after this many refreshes (default: until interrupted).
    #[arg(long, value_name = "N", requires = "watch")]
    pub count: Option<u64>,
    /// Print JSON (one object per refresh with --watch).
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub health: auto::HealthArgs,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn clap_definition_is_consistent() {
        Cli::command().debug_assert();
    }
}
