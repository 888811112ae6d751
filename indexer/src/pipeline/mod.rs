//! From incoming documents to stored records: batches, `_rev` skip, writes, summary.
pub mod batch; // the loop: gather, identify, look up, decide, write
pub mod budget; // bytes in flight between readers and the writer
pub mod decide; // what to do with each item, pure
pub mod incoming; // what readers hand over
pub mod summary; // counts and the summary line
pub mod write; // decisions -> bulk commands

pub use batch::{BatchConfig, Pipeline, PipelineError};
pub use summary::Summary;
