//! Keeps the search index in step with MongoDB. On first start (or a new schema) it builds
//! the index from a cursor over the packages, in bounded batches, reporting progress; then
//! every second it indexes packages whose `seq` is above the watermark. Several webapps
//! each keep their own index from the same database. No full rebuild on restart.

use std::collections::VecDeque;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use mongodb::bson::Document;
use nodules_store::Store;

use super::doc::SearchDoc;
use super::engine::SearchEngine;

/// Packages read per batch.
const BATCH: usize = 1000;
/// `seq` numbers per window of the first build: each read holds the server for a short
/// while only, so page reads queued behind it still answer within their budget.
const BUILD_WINDOW: i64 = 500;
/// After each window the first build rests this many times as long as the window took
/// (reads and indexing): the build takes at most 1 / (1 + BUILD_REST) of the time, and of
/// a development server that shares two cores with it, leaving the rest to page requests.
const BUILD_REST: f64 = 1.0;
/// Changes are re-read for this long after they are first seen: a write whose `seq` was
/// taken earlier than a number already read (several writers) is not missed.
const OVERLAP: Duration = Duration::from_secs(10);

/// The index and how far it is.
pub struct SearchService {
    pub engine: Arc<SearchEngine>,
    ready: AtomicBool,
    /// Packages indexed by the first build so far.
    built: AtomicU64,
    /// The first build's position in `seq` numbers, and the counter's value it reads up to:
    /// its progress, known without counting the packages (a count on the development
    /// server decodes every record: seconds at 40,000, with page reads waiting behind it).
    scanned: AtomicU64,
    scan_end: AtomicU64,
}

impl SearchService {
    /// Opens (or creates) the index in `dir` and starts keeping it current.
    pub fn start(store: Store, dir: &Path) -> anyhow::Result<Arc<SearchService>> {
        std::fs::create_dir_all(dir)?;
        let (engine, needs_build) =
            SearchEngine::open_or_create(dir).map_err(|e| anyhow::anyhow!("search index in {}: {e}", dir.display()))?;
        let watermark = if needs_build { None } else { engine.commit_meta().and_then(|m| m.parse::<i64>().ok()) };
        let service = Arc::new(SearchService {
            engine: Arc::new(engine),
            ready: AtomicBool::new(watermark.is_some()),
            built: AtomicU64::new(0),
            scanned: AtomicU64::new(0),
            scan_end: AtomicU64::new(0),
        });
        let s = service.clone();
        tokio::spawn(async move {
            let mut watermark = watermark;
            loop {
                if watermark.is_none() {
                    match s.build(&store).await {
                        Ok(w) => watermark = Some(w),
                        Err(e) => {
                            tracing::warn!(error = %e, "building the search index failed; retrying in 10 s");
                            tokio::time::sleep(Duration::from_secs(10)).await;
                            continue;
                        }
                    }
                }
                if let Some(w) = watermark {
                    s.follow(&store, w).await;
                }
            }
        });
        Ok(service)
    }

    /// `None` when ready, else the share of the first build done (0–100).
    pub fn building(&self) -> Option<u64> {
        if self.ready.load(Ordering::Relaxed) {
            return None;
        }
        let end = self.scan_end.load(Ordering::Relaxed).max(1);
        Some((self.scanned.load(Ordering::Relaxed) * 100 / end).min(99))
    }

    /// The whole index from the packages; returns the watermark it is current to.
    async fn build(&self, store: &Store) -> anyhow::Result<i64> {
        let started = Instant::now();
        // everything written after this number is picked up by `follow`
        let watermark = store.current_seq(nodules_store::seq::PACKAGE_SEQ).await?;
        self.built.store(0, Ordering::Relaxed);
        self.scanned.store(0, Ordering::Relaxed);
        self.scan_end.store(u64::try_from(watermark).unwrap_or(0), Ordering::Relaxed);
        let engine = self.engine.clone();
        tokio::task::spawn_blocking(move || engine.clear()).await??;
        tracing::info!(up_to_seq = watermark, "building the search index");
        // windows of `seq` numbers, not one cursor: the development server answers a find by
        // materializing every match first, and page requests would queue behind it for
        // seconds (a 503 for the home page while 40,000 packages were read at once)
        let mut scan = store.scan_search_records(BUILD_WINDOW).await?;
        let mut last_log = Instant::now();
        loop {
            let window_started = Instant::now();
            let Some(docs) = scan.next_window().await? else { break };
            // inactive records matter only when written during the scan (a removal)
            self.index_batch(store, docs).await?;
            let (done, end) = scan.position();
            self.scanned.store(u64::try_from(done).unwrap_or(0), Ordering::Relaxed);
            self.scan_end.store(u64::try_from(end).unwrap_or(0), Ordering::Relaxed);
            tokio::time::sleep(window_started.elapsed().mul_f64(BUILD_REST)).await;
            if last_log.elapsed() > Duration::from_secs(10) {
                last_log = Instant::now();
                tracing::info!(
                    indexed = self.built.load(Ordering::Relaxed),
                    percent = self.building().unwrap_or(100),
                    "search index in progress"
                );
            }
        }
        let engine = self.engine.clone();
        let meta = watermark.to_string();
        tokio::task::spawn_blocking(move || engine.commit(&meta)).await??;
        self.ready.store(true, Ordering::Relaxed);
        tracing::info!(
            packages = self.built.load(Ordering::Relaxed),
            secs = started.elapsed().as_secs_f64(),
            "search index built"
        );
        Ok(watermark)
    }

    async fn index_batch(&self, store: &Store, docs: Vec<Document>) -> anyhow::Result<()> {
        if docs.is_empty() {
            return Ok(());
        }
        let n = docs.len() as u64;
        let (upserts, removals) = to_search_docs(store, docs).await?;
        let engine = self.engine.clone();
        tokio::task::spawn_blocking(move || -> anyhow::Result<()> {
            engine.remove(&removals)?;
            engine.upsert(&upserts)?;
            Ok(())
        })
        .await??;
        self.built.fetch_add(n, Ordering::Relaxed);
        Ok(())
    }

    /// Every second: packages changed since the watermark. Every ten seconds the last ten
    /// seconds are read again: a write whose `seq` was taken before a number already read
    /// (several writers) lands late, and is picked up then.
    async fn follow(&self, store: &Store, mut watermark: i64) {
        let mut history: VecDeque<(Instant, i64)> = VecDeque::new();
        let mut last_sweep = Instant::now();
        loop {
            tokio::time::sleep(Duration::from_secs(1)).await;
            let durable = history.front().map(|(_, w)| *w);
            match self.catch_up(store, watermark, durable).await {
                Ok(Some(max)) => watermark = max,
                Ok(None) => {}
                Err(e) => tracing::warn!(error = %e, "search index update failed; retrying"),
            }
            history.push_back((Instant::now(), watermark));
            if last_sweep.elapsed() >= OVERLAP {
                last_sweep = Instant::now();
                let old = history.front().map_or(watermark, |(_, w)| *w);
                history.retain(|(t, _)| t.elapsed() < OVERLAP);
                if old < watermark {
                    // stragglers; the watermark stored on disk stays behind them
                    if let Err(e) = self.catch_up(store, old, Some(old)).await {
                        tracing::warn!(error = %e, "search index sweep failed");
                    }
                }
            }
        }
    }

    /// Indexes packages with `seq > from`; returns the highest seq read. The commit records
    /// `durable` (or `from`) as the watermark a restart resumes from.
    async fn catch_up(&self, store: &Store, from: i64, durable: Option<i64>) -> anyhow::Result<Option<i64>> {
        let mut max = None;
        let mut from_seq = from;
        loop {
            let docs = store.search_records_changed_since(from_seq, BATCH as i64).await?;
            let n = docs.len();
            if let Some(s) = docs.last().and_then(|d| d.get_i64("seq").ok()) {
                from_seq = s;
                max = Some(s);
            }
            if n == 0 {
                break;
            }
            tracing::debug!(packages = n, after_seq = from, "search index: indexing changed packages");
            self.index_batch(store, docs).await?;
            if n < BATCH {
                break;
            }
        }
        if max.is_some() {
            let engine = self.engine.clone();
            // the conservative watermark survives a restart: the overlap is re-read
            let meta = durable.unwrap_or(from).to_string();
            tokio::task::spawn_blocking(move || engine.commit(&meta)).await??;
        }
        Ok(max)
    }
}

/// Package records (as projected) → documents to index, and names to remove.
async fn to_search_docs(store: &Store, docs: Vec<Document>) -> anyhow::Result<(Vec<SearchDoc>, Vec<String>)> {
    let mut removals = Vec::new();
    let mut active = Vec::new();
    for d in docs {
        let Ok(name) = d.get_str("_id").map(str::to_string) else { continue };
        if d.get_str("state").ok() == Some("active") {
            active.push((name, d));
        } else {
            removals.push(name);
        }
    }
    // downloaded facts of each latest version (a query per hundred)
    let ids: Vec<String> =
        active.iter().filter_map(|(n, d)| d.get_str("latest").ok().map(|v| format!("{n}@{v}"))).collect();
    let facts = store.search_facts(&ids).await?;
    // GitHub activity of their repositories (a query per 25)
    let keys: Vec<Option<String>> = active.iter().map(|(_, d)| nodules_store::browse::github_key(d)).collect();
    let wanted: Vec<String> = keys.iter().flatten().cloned().collect();
    let github = store.github_counts(&wanted).await?;
    let mut keys = keys.into_iter();
    let docs = active
        .into_iter()
        .map(|(name, d)| {
            let gh = keys.next().flatten().and_then(|k| github.get(&k).copied());
            let latest = d.get_document("latest_version").ok();
            let version = d.get_str("latest").ok().map(str::to_string);
            let source = version.as_ref().and_then(|v| facts.get(&format!("{name}@{v}")));
            let f = source.and_then(|s| s.get_document("facts").ok());
            let strs = |v: Option<&mongodb::bson::Array>| -> Vec<String> {
                v.into_iter().flatten().filter_map(|b| b.as_str().map(str::to_string)).collect()
            };
            SearchDoc {
                version,
                description: latest.and_then(|l| l.get_str("description").ok()).map(str::to_string),
                keywords: strs(latest.and_then(|l| l.get_array("keywords").ok())),
                author: latest
                    .and_then(|l| l.get_document("author").ok())
                    .and_then(|a| a.get_str("name").ok())
                    .map(str::to_string),
                maintainers: d
                    .get_array("maintainers")
                    .into_iter()
                    .flatten()
                    .filter_map(|m| m.as_document().and_then(|m| m.get_str("name").ok()).map(str::to_string))
                    .collect(),
                license: latest
                    .and_then(|l| l.get_document("license").ok())
                    .and_then(|l| l.get_str("spdx").ok())
                    .map(str::to_string),
                deprecated: latest.and_then(|l| l.get_str("deprecated").ok()).is_some(),
                has_types: f.and_then(|f| f.get_bool("has_types").ok()),
                module_type: f.and_then(|f| f.get_str("module_type").ok()).map(str::to_string),
                dependents_count: d.get_i64("dependents_count").ok().and_then(|n| u64::try_from(n).ok()).unwrap_or(0),
                modified: d.get_datetime("modified").map(|t| t.timestamp_millis() / 1000).unwrap_or(0),
                active: gh.is_some_and(|g| g.recent_commits > 0),
                archived: gh.is_some_and(|g| g.archived),
                name,
            }
        })
        .collect();
    Ok((docs, removals))
}
