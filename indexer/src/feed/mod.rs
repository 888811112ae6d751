//! Streaming readers of CouchDB output: an `_all_docs?include_docs=true` dump or a
//! `_changes` feed (NDJSON or CouchDB's "normal" JSON), plain or gzip, of any size.
//!
//! CouchDB writes one row per line. Rows are read line by line with a length cap, so
//! memory does not grow with the input, and a row that does not parse is rejected with
//! its line number while the run goes on with the next one.

pub mod lines; // capped line reader
pub mod open; // path / stdin, gzip detection
pub mod rows; // one line -> Incoming

pub use rows::{RowParser, parse_row};
