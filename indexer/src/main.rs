use std::process::ExitCode;

use clap::Parser;
use nodules_indexer::cli::Cli;

fn main() -> ExitCode {
    let cli = Cli::parse();
    nodules_npm::logging::init(cli.log.log_format);
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("nodules-indexer: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(nodules_indexer::commands::run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e:#}");
            e.exit_code()
        }
    }
}
