//! Command-line interface of `nodules-webapp`.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Parser, Subcommand};
use nodules_store::DbArgs;

/// Serves the Nodules site and JSON API, and writes sitemaps.
#[derive(Debug, Parser)]
#[command(name = "nodules-webapp", version, about, long_about)]
pub struct Cli {
    #[command(flatten)]
    pub db: DbArgs,
    #[command(flatten)]
    pub log: nodules_npm::logging::LogArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the site and the API.
    Serve(ServeArgs),
    /// Write the sitemap index (`sitemap.xml`) and its gzip'd shards (`sitemaps/{n}.xml.gz`)
    /// as static files, for cron and `serve --sitemaps-dir`.
    ///
    /// Lists every shown package, keyword and author page at its canonical URL, with when it
    /// last changed. Shards are fixed hash buckets of the names, so a day's publishes rewrite
    /// only the shards they fall in (the others keep their bytes). Memory stays flat: pages
    /// are spilled to a temporary folder inside --out while the packages are read.
    Sitemaps {
        /// Folder to write into (created when missing).
        #[arg(long)]
        out: PathBuf,
        /// The site's public URL, as in `serve --base-url`.
        #[arg(long, env = "NODULES_BASE_URL")]
        base_url: String,
        /// Shards per kind of page instead of one per 25,000 packages (tests).
        #[arg(long, hide = true)]
        shards: Option<usize>,
    },
}

#[derive(Debug, Clone, clap::Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080", env = "NODULES_LISTEN")]
    pub listen: SocketAddr,
    /// The site's public URL, for canonical links, feeds and sitemaps.
    #[arg(long, env = "NODULES_BASE_URL", default_value = "http://127.0.0.1:8080")]
    pub base_url: String,
    /// Where the search index lives (built from MongoDB on first start).
    #[arg(long, env = "NODULES_INDEX_DIR", default_value = "data/search-index")]
    pub index_dir: PathBuf,
    /// API requests per client per minute (pages get 4x); 0 turns rate limiting off.
    #[arg(long, env = "NODULES_RATE_LIMIT", default_value_t = 600)]
    pub rate_limit: u32,
    /// Take client addresses from X-Forwarded-For (behind a reverse proxy).
    #[arg(long)]
    pub trust_proxy: bool,
    /// Serve sitemaps from this folder (written by `nodules-webapp sitemaps`) instead of
    /// generating them on request.
    #[arg(long)]
    pub sitemaps_dir: Option<PathBuf>,
    /// Rendered pages kept in memory, in entries of up to 16 KiB (a larger page counts as
    /// one per 16 KiB, so the default holds at most ~320 MiB).
    #[arg(long, default_value_t = 20_000)]
    pub cache_entries: u64,
    /// Requests in progress at once; more are answered 503 with Retry-After at once.
    #[arg(long, default_value_t = 512)]
    pub max_in_flight: usize,
    /// Versions visitors may have waiting for the downloader, site-wide (each client may add
    /// 20 a minute when rate limiting is on); past it, pages of files not stored yet answer 503.
    #[arg(long, default_value_t = crate::protect::on_demand::MAX_PENDING)]
    pub max_on_demand: u64,
    /// Live streams (`/api/v1/stream`) open at once; past it, 503 with a jittered Retry-After.
    #[arg(long, default_value_t = 1000)]
    pub stream_clients: usize,
    /// A client must send its whole request head within this (slowloris protection).
    #[arg(long, default_value = "10s", value_parser = humantime::parse_duration)]
    pub header_timeout: std::time::Duration,
}
