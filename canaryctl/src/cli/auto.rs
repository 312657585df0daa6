//! The options of `auto` and of its gates (`promote`, `abort`, `pause`,
//! `resume`), and their translation into the library's types.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{ArgGroup, Args, ValueEnum};

use canaryctl::auto::gates::{self, Gate};
use canaryctl::auto::settings::{parse_duration, read_plan, Overrides, Settings};
use canaryctl::auto::{self as auto_run, AutoOptions, Outcome};
use canaryctl::health::admin::AdminSource;
use canaryctl::health::prometheus::{PrometheusSource, Shape};
use canaryctl::health::Source;
use canaryctl::status::health::HealthOptions;
use canaryctl::{Admin, CliError, Result};

use crate::cli::parse::parse_percent;
use crate::cli::FileArgs;

fn parse_step(text: &str) -> std::result::Result<f64, String> {
    parse_percent(text)?
        .as_f64()
        .ok_or_else(|| format!("\"{text}\" is not a weight"))
}

fn parse_mapping(text: &str) -> std::result::Result<(String, String), String> {
    match text.split_once('=') {
        Some((version, name)) if !version.is_empty() && !name.is_empty() => {
            Ok((version.to_string(), name.to_string()))
        }
        _ => Err(format!("\"{text}\": expected VERSION=CLUSTER, e.g. v2=outbound|80|v2|pay.default.svc.cluster.local")),
    }
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ShapeArg {
    /// Envoy's own metrics (`envoy_cluster_upstream_rq*`), a version = a cluster.
    Envoy,
    /// Istio's metrics (`istio_requests_total`, ...) by `destination_version`.
    Istio,
}

#[derive(Debug, Args)]
// A later --interval (etc.) wins, so scripts can append to a base set.
#[command(args_override_self = true)]
#[command(group(ArgGroup::new("health_source").required(true).multiple(true).args(["admin", "prometheus"])))]
pub struct AutoArgs {
    #[command(flatten)]
    pub file: FileArgs,
    /// The release's name.
    pub release: String,
    /// The canary to drive, when the release has several (its value); the
    /// others keep their weights and rules.
    #[arg(long, value_name = "VALUE")]
    pub canary: Option<String>,
    /// Envoy's admin address: the health source (unless --prometheus), and
    /// where each edit is confirmed applied.
    #[arg(long, value_name = "URL")]
    pub admin: Option<String>,
    #[command(flatten)]
    pub source: SourceArgs,
    /// A plan file (YAML or JSON) with these settings; options given here win.
    #[arg(long, value_name = "FILE")]
    pub plan: Option<PathBuf>,
    /// The canary's weights, rising, in percent [default: 5,10,25,50,100].
    #[arg(long, value_delimiter = ',', value_parser = parse_step, action = clap::ArgAction::Set)]
    pub steps: Option<Vec<f64>>,
    /// How long each measurement lasts (30s, 2m, 1.5) [default: 30s].
    #[arg(long, value_parser = parse_duration)]
    pub interval: Option<Duration>,
    /// Fewer canary requests in an interval: inconclusive, the step is held [default: 100].
    #[arg(long, value_name = "N")]
    pub min_requests: Option<u64>,
    /// Percent of the canary's requests answered 5xx [default: 1].
    #[arg(long, value_name = "PERCENT")]
    pub max_error_rate: Option<f64>,
    /// The canary's p99 latency limit in ms [default: 500].
    #[arg(long, value_name = "MS")]
    pub max_p99_ms: Option<f64>,
    /// Failed intervals before rolling back [default: 2].
    #[arg(long, value_name = "N")]
    pub failure_limit: Option<u32>,
    /// Bounds the whole run; still unfinished then: rollback [default: 30m].
    #[arg(long, value_parser = parse_duration)]
    pub deadline: Option<Duration>,
    /// After the last step passes, wait for `canaryctl promote` before completing.
    #[arg(long)]
    pub manual_promotion: bool,
    /// How long to wait for Envoy to apply each edit [default: 30s].
    #[arg(long, value_parser = parse_duration)]
    pub apply_timeout: Option<Duration>,
    /// The source's name of a version (repeatable): VERSION=CLUSTER, or
    /// VERSION=LABEL with --prometheus-shape istio.
    #[arg(long = "cluster", value_name = "VERSION=NAME", value_parser = parse_mapping)]
    pub clusters: Vec<(String, String)>,
    /// The state file [default: .canaryctl-auto/<file>.<release>.json beside FILE].
    #[arg(long, value_name = "FILE")]
    pub state: Option<PathBuf>,
    /// Begin a new run although the state file holds one.
    #[arg(long)]
    pub restart: bool,
    /// One JSON object per event.
    #[arg(long)]
    pub json: bool,
}

/// A Prometheus server as the health source, for `auto` and `status`.
#[derive(Debug, Args)]
pub struct SourceArgs {
    /// A Prometheus server: the health source (instead of Envoy's admin).
    #[arg(long, value_name = "URL")]
    pub prometheus: Option<String>,
    /// Which metrics Prometheus holds.
    #[arg(long, value_enum, default_value = "envoy", requires = "prometheus")]
    pub prometheus_shape: ShapeArg,
    /// Extra PromQL label matchers for every query, e.g. 'reporter="destination"'.
    #[arg(long, value_name = "MATCHERS", requires = "prometheus")]
    pub prometheus_match: Option<String>,
}

impl SourceArgs {
    /// Prometheus if given, else Envoy's admin.
    pub fn source(&self, admin: Option<&Admin>) -> Result<Box<dyn Source>> {
        match (&self.prometheus, admin) {
            (Some(url), _) => {
                let shape = match self.prometheus_shape {
                    ShapeArg::Envoy => Shape::Envoy,
                    ShapeArg::Istio => Shape::Istio,
                };
                let source = PrometheusSource::new(url, shape, self.prometheus_match.clone())
                    .map_err(CliError::new)?;
                Ok(Box::new(source))
            }
            (None, Some(admin)) => Ok(Box::new(AdminSource {
                admin: admin.clone(),
            })),
            (None, None) => Err(CliError::new("give --admin or --prometheus")),
        }
    }
}

/// `status --file`: per-version health.
#[derive(Debug, Args)]
pub struct HealthArgs {
    /// Show each version's health over the last interval, for the releases
    /// in FILE (plugin JSON, ECDS file or WasmPlugin), instead of the split.
    #[arg(long = "file", value_name = "FILE")]
    pub health_file: Option<PathBuf>,
    /// With --file: a version's name in the source (repeatable), VERSION=NAME.
    #[arg(long = "cluster", value_name = "VERSION=NAME", value_parser = parse_mapping, requires = "health_file")]
    pub clusters: Vec<(String, String)>,
    #[command(flatten)]
    pub source: SourceArgs,
}

impl HealthArgs {
    /// The options of a health table, when --file asks for one.
    pub fn options(
        &self,
        admin: &str,
        interval: Duration,
        watch: bool,
        count: Option<u64>,
        json: bool,
    ) -> Result<Option<HealthOptions>> {
        let Some(file) = &self.health_file else {
            return Ok(None);
        };
        let admin = Admin::parse(admin).map_err(CliError::new)?;
        Ok(Some(HealthOptions {
            file: file.clone(),
            kind: None,
            source: self.source.source(Some(&admin))?,
            clusters: self.clusters.iter().cloned().collect(),
            interval,
            watch,
            count,
            json,
        }))
    }
}

#[derive(Debug, Args)]
pub struct GateArgs {
    #[command(flatten)]
    pub file: FileArgs,
    /// The release's name.
    pub release: String,
    /// The run's state file, when `auto` got --state.
    #[arg(long, value_name = "FILE")]
    pub state: Option<PathBuf>,
}

impl AutoArgs {
    fn overrides(&self) -> Overrides {
        Overrides {
            steps: self.steps.clone(),
            interval: self.interval,
            min_requests: self.min_requests,
            max_error_rate: self.max_error_rate,
            max_p99_ms: self.max_p99_ms,
            failure_limit: self.failure_limit,
            deadline: self.deadline,
            manual_promotion: self.manual_promotion.then_some(true),
            apply_timeout: self.apply_timeout,
            clusters: (!self.clusters.is_empty())
                .then(|| self.clusters.iter().cloned().collect::<BTreeMap<_, _>>()),
        }
    }

    pub fn options(&self) -> Result<AutoOptions> {
        let mut settings = Settings::default();
        if let Some(plan) = &self.plan {
            settings = settings.with(&read_plan(plan)?);
        }
        let settings = settings.with(&self.overrides());
        settings.check().map_err(CliError::new)?;
        let admin = match &self.admin {
            Some(url) => Some(Admin::parse(url).map_err(CliError::new)?),
            None => None,
        };
        let source = self.source.source(admin.as_ref())?;
        Ok(AutoOptions {
            file: self.file.file.clone(),
            kind: self.file.kind(),
            release: self.release.clone(),
            canary: self.canary.clone(),
            settings,
            source,
            admin,
            state: self.state.clone(),
            restart: self.restart,
            json: self.json,
        })
    }
}

/// `auto`: exit 0 completed, 3 rolled back (errors: 1, usage: 2).
pub fn run(args: &AutoArgs, out: &mut dyn Write) -> Result<ExitCode> {
    match auto_run::run(&args.options()?, out)? {
        Outcome::Completed => Ok(ExitCode::SUCCESS),
        Outcome::RolledBack => Ok(ExitCode::from(3)),
    }
}

pub fn gate(gate: Gate, args: &GateArgs, out: &mut dyn Write) -> Result<()> {
    gates::run(
        gate,
        &args.file.file,
        args.file.kind(),
        &args.release,
        args.state.as_deref(),
        out,
    )
}
