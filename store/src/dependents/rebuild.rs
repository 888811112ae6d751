//! `dependents --rebuild`: recomputes every edge, count and list from the stored packages.
//! For repairs and after changing what counts as an edge; cron uses the incremental path.

use std::collections::HashMap;
use std::time::Instant;

use crate::bulk::{Body, UpdateOp};
use crate::db::coll;
use crate::lease::Lease;
use crate::model::{DepKind, DepTargets, int_field};
use crate::scan::SEQ_WINDOW;
use crate::seq::PACKAGE_SEQ;
use crate::{Store, StoreError};
use mongodb::bson::{Document, doc};

use super::apply::read_dependents;
use super::diff::edge_id;
use super::rerank::{RerankError, RerankStats, rerank};

const BATCH: usize = 5000;

#[derive(Debug, Default, Clone, Copy)]
pub struct RebuildStats {
    pub sources: u64,
    pub edges: u64,
    pub targets: u64,
    pub packages_updated: u64,
    pub rerank: RerankStats,
}

/// Rebuilds everything. At most `counts_in_memory` targets' counts are held in memory
/// (~100 bytes each) before they are added to their `dependents` documents: memory stays
/// flat however many packages the registry has.
pub async fn rebuild(
    store: &Store,
    lease: Option<&Lease>,
    counts_in_memory: usize,
) -> Result<RebuildStats, RerankError> {
    let started = Instant::now();
    let mut stats = RebuildStats::default();
    for c in [coll::EDGES, coll::DEPENDENTS, coll::DEPENDENT_PAGES, coll::DEPENDENTS_JOURNAL] {
        store.collection(c).drop().await.map_err(StoreError::mongo("drop", c))?;
    }
    store.ensure_indexes().await?;

    // every edge of every active package, read in windows of change numbers; counts per
    // target (of the edges actually inserted: a record written during the scan is read
    // twice) added to the `dependents` documents whenever `counts_in_memory` targets are
    // pending (all of them dirty: the rerank lays out their pages)
    let mut counts: HashMap<String, (i64, i64)> = HashMap::new();
    let mut scan = store.scan_packages(doc! { "state": 1, "dep_targets": 1 }, SEQ_WINDOW).await?;
    let mut batch = EdgeBatch::default();
    while let Some(records) = scan.next_window().await? {
        if let Some(l) = lease {
            l.check()?;
        }
        for d in records {
            let (Ok(source), Ok("active")) = (d.get_str("_id"), d.get_str("state")) else { continue };
            let targets: DepTargets = d
                .get_document("dep_targets")
                .ok()
                .and_then(|t| mongodb::bson::from_document(t.clone()).ok())
                .unwrap_or_default();
            stats.sources += 1;
            for (kind, list) in [(DepKind::Prod, &targets.prod), (DepKind::Dev, &targets.dev)] {
                for t in list {
                    batch.push(t, source, kind);
                }
            }
        }
        if batch.docs.len() >= BATCH {
            stats.edges += std::mem::take(&mut batch).insert(store, &mut counts).await?;
        }
        if counts.len() >= counts_in_memory.max(1) {
            add_counts(store, std::mem::take(&mut counts)).await?;
        }
    }
    stats.edges += batch.insert(store, &mut counts).await?;
    add_counts(store, counts).await?;
    // the collection's own count: a count command walks every list on the development server
    stats.targets = store
        .collection(coll::DEPENDENTS)
        .estimated_document_count()
        .await
        .map_err(StoreError::mongo("count", coll::DEPENDENTS))?;

    // the records' counts first: the rerank orders members by them
    stats.packages_updated = update_record_counts(store, lease).await?;
    stats.rerank = rerank(store, lease, false).await?;
    store.rebuild_browse_lists().await?;
    tracing::info!(
        sources = stats.sources,
        edges = stats.edges,
        targets = stats.targets,
        packages_updated = stats.packages_updated,
        secs = started.elapsed().as_secs_f64(),
        "rebuilt dependents"
    );
    Ok(stats)
}

/// Edges waiting to be inserted, with their target and kind for the counts.
#[derive(Default)]
struct EdgeBatch {
    docs: Vec<Body>,
    keys: Vec<(String, DepKind)>,
}

impl EdgeBatch {
    fn push(&mut self, target: &str, source: &str, kind: DepKind) {
        self.docs.push(
            doc! { "_id": edge_id(target, source), "target": target, "source": source, "kind": kind.as_str() }.into(),
        );
        self.keys.push((target.to_string(), kind));
    }

    /// Inserts the edges and counts those inserted into `counts`; an edge already there
    /// (its source was read twice) is not counted again. Returns the number inserted.
    async fn insert(self, store: &Store, counts: &mut HashMap<String, (i64, i64)>) -> Result<u64, StoreError> {
        let mut refused = vec![false; self.docs.len()];
        for f in store.insert_all(coll::EDGES, self.docs).await? {
            if !f.is_duplicate_key() {
                return Err(StoreError::Refused {
                    collection: coll::EDGES.to_string(),
                    detail: format!(
                        "a rebuilt edge to {}: {}",
                        self.keys.get(f.index).map_or("?", |k| &k.0),
                        f.message
                    ),
                });
            }
            if let Some(r) = refused.get_mut(f.index) {
                *r = true;
            }
        }
        let mut inserted = 0;
        for ((target, kind), refused) in self.keys.into_iter().zip(refused) {
            if refused {
                continue;
            }
            inserted += 1;
            let c = counts.entry(target).or_default();
            match kind {
                DepKind::Prod => c.0 += 1,
                DepKind::Dev => c.1 += 1,
            }
        }
        Ok(inserted)
    }
}

/// Adds counts to the targets' `dependents` documents: a target seen for the first time is
/// inserted (dirty, no pages yet), one already written by an earlier part of the scan takes
/// an `$inc`.
async fn add_counts(store: &Store, counts: HashMap<String, (i64, i64)>) -> Result<(), StoreError> {
    let counts: Vec<(String, (i64, i64))> = counts.into_iter().collect();
    for chunk in counts.chunks(BATCH) {
        let docs = chunk
            .iter()
            .map(|(t, (p, d))| {
                doc! {
                    "_id": t,
                    "prod": { "count": p, "pages": 0, "last_len": 0 },
                    "dev": { "count": d, "pages": 0, "last_len": 0 },
                    "top": [],
                    "dirty": true,
                }
                .into()
            })
            .collect();
        let inc = |i: usize| {
            let (t, (p, d)) = chunk.get(i)?;
            Some(UpdateOp::update(doc! { "_id": t }, doc! { "$inc": { "prod.count": p, "dev.count": d } }))
        };
        let failed = store.insert_or_update(coll::DEPENDENTS, docs, inc).await?;
        if let Some(f) = failed.first() {
            return Err(StoreError::Refused {
                collection: coll::DEPENDENTS.to_string(),
                detail: format!(
                    "the counts of {} targets, the first ({}): {}",
                    failed.len(),
                    chunk.get(f.index).map_or("?", |(t, _)| t.as_str()),
                    f.message
                ),
            });
        }
    }
    Ok(())
}

/// Sets the package records' counts to their `dependents` documents' (0 without one)
/// where they differ, with new change numbers. The records are read in windows of change
/// numbers, their lists by key (25 per query): memory does not depend on the number
/// of packages, on either server. A record updated here is read once more at the end of
/// the scan (its new number is past the scan's position) and then left alone.
async fn update_record_counts(store: &Store, lease: Option<&Lease>) -> Result<u64, RerankError> {
    let mut scan = store.scan_packages(doc! { "dependents_count": 1, "dev_dependents_count": 1 }, SEQ_WINDOW).await?;
    let mut changed: Vec<(String, i64, i64)> = Vec::new();
    let mut updated = 0u64;
    while let Some(records) = scan.next_window().await? {
        let names = records.iter().filter_map(|d| d.get_str("_id").ok().map(str::to_string)).collect();
        let lists = read_dependents(store, names).await?;
        for d in &records {
            let Ok(name) = d.get_str("_id") else { continue };
            let (p, dv) = lists.get(name).map_or((0, 0), |l| (l.prod.count, l.dev.count));
            if stored_count(d, "dependents_count") != p || stored_count(d, "dev_dependents_count") != dv {
                changed.push((name.to_string(), p, dv));
            }
        }
        if changed.len() >= BATCH {
            if let Some(l) = lease {
                l.check()?;
            }
            updated += set_record_counts(store, std::mem::take(&mut changed)).await?;
        }
    }
    updated += set_record_counts(store, changed).await?;
    Ok(updated)
}

async fn set_record_counts(store: &Store, changed: Vec<(String, i64, i64)>) -> Result<u64, StoreError> {
    if changed.is_empty() {
        return Ok(0);
    }
    let n = changed.len() as u64;
    let first = store.reserve_seq(PACKAGE_SEQ, n).await?;
    let updates = changed
        .into_iter()
        .enumerate()
        .map(|(i, (name, p, dv))| {
            UpdateOp::update(
                doc! { "_id": name },
                doc! { "$set": { "dependents_count": p, "dev_dependents_count": dv, "seq": first + i as i64 } },
            )
        })
        .collect();
    store.update_all(coll::PACKAGES, updates).await?;
    Ok(n)
}

fn stored_count(d: &Document, key: &str) -> i64 {
    int_field(d, key).unwrap_or(0)
}
