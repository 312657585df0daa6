//! The one error type of the library and the CLI: a message for stderr and
//! exit status 1, with the cases a caller may act on kept apart.

use std::fmt;
use std::io;
use std::path::Path;

#[derive(Debug)]
pub enum CliError {
    /// A rejected input or a failed step, said in one line.
    Failed(String),
    /// The file changed between reading it and writing the edit (another
    /// writer); nothing was written.
    Changed(String),
    /// stdout was closed (as by `| head`): stop quietly.
    BrokenPipe,
}

impl CliError {
    pub fn new(message: impl Into<String>) -> Self {
        CliError::Failed(message.into())
    }

    /// `<file>: <message>`, the shape every file-related error has.
    pub fn in_file(file: &Path, message: impl fmt::Display) -> Self {
        CliError::Failed(format!("{}: {message}", file.display()))
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CliError::Failed(message) | CliError::Changed(message) => f.write_str(message),
            CliError::BrokenPipe => f.write_str("stdout closed"),
        }
    }
}

impl std::error::Error for CliError {}

/// Writing to stdout fails only when it is gone; `println!` would panic then.
impl From<io::Error> for CliError {
    fn from(error: io::Error) -> Self {
        if error.kind() == io::ErrorKind::BrokenPipe {
            CliError::BrokenPipe
        } else {
            CliError::Failed(format!("cannot write output: {error}"))
        }
    }
}

pub type Result<T> = std::result::Result<T, CliError>;
