//! A batch's decisions → a few bulk commands: versions first, then package records (so a
//! crash in between leaves the old revision stored and the next run redoes the package),
//! then dependents (journaled first, so a crash is repaired by the next run), stale marks
//! and rejects.

use std::collections::HashSet;

use mongodb::bson::DateTime;
use nodules_store::dependents::{EdgeChange, PendingEdges};
use nodules_store::model::{DepTargets, Package, PackageState};
use nodules_store::packages::{CheckWrites, RecordDelete, RecordWrite};
use nodules_store::queue::Wanted;
use nodules_store::rejects::Reject;
use nodules_store::versions::{VersionWrites, version_id};
use nodules_store::{Store, StoreError};

use super::decide::Decision;
use super::summary::Summary;

/// Applies `decisions`, counting into `summary`. The batch's dependency changes, already
/// journaled, go to `pending`: the caller applies them with those of other batches.
pub async fn apply(
    store: &Store,
    decisions: Vec<(String, Decision)>,
    now: DateTime,
    summary: &mut Summary,
    pending: &mut PendingEdges,
) -> Result<(), StoreError> {
    let mut version_writes = VersionWrites::default();
    let mut package_ops: Vec<RecordWrite> = Vec::new();
    let mut deletes: Vec<RecordDelete> = Vec::new();
    let mut checks = CheckWrites::default();
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
                    version_writes.insert(versions);
                } else {
                    version_writes.replace(versions);
                }
                if let Some(b) = &before {
                    let kept: HashSet<&str> = pkg.versions.iter().map(|v| v.version.as_str()).collect();
                    let gone: Vec<String> = b
                        .versions
                        .iter()
                        .filter(|v| !kept.contains(v.version.as_str()))
                        .map(|v| version_id(&pkg.name, &v.version))
                        .collect();
                    version_writes.delete(gone);
                }
                if before.as_ref().is_none_or(|b| b.state == PackageState::Stub) {
                    new_packages.push(pkg.name.clone());
                }
                let before_targets = before.as_ref().map(|b| b.dep_targets.clone()).unwrap_or_default();
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
                package_ops.push(RecordWrite::new(pkg, &meta, now, before.as_ref())?);
            }
            Decision::Unchanged { name, etag, last_modified } => {
                summary.unchanged += 1;
                checks.unchanged(name, etag, last_modified);
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
                version_writes.delete_package(&name);
                gone.push(name.clone());
                deletes.push(RecordDelete { name, rev });
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
                checks.stale(&name, failed);
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
    let written: Vec<String> = package_ops.iter().map(|r| r.name().to_string()).collect();
    let known = store.graph().lists(written).await?;
    let count_of = |name: &str| known.get(name).map_or((0, 0), |d| (d.prod.count, d.dev.count));
    let first_time: HashSet<&str> = new_packages.iter().map(String::as_str).collect();
    for r in package_ops.iter_mut().filter(|r| first_time.contains(r.name())) {
        let (prod, dev) = count_of(r.name());
        r.set_dependents_counts(prod, dev);
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
        Some(store.graph().begin(&edges.iter().map(|e| e.name.clone()).collect::<Vec<_>>()).await?)
    };

    tracing::debug!(step = "journal", ms = step_started.elapsed().as_millis() as u64, "batch write step done");
    step_started = std::time::Instant::now();
    // versions before their package records
    for f in store.write_versions(&mut version_writes).await? {
        tracing::warn!(error = %f.message, "a version record was refused");
    }
    tracing::debug!(step = "versions", ms = step_started.elapsed().as_millis() as u64, "batch write step done");
    step_started = std::time::Instant::now();
    store.delete_versions(version_writes).await?;

    for refused in store.write_records(package_ops, deletes, now).await? {
        let name = refused.name;
        summary.ingested = summary.ingested.saturating_sub(1);
        summary.rejected += 1;
        let reason = format!("the database refused the record: {}", refused.message);
        tracing::warn!(package.name = name.as_deref().unwrap_or("-"), reason = %reason, "rejected");
        edges.retain(|e| Some(&e.name) != name.as_ref());
        new_packages.retain(|n| Some(n) != name.as_ref());
        rejects.push(Reject { package: name, source: "write".into(), reason });
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
    store.write_checks(checks, now).await?;
    tracing::debug!(step = "rest", ms = step_started.elapsed().as_millis() as u64, "batch write step done");
    store.record_rejects(&rejects).await?;
    Ok(())
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
        stars: None,
        commits: None,
    }
}
