//! A deterministic synthetic npm registry: `_all_docs` dumps, `_changes` feeds and an
//! update feed in the real registry's shapes, every package a pure function of
//! (seed, index), streamed so memory does not grow with the registry.
pub mod clock; // ISO times in the registry's spellings
pub mod deps; // Zipf-distributed dependency lists and their edges
pub mod doc; // a package plan -> registry document JSON
pub mod feeds; // the pass over all packages: rows, changes, updates, counters
pub mod fields; // author, license, repository, … in their varied spellings
pub mod json; // minimal streaming JSON writer
pub mod names; // unique package names from indexes
pub mod plan; // one package's versions, times, dependencies, messy shapes
pub mod registry; // a whole registry into a directory, and its manifest
pub mod seed; // independent random streams per package and purpose
pub mod sink; // output files on their own threads, plain or gzip
pub mod words; // word lists, descriptions, READMEs
