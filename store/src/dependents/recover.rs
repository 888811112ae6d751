//! Repairs what a crash interrupted. Before a batch changes edges it records its sources
//! in `dependents_journal`; a journal entry still there at the next run means the batch
//! may be half applied. For each of its sources the edges are reconciled with the source's
//! stored record (idempotent: only missing edges are added, only extra ones removed), then
//! every target they touch is recounted from its edges, exactly.

use std::collections::BTreeSet;

use crate::bulk::UpdateOp;
use crate::db::coll;
use crate::model::{DepKind, DepTargets};
use crate::seq::PACKAGE_SEQ;
use crate::{Store, StoreError};
use futures::TryStreamExt;
use mongodb::bson::{Document, doc};

use super::apply::apply;
use super::diff::EdgeChange;

/// Replays every journal entry; returns how many there were. The entries of one killed
/// run (a window of batches, each with its entry) are repaired together: their sources
/// reconciled once and the targets they touch recounted once, so a target in every batch
/// (the most depended-upon ones, whose count reads hundreds of thousands of edges) is not
/// recounted once per entry. Entries are deleted only after the repair is written.
pub async fn recover(store: &Store) -> Result<u64, StoreError> {
    let journal = store.collection(coll::DEPENDENTS_JOURNAL);
    let entries: Vec<Document> = journal
        .find(doc! {})
        .await
        .map_err(StoreError::mongo("find", coll::DEPENDENTS_JOURNAL))?
        .try_collect()
        .await
        .map_err(StoreError::mongo("find", coll::DEPENDENTS_JOURNAL))?;
    if entries.is_empty() {
        return Ok(0);
    }
    let sources: BTreeSet<String> = entries
        .iter()
        .flat_map(|e| e.get_array("sources").into_iter().flatten().filter_map(|b| b.as_str().map(str::to_string)))
        .collect();
    tracing::warn!(
        entries = entries.len(),
        sources = sources.len(),
        "repairing dependents of batches an earlier run did not finish"
    );
    let mut changes = Vec::new();
    let mut targets: BTreeSet<String> = BTreeSet::new();
    for source in &sources {
        let before = stored_edges(store, source).await?;
        let (after, version) = recorded_targets(store, source).await?;
        targets.extend(before.prod.iter().chain(&before.dev).chain(&after.prod).chain(&after.dev).cloned());
        changes.push(EdgeChange { name: source.clone(), version, before, after });
    }
    apply(store, &changes).await?;
    recount(store, &targets.into_iter().collect::<Vec<_>>()).await?;
    let ids: Vec<_> = entries.iter().filter_map(|e| e.get("_id").cloned()).collect();
    journal
        .delete_many(doc! { "_id": { "$in": ids } })
        .await
        .map_err(StoreError::mongo("delete", coll::DEPENDENTS_JOURNAL))?;
    Ok(entries.len() as u64)
}

/// The edges stored for `source`, as targets by kind.
async fn stored_edges(store: &Store, source: &str) -> Result<DepTargets, StoreError> {
    let docs: Vec<Document> = store
        .collection(coll::EDGES)
        .find(doc! { "source": source })
        .await
        .map_err(StoreError::mongo("find", coll::EDGES))?
        .try_collect()
        .await
        .map_err(StoreError::mongo("find", coll::EDGES))?;
    let mut t = DepTargets::default();
    for d in docs {
        let target = d.get_str("target").unwrap_or_default().to_string();
        match d.get_str("kind").ok().and_then(DepKind::parse) {
            Some(DepKind::Prod) => t.prod.push(target),
            Some(DepKind::Dev) => t.dev.push(target),
            None => {}
        }
    }
    t.prod.sort();
    t.dev.sort();
    Ok(t)
}

/// What `source`'s stored record says it depends on (nothing when it is gone).
async fn recorded_targets(store: &Store, source: &str) -> Result<(DepTargets, Option<String>), StoreError> {
    let d = store
        .packages()
        .find_one(doc! { "_id": source })
        .projection(doc! { "dep_targets": 1, "state": 1, "latest": 1 })
        .await
        .map_err(StoreError::mongo("find", coll::PACKAGES))?;
    let Some(d) = d else { return Ok((DepTargets::default(), None)) };
    if d.get_str("state").ok() != Some("active") {
        return Ok((DepTargets::default(), None));
    }
    let targets = d
        .get_document("dep_targets")
        .ok()
        .and_then(|t| mongodb::bson::from_document::<DepTargets>(t.clone()).ok())
        .unwrap_or_default();
    Ok((targets, d.get_str("latest").ok().map(str::to_string)))
}

/// Sets the counts of `targets` from their edges (an index count per target and kind)
/// and marks their lists for a rerank, which rebuilds their pages from the edges.
pub async fn recount(store: &Store, targets: &[String]) -> Result<(), StoreError> {
    let edges = store.collection(coll::EDGES);
    let mut ops = Vec::new();
    let mut package_ops = Vec::new();
    let mut seq = if targets.is_empty() { 0 } else { store.reserve_seq(PACKAGE_SEQ, targets.len() as u64).await? };
    for t in targets {
        let prod = edges
            .count_documents(doc! { "target": t, "kind": "prod" })
            .await
            .map_err(StoreError::mongo("count", coll::EDGES))?;
        let dev = edges
            .count_documents(doc! { "target": t, "kind": "dev" })
            .await
            .map_err(StoreError::mongo("count", coll::EDGES))?;
        let (prod, dev) = (i64::try_from(prod).unwrap_or(i64::MAX), i64::try_from(dev).unwrap_or(i64::MAX));
        ops.push(UpdateOp::upsert(
            doc! { "_id": t },
            doc! { "$set": { "prod.count": prod, "dev.count": dev, "dirty": true } },
        ));
        package_ops.push(UpdateOp::update(
            doc! { "_id": t },
            doc! { "$set": { "dependents_count": prod, "dev_dependents_count": dev, "seq": seq } },
        ));
        seq += 1;
    }
    store.update_all(coll::DEPENDENTS, ops).await?;
    store.update_all(coll::PACKAGES, package_ops).await?;
    Ok(())
}
