//! Command-line interface of `nodules-downloader`.

use std::time::Duration;

use clap::{Parser, Subcommand};
use nodules_npm::registry::RegistryArgs;
use nodules_store::DbArgs;

/// Fetches, verifies (dist.integrity, else dist.shasum) and safely unpacks each package's
/// latest tarball into MongoDB, with the facts only the tarball knows.
///
/// Exit codes: 0 done (even with failed tarballs: they are recorded), 1 the run failed,
/// 2 bad usage.
#[derive(Debug, Parser)]
#[command(name = "nodules-downloader", version, about, long_about)]
pub struct Cli {
    #[command(flatten)]
    pub db: DbArgs,
    #[command(flatten)]
    pub registry: RegistryArgs,
    #[command(flatten)]
    pub log: nodules_npm::logging::LogArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Download and unpack the tarballs of packages that need it (most depended upon first;
    /// versions a page asked for before those).
    Run(RunArgs),
    /// Refresh GitHub activity (stars, latest commit, 52 weeks of commit counts) of packages
    /// whose repository is on GitHub, the most depended-upon first, with conditional
    /// requests. Without a token GitHub allows 60 requests an hour (3 per repository); set
    /// GITHUB_TOKEN for 5,000. A spent rate limit ends the run (exit 0) unless it resets
    /// within a minute; the next run resumes.
    Github(GithubArgs),
}

#[derive(Debug, Clone, clap::Args)]
pub struct GithubArgs {
    /// Exit when nothing is due; otherwise keep refreshing as repositories come due.
    #[arg(long)]
    pub once: bool,
    /// The GitHub API (any GitHub-compatible API; the tests use a fake one).
    #[arg(long, env = "GITHUB_API_URL", default_value = "https://api.github.com")]
    pub github_api: String,
    /// A token raises the rate limit from 60 to 5,000 requests an hour. Never logged.
    #[arg(long, env = "GITHUB_TOKEN", hide_env_values = true, hide = true)]
    pub token: Option<String>,
    /// Refresh a repository when its data is older than this.
    #[arg(long, default_value = "1day", value_parser = humantime::parse_duration)]
    pub max_age: Duration,
    /// Ask again this soon when GitHub was still computing the weekly counts (202).
    #[arg(long, default_value = "10m", value_parser = humantime::parse_duration)]
    pub pending_retry: Duration,
    /// First retry delay after a transient failure (5xx, timeout); doubled each retry.
    #[arg(long, default_value = "1s", value_parser = humantime::parse_duration)]
    pub backoff: Duration,
}

#[derive(Debug, Clone, clap::Args)]
pub struct RunArgs {
    /// Exit when no work is left (including work leased by other downloaders); otherwise
    /// keep waiting for new work.
    #[arg(long)]
    pub once: bool,
    /// Tarballs in progress at once. Default: twice the number of cores.
    #[arg(long)]
    pub concurrency: Option<usize>,
    /// Fetch, verify, unpack and read facts of every pending tarball; write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Another origin tarballs may be fetched from (besides the registry's); repeatable.
    #[arg(long = "tarball-origin", value_name = "URL")]
    pub tarball_origins: Vec<String>,
    /// How long a claimed tarball stays ours without renewal; a dead downloader's jobs are
    /// taken over after this.
    #[arg(long, default_value = "2m", value_parser = humantime::parse_duration)]
    pub lease: Duration,
    /// A version downloaded because a visitor asked for it (not its package's latest) is
    /// released this long after the last visit, as older versions are when a new latest
    /// arrives; asking again downloads it again.
    #[arg(long, default_value = "30days", value_parser = humantime::parse_duration)]
    pub keep_asked_for: Duration,
    /// Claims of one tarball before it is recorded as failed.
    #[arg(long, default_value_t = 5)]
    pub attempts: i64,
    /// First retry delay after a transient failure; doubled each attempt (at most 10 min).
    #[arg(long, default_value = "30s", value_parser = humantime::parse_duration)]
    pub backoff: Duration,
    /// A download that receives nothing for this long fails (and is retried).
    #[arg(long, default_value = "60s", value_parser = humantime::parse_duration)]
    pub timeout: Duration,
    /// Largest compressed tarball fetched, in MiB.
    #[arg(long, default_value_t = 256)]
    pub max_compressed_mib: u64,
    /// Largest total unpacked size, in MiB.
    #[arg(long, default_value_t = 1024)]
    pub max_unpacked_mib: u64,
    /// Most entries in one tarball.
    #[arg(long, default_value_t = 100_000)]
    pub max_entries: u64,
    /// Largest file whose content is stored, in KiB (larger ones keep size and hash only).
    #[arg(long, default_value_t = 4096)]
    pub max_stored_file_kib: u64,
    /// Compressed bytes held in memory by all downloads together, in MiB.
    #[arg(long, default_value_t = 512)]
    pub memory_mib: u64,
}
