//! Sitemaps (sitemaps.org protocol) for every shown package, keyword and author page:
//! `sitemap.xml`, an index, and gzip'd shards `sitemaps/{n}.xml.gz`, written as files by
//! [`generate`] for `nodules-webapp sitemaps` (cron, static hosting) and for the webapp,
//! which serves them.
//!
//! Shards are stable: a page goes to the shard its name hashes to (see [`shards`]), so a
//! day's publishes change the few shards their names fall in, and the index's per-shard
//! `lastmod` tells crawlers which. Memory stays flat whatever the registry's size: one
//! windowed scan of the packages spills each page to a partition file on disk, then each
//! partition (a few tens of thousands of pages) is read, deduplicated, sorted and written.

pub mod generate; // the scan, the partitions, the shard files and the index
pub mod shards; // which shard a page goes to, and how many shards there are
pub mod urls; // canonical page URLs, as the pages' <link rel="canonical">
pub mod xml; // urlset and sitemapindex documents, written with quick-xml

pub use generate::{Summary, generate};
