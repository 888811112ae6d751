//! One batch's dependency changes applied incrementally: a few bulk commands per batch,
//! each touching only the changed edges, the affected targets' `dependents` documents and
//! the last page of each list that gains members.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use crate::bulk::UpdateOp;
use crate::db::coll;
use crate::model::{
    DEPENDENTS_PAGE_SIZE, DEPENDENTS_TOP, DepKind, DependentItem, Dependents, DependentsList, dependents_page_id,
};
use crate::seq::PACKAGE_SEQ;
use crate::{Store, StoreError};
use futures::TryStreamExt;
use mongodb::bson::{self, DateTime, Document, doc};

use super::diff::{EdgeChange, EdgeOp, diff, edge_id};

use crate::bulk::IN_LIST_MAX as IN_CHUNK;

/// What a batch did to the dependents graph.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ApplyStats {
    pub edges_added: u64,
    pub edges_removed: u64,
    pub targets_touched: u64,
}

/// Applies `changes` (packages whose edges changed).
pub async fn apply(store: &Store, changes: &[EdgeChange]) -> Result<ApplyStats, StoreError> {
    let mut t = std::time::Instant::now();
    let mut lap = |step: &str| {
        tracing::debug!(step = format!("dep_{step}"), ms = t.elapsed().as_millis() as u64, "batch write step done");
        t = std::time::Instant::now();
    };
    let (removals, additions) = diff(changes);
    let removed = remove_edges(store, removals).await?;
    let added = add_edges(store, additions).await?;

    let targets: BTreeSet<&str> = removed.iter().chain(added.iter()).map(|o| o.target.as_str()).collect();
    let mut names: BTreeSet<&str> = targets.clone();
    names.extend(changes.iter().map(|c| c.name.as_str()));
    lap("edges");
    let current = read_dependents(store, names.into_iter().map(str::to_string).collect()).await?;
    lap("read");

    let versions: HashMap<&str, Option<String>> =
        changes.iter().map(|c| (c.name.as_str(), c.version.clone())).collect();
    let popularity = |name: &str, current: &HashMap<String, Dependents>| current.get(name).map_or(0, |d| d.prod.count);

    let mut page_pulls = Vec::new();
    let mut page_pushes = Vec::new();
    let mut new_pages = Vec::new();
    let mut updated: Vec<Dependents> = Vec::new();
    let removed_by: BTreeMap<(&str, DepKind), Vec<&str>> = group(&removed);
    let added_by: BTreeMap<(&str, DepKind), Vec<&str>> = group(&added);
    for target in &targets {
        let mut d = current
            .get(*target)
            .cloned()
            .unwrap_or_else(|| Dependents { name: target.to_string(), ..Default::default() });
        for kind in DepKind::ALL {
            let gone = removed_by.get(&(*target, kind)).cloned().unwrap_or_default();
            let new_items: Vec<DependentItem> = added_by
                .get(&(*target, kind))
                .map(|names| {
                    names
                        .iter()
                        .map(|n| DependentItem {
                            name: n.to_string(),
                            version: versions.get(n).cloned().flatten(),
                            dependents_count: popularity(n, &current),
                        })
                        .collect()
                })
                .unwrap_or_default();
            for source in &gone {
                page_pulls.push(UpdateOp::update_many(
                    doc! { "target": *target, "kind": kind.as_str(), "items.n": *source },
                    doc! { "$pull": { "items": { "n": *source } } },
                ));
            }
            if !gone.is_empty() {
                // holes in its pages, maybe in its top 10: the rerank compacts and refills
                d.dirty = true;
            }
            if kind == DepKind::Prod {
                let gone: HashSet<&str> = gone.iter().copied().collect();
                d.top.retain(|i| !gone.contains(i.name.as_str()));
                // until the next rerank the top list is filled in arrival order, then sorted
                d.top.extend(new_items.iter().take(DEPENDENTS_TOP.saturating_sub(d.top.len())).cloned());
                d.top.sort_by(|a, b| b.dependents_count.cmp(&a.dependents_count).then_with(|| a.name.cmp(&b.name)));
            }
            let list = match kind {
                DepKind::Prod => &mut d.prod,
                DepKind::Dev => &mut d.dev,
            };
            list.count += new_items.len() as i64 - gone.len() as i64;
            if !new_items.is_empty() {
                d.dirty = true;
                append_pages(target, kind, list, new_items, &mut new_pages, &mut page_pushes);
            }
        }
        updated.push(d);
    }

    // pulls before pushes: a page never briefly holds a member twice
    store.update_all(coll::DEPENDENT_PAGES, page_pulls).await?;
    store.update_all(coll::DEPENDENT_PAGES, page_pushes).await?;
    let docs = new_pages.iter().map(|(d, _)| d.clone().into()).collect();
    let push_instead = |i: usize| new_pages.get(i).map(|(_, op)| op.clone());
    store.insert_or_update(coll::DEPENDENT_PAGES, docs, push_instead).await?;
    lap("pages");
    // lists seen for the first time are inserted whole; the others take a $set
    let encode = |d: &Dependents| -> Result<Document, StoreError> {
        let e = |e| StoreError::encode(coll::DEPENDENTS, e);
        Ok(doc! {
            "prod": bson::to_bson(&d.prod).map_err(e)?,
            "dev": bson::to_bson(&d.dev).map_err(e)?,
            "top": bson::to_bson(&d.top).map_err(e)?,
            "dirty": d.dirty,
        })
    };
    let mut dependents_ops = Vec::new();
    let mut fresh: Vec<(String, Document)> = Vec::new();
    for d in &updated {
        if current.contains_key(&d.name) {
            dependents_ops.push(UpdateOp::upsert(doc! { "_id": &d.name }, doc! { "$set": encode(d)? }));
        } else {
            fresh.push((d.name.clone(), encode(d)?));
        }
    }
    store.update_all(coll::DEPENDENTS, dependents_ops).await?;
    store.insert_or_set(coll::DEPENDENTS, &fresh).await?;
    lap("docs");

    // the targets' own records carry their counts (search ranking, browse lists): bump seq
    let prod_changed: Vec<String> = updated
        .iter()
        .filter(|d| current.get(&d.name).map_or(0, |c| c.prod.count) != d.prod.count)
        .map(|d| d.name.clone())
        .collect();
    let mut count_ops = Vec::new();
    let first = if updated.is_empty() { 0 } else { store.reserve_seq(PACKAGE_SEQ, updated.len() as u64).await? };
    for (i, d) in updated.iter().enumerate() {
        count_ops.push(UpdateOp::update(
            doc! { "_id": &d.name },
            doc! { "$set": { "dependents_count": d.prod.count, "dev_dependents_count": d.dev.count, "seq": first + i as i64 } },
        ));
    }
    store.update_all(coll::PACKAGES, count_ops).await?;
    lap("counts");
    // the downloader takes the most depended-upon packages first; a job's priority follows
    // its package's count by bands (see `priority_band`), not at every new dependent
    let priority_ops = updated
        .iter()
        .filter(|d| {
            let before = current.get(&d.name).map_or(0, |c| c.prod.count);
            crate::queue::priority_band(before) != crate::queue::priority_band(d.prod.count)
        })
        .map(|d| (d.name.clone(), d.prod.count))
        .map(|(name, count)| {
            // unclaimed jobs only: a leased job's due_at is its lease
            UpdateOp::update_many(
                doc! {
                    "package": name, "state": "pending", "owner": mongodb::bson::Bson::Null,
                    "priority": { "$lt": crate::queue::ON_DEMAND_PRIORITY },
                },
                doc! { "$set": { "priority": count }, "$min": { "due_at": crate::queue::due_for(count) } },
            )
        })
        .collect();
    store.update_all(coll::SOURCES, priority_ops).await?;
    lap("priority");
    let marked: HashSet<&str> = updated.iter().filter(|d| d.dirty).map(|d| d.name.as_str()).collect();
    mark_memberships_dirty(store, &prod_changed, &marked).await?;
    lap("dirty");

    Ok(ApplyStats {
        edges_added: added.len() as u64,
        edges_removed: removed.len() as u64,
        targets_touched: targets.len() as u64,
    })
}

fn group(ops: &[EdgeOp]) -> BTreeMap<(&str, DepKind), Vec<&str>> {
    let mut m: BTreeMap<(&str, DepKind), Vec<&str>> = BTreeMap::new();
    for o in ops {
        m.entry((o.target.as_str(), o.kind)).or_default().push(o.source.as_str());
    }
    m
}

/// Appends `items` after the last page of a list: fills it up to a page (a `$push` into
/// `pushes`), then opens new ones (documents for `inserts`, each with the `$push` that
/// stands in for it if the page exists after all: a replayed batch).
fn append_pages(
    target: &str,
    kind: DepKind,
    list: &mut DependentsList,
    items: Vec<DependentItem>,
    inserts: &mut Vec<(Document, UpdateOp)>,
    pushes: &mut Vec<UpdateOp>,
) {
    let size = DEPENDENTS_PAGE_SIZE as i64;
    let last_stored = list.pages;
    let (mut page, mut len) = if list.pages == 0 { (1, 0) } else { (list.pages, list.last_len) };
    let mut by_page: BTreeMap<i64, Vec<DependentItem>> = BTreeMap::new();
    for item in items {
        if len >= size {
            page += 1;
            len = 0;
        }
        by_page.entry(page).or_default().push(item);
        len += 1;
    }
    list.pages = page;
    list.last_len = len;
    for (page, items) in by_page {
        let Ok(items) = bson::to_bson(&items) else { continue };
        let id = dependents_page_id(target, kind, page);
        let push = UpdateOp::upsert(
            doc! { "_id": &id },
            doc! {
                "$push": { "items": { "$each": items.clone() } },
                "$setOnInsert": { "target": target, "kind": kind.as_str(), "page": page },
            },
        );
        if page > last_stored {
            inserts.push((
                doc! { "_id": id, "target": target, "kind": kind.as_str(), "page": page, "items": items },
                push,
            ));
        } else {
            pushes.push(push);
        }
    }
}

/// Which `removals` exist (with that kind), then deletes them.
async fn remove_edges(store: &Store, removals: Vec<EdgeOp>) -> Result<Vec<EdgeOp>, StoreError> {
    if removals.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<String> = removals.iter().map(|o| edge_id(&o.target, &o.source)).collect();
    let mut existing: HashMap<String, String> = HashMap::new();
    for chunk in ids.chunks(IN_CHUNK) {
        let found: Vec<Document> = store
            .collection(coll::EDGES)
            .find(doc! { "_id": { "$in": chunk } })
            .projection(doc! { "kind": 1 })
            .await
            .map_err(StoreError::mongo("find", coll::EDGES))?
            .try_collect()
            .await
            .map_err(StoreError::mongo("find", coll::EDGES))?;
        for d in found {
            if let (Ok(id), Ok(kind)) = (d.get_str("_id"), d.get_str("kind")) {
                existing.insert(id.to_string(), kind.to_string());
            }
        }
    }
    let removed: Vec<EdgeOp> = removals
        .into_iter()
        .zip(ids)
        .filter(|(o, id)| existing.get(id).map(String::as_str) == Some(o.kind.as_str()))
        .map(|(o, _)| o)
        .collect();
    let gone: Vec<Document> = removed
        .chunks(IN_CHUNK)
        .map(|c| doc! { "_id": { "$in": c.iter().map(|o| edge_id(&o.target, &o.source)).collect::<Vec<_>>() } })
        .collect();
    store.delete_all(coll::EDGES, gone).await?;
    Ok(removed)
}

/// Inserts `additions`; those already present (a replayed batch) are not counted again.
async fn add_edges(store: &Store, additions: Vec<EdgeOp>) -> Result<Vec<EdgeOp>, StoreError> {
    if additions.is_empty() {
        return Ok(Vec::new());
    }
    let docs = additions
        .iter()
        .map(|o| {
            doc! { "_id": edge_id(&o.target, &o.source), "target": &o.target, "source": &o.source, "kind": o.kind.as_str() }
                .into()
        })
        .collect();
    let failures = store.insert_all(coll::EDGES, docs).await?;
    let mut refused: HashSet<usize> = HashSet::new();
    for f in failures {
        if !f.is_duplicate_key() {
            tracing::warn!(error = %f.message, "an edge was refused");
        }
        refused.insert(f.index);
    }
    Ok(additions.into_iter().enumerate().filter(|(i, _)| !refused.contains(i)).map(|(_, o)| o).collect())
}

/// The `dependents` documents of `names`, by name.
pub async fn read_dependents(store: &Store, names: Vec<String>) -> Result<HashMap<String, Dependents>, StoreError> {
    let mut out = HashMap::new();
    for chunk in names.chunks(IN_CHUNK) {
        let mut cursor = store
            .database()
            .collection::<Dependents>(coll::DEPENDENTS)
            .find(doc! { "_id": { "$in": chunk } })
            .await
            .map_err(StoreError::mongo("find", coll::DEPENDENTS))?;
        while let Some(d) = cursor.try_next().await.map_err(StoreError::mongo("find", coll::DEPENDENTS))? {
            out.insert(d.name.clone(), d);
        }
    }
    Ok(out)
}

/// A package's popularity changed: the lists it is a member of (its own dependencies')
/// are no longer in exact order.
/// `marked`: lists this batch already marked.
async fn mark_memberships_dirty(store: &Store, changed: &[String], marked: &HashSet<&str>) -> Result<(), StoreError> {
    if changed.is_empty() {
        return Ok(());
    }
    let mut lists: BTreeSet<String> = BTreeSet::new();
    for chunk in changed.chunks(IN_CHUNK) {
        let docs: Vec<Document> = store
            .packages()
            .find(doc! { "_id": { "$in": chunk } })
            .projection(doc! { "dep_targets": 1 })
            .await
            .map_err(StoreError::mongo("find", coll::PACKAGES))?
            .try_collect()
            .await
            .map_err(StoreError::mongo("find", coll::PACKAGES))?;
        for d in docs {
            let Ok(t) = d.get_document("dep_targets") else { continue };
            for kind in ["prod", "dev"] {
                lists.extend(t.get_array(kind).into_iter().flatten().filter_map(|b| b.as_str().map(str::to_string)));
            }
        }
    }
    let lists: Vec<String> = lists.into_iter().filter(|l| !marked.contains(l.as_str())).collect();
    let ops = lists
        .chunks(IN_CHUNK)
        .map(|c| {
            UpdateOp::update_many(
                doc! { "_id": { "$in": c }, "dirty": { "$ne": true } },
                doc! { "$set": { "dirty": true } },
            )
        })
        .collect();
    store.update_all(coll::DEPENDENTS, ops).await?;
    Ok(())
}

/// When a batch's dependents changes began: the journal entry lets a crash be repaired.
pub async fn begin(store: &Store, sources: &[String]) -> Result<mongodb::bson::oid::ObjectId, StoreError> {
    let id = mongodb::bson::oid::ObjectId::new();
    store
        .collection(coll::DEPENDENTS_JOURNAL)
        .insert_one(doc! { "_id": id, "sources": sources, "at": DateTime::now() })
        .await
        .map_err(StoreError::mongo("insert", coll::DEPENDENTS_JOURNAL))?;
    Ok(id)
}

/// The batch's changes are all applied.
pub async fn end(store: &Store, id: mongodb::bson::oid::ObjectId) -> Result<(), StoreError> {
    store
        .collection(coll::DEPENDENTS_JOURNAL)
        .delete_one(doc! { "_id": id })
        .await
        .map_err(StoreError::mongo("delete", coll::DEPENDENTS_JOURNAL))?;
    Ok(())
}
