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

pub async fn run(store: Store, registry: Registry, args: &RunArgs) -> anyhow::Result<String> {
    let started = Instant::now();
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
        for w in workers {
            w.await??;
        }
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
    Ok(format!(
        "downloaded {}, failed {}, skipped {} in {:.1} s",
        c.downloaded.load(Ordering::Relaxed),
        c.failed.load(Ordering::Relaxed),
        c.skipped.load(Ordering::Relaxed),
        started.elapsed().as_secs_f64()
    ))
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
