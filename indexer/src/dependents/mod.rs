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

pub mod apply; // one batch's edge changes, incrementally
pub mod diff; // EdgeChange -> edge removals and additions, pure
pub mod pending; // changes of several batches, applied together
pub mod rebuild; // dependents --rebuild: everything from the stored packages
pub mod recover; // replaying a batch a crash interrupted
pub mod rerank; // dependents --rerank: exact popularity order

pub use apply::{ApplyStats, apply};
pub use diff::{EdgeChange, EdgeOp, diff, edge_id};
pub use pending::PendingEdges;
