//! Fetches, verifies and unpacks each package's latest tarball into MongoDB, and reads the
//! facts only the tarball knows.
pub mod cli; // command line
pub mod extract; // the unpacker off the runtime: tree, manifest, blobs streamed
pub mod facts; // package.json + file list -> SourceFacts, manifest confusion
pub mod fetch; // downloading tarballs: origin policy, size cap, memory budget
pub mod github; // GitHub activity: discovery, refresh, rate limits
pub mod integrity; // dist.integrity / dist.shasum
pub mod origin; // where tarballs may come from
pub mod run; // run: the worker pool and the summary line
pub mod unpack; // safe in-memory extraction: caps, path rules, links recorded
pub mod worker; // one job: claim, fetch, verify, unpack, commit
