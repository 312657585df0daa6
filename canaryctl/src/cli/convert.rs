//! The parsed command line as the library's plain types.

use canary_core::Mode;

use canaryctl::edit::{Change, RuleChange, Start, WaitFor};
use canaryctl::simulate::request::RequestFlags;
use canaryctl::simulate::SimulateOptions;
use canaryctl::status::StatusOptions;
use canaryctl::wait::WaitOptions;
use canaryctl::{Admin, CliError, Kind};

use crate::cli::{
    FileArgs, KindArg, ModeArg, RuleArgs, SimulateArgs, StartArgs, StatusArgs, WaitArgs,
    WaitCommandArgs,
};

impl WaitArgs {
    pub fn wait_for(&self) -> Result<Option<WaitFor>, CliError> {
        match (&self.admin, self.wait) {
            (Some(admin), true) => Ok(Some(WaitFor {
                admin: Admin::parse(admin).map_err(CliError::new)?,
                timeout: self.timeout,
            })),
            _ => Ok(None),
        }
    }
}

impl RuleArgs {
    pub fn change(&self) -> Change {
        let path = if self.no_path {
            Some(None)
        } else {
            [
                ("prefix", &self.path_prefix),
                ("exact", &self.path_exact),
                ("regex", &self.path_regex),
            ]
            .into_iter()
            .find_map(|(kind, value)| value.as_ref().map(|v| Some(serde_json::json!({ kind: v }))))
        };
        let conditions = if self.no_conditions {
            Some(None)
        } else if self.when.is_empty() {
            None
        } else {
            Some(Some(self.when.clone()))
        };
        let change = Change::Rule(RuleChange {
            path,
            mode: self.mode.map(|m| match m {
                ModeArg::All => Mode::All,
                ModeArg::Any => Mode::Any,
            }),
            conditions,
            clear: self.clear,
        });
        on_canary(self.canary.as_ref(), change)
    }
}

/// `--canary VALUE`: the step on that canary.
pub fn on_canary(canary: Option<&String>, change: Change) -> Change {
    match canary {
        Some(canary) => Change::OnCanary {
            canary: canary.clone(),
            change: Box::new(change),
        },
        None => change,
    }
}

impl StartArgs {
    pub fn change(&self) -> Change {
        Change::Start(Start {
            canary: self.canary.clone(),
            baseline: self.baseline.clone(),
            force: self.force,
        })
    }
}

impl SimulateArgs {
    pub fn options(&self) -> SimulateOptions {
        SimulateOptions {
            file: self.file.file.clone(),
            kind: self.file.kind(),
            requests: self.requests,
            request: RequestFlags {
                headers: self.headers.clone(),
                path: self.path.clone(),
                host: self.host.clone(),
                cookies: self.cookies.clone(),
                queries: self.queries.clone(),
            },
            seed: self.seed,
            users: self.users,
            weights: self.weights.clone(),
            canary: self.canary.clone(),
            json: self.json,
        }
    }
}

impl StatusArgs {
    pub fn options(&self) -> Result<StatusOptions, CliError> {
        Ok(StatusOptions {
            admin: Admin::parse(&self.admin).map_err(CliError::new)?,
            watch: self.watch,
            interval: self.interval,
            count: self.count,
            json: self.json,
        })
    }
}

impl WaitCommandArgs {
    pub fn options(&self) -> Result<WaitOptions, CliError> {
        Ok(WaitOptions {
            admin: Admin::parse(&self.admin).map_err(CliError::new)?,
            file: self.file.clone(),
            timeout: self.timeout,
            command: self.command.clone(),
        })
    }
}

impl FileArgs {
    pub fn kind(&self) -> Option<Kind> {
        self.kind.map(|kind| match kind {
            KindArg::Plugin => Kind::Plugin,
            KindArg::Ecds => Kind::Ecds,
            KindArg::Wasmplugin => Kind::Wasmplugin,
        })
    }
}
