//! `canaryctl console`: its options and their translation.

use std::path::PathBuf;

use clap::Args;

use canaryctl::console::{read_token_file, ConsoleOptions};
use canaryctl::{Admin, CliError};

use crate::cli::FileArgs;

#[derive(Debug, Args)]
pub struct ConsoleArgs {
    #[command(flatten)]
    pub file: FileArgs,
    /// Envoy's admin address: live numbers per version, and Envoy's verdict
    /// on each write.
    #[arg(long, value_name = "URL")]
    pub admin: Option<String>,
    /// Prometheus (http://HOST:PORT) that scrapes Envoy: live numbers from
    /// there instead of the admin (no endpoints, no verdict on writes).
    #[arg(long, value_name = "URL", conflicts_with = "admin")]
    pub prometheus: Option<String>,
    /// Where to listen. Any address but loopback needs --token or --token-file.
    #[arg(long, default_value = "127.0.0.1:8080", value_name = "IP:PORT")]
    pub listen: String,
    /// Every request must carry it (Authorization: Bearer TOKEN); the page asks once.
    #[arg(long, value_name = "TOKEN", conflicts_with = "token_file")]
    pub token: Option<String>,
    /// The token, as the first line of this file.
    #[arg(long, value_name = "PATH")]
    pub token_file: Option<PathBuf>,
}

impl ConsoleArgs {
    pub fn options(&self) -> Result<ConsoleOptions, CliError> {
        let admin = match &self.admin {
            Some(url) => Some(Admin::parse(url).map_err(CliError::new)?),
            None => None,
        };
        let token = match (&self.token, &self.token_file) {
            (Some(token), _) => Some(token.clone()),
            (None, Some(path)) => Some(read_token_file(path)?),
            (None, None) => None,
        };
        Ok(ConsoleOptions {
            file: self.file.file.clone(),
            kind: self.file.kind(),
            admin,
            prometheus: self.prometheus.clone(),
            listen: self.listen.clone(),
            token,
        })
    }
}
