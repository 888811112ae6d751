//! Packages side by side: which packages a compare URL names, and what the comparison shows
//! of each. The page (`pages::compare`) and the API (`api::compare`) share both.
pub mod facts; // each package's facts, loaded by key; who depends on whom
pub mod names; // 2 to 4 names, comma separated: parsing, the documented pattern, the canonical path

pub use facts::{CompareJson, ComparedJson, DependsOnJson, compare};
pub use names::{NamesError, page_path, parse};
