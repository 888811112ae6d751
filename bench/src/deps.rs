//! Dependency lists: targets drawn from a Zipf law over package indexes (rank r is
//! package r − 1, so the few hubs are the first packages), plus `npm:` aliases (edges)
//! and git specs (not edges). Names are computed from indexes: no table of packages.

use rand::Rng;
use rand::rngs::SmallRng;

use crate::names::{basename, package_name, user_name, word};

/// Development dependencies favour other packages than production ones: dev rank r is
/// package `r - 1 + DEV_SHIFT`.
const DEV_SHIFT: u64 = 3;

/// A Zipf law over ranks 1..=n with exponent s, sampled by inverting the continuous
/// power law (one `powf` per draw).
#[derive(Clone, Copy, Debug)]
pub struct Zipf {
    n: u64,
    one_minus_s: f64,
    span: f64,
}

impl Zipf {
    pub fn new(n: u64, s: f64) -> Zipf {
        let one_minus_s = 1.0 - s;
        let span =
            if one_minus_s.abs() < 1e-9 { ((n + 1) as f64).ln() } else { ((n + 1) as f64).powf(one_minus_s) - 1.0 };
        Zipf { n, one_minus_s, span }
    }

    /// A rank in 1..=n.
    pub fn rank(&self, rng: &mut SmallRng) -> u64 {
        let u: f64 = rng.random();
        let x = if self.one_minus_s.abs() < 1e-9 {
            (u * self.span).exp()
        } else {
            (1.0 + u * self.span).powf(1.0 / self.one_minus_s)
        };
        (x as u64).clamp(1, self.n.max(1))
    }
}

/// One entry of a dependency map.
#[derive(Clone, Debug, PartialEq)]
pub struct Dep {
    pub key: String,
    pub spec: String,
    /// The package it installs; `None` for git specs.
    pub target: Option<u64>,
}

/// The four dependency maps of a package's latest version (older versions carry
/// prefixes of them).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DepSet {
    pub deps: Vec<Dep>,
    pub dev: Vec<Dep>,
    pub peer: Vec<Dep>,
    pub optional: Vec<Dep>,
}

/// Targets of one version, as the indexer counts them: prod from dependencies, peer and
/// optional; dev from devDependencies unless also prod; never the package itself.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Edges {
    pub prod: Vec<u64>,
    pub dev: Vec<u64>,
}

/// How many entries each map gets.
#[derive(Clone, Copy, Debug)]
pub struct Counts {
    pub deps: usize,
    pub dev: usize,
    pub peer: usize,
    pub optional: usize,
}

impl Counts {
    /// Most packages 0–8 of each; a tail up to 30.
    pub fn typical(rng: &mut SmallRng) -> Counts {
        let deps = if rng.random_bool(0.22) { 0 } else { tail(rng, 2.8, 8) };
        let dev = if rng.random_bool(0.40) { 0 } else { tail(rng, 4.0, 12) };
        let peer = if rng.random_bool(0.07) { rng.random_range(1..4) } else { 0 };
        let optional = usize::from(rng.random_bool(0.01));
        Counts { deps, dev, peer, optional }
    }

    /// Giants (compilers, frameworks): long dev lists.
    pub fn heavy(rng: &mut SmallRng) -> Counts {
        Counts { deps: rng.random_range(5..13), dev: rng.random_range(20..31), peer: 0, optional: 0 }
    }
}

/// 1 + an exponential of `mean`, capped at `cap`; 3 % go to the tail cap+1..=30.
fn tail(rng: &mut SmallRng, mean: f64, cap: usize) -> usize {
    if rng.random_bool(0.03) {
        return rng.random_range(cap + 1..=30);
    }
    let u: f64 = rng.random();
    (1 + (-(1.0 - u).ln() * mean) as usize).min(cap)
}

/// Draws dependency sets for one package.
pub struct Drawer<'a> {
    pub seed: u64,
    pub n: u64,
    pub me: u64,
    pub zipf: &'a Zipf,
    pub rng: &'a mut SmallRng,
}

impl Drawer<'_> {
    pub fn draw(&mut self, c: Counts) -> DepSet {
        let mut set = DepSet::default();
        let mut prod_used = Vec::new();
        self.fill(&mut set.deps, c.deps, Kind::Prod, &mut prod_used, true);
        self.fill(&mut set.peer, c.peer, Kind::Peer, &mut prod_used, false);
        self.fill(&mut set.optional, c.optional, Kind::Prod, &mut prod_used, false);
        let mut dev_used = Vec::new();
        self.fill(&mut set.dev, c.dev, Kind::Dev, &mut dev_used, true);
        set
    }

    /// `set` with its latest dependencies changed: the first entry dropped (half the
    /// time) and one new target added. `None` when nothing can change (one package).
    pub fn change(&mut self, set: &DepSet) -> Option<DepSet> {
        let mut new = set.clone();
        let mut used: Vec<u64> = set.prod_targets();
        let dropped = !new.deps.is_empty() && self.rng.random_bool(0.5);
        if dropped {
            new.deps.remove(0);
        }
        let before = new.deps.len();
        self.fill(&mut new.deps, before + 1, Kind::Prod, &mut used, false);
        (new.deps.len() > before || dropped).then_some(new)
    }

    fn fill(&mut self, map: &mut Vec<Dep>, want: usize, kind: Kind, used: &mut Vec<u64>, messy: bool) {
        if self.n < 2 {
            return;
        }
        let mut tries = 0;
        while map.len() < want && tries < want * 4 + 20 {
            tries += 1;
            let roll = self.rng.random_range(0..1000);
            if messy && roll < 15 {
                let dep = self.git_dep();
                if !map.iter().any(|d| d.key == dep.key) {
                    map.push(dep);
                }
                continue;
            }
            let Some(target) = self.target(kind, used) else { continue };
            let name = package_name(self.seed, target);
            let range = range(self.rng);
            let dep = if messy && roll < 45 {
                let suffix = ["cjs", "v1", "legacy", "compat", "old"][self.rng.random_range(0..5)];
                Dep {
                    key: format!("{}-{suffix}", basename(&name)),
                    spec: format!("npm:{name}@{range}"),
                    target: Some(target),
                }
            } else {
                Dep { key: name, spec: range, target: Some(target) }
            };
            if !map.iter().any(|d| d.key == dep.key) {
                used.push(target);
                map.push(dep);
            }
        }
    }

    fn target(&mut self, kind: Kind, used: &[u64]) -> Option<u64> {
        let r = self.zipf.rank(self.rng) - 1;
        let t = match kind {
            Kind::Prod => r,
            // peers are frameworks: the top 100
            Kind::Peer => r % self.n.min(100),
            Kind::Dev => (r + DEV_SHIFT) % self.n,
        };
        (t != self.me && !used.contains(&t)).then_some(t)
    }

    fn git_dep(&mut self) -> Dep {
        let h: u64 = self.rng.random();
        let user = user_name(self.seed, h % 100_000);
        let repo = word(h >> 32);
        let spec = match (h >> 20) % 4 {
            0 => format!("github:{user}/{repo}"),
            1 => format!("git+https://github.com/{user}/{repo}.git#v{}.{}.0", h % 5, (h >> 8) % 10),
            2 => format!("{user}/{repo}"),
            _ => format!("git+ssh://git@github.com/{user}/{repo}.git"),
        };
        Dep { key: format!("{repo}-fork"), spec, target: None }
    }
}

#[derive(Clone, Copy)]
enum Kind {
    Prod,
    Peer,
    Dev,
}

/// A semver range as packages write them: mostly carets.
fn range(rng: &mut SmallRng) -> String {
    let (ma, mi, pa) = (rng.random_range(0..8u32), rng.random_range(0..20u32), rng.random_range(0..30u32));
    match rng.random_range(0..100) {
        0..70 => format!("^{ma}.{mi}.{pa}"),
        70..80 => format!("~{ma}.{mi}.{pa}"),
        80..88 => format!("{ma}.{mi}.{pa}"),
        88..91 => format!(">={ma}.{mi}.{pa}"),
        91..94 => "*".to_string(),
        94..95 => "latest".to_string(),
        95..98 => format!("{ma}.x"),
        _ => format!(">={ma}.{mi}.0 <{}.0.0", ma + 1),
    }
}

impl DepSet {
    fn prod_targets(&self) -> Vec<u64> {
        let mut t: Vec<u64> =
            self.deps.iter().chain(&self.peer).chain(&self.optional).filter_map(|d| d.target).collect();
        t.sort_unstable();
        t.dedup();
        t
    }

    /// The edges of a version carrying the whole set, for package `me`.
    pub fn edges(&self, me: u64) -> Edges {
        let mut prod = self.prod_targets();
        prod.retain(|&t| t != me);
        let mut dev: Vec<u64> =
            self.dev.iter().filter_map(|d| d.target).filter(|t| *t != me && prod.binary_search(t).is_err()).collect();
        dev.sort_unstable();
        dev.dedup();
        Edges { prod, dev }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn zipf_ranks_are_in_range_and_skewed() {
        let z = Zipf::new(1_000_000, 1.15);
        let mut rng = SmallRng::seed_from_u64(9);
        let draws: Vec<u64> = (0..200_000).map(|_| z.rank(&mut rng)).collect();
        assert!(draws.iter().all(|&r| (1..=1_000_000).contains(&r)));
        let top = draws.iter().filter(|&&r| r == 1).count() as f64 / draws.len() as f64;
        // continuous approximation: (1 - 2^-0.15) / (1 - 1000001^-0.15) ≈ 11 %
        assert!((0.09..0.13).contains(&top), "{top}");
    }

    #[test]
    fn sets_never_hold_their_package_nor_duplicate_keys() {
        let z = Zipf::new(50, 1.15);
        let mut rng = SmallRng::seed_from_u64(1);
        for me in 0..50 {
            let mut d = Drawer { seed: 1, n: 50, me, zipf: &z, rng: &mut rng };
            let set = d.draw(Counts { deps: 30, dev: 30, peer: 3, optional: 1 });
            for map in [&set.deps, &set.dev, &set.peer, &set.optional] {
                let mut keys: Vec<&str> = map.iter().map(|d| d.key.as_str()).collect();
                keys.sort();
                let n = keys.len();
                keys.dedup();
                assert_eq!(keys.len(), n);
                assert!(map.iter().all(|d| d.target != Some(me)));
            }
            let changed = d.change(&set).expect("50 packages leave room for a change");
            assert_ne!(changed.deps, set.deps);
        }
    }
}
