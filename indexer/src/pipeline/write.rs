//! A batch's decisions → a few bulk commands: versions first, then package records (so a
//! crash in between leaves the old revision stored and the next run redoes the package),
//! then dependents (journaled first, so a crash is repaired by the next run), stale marks
//! and rejects.

use std::collections::HashSet;

use mongodb::bson::{self, Bson, DateTime, Document, RawDocumentBuf, doc};
use nodules_store::bulk::UpdateOp;
use nodules_store::db::coll;
use nodules_store::model::{DepTargets, Package, PackageState, SourceMeta, VersionRecord};
use nodules_store::queue::Wanted;
use nodules_store::rejects::Reject;
use nodules_store::seq::PACKAGE_SEQ;
use nodules_store::{Store, StoreError};

use super::decide::Decision;
use super::summary::Summary;
use crate::dependents::{self, EdgeChange, PendingEdges};

/// Applies `decisions`, counting into `summary`. The batch's dependency changes, already
/// journaled, go to `pending`: the caller applies them with those of other batches.
pub async fn apply(
    store: &Store,
    decisions: Vec<(String, Decision)>,
    now: DateTime,
    summary: &mut Summary,
    pending: &mut PendingEdges,
) -> Result<(), StoreError> {
    let mut version_ops = Vec::new();
    // versions of packages never stored: inserted (a third of an upsert's cost on the dev
    // server); one already there (a batch replayed after a crash) is then replaced
    let mut version_inserts: Vec<RawDocumentBuf> = Vec::new();
    let mut version_deletes: Vec<Document> = Vec::new();
    // (name, $set without seq, never stored: inserted)
    let mut package_ops: Vec<(String, Document, bool)> = Vec::new();
    let mut deletes: Vec<(String, Option<String>)> = Vec::new();
    let mut touched: Vec<String> = Vec::new();
    let mut validators: Vec<UpdateOp> = Vec::new();
    let mut stale_ops = Vec::new();
    let mut rejects: Vec<Reject> = Vec::new();
    let mut edges = Vec::new();
    let mut new_packages = Vec::new();
    let mut downloads = Vec::new();
    let mut new_downloads = Vec::new();
    let mut recent = Vec::new();
    let mut gone = Vec::new();

    for (_origin, decision) in decisions {
        match decision {
            Decision::Write { package, versions, meta, before } => {
                let pkg = &*package;
                let never_stored = before.is_none();
                if never_stored {
                    version_inserts.extend(versions);
                } else {
                    for v in versions {
                        let id = v.get_str("_id").map(str::to_string).unwrap_or_default();
                        version_ops.push(UpdateOp::upsert(doc! { "_id": id }, v));
                    }
                }
                if let Some(b) = &before {
                    let kept: HashSet<&str> = pkg.versions.iter().map(|v| v.version.as_str()).collect();
                    let gone: Vec<String> = b
                        .versions
                        .iter()
                        .filter(|v| !kept.contains(v.version.as_str()))
                        .map(|v| version_id(&pkg.name, &v.version))
                        .collect();
                    if !gone.is_empty() {
                        version_deletes.push(doc! { "_id": { "$in": gone } });
                    }
                }
                if before.as_ref().is_none_or(|b| b.state == PackageState::Stub) {
                    new_packages.push(pkg.name.clone());
                }
                let before_targets = before.map(|b| b.dep_targets).unwrap_or_default();
                if before_targets != pkg.dep_targets {
                    edges.push(EdgeChange {
                        name: pkg.name.clone(),
                        version: pkg.latest.clone(),
                        before: before_targets,
                        after: pkg.dep_targets.clone(),
                    });
                }
                if let (PackageState::Active, Some(latest)) = (pkg.state, &pkg.latest_version) {
                    // the downloader wants every written package's latest tarball (a no-op
                    // when its result is stored; a failed one is retried: the document changed)
                    let queue = if never_stored { &mut new_downloads } else { &mut downloads };
                    queue.push(Wanted {
                        package: pkg.name.clone(),
                        version: latest.version.clone(),
                        tarball: latest.dist.tarball.clone(),
                        integrity: latest.dist.integrity.clone(),
                        shasum: latest.dist.shasum.clone(),
                        priority: 0,
                    });
                }
                if pkg.state == PackageState::Active {
                    summary.ingested += 1;
                } else {
                    summary.deleted += 1;
                }
                if pkg.state == PackageState::Active {
                    recent.push(recent_item(pkg));
                } else {
                    gone.push(pkg.name.clone());
                }
                package_ops.push((pkg.name.clone(), package_set(pkg, &meta, now)?, never_stored));
            }
            Decision::Unchanged { name, etag, last_modified } => {
                summary.unchanged += 1;
                if etag.is_some() || last_modified.is_some() {
                    validators.push(UpdateOp::update(
                        doc! { "_id": &name },
                        doc! { "$set": { "etag": etag, "last_modified": last_modified } },
                    ));
                }
                touched.push(name);
            }
            Decision::Delete { name, rev, before } => {
                summary.deleted += 1;
                if !before.dep_targets.prod.is_empty() || !before.dep_targets.dev.is_empty() {
                    edges.push(EdgeChange {
                        name: name.clone(),
                        version: None,
                        before: before.dep_targets,
                        after: DepTargets::default(),
                    });
                }
                version_deletes.push(doc! { "package": &name });
                gone.push(name.clone());
                deletes.push((name, rev));
            }
            Decision::AlreadyGone => summary.unchanged += 1,
            Decision::MarkStale { name, failed } => {
                match &failed {
                    Some(reason) => {
                        summary.failed += 1;
                        tracing::warn!(package.name = %name, reason = %reason, "fetch failed; marked for the next run");
                    }
                    None => summary.marked_stale += 1,
                }
                stale_ops.push(UpdateOp::upsert(
                    doc! { "_id": &name },
                    doc! { "$set": { "stale": true, "fetch_error": failed }, "$setOnInsert": { "state": PackageState::Stub.as_str() } },
                ));
            }
            Decision::Reject(r) => {
                summary.rejected += 1;
                tracing::warn!(source = %r.source, package.name = r.package.as_deref().unwrap_or("-"), reason = %r.reason, "rejected");
                rejects.push(r);
            }
        }
    }

    let mut step_started = std::time::Instant::now();
    // a package stored for the first time carries the dependents counts known for it, and
    // every download job their priority: no second write for either
    let written: Vec<String> = package_ops.iter().map(|(name, _, _)| name.clone()).collect();
    let known = dependents::apply::read_dependents(store, written).await?;
    let count_of = |name: &str| known.get(name).map_or((0, 0), |d| (d.prod.count, d.dev.count));
    let first_time: HashSet<&String> = new_packages.iter().collect();
    for (name, set, _) in package_ops.iter_mut().filter(|(n, _, _)| first_time.contains(n)) {
        let (prod, dev) = count_of(name);
        set.insert("dependents_count", prod);
        set.insert("dev_dependents_count", dev);
    }
    drop(first_time);
    for w in new_downloads.iter_mut().chain(downloads.iter_mut()) {
        w.priority = count_of(&w.package).0;
    }
    tracing::debug!(step = "known", ms = step_started.elapsed().as_millis() as u64, "batch write step done");
    step_started = std::time::Instant::now();
    // the journal names the sources before any of their edges can change
    let journal = if edges.is_empty() {
        None
    } else {
        Some(dependents::apply::begin(store, &edges.iter().map(|e| e.name.clone()).collect::<Vec<_>>()).await?)
    };

    tracing::debug!(step = "journal", ms = step_started.elapsed().as_millis() as u64, "batch write step done");
    step_started = std::time::Instant::now();
    // versions before their package records
    let replace = |i: usize| {
        let v = version_inserts.get(i)?;
        Some(UpdateOp::upsert(doc! { "_id": v.get_str("_id").ok()? }, v.clone()))
    };
    let docs = version_inserts.iter().cloned().map(Into::into).collect();
    for f in store.insert_or_update(coll::VERSIONS, docs, replace).await? {
        tracing::warn!(error = %f.message, "a version record was refused");
    }
    drop(version_inserts);
    for f in store.update_all(coll::VERSIONS, version_ops).await? {
        tracing::warn!(error = %f.message, "a version record was refused");
    }
    tracing::debug!(step = "versions", ms = step_started.elapsed().as_millis() as u64, "batch write step done");
    step_started = std::time::Instant::now();
    store.delete_all(coll::VERSIONS, version_deletes).await?;

    let n = (package_ops.len() + deletes.len()) as u64;
    if n > 0 {
        let first = store.reserve_seq(PACKAGE_SEQ, n).await?;
        let mut seq = first;
        let mut ops = Vec::with_capacity(package_ops.len() + deletes.len());
        let mut names = Vec::with_capacity(ops.capacity());
        // records never stored are inserted; one already there (a replayed batch) takes the $set
        let mut inserts: Vec<(String, Document)> = Vec::new();
        for (name, mut set, new) in package_ops {
            set.insert("seq", seq);
            seq += 1;
            if new {
                inserts.push((name, set));
            } else {
                ops.push(UpdateOp::upsert(doc! { "_id": &name }, doc! { "$set": set }));
                names.push(name);
            }
        }
        for (name, rev) in deletes {
            ops.push(UpdateOp::update(
                doc! { "_id": &name },
                doc! { "$set": {
                    "state": PackageState::Deleted.as_str(),
                    "deleted_at": now,
                    "rev": rev,
                    "seq": seq,
                    "checked_at": now,
                    "stale": false,
                    "dep_targets": { "prod": [], "dev": [] },
                } },
            ));
            seq += 1;
            names.push(name);
        }
        let mut failures: Vec<(Option<String>, String)> = Vec::new();
        for f in store.insert_or_set(coll::PACKAGES, &inserts).await? {
            failures.push((inserts.get(f.index).map(|(n, _)| n.clone()), f.message));
        }
        for f in store.update_all(coll::PACKAGES, ops).await? {
            failures.push((names.get(f.index).cloned(), f.message));
        }
        for (name, message) in failures {
            summary.ingested = summary.ingested.saturating_sub(1);
            summary.rejected += 1;
            let reason = format!("the database refused the record: {message}");
            tracing::warn!(package.name = name.as_deref().unwrap_or("-"), reason = %reason, "rejected");
            edges.retain(|e| Some(&e.name) != name.as_ref());
            new_packages.retain(|n| Some(n) != name.as_ref());
            rejects.push(Reject { package: name, source: "write".into(), reason });
        }
    }
    tracing::debug!(step = "packages", ms = step_started.elapsed().as_millis() as u64, "batch write step done");
    step_started = std::time::Instant::now();
    store.enqueue_new_downloads(&new_downloads).await?;
    store.enqueue_downloads(&downloads).await?;
    tracing::debug!(step = "enqueue", ms = step_started.elapsed().as_millis() as u64, "batch write step done");
    step_started = std::time::Instant::now();
    store.update_recent(recent, &gone).await?;
    tracing::debug!(step = "recent", ms = step_started.elapsed().as_millis() as u64, "batch write step done");
    step_started = std::time::Instant::now();
    pending.add(journal, edges);
    if !touched.is_empty() {
        validators.push(UpdateOp::update_many(
            doc! { "_id": { "$in": touched } },
            doc! { "$set": { "checked_at": now, "stale": false, "fetch_error": Bson::Null } },
        ));
    }
    store.update_all(coll::PACKAGES, validators).await?;
    store.update_all(coll::PACKAGES, stale_ops).await?;
    tracing::debug!(step = "rest", ms = step_started.elapsed().as_millis() as u64, "batch write step done");
    store.record_rejects(&rejects).await?;
    Ok(())
}

/// `_id` of a version record.
pub fn version_id(package: &str, version: &str) -> String {
    format!("{package}@{version}")
}

/// A version record as raw BSON: thousands of them per document must stay compact.
pub fn encode_version(package: &str, v: &VersionRecord, now: DateTime) -> Result<RawDocumentBuf, StoreError> {
    let mut d = bson::to_raw_document_buf(v).map_err(|e| StoreError::encode(coll::VERSIONS, e))?;
    d.append("_id", version_id(package, &v.version));
    d.append("package", package);
    d.append("written_at", now);
    Ok(d)
}

/// A written package as a line of the "recently updated" list.
fn recent_item(pkg: &Package) -> nodules_store::browse::ListItem {
    let latest = pkg.latest_version.as_ref();
    nodules_store::browse::ListItem {
        name: pkg.name.clone(),
        version: pkg.latest.clone(),
        description: latest.and_then(|l| l.description.as_ref()).map(|d| d.chars().take(300).collect()),
        dependents_count: None,
        modified: pkg.modified.and_then(|t| t.try_to_rfc3339_string().ok()),
        deprecated: latest.is_some_and(|l| l.deprecated.is_some()),
    }
}

/// The `$set` of a package record (everything but `_id` and `seq`).
fn package_set(pkg: &Package, meta: &SourceMeta, now: DateTime) -> Result<Document, StoreError> {
    let encode = |e| StoreError::encode(coll::PACKAGES, e);
    let mut d = bson::to_document(pkg).map_err(encode)?;
    d.remove("_id");
    for (k, v) in bson::to_document(meta).map_err(encode)? {
        d.insert(k, v);
    }
    d.insert("written_at", now);
    d.insert("fetch_error", Bson::Null);
    // browse lists by keyword and by person, case-insensitive
    let latest = pkg.latest_version.as_ref();
    let mut kw: Vec<String> = latest.map(|l| l.keywords.iter().map(|k| k.to_lowercase()).collect()).unwrap_or_default();
    kw.sort();
    kw.dedup();
    let mut people: Vec<String> = latest
        .and_then(|l| l.author.as_ref())
        .into_iter()
        .chain(pkg.maintainers.iter())
        .filter_map(|p| p.name.as_ref().map(|n| n.to_lowercase()))
        .collect();
    people.sort();
    people.dedup();
    d.insert("kw", kw);
    d.insert("people", people);
    Ok(d)
}
