//! A `node_modules` tree built as arborist builds its ideal tree: a queue of nodes, shallowest
//! first; each node's problem edges (missing or invalid) picked and placed as high as they
//! can go (`place`), replacing a lower version that every dependent of it accepts, reusing a
//! version that satisfies. Names follow arborist's (`can-place-dep.js`, `place-dep.js`) so
//! that each rule can be checked against it.

use std::collections::{BTreeMap, BTreeSet, HashSet, VecDeque};

use super::pick::{Spec, pick};
use super::{EdgeKind, Known, Lookup, MAX_NODES, Need, Outcome};

/// Most names a blocked run asks for ahead, beyond what it needs now.
const PREFETCH: usize = 2_000;

#[derive(Debug)]
struct Edge {
    kind: EdgeKind,
    spec: Spec,
    raw: String,
}

#[derive(Debug)]
struct Node {
    name: String,
    version: String,
    parent: Option<usize>,
    children: BTreeMap<String, usize>,
    edges: BTreeMap<String, Edge>,
    alive: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CanPlace {
    Ok,
    Replace,
    Keep,
    Conflict,
}

/// The installed packages of a resolution: `nodes[0]` is the root package.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Resolved {
    pub nodes: Vec<ResolvedNode>,
    /// Dependencies no stored version satisfies, or not from a registry: `name@spec`.
    pub unresolved: Vec<String>,
    /// Stopped at `MAX_NODES`.
    pub truncated: bool,
}

/// One installed `name@version` (installed at one place or more).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedNode {
    pub name: String,
    pub version: String,
    /// What its dependencies resolved to (indexes into `nodes`), in name order.
    pub deps: Vec<u32>,
    /// Only there because of an optional dependency.
    pub optional: bool,
    /// Only there as somebody's peer dependency.
    pub peer: bool,
}

pub(super) struct Tree {
    nodes: Vec<Node>,
    queue: Vec<usize>,
    seen: HashSet<usize>,
    unresolved: BTreeSet<String>,
    truncated: bool,
    steps: usize,
}

/// Nodes visited at most (a node is visited again when a replacement invalidates it).
const MAX_STEPS: usize = 4 * MAX_NODES;

/// Placement of one picked dependency, and of the peers that come with it.
struct PlaceDep {
    name: String,
    version: String,
    from: usize,
    spec: Spec,
    peer: bool,
    start: usize,
}

impl Tree {
    pub(super) fn new(name: &str, version: &str) -> Tree {
        let mut edges = BTreeMap::new();
        edges.insert(name.to_string(), Edge { kind: EdgeKind::Prod, spec: Spec::parse(version), raw: version.into() });
        let root = Node {
            name: String::new(),
            version: String::new(),
            parent: None,
            children: BTreeMap::new(),
            edges,
            alive: true,
        };
        Tree {
            nodes: vec![root],
            queue: vec![0],
            seen: HashSet::new(),
            unresolved: BTreeSet::new(),
            truncated: false,
            steps: 0,
        }
    }

    pub(super) fn run(&mut self, known: &Known) -> Outcome {
        loop {
            // shallowest first, then by path (arborist's #buildDepStep)
            let mut queue = std::mem::take(&mut self.queue);
            queue.retain(|n| self.nodes[*n].alive);
            queue.sort_by_cached_key(|n| (self.depth(*n), self.path(*n)));
            queue.dedup();
            self.queue = queue;
            let Some(&node) = self.queue.first() else {
                if let Some(again) = self.invalid_nodes().into_iter().find(|n| !self.seen.contains(n)) {
                    self.queue.push(again);
                    continue;
                }
                return Outcome::Done(self.finish(known));
            };
            if self.seen.contains(&node) {
                self.queue.remove(0);
                continue;
            }
            let mut need = Need::default();
            let picks = self.picks_for(node, known, &mut need);
            if !need.is_empty() {
                self.prefetch(known, &mut need);
                return Outcome::Need(need);
            }
            self.queue.remove(0);
            self.seen.insert(node);
            self.steps += 1;
            if self.steps > MAX_STEPS {
                self.truncated = true;
                self.queue.clear();
                continue;
            }
            let others: Vec<String> = self.nodes[node]
                .edges
                .iter()
                .filter(|(_, e)| matches!(e.spec, Spec::Other))
                .map(|(n, e)| format!("{n}@{}", e.raw))
                .collect();
            self.unresolved.extend(others);
            for (name, spec, version) in picks {
                if self.nodes.len() >= MAX_NODES {
                    self.truncated = true;
                    self.queue.clear();
                    break;
                }
                let peer = matches!(self.nodes[node].edges[&name].kind, EdgeKind::Peer | EdgeKind::PeerOptional);
                let start = self.deepest_nesting_target(node, &name);
                self.place(known, PlaceDep { name, version, from: node, spec, peer, start });
            }
        }
    }

    /// Versions for `node`'s problem edges, with everything placing them reads; what is not
    /// known yet goes into `need`.
    fn picks_for(&mut self, node: usize, known: &Known, need: &mut Need) -> Vec<(String, Spec, String)> {
        let mut picks = Vec::new();
        for (name, spec) in self.problem_edges(node, known) {
            let raw = self.nodes[node].edges[&name].raw.clone();
            match self.pick_with_peers(&name, &spec, known, need, &mut HashSet::new()) {
                Some(version) => picks.push((name, spec, version)),
                // nothing stored satisfies it (reported once the run has all it asked for)
                None if need.is_empty() => {
                    self.unresolved.insert(format!("{name}@{raw}"));
                }
                None => {}
            }
        }
        picks
    }

    /// The version `spec` picks, once its manifest and its peers' are known.
    fn pick_with_peers(
        &self,
        name: &str,
        spec: &Spec,
        known: &Known,
        need: &mut Need,
        visiting: &mut HashSet<String>,
    ) -> Option<String> {
        if matches!(spec, Spec::Other) {
            return None;
        }
        let p = match known.packument(name) {
            Lookup::Unknown => {
                need.packuments.insert(name.to_string());
                return None;
            }
            Lookup::Missing => return None,
            Lookup::Found(p) => p,
        };
        let version = pick(p, spec)?.to_string();
        match known.manifest(name, &version) {
            Lookup::Unknown => {
                need.manifests.insert((name.to_string(), version));
                None
            }
            Lookup::Missing => Some(version),
            Lookup::Found(m) => {
                if visiting.insert(format!("{name}@{version}")) {
                    for (peer, (kind, raw)) in m.edges() {
                        if kind == EdgeKind::Peer {
                            self.pick_with_peers(&peer, &Spec::parse(&raw), known, need, visiting);
                        }
                    }
                }
                Some(version)
            }
        }
    }

    /// Asks ahead for what the queued nodes will need: one round trip per level of the tree.
    fn prefetch(&mut self, known: &Known, need: &mut Need) {
        let queued: Vec<usize> = self.queue.iter().copied().filter(|n| !self.seen.contains(n)).collect();
        for n in queued {
            if need.packuments.len() + need.manifests.len() > PREFETCH {
                return;
            }
            let mut ahead = Need::default();
            for (name, spec) in self.problem_edges(n, known) {
                self.pick_with_peers(&name, &spec, known, &mut ahead, &mut HashSet::new());
            }
            need.packuments.extend(ahead.packuments);
            need.manifests.extend(ahead.manifests);
        }
    }

    /// Edges that resolve to nothing or to a version that does not satisfy them, by name
    /// (a missing optional peer is no problem; a spec from elsewhere is reported once).
    fn problem_edges(&self, node: usize, known: &Known) -> Vec<(String, Spec)> {
        let mut out = Vec::new();
        for (name, e) in &self.nodes[node].edges {
            if matches!(e.spec, Spec::Other) {
                continue;
            }
            let problem = match self.resolve(node, name) {
                None => e.kind != EdgeKind::PeerOptional,
                Some(to) => !self.satisfies(to, &e.spec, known),
            };
            if problem {
                out.push((name.clone(), e.spec.clone()));
            }
        }
        out
    }

    fn satisfies(&self, node: usize, spec: &Spec, known: &Known) -> bool {
        let n = &self.nodes[node];
        let p = match known.packument(&n.name) {
            Lookup::Found(p) => Some(p),
            _ => None,
        };
        spec.satisfied_by(&n.version, p)
    }

    /// Nodes with a problem edge (a replacement can leave some).
    fn invalid_nodes(&self) -> Vec<usize> {
        (0..self.nodes.len())
            .filter(|n| self.nodes[*n].alive)
            .filter(|n| {
                self.nodes[*n].edges.iter().any(|(name, e)| {
                    !matches!(e.spec, Spec::Other)
                        && e.kind != EdgeKind::PeerOptional
                        && self.resolve(*n, name).is_none()
                })
            })
            .collect()
    }

    /// Where `from`'s `name` resolves: its own `node_modules`, then its parents'.
    fn resolve(&self, from: usize, name: &str) -> Option<usize> {
        let mut at = Some(from);
        while let Some(n) = at {
            if let Some(&c) = self.nodes[n].children.get(name) {
                return Some(c);
            }
            at = self.nodes[n].parent;
        }
        None
    }

    fn depth(&self, n: usize) -> usize {
        self.ancestry(n).count() - 1
    }

    fn path(&self, n: usize) -> String {
        let mut parts: Vec<&str> = self.ancestry(n).filter(|a| *a != 0).map(|a| self.nodes[a].name.as_str()).collect();
        parts.reverse();
        parts.iter().map(|p| format!("node_modules/{p}")).collect::<Vec<_>>().join("/")
    }

    /// `n`, its parent, …, the root.
    fn ancestry(&self, n: usize) -> impl Iterator<Item = usize> + '_ {
        std::iter::successors(Some(n), |a| self.nodes[*a].parent)
    }

    fn is_descendant_of(&self, n: usize, of: usize) -> bool {
        self.ancestry(n).skip(1).any(|a| a == of)
    }

    fn is_peer_edge(&self, node: usize, name: &str) -> bool {
        self.nodes[node].edges.get(name).is_some_and(|e| matches!(e.kind, EdgeKind::Peer | EdgeKind::PeerOptional))
    }

    /// The deepest place `name` can go for `start`'s sake: above any node that has it as a
    /// peer (deepest-nesting-target.js).
    fn deepest_nesting_target(&self, start: usize, name: &str) -> usize {
        for t in self.ancestry(start) {
            if self.nodes[t].parent.is_none() || !self.is_peer_edge(t, name) {
                return t;
            }
        }
        0
    }

    /// Edges into `to`: every live node whose `name` resolves to it.
    fn edges_in(&self, to: usize) -> Vec<(usize, &Edge)> {
        let name = &self.nodes[to].name;
        (0..self.nodes.len())
            .filter(|n| self.nodes[*n].alive)
            .filter_map(|n| self.nodes[n].edges.get(name).map(|e| (n, e)))
            .filter(|(n, _)| self.resolve(*n, name) == Some(to))
            .collect()
    }

    /// Whether a new `version` of `current`'s package satisfies every edge into `current`.
    fn can_replace(&self, current: usize, version: &str, known: &Known) -> bool {
        let p = match known.packument(&self.nodes[current].name) {
            Lookup::Found(p) => Some(p),
            _ => None,
        };
        self.edges_in(current).iter().all(|(_, e)| e.spec.satisfied_by(version, p))
    }

    /// can-place-dep.js `checkCanPlace`, without the peer-set clobbering cases.
    fn can_place(&self, d: &PlaceDep, target: usize, known: &Known) -> CanPlace {
        let p = match known.packument(&d.name) {
            Lookup::Found(p) => Some(p),
            _ => None,
        };
        let target_edge = self.nodes[target].edges.get(&d.name);
        let current = self.nodes[target].children.get(&d.name).copied();
        if let Some(te) = target_edge
            && matches!(te.kind, EdgeKind::Peer | EdgeKind::PeerOptional)
            && self.nodes[target].parent.is_some()
        {
            return CanPlace::Conflict;
        }
        if current.is_none()
            && let Some(te) = target_edge
            && target != d.from
            && !te.spec.satisfied_by(&d.version, p)
        {
            return CanPlace::Conflict;
        }
        let Some(current) = current else {
            // placing here must not shadow what a node below resolves through here
            if target != d.from
                && let Some(seen) = self.resolve(target, &d.name)
            {
                for (from, e) in self.edges_in(seen) {
                    if self.is_descendant_of(from, target)
                        && self.satisfies(seen, &e.spec, known)
                        && !e.spec.satisfied_by(&d.version, p)
                    {
                        return CanPlace::Conflict;
                    }
                }
            }
            return CanPlace::Ok;
        };
        let cur_version = self.nodes[current].version.clone();
        let satisfied = d.spec.satisfied_by(&cur_version, p);
        if cur_version == d.version && satisfied {
            return CanPlace::Keep;
        }
        let newer = match (nodejs_semver::Version::parse(&d.version), nodejs_semver::Version::parse(&cur_version)) {
            (Ok(a), Ok(b)) => a >= b,
            _ => false,
        };
        if newer && self.can_replace(current, &d.version, known) {
            return CanPlace::Replace;
        }
        if satisfied {
            return CanPlace::Keep;
        }
        if target != d.start {
            return CanPlace::Conflict;
        }
        if !d.peer && target == d.from {
            return CanPlace::Replace;
        }
        CanPlace::Conflict
    }

    /// place-dep.js: walks up from the start node, places at the highest target reached
    /// before a conflict, then places the new node's peers beside it.
    fn place(&mut self, known: &Known, d: PlaceDep) {
        let mut chosen = None;
        let ancestry: Vec<usize> = self.ancestry(d.start).collect();
        for target in ancestry {
            if self.nodes[target].parent.is_some() && self.is_peer_edge(target, &d.name) {
                continue;
            }
            match self.can_place(&d, target, known) {
                CanPlace::Conflict => break,
                cp => chosen = Some((target, cp)),
            }
        }
        let Some((target, how)) = chosen else { return };
        if how == CanPlace::Keep {
            return;
        }
        // a cycle back to an ancestor of the same version is a link, not a new package
        if self
            .ancestry(target)
            .filter(|a| *a != 0)
            .any(|a| self.nodes[a].name == d.name && self.nodes[a].version == d.version)
        {
            return;
        }
        let manifest = match known.manifest(&d.name, &d.version) {
            Lookup::Found(m) => Some(m),
            _ => None,
        };
        let edges = manifest
            .map(|m| {
                m.edges().into_iter().map(|(n, (kind, raw))| (n, Edge { kind, spec: Spec::parse(&raw), raw })).collect()
            })
            .unwrap_or_default();
        let placed = self.nodes.len();
        let old = self.nodes[target].children.get(&d.name).copied();
        let children = match old {
            Some(old) => {
                self.nodes[old].alive = false;
                self.nodes[old].parent = None;
                let kids = std::mem::take(&mut self.nodes[old].children);
                for k in kids.values() {
                    self.nodes[*k].parent = Some(placed);
                }
                kids
            }
            None => BTreeMap::new(),
        };
        self.nodes.push(Node {
            name: d.name.clone(),
            version: d.version.clone(),
            parent: Some(target),
            children,
            edges,
            alive: true,
        });
        self.nodes[target].children.insert(d.name.clone(), placed);
        // who this placement touched is looked at again
        for (from, e) in self.edges_in(placed).into_iter().map(|(f, e)| (f, e.spec.clone())).collect::<Vec<_>>() {
            if from != d.from && !self.satisfies(placed, &e, known) {
                if how == CanPlace::Replace {
                    self.seen.remove(&from);
                }
                self.queue.push(from);
            }
        }
        self.queue.push(placed);
        self.prune_dedupable(target, &d.name, placed);
        // its peers go beside it (place-dep.js: PlaceDep children)
        let peers: Vec<(String, Spec)> = self.nodes[placed]
            .edges
            .iter()
            .filter(|(_, e)| e.kind == EdgeKind::Peer)
            .map(|(n, e)| (n.clone(), e.spec.clone()))
            .collect();
        for (name, spec) in peers {
            let valid = self.resolve(placed, &name).is_some_and(|to| self.satisfies(to, &spec, known));
            if valid {
                continue;
            }
            let Lookup::Found(p) = known.packument(&name) else { continue };
            let Some(version) = pick(p, &spec).map(str::to_string) else {
                self.unresolved.insert(name.clone());
                continue;
            };
            let start = self.deepest_nesting_target(d.start, &name);
            self.place(known, PlaceDep { name, version, from: placed, spec, peer: true, start });
        }
    }

    /// Copies of `name` below `target` that the new one makes redundant (the same version is
    /// now visible from above them, or nothing needs them) are removed (canDedupe).
    fn prune_dedupable(&mut self, target: usize, name: &str, placed: usize) {
        let copies: Vec<usize> = (0..self.nodes.len())
            .filter(|n| *n != placed && self.nodes[*n].alive && self.nodes[*n].name == name)
            .filter(|n| self.is_descendant_of(*n, target))
            .collect();
        for c in copies {
            let Some(parent) = self.nodes[c].parent else { continue };
            let Some(grand) = self.nodes[parent].parent else { continue };
            let redundant = self.edges_in(c).is_empty()
                || self.resolve(grand, name).is_some_and(|o| self.nodes[o].version == self.nodes[c].version);
            if redundant {
                self.detach(c);
            }
        }
    }

    fn detach(&mut self, n: usize) {
        if let Some(p) = self.nodes[n].parent.take() {
            let name = self.nodes[n].name.clone();
            self.nodes[p].children.remove(&name);
        }
        let mut stack = vec![n];
        while let Some(x) = stack.pop() {
            self.nodes[x].alive = false;
            stack.extend(self.nodes[x].children.values().copied());
        }
    }

    /// What is reachable from the root through resolved edges, by distinct `name@version`,
    /// with optional and peer flags as npm's calc-dep-flags sets them.
    fn finish(&mut self, known: &Known) -> Resolved {
        let Some(root) = self.resolve(0, &self.nodes[0].edges.keys().next().cloned().unwrap_or_default()) else {
            return Resolved { unresolved: self.unresolved.iter().cloned().collect(), ..Resolved::default() };
        };
        let key = |t: &Tree, n: usize| (t.nodes[n].name.clone(), t.nodes[n].version.clone());
        let mut index: BTreeMap<(String, String), u32> = BTreeMap::new();
        let mut order: Vec<usize> = Vec::new();
        let mut queue = VecDeque::from([root]);
        index.insert(key(self, root), 0);
        order.push(root);
        let mut out_edges: Vec<Vec<(u32, EdgeKind)>> = vec![Vec::new()];
        while let Some(n) = queue.pop_front() {
            let i = index[&key(self, n)] as usize;
            let mut deps = Vec::new();
            for (name, e) in &self.nodes[n].edges {
                let Some(to) = self.resolve(n, name) else { continue };
                if e.kind == EdgeKind::PeerOptional && !self.satisfies(to, &e.spec, known) {
                    continue;
                }
                let k = key(self, to);
                let j = match index.get(&k) {
                    Some(j) => *j,
                    None => {
                        let j = order.len() as u32;
                        index.insert(k, j);
                        order.push(to);
                        out_edges.push(Vec::new());
                        queue.push_back(to);
                        j
                    }
                };
                deps.push((j, e.kind));
            }
            out_edges[i] = deps;
        }
        let reach = |kinds: &[EdgeKind]| {
            let mut seen = vec![false; order.len()];
            seen[0] = true;
            let mut q = VecDeque::from([0usize]);
            while let Some(i) = q.pop_front() {
                for (j, kind) in &out_edges[i] {
                    if kinds.contains(kind) && !seen[*j as usize] {
                        seen[*j as usize] = true;
                        q.push_back(*j as usize);
                    }
                }
            }
            seen
        };
        let required = reach(&[EdgeKind::Prod, EdgeKind::Peer, EdgeKind::PeerOptional]);
        let not_peer = reach(&[EdgeKind::Prod, EdgeKind::Optional]);
        let nodes = order
            .iter()
            .enumerate()
            .map(|(i, n)| ResolvedNode {
                name: self.nodes[*n].name.clone(),
                version: self.nodes[*n].version.clone(),
                deps: out_edges[i].iter().map(|(j, _)| *j).collect(),
                optional: !required[i],
                peer: required[i] && !not_peer[i],
            })
            .collect();
        Resolved { nodes, unresolved: self.unresolved.iter().cloned().collect(), truncated: self.truncated }
    }
}
