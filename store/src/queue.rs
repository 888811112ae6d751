//! The download queue, which is also where results live: one `sources` document per
//! package version (`_id` = `name@version`).
//!
//! A job is `pending` until a downloader commits its result (`done`, `capped`) or gives up
//! (`failed`). Claiming is one update that moves `due_at` to the end of a lease and counts
//! the attempt; a dead worker's lease simply runs out. The result is written by an update
//! filtered on `owner: me`, so a worker whose lease lapsed changes nothing and each result
//! is committed once.
//!
//! Only pending jobs have a `due_at`, and importance is folded into it: a job is due
//! earlier the more depended upon its package is (one second per dependent), and a version
//! a page asked for is due decades ago. The order of work is then one index in `due_at`
//! order.
//!
//! Workers claim through a [`Claimer`]: one indexed read fetches the next few due jobs,
//! and each claim is an update by `_id` that still requires `due_at <= now` and the claim
//! count read, so a job another downloader took in between is simply skipped. MongoDB
//! answers a sorted `find_one_and_update` from the index alone, but the development server
//! materializes every due job to sort them and then scans the collection to write (32% of
//! its time in the download benchmark with 352 jobs, growing with the queue); read ahead
//! and by `_id`, it sorts once per [`READ_AHEAD`] claims and writes by key.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use futures::TryStreamExt;
use mongodb::bson::{Bson, DateTime, Document, doc};

use crate::bulk::UpdateOp;
use crate::db::{Store, coll};
use crate::error::{Result, StoreError};
use crate::model::{Source, SourceFacts, SourceState};

/// Due jobs read at once by a [`Claimer`].
pub const READ_AHEAD: usize = 64;
/// How long jobs read ahead are trusted: a version a page asks for meanwhile waits at most
/// this long for its turn.
pub const READ_AHEAD_AGE: Duration = Duration::from_secs(5);

/// Claims jobs for one downloader's workers, the most important due job first (see the
/// module's comment).
pub struct Claimer {
    store: Store,
    owner: String,
    lease: Duration,
    ahead: tokio::sync::Mutex<(VecDeque<Job>, Instant)>,
}

impl Claimer {
    pub fn new(store: Store, owner: &str, lease: Duration) -> Self {
        Claimer {
            store,
            owner: owner.to_string(),
            lease,
            ahead: tokio::sync::Mutex::new((VecDeque::new(), Instant::now())),
        }
    }

    /// The next due job, claimed for our lease; `None` when nothing is due.
    pub async fn claim(&self) -> Result<Option<Job>> {
        loop {
            let job = {
                let mut ahead = self.ahead.lock().await;
                if ahead.0.is_empty() || ahead.1.elapsed() > READ_AHEAD_AGE {
                    // the lock is held while reading: the other workers wait for these jobs
                    // instead of reading the same ones
                    *ahead = (self.store.due_downloads(READ_AHEAD).await?.into(), Instant::now());
                }
                match ahead.0.pop_front() {
                    Some(job) => job,
                    None => return Ok(None),
                }
            };
            if let Some(job) = self.store.claim_download(&job, &self.owner, self.lease).await? {
                return Ok(Some(job));
            }
        }
    }
}

/// Priority of versions a page asked for (an older version's README, source or diff):
/// ahead of the background work, which is ordered by popularity.
pub const ON_DEMAND_PRIORITY: i64 = 1_000_000_000;

/// When a job of `priority` is due: that many seconds before now.
pub fn due_for(priority: i64) -> DateTime {
    later(-priority.clamp(0, ON_DEMAND_PRIORITY).saturating_mul(1000))
}

/// A claimed job.
#[derive(Debug, Clone)]
pub struct Job {
    pub id: String,
    pub package: String,
    pub version: String,
    pub tarball: Option<String>,
    pub integrity: Option<String>,
    pub shasum: Option<String>,
    /// Claims so far, this one included.
    pub attempts: i64,
    /// The committed result's tree when the job was read (a redo replaces it): its
    /// generation and number of pages.
    pub tree_gen: Option<i64>,
    pub tree_pages: i64,
    /// When read; [`ON_DEMAND_PRIORITY`] for a version a page or the API asked for.
    pub priority: i64,
}

impl Job {
    /// Asked for by a visitor (an older version, a diff), not queued as a package's latest.
    pub fn on_demand(&self) -> bool {
        self.priority >= ON_DEMAND_PRIORITY
    }

    /// A job as stored (claimed or not).
    fn from_doc(d: &Document) -> Job {
        let s = |k: &str| d.get_str(k).ok().map(str::to_string);
        Job {
            id: s("_id").unwrap_or_default(),
            package: s("package").unwrap_or_default(),
            version: s("version").unwrap_or_default(),
            tarball: s("tarball"),
            integrity: s("integrity"),
            shasum: s("shasum"),
            attempts: int(d.get("attempts")).unwrap_or(0),
            tree_gen: int(d.get("tree_gen")),
            tree_pages: int(d.get("tree_pages")).unwrap_or(0),
            priority: int(d.get("priority")).unwrap_or(0),
        }
    }
}

fn int(v: Option<&Bson>) -> Option<i64> {
    match v {
        Some(Bson::Int64(n)) => Some(*n),
        Some(Bson::Int32(n)) => Some(i64::from(*n)),
        _ => None,
    }
}

/// What the indexer knows of a version to download.
#[derive(Debug, Clone)]
pub struct Wanted {
    pub package: String,
    pub version: String,
    pub tarball: Option<String>,
    pub integrity: Option<String>,
    pub shasum: Option<String>,
    pub priority: i64,
}

/// `_id` of a version's source.
pub fn source_id(package: &str, version: &str) -> String {
    format!("{package}@{version}")
}

fn later(ms: i64) -> DateTime {
    DateTime::from_millis(DateTime::now().timestamp_millis().saturating_add(ms))
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX / 4)
}

/// Statements that queue `wanted` (new jobs pending; a failed one retried, since its
/// document changed). Done results are left alone.
pub fn enqueue_ops(wanted: &[Wanted]) -> Vec<UpdateOp> {
    let now = DateTime::now();
    let mut ops = Vec::with_capacity(wanted.len() * 2);
    for w in wanted {
        let id = source_id(&w.package, &w.version);
        ops.push(UpdateOp::update(
            doc! { "_id": &id, "state": "failed" },
            doc! { "$set": { "state": "pending", "due_at": due_for(w.priority), "attempts": 0, "reason": Bson::Null, "owner": Bson::Null } },
        ));
        let mut set_on_insert = job_document(w, now);
        set_on_insert.remove("_id");
        ops.push(UpdateOp::upsert(doc! { "_id": &id }, doc! { "$setOnInsert": set_on_insert }));
    }
    ops
}

/// The band of a dependents count that a queued job's priority follows once queued: half
/// a power of two from 16 up, one band below. The queue's order needs no more, and a
/// package gaining dependents rewrites its job twice per doubling, not at each one (each
/// rewrite costs the development server ~2 ms). A job is queued with the exact count.
pub fn priority_band(count: i64) -> i64 {
    if count < 16 {
        return 0;
    }
    ((count as f64).log2() * 2.0).floor() as i64
}

/// A new job as a document (what [`enqueue_ops`] upserts when the job is missing).
fn job_document(w: &Wanted, now: DateTime) -> Document {
    doc! {
        "_id": source_id(&w.package, &w.version),
        "package": &w.package,
        "version": &w.version,
        "state": "pending",
        "due_at": due_for(w.priority),
        "attempts": 0,
        "priority": w.priority,
        "enqueued_at": now,
        "tarball": &w.tarball,
        "integrity": &w.integrity,
        "shasum": &w.shasum,
    }
}

impl Store {
    /// Queues versions of packages stored for the first time: inserted, since no job can
    /// exist yet (one that does, from a batch replayed after a crash, stands).
    pub async fn enqueue_new_downloads(&self, wanted: &[Wanted]) -> Result<()> {
        let now = DateTime::now();
        let docs = wanted.iter().map(|w| job_document(w, now).into()).collect();
        for f in self.insert_or_update(coll::SOURCES, docs, |_| None).await? {
            tracing::warn!(error = %f.message, "a download job was refused");
        }
        Ok(())
    }

    /// Queues versions to download (see [`enqueue_ops`]).
    pub async fn enqueue_downloads(&self, wanted: &[Wanted]) -> Result<()> {
        self.update_all(coll::SOURCES, enqueue_ops(wanted)).await?;
        Ok(())
    }

    /// How many versions visitors asked for are waiting for a downloader (one index range).
    pub async fn count_on_demand_pending(&self) -> Result<u64> {
        self.collection(coll::SOURCES)
            .count_documents(doc! { "state": "pending", "priority": { "$gte": ON_DEMAND_PRIORITY } })
            .await
            .map_err(StoreError::mongo("count", coll::SOURCES))
    }

    /// Asks for one version now, ahead of the background work (a page wants it).
    pub async fn request_download(&self, wanted: Wanted) -> Result<()> {
        let id = source_id(&wanted.package, &wanted.version);
        self.collection(coll::SOURCES)
            .update_one(
                doc! { "_id": &id, "state": "pending", "owner": Bson::Null },
                doc! { "$max": { "priority": ON_DEMAND_PRIORITY }, "$min": { "due_at": due_for(ON_DEMAND_PRIORITY) } },
            )
            .await
            .map_err(StoreError::mongo("update", coll::SOURCES))?;
        // a released version (an old one, or one nobody asked for lately) is downloaded again
        self.collection(coll::SOURCES)
            .update_one(
                doc! { "_id": &id, "state": "done", "released": true, "tree_pages": 0_i64 },
                doc! {
                    "$set": { "state": "pending", "due_at": due_for(ON_DEMAND_PRIORITY), "attempts": 0_i64,
                              "owner": Bson::Null, "priority": ON_DEMAND_PRIORITY },
                    "$unset": { "released": "" },
                },
            )
            .await
            .map_err(StoreError::mongo("update", coll::SOURCES))?;
        self.enqueue_downloads(&[Wanted { priority: ON_DEMAND_PRIORITY, ..wanted }]).await?;
        self.asked(&id).await
    }

    /// Claims `job` (as read by [`Store::due_downloads`]) for `owner`, for `lease`, if it is
    /// still due and nobody claimed it since it was read.
    ///
    /// One `update_one` by `_id`, not a `find_one_and_update`: the development server
    /// writes a `find_one_and_update` by scanning the whole collection (it re-checks the
    /// query as `$and`, which no index serves). `attempts` counts claims, so a job whose
    /// count is still the one read was not claimed since, and the fields read are current
    /// (a job's tarball and integrity are written when it is queued and never change).
    pub async fn claim_download(&self, job: &Job, owner: &str, lease: Duration) -> Result<Option<Job>> {
        let taken = self
            .collection(coll::SOURCES)
            .update_one(
                // only pending jobs have a due_at; a claimed one is due when its lease ends
                doc! { "_id": &job.id, "due_at": { "$lte": DateTime::now() }, "attempts": job.attempts },
                // attempts counts claims: a tarball that crashes the worker still runs out of tries
                doc! { "$set": { "owner": owner, "due_at": later(millis(lease)) }, "$inc": { "attempts": 1 } },
            )
            .await
            .map_err(StoreError::mongo("update", coll::SOURCES))?;
        Ok((taken.matched_count == 1).then(|| Job { attempts: job.attempts + 1, ..job.clone() }))
    }

    /// The `n` most important due jobs, in order.
    pub async fn due_downloads(&self, n: usize) -> Result<Vec<Job>> {
        let docs: Vec<Document> = self
            .collection(coll::SOURCES)
            .find(doc! { "due_at": { "$lte": DateTime::now() } })
            .sort(doc! { "due_at": 1 })
            .projection(doc! {
                "package": 1, "version": 1, "tarball": 1, "integrity": 1, "shasum": 1, "attempts": 1,
                "tree_gen": 1, "tree_pages": 1, "priority": 1,
            })
            .limit(n as i64)
            .await
            .map_err(StoreError::mongo("find", coll::SOURCES))?
            .try_collect()
            .await
            .map_err(StoreError::mongo("find", coll::SOURCES))?;
        Ok(docs.iter().map(Job::from_doc).collect())
    }

    /// Extends a held lease; `false` when it is no longer ours.
    pub async fn renew_download(&self, id: &str, owner: &str, lease: Duration) -> Result<bool> {
        let r = self
            .collection(coll::SOURCES)
            .update_one(
                doc! { "_id": id, "owner": owner, "state": "pending" },
                doc! { "$set": { "due_at": later(millis(lease)) } },
            )
            .await
            .map_err(StoreError::mongo("update", coll::SOURCES))?;
        Ok(r.matched_count == 1)
    }

    /// Commits `job`'s result (`done`, `capped` or `failed`) if the lease is still ours.
    /// A result that replaces the job's tree commits only over the tree the job read (a
    /// redo, not released meanwhile).
    pub async fn finish_download(
        &self,
        job: &Job,
        owner: &str,
        state: SourceState,
        result: DownloadResult,
    ) -> Result<bool> {
        let mut set = result.fields;
        set.insert("state", state.as_str());
        set.insert("finished_at", DateTime::now());
        set.insert("owner", Bson::Null);
        let mut filter = doc! { "_id": &job.id, "owner": owner, "state": "pending" };
        if result.replaces_tree && job.tree_pages > 0 {
            filter.extend(doc! { "tree_gen": job.tree_gen, "tree_pages": job.tree_pages });
        }
        let r = self
            .collection(coll::SOURCES)
            .update_one(filter, doc! { "$set": set, "$unset": { "due_at": "" } })
            .await
            .map_err(StoreError::mongo("update", coll::SOURCES))?;
        Ok(r.matched_count == 1)
    }

    /// Gives a job back for a later try (a transient failure): due after `wait`.
    pub async fn retry_download(&self, id: &str, owner: &str, wait: Duration, reason: &str) -> Result<bool> {
        let r = self
            .collection(coll::SOURCES)
            .update_one(
                doc! { "_id": id, "owner": owner, "state": "pending" },
                doc! { "$set": { "due_at": later(millis(wait)), "owner": Bson::Null, "reason": reason } },
            )
            .await
            .map_err(StoreError::mongo("update", coll::SOURCES))?;
        Ok(r.matched_count == 1)
    }

    /// A version's source result.
    pub async fn source(&self, package: &str, version: &str) -> Result<Option<Source>> {
        self.database()
            .collection::<Source>(coll::SOURCES)
            .find_one(doc! { "_id": source_id(package, version) })
            .await
            .map_err(StoreError::mongo("find", coll::SOURCES))
    }
}

impl Store {
    /// Whether any job is pending (leased elsewhere, or waiting out a backoff). One key
    /// read by the `state` index, not a count: the development server counts by decoding
    /// the whole collection.
    pub async fn any_download_pending(&self) -> Result<bool> {
        let found = self
            .collection(coll::SOURCES)
            .find_one(doc! { "state": "pending" })
            .projection(doc! { "_id": 1 })
            .await
            .map_err(StoreError::mongo("find", coll::SOURCES))?;
        Ok(found.is_some())
    }

    /// Download jobs waiting (claimed or not): the queue depth the downloader records with
    /// its runs, counted by the `state` index (by the job, never on a request path).
    pub async fn download_queue_depth(&self) -> Result<u64> {
        self.collection(coll::SOURCES)
            .count_documents(doc! { "state": "pending" })
            .await
            .map_err(StoreError::mongo("count", coll::SOURCES))
    }

    /// Every pending job, claimed or not (a dry run reads them without claiming).
    pub async fn pending_downloads(&self) -> Result<Vec<Job>> {
        let docs: Vec<Document> = self
            .collection(coll::SOURCES)
            .find(doc! { "state": "pending" })
            .batch_size(crate::bulk::SCAN_BATCH)
            .await
            .map_err(StoreError::mongo("find", coll::SOURCES))?
            .try_collect()
            .await
            .map_err(StoreError::mongo("find", coll::SOURCES))?;
        Ok(docs.iter().map(Job::from_doc).collect())
    }

    /// Queues again up to 100 results of an extractor older than `extractor`; returns how
    /// many were queued.
    pub async fn requeue_outdated_downloads(&self, extractor: i64) -> Result<u64> {
        let ids: Vec<Document> = self
            .collection(coll::SOURCES)
            .find(doc! { "extractor": { "$lt": extractor } })
            .projection(doc! { "_id": 1 })
            .limit(100)
            .await
            .map_err(StoreError::mongo("find", coll::SOURCES))?
            .try_collect()
            .await
            .map_err(StoreError::mongo("find", coll::SOURCES))?;
        let ids: Vec<&str> = ids.iter().filter_map(|d| d.get_str("_id").ok()).collect();
        if ids.is_empty() {
            return Ok(0);
        }
        let r = self
            .collection(coll::SOURCES)
            .update_many(
                doc! { "_id": { "$in": &ids }, "state": { "$ne": "pending" } },
                doc! { "$set": { "state": "pending", "due_at": DateTime::now(), "attempts": 0_i64 } },
            )
            .await
            .map_err(StoreError::mongo("update", coll::SOURCES))?;
        Ok(r.modified_count)
    }

    /// Releases the files of `package`'s other versions that nobody asked for: their trees
    /// go, their blobs lose a reference (and go once none is left). Returns how many.
    ///
    /// A version is first marked released (`tree_pages` to 0, filtered on it being above
    /// 0), and only the downloader whose mark matched takes the references off: two
    /// downloaders committing two versions of one package, or a run that died half-way and
    /// the next one, never take a version's references off twice (which would delete blobs
    /// other packages still show). Dying after the mark leaves its blobs counted (disk, not
    /// a lost file).
    pub async fn release_other_versions(&self, package: &str, keep: &str) -> Result<u64> {
        let others: Vec<Document> = self
            .collection(coll::SOURCES)
            .find(doc! { "package": package })
            .projection(doc! { "tree_pages": 1, "tree_gen": 1, "priority": 1, "state": 1 })
            .await
            .map_err(StoreError::mongo("find", coll::SOURCES))?
            .try_collect()
            .await
            .map_err(StoreError::mongo("find", coll::SOURCES))?;
        let mut released = 0;
        for o in others {
            let Ok(id) = o.get_str("_id") else { continue };
            let pages = o.get_i64("tree_pages").unwrap_or(0);
            let on_demand = o.get_i64("priority").unwrap_or(0) >= ON_DEMAND_PRIORITY;
            if id == keep || pages == 0 || on_demand {
                continue;
            }
            if self.release(id, o.get_i64("tree_gen").ok()).await? {
                released += 1;
            }
        }
        Ok(released)
    }

    /// Marks one version released and drops its tree (see [`Store::release_other_versions`]
    /// on why the mark comes first); `false` when another run marked it, or a redo replaced
    /// the generation read.
    async fn release(&self, id: &str, generation: Option<i64>) -> Result<bool> {
        // the generation read is in the filter: a redo of this version committed since
        // (a new generation) is not released, and its commit fails once this one matched
        let marked = self
            .collection(coll::SOURCES)
            .update_one(
                doc! { "_id": id, "tree_pages": { "$gt": 0_i64 }, "tree_gen": generation },
                doc! { "$set": { "tree_pages": 0_i64, "tree_firsts": [], "tree_gen": Bson::Null, "released": true } },
            )
            .await
            .map_err(StoreError::mongo("update", coll::SOURCES))?;
        if marked.matched_count == 0 {
            return Ok(false);
        }
        self.drop_tree(id, generation).await?;
        Ok(true)
    }

    /// Records that a visitor asked for this version's files now (the webapp calls it at most
    /// hourly per version): [`Store::release_unasked`] keeps what was asked for recently.
    pub async fn touch_asked(&self, package: &str, version: &str) -> Result<()> {
        self.asked(&source_id(package, version)).await
    }

    async fn asked(&self, id: &str) -> Result<()> {
        self.collection(coll::SOURCES)
            .update_one(doc! { "_id": id }, doc! { "$set": { "asked_at": DateTime::now() } })
            .await
            .map_err(StoreError::mongo("update", coll::SOURCES))?;
        Ok(())
    }

    /// Releases, like an old version, up to `limit` versions downloaded because a visitor
    /// asked for them and not asked for within `keep`, unless one is its package's latest
    /// now. Returns how many.
    pub async fn release_unasked(&self, keep: Duration, limit: i64) -> Result<u64> {
        let before = later(-millis(keep));
        let idle: Vec<Document> = self
            .collection(coll::SOURCES)
            .find(doc! { "priority": { "$gte": ON_DEMAND_PRIORITY }, "asked_at": { "$lt": before }, "tree_pages": { "$gt": 0_i64 } })
            .projection(doc! { "package": 1, "version": 1, "tree_gen": 1 })
            .limit(limit)
            .await
            .map_err(StoreError::mongo("find", coll::SOURCES))?
            .try_collect()
            .await
            .map_err(StoreError::mongo("find", coll::SOURCES))?;
        let mut released = 0;
        for o in idle {
            let (Ok(id), Ok(package), Ok(version)) = (o.get_str("_id"), o.get_str("package"), o.get_str("version"))
            else {
                continue;
            };
            let latest = self
                .collection(coll::PACKAGES)
                .find_one(doc! { "_id": package })
                .projection(doc! { "latest": 1 })
                .await
                .map_err(StoreError::mongo("find", coll::PACKAGES))?;
            if latest.as_ref().and_then(|p| p.get_str("latest").ok()) == Some(version) {
                // kept while it is the latest; counted from now, so it is not read again each run
                self.asked(id).await?;
                continue;
            }
            if self.release(id, o.get_i64("tree_gen").ok()).await? {
                released += 1;
                // the pages that showed its files are cached until the package changes
                self.bump_packages(&[package.to_string()]).await?;
            }
        }
        Ok(released)
    }
}

/// What a download commits on its job's document besides its state (see
/// [`Store::finish_download`]).
#[derive(Debug, Clone)]
pub struct DownloadResult {
    fields: Document,
    /// The result replaces the job's tree (a redo commits only over the tree it read).
    replaces_tree: bool,
}

impl DownloadResult {
    /// Nothing stored, for `reason`.
    pub fn failed(reason: &str, extractor: i64) -> Self {
        DownloadResult { fields: doc! { "reason": reason, "extractor": extractor }, replaces_tree: false }
    }

    /// Over a cap before anything was unpacked: no tree, `reason` says which cap.
    pub fn capped_unread(reason: String, extractor: i64) -> Self {
        DownloadResult {
            fields: doc! {
                "reason": reason, "extractor": extractor, "tree_pages": 0_i64, "tree_firsts": [],
                "tree_gen": Bson::Null,
            },
            replaces_tree: true,
        }
    }

    /// Unpacked: the facts read and the tree written as generation `tree_gen` (pages
    /// starting at `tree_firsts`); `reason` when a cap cut the tree short, and what was
    /// renamed or skipped (the first 100 of each are kept).
    #[allow(clippy::too_many_arguments)]
    pub fn stored(
        facts: &SourceFacts,
        tree_firsts: Vec<String>,
        tree_gen: i64,
        extractor: i64,
        reason: Option<String>,
        lossy_names: &[String],
        skipped_count: u64,
        skipped: &[(String, String)],
    ) -> Result<Self> {
        let mut fields = doc! {
            "facts": mongodb::bson::to_bson(facts).map_err(|e| StoreError::encode(coll::SOURCES, e))?,
            "tree_pages": tree_firsts.len() as i64,
            "tree_firsts": tree_firsts,
            "tree_gen": tree_gen,
            "extractor": extractor,
            "reason": reason,
        };
        if !lossy_names.is_empty() {
            fields.insert("lossy_names", lossy_names.iter().take(100).cloned().collect::<Vec<_>>());
        }
        if !skipped.is_empty() {
            fields.insert("skipped_count", skipped_count as i64);
            let skipped: Vec<Document> =
                skipped.iter().take(100).map(|(p, why)| doc! { "path": p, "why": why }).collect();
            fields.insert("skipped", skipped);
        }
        Ok(DownloadResult { fields, replaces_tree: true })
    }

    /// The generation of the tree this result holds, if any.
    pub fn tree_gen(&self) -> Option<i64> {
        self.fields.get_i64("tree_gen").ok()
    }
}
