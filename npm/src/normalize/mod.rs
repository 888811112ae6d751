//! Registry document ("packument") → [`nodules_store::model::Package`], pure.
//!
//! Real documents are messy: each field goes through a function that accepts every shape
//! the registry holds, turns wrong-typed values into absent ones with a warning, and caps
//! sizes. Only a document that cannot name a package is rejected.

pub mod document; // whole document -> Package + changed versions
pub mod fields; // strings, keywords, maps, dependencies, bin, engines
pub mod hosted; // hosted-git-info port: git URLs -> host/owner/project
pub mod license; // license / licenses -> text + SPDX validity
pub mod limits; // size caps
pub mod links; // bugs, homepage, funding
pub mod person; // author, maintainers, contributors
pub mod raw; // objects as (key, raw value) pairs
pub mod repository; // repository field
pub mod spec; // dependency spec -> registry package (dependents edges)
pub mod version; // one version -> VersionRecord
pub mod warnings; // collected field-shape warnings

pub use document::{DocError, KnownVersions, NORMALIZER_VERSION, Normalized, normalize_document};
pub use warnings::Warnings;
