//! Registry document ("packument") → [`nodules_store::model::Package`], pure.
//!
//! Real documents are messy: each field goes through a function that accepts every shape
//! the registry holds, turns wrong-typed values into absent ones with a warning, and caps
//! sizes. Only a document that cannot name a package is rejected.

pub mod fields;    // strings, keywords, maps, dependencies, bin, engines
pub mod hosted;    // hosted-git-info port: git URLs → host/owner/project
pub mod license;   // license / licenses → text + SPDX validity
pub mod limits;    // size caps
pub mod links;     // bugs, homepage, funding
pub mod person;    // author, maintainers, contributors
pub mod repository; // repository field
pub mod warnings;  // collected field-shape warnings

pub use warnings::Warnings;
