//! The download loop: claim a version, fetch and verify its tarball, unpack it into blobs
//! and a file tree, read its facts, commit the result under our lease, release the files
//! of versions nobody needs any more. One bad tarball never ends a run.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use nodules_npm::retry::Schedule;
use nodules_store::blobs::{BlobWriter, EncodedBlob};
use nodules_store::model::{FileRef, SourceFacts, SourceState, TreeEntry};
use nodules_store::queue::{DownloadResult, Job};
use nodules_store::{Store, StoreError};
use tokio::sync::mpsc;

use crate::extract::{Extracted, extract};
use crate::facts;
use crate::fetch::{FetchFailure, TarballClient};
use crate::integrity::Expected;
use crate::unpack::Caps;

/// The longest a job waits before its next try, whatever the schedule or the server says.
const MAX_RETRY_WAIT: Duration = Duration::from_secs(600);

/// Bumped when extraction or fact detection changes: older results are redone.
/// 2: each file entry records its language, line figures and whether it is binary (issue 23).
pub const EXTRACTOR_VERSION: u32 = 2;

/// Counts for the summary line `downloaded N, failed F, skipped S in T s`.
#[derive(Debug, Default)]
pub struct Counts {
    /// Results committed (done or capped).
    pub downloaded: AtomicU64,
    /// Recorded failures (permanent, or out of attempts).
    pub failed: AtomicU64,
    /// Put back for later (a transient failure) or lost to another downloader.
    pub skipped: AtomicU64,
    pub files: AtomicU64,
    pub bytes: AtomicU64,
}

/// Everything a worker needs.
pub struct Ctx {
    pub store: Store,
    pub client: TarballClient,
    pub caps: Caps,
    pub owner: String,
    pub lease: Duration,
    pub attempts: i64,
    pub backoff: Duration,
    pub dry_run: bool,
    /// Versions downloaded for a visitor are kept this long after the last visit.
    pub keep_asked: Duration,
    pub counts: Counts,
}

/// How one job ended.
enum Ending {
    Commit { state: SourceState, result: DownloadResult, blobs: Vec<String> },
    Fail(String),
    Retry { reason: String, wait: Option<Duration> },
}

impl Ctx {
    /// Processes one claimed job and records its ending.
    pub async fn process(&self, job: Job) -> Result<(), StoreError> {
        let started = Instant::now();
        let lost = Arc::new(AtomicBool::new(false));
        let renewer = (!self.dry_run).then(|| {
            tokio::spawn(renew(self.store.clone(), job.id.clone(), self.owner.clone(), self.lease, lost.clone()))
        });
        let ending = self.work(&job).await;
        if let Some(r) = renewer {
            r.abort();
        }
        let result = self.record(&job, ending).await;
        tracing::debug!(package.name = %job.package, version = %job.version, ms = started.elapsed().as_millis() as u64, "job finished");
        result
    }

    async fn record(&self, job: &Job, ending: Ending) -> Result<(), StoreError> {
        let c = &self.counts;
        if self.dry_run {
            let counter = match ending {
                Ending::Commit { .. } => &c.downloaded,
                Ending::Fail(reason) => {
                    tracing::warn!(package.name = %job.package, version = %job.version, reason = %reason, "tarball failed");
                    &c.failed
                }
                Ending::Retry { .. } => &c.skipped,
            };
            counter.fetch_add(1, Ordering::Relaxed);
            return Ok(());
        }
        match ending {
            Ending::Commit { state, result, blobs } => {
                // a redo commits only over the result it read (not released meanwhile)
                let result_gen = result.tree_gen();
                if self.store.finish_download(job, &self.owner, state, result).await? {
                    c.downloaded.fetch_add(1, Ordering::Relaxed);
                    if job.tree_pages > 0 {
                        // the result this one replaced: nothing shows its tree any more
                        self.store.drop_tree(&job.id, job.tree_gen).await?;
                    }
                    // a package's latest lets its older versions go; a version a visitor asked
                    // for keeps every other (the latest above all)
                    if !job.on_demand() {
                        self.store.release_other_versions(&job.package, &job.id).await?;
                    }
                    // its pages and search entry show these facts: let them know
                    self.store.bump_packages(std::slice::from_ref(&job.package)).await?;
                } else {
                    // another downloader took the job over: its result counts, ours not
                    tracing::warn!(package.name = %job.package, "lease lost before commit; result discarded");
                    self.store.release_blobs(&blobs).await?;
                    if let Some(ours) = result_gen {
                        self.store.delete_tree_pages(&job.id, Some(ours)).await?;
                    }
                    c.skipped.fetch_add(1, Ordering::Relaxed);
                }
            }
            Ending::Fail(reason) => {
                tracing::warn!(package.name = %job.package, version = %job.version, reason = %reason, "tarball failed");
                let result = DownloadResult::failed(&reason, EXTRACTOR_VERSION as i64);
                if self.store.finish_download(job, &self.owner, SourceState::Failed, result).await? {
                    c.failed.fetch_add(1, Ordering::Relaxed);
                    // its page says "source unavailable: …" from now on
                    self.store.bump_packages(std::slice::from_ref(&job.package)).await?;
                } else {
                    c.skipped.fetch_add(1, Ordering::Relaxed);
                }
            }
            Ending::Retry { reason, .. } if job.attempts >= self.attempts => {
                let reason = format!("{reason} (gave up after {} attempts)", job.attempts);
                Box::pin(self.record(job, Ending::Fail(reason))).await?;
            }
            Ending::Retry { reason, wait } => {
                // the registry's wait, else the one schedule of every client (attempts counts
                // claims: the first retry waits twice the base, as before)
                let schedule = Schedule::new(self.backoff, MAX_RETRY_WAIT);
                let wait = wait.unwrap_or_else(|| schedule.delay(job.attempts.clamp(0, 16) as u32)).min(MAX_RETRY_WAIT);
                tracing::info!(package.name = %job.package, reason = %reason, retry_in_s = wait.as_secs(), "tarball will be retried");
                self.store.retry_download(&job.id, &self.owner, wait, &format!("{reason} (will retry)")).await?;
                c.skipped.fetch_add(1, Ordering::Relaxed);
            }
        }
        Ok(())
    }

    async fn work(&self, job: &Job) -> Ending {
        let Some(url) = job.tarball.as_deref() else {
            return Ending::Fail("the registry document lists no tarball".into());
        };
        let downloaded = match self.client.get(url).await {
            Ok(d) => d,
            Err(FetchFailure::Permanent(r)) => return Ending::Fail(r),
            Err(FetchFailure::Transient { reason, wait }) => return Ending::Retry { reason, wait },
            Err(FetchFailure::Capped(r)) => {
                return Ending::Commit {
                    state: SourceState::Capped,
                    result: DownloadResult::capped_unread(r, EXTRACTOR_VERSION as i64),
                    blobs: Vec::new(),
                };
            }
        };
        let expected = Expected::from_dist(job.integrity.as_deref(), job.shasum.as_deref());
        let bytes = downloaded.bytes.clone();
        let verified = tokio::task::spawn_blocking(move || expected.verify(&bytes)).await;
        match verified {
            Ok(Ok(())) => {}
            Ok(Err(mismatch)) => return Ending::Fail(mismatch),
            Err(e) => return Ending::Fail(format!("verification crashed: {e}")),
        }
        // blobs stream to the writer while the unpacker runs on a blocking thread
        let (tx, mut rx) = mpsc::channel::<EncodedBlob>(16);
        let caps = self.caps.clone();
        let bytes = downloaded.bytes.clone();
        let with_blobs = !self.dry_run;
        let unpacker = tokio::task::spawn_blocking(move || extract(bytes, &caps, with_blobs.then_some(tx)));
        let mut writer = BlobWriter::new(self.store.clone());
        let mut write_error = None;
        while let Some(blob) = rx.recv().await {
            if write_error.is_none()
                && let Err(e) = writer.add(blob).await
            {
                write_error = Some(e);
            }
        }
        if write_error.is_none()
            && let Err(e) = writer.flush().await
        {
            write_error = Some(e);
        }
        drop(downloaded);
        let extracted = match unpacker.await {
            Ok(Ok(x)) => x,
            Ok(Err(e)) => return Ending::Fail(format!("not a readable tarball: {e}")),
            Err(e) => return Ending::Fail(format!("unpacking crashed: {e}")),
        };
        let stored_blobs: Vec<String> = extracted.tree.iter().filter_map(|t| t.blob.clone()).collect();
        if let Some(e) = write_error {
            let _ = self.store.release_blobs(&stored_blobs).await;
            return Ending::Retry { reason: format!("storing files failed: {e}"), wait: None };
        }
        if !extracted.superseded.is_empty() {
            let _ = self.store.release_blobs(&extracted.superseded).await;
        }
        self.counts.files.fetch_add(extracted.tree.len() as u64, Ordering::Relaxed);
        self.counts.bytes.fetch_add(extracted.outcome.unpacked_size, Ordering::Relaxed);
        let ending = match self.conclude(job, extracted).await {
            Ok(e) => e,
            Err(e) => Ending::Retry { reason: format!("storing the result failed: {e}"), wait: None },
        };
        match ending {
            Ending::Commit { state, result, .. } => Ending::Commit { state, result, blobs: stored_blobs },
            other => {
                if !self.dry_run {
                    let _ = self.store.release_blobs(&stored_blobs).await;
                }
                other
            }
        }
    }

    /// Facts, manifest confusion, the file tree: the result to commit.
    async fn conclude(&self, job: &Job, x: Extracted) -> Result<Ending, StoreError> {
        let Some(raw) = x.manifest.as_deref() else {
            return Ok(Ending::Fail("the tarball has no package.json".into()));
        };
        let manifest = match facts::parse_manifest(raw) {
            Ok(m) => m,
            Err(e) => return Ok(Ending::Fail(format!("invalid package.json: {e}"))),
        };
        let files: Vec<(String, u64)> = x
            .tree
            .iter()
            .filter(|t| t.kind == nodules_store::model::EntryKind::File)
            .map(|t| (t.path.clone(), u64::try_from(t.size).unwrap_or(0)))
            .collect();
        let mut facts: SourceFacts = facts::detect(&manifest, &files, &job.package);
        let paths: Vec<&str> = files.iter().map(|(p, _)| p.as_str()).collect();
        facts.readme = facts::pick_readme(&paths).and_then(|p| file_ref(&x.tree, p));
        facts.license_file = facts::pick_license(&paths).and_then(|p| file_ref(&x.tree, p));
        facts.duplicates = x.outcome.duplicates.clone();
        if let Some(registry) = self.store.version(&job.package, &job.version).await? {
            facts.manifest_mismatches = facts::manifest_mismatches(&registry, &manifest, &facts);
        }
        facts.manifest_mismatches.extend(facts::name_mismatch(&job.package, &manifest));
        // a new generation each time a tree is written: a redo's pages stand beside the
        // committed ones until it commits (claim counts restart when a job is requeued)
        let generation = (rand::random::<u64>() >> 2) as i64;
        let firsts =
            if self.dry_run { Vec::new() } else { self.store.write_tree(&job.id, generation, &x.tree).await? };
        let state = if x.outcome.capped.is_some() { SourceState::Capped } else { SourceState::Done };
        let result = DownloadResult::stored(
            &facts,
            firsts,
            generation,
            EXTRACTOR_VERSION as i64,
            x.outcome.capped.clone(),
            &x.outcome.lossy_names,
            x.outcome.skipped_count,
            &x.outcome.skipped,
        )?;
        Ok(Ending::Commit { state, result, blobs: Vec::new() })
    }
}

fn file_ref(tree: &[TreeEntry], path: &str) -> Option<FileRef> {
    let t = tree.iter().find(|t| t.path == path)?;
    Some(FileRef { path: t.path.clone(), blob: t.blob.clone()?, size: t.size })
}

/// Re-queues results of an older extractor, a few at a time, when there is nothing else.
pub async fn requeue_outdated(store: &Store) -> Result<u64, StoreError> {
    store.requeue_outdated_downloads(EXTRACTOR_VERSION as i64).await
}

/// Releases the versions downloaded because a visitor asked for them and not asked for within
/// `keep` (the package's latest is always kept), as a new latest releases older versions.
pub async fn release_unasked(store: &Store, keep: Duration) -> Result<u64, StoreError> {
    const BATCH: i64 = 500;
    let mut total = 0;
    loop {
        let n = store.release_unasked(keep, BATCH).await?;
        total += n;
        // a short batch was the last (the latest versions in it are not read again)
        if n < BATCH as u64 {
            return Ok(total);
        }
    }
}

async fn renew(store: Store, id: String, owner: String, lease: Duration, lost: Arc<AtomicBool>) {
    loop {
        tokio::time::sleep(lease / 3).await;
        match store.renew_download(&id, &owner, lease).await {
            Ok(true) => {}
            Ok(false) => {
                lost.store(true, Ordering::Relaxed);
                return;
            }
            Err(e) => tracing::warn!(error = %e, "cannot renew a download lease; retrying"),
        }
    }
}
