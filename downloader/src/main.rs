//! `nodules-downloader`: fetches, verifies and unpacks the latest tarball of every package.
//! (Not built yet: this is the command-line shape it will have.)

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use nodules_store::DbArgs;
use nodules_store::registry::RegistryArgs;

/// Fetches, verifies and unpacks each package's latest tarball into MongoDB.
#[derive(Debug, Parser)]
#[command(name = "nodules-downloader", version, about)]
struct Cli {
    #[command(flatten)]
    db: DbArgs,
    #[command(flatten)]
    registry: RegistryArgs,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Download and unpack the tarballs of packages that need it.
    Run,
    /// Refresh GitHub activity of packages whose repository is on GitHub.
    Github,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    eprintln!("nodules-downloader {:?}: not implemented yet", cli.command);
    ExitCode::from(1)
}
