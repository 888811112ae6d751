//! What one package is, decided from (seed, index) alone: its versions and their times,
//! its dependencies, and which of the registry's messy shapes its document uses.

use rand::Rng;
use rand::rngs::SmallRng;

use crate::clock::{END_MS, START_MS, TimeStyle, UPDATES_MS, yyyymmdd};
use crate::deps::{Counts, DepSet, Drawer, Zipf};
use crate::names::package_name;
use crate::seed::{Stream, hash, rng, splitmix};
use crate::words;

/// Users that own packages (maintainers, authors, GitHub owners).
pub const USERS: u64 = 100_000;

/// The generator's fixed parameters: every package is a function of these and its index.
pub struct Gen {
    pub seed: u64,
    pub n: u64,
    pub zipf: Zipf,
    giants: u64,
    giant_stride: u64,
    giant_offset: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// 1–99 versions.
    Typical,
    /// 100–500 versions (~1 %).
    Heavy,
    /// Thousands of versions, a document over 10 MB (like typescript).
    Giant,
}

/// One version: its number, publication time and how much of its package's dependency
/// set it carries (older versions carry fewer).
#[derive(Clone, Debug)]
pub struct Ver {
    pub version: String,
    pub time: i64,
    /// Index into `Plan::sets`.
    pub set: usize,
    pub n_deps: usize,
    pub n_dev: usize,
    /// Carries the set's peer and optional dependencies.
    pub peers: bool,
    /// Publisher, among `Plan::maintainers`.
    pub npm_user: u64,
}

/// The whole of one package.
#[derive(Clone, Debug)]
pub struct Plan {
    pub index: u64,
    pub name: String,
    pub kind: Kind,
    pub versions: Vec<Ver>,
    pub latest: usize,
    pub next: Option<usize>,
    /// The highest stable version, as numbers (an update publishes its next patch).
    pub latest_triple: (u32, u32, u32),
    pub sets: Vec<DepSet>,
    pub created: i64,
    pub modified: i64,
    pub description: String,
    pub keywords: Vec<&'static str>,
    /// The GitHub user the repository lives under.
    pub owner: u64,
    pub maintainers: Vec<u64>,
    pub style: Style,
    /// CouchDB revision number: 1 in the dump, 2 after an update.
    pub rev: u64,
}

/// Which spelling a document uses for each field the normalizer has to untangle.
#[derive(Clone, Debug)]
pub struct Style {
    /// 0 object, 1 `"Name <email> (url)"` string, 2 absent.
    pub author: u8,
    /// 0 object, 1–4 string shorthands, 5 `{}`, 6 absent; 7–9 object with another URL form.
    pub repository: u8,
    /// An SPDX id, or `{type,url}`, `licenses: [...]`, `SEE LICENSE IN LICENSE`, …
    pub license: License,
    pub keywords_string: bool,
    pub bugs_string: bool,
    pub homepage_array: bool,
    /// 0 none, 1 object, 2 legacy array.
    pub engines: u8,
    /// 0 none, 1 object, 2 string.
    pub bin: u8,
    pub time: TimeStyle,
    pub no_rev: bool,
    pub no_created: bool,
    /// README size in bytes; 0 for none.
    pub readme: usize,
    /// The first version lists its dependencies as a legacy array.
    pub legacy_array: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum License {
    Spdx(&'static str),
    Object,
    LegacyArray,
    SeeFile,
    Unlicensed,
    Absent,
}

impl Gen {
    /// `n` packages from `seed`, dependency targets Zipf-distributed with exponent `s`.
    pub fn new(seed: u64, n: u64, s: f64) -> Gen {
        let giants = if n >= 10_000 { (n / 100_000).max(2) } else { 0 };
        let giant_stride = n.checked_div(giants).unwrap_or(1);
        Gen { seed, n, zipf: Zipf::new(n, s), giants, giant_stride, giant_offset: splitmix(seed) % giant_stride }
    }

    pub fn kind(&self, index: u64) -> Kind {
        if self.giants > 0 && index % self.giant_stride == self.giant_offset && index / self.giant_stride < self.giants
        {
            return Kind::Giant;
        }
        if hash(self.seed, index, Stream::Plan, 1).is_multiple_of(100) { Kind::Heavy } else { Kind::Typical }
    }

    pub fn plan(&self, index: u64) -> Plan {
        let kind = self.kind(index);
        let mut r = rng(self.seed, index, Stream::Plan);
        let count = match kind {
            Kind::Giant => r.random_range(3_400..4_400),
            Kind::Heavy => r.random_range(100..=500),
            Kind::Typical if r.random_bool(0.9) => (11f64.powf(r.random::<f64>())) as usize,
            Kind::Typical => (10f64 * 10f64.powf(r.random::<f64>())) as usize + 1,
        };
        let span = (END_MS - START_MS) as f64;
        let created = START_MS
            + match kind {
                Kind::Giant => r.random_range(0..300 * 86_400_000),
                Kind::Heavy => (r.random::<f64>() * span * 0.5) as i64,
                Kind::Typical => (span * (1.0 - r.random::<f64>().powi(2))) as i64,
            };
        let (seq, triple) = versions(&mut r, kind, count, created);
        let latest = seq.iter().rposition(|(v, _)| !v.contains('-')).unwrap_or(0);
        let next = match kind {
            // nightlies: `next` is the newest of them, as typescript's is
            Kind::Giant => seq.iter().rposition(|(v, _)| v.contains("-dev.")),
            _ => (seq.len() - 1 > latest).then_some(seq.len() - 1),
        };
        let last = seq.last().map_or(created, |(_, t)| *t);
        // before the update feed starts, whose changes must come later
        let modified = (last + r.random_range(0..86_400_000)).min(UPDATES_MS - 1).max(last);

        let owner = r.random_range(0..USERS);
        let n_maint = match kind {
            Kind::Giant => r.random_range(6..11),
            _ => [1, 1, 1, 1, 1, 1, 2, 2, 3, 4][r.random_range(0..10)],
        };
        let maintainers: Vec<u64> =
            std::iter::once(owner).chain((1..n_maint).map(|_| r.random_range(0..USERS))).collect();
        let style = style(&mut r, kind, seq.len());

        let mut dr = rng(self.seed, index, Stream::Deps);
        let counts = if kind == Kind::Giant { Counts::heavy(&mut dr) } else { Counts::typical(&mut dr) };
        let set = Drawer { seed: self.seed, n: self.n, me: index, zipf: &self.zipf, rng: &mut dr }.draw(counts);

        let total = seq.len();
        let versions = seq
            .into_iter()
            .enumerate()
            .map(|(j, (version, time))| {
                // older versions carry a growing prefix of the latest's dependencies
                let share = |len: usize| if j >= latest { len } else { (len * (j + 1)).div_ceil(latest + 1) };
                Ver {
                    version,
                    time,
                    set: 0,
                    n_deps: share(set.deps.len()),
                    n_dev: share(set.dev.len()),
                    peers: j * 2 >= latest,
                    npm_user: maintainers[j % maintainers.len()],
                }
            })
            .collect::<Vec<_>>();
        debug_assert_eq!(versions.len(), total);

        let mut text = rng(self.seed, index, Stream::Text);
        Plan {
            index,
            name: package_name(self.seed, index),
            kind,
            versions,
            latest,
            next,
            latest_triple: triple,
            sets: vec![set],
            created,
            modified,
            description: words::description(&mut text),
            keywords: words::keywords(&mut text),
            owner,
            maintainers,
            style,
            rev: 1,
        }
    }

    /// The package after the update feed's change number `k`: a new latest version (the
    /// next patch) whose dependencies differ from the previous latest's. `None` when no
    /// change is possible (a registry of one package).
    pub fn updated(&self, plan: &Plan, k: u64) -> Option<Plan> {
        let mut r = rng(self.seed, plan.index, Stream::UpdateDeps);
        let latest_set = &plan.sets[plan.versions[plan.latest].set];
        let set =
            Drawer { seed: self.seed, n: self.n, me: plan.index, zipf: &self.zipf, rng: &mut r }.change(latest_set)?;
        let mut p = plan.clone();
        let (ma, mi, pa) = plan.latest_triple;
        let time = update_time(k) + r.random_range(0..1_000);
        p.versions.push(Ver {
            version: format!("{ma}.{mi}.{}", pa + 1),
            time,
            set: 1,
            n_deps: set.deps.len(),
            n_dev: set.dev.len(),
            peers: true,
            npm_user: plan.owner,
        });
        p.sets.push(set);
        p.latest = p.versions.len() - 1;
        p.latest_triple = (ma, mi, pa + 1);
        p.modified = time;
        p.rev = 2;
        Some(p)
    }
}

/// When the update feed's change number `k` happens.
pub fn update_time(k: u64) -> i64 {
    UPDATES_MS + k as i64 * 37_000
}

/// Version numbers and times, in publication order, and the highest stable one.
fn versions(r: &mut SmallRng, kind: Kind, count: usize, created: i64) -> (Vec<(String, i64)>, (u32, u32, u32)) {
    let mut out = Vec::with_capacity(count);
    let (mut ma, mut mi, mut pa) = match r.random_range(0..20) {
        0..9 => (1, 0, 0),
        9..17 => (0, 1, 0),
        _ => (0, 0, 1),
    };
    let mut t = created;
    out.push((format!("{ma}.{mi}.{pa}"), t));
    let mean_gap = ((END_MS - created) / count.max(1) as i64).max(1_000);
    // a prerelease run towards a version: (version, tag, number)
    let mut run: Option<((u32, u32, u32), &str, u32)> = None;
    for _ in 1..count {
        t += match kind {
            // at least a day apart, so nightly tags (dates) never repeat
            Kind::Giant => 86_400_000 + r.random_range(0..14_400_000),
            // past the dump's end, versions come minutes apart (hours at most in all)
            _ => match ((mean_gap as f64) * r.random_range(0.05..1.95)) as i64 {
                gap if t + gap <= END_MS => gap,
                _ => r.random_range(1_000..60_000),
            },
        };
        if kind == Kind::Giant {
            match r.random_range(0..1000) {
                0..880 => {
                    out.push((format!("{ma}.{}.0-dev.{}", mi + 1, yyyymmdd(t)), t));
                    continue;
                }
                880..970 => pa += 1,
                970..995 => (mi, pa) = (mi + 1, 0),
                _ => (ma, mi, pa) = (ma + 1, 0, 0),
            }
            out.push((format!("{ma}.{mi}.{pa}"), t));
            continue;
        }
        match run {
            Some((target, tag, k)) if r.random_bool(0.6) => {
                out.push((format!("{}.{}.{}-{tag}.{}", target.0, target.1, target.2, k + 1), t));
                run = Some((target, tag, k + 1));
            }
            Some((target, _, _)) => {
                (ma, mi, pa) = target;
                out.push((format!("{ma}.{mi}.{pa}"), t));
                run = None;
            }
            None if r.random_bool(0.04) => {
                let target = if r.random_bool(0.2) { (ma + 1, 0, 0) } else { (ma, mi + 1, 0) };
                let tag = ["beta", "alpha", "rc", "next", "canary"][r.random_range(0..5)];
                out.push((format!("{}.{}.{}-{tag}.0", target.0, target.1, target.2), t));
                run = Some((target, tag, 0));
            }
            None => {
                match r.random_range(0..100) {
                    0..80 => pa += 1,
                    80..95 => (mi, pa) = (mi + 1, 0),
                    _ => (ma, mi, pa) = (ma + 1, 0, 0),
                }
                out.push((format!("{ma}.{mi}.{pa}"), t));
            }
        }
    }
    (out, (ma, mi, pa))
}

fn style(r: &mut SmallRng, kind: Kind, versions: usize) -> Style {
    let license = match r.random_range(0..1000) {
        0..650 => License::Spdx("MIT"),
        650..780 => License::Spdx("ISC"),
        780..850 => License::Spdx("Apache-2.0"),
        850..880 => License::Spdx("BSD-3-Clause"),
        880..890 => License::Spdx("(MIT OR Apache-2.0)"),
        890..900 => License::Spdx("GPL-3.0-or-later"),
        900..920 => License::Object,
        920..930 => License::LegacyArray,
        930..945 => License::SeeFile,
        945..960 => License::Unlicensed,
        _ => License::Absent,
    };
    let readme = if kind == Kind::Giant || r.random_bool(0.3) { r.random_range(800..8_000) } else { 0 };
    Style {
        author: [0, 0, 0, 0, 0, 0, 1, 1, 1, 2][r.random_range(0..10)],
        repository: match r.random_range(0..100) {
            0..70 => 0,
            70..74 => r.random_range(1..5),
            74..75 => 5,
            75..85 => 6,
            _ => r.random_range(7..10),
        },
        license,
        keywords_string: r.random_bool(0.02),
        bugs_string: r.random_bool(0.02),
        homepage_array: r.random_bool(0.01),
        engines: match r.random_range(0..100) {
            0..30 => 1,
            30..31 => 2,
            _ => 0,
        },
        bin: match r.random_range(0..100) {
            0..10 => 1,
            10..13 => 2,
            _ => 0,
        },
        time: if r.random_bool(0.03) { TimeStyle::Offset } else { TimeStyle::Zulu },
        no_rev: r.random_bool(0.02),
        no_created: r.random_bool(0.02),
        readme,
        legacy_array: versions > 2 && r.random_bool(0.02),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_unique_and_latest_is_stable() {
        let g = Gen::new(5, 20_000, 1.15);
        for i in (0..20_000).step_by(7) {
            let p = g.plan(i);
            let mut v: Vec<&str> = p.versions.iter().map(|v| v.version.as_str()).collect();
            assert!(!p.versions[p.latest].version.contains('-'));
            v.sort();
            let n = v.len();
            v.dedup();
            assert_eq!(v.len(), n, "{}", p.name);
            assert!(p.versions.windows(2).all(|w| w[0].time < w[1].time), "{}", p.name);
            assert!(
                p.versions.iter().all(|v| v.time <= p.modified) && p.modified < UPDATES_MS,
                "{} {:?} {} {}",
                p.name,
                p.kind,
                p.modified,
                p.versions.last().map_or(0, |v| v.time)
            );
        }
    }

    #[test]
    fn giants_exist_from_ten_thousand_packages() {
        let g = Gen::new(5, 20_000, 1.15);
        let giants: Vec<u64> = (0..20_000).filter(|&i| g.kind(i) == Kind::Giant).collect();
        assert_eq!(giants.len(), 2);
        for &i in &giants {
            let p = g.plan(i);
            assert!(p.versions.len() >= 3_400);
            assert!(p.modified < UPDATES_MS, "{} versions end after the dump", p.name);
        }
        assert_eq!((0..9_999).filter(|&i| Gen::new(5, 9_999, 1.15).kind(i) == Kind::Giant).count(), 0);
    }

    #[test]
    fn an_update_adds_a_latest_with_other_dependencies() {
        let g = Gen::new(5, 1_000, 1.15);
        for i in 0..200 {
            let p = g.plan(i);
            let u = g.updated(&p, 0).expect("change");
            assert_eq!(u.versions.len(), p.versions.len() + 1);
            assert_eq!(u.latest, u.versions.len() - 1);
            assert_ne!(u.sets[1].deps, p.sets[0].deps);
            assert!(u.versions[u.latest].time > p.modified);
        }
    }
}
