//! The counts every indexer command ends with, and its one summary line.

use std::fmt;
use std::time::Instant;

/// What a run did. Printed as
/// `ingested N, unchanged U, deleted D, rejected R, failed F in T s`.
#[derive(Debug, Clone)]
pub struct Summary {
    /// Packages written (new or changed).
    pub ingested: u64,
    /// Documents whose revision (or content hash) was already stored.
    pub unchanged: u64,
    /// Packages that left the site (deleted or unpublished).
    pub deleted: u64,
    /// Inputs that cannot be a package, recorded in `rejects`.
    pub rejected: u64,
    /// Fetches that ran out of retries (retried next run).
    pub failed: u64,
    /// Packages marked for `fetch --stale` by changes without a document.
    pub marked_stale: u64,
    pub started: Instant,
}

impl Default for Summary {
    fn default() -> Self {
        Summary {
            ingested: 0,
            unchanged: 0,
            deleted: 0,
            rejected: 0,
            failed: 0,
            marked_stale: 0,
            started: Instant::now(),
        }
    }
}

impl Summary {
    /// The counts by name, as a run records them.
    pub fn counts(&self) -> [(&'static str, u64); 6] {
        [
            ("ingested", self.ingested),
            ("unchanged", self.unchanged),
            ("deleted", self.deleted),
            ("rejected", self.rejected),
            ("failed", self.failed),
            ("marked_stale", self.marked_stale),
        ]
    }

    /// Documents seen, whatever became of them.
    pub fn seen(&self) -> u64 {
        self.ingested + self.unchanged + self.deleted + self.rejected + self.failed + self.marked_stale
    }
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "ingested {}, unchanged {}, deleted {}, rejected {}, failed {} in {:.1} s",
            self.ingested,
            self.unchanged,
            self.deleted,
            self.rejected,
            self.failed,
            self.started.elapsed().as_secs_f64()
        )
    }
}
