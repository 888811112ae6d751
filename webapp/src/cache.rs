//! Rendered pages and API answers kept in memory, keyed by what they show. Entries about
//! one package are dropped when its `seq` changes (a watcher follows the `seq` index every
//! second, so a hot page costs no database read); site-wide pages live a minute.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use moka::future::Cache;
use nodules_store::Store;

/// A cached answer.
#[derive(Debug, Clone)]
pub struct Cached {
    pub status: u16,
    pub content_type: &'static str,
    pub body: Bytes,
    pub etag: String,
    pub cache_control: &'static str,
}

pub struct PageCache {
    /// `{package}\u{0}{request}` → answer; dropped when the package changes.
    packages: Cache<String, Arc<Cached>>,
    /// Site-wide answers (home, browse lists), for a minute.
    global: Cache<String, Arc<Cached>>,
    /// Highest `seq` seen by the watcher.
    watermark: AtomicI64,
    /// The watcher's last poll reached the database: cached answers are current.
    db_ok: std::sync::atomic::AtomicBool,
}

impl PageCache {
    pub fn new(entries: u64) -> PageCache {
        PageCache {
            packages: Cache::builder().max_capacity(entries).support_invalidation_closures().build(),
            global: Cache::builder().max_capacity(1000).time_to_live(Duration::from_secs(60)).build(),
            watermark: AtomicI64::new(0),
            db_ok: std::sync::atomic::AtomicBool::new(true),
        }
    }

    /// False while the database cannot be reached: cached answers may be out of date.
    pub fn db_ok(&self) -> bool {
        self.db_ok.load(Ordering::Relaxed)
    }

    pub fn package_key(package: &str, request: &str) -> String {
        format!("{package}\u{0}{request}")
    }

    pub async fn get_package(&self, key: &str) -> Option<Arc<Cached>> {
        self.packages.get(key).await
    }

    pub async fn put_package(&self, key: String, value: Cached) {
        self.packages.insert(key, Arc::new(value)).await;
    }

    /// The cache `package` answers (true) or site-wide answers (false) live in.
    pub fn store_for(&self, package: bool) -> &Cache<String, Arc<Cached>> {
        if package { &self.packages } else { &self.global }
    }

    pub async fn get_global(&self, key: &str) -> Option<Arc<Cached>> {
        self.global.get(key).await
    }

    pub async fn put_global(&self, key: String, value: Cached) {
        self.global.insert(key, Arc::new(value)).await;
    }

    /// Drops every entry about `names`.
    pub fn invalidate(&self, names: Vec<String>) {
        if names.is_empty() {
            return;
        }
        let prefixes: Vec<String> = names.into_iter().map(|n| format!("{n}\u{0}")).collect();
        if let Err(e) =
            self.packages.invalidate_entries_if(move |k, _| prefixes.iter().any(|p| k.starts_with(p.as_str())))
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
