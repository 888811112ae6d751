//! Independent random streams derived from (seed, package index, purpose): any package
//! can be generated alone, in any order, and comes out the same every time.

use rand::SeedableRng;
use rand::rngs::SmallRng;

/// What a stream is for; each package draws every purpose from its own stream, so adding
/// a draw to one never shifts another.
#[derive(Clone, Copy)]
pub enum Stream {
    Name = 1,
    Plan = 2,
    Text = 3,
    Readme = 4,
    Deps = 5,
    Update = 6,
    UpdateDeps = 7,
    Rev = 8,
    /// Per-version streams are `Version + version index`.
    Version = 1 << 20,
}

/// SplitMix64's finalizer: a bijective, well-mixed 64-bit hash.
pub fn splitmix(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A 64-bit hash of (seed, index, stream + offset).
pub fn hash(seed: u64, index: u64, stream: Stream, offset: u64) -> u64 {
    let purpose = (stream as u64).wrapping_add(offset);
    splitmix(splitmix(seed ^ purpose.wrapping_mul(0xD6E8_FEB8_6659_FD93)) ^ splitmix(index))
}

/// The random stream of one purpose of one package.
pub fn rng(seed: u64, index: u64, stream: Stream) -> SmallRng {
    SmallRng::seed_from_u64(hash(seed, index, stream, 0))
}

/// The random stream of version `v` of one package.
pub fn version_rng(seed: u64, index: u64, v: usize) -> SmallRng {
    SmallRng::seed_from_u64(hash(seed, index, Stream::Version, v as u64))
}

/// A hash as a number in [0, 1).
pub fn unit(h: u64) -> f64 {
    (h >> 11) as f64 / (1u64 << 53) as f64
}
