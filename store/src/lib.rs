//! Nodules' shared data model and MongoDB access.
pub mod blobs; // file contents, content-addressed
pub mod browse; // browse lists: precomputed, or indexed filters
pub mod bulk; // many writes in few round trips
pub mod config; // --mongodb-uri, --db
pub mod db; // Store, collections, ensure_indexes
pub mod error; // StoreError
pub mod lease; // one writer per job
pub mod logging; // stderr logging that keeps progress bars intact
pub mod model; // package records and their parts
pub mod names; // valid package names
pub mod packages; // package records as sets: which are active, what changed
pub mod pairs; // maps stored as [key, value] arrays
pub mod progress; // progress bars / periodic log lines
pub mod queue; // downloads: jobs, claims and their results (sources)
pub mod read; // request-path reads: package, dependents
pub mod registry; // which registry, which token
pub mod rejects; // documents that cannot be a package
pub mod runs; // last run of each job
pub mod scan; // every package record, in windows of seq numbers
pub mod seq; // change numbers
pub mod shapes; // the query shapes a process sends (the query-shape test)
pub mod tally; // database time by command and collection (benchmarks)
pub mod testing; // TestDb for tests
pub mod trees; // file trees of unpacked versions
pub mod versions; // version records

pub use config::DbArgs;
pub use db::Store;
pub use error::StoreError;
