//! Reverse dependencies: for every package, who depends on it — exact after every run,
//! ranked by popularity, and readable page by page with key lookups.
//!
//! The `dependency_edges` collection is the source of truth (one document per edge,
//! `_id` = `target\0source`). Each depended-upon package has a `dependents` document
//! with exact counts, its page layout and a top 10, and its lists are stored as numbered
//! page documents (`dependent_pages`). A package whose dependencies change adds and
//! removes only its own edges: the work is proportional to its own dependencies, never to
//! the size of a target's list. New dependents are appended at the end of a list until
//! `dependents --rerank` puts it in exact popularity order again.
//!
//! The request path reads these documents in `read.rs`; everything that writes them is here.

pub mod apply; // one batch's edge changes, incrementally
pub mod diff; // EdgeChange -> edge removals and additions, pure
pub mod pending; // changes of several batches, applied together
pub mod rebuild; // dependents --rebuild: everything from the stored packages
pub mod recover; // replaying a batch a crash interrupted
pub mod rerank; // dependents --rerank: exact popularity order

use std::collections::HashMap;

use mongodb::bson::doc;
use mongodb::bson::oid::ObjectId;

pub use apply::{ApplyStats, apply};
pub use diff::{EdgeChange, EdgeOp, diff, edge_id};
pub use pending::PendingEdges;
pub use rebuild::RebuildStats;
pub use rerank::{RerankError, RerankStats};

use crate::db::coll;
use crate::lease::Lease;
use crate::model::Dependents;
use crate::{Store, StoreError};

/// The dependents graph of a store, for the jobs that write it: `store.graph().rerank(…)`.
#[derive(Debug, Clone, Copy)]
pub struct Graph<'a> {
    store: &'a Store,
}

impl Store {
    /// The dependents graph (edges, counts, ranked pages, journal).
    pub fn graph(&self) -> Graph<'_> {
        Graph { store: self }
    }
}

impl Graph<'_> {
    /// Applies one batch's (or window's) edge changes incrementally.
    pub async fn apply(&self, changes: &[EdgeChange]) -> Result<ApplyStats, StoreError> {
        apply::apply(self.store, changes).await
    }

    /// Journals the sources whose edges are about to change (see [`recover`]).
    pub async fn begin(&self, sources: &[String]) -> Result<ObjectId, StoreError> {
        apply::begin(self.store, sources).await
    }

    /// The `dependents` documents of `names`, by name (25 names per query).
    pub async fn lists(&self, names: Vec<String>) -> Result<HashMap<String, Dependents>, StoreError> {
        apply::read_dependents(self.store, names).await
    }

    /// Repairs the batches a crash interrupted; returns how many there were.
    pub async fn recover(&self) -> Result<u64, StoreError> {
        recover::recover(self.store).await
    }

    /// Reranks the dirty lists (every list with `all`).
    pub async fn rerank(&self, lease: Option<&Lease>, all: bool) -> Result<RerankStats, RerankError> {
        rerank::rerank(self.store, lease, all).await
    }

    /// Recomputes every edge, count and list from the stored packages.
    pub async fn rebuild(&self, lease: Option<&Lease>, counts_in_memory: usize) -> Result<RebuildStats, RerankError> {
        rebuild::rebuild(self.store, lease, counts_in_memory).await
    }

    /// How many lists a rerank would redo (an exact count: `dependents --dry-run`).
    pub async fn dirty_lists(&self) -> Result<u64, StoreError> {
        self.store
            .collection(coll::DEPENDENTS)
            .count_documents(doc! { "dirty": true })
            .await
            .map_err(StoreError::mongo("count", coll::DEPENDENTS))
    }
}
