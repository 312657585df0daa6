//! canaryctl: the release steps of the canary filter as commands. This
//! binary only parses the command line (`cli`) into the library's plain
//! types and calls it; see the library's documentation for the API.

mod cli;

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;

use canaryctl::auto::gates::Gate;
use canaryctl::edit::{self, Change};
use canaryctl::{console, inspect, simulate, status, wait, CliError, Result};
use cli::{Cli, Command};

fn run(cli: Cli, out: &mut dyn Write) -> Result<ExitCode> {
    let done = match cli.command {
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
        Command::Status(args) => {
            let health = args.health.options(
                &args.admin,
                args.interval,
                args.watch,
                args.count,
                args.json,
            )?;
            match health {
                Some(health) => status::health::run(&health, out),
                None => status::run(&args.options()?, out),
            }
        }
        Command::Wait(args) => wait::run(&args.options()?, out),
        // Its own exit status: 3 when it rolled back.
        Command::Auto(args) => return cli::auto::run(&args, out),
        Command::Promote(args) => cli::auto::gate(Gate::Promote, &args, out),
        Command::Abort(args) => cli::auto::gate(Gate::Abort, &args, out),
        Command::Pause(args) => cli::auto::gate(Gate::Pause, &args, out),
        Command::Resume(args) => cli::auto::gate(Gate::Resume, &args, out),
        Command::Console(args) => console::run(&args.options()?, out),
    };
    done.map(|()| ExitCode::SUCCESS)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let result =
        run(cli, &mut out).and_then(|code| out.flush().map_err(CliError::from).map(|()| code));
    match result {
        Ok(code) => code,
        Err(CliError::BrokenPipe) => ExitCode::SUCCESS,
        Err(error) => {
            // Nothing sensible is left to do if stderr is gone too.
            let _ = writeln!(std::io::stderr(), "canaryctl: {error}");
            ExitCode::from(1)
        }
    }
}
