//! End-to-end test harness: the real binaries, a real MongoDB-protocol server (the
//! `MONGODB_URI` that `make test` provides), and a fake registry served over real HTTP.

pub mod bins; // running nodules-* binaries
pub mod dumps; // writing _all_docs dumps and _changes feeds for tests
pub mod feed; // FakeFeed: a CouchDB _changes endpoint
pub mod github; // a fake GitHub's answers, from GitHub's recorded ones
pub mod npm_pack; // npm packages fetched with npm itself, read without unpacking
pub mod registry; // FakeRegistry: scripted HTTP answers, request log
pub mod sample; // the sample site: packages of every kind, indexed, downloaded, ranked
pub mod sse; // a Server-Sent Events client (the live stream)
pub mod tarballs; // npm tarballs and the documents pointing at them
pub mod web; // a running nodules-webapp

pub use bins::{Run, run_bin, spawn_bin};
pub use registry::{FakeRegistry, Reply};

/// Path of a fixture file under `tests/fixtures/`.
pub fn fixture(path: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures").join(path)
}
