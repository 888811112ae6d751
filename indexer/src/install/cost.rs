//! What a resolved tree costs to install: packages (optional ones apart), unpacked size (a
//! lower bound while some are not downloaded), install scripts, licenses, the deepest
//! chain. Sizes come from the registry's `dist.unpackedSize` when it has one, else from
//! the downloaded tarball; versions with neither are queued for download.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};

use mongodb::bson::DateTime;
use nodules_npm::resolve::Resolved;
use nodules_store::install::{InstallNode, InstallSummary, InstallTree, install_id};
use nodules_store::model::VersionRecord;
use nodules_store::queue::Wanted;

use super::Loader;

/// Scripts npm runs on install.
const INSTALL_SCRIPTS: [&str; 3] = ["preinstall", "install", "postinstall"];

pub struct Costing {
    pub tree: InstallTree,
    /// Versions whose size is unknown and that no download job covers yet.
    pub to_download: Vec<Wanted>,
}

impl Costing {
    pub async fn of(
        loader: &mut Loader,
        package: &str,
        version: &str,
        resolved: &Resolved,
    ) -> Result<Costing, nodules_store::StoreError> {
        let ids: Vec<String> = resolved.nodes.iter().map(|n| install_id(&n.name, &n.version)).collect();
        let mut sources = HashMap::new();
        for chunk in ids.chunks(500) {
            sources.extend(loader.store().installed_sources(chunk).await?);
        }
        let mut to_download = Vec::new();
        let nodes: Vec<InstallNode> = resolved
            .nodes
            .iter()
            .zip(&ids)
            .map(|(n, id)| {
                let record = loader.cached(id);
                let source = sources.get(id);
                let size = record.and_then(|r| r.dist.unpacked_size).or(source.and_then(|s| s.unpacked_size));
                if size.is_none()
                    && source.is_none()
                    && let Some(r) = record
                {
                    to_download.push(wanted(&n.name, r));
                }
                InstallNode {
                    name: n.name.clone(),
                    version: n.version.clone(),
                    deps: n.deps.clone(),
                    optional: n.optional,
                    peer: n.peer,
                    size,
                    license: record.and_then(license),
                    install_script: record.is_some_and(runs_install_script)
                        || source.is_some_and(|s| s.install_scripts),
                    deprecated: record.is_some_and(|r| r.deprecated.is_some()),
                }
            })
            .collect();
        let summary = summarize(&nodes, resolved);
        let members: BTreeSet<String> = nodes.iter().map(|n| n.name.clone()).chain([package.to_string()]).collect();
        let tree = InstallTree {
            id: install_id(package, version),
            package: package.to_string(),
            version: version.to_string(),
            summary,
            nodes,
            members: members.into_iter().collect(),
            computed_at: Some(DateTime::now()),
        };
        Ok(Costing { tree, to_download })
    }
}

fn wanted(name: &str, r: &VersionRecord) -> Wanted {
    Wanted {
        package: name.to_string(),
        version: r.version.clone(),
        tarball: r.dist.tarball.clone(),
        integrity: r.dist.integrity.clone(),
        shasum: r.dist.shasum.clone(),
        // the background's lowest band: trees wait behind latest versions
        priority: 0,
    }
}

fn license(r: &VersionRecord) -> Option<String> {
    let l = r.license.as_ref()?;
    l.spdx.clone().or_else(|| Some(l.text.clone())).filter(|s| !s.is_empty())
}

fn runs_install_script(r: &VersionRecord) -> bool {
    r.has_install_script == Some(true) || INSTALL_SCRIPTS.iter().any(|s| r.scripts.contains_key(*s))
}

/// Totals over the non-optional packages; the deepest of the shortest chains from the root.
pub fn summarize(nodes: &[InstallNode], resolved: &Resolved) -> InstallSummary {
    let counted: Vec<&InstallNode> = nodes.iter().filter(|n| !n.optional).collect();
    let mut licenses = BTreeMap::new();
    for n in &counted {
        *licenses.entry(n.license.clone().unwrap_or_else(|| "(none)".into())).or_insert(0) += 1;
    }
    let unknown = counted.iter().filter(|n| n.size.is_none()).count() as i64;
    // breadth first over required packages: each one's shortest chain from the root
    let mut parent: Vec<Option<usize>> = vec![None; nodes.len()];
    let mut dist: Vec<Option<i64>> = vec![None; nodes.len()];
    let mut deepest = 0usize;
    if !nodes.is_empty() {
        dist[0] = Some(0);
        let mut q = VecDeque::from([0usize]);
        while let Some(i) = q.pop_front() {
            for &j in &nodes[i].deps {
                let j = j as usize;
                if j < nodes.len() && dist[j].is_none() && !nodes[j].optional {
                    dist[j] = dist[i].map(|d| d + 1);
                    parent[j] = Some(i);
                    if dist[j] > dist[deepest] {
                        deepest = j;
                    }
                    q.push_back(j);
                }
            }
        }
    }
    let mut chain = Vec::new();
    let mut at = (!nodes.is_empty()).then_some(deepest);
    while let Some(i) = at {
        chain.push(format!("{}@{}", nodes[i].name, nodes[i].version));
        at = parent[i];
    }
    chain.reverse();
    InstallSummary {
        packages: counted.len() as i64,
        optional: (nodes.len() - counted.len()) as i64,
        size: counted.iter().filter_map(|n| n.size).sum(),
        size_complete: unknown == 0 && !resolved.truncated,
        unknown_sizes: unknown,
        install_scripts: counted.iter().filter(|n| n.install_script).count() as i64,
        licenses,
        depth: dist.get(deepest).copied().flatten().unwrap_or(0),
        deepest: chain,
        unresolved: resolved.unresolved.clone(),
    }
}
