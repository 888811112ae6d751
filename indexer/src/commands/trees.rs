//! `trees [--all]`: the install trees of latest versions, recomputed when a member of one
//! changed (see `crate::install`).

use std::time::Instant;

use mongodb::bson::DateTime;
use nodules_store::seq::PACKAGE_SEQ;

use super::{CommandError, connect};
use crate::cli::{Cli, TreesArgs};
use crate::install::{Costing, Loader};

/// The lease of the `trees` job (it may run beside an ingest: it writes install trees and
/// download jobs only).
const LEASE_TREES: &str = "trees";
/// Changed packages read at once.
const CHANGES_PAGE: i64 = 1_000;
/// Checkpoint key of the changes already turned into stale marks.
const CHECKPOINT: &str = "installs";

pub async fn run(cli: &Cli, args: &TreesArgs) -> Result<(), CommandError> {
    let started = Instant::now();
    let started_at = DateTime::now();
    let store = connect(&cli.db).await?;
    let lease = store.acquire_lease(LEASE_TREES, cli.lease_ttl).await?;
    let result = trees(&store, &lease, args, started).await;
    let (ok, line) = match &result {
        Ok(s) => (true, s.line(started)),
        Err(e) => (false, format!("trees failed: {e:#}")),
    };
    nodules_store::tally::log();
    if let Some(peak) = nodules_npm::logging::peak_rss_bytes() {
        tracing::info!(peak_rss_kb = peak / 1024, "peak memory");
    }
    println!("{line}");
    let counts = result.as_ref().map(Summary::counts).unwrap_or_default();
    if let Err(e) = store.record_run("trees", started_at, ok, &line, &counts).await {
        tracing::warn!(error = %e, "cannot record the run");
    }
    if let Err(e) = lease.release().await {
        tracing::warn!(error = %e, "cannot release the lease (it will expire)");
    }
    result.map(|_| ())
}

#[derive(Debug, Default)]
struct Summary {
    changed: u64,
    computed: u64,
    written: u64,
    queued: u64,
    nodes: u64,
}

impl Summary {
    fn line(&self, started: Instant) -> String {
        let secs = started.elapsed().as_secs_f64();
        format!(
            "trees: {} packages changed, {} trees computed ({} written, {} packages in all, {:.1} trees/s), {} versions queued for download, in {secs:.1} s",
            self.changed,
            self.computed,
            self.written,
            self.nodes,
            self.computed as f64 / secs.max(0.001),
            self.queued,
        )
    }

    fn counts(&self) -> Vec<(&'static str, u64)> {
        vec![("changed", self.changed), ("computed", self.computed), ("written", self.written), ("queued", self.queued)]
    }
}

async fn trees(
    store: &nodules_store::Store,
    lease: &nodules_store::lease::Lease,
    args: &TreesArgs,
    started: Instant,
) -> Result<Summary, CommandError> {
    let mut summary = Summary::default();
    // 1. what changed since the last run marks the trees it is a member of stale
    let from = if args.all { 0 } else { store.checkpoint(CHECKPOINT).await?.and_then(|s| s.parse().ok()).unwrap_or(0) };
    let upto = store.current_seq(PACKAGE_SEQ).await?;
    // every write numbered up to `upto` has committed once this long has passed (the bound
    // the search index and the live stream use): reading earlier could miss one for good
    if let Some(rest) = args.commit_wait.checked_sub(started.elapsed()) {
        tokio::time::sleep(rest).await;
    }
    let mut at = from;
    loop {
        let changed: Vec<(String, i64)> =
            store.changed_since(at, CHANGES_PAGE).await?.into_iter().filter(|(_, s)| *s <= upto).collect();
        let Some(last) = changed.last().map(|(_, s)| *s) else { break };
        let names: Vec<String> = changed.into_iter().map(|(n, _)| n).collect();
        let roots: Vec<(String, String)> =
            store.install_packuments(&names).await?.into_iter().filter_map(|p| Some((p.name, p.latest?))).collect();
        store.mark_installs_stale(&names, &roots).await?;
        summary.changed += names.len() as u64;
        at = last;
        lease.check()?;
    }
    store.save_checkpoint(CHECKPOINT, &upto.to_string()).await?;

    // 2. the stale trees, resolved and costed
    let progress = nodules_npm::progress::Progress::new("trees", None);
    let mut loader = Loader::new(store.clone());
    let mut attempted = std::collections::HashSet::new();
    loop {
        let stale = store.stale_installs(args.batch as i64 + attempted.len() as i64).await?;
        let fresh: Vec<_> =
            stale.into_iter().filter(|s| !attempted.contains(&(s.package.clone(), s.version.clone()))).collect();
        if fresh.is_empty() {
            break;
        }
        for s in fresh.into_iter().take(args.batch) {
            attempted.insert((s.package.clone(), s.version.clone()));
            let resolved = loader.resolve(&s.package, &s.version).await?;
            let costing = Costing::of(&mut loader, &s.package, &s.version, &resolved).await?;
            summary.nodes += costing.tree.nodes.len() as u64;
            summary.queued += loader.queue_downloads(&costing.to_download).await? as u64;
            if store.write_install(&costing.tree, s.marks).await? {
                summary.written += 1;
            }
            summary.computed += 1;
            progress.advance(1, None);
            loader.trim();
        }
        lease.check()?;
    }
    progress.finish();
    Ok(summary)
}
