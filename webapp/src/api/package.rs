//! `GET /api/v1/packages/{name}`: the package JSON (INTERFACE.md). Absent facts are null or
//! empty, never invented.

use std::collections::BTreeMap;

use nodules_store::model::{ManifestMismatch, Person};
use serde::Serialize;

use crate::format::rfc3339;
use utoipa::ToSchema;

use crate::error::AppError;
use crate::package_data::{Found, PackageData, load};
use crate::state::AppState;

#[derive(Debug, Serialize, ToSchema)]
pub struct PackageJson {
    pub name: String,
    pub description: Option<String>,
    pub latest: Option<String>,
    pub dist_tags: BTreeMap<String, String>,
    pub versions: Vec<VersionJson>,
    /// SPDX expression, or null when the declared license is not one (see `license_text`).
    pub license: Option<String>,
    /// The license as declared (`SEE LICENSE IN …`, `UNLICENSED`, …).
    pub license_text: Option<String>,
    pub keywords: Vec<String>,
    pub author: Option<PersonJson>,
    pub maintainers: Vec<MaintainerJson>,
    pub repository: Option<RepositoryJson>,
    pub homepage: Option<String>,
    pub bugs: Option<BugsJson>,
    pub dependencies: BTreeMap<String, String>,
    pub dev_dependencies: BTreeMap<String, String>,
    pub peer_dependencies: BTreeMap<String, String>,
    pub optional_dependencies: BTreeMap<String, String>,
    pub engines: BTreeMap<String, String>,
    pub bin: BTreeMap<String, String>,
    pub deprecated: Option<String>,
    pub dependents_count: i64,
    pub dev_dependents_count: i64,
    pub created: Option<String>,
    pub modified: Option<String>,
    pub source: Option<SourceJson>,
    /// GitHub activity of the latest version's repository, once `nodules-downloader github`
    /// fetched it (null before, and for packages not on GitHub).
    pub github: Option<GithubJson>,
    /// What `npm install` of the latest version puts on disk, once `nodules-indexer trees`
    /// resolved its dependency tree (null before).
    pub install: Option<InstallJson>,
}

/// The latest version's resolved production dependency tree, summed.
#[derive(Debug, Serialize, ToSchema)]
pub struct InstallJson {
    /// Packages installed, itself included, optional ones not.
    pub packages: i64,
    /// Their unpacked bytes (a lower bound while `size_complete` is false).
    pub size: i64,
    /// False when some of them are not downloaded yet.
    pub size_complete: bool,
    /// How many of them run an install script.
    pub install_scripts: i64,
    /// License (SPDX expression or as written) → packages.
    pub licenses: BTreeMap<String, i64>,
    /// Optional packages, not counted above.
    pub optional: i64,
    /// Levels of the deepest chain of dependencies.
    pub depth: i64,
}

/// What GitHub said about the repository at the last refresh.
#[derive(Debug, Serialize, ToSchema)]
pub struct GithubJson {
    pub owner: String,
    pub repo: String,
    pub stars: i64,
    pub forks: i64,
    /// Open issues and pull requests together, as GitHub counts them.
    pub open_issues: i64,
    pub watchers: i64,
    pub archived: bool,
    pub default_branch: Option<String>,
    pub description: Option<String>,
    pub topics: Vec<String>,
    pub pushed_at: Option<String>,
    pub latest_commit: Option<CommitJson>,
    /// Commits per week, the last 52 weeks, oldest first (null while GitHub computes them).
    pub weekly_commits: Option<Vec<i64>>,
    pub fetched_at: Option<String>,
    /// Why the last refresh failed (the data is the last good one), else null.
    pub error: Option<String>,
    /// Why the repository is gone from GitHub (404, 451), else null.
    pub gone: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CommitJson {
    pub sha: String,
    /// The first line of the message.
    pub message: String,
    pub author: Option<String>,
    pub date: Option<String>,
    pub url: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct VersionJson {
    pub version: String,
    pub published: Option<String>,
    pub deprecated: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PersonJson {
    pub name: Option<String>,
    pub email: Option<String>,
    pub url: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MaintainerJson {
    pub name: Option<String>,
    pub email: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RepositoryJson {
    pub url: Option<String>,
    pub github: Option<GithubRepoJson>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct GithubRepoJson {
    pub owner: String,
    pub repo: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BugsJson {
    pub url: Option<String>,
    pub email: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SourceJson {
    /// `pending`, `done`, `failed` or `capped`.
    pub state: String,
    pub reason: Option<String>,
    pub version: String,
    pub file_count: Option<i64>,
    pub unpacked_size: Option<i64>,
    pub has_types: Option<bool>,
    /// `esm`, `cjs` or `dual`.
    pub module_type: Option<String>,
    pub install_scripts: BTreeMap<String, String>,
    pub manifest_mismatches: Vec<MismatchJson>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MismatchJson {
    pub field: String,
    pub registry: Option<String>,
    pub tarball: Option<String>,
}

fn person(p: &Person) -> PersonJson {
    PersonJson { name: p.name.clone(), email: p.email.clone(), url: p.url.clone() }
}

fn mismatch(m: &ManifestMismatch) -> MismatchJson {
    MismatchJson { field: m.field.clone(), registry: m.registry.clone(), tarball: m.tarball.clone() }
}

/// The package JSON of `name` (its latest version), or why not.
#[utoipa::path(
    get,
    path = crate::routes::API_PACKAGE,
    params(("name" = String, Path, min_length = 1, max_length = 214, pattern = r"^(?:@[^\s/@]+/)?[^\s/@._][^\s/@]*$", description = "Package name; scoped as `@scope/name` (the `/` may be sent as `%2F`)")),
    responses(
        (status = 200, description = "The package", body = PackageJson),
        (status = 404, description = "Unknown package", body = crate::error::ErrorBody),
        (status = 410, description = "Deleted or unpublished", body = crate::error::ErrorBody),
    )
)]
pub async fn get_package(app: &AppState, name: &str) -> Result<PackageJson, AppError> {
    match load(app, name, None).await? {
        Found::Published(d) => Ok(package_json(&d)),
        Found::Gone(p) => Err(AppError::Gone { name: p.name.clone(), state: p.state.as_str() }),
    }
}

pub fn package_json(d: &PackageData) -> PackageJson {
    let p = &d.package;
    let v = &d.version;
    let map = |m: &nodules_store::model::StringMap| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    PackageJson {
        name: p.name.clone(),
        description: v.description.clone(),
        latest: p.latest.clone(),
        dist_tags: map(&p.dist_tags),
        versions: p
            .versions
            .iter()
            .map(|s| VersionJson {
                version: s.version.clone(),
                published: rfc3339(s.published),
                deprecated: s.deprecated.clone(),
            })
            .collect(),
        license: v.license.as_ref().and_then(|l| l.spdx.clone()),
        license_text: v.license.as_ref().map(|l| l.text.clone()),
        keywords: v.keywords.clone(),
        author: v.author.as_ref().map(person),
        maintainers: p
            .maintainers
            .iter()
            .map(|m| MaintainerJson { name: m.name.clone(), email: m.email.clone() })
            .collect(),
        repository: v.repository.as_ref().map(|r| RepositoryJson {
            url: r.url.clone(),
            github: r
                .hosted
                .as_ref()
                .filter(|h| h.host == nodules_store::model::GitHostKind::Github)
                .and_then(|h| Some(GithubRepoJson { owner: h.owner.clone()?, repo: h.repo.clone() })),
        }),
        homepage: v.homepage.clone(),
        bugs: v.bugs.as_ref().map(|b| BugsJson { url: b.url.clone(), email: b.email.clone() }),
        dependencies: map(&v.deps.dependencies),
        dev_dependencies: map(&v.deps.dev_dependencies),
        peer_dependencies: map(&v.deps.peer_dependencies),
        optional_dependencies: map(&v.deps.optional_dependencies),
        engines: map(&v.engines),
        bin: map(&v.bin),
        deprecated: v.deprecated.clone(),
        dependents_count: d.dependents.as_ref().map_or(0, |x| x.prod.count),
        dev_dependents_count: d.dependents.as_ref().map_or(0, |x| x.dev.count),
        created: rfc3339(p.created),
        modified: rfc3339(p.modified),
        source: d.source.as_ref().map(|s| {
            let f = s.facts.as_ref();
            SourceJson {
                state: s.state.as_str().to_string(),
                reason: s.reason.clone(),
                version: s.version.clone(),
                file_count: f.map(|f| f.file_count),
                unpacked_size: f.map(|f| f.unpacked_size),
                has_types: f.map(|f| f.has_types),
                module_type: f.and_then(|f| f.module_type).map(|m| m.as_str().to_string()),
                install_scripts: f.map(|f| map(&f.install_scripts)).unwrap_or_default(),
                manifest_mismatches: f
                    .map(|f| f.manifest_mismatches.iter().map(mismatch).collect())
                    .unwrap_or_default(),
            }
        }),
        github: d.github.as_ref().filter(|g| g.fetched_at.is_some()).map(github),
        install: d.install.as_ref().map(|s| InstallJson {
            packages: s.packages,
            size: s.size,
            size_complete: s.size_complete,
            install_scripts: s.install_scripts,
            licenses: s.licenses.clone().into_iter().collect(),
            optional: s.optional,
            depth: s.depth,
        }),
    }
}

fn github(g: &nodules_store::github::GithubRepo) -> GithubJson {
    let f = g.facts.clone().unwrap_or_default();
    GithubJson {
        owner: g.owner.clone(),
        repo: g.repo.clone(),
        stars: f.stars,
        forks: f.forks,
        open_issues: f.open_issues,
        watchers: f.watchers,
        archived: f.archived,
        default_branch: f.default_branch,
        description: f.description,
        topics: f.topics,
        pushed_at: rfc3339(f.pushed_at),
        latest_commit: g.latest_commit.as_ref().map(|c| CommitJson {
            sha: c.sha.clone(),
            message: c.message.clone(),
            author: c.author.clone(),
            date: rfc3339(c.date),
            url: c.url.clone(),
        }),
        weekly_commits: g.weekly_commits.clone(),
        fetched_at: rfc3339(g.fetched_at),
        error: g.error.clone(),
        gone: g.gone.clone(),
    }
}
