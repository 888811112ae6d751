//! `dependents --rerank`: puts lists in exact popularity order (their members' own prod
//! dependents count, then name), rewriting their pages and top 10 from the edges. Only
//! lists marked dirty (new members, or members whose popularity changed) are redone
//! unless everything is asked for. Counts are re-taken from the edges on the way.

use std::time::Instant;

use futures::TryStreamExt;
use mongodb::bson::{self, DateTime, Document, doc};
use nodules_store::bulk::UpdateOp;
use nodules_store::db::coll;
use nodules_store::lease::{Lease, LeaseError};
use nodules_store::model::{
    DEPENDENTS_PAGE_SIZE, DEPENDENTS_TOP, DepKind, DependentItem, DependentsList, dependents_page_id,
};
use nodules_store::{Store, StoreError};

use super::apply::read_dependents;

/// Lists fetched per round of the dirty query.
const ROUND: i64 = 200;
use nodules_store::bulk::IN_LIST_MAX as IN_CHUNK;

#[derive(Debug, Default, Clone, Copy)]
pub struct RerankStats {
    pub lists: u64,
    pub members: u64,
    pub pages: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum RerankError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Lease(#[from] LeaseError),
}

/// Reranks dirty lists (every list with `all`).
pub async fn rerank(store: &Store, lease: Option<&Lease>, all: bool) -> Result<RerankStats, RerankError> {
    let started = Instant::now();
    let mut stats = RerankStats::default();
    if all {
        store
            .collection(coll::DEPENDENTS)
            .update_many(doc! {}, doc! { "$set": { "dirty": true } })
            .await
            .map_err(StoreError::mongo("update", coll::DEPENDENTS))?;
    }
    loop {
        if let Some(l) = lease {
            l.check()?;
        }
        // by the partial index on `dirty`; each reranked list leaves it
        let round: Vec<Document> = store
            .collection(coll::DEPENDENTS)
            .find(doc! { "dirty": true })
            .projection(doc! { "_id": 1 })
            .limit(ROUND)
            .await
            .map_err(StoreError::mongo("find", coll::DEPENDENTS))?
            .try_collect()
            .await
            .map_err(StoreError::mongo("find", coll::DEPENDENTS))?;
        if round.is_empty() {
            break;
        }
        for d in round {
            let Ok(target) = d.get_str("_id") else { continue };
            rerank_one(store, target, &mut stats).await?;
        }
    }
    tracing::info!(
        lists = stats.lists,
        members = stats.members,
        pages = stats.pages,
        secs = started.elapsed().as_secs_f64(),
        "reranked"
    );
    Ok(stats)
}

/// Rewrites both lists of `target` in exact order.
pub async fn rerank_one(store: &Store, target: &str, stats: &mut RerankStats) -> Result<(), StoreError> {
    let mut set = Document::new();
    for kind in DepKind::ALL {
        let mut items = members(store, target, kind).await?;
        items.sort_by(|a, b| b.dependents_count.cmp(&a.dependents_count).then_with(|| a.name.cmp(&b.name)));
        let pages = write_pages(store, target, kind, &items).await?;
        let list = DependentsList {
            count: items.len() as i64,
            pages,
            last_len: items.len().checked_sub(1).map_or(0, |n| (n % DEPENDENTS_PAGE_SIZE + 1) as i64),
        };
        stats.members += items.len() as u64;
        stats.pages += pages as u64;
        set.insert(kind.as_str(), bson::to_bson(&list).map_err(|e| StoreError::encode(coll::DEPENDENTS, e))?);
        if kind == DepKind::Prod {
            let top: Vec<&DependentItem> = items.iter().take(DEPENDENTS_TOP).collect();
            set.insert("top", bson::to_bson(&top).map_err(|e| StoreError::encode(coll::DEPENDENTS, e))?);
        }
    }
    set.insert("ranked_at", DateTime::now());
    set.insert("dirty", false);
    store
        .collection(coll::DEPENDENTS)
        .update_one(doc! { "_id": target }, doc! { "$set": set })
        .await
        .map_err(StoreError::mongo("update", coll::DEPENDENTS))?;
    stats.lists += 1;
    // its page shows the top 10: caches and the search index see the change
    store.bump_packages(&[target.to_string()]).await?;
    Ok(())
}

/// Every member of `target`'s `kind` list, with its current popularity and version.
async fn members(store: &Store, target: &str, kind: DepKind) -> Result<Vec<DependentItem>, StoreError> {
    let sources: Vec<String> = store
        .collection(coll::EDGES)
        .find(doc! { "target": target, "kind": kind.as_str() })
        .projection(doc! { "source": 1, "_id": 0 })
        .await
        .map_err(StoreError::mongo("find", coll::EDGES))?
        .try_collect::<Vec<Document>>()
        .await
        .map_err(StoreError::mongo("find", coll::EDGES))?
        .into_iter()
        .filter_map(|d| d.get_str("source").ok().map(str::to_string))
        .collect();
    let mut items = Vec::with_capacity(sources.len());
    for chunk in sources.chunks(IN_CHUNK) {
        let popularity = read_dependents(store, chunk.to_vec()).await?;
        let versions: std::collections::HashMap<String, String> = store
            .packages()
            .find(doc! { "_id": { "$in": chunk } })
            .projection(doc! { "latest": 1 })
            .await
            .map_err(StoreError::mongo("find", coll::PACKAGES))?
            .try_collect::<Vec<Document>>()
            .await
            .map_err(StoreError::mongo("find", coll::PACKAGES))?
            .into_iter()
            .filter_map(|d| Some((d.get_str("_id").ok()?.to_string(), d.get_str("latest").ok()?.to_string())))
            .collect();
        items.extend(chunk.iter().map(|s| DependentItem {
            name: s.clone(),
            version: versions.get(s).cloned(),
            dependents_count: popularity.get(s).map_or(0, |d| d.prod.count),
        }));
    }
    Ok(items)
}

/// Replaces the pages of a list with `items` in order; returns the number of pages.
async fn write_pages(store: &Store, target: &str, kind: DepKind, items: &[DependentItem]) -> Result<i64, StoreError> {
    let mut ops = Vec::new();
    let mut pages = 0i64;
    for (i, chunk) in items.chunks(DEPENDENTS_PAGE_SIZE).enumerate() {
        let page = i as i64 + 1;
        pages = page;
        let items = bson::to_bson(chunk).map_err(|e| StoreError::encode(coll::DEPENDENT_PAGES, e))?;
        ops.push(UpdateOp::upsert(
            doc! { "_id": dependents_page_id(target, kind, page) },
            doc! { "target": target, "kind": kind.as_str(), "page": page, "items": items },
        ));
    }
    store.update_all(coll::DEPENDENT_PAGES, ops).await?;
    store
        .delete_all(
            coll::DEPENDENT_PAGES,
            vec![doc! { "target": target, "kind": kind.as_str(), "page": { "$gt": pages } }],
        )
        .await?;
    Ok(pages)
}
