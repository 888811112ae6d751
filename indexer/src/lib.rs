//! Turns npm registry documents into Nodules package records.
pub mod cli; // command line
pub mod commands; // ingest | fetch | follow | dependents | trees | status
pub mod feed; // streaming dump and _changes readers
pub mod install; // install trees: resolved from stored packages, costed
pub mod pipeline; // batches, _rev skip, writes, summary line
