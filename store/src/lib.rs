//! Nodules' shared data model and MongoDB access.
pub mod blobs; // file contents, content-addressed
pub mod browse; // browse lists: precomputed, or indexed filters
pub mod bulk; // many writes in few round trips
pub mod config; // --mongodb-uri, --db
pub mod db; // Store, collections, ensure_indexes
pub mod error; // StoreError
pub mod lease; // one writer per job
pub mod model; // package records and their parts
pub mod pairs; // maps stored as [key, value] arrays
pub mod queue; // download jobs and their results (sources)
pub mod read; // request-path reads and their query shapes
pub mod rejects; // documents that cannot be a package
pub mod runs; // last run of each job
pub mod scan; // every package record, in windows of seq numbers
pub mod seq; // change numbers
pub mod tally; // database time by command and collection (benchmarks)
pub mod testing; // TestDb for tests
pub mod trees; // file trees of unpacked versions

pub use config::DbArgs;
pub use db::Store;
pub use error::StoreError;
