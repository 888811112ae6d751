//! Scans of every package record in windows of `seq` numbers.
//!
//! A plain `find` over all packages is one cursor on a real MongoDB, but the development
//! server materializes every match before the first batch (≈ 18 GB for 1M package
//! records). A range of `seq` (indexed, unique: every write of a package takes the next
//! number) holds at most one window of records on either server, whatever the size of
//! the registry.
//!
//! A record written during the scan takes a number past the scan's position, so it is
//! read again in the windows that follow up to the counter's latest value: a scan sees
//! every record at least once, and a record written meanwhile possibly twice. Callers
//! make their work idempotent (the rebuild's edges are inserted by `_id`, duplicates are
//! not counted again).

use futures::TryStreamExt;
use mongodb::bson::{Document, doc};

use crate::db::{Store, coll};
use crate::error::{Result, StoreError};
use crate::seq::PACKAGE_SEQ;

/// `seq` numbers per window (at most this many records read at once).
pub const SEQ_WINDOW: i64 = 2000;

/// A scan in progress; see the module's documentation.
pub struct PackageScan {
    store: Store,
    projection: Document,
    window: i64,
    /// Records with `seq` up to this were read.
    done: i64,
    /// The counter's value when last looked at.
    end: i64,
}

impl Store {
    /// Starts a scan of every package record, `projection` applied, `window` numbers at a time.
    pub async fn scan_packages(&self, mut projection: Document, window: i64) -> Result<PackageScan> {
        projection.insert("seq", 1);
        let end = self.current_seq(PACKAGE_SEQ).await?;
        Ok(PackageScan { store: self.clone(), projection, window: window.max(1), done: 0, end })
    }
}

impl PackageScan {
    /// The records of the next window (possibly none: numbers are not dense), or `None` when
    /// the scan reached the counter's latest value.
    pub async fn next_window(&mut self) -> Result<Option<Vec<Document>>> {
        if self.done >= self.end {
            // records written since the scan started are past the old end
            self.end = self.store.current_seq(PACKAGE_SEQ).await?;
            if self.done >= self.end {
                return Ok(None);
            }
        }
        let upto = self.end.min(self.done.saturating_add(self.window));
        let docs = self
            .store
            .packages()
            .find(doc! { "seq": { "$gt": self.done, "$lte": upto } })
            .projection(self.projection.clone())
            .batch_size(crate::bulk::SCAN_BATCH)
            .await
            .map_err(StoreError::mongo("find", coll::PACKAGES))?
            .try_collect()
            .await
            .map_err(StoreError::mongo("find", coll::PACKAGES))?;
        self.done = upto;
        Ok(Some(docs))
    }

    /// How far the scan went and where the counter stood, for progress.
    pub fn position(&self) -> (i64, i64) {
        (self.done, self.end)
    }
}
