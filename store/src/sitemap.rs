//! What sitemaps read: every shown package's name, when what its page shows last changed,
//! and its keywords and people (whose pages are listed too), in windows of `seq` numbers
//! (see `scan`), so that neither we nor the server ever hold more than one window.

use mongodb::bson::{Bson, Document, doc};

use crate::db::{Store, coll};
use crate::error::{Result, StoreError};
use crate::model::PackageState;
use crate::scan::{PackageScan, SEQ_WINDOW};

/// One package as a sitemap lists it.
#[derive(Debug, Clone, PartialEq)]
pub struct SitemapRecord {
    pub name: String,
    /// When the indexer last wrote what its page shows (ms since the epoch): the record is
    /// written only when its normalized content changed.
    pub lastmod_ms: Option<i64>,
    /// Lowercased, as their pages look them up.
    pub keywords: Vec<String>,
    pub people: Vec<String>,
}

/// A scan of shown packages in progress.
pub struct SitemapScan(PackageScan);

impl Store {
    /// Starts a scan of every shown (active) package.
    pub async fn sitemap_scan(&self) -> Result<SitemapScan> {
        let projection = doc! { "_id": 1, "state": 1, "written_at": 1, "modified": 1, "kw": 1, "people": 1 };
        Ok(SitemapScan(self.scan_packages(projection, SEQ_WINDOW).await?))
    }

    /// The packages collection's size as the server keeps it (no walk over the records):
    /// every state counted, which is close enough to size shards.
    pub async fn package_count_estimate(&self) -> Result<u64> {
        self.packages().estimated_document_count().await.map_err(StoreError::mongo("count", coll::PACKAGES))
    }
}

impl SitemapScan {
    /// The next window's shown packages (possibly none), or `None` at the end.
    pub async fn next_window(&mut self) -> Result<Option<Vec<SitemapRecord>>> {
        let Some(docs) = self.0.next_window().await? else { return Ok(None) };
        Ok(Some(docs.iter().filter_map(record).collect()))
    }

    /// How far the scan went and where the counter stood, for progress.
    pub fn position(&self) -> (i64, i64) {
        self.0.position()
    }
}

fn record(d: &Document) -> Option<SitemapRecord> {
    if d.get_str("state").ok()? != PackageState::Active.as_str() {
        return None;
    }
    let time = |k: &str| match d.get(k) {
        Some(Bson::DateTime(t)) => Some(t.timestamp_millis()),
        _ => None,
    };
    Some(SitemapRecord {
        name: d.get_str("_id").ok()?.to_string(),
        lastmod_ms: time("written_at").or_else(|| time("modified")),
        keywords: crate::model::string_array(d, "kw"),
        people: crate::model::string_array(d, "people"),
    })
}
