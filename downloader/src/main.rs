use std::process::ExitCode;

use clap::Parser;
use nodules_downloader::cli::{Cli, Command};

fn main() -> ExitCode {
    let cli = Cli::parse();
    nodules_npm::logging::init(cli.log.log_format);
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("nodules-downloader: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(line) => {
            println!("{line}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            tracing::error!("{e:#}");
            ExitCode::from(1)
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<String> {
    match &cli.command {
        Command::Run(args) => {
            let registry = cli.registry.resolve()?;
            let store = nodules_store::Store::connect_and_ping(&cli.db).await?;
            store.ensure_indexes().await?;
            nodules_downloader::run::run(store, registry, args).await
        }
        Command::Github(args) => {
            let store = nodules_store::Store::connect_and_ping(&cli.db).await?;
            store.ensure_indexes().await?;
            nodules_downloader::github::run(store, args).await
        }
    }
}
