//! `dependents --rebuild`: recomputes every edge, count and list from the stored packages.
//! For repairs and after changing what counts as an edge; cron uses the incremental path.

use std::collections::HashMap;
use std::time::Instant;

use futures::TryStreamExt;
use mongodb::bson::{Document, doc};
use nodules_store::bulk::{Body, UpdateOp};
use nodules_store::db::coll;
use nodules_store::lease::Lease;
use nodules_store::model::{DepKind, DepTargets};
use nodules_store::seq::PACKAGE_SEQ;
use nodules_store::{Store, StoreError};

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

    // every edge of every active package; counts per target added to the `dependents`
    // documents whenever `counts_in_memory` targets are pending (all of them dirty: the
    // rerank lays out their pages)
    let mut counts: HashMap<String, (i64, i64)> = HashMap::new();
    let mut cursor = store
        .packages()
        .find(doc! { "state": "active" })
        .projection(doc! { "dep_targets": 1 })
        .batch_size(nodules_store::bulk::SCAN_BATCH)
        .await
        .map_err(StoreError::mongo("find", coll::PACKAGES))?;
    let mut batch = Vec::with_capacity(BATCH);
    while let Some(d) = cursor.try_next().await.map_err(StoreError::mongo("find", coll::PACKAGES))? {
        if let Some(l) = lease {
            l.check()?;
        }
        let Ok(source) = d.get_str("_id") else { continue };
        let targets: DepTargets = d
            .get_document("dep_targets")
            .ok()
            .and_then(|t| mongodb::bson::from_document(t.clone()).ok())
            .unwrap_or_default();
        stats.sources += 1;
        for (kind, list) in [(DepKind::Prod, &targets.prod), (DepKind::Dev, &targets.dev)] {
            for t in list {
                let c = counts.entry(t.clone()).or_default();
                match kind {
                    DepKind::Prod => c.0 += 1,
                    DepKind::Dev => c.1 += 1,
                }
                batch.push(
                    doc! { "_id": edge_id(t, source), "target": t, "source": source, "kind": kind.as_str() }.into(),
                );
            }
        }
        if batch.len() >= BATCH {
            stats.edges += batch.len() as u64;
            insert_edges(store, std::mem::take(&mut batch)).await?;
        }
        if counts.len() >= counts_in_memory.max(1) {
            add_counts(store, std::mem::take(&mut counts)).await?;
        }
    }
    stats.edges += batch.len() as u64;
    insert_edges(store, batch).await?;
    add_counts(store, counts).await?;
    stats.targets = store.count(coll::DEPENDENTS, doc! {}).await?;

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

async fn insert_edges(store: &Store, edges: Vec<Body>) -> Result<(), StoreError> {
    let failed = store.insert_all(coll::EDGES, edges).await?;
    match failed.first() {
        None => Ok(()),
        Some(f) => Err(StoreError::Refused {
            collection: coll::EDGES.to_string(),
            detail: format!("{} of the rebuilt edges, the first: {}", failed.len(), f.message),
        }),
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
/// where they differ, with new change numbers. Both collections are read in `_id` order
/// side by side, so memory does not depend on the number of packages.
async fn update_record_counts(store: &Store, lease: Option<&Lease>) -> Result<u64, RerankError> {
    let mut packages = store
        .packages()
        .find(doc! {})
        .projection(doc! { "dependents_count": 1, "dev_dependents_count": 1 })
        .sort(doc! { "_id": 1 })
        .batch_size(nodules_store::bulk::SCAN_BATCH)
        .await
        .map_err(StoreError::mongo("find", coll::PACKAGES))?;
    let mut lists = store
        .collection(coll::DEPENDENTS)
        .find(doc! {})
        .projection(doc! { "prod.count": 1, "dev.count": 1 })
        .sort(doc! { "_id": 1 })
        .batch_size(nodules_store::bulk::SCAN_BATCH)
        .await
        .map_err(StoreError::mongo("find", coll::DEPENDENTS))?;
    let mut list = lists.try_next().await.map_err(StoreError::mongo("find", coll::DEPENDENTS))?;
    let mut changed: Vec<(String, i64, i64)> = Vec::new();
    let mut updated = 0u64;
    while let Some(d) = packages.try_next().await.map_err(StoreError::mongo("find", coll::PACKAGES))? {
        let Ok(name) = d.get_str("_id") else { continue };
        // lists of targets that sort before this package have no record: skip them
        while let Some(l) = &list {
            if l.get_str("_id").is_ok_and(|t| t >= name) {
                break;
            }
            list = lists.try_next().await.map_err(StoreError::mongo("find", coll::DEPENDENTS))?;
        }
        let (p, dv) = match &list {
            Some(l) if l.get_str("_id") == Ok(name) => (nested_count(l, "prod"), nested_count(l, "dev")),
            _ => (0, 0),
        };
        if stored_count(&d, "dependents_count") != p || stored_count(&d, "dev_dependents_count") != dv {
            changed.push((name.to_string(), p, dv));
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

fn nested_count(d: &Document, list: &str) -> i64 {
    d.get_document(list).map_or(0, |l| stored_count(l, "count"))
}

fn stored_count(d: &Document, key: &str) -> i64 {
    match d.get(key) {
        Some(mongodb::bson::Bson::Int64(n)) => *n,
        Some(mongodb::bson::Bson::Int32(n)) => i64::from(*n),
        _ => 0,
    }
}
