//! The package record and its parts, as stored in MongoDB and read by every service.
//!
//! Maps whose keys come from registry documents (dependencies, scripts, bin, …) are
//! stored as arrays of `[key, value]` pairs (see [`crate::pairs`]): a hostile key such as
//! `$where` or `a.b` is data, never a field path.

use std::collections::BTreeMap;

use mongodb::bson::DateTime;
use serde::{Deserialize, Serialize};

/// Map of names to version ranges, commands or paths, in key order.
pub type StringMap = BTreeMap<String, String>;

/// Where a package stands on the site.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum PackageState {
    /// Published and shown.
    #[default]
    Active,
    /// Every version unpublished: pages answer 410 with what is known.
    Unpublished,
    /// Deleted from the registry (a `deleted` change, or a 404): pages answer 410.
    Deleted,
    /// Known only by name (a change without a document, or a dependency not fetched yet).
    Stub,
}

impl PackageState {
    pub fn as_str(self) -> &'static str {
        match self {
            PackageState::Active => "active",
            PackageState::Unpublished => "unpublished",
            PackageState::Deleted => "deleted",
            PackageState::Stub => "stub",
        }
    }
}

/// A person as npm writes one: `author`, `maintainers`, `contributors`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Person {
    pub name: Option<String>,
    pub email: Option<String>,
    pub url: Option<String>,
}

/// The git host a repository URL points at, as hosted-git-info recognizes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GitHostKind {
    Github,
    Gitlab,
    Bitbucket,
    Gist,
    Sourcehut,
}

impl GitHostKind {
    pub fn as_str(self) -> &'static str {
        match self {
            GitHostKind::Github => "github",
            GitHostKind::Gitlab => "gitlab",
            GitHostKind::Bitbucket => "bitbucket",
            GitHostKind::Gist => "gist",
            GitHostKind::Sourcehut => "sourcehut",
        }
    }
}

/// A repository on a known git host.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostedRepo {
    pub host: GitHostKind,
    /// The user or organization (`null` for an anonymous gist).
    pub owner: Option<String>,
    /// The project (repository) name, without `.git`.
    pub repo: String,
    /// `#branch` / `#semver:…` after the URL, when given.
    pub committish: Option<String>,
}

/// The `repository` field, normalized.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Repository {
    /// `type`, usually `git`.
    pub kind: Option<String>,
    /// The URL as the document gave it (a string, or the object's `url`), without any
    /// credentials it carried.
    pub raw: String,
    /// What normalize-package-data stores as `repository.url`
    /// (`git+https://github.com/u/r.git` for a hosted repository, else `raw`).
    pub normalized: String,
    /// A browsable https URL, when one can be derived (`https://github.com/u/r`).
    pub url: Option<String>,
    /// Host, owner and project when the URL is on a known git host.
    pub hosted: Option<HostedRepo>,
    /// The package's folder inside a monorepo (`directory`).
    pub directory: Option<String>,
}

/// The `bugs` field, normalized as npm does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Bugs {
    pub url: Option<String>,
    pub email: Option<String>,
}

/// The license a version declares.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct License {
    /// The declared license as text: an SPDX expression, `UNLICENSED`,
    /// `SEE LICENSE IN …`, or whatever else the document says. Objects and the legacy
    /// `licenses` array are turned into text (`{type: "MIT"}` → `MIT`, two entries →
    /// `(MIT OR Apache-2.0)`).
    pub text: String,
    /// `text` when it is a valid SPDX expression (as spdx-expression-parse accepts it,
    /// without LicenseRef), else `None`.
    pub spdx: Option<String>,
}

/// One funding link (`funding` may be a string, an object or an array of either).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Funding {
    pub kind: Option<String>,
    pub url: String,
}

/// A version's `dist`: where its tarball is and how to check it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Dist {
    pub tarball: Option<String>,
    /// Subresource integrity string (`sha512-…`).
    pub integrity: Option<String>,
    /// Hex sha1 of the tarball.
    pub shasum: Option<String>,
    pub file_count: Option<i64>,
    pub unpacked_size: Option<i64>,
}

/// The four dependency maps of a version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Dependencies {
    #[serde(with = "crate::pairs")]
    pub dependencies: StringMap,
    #[serde(with = "crate::pairs")]
    pub dev_dependencies: StringMap,
    #[serde(with = "crate::pairs")]
    pub peer_dependencies: StringMap,
    #[serde(with = "crate::pairs")]
    pub optional_dependencies: StringMap,
    /// Peers marked `optional` in `peerDependenciesMeta`: npm does not install them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub optional_peers: Vec<String>,
}

/// Everything known about one version from the registry document: enough for a
/// `/v/{version}` page without the original document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct VersionRecord {
    pub version: String,
    pub published: Option<DateTime>,
    /// Deprecation message (npm's `deprecated`), `None` when not deprecated.
    pub deprecated: Option<String>,
    pub prerelease: bool,
    pub description: Option<String>,
    pub license: Option<License>,
    pub keywords: Vec<String>,
    pub author: Option<Person>,
    pub maintainers: Vec<Person>,
    pub contributors: Vec<Person>,
    pub repository: Option<Repository>,
    pub homepage: Option<String>,
    pub bugs: Option<Bugs>,
    pub funding: Vec<Funding>,
    #[serde(with = "crate::pairs")]
    pub engines: StringMap,
    #[serde(with = "crate::pairs")]
    pub bin: StringMap,
    pub os: Vec<String>,
    pub cpu: Vec<String>,
    #[serde(with = "crate::pairs")]
    pub scripts: StringMap,
    pub deps: Dependencies,
    /// `type` (`module` or `commonjs`), `main` and `types`/`typings` as declared.
    pub module_type: Option<String>,
    pub main: Option<String>,
    pub types: Option<String>,
    /// The registry's `hasInstallScript` flag, when present.
    pub has_install_script: Option<bool>,
    /// Who published it (`_npmUser`).
    pub publisher: Option<Person>,
    pub dist: Dist,
}

/// One line of a package's version list, kept on the package record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VersionSummary {
    #[serde(rename = "v")]
    pub version: String,
    #[serde(rename = "t")]
    pub published: Option<DateTime>,
    /// Deprecation message, shortened for the list.
    #[serde(rename = "d")]
    pub deprecated: Option<String>,
    #[serde(rename = "p", default)]
    pub prerelease: bool,
    /// Hash of the version's raw JSON: a version whose hash is unchanged is not rewritten.
    #[serde(rename = "h")]
    pub hash: String,
}

/// What is known of an unpublished package.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Unpublished {
    pub time: Option<DateTime>,
    /// Versions that existed before, when the document says.
    pub versions: Vec<String>,
}

/// Packages that the latest version depends on, by kind, as dependents edges are
/// computed (see INTERFACE.md): kept so that the next change can remove exactly the
/// edges it no longer has.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct DepTargets {
    pub prod: Vec<String>,
    pub dev: Vec<String>,
}

/// A package record, `packages` collection, `_id` = name. Fields missing from a stored
/// record (a stub known only by name) read as their defaults.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct Package {
    #[serde(rename = "_id")]
    pub name: String,
    pub state: PackageState,
    /// `dist-tags.latest` when it names an existing version, else the highest stable semver.
    pub latest: Option<String>,
    #[serde(with = "crate::pairs")]
    pub dist_tags: StringMap,
    /// The latest version's facts, so a module page is one read.
    pub latest_version: Option<VersionRecord>,
    /// Current maintainers: the document's top-level list when present, else the latest version's.
    pub maintainers: Vec<Person>,
    /// Every version, highest semver first.
    pub versions: Vec<VersionSummary>,
    pub version_count: i64,
    pub created: Option<DateTime>,
    pub modified: Option<DateTime>,
    pub unpublished: Option<Unpublished>,
    pub dep_targets: DepTargets,
    /// Field-shape warnings seen while normalizing (`author: not a string or object`).
    pub warnings: Vec<String>,
}

impl Package {
    /// The latest version's record, when there is one.
    pub fn latest(&self) -> Option<&VersionRecord> {
        self.latest_version.as_ref()
    }
}

/// Fields written alongside a [`Package`] by the indexer, never part of the normalized
/// content: revision, bookkeeping and the `seq` number.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct SourceMeta {
    /// The document's `_rev`, or `sha256:<hex>` of its bytes when the registry sends none.
    pub rev: Option<String>,
    /// Normalizer version that produced the record.
    pub normalizer: u32,
    /// When the registry was last asked about (or a dump last mentioned) this package.
    pub checked_at: Option<DateTime>,
    /// Set by a change without a document: `fetch --stale` re-fetches it.
    pub stale: bool,
    /// Validators for conditional requests.
    pub etag: Option<String>,
    pub last_modified: Option<String>,
}

/// Dependents are listed in pages of this many, in precomputed page documents.
pub const DEPENDENTS_PAGE_SIZE: usize = 50;
/// Entries of the "top dependents" list kept for the module page.
pub const DEPENDENTS_TOP: usize = 10;

/// The two kinds of dependents.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum DepKind {
    /// Lists the target in `dependencies`, `peerDependencies` or `optionalDependencies`.
    Prod,
    /// Lists the target in `devDependencies` only.
    Dev,
}

impl DepKind {
    pub const ALL: [DepKind; 2] = [DepKind::Prod, DepKind::Dev];

    pub fn as_str(self) -> &'static str {
        match self {
            DepKind::Prod => "prod",
            DepKind::Dev => "dev",
        }
    }

    pub fn parse(s: &str) -> Option<DepKind> {
        s.parse().ok()
    }
}

impl std::str::FromStr for DepKind {
    type Err = UnknownName;

    fn from_str(s: &str) -> Result<DepKind, UnknownName> {
        DepKind::ALL.into_iter().find(|k| k.as_str() == s).ok_or(UnknownName)
    }
}

/// One dependent as listed: name, its latest version and its own prod dependents count
/// (its popularity), as of the last rerank (or when it was appended).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DependentItem {
    #[serde(rename = "n")]
    pub name: String,
    #[serde(rename = "v")]
    pub version: Option<String>,
    #[serde(rename = "c")]
    pub dependents_count: i64,
}

/// One kind's list of a target: exact count and its page layout.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct DependentsList {
    /// Exact number of dependents of this kind.
    pub count: i64,
    /// Number of page documents (pages may hold fewer than a full page between reranks).
    pub pages: i64,
    /// Items on the last page.
    pub last_len: i64,
}

/// Dependents of one package (`dependents` collection, `_id` = the package depended upon,
/// which need not be indexed itself).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct Dependents {
    #[serde(rename = "_id")]
    pub name: String,
    pub prod: DependentsList,
    pub dev: DependentsList,
    /// The most popular prod dependents, for the module page.
    pub top: Vec<DependentItem>,
    /// When the lists were last put in exact popularity order.
    pub ranked_at: Option<DateTime>,
    /// Members were added, or their popularity changed, since `ranked_at`.
    pub dirty: bool,
}

impl Dependents {
    pub fn list(&self, kind: DepKind) -> &DependentsList {
        match kind {
            DepKind::Prod => &self.prod,
            DepKind::Dev => &self.dev,
        }
    }
}

/// One page of a dependents list (`dependent_pages`, `_id` from [`dependents_page_id`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct DependentsPage {
    pub target: String,
    pub kind: Option<DepKind>,
    /// From 1.
    pub page: i64,
    pub items: Vec<DependentItem>,
}

/// `_id` of page `page` (from 1) of `target`'s `kind` list: one key lookup per page read.
pub fn dependents_page_id(target: &str, kind: DepKind, page: i64) -> String {
    format!("{target}\u{0}{}\u{0}{page:08}", kind.as_str())
}

/// What became of a version's tarball.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum SourceState {
    /// Not downloaded yet (queued).
    #[default]
    Pending,
    /// Unpacked and stored.
    Done,
    /// Could not be stored: `reason` says why (404, integrity mismatch, not a tarball, …).
    Failed,
    /// Over a size cap: what was kept is stored, `reason` says which cap.
    Capped,
}

impl SourceState {
    pub const ALL: [SourceState; 4] =
        [SourceState::Pending, SourceState::Done, SourceState::Failed, SourceState::Capped];

    /// As stored and as the site and the API show it: `pending`, `done`, `failed`, `capped`.
    pub fn as_str(self) -> &'static str {
        match self {
            SourceState::Pending => "pending",
            SourceState::Done => "done",
            SourceState::Failed => "failed",
            SourceState::Capped => "capped",
        }
    }
}

impl std::str::FromStr for SourceState {
    type Err = UnknownName;

    fn from_str(s: &str) -> Result<SourceState, UnknownName> {
        SourceState::ALL.into_iter().find(|v| v.as_str() == s).ok_or(UnknownName)
    }
}

/// The module system a package offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ModuleType {
    Esm,
    Cjs,
    Dual,
}

impl ModuleType {
    pub const ALL: [ModuleType; 3] = [ModuleType::Esm, ModuleType::Cjs, ModuleType::Dual];

    /// As stored, searched (`module:esm`) and shown: `esm`, `cjs`, `dual`.
    pub fn as_str(self) -> &'static str {
        match self {
            ModuleType::Esm => "esm",
            ModuleType::Cjs => "cjs",
            ModuleType::Dual => "dual",
        }
    }
}

impl std::str::FromStr for ModuleType {
    type Err = UnknownName;

    fn from_str(s: &str) -> Result<ModuleType, UnknownName> {
        ModuleType::ALL.into_iter().find(|v| v.as_str() == s).ok_or(UnknownName)
    }
}

/// A string that names none of an enum's values (`FromStr` of the model's enums).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("not one of the known values")]
pub struct UnknownName;

/// A field on which the registry document and the tarball's own `package.json` disagree
/// (manifest confusion: what users install is the tarball's).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestMismatch {
    /// `dependencies`, `scripts.postinstall`, `bin`, `name`, `version`, …
    pub field: String,
    /// What the registry document says (JSON text, or null when absent).
    pub registry: Option<String>,
    /// What the tarball says.
    pub tarball: Option<String>,
}

/// Facts only the tarball knows, per version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct SourceFacts {
    pub file_count: i64,
    pub unpacked_size: i64,
    pub has_types: bool,
    pub module_type: Option<ModuleType>,
    /// `preinstall`, `install`, `postinstall` (and an implicit `node-gyp rebuild`).
    #[serde(with = "crate::pairs")]
    pub install_scripts: StringMap,
    /// The tarball manifest's own fields (what users install).
    pub deps: Dependencies,
    #[serde(with = "crate::pairs")]
    pub bin: StringMap,
    #[serde(with = "crate::pairs")]
    pub engines: StringMap,
    pub os: Vec<String>,
    pub cpu: Vec<String>,
    pub funding: Vec<Funding>,
    /// Bytes per language (by file extension), largest first.
    pub languages: Vec<(String, i64)>,
    /// Path and blob of the README (Markdown preferred) and of the LICENSE file.
    pub readme: Option<FileRef>,
    pub license_file: Option<FileRef>,
    pub manifest_mismatches: Vec<ManifestMismatch>,
    /// Paths that appeared more than once (the last one wins, as npm does).
    pub duplicates: Vec<String>,
}

/// A stored file: its path and the blob holding its bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileRef {
    pub path: String,
    pub blob: String,
    pub size: i64,
}

/// The downloaded result of one version (`sources` collection, `_id` = `name@version`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct Source {
    #[serde(rename = "_id")]
    pub id: String,
    pub package: String,
    pub version: String,
    pub state: SourceState,
    /// Why it failed or was capped.
    pub reason: Option<String>,
    pub facts: Option<SourceFacts>,
    /// Number of file-tree page documents (`trees`).
    pub tree_pages: i64,
    /// The first path of each tree page, to find a path's page without a query.
    pub tree_firsts: Vec<String>,
    /// Which write of the tree the pages belong to (random per write; absent for trees
    /// written before generations): a redo writes new pages beside the old ones, and the
    /// old ones, with their blob references, go once the new result is committed.
    pub tree_gen: Option<i64>,
    /// Version of the extractor that produced it: older results are redone.
    pub extractor: u32,
    pub finished_at: Option<DateTime>,
    /// Queue priority (`queue::ON_DEMAND_PRIORITY` once a visitor asked for it).
    pub priority: i64,
}

/// Kind of an entry of a version's file tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntryKind {
    File,
    Symlink,
    Hardlink,
}

/// One entry of a file tree.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TreeEntry {
    #[serde(rename = "p")]
    pub path: String,
    #[serde(rename = "s")]
    pub size: i64,
    #[serde(rename = "m")]
    pub mode: u32,
    #[serde(rename = "k")]
    pub kind: EntryKind,
    /// Blob id (sha256 hex) of the content; `None` above the stored-file cap or for links.
    #[serde(rename = "b")]
    pub blob: Option<String>,
    /// sha256 of the content even when the content is not stored.
    #[serde(rename = "h")]
    pub sha256: Option<String>,
    /// A link's target, recorded, never followed.
    #[serde(rename = "t")]
    pub link_target: Option<String>,
    /// The language by the file's name (`nodules_npm::files`), when known.
    #[serde(rename = "g", default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    /// Lines and longest line (bytes) of a stored text file; `None` for binary content, links
    /// and files not stored. Computed once at extraction, so pages never read blobs for them.
    #[serde(rename = "l", default, skip_serializing_if = "Option::is_none")]
    pub lines: Option<i64>,
    #[serde(rename = "w", default, skip_serializing_if = "Option::is_none")]
    pub longest_line: Option<i64>,
    /// The stored content is not UTF-8 text (or holds NUL bytes).
    #[serde(rename = "x", default, skip_serializing_if = "std::ops::Not::not")]
    pub binary: bool,
}

/// Entries per file-tree page document.
pub const TREE_PAGE_SIZE: usize = 1000;

/// The strings of an array field of a stored document (none when absent; other values skipped).
pub fn string_array(d: &mongodb::bson::Document, key: &str) -> Vec<String> {
    d.get_array(key).map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_string)).collect()).unwrap_or_default()
}

/// An integer field of a stored document, however its writer encoded it (Int32 or Int64).
pub fn int_field(d: &mongodb::bson::Document, key: &str) -> Option<i64> {
    match d.get(key) {
        Some(mongodb::bson::Bson::Int64(n)) => Some(*n),
        Some(mongodb::bson::Bson::Int32(n)) => Some(i64::from(*n)),
        _ => None,
    }
}
