//! Command-line interface of `nodules-indexer`.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, Subcommand};
use nodules_npm::registry::RegistryArgs;
use nodules_store::DbArgs;

/// Turns npm registry documents into Nodules package records.
///
/// Exit codes: 0 done (even with rejected documents), 1 the run failed, 2 bad usage,
/// 75 another indexer run holds the lease (nothing was written).
#[derive(Debug, Parser)]
#[command(name = "nodules-indexer", version, about, long_about)]
pub struct Cli {
    #[command(flatten)]
    pub db: DbArgs,

    #[command(flatten)]
    pub registry: RegistryArgs,
    #[command(flatten)]
    pub log: nodules_npm::logging::LogArgs,

    /// Read and normalize everything, write nothing (no database needed for `ingest`).
    #[arg(long, global = true)]
    pub dry_run: bool,

    /// Length of the lease that keeps two indexer runs from writing at once; a crashed
    /// run's lease expires after this long.
    #[arg(long, global = true, env = "NODULES_LEASE_TTL", default_value = "60s", value_parser = humantime::parse_duration)]
    pub lease_ttl: Duration,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Ingest a CouchDB `_all_docs?include_docs=true` dump or a `_changes` feed (NDJSON),
    /// plain or gzip, from a file or `-` (stdin). Streams: memory does not grow with the
    /// input. A change without a document marks its package for `fetch --stale`.
    Ingest {
        /// The dump or feed; `-` reads stdin.
        path: String,
        /// Longest row accepted, in bytes; longer rows are rejected and skipped.
        #[arg(long, default_value_t = 256 << 20)]
        max_row_bytes: usize,
    },
    /// Fetch package documents one by one from the registry.
    Fetch(FetchArgs),
    /// Follow a CouchDB `_changes` feed, fetching from the registry each changed document
    /// the feed does not carry, checkpointing `last_seq` so the next run resumes. Exits once
    /// caught up (for cron) unless `--continuous`.
    Follow(FollowArgs),
    /// Maintain dependents lists: `--rerank` puts them in exact popularity order (hourly
    /// cron), `--rebuild` recomputes every edge, count and list from the stored packages.
    #[command(group(clap::ArgGroup::new("action").required(true).args(["rerank", "rebuild"])))]
    Dependents {
        /// Re-order the lists whose members changed since the last rerank.
        #[arg(long)]
        rerank: bool,
        /// With --rerank: every list, not only those that changed.
        #[arg(long, requires = "rerank")]
        all: bool,
        /// Recompute everything from the stored packages.
        #[arg(long)]
        rebuild: bool,
        /// With --rebuild: targets whose dependents counts are held in memory before they
        /// are written out (memory stays flat with the registry's size).
        #[arg(long, requires = "rebuild", default_value_t = 200_000, value_name = "N")]
        counts_in_memory: usize,
    },
    /// Resolve the install trees of latest versions as npm would (dependencies, peers,
    /// optional ones, dedupe) from the stored packages, with their size, install scripts
    /// and licenses: the trees a change since the last run touched (cron, after ingests),
    /// or all of them. Versions whose size is unknown are queued for download.
    Trees(TreesArgs),
    /// Show the checkpoint, counts, queues and the last run of each job.
    Status {
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, clap::Args)]
pub struct FetchArgs {
    /// Package names (`react`, `@types/node`).
    pub names: Vec<String>,
    /// A file of package names, one per line (`#` starts a comment).
    #[arg(long)]
    pub names_file: Option<PathBuf>,
    /// Also fetch what the fetched packages depend on (latest version, all kinds), up to --max.
    #[arg(long)]
    pub deps: bool,
    /// Fetch at most this many packages in all.
    #[arg(long)]
    pub max: Option<usize>,
    /// Re-fetch stored packages last checked longer ago than AGE (`6h`, `30m`), and those
    /// marked stale, with conditional requests.
    #[arg(long, value_name = "AGE", value_parser = humantime::parse_duration)]
    pub stale: Option<Duration>,
    /// Requests in flight at once.
    #[arg(long, default_value_t = 8)]
    pub concurrency: usize,
    /// Tries per package before it counts as failed (retried next run).
    #[arg(long, default_value_t = 5)]
    pub attempts: u32,
    /// A request that receives nothing for this long is retried.
    #[arg(long, default_value = "30s", value_parser = humantime::parse_duration)]
    pub timeout: Duration,
    /// First retry delay; doubled on each retry.
    #[arg(long, default_value = "500ms", value_parser = humantime::parse_duration)]
    pub backoff: Duration,
}

#[derive(Debug, clap::Args)]
pub struct FollowArgs {
    /// The feed: a CouchDB database URL or its `_changes` endpoint (it may differ from the
    /// registry's).
    pub url: String,
    /// Where to start when there is no checkpoint: a sequence, or `now`.
    #[arg(long, default_value = "0")]
    pub since: String,
    /// Keep following after catching up, reconnecting after drops.
    #[arg(long)]
    pub continuous: bool,
    /// Caught up: no change for this long ends the run (without --continuous).
    #[arg(long, default_value = "10s", value_parser = humantime::parse_duration)]
    pub idle: Duration,
    /// Documents fetched from the registry at once.
    #[arg(long, default_value_t = 8)]
    pub concurrency: usize,
    /// Reconnections after a dropped feed before the run fails (without --continuous).
    #[arg(long, default_value_t = 5)]
    pub reconnects: u32,
    /// A registry request that receives nothing for this long is retried.
    #[arg(long, default_value = "30s", value_parser = humantime::parse_duration)]
    pub timeout: Duration,
}

#[derive(Debug, clap::Args)]
pub struct TreesArgs {
    /// Every active package's tree, not only those a change touched.
    #[arg(long)]
    pub all: bool,
    /// Trees computed between two reads of the stale ones.
    #[arg(long, default_value_t = 200)]
    pub batch: usize,
    /// How long a write takes at most to commit once numbered: changes are read this long
    /// after the run starts, so that none numbered before is missed.
    #[arg(long, default_value = "10s", value_parser = humantime::parse_duration)]
    pub commit_wait: Duration,
}
