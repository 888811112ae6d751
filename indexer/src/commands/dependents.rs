//! `dependents --rerank | --rebuild`.

use std::time::Instant;

use mongodb::bson::DateTime;
use nodules_store::dependents::RerankError;

use super::{CommandError, LEASE_JOB, connect};
use crate::cli::Cli;

#[derive(Debug, Clone, Copy)]
pub enum Action {
    Rerank,
    RerankAll,
    Rebuild { counts_in_memory: usize },
}

impl From<RerankError> for CommandError {
    fn from(e: RerankError) -> Self {
        match e {
            RerankError::Lease(l) => l.into(),
            RerankError::Store(s) => s.into(),
        }
    }
}

pub async fn run(cli: &Cli, action: Action) -> Result<(), CommandError> {
    let started = Instant::now();
    let started_at = DateTime::now();
    let store = connect(&cli.db).await?;
    if cli.dry_run {
        let dirty = store.graph().dirty_lists().await?;
        println!("{dirty} lists would be reranked (dry run: nothing written)");
        return Ok(());
    }
    let lease = store.acquire_lease(LEASE_JOB, cli.lease_ttl).await?;
    let graph = store.graph();
    graph.recover().await?;
    let (job, line) = match action {
        Action::Rerank | Action::RerankAll => {
            let s = graph.rerank(Some(&lease), matches!(action, Action::RerankAll)).await?;
            store.rebuild_browse_lists().await?;
            (
                "rerank",
                format!(
                    "reranked {} lists, {} dependents, {} pages ({} pages and {} packages changed)",
                    s.lists, s.members, s.pages, s.pages_changed, s.targets_changed
                ),
            )
        }
        Action::Rebuild { counts_in_memory } => {
            let s = graph.rebuild(Some(&lease), counts_in_memory).await?;
            (
                "rebuild",
                format!(
                    "rebuilt {} edges from {} packages for {} targets, {} package counts changed, {} pages",
                    s.edges, s.sources, s.targets, s.packages_updated, s.rerank.pages
                ),
            )
        }
    };
    let line = format!("{line} in {:.1} s", started.elapsed().as_secs_f64());
    nodules_store::tally::log();
    println!("{line}");
    if let Err(e) = store.record_run(job, started_at, true, &line, &[]).await {
        tracing::warn!(error = %e, "cannot record the run");
    }
    if let Err(e) = lease.release().await {
        tracing::warn!(error = %e, "cannot release the lease (it will expire)");
    }
    Ok(())
}
