use std::process::ExitCode;

use clap::Parser;
use nodules_webapp::cli::{Cli, Command};

fn main() -> ExitCode {
    let cli = Cli::parse();
    nodules_npm::logging::init(cli.log.log_format);
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("nodules-webapp: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Serve(args) => nodules_webapp::server::serve(cli.db, args).await,
            Command::Sitemaps { out, base_url, shards } => {
                nodules_webapp::sitemaps_cli::run(cli.db, &out, &base_url, shards).await
            }
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e:#}");
            ExitCode::from(1)
        }
    }
}
