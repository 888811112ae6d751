//! The module page's data: everything a developer needs to judge a package, computed here
//! so the template only displays.

use std::collections::HashSet;

use nodules_store::model::{
    DepKind, DependentItem, Dependents, ManifestMismatch, ModuleType, Package, Person, Source, VersionRecord,
};
use serde::Serialize;

use crate::package_data::PackageData;

#[derive(Debug, Serialize)]
pub struct PackagePage {
    pub name: String,
    pub version: String,
    pub latest: Option<String>,
    pub is_latest: bool,
    pub title: String,
    pub meta_description: String,
    pub canonical: String,
    pub description: Option<String>,
    pub published: Option<String>,
    pub dist_tags: Vec<(String, String)>,
    pub license: Option<String>,
    pub license_is_spdx: bool,
    /// `npm i …`, `pnpm add …`, `yarn add …`, `bun add …`, pinned on a version's page.
    pub install_commands: Vec<InstallCommand>,
    /// Markdown of the version badge linking here, for a README.
    pub badge_markdown: String,
    pub repository: Option<Link>,
    pub homepage: Option<String>,
    pub bugs_url: Option<String>,
    pub bugs_email: Option<String>,
    pub keywords: Vec<String>,
    pub author: Option<Person>,
    pub maintainers: Vec<Person>,
    pub created: Option<String>,
    pub modified: Option<String>,
    pub deprecated: Option<String>,
    pub engines: Vec<(String, String)>,
    pub bin: Vec<(String, String)>,
    pub source: SourceView,
    pub deps: Vec<DepGroup>,
    pub dependents: DependentsView,
    /// Dist-tags, then one line per release line (the full history is its own page).
    pub versions: super::versions::Glance,
    /// The version published before the one shown (for "changes since").
    pub previous: Option<String>,
    /// Install scripts and dependencies the previous version did not have (set by the
    /// handler, which reads the previous version's record).
    pub added: Option<super::version_notes::Added>,
    /// `@types/…` when the version ships no types and that package is indexed (set by the
    /// handler, which asks with the dependencies).
    pub types_package: Option<String>,
    /// Why the README and facts are missing: this version is not downloaded yet.
    pub files_note: Option<String>,
    pub version_count: usize,
    pub readme_html: Option<String>,
    pub readme_note: Option<String>,
    pub github: super::github::GithubView,
    /// What installing it costs (its resolved tree), once computed.
    pub install_cost: Option<super::tree::InstallView>,
}

#[derive(Debug, Serialize)]
pub struct InstallCommand {
    pub tool: &'static str,
    pub command: String,
}

#[derive(Debug, Serialize)]
pub struct Link {
    pub url: String,
    pub label: String,
}

#[derive(Debug, Serialize, Default)]
pub struct SourceView {
    /// `pending`, `done`, `failed`, `capped`.
    pub state: &'static str,
    pub reason: Option<String>,
    pub has_types: bool,
    pub module_type: Option<&'static str>,
    pub file_count: Option<i64>,
    pub unpacked_size: Option<i64>,
    pub install_scripts: Vec<(String, String)>,
    pub mismatches: Vec<ManifestMismatch>,
    pub languages: Vec<(String, i64)>,
}

#[derive(Debug, Serialize)]
pub struct DepGroup {
    pub title: &'static str,
    pub items: Vec<DepItem>,
}

#[derive(Debug, Serialize)]
pub struct DepItem {
    pub name: String,
    pub range: String,
    pub indexed: bool,
}

#[derive(Debug, Serialize, Default)]
pub struct DependentsView {
    pub prod: i64,
    pub dev: i64,
    pub top: Vec<DependentItem>,
    pub ranked_at: Option<String>,
}

impl PackagePage {
    /// `indexed`: which dependencies are indexed packages; `readme`: rendered HTML or a note.
    pub fn build(
        d: &PackageData,
        base_url: &str,
        indexed: &HashSet<String>,
        readme: (Option<String>, Option<String>),
    ) -> PackagePage {
        let p: &Package = &d.package;
        let v: &VersionRecord = &d.version;
        let name = p.name.clone();
        // the sitemaps list the same URL
        let canonical = nodules_sitemaps::urls::package(base_url, &name);
        let canonical = if d.is_latest { canonical } else { format!("{canonical}/v/{}", v.version) };
        let badge_markdown = format!("[![npm]({base_url}/badge/{name}/version.svg)]({base_url}/package/{name})");
        let spec = if d.is_latest { name.clone() } else { format!("{name}@{}", v.version) };
        let install_commands = [("npm", "i"), ("pnpm", "add"), ("yarn", "add"), ("bun", "add")]
            .into_iter()
            .map(|(tool, verb)| InstallCommand { tool, command: format!("{tool} {verb} {spec}") })
            .collect();
        let description = v.description.clone();
        let meta_description = description.clone().unwrap_or_else(|| format!("{name} on Nodules"));
        let versions = super::versions::glance(p, &v.version);
        PackagePage {
            title: if d.is_latest {
                format!("{name} – Nodules")
            } else {
                format!("{name}@{} – Nodules", v.version)
            },
            meta_description: crate::format::clip(&meta_description, 300),
            canonical,
            description,
            published: v.published.and_then(|t| t.try_to_rfc3339_string().ok()),
            dist_tags: p.dist_tags.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
            license: v.license.as_ref().map(|l| l.text.clone()),
            license_is_spdx: v.license.as_ref().is_some_and(|l| l.spdx.is_some()),
            install_commands,
            badge_markdown,
            repository: v.repository.as_ref().and_then(|r| {
                // the normalizer only derives http(s) URLs; a page never links anything else
                let url = r.url.clone().filter(|u| u.starts_with("https://") || u.starts_with("http://"))?;
                let label = url.trim_start_matches("https://").trim_start_matches("http://").to_string();
                Some(Link { url, label })
            }),
            homepage: v.homepage.clone().filter(|h| h.starts_with("https://") || h.starts_with("http://")),
            bugs_url: v
                .bugs
                .as_ref()
                .and_then(|b| b.url.clone())
                .filter(|u| u.starts_with("https://") || u.starts_with("http://")),
            bugs_email: v.bugs.as_ref().and_then(|b| b.email.clone()),
            keywords: v.keywords.clone(),
            author: v.author.clone(),
            maintainers: p.maintainers.clone(),
            created: p.created.and_then(|t| t.try_to_rfc3339_string().ok()),
            modified: p.modified.and_then(|t| t.try_to_rfc3339_string().ok()),
            deprecated: v.deprecated.clone(),
            engines: v.engines.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
            bin: v.bin.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
            source: source_view(d.source.as_ref()),
            deps: dep_groups(v, indexed),
            dependents: dependents_view(d.dependents.as_ref()),
            version_count: p.versions.len(),
            previous: previous_version(p, &v.version),
            added: None,
            types_package: None,
            files_note: d.not_downloaded().then(|| d.not_downloaded_note().to_string()),
            versions,
            readme_html: readme.0,
            readme_note: readme.1,
            github: super::github::view(d),
            install_cost: d.install.as_ref().map(super::tree::InstallView::new),
            latest: p.latest.clone(),
            is_latest: d.is_latest,
            version: v.version.clone(),
            name,
        }
    }
}

/// The version before `version` (the package's list is highest semver first).
pub fn previous_version(p: &Package, version: &str) -> Option<String> {
    let i = p.versions.iter().position(|s| s.version == version)?;
    p.versions.get(i + 1).map(|s| s.version.clone())
}

pub fn source_view(s: Option<&Source>) -> SourceView {
    let Some(s) = s else { return SourceView { state: "pending", ..Default::default() } };
    let mut view = SourceView { state: s.state.as_str(), reason: s.reason.clone(), ..Default::default() };
    if let Some(f) = &s.facts {
        view.has_types = f.has_types;
        view.module_type = f.module_type.map(ModuleType::as_str);
        view.file_count = Some(f.file_count);
        view.unpacked_size = Some(f.unpacked_size);
        view.install_scripts = f.install_scripts.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        view.mismatches = f.manifest_mismatches.clone();
        view.languages = f.languages.iter().take(5).cloned().collect();
    }
    view
}

fn dep_groups(v: &VersionRecord, indexed: &HashSet<String>) -> Vec<DepGroup> {
    let group = |title, map: &nodules_store::model::StringMap| DepGroup {
        title,
        items: map
            .iter()
            .map(|(n, r)| DepItem { name: n.clone(), range: r.clone(), indexed: indexed.contains(n) })
            .collect(),
    };
    vec![
        group("Dependencies", &v.deps.dependencies),
        group("Peer dependencies", &v.deps.peer_dependencies),
        group("Optional dependencies", &v.deps.optional_dependencies),
        group("Dev dependencies", &v.deps.dev_dependencies),
    ]
    .into_iter()
    .filter(|g| !g.items.is_empty())
    .collect()
}

/// Every dependency name of a version (to ask which are indexed).
pub fn dependency_names(v: &VersionRecord) -> Vec<String> {
    let d = &v.deps;
    d.dependencies
        .keys()
        .chain(d.peer_dependencies.keys())
        .chain(d.optional_dependencies.keys())
        .chain(d.dev_dependencies.keys())
        .cloned()
        .collect()
}

fn dependents_view(d: Option<&Dependents>) -> DependentsView {
    let Some(d) = d else { return DependentsView::default() };
    DependentsView {
        prod: d.list(DepKind::Prod).count,
        dev: d.list(DepKind::Dev).count,
        top: d.top.clone(),
        ranked_at: d.ranked_at.and_then(|t| t.try_to_rfc3339_string().ok()),
    }
}
