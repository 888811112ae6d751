//! Nodules' shared data model and MongoDB access.
pub mod blobs; // file contents, content-addressed
pub mod browse; // browse lists: precomputed, or indexed filters
pub mod bulk; // many writes in few round trips
pub mod checkpoints; // how far each followed feed was read
pub mod config; // --mongodb-uri, --db
pub mod db; // Store, collections, ensure_indexes
pub mod dependents; // dependency edges, counts, ranked pages, crash journal
pub mod error; // StoreError
pub mod events; // change events kept with each record (the live stream)
pub mod github; // GitHub activity per repository, linked to packages
pub mod install; // resolved install trees and what they cost
pub mod lease; // one writer per job
pub mod model; // package records and their parts
pub mod packages; // package records: stored state, writes, refresh, sets
pub mod pairs; // maps stored as [key, value] arrays
pub mod queue; // downloads: jobs, claims and their results (sources)
pub mod read; // request-path reads: package, dependents
pub mod rejects; // documents that cannot be a package
pub mod runs; // last run of each job
pub mod scan; // every package record, in windows of seq numbers
pub mod seq; // change numbers
pub mod shapes; // the query shapes a process sends (the query-shape test)
pub mod sitemap; // what sitemaps read: shown packages, their keywords and people
pub mod status; // status's report: counts, checkpoints, leases, runs
pub mod tally; // database time by command and collection (benchmarks)
pub mod testing; // TestDb for tests
pub mod trees; // file trees of unpacked versions
pub mod versions; // version records: encoding, batch writes, reads by key

pub use config::DbArgs;
pub use db::Store;
pub use error::StoreError;
