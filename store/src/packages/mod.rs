//! Package records as the indexer reads and writes them (the request path's reads are in
//! `read.rs`, browse lists in `browse.rs`).

pub mod refresh; // stored packages due for a refresh, streamed
pub mod sets; // records as sets: which are active, what changed, what search reads
pub mod stored; // what a batch's packages hold now, by name
pub mod write; // records written, deleted, checked, marked stale

pub use refresh::DueForRefresh;
pub use stored::StoredPackage;
pub use write::{CheckWrites, RecordDelete, RecordWrite, RefusedRecord};
