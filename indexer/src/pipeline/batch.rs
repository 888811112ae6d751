//! The pipeline loop: gather items into batches (by count, bytes or a pause in the
//! input), then identify, look up what is stored (one query), decide, and write.

use std::collections::HashMap;
use std::time::Duration;

use mongodb::bson::DateTime;
use nodules_npm::normalize::document::normalize_streaming;
use nodules_npm::progress::Progress;
use nodules_store::lease::{Lease, LeaseError};
use nodules_store::{Store, StoreError};
use rayon::prelude::*;
use tokio::sync::mpsc::Receiver;

use super::budget::Budgeted;
use super::decide::{Decision, Prepared, decide, identify, last_per_package};
use super::incoming::{Incoming, Item};
use super::summary::Summary;
use super::write::apply;
use nodules_store::dependents::{ApplyStats, PendingEdges};

/// Batch limits.
#[derive(Debug, Clone)]
pub struct BatchConfig {
    pub max_docs: usize,
    pub max_bytes: usize,
    /// Write what has arrived after this long without input (stdin, slow feeds).
    pub idle_flush: Duration,
}

impl Default for BatchConfig {
    fn default() -> Self {
        BatchConfig { max_docs: 500, max_bytes: 8 << 20, idle_flush: Duration::from_millis(500) }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Lease(#[from] LeaseError),
    #[error("a normalization worker failed: {0}")]
    Worker(#[from] tokio::task::JoinError),
}

/// Where and what the pipeline writes. `store: None` is a dry run: everything is read,
/// identified and normalized, nothing is written (or read) in the database.
pub struct Pipeline<'a> {
    pub store: Option<Store>,
    pub lease: Option<&'a Lease>,
    pub config: BatchConfig,
    pub summary: Summary,
    /// Saves the last feed `seq` after each stored batch under this key (`follow`).
    pub checkpoint_key: Option<String>,
    /// Last `seq` stored.
    pub last_seq: Option<String>,
    pub progress: Option<Progress>,
    /// Input position for the progress bar.
    pub position: Option<std::sync::Arc<std::sync::atomic::AtomicU64>>,
    /// What the run did to the dependents graph.
    pub edges: ApplyStats,
    /// Dependency changes of written batches not applied yet.
    pending: PendingEdges,
    /// Where the time went: parsing and normalizing, and database round trips.
    pub timings: Timings,
}

/// Time spent parsing and normalizing (`cpu`) and waiting on the database (`db`).
#[derive(Debug, Default, Clone, Copy)]
pub struct Timings {
    pub cpu: std::time::Duration,
    pub db: std::time::Duration,
}

struct Meta {
    origin: String,
}

impl<'a> Pipeline<'a> {
    pub fn new(store: Option<Store>, lease: Option<&'a Lease>) -> Self {
        Pipeline {
            store,
            lease,
            config: BatchConfig::default(),
            summary: Summary::default(),
            checkpoint_key: None,
            last_seq: None,
            progress: None,
            position: None,
            edges: ApplyStats::default(),
            pending: PendingEdges::default(),
            timings: Timings::default(),
        }
    }

    /// Logs where the time went and what the dependents graph saw (for benchmarks).
    pub fn log_work(&self) {
        tracing::info!(
            normalize_s = format!("{:.2}", self.timings.cpu.as_secs_f64()),
            database_s = format!("{:.2}", self.timings.db.as_secs_f64()),
            edges_added = self.edges.edges_added,
            edges_removed = self.edges.edges_removed,
            targets_touched = self.edges.targets_touched,
            "work"
        );
    }

    /// Consumes `rx` until it closes.
    pub async fn run(&mut self, mut rx: Receiver<Budgeted>) -> Result<(), PipelineError> {
        let mut closed = false;
        while !closed {
            let Some(first) = rx.recv().await else { break };
            let mut paused = false;
            let mut bytes = first.item.size();
            let mut batch = vec![first];
            while batch.len() < self.config.max_docs && bytes < self.config.max_bytes {
                match tokio::time::timeout(self.config.idle_flush, rx.recv()).await {
                    Ok(Some(b)) => {
                        bytes += b.item.size();
                        batch.push(b);
                    }
                    Ok(None) => {
                        closed = true;
                        break;
                    }
                    Err(_) => {
                        paused = true;
                        break;
                    }
                }
            }
            self.process(batch).await?;
            // a dump's batches share their dependents work; a paused or ended input (a
            // feed that caught up) shows its changes at once
            if closed || paused || self.pending.is_full() {
                self.apply_dependents().await?;
            }
        }
        self.apply_dependents().await
    }

    /// Applies the dependency changes of the batches written so far.
    async fn apply_dependents(&mut self) -> Result<(), PipelineError> {
        let Some(store) = self.store.clone() else { return Ok(()) };
        if self.pending.is_empty() {
            return Ok(());
        }
        let t = std::time::Instant::now();
        let stats = self.pending.flush(&store).await?;
        self.timings.db += t.elapsed();
        tracing::debug!(step = "dependents", ms = t.elapsed().as_millis() as u64, "batch write step done");
        self.edges.edges_added += stats.edges_added;
        self.edges.edges_removed += stats.edges_removed;
        self.edges.targets_touched += stats.targets_touched;
        Ok(())
    }

    /// Processes one batch (budget permits are released when it is done).
    pub async fn process(&mut self, batch: Vec<Budgeted>) -> Result<(), PipelineError> {
        if let Some(lease) = self.lease {
            lease.check()?;
        }
        let count = batch.len() as u64;
        let (items, permits): (Vec<Item>, Vec<_>) = batch.into_iter().map(|b| (b.item, b.permit)).unzip();
        let mut batch_seq = None;
        for item in &items {
            if let Some(s) = &item.seq {
                batch_seq = Some(s.clone());
            }
            if let Incoming::LastSeq(s) = &item.incoming {
                batch_seq = Some(s.clone());
            }
        }
        let t = std::time::Instant::now();
        let prepared = tokio::task::spawn_blocking(move || prepare_all(items)).await?;
        self.timings.cpu += t.elapsed();
        let (kept, superseded) = last_per_package(prepared);
        self.summary.unchanged += superseded;
        match self.store.clone() {
            None => {
                let t = std::time::Instant::now();
                tokio::task::spawn_blocking(move || dry_run(kept)).await?.add_to(&mut self.summary);
                self.timings.cpu += t.elapsed();
            }
            Some(store) => {
                let now = DateTime::now();
                let names: Vec<String> = kept.iter().filter_map(|(_, p)| package_name(p)).collect();
                let t = std::time::Instant::now();
                let stored = store.stored_packages(&names).await?;
                self.timings.db += t.elapsed();
                let t = std::time::Instant::now();
                let decisions = tokio::task::spawn_blocking(move || {
                    kept.into_par_iter()
                        .map(|(m, p)| {
                            let d = decide(&m.origin, p, &stored, now);
                            (m.origin, d)
                        })
                        .collect::<Vec<_>>()
                })
                .await?;
                self.timings.cpu += t.elapsed();
                let t = std::time::Instant::now();
                apply(&store, decisions, now, &mut self.summary, &mut self.pending).await?;
                self.timings.db += t.elapsed();
                if let (Some(key), Some(seq)) = (&self.checkpoint_key, &batch_seq) {
                    store.save_checkpoint(key, seq).await?;
                }
            }
        }
        if batch_seq.is_some() {
            self.last_seq = batch_seq;
        }
        drop(permits);
        if let Some(p) = &self.progress {
            let pos = self.position.as_ref().map(|p| p.load(std::sync::atomic::Ordering::Relaxed));
            p.advance(count, pos);
        }
        Ok(())
    }
}

/// Identifies every item, on every core (order kept).
fn prepare_all(items: Vec<Item>) -> Vec<(Meta, Prepared)> {
    items
        .into_par_iter()
        .filter_map(|item| {
            let meta = Meta { origin: item.origin };
            let prepared = match item.incoming {
                Incoming::LastSeq(_) => return None,
                Incoming::Doc(d) => match identify(d) {
                    Ok(doc) => Prepared::Doc(doc),
                    Err((name, reason)) => Prepared::Other(Incoming::Bad { name, reason }),
                },
                other => Prepared::Other(other),
            };
            Some((meta, prepared))
        })
        .collect()
}

fn package_name(p: &Prepared) -> Option<String> {
    match p {
        Prepared::Doc(d) => Some(d.name.clone()),
        Prepared::Other(
            Incoming::Deleted { name, .. }
            | Incoming::Stale { name, .. }
            | Incoming::NotModified { name }
            | Incoming::Failed { name, .. },
        ) => Some(name.clone()),
        Prepared::Other(_) => None,
    }
}

/// Counts of a dry run.
#[derive(Default)]
struct DryCounts {
    ingested: u64,
    deleted: u64,
    rejected: u64,
    failed: u64,
    stale: u64,
    unchanged: u64,
}

impl DryCounts {
    fn sum(self, o: DryCounts) -> DryCounts {
        DryCounts {
            ingested: self.ingested + o.ingested,
            deleted: self.deleted + o.deleted,
            rejected: self.rejected + o.rejected,
            failed: self.failed + o.failed,
            stale: self.stale + o.stale,
            unchanged: self.unchanged + o.unchanged,
        }
    }

    fn add_to(self, s: &mut Summary) {
        s.ingested += self.ingested;
        s.deleted += self.deleted;
        s.rejected += self.rejected;
        s.failed += self.failed;
        s.marked_stale += self.stale;
        s.unchanged += self.unchanged;
    }
}

/// A dry run normalizes every document as if the database were empty, on every core.
fn dry_run(kept: Vec<(Meta, Prepared)>) -> DryCounts {
    kept.into_par_iter().map(dry_run_one).reduce(DryCounts::default, DryCounts::sum)
}

fn dry_run_one((m, p): (Meta, Prepared)) -> DryCounts {
    let mut c = DryCounts::default();
    let none = HashMap::new();
    {
        match p {
            Prepared::Doc(d) => match normalize_streaming(&d.item.doc, Some(&d.name), None, &mut drop) {
                Ok(p) if p.state == nodules_store::model::PackageState::Active => c.ingested += 1,
                Ok(_) => c.deleted += 1,
                Err(e) => {
                    tracing::warn!(source = %m.origin, package.name = %d.name, reason = %e, "rejected");
                    c.rejected += 1;
                }
            },
            Prepared::Other(Incoming::Deleted { .. }) => c.deleted += 1,
            other => match decide(&m.origin, other, &none, DateTime::now()) {
                Decision::Reject(r) => {
                    tracing::warn!(source = %r.source, package.name = r.package.as_deref().unwrap_or("-"), reason = %r.reason, "rejected");
                    c.rejected += 1;
                }
                Decision::MarkStale { failed: Some(_), .. } => c.failed += 1,
                Decision::MarkStale { failed: None, .. } => c.stale += 1,
                _ => c.unchanged += 1,
            },
        }
    }
    c
}
