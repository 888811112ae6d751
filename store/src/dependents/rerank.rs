//! `dependents --rerank`: puts lists in exact popularity order (their members' own prod
//! dependents count, then name), rewriting their pages and top 10 from the edges. Only
//! lists marked dirty (new members, or members whose popularity changed) are redone
//! unless everything is asked for. Counts are re-taken from the edges on the way.
//!
//! Only pages whose items changed are written, and only targets with a changed page or
//! list get a new change number (`seq`): each number drops the webapp's cached pages of
//! that package and re-indexes it for search, and on the development server an update
//! of a package record rewrites all of its index entries (2.3 ms each at 1M).

use std::collections::HashMap;
use std::time::Instant;

use crate::bulk::{IN_LIST_MAX, IN_MANY_MAX, UpdateOp};
use crate::db::coll;
use crate::lease::{Lease, LeaseError};
use crate::model::{
    DEPENDENTS_PAGE_SIZE, DEPENDENTS_TOP, DepKind, DependentItem, Dependents, DependentsList, dependents_page_id,
    int_field,
};
use crate::{Store, StoreError};
use futures::TryStreamExt;
use mongodb::bson::{self, DateTime, Document, doc};
use sha2::{Digest, Sha256};

/// Lists read from the dirty query and reranked together.
const ROUND: usize = 200;
/// Members of the lists reranked together (their items are held in memory at once).
const GROUP_MEMBERS: i64 = 50_000;
/// Page writes held before they are sent: a list of 250,000 members has 5,000 pages.
const PAGE_WRITES_HELD: usize = 500;

#[derive(Debug, Default, Clone, Copy)]
pub struct RerankStats {
    pub lists: u64,
    pub members: u64,
    pub pages: u64,
    /// Pages whose items changed (written) or that fell past a list's end (deleted).
    pub pages_changed: u64,
    /// Targets given a new change number: a page or their list changed.
    pub targets_changed: u64,
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
    // Passes over the dirty lists until one finds none (a pass can find lists marked dirty
    // while it ran). One cursor per pass, read ROUND lists at a time: a `limit` per round
    // would cost the development server the whole dirty set every round (it applies
    // `limit` after collecting every match), quadratic in the number of dirty lists.
    loop {
        let mut cursor = store
            .database()
            .collection::<Dependents>(coll::DEPENDENTS)
            .find(doc! { "dirty": true }) // by the partial index on `dirty`
            .projection(doc! { "prod": 1, "dev": 1, "top": 1 })
            .batch_size(ROUND as u32)
            .await
            .map_err(StoreError::mongo("find", coll::DEPENDENTS))?;
        let mut round = Vec::with_capacity(ROUND);
        let mut found = false;
        loop {
            let next = match cursor.try_next().await {
                Ok(next) => next,
                // idle past the server's cursor timeout (10 minutes) while a large group was
                // reranked: the lists not reached yet are still dirty, the next pass has them
                Err(e) if cursor_gone(&e) => {
                    tracing::info!("the dirty lists' cursor expired; starting another pass");
                    found = true;
                    None
                }
                Err(e) => return Err(StoreError::mongo("find", coll::DEPENDENTS)(e).into()),
            };
            let end = next.is_none();
            round.extend(next);
            if round.len() >= ROUND || (end && !round.is_empty()) {
                if let Some(l) = lease {
                    l.check()?;
                }
                found = true;
                for group in groups(std::mem::take(&mut round)) {
                    rerank_group(store, &group, &mut stats).await?;
                }
            }
            if end {
                break;
            }
        }
        if !found {
            break;
        }
    }
    tracing::info!(
        lists = stats.lists,
        members = stats.members,
        pages = stats.pages,
        pages_changed = stats.pages_changed,
        targets_changed = stats.targets_changed,
        secs = started.elapsed().as_secs_f64(),
        "reranked"
    );
    Ok(stats)
}

fn cursor_gone(e: &mongodb::error::Error) -> bool {
    matches!(&*e.kind, mongodb::error::ErrorKind::Command(c) if c.code == 43) // CursorNotFound
}

/// Splits a round of lists into groups of at most [`GROUP_MEMBERS`] members (a larger
/// list alone): a group's members are held in memory together.
fn groups(round: Vec<Dependents>) -> Vec<Vec<Dependents>> {
    let mut out: Vec<Vec<Dependents>> = Vec::new();
    let mut members = 0i64;
    for d in round {
        let n = d.prod.count + d.dev.count;
        match out.last_mut() {
            Some(g) if members + n <= GROUP_MEMBERS => g.push(d),
            _ => {
                members = 0;
                out.push(vec![d]);
            }
        }
        members += n;
    }
    out
}

/// Rewrites both lists of every target of `group` in exact order, in a few bulk commands
/// for the whole group (one query per ten lists for its edges and for its stored pages, one
/// per 25 distinct members for their popularity, then the changed pages, the lists and the
/// change numbers of the targets that changed).
async fn rerank_group(store: &Store, group: &[Dependents], stats: &mut RerankStats) -> Result<(), StoreError> {
    let targets: Vec<&str> = group.iter().map(|d| d.name.as_str()).collect();
    let mut lists = members_of(store, &targets).await?;
    let mut stored = stored_pages(store, &targets).await?;
    let mut page_ops = Vec::new();
    let mut stale_pages = Vec::new();
    let mut list_ops = Vec::new();
    let mut changed: Vec<String> = Vec::new();
    for d in group {
        let mut set = Document::new();
        let mut target_changed = false;
        for kind in DepKind::ALL {
            let mut items = lists.remove(&(d.name.clone(), kind)).unwrap_or_default();
            items.sort_by(|a, b| b.dependents_count.cmp(&a.dependents_count).then_with(|| a.name.cmp(&b.name)));
            let before = page_ops.len();
            let pages = page_writes(&d.name, kind, &items, &mut stored, &mut page_ops)?;
            let mut kind_changed = page_ops.len() > before;
            // pages past the new end: those the list counted, and any stored beyond them
            let beyond = (pages + 1..).take_while(|&p| stored.remove(&dependents_page_id(&d.name, kind, p)).is_some());
            let beyond = beyond.count() as u64;
            if d.list(kind).pages > pages || beyond > 0 {
                stale_pages.push(doc! { "target": &d.name, "kind": kind.as_str(), "page": { "$gt": pages } });
                stats.pages_changed += beyond;
                kind_changed = true;
            }
            let list = DependentsList {
                count: items.len() as i64,
                pages,
                last_len: items.len().checked_sub(1).map_or(0, |n| (n % DEPENDENTS_PAGE_SIZE + 1) as i64),
            };
            kind_changed |= list != *d.list(kind);
            stats.members += items.len() as u64;
            stats.pages += pages as u64;
            set.insert(kind.as_str(), bson::to_bson(&list).map_err(|e| StoreError::encode(coll::DEPENDENTS, e))?);
            if kind == DepKind::Prod {
                let top: Vec<DependentItem> = items.iter().take(DEPENDENTS_TOP).cloned().collect();
                kind_changed |= top != d.top;
                set.insert("top", bson::to_bson(&top).map_err(|e| StoreError::encode(coll::DEPENDENTS, e))?);
            }
            target_changed |= kind_changed;
            if page_ops.len() >= PAGE_WRITES_HELD {
                stats.pages_changed += page_ops.len() as u64;
                store.update_all(coll::DEPENDENT_PAGES, std::mem::take(&mut page_ops)).await?;
            }
        }
        set.insert("ranked_at", DateTime::now());
        set.insert("dirty", false);
        list_ops.push(UpdateOp::update(doc! { "_id": &d.name }, doc! { "$set": set }));
        if target_changed {
            changed.push(d.name.clone());
        }
    }
    stats.pages_changed += page_ops.len() as u64;
    store.update_all(coll::DEPENDENT_PAGES, page_ops).await?;
    store.delete_all(coll::DEPENDENT_PAGES, stale_pages).await?;
    store.update_all(coll::DEPENDENTS, list_ops).await?;
    stats.lists += group.len() as u64;
    stats.targets_changed += changed.len() as u64;
    // their pages or top 10 changed: caches and the search index see it by the new number
    store.bump_packages(&changed).await?;
    Ok(())
}

/// A digest of a page's items as stored (their BSON): equal digests, equal pages. A page
/// written by other code with other BSON types for the same values only differs here,
/// which costs one needless write, never a stale page.
fn items_digest(items: &bson::Bson) -> Result<[u8; 32], StoreError> {
    let bytes = bson::to_vec(&doc! { "items": items }).map_err(|e| StoreError::encode(coll::DEPENDENT_PAGES, e))?;
    Ok(Sha256::digest(&bytes).into())
}

/// The digests of the stored pages of `targets`' lists, by page `_id` (one query per ten
/// targets, by the `target` index).
async fn stored_pages(store: &Store, targets: &[&str]) -> Result<HashMap<String, [u8; 32]>, StoreError> {
    let mut out = HashMap::new();
    for chunk in targets.chunks(IN_MANY_MAX) {
        let mut cursor = store
            .collection(coll::DEPENDENT_PAGES)
            .find(doc! { "target": { "$in": chunk } })
            .projection(doc! { "items": 1 })
            .batch_size(crate::bulk::SCAN_BATCH)
            .await
            .map_err(StoreError::mongo("find", coll::DEPENDENT_PAGES))?;
        while let Some(p) = cursor.try_next().await.map_err(StoreError::mongo("find", coll::DEPENDENT_PAGES))? {
            let (Ok(id), Some(items)) = (p.get_str("_id"), p.get("items")) else { continue };
            out.insert(id.to_string(), items_digest(items)?);
        }
    }
    Ok(out)
}

/// Every member of the lists of `targets`, by (target, kind), with its current popularity
/// and version: one query per ten lists for the edges, one per 25 distinct members for their records.
async fn members_of(
    store: &Store,
    targets: &[&str],
) -> Result<HashMap<(String, DepKind), Vec<DependentItem>>, StoreError> {
    let mut edges: Vec<(String, DepKind, String)> = Vec::new();
    for chunk in targets.chunks(IN_MANY_MAX) {
        let mut cursor = store
            .collection(coll::EDGES)
            .find(doc! { "target": { "$in": chunk } })
            .projection(doc! { "target": 1, "kind": 1, "source": 1, "_id": 0 })
            .batch_size(crate::bulk::SCAN_BATCH)
            .await
            .map_err(StoreError::mongo("find", coll::EDGES))?;
        while let Some(e) = cursor.try_next().await.map_err(StoreError::mongo("find", coll::EDGES))? {
            let (Ok(t), Some(k), Ok(s)) =
                (e.get_str("target"), e.get_str("kind").ok().and_then(DepKind::parse), e.get_str("source"))
            else {
                continue;
            };
            edges.push((t.to_string(), k, s.to_string()));
        }
    }
    // a member's popularity is its record's count (kept equal to its own list's count)
    let mut sources: Vec<&str> = edges.iter().map(|(_, _, s)| s.as_str()).collect();
    sources.sort_unstable();
    sources.dedup();
    let mut records: HashMap<String, (Option<String>, i64)> = HashMap::with_capacity(sources.len());
    for chunk in sources.chunks(IN_LIST_MAX) {
        let mut cursor = store
            .packages()
            .find(doc! { "_id": { "$in": chunk } })
            .projection(doc! { "latest": 1, "dependents_count": 1 })
            .await
            .map_err(StoreError::mongo("find", coll::PACKAGES))?;
        while let Some(d) = cursor.try_next().await.map_err(StoreError::mongo("find", coll::PACKAGES))? {
            let Ok(name) = d.get_str("_id") else { continue };
            let count = int_field(&d, "dependents_count").unwrap_or(0);
            records.insert(name.to_string(), (d.get_str("latest").ok().map(str::to_string), count));
        }
    }
    let mut out: HashMap<(String, DepKind), Vec<DependentItem>> = HashMap::new();
    for (target, kind, source) in edges {
        let (version, dependents_count) = records.get(&source).cloned().unwrap_or((None, 0));
        out.entry((target, kind)).or_default().push(DependentItem { name: source, version, dependents_count });
    }
    Ok(out)
}

/// The page replacements of a list holding `items` in order, for the pages whose stored
/// items differ (each page met is taken out of `stored`); returns the number of pages.
fn page_writes(
    target: &str,
    kind: DepKind,
    items: &[DependentItem],
    stored: &mut HashMap<String, [u8; 32]>,
    ops: &mut Vec<UpdateOp>,
) -> Result<i64, StoreError> {
    let mut pages = 0i64;
    for (i, chunk) in items.chunks(DEPENDENTS_PAGE_SIZE).enumerate() {
        let page = i as i64 + 1;
        pages = page;
        let id = dependents_page_id(target, kind, page);
        let items = bson::to_bson(chunk).map_err(|e| StoreError::encode(coll::DEPENDENT_PAGES, e))?;
        // a digest only where a page is stored (none after the rebuild's drop)
        if let Some(old) = stored.remove(&id)
            && old == items_digest(&items)?
        {
            continue;
        }
        ops.push(UpdateOp::upsert(
            doc! { "_id": id },
            doc! { "target": target, "kind": kind.as_str(), "page": page, "items": items },
        ));
    }
    Ok(pages)
}
