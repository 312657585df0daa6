//! canaryctl: the release steps of the canary filter as commands. This
//! binary only parses the command line (`cli`) into the library's plain
//! types and calls it; see the library's documentation for the API.

mod cli;

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;

use canaryctl::edit::{self, Change};
use canaryctl::{inspect, simulate, status, wait, CliError, Result};
use cli::{Cli, Command};

fn run(cli: Cli, out: &mut dyn Write) -> Result<()> {
    match cli.command {
        Command::Validate { file, json } => inspect::validate(&file.file, file.kind(), json, out),
        Command::Show { file, json } => inspect::show(&file.file, file.kind(), json, out),
        Command::Simulate(args) => simulate::run(&args.options(), out),
        Command::SetWeight {
            file,
            release,
            percent,
            canary,
            wait,
        } => {
            let change = cli::on_canary(canary.as_ref(), Change::SetWeight(percent));
            let wait = wait.wait_for()?;
            edit::run(
                &file.file,
                file.kind(),
                &release,
                &change,
                wait.as_ref(),
                out,
            )
        }
        Command::Rule(args) => {
            let wait = args.wait.wait_for()?;
            let (file, kind) = (&args.file.file, args.file.kind());
            edit::run(
                file,
                kind,
                &args.release,
                &args.change(),
                wait.as_ref(),
                out,
            )
        }
        Command::Complete {
            file,
            release,
            canary,
            wait,
        } => {
            let wait = wait.wait_for()?;
            edit::run(
                &file.file,
                file.kind(),
                &release,
                &cli::on_canary(canary.as_ref(), Change::Complete),
                wait.as_ref(),
                out,
            )
        }
        Command::AddCanary {
            file,
            release,
            value,
            weight,
            wait,
        } => {
            let wait = wait.wait_for()?;
            let change = Change::AddCanary { value, weight };
            edit::run(
                &file.file,
                file.kind(),
                &release,
                &change,
                wait.as_ref(),
                out,
            )
        }
        Command::RemoveCanary {
            file,
            release,
            value,
            wait,
        } => {
            let wait = wait.wait_for()?;
            let change = Change::RemoveCanary(value);
            edit::run(
                &file.file,
                file.kind(),
                &release,
                &change,
                wait.as_ref(),
                out,
            )
        }
        Command::Rollback {
            file,
            release,
            wait,
        } => {
            let wait = wait.wait_for()?;
            edit::run(
                &file.file,
                file.kind(),
                &release,
                &Change::Rollback,
                wait.as_ref(),
                out,
            )
        }
        Command::Start(args) => {
            let wait = args.wait.wait_for()?;
            let (file, kind) = (&args.file.file, args.file.kind());
            edit::run(
                file,
                kind,
                &args.release,
                &args.change(),
                wait.as_ref(),
                out,
            )
        }
        Command::Status(args) => status::run(&args.options()?, out),
        Command::Wait(args) => wait::run(&args.options()?, out),
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
