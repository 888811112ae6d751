//! `run`: a pool of workers claiming jobs until none is left (`--once`) or forever, and the
//! summary line `downloaded N, failed F, skipped S in T s`.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use futures::StreamExt;
use nodules_npm::progress::Progress;
use nodules_npm::registry::Registry;
use nodules_store::queue::Claimer;
use nodules_store::{Store, StoreError};

use crate::cli::RunArgs;
use crate::fetch::TarballClient;
use crate::origin::OriginPolicy;
use crate::unpack::Caps;
use crate::worker::{Counts, Ctx, release_unasked, requeue_outdated};

/// How often an idle worker looks for new work.
const POLL: Duration = Duration::from_secs(5);
/// How often a running downloader records where it stands (`/metrics` shows the last
/// record: counts and queue depth).
const REPORT_EVERY: Duration = Duration::from_secs(60);

pub async fn run(store: Store, registry: Registry, args: &RunArgs) -> anyhow::Result<String> {
    let started = Instant::now();
    let started_at = mongodb::bson::DateTime::now();
    let policy = OriginPolicy::new(&registry.url, &args.tarball_origins).map_err(anyhow::Error::msg)?;
    let client = TarballClient::new(
        policy,
        registry.token.clone(),
        args.max_compressed_mib << 20,
        args.memory_mib << 20,
        args.timeout,
    )?;
    let caps = Caps {
        max_unpacked: args.max_unpacked_mib << 20,
        max_entries: args.max_entries,
        max_stored_file: args.max_stored_file_kib << 10,
        ..Caps::default()
    };
    let concurrency =
        args.concurrency.unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get() * 2)).max(1);
    let ctx = Arc::new(Ctx {
        store: store.clone(),
        client,
        caps,
        owner: owner_id(),
        lease: args.lease,
        attempts: args.attempts,
        backoff: args.backoff,
        dry_run: args.dry_run,
        keep_asked: args.keep_asked_for,
        counts: Counts::default(),
    });
    tracing::info!(registry = %registry.url, concurrency, once = args.once, dry_run = args.dry_run, "downloading");
    let progress = Arc::new(Progress::new("tarballs", None));
    if args.dry_run {
        dry_run(&ctx, concurrency, &progress).await?;
    } else {
        requeue_outdated(&store).await?;
        let released = release_unasked(&store, args.keep_asked_for).await?;
        if released > 0 {
            tracing::info!(released, "released versions visitors have not asked for lately");
        }
        let claimer = Arc::new(Claimer::new(store.clone(), &ctx.owner, ctx.lease));
        let workers: Vec<_> = (0..concurrency)
            .map(|_| tokio::spawn(worker(ctx.clone(), claimer.clone(), args.once, progress.clone())))
            .collect();
        let reporter = tokio::spawn(report_while_running(ctx.clone(), started_at));
        let mut outcome = Ok(());
        for w in workers {
            if let Err(e) = w.await.map_err(anyhow::Error::from).and_then(|r| r.map_err(anyhow::Error::from)) {
                outcome = Err(e);
                break;
            }
        }
        reporter.abort();
        let line = summary_line(&ctx.counts, started);
        record(&ctx, started_at, outcome.is_ok(), &line).await;
        outcome?;
    }
    progress.finish();
    nodules_store::tally::log();
    let c = &ctx.counts;
    tracing::info!(
        files = c.files.load(Ordering::Relaxed),
        unpacked_bytes = c.bytes.load(Ordering::Relaxed),
        peak_rss_kb = nodules_npm::logging::peak_rss_bytes().unwrap_or(0) / 1024,
        "done"
    );
    Ok(summary_line(c, started))
}

fn summary_line(c: &Counts, started: Instant) -> String {
    format!(
        "downloaded {}, failed {}, skipped {} in {:.1} s",
        c.downloaded.load(Ordering::Relaxed),
        c.failed.load(Ordering::Relaxed),
        c.skipped.load(Ordering::Relaxed),
        started.elapsed().as_secs_f64()
    )
}

/// Records the run so far as the `download` job's last run (counts, queue depth): every
/// [`REPORT_EVERY`] while it runs, then at its end. Several downloaders write the same
/// record: the last report wins, which is what a scrape wants to see.
async fn record(ctx: &Ctx, started_at: mongodb::bson::DateTime, ok: bool, line: &str) {
    let depth = match ctx.store.download_queue_depth().await {
        Ok(n) => n,
        Err(e) => {
            tracing::warn!(error = %e, "cannot count the download queue");
            return;
        }
    };
    let c = &ctx.counts;
    let counts = [
        ("downloaded", c.downloaded.load(Ordering::Relaxed)),
        ("failed", c.failed.load(Ordering::Relaxed)),
        ("skipped", c.skipped.load(Ordering::Relaxed)),
        ("queue_depth", depth),
    ];
    if let Err(e) = ctx.store.record_run("download", started_at, ok, line, &counts).await {
        tracing::warn!(error = %e, "cannot record the run");
    }
}

async fn report_while_running(ctx: Arc<Ctx>, started_at: mongodb::bson::DateTime) {
    let started = Instant::now();
    loop {
        tokio::time::sleep(REPORT_EVERY).await;
        let line = format!("running: {}", summary_line(&ctx.counts, started));
        record(&ctx, started_at, true, &line).await;
    }
}

/// Claims and processes jobs; with `once`, stops when nothing is pending anywhere (jobs
/// leased by other downloaders count: a dead one's lease runs out and its job comes back).
async fn worker(ctx: Arc<Ctx>, claimer: Arc<Claimer>, once: bool, progress: Arc<Progress>) -> Result<(), StoreError> {
    loop {
        match claimer.claim().await {
            Ok(Some(job)) => {
                if let Err(e) = ctx.process(job).await {
                    tracing::warn!(error = %e, "a job could not be recorded; it will come back when its lease runs out");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
                progress.advance(1, None);
            }
            Ok(None) if once => {
                // is any job still pending (leased elsewhere, or waiting out a backoff)?
                match ctx.store.any_download_pending().await {
                    Ok(false) => return Ok(()),
                    Ok(true) => tokio::time::sleep(Duration::from_millis(250)).await,
                    Err(e) => return Err(e),
                }
            }
            Ok(None) => {
                let _ = requeue_outdated(&ctx.store).await;
                let _ = release_unasked(&ctx.store, ctx.keep_asked).await;
                tokio::time::sleep(POLL).await;
            }
            Err(e) if e.is_unavailable() => {
                tracing::warn!(error = %e, "database unavailable; waiting");
                tokio::time::sleep(POLL).await;
            }
            Err(e) => return Err(e),
        }
    }
}

/// Every pending job, processed without claiming or writing anything.
async fn dry_run(ctx: &Arc<Ctx>, concurrency: usize, progress: &Progress) -> Result<(), StoreError> {
    let jobs = ctx.store.pending_downloads().await?;
    futures::stream::iter(jobs)
        .map(|job| {
            let ctx = ctx.clone();
            async move { ctx.process(job).await }
        })
        .buffer_unordered(concurrency)
        .for_each(|r| {
            if let Err(e) = r {
                tracing::warn!(error = %e, "dry run: a job failed");
            }
            progress.advance(1, None);
            futures::future::ready(())
        })
        .await;
    Ok(())
}

fn owner_id() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").map(|s| s.trim().to_string()).unwrap_or_default();
    format!("{host}:{}:{:08x}", std::process::id(), rand::random::<u32>())
}
