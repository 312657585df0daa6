//! canaryctl: the release steps of the canary filter as commands. It shares
//! the filter's config checks and decision through `canary-core`, so what it
//! accepts, explains and simulates is what the filter does.

mod cli;
mod describe;
mod document;
mod edit;
mod error;
mod inspect;
mod simulate;
mod status;

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;

use cli::{Cli, Command};
use edit::start::Start;
use edit::{RuleChange, Step};
use error::{CliError, Result};

fn run(cli: Cli, out: &mut dyn Write) -> Result<()> {
    match cli.command {
        Command::Validate { file, json } => inspect::validate(&file, json, out),
        Command::Show { file, json } => inspect::show(&file, json, out),
        Command::Simulate(args) => simulate::run(&args, out),
        Command::SetWeight {
            file,
            release,
            percent,
        } => edit::run(&file, &release, &Step::SetWeight(percent), out),
        Command::Rule(args) => {
            let step = Step::Rule(RuleChange::from_args(&args));
            edit::run(&args.file, &args.release, &step, out)
        }
        Command::Complete { file, release } => edit::run(&file, &release, &Step::Complete, out),
        Command::Rollback { file, release } => edit::run(&file, &release, &Step::Rollback, out),
        Command::Start(args) => {
            let step = Step::Start(Start::from_args(&args));
            edit::run(&args.file, &args.release, &step, out)
        }
        Command::Status(args) => status::run(&args, out),
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let result = run(cli, &mut out).and_then(|()| out.flush().map_err(CliError::from));
    match result {
        Ok(()) | Err(CliError::BrokenPipe) => ExitCode::SUCCESS,
        Err(error) => {
            // Nothing sensible is left to do if stderr is gone too.
            let _ = writeln!(std::io::stderr(), "canaryctl: {error}");
            ExitCode::from(1)
        }
    }
}
