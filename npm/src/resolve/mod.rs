//! The production dependency tree `npm install NAME@VERSION` builds, from stored package
//! data, with no registry and no database: the caller answers [`Need`]s in batches (one
//! round trip per level of the tree) and calls [`Resolver::run`] again.
//!
//! It follows npm's own algorithm (arborist's `buildIdealTree`, npm ≥ 7): nodes are visited
//! shallowest first, then by path; each node's missing or invalid dependencies are picked
//! as npm-pick-manifest picks them ([`pick`]) and placed as high in the `node_modules` tree
//! as they go without shadowing what a node below already resolves (`tree`), an installed
//! version that satisfies a range is reused, peer dependencies are placed beside their
//! dependent, optional ones are installed and marked. `tests/install.rs` runs npm's own
//! resolver on the same registry and requires the same set of `name@version`.
//!
//! Deliberate differences (README, "Install cost"): engines are not considered,
//! `bundleDependencies` are not known (their packages are fetched like others), and
//! dependencies that are not registry specs (git, URLs, aliases) are reported unresolved.

pub mod pick; // which version a spec installs
mod tree; // node_modules placement

use std::collections::{BTreeMap, BTreeSet, HashMap};

pub use pick::Spec;
pub use tree::{Resolved, ResolvedNode};

/// What the resolver knows of a package: its dist-tags and versions.
#[derive(Debug, Clone, Default)]
pub struct Packument {
    pub tags: BTreeMap<String, String>,
    pub versions: Vec<PackumentVersion>,
}

#[derive(Debug, Clone)]
pub struct PackumentVersion {
    pub version: String,
    pub deprecated: bool,
}

/// A version's dependencies, as its registry manifest lists them.
#[derive(Debug, Clone, Default)]
pub struct Manifest {
    pub dependencies: Vec<(String, String)>,
    pub optional_dependencies: Vec<(String, String)>,
    pub peer_dependencies: Vec<(String, String)>,
    /// Peers marked optional in `peerDependenciesMeta`: not installed.
    pub optional_peers: BTreeSet<String>,
}

/// Kind of a dependency edge, as arborist names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EdgeKind {
    Prod,
    Optional,
    Peer,
    PeerOptional,
}

impl Manifest {
    /// Edges by name, later kinds overriding earlier ones as arborist loads them (peers, then
    /// dependencies, then optional dependencies).
    pub fn edges(&self) -> BTreeMap<String, (EdgeKind, String)> {
        let mut out = BTreeMap::new();
        for (n, s) in &self.peer_dependencies {
            let kind = if self.optional_peers.contains(n) { EdgeKind::PeerOptional } else { EdgeKind::Peer };
            out.insert(n.clone(), (kind, s.clone()));
        }
        for (n, s) in &self.dependencies {
            out.insert(n.clone(), (EdgeKind::Prod, s.clone()));
        }
        for (n, s) in &self.optional_dependencies {
            out.insert(n.clone(), (EdgeKind::Optional, s.clone()));
        }
        out
    }
}

/// The data a resolution reads, filled by the caller between runs.
#[derive(Debug, Default)]
pub struct Known {
    /// Package name → its packument; `None`: not in the store.
    pub packuments: HashMap<String, Option<Packument>>,
    /// `(name, version)` → its manifest; `None`: not in the store.
    pub manifests: HashMap<(String, String), Option<Manifest>>,
}

impl Known {
    fn packument(&self, name: &str) -> Lookup<&Packument> {
        match self.packuments.get(name) {
            None => Lookup::Unknown,
            Some(None) => Lookup::Missing,
            Some(Some(p)) => Lookup::Found(p),
        }
    }

    fn manifest(&self, name: &str, version: &str) -> Lookup<&Manifest> {
        match self.manifests.get(&(name.to_string(), version.to_string())) {
            None => Lookup::Unknown,
            Some(None) => Lookup::Missing,
            Some(Some(m)) => Lookup::Found(m),
        }
    }
}

enum Lookup<T> {
    /// Not asked yet.
    Unknown,
    /// Asked: not stored.
    Missing,
    Found(T),
}

/// What the resolver needs before it can go on.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Need {
    pub packuments: BTreeSet<String>,
    pub manifests: BTreeSet<(String, String)>,
}

impl Need {
    pub fn is_empty(&self) -> bool {
        self.packuments.is_empty() && self.manifests.is_empty()
    }
}

/// A step of a resolution.
#[derive(Debug)]
pub enum Outcome {
    /// Load these into [`Known`] and run again.
    Need(Need),
    Done(Resolved),
}

/// Nodes at most in one tree: past it the resolution stops (reported as `truncated`).
pub const MAX_NODES: usize = 20_000;

/// One root version's resolution, resumable across [`Need`]s.
pub struct Resolver {
    tree: tree::Tree,
}

impl Resolver {
    /// `npm install name@version` in an empty project.
    pub fn new(name: &str, version: &str) -> Resolver {
        Resolver { tree: tree::Tree::new(name, version) }
    }

    /// Goes on as far as `known` allows.
    pub fn run(&mut self, known: &Known) -> Outcome {
        self.tree.run(known)
    }
}

/// Resolves `name@version` against a complete in-memory registry (tests, benchmarks).
pub fn resolve_all(
    name: &str,
    version: &str,
    registry: &HashMap<String, (Packument, HashMap<String, Manifest>)>,
) -> Resolved {
    let mut known = Known::default();
    let mut r = Resolver::new(name, version);
    loop {
        match r.run(&known) {
            Outcome::Done(done) => return done,
            Outcome::Need(need) => {
                for n in need.packuments {
                    let p = registry.get(&n).map(|(p, _)| p.clone());
                    known.packuments.insert(n, p);
                }
                for (n, v) in need.manifests {
                    let m = registry.get(&n).and_then(|(_, ms)| ms.get(&v).cloned());
                    known.manifests.insert((n, v), m);
                }
            }
        }
    }
}
