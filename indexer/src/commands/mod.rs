//! The indexer's commands, and what they share: the lease, the run record, exit codes.

pub mod dependents; // dependents --rerank | --rebuild
pub mod fetch; // fetch [NAME…] [--deps] [--stale AGE]
pub mod follow; // follow URL [--since SEQ] [--continuous]
pub mod ingest; // ingest PATH|-
pub mod status; // status [--json]
pub mod trees; // trees [--all]: install trees and their cost

use std::process::ExitCode;

use mongodb::bson::DateTime;
use nodules_store::lease::{Lease, LeaseError};
use nodules_store::{DbArgs, Store, StoreError};

use crate::cli::{Cli, Command};
use crate::pipeline::{PipelineError, Summary};

/// The lease every writing indexer command takes.
pub const LEASE_JOB: &str = "indexer";

/// How a command ended badly.
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    /// Another run holds the lease: nothing was written.
    #[error(transparent)]
    Busy(LeaseError),
    #[error(transparent)]
    Failed(#[from] anyhow::Error),
}

impl CommandError {
    pub fn exit_code(&self) -> ExitCode {
        match self {
            CommandError::Busy(_) => ExitCode::from(75),
            CommandError::Failed(_) => ExitCode::from(1),
        }
    }
}

impl From<PipelineError> for CommandError {
    fn from(e: PipelineError) -> Self {
        match e {
            PipelineError::Lease(l) => CommandError::from(l),
            other => CommandError::Failed(other.into()),
        }
    }
}

impl From<LeaseError> for CommandError {
    fn from(e: LeaseError) -> Self {
        match e {
            LeaseError::Held { .. } => CommandError::Busy(e),
            other => CommandError::Failed(other.into()),
        }
    }
}

impl From<StoreError> for CommandError {
    fn from(e: StoreError) -> Self {
        CommandError::Failed(e.into())
    }
}

/// Runs the command line.
pub async fn run(cli: Cli) -> Result<(), CommandError> {
    match &cli.command {
        Command::Status { json } => status::status(&connect(&cli.db).await?, *json).await,
        Command::Trees(args) => trees::run(&cli, args).await,
        Command::Dependents { rerank, all, rebuild, counts_in_memory } => {
            let action = if *rebuild {
                dependents::Action::Rebuild { counts_in_memory: *counts_in_memory }
            } else if *all {
                dependents::Action::RerankAll
            } else {
                let _ = rerank;
                dependents::Action::Rerank
            };
            dependents::run(&cli, action).await
        }
        Command::Follow(args) => {
            let registry = cli.registry.resolve().map_err(|e| CommandError::Failed(e.into()))?;
            writing(&cli, "follow", async |store, lease| follow::follow(store, lease, registry, args).await).await
        }
        Command::Ingest { path, max_row_bytes } => {
            writing(&cli, "ingest", async |store, lease| ingest::ingest(store, lease, path, *max_row_bytes).await).await
        }
        Command::Fetch(args) => {
            let registry = cli.registry.resolve().map_err(|e| CommandError::Failed(e.into()))?;
            // --stale reads the database even in a dry run
            let reader = if args.stale.is_some() { Some(connect(&cli.db).await?) } else { None };
            writing(&cli, "fetch", async |store, lease| fetch::fetch(store, reader, lease, registry, args).await).await
        }
    }
}

pub(crate) async fn connect(db: &DbArgs) -> Result<Store, CommandError> {
    let store = Store::connect_and_ping(db).await?;
    store.ensure_indexes().await?;
    Ok(store)
}

/// Runs a writing command: takes the lease (unless dry), runs `body` with the store
/// (`None` in a dry run) and the lease, prints the summary line, records the run.
pub(crate) async fn writing<F>(cli: &Cli, job: &str, body: F) -> Result<(), CommandError>
where
    F: AsyncFnOnce(Option<Store>, Option<&Lease>) -> (Summary, Result<(), CommandError>),
{
    let started = DateTime::now();
    if cli.dry_run {
        let (summary, result) = body(None, None).await;
        finish(&summary, true);
        return result;
    }
    let store = connect(&cli.db).await?;
    let lease = store.acquire_lease(LEASE_JOB, cli.lease_ttl).await?;
    // a batch an earlier run did not finish is repaired before anything else is written
    store.graph().recover().await?;
    let (summary, result) = body(Some(store.clone()), Some(&lease)).await;
    finish(&summary, false);
    if let Err(e) = store.record_run(job, started, result.is_ok(), &summary.to_string(), &summary.counts()).await {
        tracing::warn!(error = %e, "cannot record the run");
    }
    // given back so the next run need not wait for it to expire
    if let Err(e) = lease.release().await {
        tracing::warn!(error = %e, "cannot release the lease (it will expire)");
    }
    result
}

pub(crate) fn finish(summary: &Summary, dry: bool) {
    nodules_store::tally::log();
    if let Some(peak) = nodules_npm::logging::peak_rss_bytes() {
        tracing::info!(peak_rss_kb = peak / 1024, "peak memory");
    }
    if summary.marked_stale > 0 {
        tracing::info!(packages = summary.marked_stale, "marked stale: `fetch --stale` will fetch them");
    }
    if dry {
        println!("{summary} (dry run: nothing written)");
    } else {
        println!("{summary}");
    }
}
