//! `nodules-webapp`: the site and the API. (Not built yet: this is the command-line shape
//! it will have.)

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use nodules_store::DbArgs;

/// Serves the Nodules site and JSON API, and writes sitemaps.
#[derive(Debug, Parser)]
#[command(name = "nodules-webapp", version, about)]
struct Cli {
    #[command(flatten)]
    db: DbArgs,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the site and the API.
    Serve,
    /// Write the sitemap index and its shards as static files.
    Sitemaps,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    eprintln!("nodules-webapp {:?}: not implemented yet", cli.command);
    ExitCode::from(1)
}
