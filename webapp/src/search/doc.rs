//! What the search index holds about one package: built from its MongoDB records by the
//! sync, handed to the engine.

use serde::Serialize;

/// One package as indexed.
#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct SearchDoc {
    /// `react`, `@types/react`.
    pub name: String,
    pub version: Option<String>,
    pub description: Option<String>,
    /// As published (display); matched case-insensitively.
    pub keywords: Vec<String>,
    /// Author name, if any.
    pub author: Option<String>,
    /// Maintainer names.
    pub maintainers: Vec<String>,
    /// SPDX expression when the license is one (`MIT`, `(MIT OR Apache-2.0)`).
    pub license: Option<String>,
    /// Deprecation message of the latest version.
    pub deprecated: bool,
    /// From the downloaded tarball; `None` when not downloaded yet.
    pub has_types: Option<bool>,
    /// `esm`, `cjs` or `dual`, from the tarball.
    pub module_type: Option<String>,
    /// Prod dependents (popularity).
    pub dependents_count: u64,
    /// Last modification, seconds since the epoch.
    pub modified: i64,
    /// Its GitHub repository had commits in the last 12 weeks (ranks it slightly higher).
    pub active: bool,
    /// Its GitHub repository is archived (`is:archived`).
    pub archived: bool,
}
