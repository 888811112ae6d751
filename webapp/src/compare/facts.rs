//! What a comparison shows of each package, loaded by key, and which of the compared
//! packages depends on another: one answer, which the API sends as it is and the page
//! displays. Absent facts are null, never invented.

use std::collections::BTreeMap;

use nodules_npm::normalize::spec::registry_target;
use nodules_store::github::GithubRepo;
use nodules_store::install::InstallSummary;
use nodules_store::model::{Dependents, GitHostKind, PackageState, Source, VersionRecord};
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::AppError;
use crate::format::rfc3339;
use crate::state::AppState;

/// The comparison: one entry per package asked for, in that order.
#[derive(Debug, Serialize, ToSchema)]
pub struct CompareJson {
    pub packages: Vec<ComparedJson>,
    /// Each compared package whose latest version lists another compared package in its
    /// `dependencies`, `peerDependencies` or `optionalDependencies` (an `npm:` alias counts
    /// for the package it names).
    pub depends_on: Vec<DependsOnJson>,
}

/// One package's facts, of its latest version.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ComparedJson {
    pub name: String,
    /// `active`; `not_found` (not indexed); `deleted` or `unpublished` (from the registry).
    pub state: String,
    pub description: Option<String>,
    pub latest: Option<String>,
    /// When the latest version was published (RFC 3339).
    pub published: Option<String>,
    /// SPDX expression, or null when the declared license is not one (see `license_text`).
    pub license: Option<String>,
    /// The license as declared.
    pub license_text: Option<String>,
    /// The latest version's deprecation message, else null.
    pub deprecated: Option<String>,
    pub engines: BTreeMap<String, String>,
    /// Packages whose latest version lists it in dependencies, peer or optional dependencies.
    pub dependents_count: i64,
    /// Packages that list it only in devDependencies.
    pub dev_dependents_count: i64,
    /// Its own dependencies, peer and optional dependencies (names, each counted once).
    pub dependencies_count: i64,
    /// Browsable URL of its repository, when derivable.
    pub repository: Option<String>,
    /// The latest version's tarball facts (null when it was never queued).
    pub source: Option<CompareSourceJson>,
    /// What `npm install` of the latest version puts on disk (null until computed).
    pub install: Option<CompareInstallJson>,
    /// GitHub activity, once fetched (null before, and for packages not on GitHub).
    pub github: Option<CompareGithubJson>,
}

/// From the downloaded tarball.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CompareSourceJson {
    /// `pending`, `done`, `failed` or `capped`.
    pub state: String,
    /// Unpacked bytes of the package itself.
    pub unpacked_size: Option<i64>,
    pub file_count: Option<i64>,
    pub has_types: Option<bool>,
    /// `esm`, `cjs` or `dual`.
    pub module_type: Option<String>,
    /// `preinstall`, `install`, `postinstall` → command.
    pub install_scripts: BTreeMap<String, String>,
}

/// The resolved production tree of the latest version.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CompareInstallJson {
    /// Packages installed, itself included, optional ones not.
    pub packages: i64,
    /// Optional packages, counted apart.
    pub optional: i64,
    /// Their unpacked bytes (a lower bound when `size_complete` is false).
    pub size: i64,
    pub size_complete: bool,
    /// Packages whose size is not known yet.
    pub unknown_sizes: i64,
    /// Packages of the tree that run an install script.
    pub install_scripts: i64,
    /// Edges on the deepest chain from the package.
    pub depth: i64,
}

/// What GitHub said at the last refresh.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CompareGithubJson {
    pub owner: String,
    pub repo: String,
    pub stars: i64,
    /// Open issues and pull requests together, as GitHub counts them.
    pub open_issues: i64,
    pub archived: bool,
    /// Commits per week, the last 52 weeks, oldest first (null while GitHub computes them).
    pub weekly_commits: Option<Vec<i64>>,
    pub fetched_at: Option<String>,
    /// Why the repository is gone from GitHub (404, 451), else null.
    pub gone: Option<String>,
}

/// `package` lists `depends_on` in `field` with `range`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct DependsOnJson {
    pub package: String,
    pub depends_on: String,
    /// `dependencies`, `peer_dependencies` or `optional_dependencies`.
    pub field: String,
    pub range: String,
}

impl CompareJson {
    /// None of the names is a package the site knows.
    pub fn none_found(&self) -> bool {
        self.packages.iter().all(|p| p.state == "not_found")
    }
}

/// The comparison of `names` (valid, distinct): per package a few key lookups, run side by
/// side, and one query for all their dependents counts.
pub async fn compare(app: &AppState, names: &[String]) -> Result<CompareJson, AppError> {
    let mut dependents = app.store().graph().lists(names.to_vec()).await?;
    let loads = names.iter().map(|n| column(app, n, dependents.remove(n)));
    let columns = futures::future::try_join_all(loads).await?;
    let versions: Vec<(&str, Option<&VersionRecord>)> =
        columns.iter().map(|(c, v)| (c.name.as_str(), v.as_ref())).collect();
    let depends_on = depends_on(&versions);
    Ok(CompareJson { packages: columns.into_iter().map(|(c, _)| c).collect(), depends_on })
}

/// One package's column, and its latest version (for [`depends_on`]).
async fn column(
    app: &AppState,
    name: &str,
    dependents: Option<Dependents>,
) -> Result<(ComparedJson, Option<VersionRecord>), AppError> {
    let record = crate::package_data::record(app, name).await?;
    let state = match &record {
        Some(p) if p.state != PackageState::Stub => p.state.as_str(),
        _ => "not_found",
    };
    let mut c = ComparedJson::empty(name, state);
    let Some(p) = record.filter(|_| state == "active") else { return Ok((c, None)) };
    c.latest = p.latest.clone();
    let Some(v) = p.latest_version else { return Ok((c, None)) };
    let store = app.store();
    let github = v
        .repository
        .as_ref()
        .and_then(|r| r.hosted.as_ref())
        .filter(|h| h.host == GitHostKind::Github)
        .and_then(|h| Some((h.owner.clone()?, h.repo.clone())));
    let (source, repo, install) = tokio::try_join!(
        store.source(name, &v.version),
        async {
            match &github {
                Some((owner, repo)) => store.github_repo(owner, repo).await,
                None => Ok(None),
            }
        },
        store.install_summary(name, &v.version),
    )?;
    fill(&mut c, &v, dependents.as_ref(), source.as_ref(), repo.as_ref(), install.as_ref());
    Ok((c, Some(v)))
}

impl ComparedJson {
    /// A column with nothing known but the name and `state`.
    pub fn empty(name: &str, state: &str) -> ComparedJson {
        ComparedJson {
            name: name.to_string(),
            state: state.to_string(),
            description: None,
            latest: None,
            published: None,
            license: None,
            license_text: None,
            deprecated: None,
            engines: BTreeMap::new(),
            dependents_count: 0,
            dev_dependents_count: 0,
            dependencies_count: 0,
            repository: None,
            source: None,
            install: None,
            github: None,
        }
    }
}

/// The facts of an active package's latest version `v` into its column.
pub fn fill(
    c: &mut ComparedJson,
    v: &VersionRecord,
    dependents: Option<&Dependents>,
    source: Option<&Source>,
    github: Option<&GithubRepo>,
    install: Option<&InstallSummary>,
) {
    let d = &v.deps;
    let mut own: Vec<&String> =
        d.dependencies.keys().chain(d.peer_dependencies.keys()).chain(d.optional_dependencies.keys()).collect();
    own.sort();
    own.dedup();
    c.latest = Some(v.version.clone());
    c.description = v.description.clone();
    c.published = rfc3339(v.published);
    c.license = v.license.as_ref().and_then(|l| l.spdx.clone());
    c.license_text = v.license.as_ref().map(|l| l.text.clone());
    c.deprecated = v.deprecated.clone();
    c.engines = v.engines.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    c.dependents_count = dependents.map_or(0, |x| x.prod.count);
    c.dev_dependents_count = dependents.map_or(0, |x| x.dev.count);
    c.dependencies_count = own.len() as i64;
    // the normalizer only derives http(s) URLs; nothing else is ever linked
    c.repository = v
        .repository
        .as_ref()
        .and_then(|r| r.url.clone())
        .filter(|u| u.starts_with("https://") || u.starts_with("http://"));
    c.source = source.map(|s| {
        let f = s.facts.as_ref();
        CompareSourceJson {
            state: s.state.as_str().to_string(),
            unpacked_size: f.map(|f| f.unpacked_size),
            file_count: f.map(|f| f.file_count),
            has_types: f.map(|f| f.has_types),
            module_type: f.and_then(|f| f.module_type).map(|m| m.as_str().to_string()),
            install_scripts: f
                .map(|f| f.install_scripts.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
                .unwrap_or_default(),
        }
    });
    c.install = install.map(|i| CompareInstallJson {
        packages: i.packages,
        optional: i.optional,
        size: i.size,
        size_complete: i.size_complete,
        unknown_sizes: i.unknown_sizes,
        install_scripts: i.install_scripts,
        depth: i.depth,
    });
    c.github = github.filter(|g| g.fetched_at.is_some()).map(|g| {
        let f = g.facts.clone().unwrap_or_default();
        CompareGithubJson {
            owner: g.owner.clone(),
            repo: g.repo.clone(),
            stars: f.stars,
            open_issues: f.open_issues,
            archived: f.archived,
            weekly_commits: g.weekly_commits.clone(),
            fetched_at: rfc3339(g.fetched_at),
            gone: g.gone.clone(),
        }
    });
}

/// Which of the compared packages lists another one (`versions`: each package's latest
/// version, `None` when it has none): in the order compared, then by field.
pub fn depends_on(versions: &[(&str, Option<&VersionRecord>)]) -> Vec<DependsOnJson> {
    let mut out = Vec::new();
    for (name, v) in versions {
        let Some(v) = v else { continue };
        let d = &v.deps;
        let fields = [
            ("dependencies", &d.dependencies),
            ("peer_dependencies", &d.peer_dependencies),
            ("optional_dependencies", &d.optional_dependencies),
        ];
        for (field, map) in fields {
            for (key, range) in map {
                let Some(target) = registry_target(key, range) else { continue };
                if target != *name && versions.iter().any(|(other, _)| *other == target) {
                    out.push(DependsOnJson {
                        package: name.to_string(),
                        depends_on: target,
                        field: field.to_string(),
                        range: range.clone(),
                    });
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn version(deps: &[(&str, &str)], peer: &[(&str, &str)]) -> VersionRecord {
        let map = |m: &[(&str, &str)]| m.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        let mut v = VersionRecord { version: "1.0.0".into(), ..Default::default() };
        v.deps.dependencies = map(deps);
        v.deps.peer_dependencies = map(peer);
        v
    }

    #[test]
    fn who_lists_whom_aliases_included_git_and_self_not() {
        let a = version(&[("b", "^1"), ("x", "^2"), ("a", "^0")], &[]);
        let b = version(&[("c-alias", "npm:@s/c@^3"), ("c2", "github:u/c")], &[("a", ">=1")]);
        let c = version(&[], &[]);
        let found = depends_on(&[("a", Some(&a)), ("b", Some(&b)), ("@s/c", Some(&c)), ("gone", None)]);
        let pairs: Vec<(&str, &str, &str)> =
            found.iter().map(|d| (d.package.as_str(), d.depends_on.as_str(), d.field.as_str())).collect();
        assert_eq!(
            pairs,
            vec![("a", "b", "dependencies"), ("b", "@s/c", "dependencies"), ("b", "a", "peer_dependencies")]
        );
        assert_eq!(found[1].range, "npm:@s/c@^3");
        assert!(depends_on(&[("x", Some(&c)), ("y", None)]).is_empty());
    }

    #[test]
    fn facts_of_a_version_and_absent_ones_null() {
        let mut c = ComparedJson::empty("a", "active");
        let mut v = version(&[("b", "^1"), ("c", "^1")], &[("b", "^1")]);
        v.deprecated = Some("use b".into());
        fill(&mut c, &v, None, None, None, None);
        assert_eq!((c.dependencies_count, c.dependents_count), (2, 0));
        assert_eq!(c.latest.as_deref(), Some("1.0.0"));
        assert_eq!(c.deprecated.as_deref(), Some("use b"));
        assert!(c.source.is_none() && c.install.is_none() && c.github.is_none());
        let install = InstallSummary { packages: 3, size: 10, size_complete: true, ..Default::default() };
        fill(&mut c, &v, None, None, None, Some(&install));
        assert_eq!(c.install.as_ref().map(|i| (i.packages, i.size)), Some((3, 10)));
    }
}
