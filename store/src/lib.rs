//! Nodules' shared data model and MongoDB access.
pub mod bulk; // many writes in few round trips
pub mod config; // --mongodb-uri, --db
pub mod db; // Store, collections, ensure_indexes
pub mod error; // StoreError
pub mod lease; // one writer per job
pub mod logging; // stderr logging that keeps progress bars intact
pub mod model; // package records and their parts
pub mod pairs; // maps stored as [key, value] arrays
pub mod progress; // progress bars / periodic log lines
pub mod read; // request-path reads and their query shapes
pub mod registry; // which registry, which token
pub mod rejects; // documents that cannot be a package
pub mod runs; // last run of each job
pub mod seq; // change numbers
pub mod testing; // TestDb for tests

pub use config::DbArgs;
pub use db::Store;
pub use error::StoreError;
