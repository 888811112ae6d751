//! `dependents --rebuild`: recomputes every edge, count and list from the stored packages.
//! For repairs and after changing what counts as an edge; cron uses the incremental path.

use std::collections::HashMap;
use std::time::Instant;

use futures::TryStreamExt;
use mongodb::bson::{Document, doc};
use nodules_store::bulk::UpdateOp;
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

pub async fn rebuild(store: &Store, lease: Option<&Lease>) -> Result<RebuildStats, RerankError> {
    let started = Instant::now();
    let mut stats = RebuildStats::default();
    for c in [coll::EDGES, coll::DEPENDENTS, coll::DEPENDENT_PAGES, coll::DEPENDENTS_JOURNAL] {
        store.collection(c).drop().await.map_err(StoreError::mongo("drop", c))?;
    }
    store.ensure_indexes().await?;

    // every edge of every active package; counts per target in memory (a few bytes each)
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
            store.insert_all(coll::EDGES, std::mem::take(&mut batch)).await?;
        }
    }
    stats.edges += batch.len() as u64;
    store.insert_all(coll::EDGES, batch).await?;

    // dependents documents, all dirty: the rerank lays out their pages
    stats.targets = counts.len() as u64;
    let docs: Vec<_> = counts
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
    for chunk in docs.chunks(BATCH) {
        store.insert_all(coll::DEPENDENTS, chunk.to_vec()).await?;
    }
    stats.rerank = rerank(store, lease, false).await?;
    store.rebuild_browse_lists().await?;

    // package records whose counts differ
    let mut cursor = store
        .packages()
        .find(doc! {})
        .projection(doc! { "dependents_count": 1, "dev_dependents_count": 1 })
        .batch_size(nodules_store::bulk::SCAN_BATCH)
        .await
        .map_err(StoreError::mongo("find", coll::PACKAGES))?;
    let mut ops = Vec::new();
    while let Some(d) = cursor.try_next().await.map_err(StoreError::mongo("find", coll::PACKAGES))? {
        let Ok(name) = d.get_str("_id") else { continue };
        let (p, dv) = counts.get(name).copied().unwrap_or((0, 0));
        if stored_count(&d, "dependents_count") != p || stored_count(&d, "dev_dependents_count") != dv {
            ops.push((name.to_string(), p, dv));
        }
    }
    stats.packages_updated = ops.len() as u64;
    if !ops.is_empty() {
        let first = store.reserve_seq(PACKAGE_SEQ, ops.len() as u64).await?;
        let updates = ops
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
    }
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

fn stored_count(d: &Document, key: &str) -> i64 {
    match d.get(key) {
        Some(mongodb::bson::Bson::Int64(n)) => *n,
        Some(mongodb::bson::Bson::Int32(n)) => i64::from(*n),
        _ => 0,
    }
}
