//! Rendered pages and API answers kept in memory, keyed by what they show. Entries about
//! one package are dropped when its `seq` changes (a watcher follows the `seq` index every
//! second, so a hot page costs no database read); site-wide pages live a minute.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use moka::future::Cache;
use nodules_store::Store;
use nodules_store::model::Package;

use crate::metrics::RouteTemplate;
use crate::respond::Validity;

/// Bytes of a page that count as one entry of `--cache-entries`.
pub const WEIGHT_UNIT: usize = 16 << 10;

/// Versions' worth of package records kept (a version's summary is ~100 bytes in memory):
/// tens of MB.
const RECORD_VERSIONS: u64 = 300_000;

/// A cached answer.
#[derive(Clone)]
pub struct Cached {
    pub status: u16,
    pub content_type: &'static str,
    pub body: Bytes,
    pub etag: String,
    pub cache_control: &'static str,
    /// The package the answer is about: dropped when it changes.
    pub package: Option<String>,
    /// The route `/metrics` counts a hit under, when not the matched one.
    pub route: Option<RouteTemplate>,
    /// A site-wide answer is kept only while this holds.
    pub valid: Option<Validity>,
    /// The route template `/metrics` counts the answer under (set when it is kept).
    pub counted_as: Option<Arc<str>>,
    /// The body gzip'd, made once by the first hit that asks for it (`None`: not worth it).
    pub gzip: Arc<std::sync::OnceLock<Option<Bytes>>>,
}

/// A request for an answer not kept yet: the first renders it, the others wait for it.
pub enum Flight {
    Leader(FlightGuard),
    /// Resolves when the leader is done (kept or not).
    Follower(std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>),
}

/// Held while the first request renders; dropping it lets the others look again.
pub struct FlightGuard {
    cache: Arc<PageCache>,
    key: String,
    _done: tokio::sync::watch::Sender<()>,
}

impl Drop for FlightGuard {
    fn drop(&mut self) {
        if let Ok(mut f) = self.cache.flights.lock() {
            f.remove(&self.key);
        }
    }
}

pub struct PageCache {
    /// request → answer about one package; dropped when the package changes.
    packages: Cache<String, Arc<Cached>>,
    /// Site-wide answers (home, browse lists, search), for a minute.
    global: Cache<String, Arc<Cached>>,
    /// Package records as pages read them, by name; dropped with the package's answers. A
    /// page not kept (a source file not visited yet, a search inside a version) then costs
    /// no read of a record that can weigh hundreds of kB (typescript: 276 kB, ~8 ms).
    records: moka::sync::Cache<String, Arc<Package>>,
    /// Requests being rendered, by URL.
    flights: std::sync::Mutex<HashMap<String, tokio::sync::watch::Receiver<()>>>,
    /// Highest `seq` seen by the watcher.
    watermark: AtomicI64,
    /// The watcher's last poll reached the database: cached answers are current.
    db_ok: std::sync::atomic::AtomicBool,
}

impl PageCache {
    pub fn new(entries: u64) -> PageCache {
        PageCache {
            packages: Cache::builder()
                .max_capacity(entries)
                // bounded in bytes: a page counts once per 16 KiB it holds
                .weigher(|_k, v: &Arc<Cached>| u32::try_from(v.body.len() / WEIGHT_UNIT + 1).unwrap_or(u32::MAX))
                .support_invalidation_closures()
                .build(),
            global: Cache::builder().max_capacity(1000).time_to_live(Duration::from_secs(60)).build(),
            records: moka::sync::Cache::builder()
                .max_capacity(RECORD_VERSIONS)
                // weighed by versions, what makes a record large
                .weigher(|_k, v: &Arc<Package>| u32::try_from(v.versions.len() + 1).unwrap_or(u32::MAX))
                .build(),
            flights: std::sync::Mutex::new(HashMap::new()),
            watermark: AtomicI64::new(0),
            db_ok: std::sync::atomic::AtomicBool::new(true),
        }
    }

    /// False while the database cannot be reached: cached answers may be out of date.
    pub fn db_ok(&self) -> bool {
        self.db_ok.load(Ordering::Relaxed)
    }

    /// The answer kept for `request` (its path and query), if any still holds.
    pub async fn get(&self, request: &str) -> Option<Arc<Cached>> {
        if let Some(c) = self.packages.get(request).await {
            return Some(c);
        }
        let c = self.global.get(request).await?;
        match &c.valid {
            Some(valid) if !valid() => None,
            _ => Some(c),
        }
    }

    /// Keeps the answer to `request`, about `package`, until the package changes.
    pub async fn put_package(&self, request: String, package: String, value: Cached) {
        self.packages.insert(request, Arc::new(Cached { package: Some(package), ..value })).await;
    }

    /// Keeps a site-wide answer to `request` for a minute.
    pub async fn put_global(&self, request: String, value: Cached) {
        self.global.insert(request, Arc::new(value)).await;
    }

    /// The record of package `name` kept from an earlier read, if it has not changed since.
    pub fn record(&self, name: &str) -> Option<Arc<Package>> {
        self.records.get(name)
    }

    /// Where the watcher stands: take it before reading a record to keep.
    pub fn mark(&self) -> i64 {
        self.watermark.load(Ordering::Relaxed)
    }

    /// Keeps `record`, read after [`mark`](Self::mark) answered `mark`, unless the watcher
    /// has moved since: a change landing between the read and now would not drop it.
    pub fn keep_record(&self, record: Arc<Package>, mark: i64) {
        if self.watermark.load(Ordering::Relaxed) == mark {
            self.records.insert(record.name.clone(), record);
        }
    }

    /// Leader when nobody renders `request` now; otherwise a follower waiting for the leader.
    pub fn flight(self: &Arc<Self>, request: &str) -> Flight {
        let Ok(mut flights) = self.flights.lock() else {
            // a poisoned lock only costs the coalescing
            let (done, _) = tokio::sync::watch::channel(());
            return Flight::Leader(FlightGuard { cache: self.clone(), key: String::new(), _done: done });
        };
        if let Some(rx) = flights.get(request) {
            let mut rx = rx.clone();
            // ends when the leader's sender is dropped
            return Flight::Follower(Box::pin(async move { while rx.changed().await.is_ok() {} }));
        }
        let (done, rx) = tokio::sync::watch::channel(());
        flights.insert(request.to_string(), rx);
        Flight::Leader(FlightGuard { cache: self.clone(), key: request.to_string(), _done: done })
    }

    /// Drops every entry about `names`.
    pub fn invalidate(&self, names: Vec<String>) {
        if names.is_empty() {
            return;
        }
        for name in &names {
            self.records.invalidate(name);
        }
        let names: std::collections::HashSet<String> = names.into_iter().collect();
        if let Err(e) =
            self.packages.invalidate_entries_if(move |_, v| v.package.as_ref().is_some_and(|p| names.contains(p)))
        {
            tracing::warn!(error = %e, "cannot invalidate cached pages; clearing all");
            self.packages.invalidate_all();
        }
    }

    /// Follows `seq` from now on: every changed package's entries are dropped.
    pub fn watch(self: &Arc<Self>, store: Store) {
        let cache = self.clone();
        tokio::spawn(async move {
            match store.current_seq(nodules_store::seq::PACKAGE_SEQ).await {
                Ok(s) => cache.watermark.store(s, Ordering::Relaxed),
                Err(e) => tracing::warn!(error = %e, "cache watcher: cannot read the current seq"),
            }
            loop {
                tokio::time::sleep(Duration::from_secs(1)).await;
                match cache.poll(&store).await {
                    Ok(()) => cache.db_ok.store(true, Ordering::Relaxed),
                    Err(e) => {
                        cache.db_ok.store(false, Ordering::Relaxed);
                        tracing::debug!(error = %e, "cache watcher: poll failed");
                    }
                }
            }
        });
    }

    async fn poll(&self, store: &Store) -> Result<(), nodules_store::StoreError> {
        let since = self.watermark.load(Ordering::Relaxed);
        let changed = store.changed_since(since, 5000).await?;
        let max = changed.iter().map(|(_, seq)| *seq).fold(since, i64::max);
        let names: Vec<String> = changed.into_iter().map(|(name, _)| name).collect();
        self.invalidate(names);
        self.watermark.store(max, Ordering::Relaxed);
        Ok(())
    }
}
