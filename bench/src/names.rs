//! Package, scope and user names as pure functions of (seed, index).
//!
//! Every package name holds exactly one *core*: a pseudo-word of consonant–vowel
//! syllables that encodes the package index bijectively. Decorations around it (`react-`,
//! `-utils`, `@scope/`) come from word lists none of whose words is a core, so the core,
//! hence the index, can be read back from the name: names are unique without a table.

use crate::seed::{Stream, hash, splitmix};
use crate::words::WORDS;

const CONSONANTS: &[u8; 14] = b"bdfgklmnprstvz";
const VOWELS: &[u8; 4] = b"aiou";
const SYLLABLES: u64 = 56;
/// Odd and not a multiple of 7, so coprime to every 56^k: `j * MULT + offset` is a
/// bijection of each class of cores.
const MULT: u64 = 0x9E37_79B9_7F4A_7C15;

const PREFIXES: &[&str] = &[
    "react",
    "vue",
    "eslint-plugin",
    "babel-plugin",
    "gatsby-plugin",
    "node",
    "angular",
    "express",
    "webpack",
    "rollup-plugin",
    "postcss",
    "gulp",
    "grunt",
    "koa",
    "next",
    "svelte",
    "ember",
    "jquery",
    "hexo",
    "vite-plugin",
    "remark",
    "rehype",
    "redux",
    "mongoose",
    "fastify",
    "ng",
    "simple",
    "fast",
    "tiny",
    "easy",
    "super",
    "smart",
    "my",
    "the",
    "open",
    "auto",
    "cordova-plugin",
    "homebridge",
    "n8n-nodes",
    "tree-sitter",
    "graphql",
    "d3",
    "three",
];

const SUFFIXES: &[&str] = &[
    "js",
    "cli",
    "utils",
    "util",
    "core",
    "loader",
    "plugin",
    "parser",
    "config",
    "types",
    "sdk",
    "api",
    "client",
    "server",
    "ui",
    "components",
    "kit",
    "lib",
    "helper",
    "helpers",
    "tools",
    "wrapper",
    "middleware",
    "adapter",
    "native",
    "ts",
    "es",
    "v2",
    "2",
    "next",
    "lite",
    "plus",
    "pro",
    "x",
    "react",
    "vue",
    "webpack-plugin",
    "polyfill",
    "shim",
    "compat",
    "bundle",
    "runtime",
    "hooks",
    "icons",
    "theme",
    "store",
    "router",
    "test",
    "mock",
    "legacy",
];

const SCOPES: &[&str] = &[
    "types",
    "babel",
    "angular",
    "aws-sdk",
    "vue",
    "nestjs",
    "storybook",
    "mui",
    "emotion",
    "smithy",
    "azure",
    "google-cloud",
    "octokit",
    "sentry",
    "jest",
    "rollup",
    "vitejs",
    "nx",
    "tanstack",
    "radix-ui",
    "fortawesome",
    "graphql-tools",
    "oclif",
    "swc",
    "esbuild",
    "typescript-eslint",
    "ionic",
    "capacitor",
    "firebase",
    "formatjs",
];

const ORG_SUFFIXES: &[&str] = &["", "", "", "-dev", "-labs", "hq", "-io", "-js", "-org", "-team"];

/// The name of package `index`: ~25 % scoped, 4–40 characters of `[a-z0-9._-]`.
pub fn package_name(seed: u64, index: u64) -> String {
    let h = hash(seed, index, Stream::Name, 0);
    let mut name = String::with_capacity(32);
    if h % 100 < 25 {
        name.push('@');
        scope(&mut name, seed, h >> 40);
        name.push('/');
    }
    let sep = match (h >> 8) % 20 {
        0 => '.',
        1 => '_',
        _ => '-',
    };
    let shape = (h >> 16) % 100;
    if (40..60).contains(&shape) || shape >= 85 {
        name.push_str(PREFIXES[(h >> 24) as usize % PREFIXES.len()]);
        name.push(sep);
    }
    push_core(&mut name, seed, index);
    if shape >= 60 {
        name.push(sep);
        name.push_str(SUFFIXES[(h >> 32) as usize % SUFFIXES.len()]);
    }
    name
}

/// The part after `@scope/`, as tarball file names use it.
pub fn basename(name: &str) -> &str {
    name.rsplit('/').next().unwrap_or(name)
}

/// The name of user `id` (maintainers, authors, GitHub owners).
pub fn user_name(seed: u64, id: u64) -> String {
    let h = splitmix(seed ^ splitmix(id ^ 0x5EED_0F05_E125));
    let mut s = String::with_capacity(12);
    pseudo_word(&mut s, h, 2 + (h >> 60) as usize % 2);
    if (h >> 50) % 10 < 3 {
        s.push_str(&((h >> 20) % 100).to_string());
    }
    s
}

/// Whether `segment` has the shape of a core: two or more consonant–vowel syllables.
pub fn is_core(segment: &str) -> bool {
    let b = segment.as_bytes();
    b.len() >= 4
        && b.len().is_multiple_of(2)
        && b.chunks(2).all(|s| CONSONANTS.contains(&s[0]) && VOWELS.contains(&s[1]))
}

/// The core of `index`: 2 syllables for the first 56², 3 for the next 56³, and so on
/// (popular, low-index packages get the short names), scrambled within each class.
fn push_core(out: &mut String, seed: u64, index: u64) {
    let (mut start, mut k, mut size) = (0u64, 2usize, SYLLABLES * SYLLABLES);
    while index - start >= size {
        start += size;
        k += 1;
        size *= SYLLABLES;
    }
    let j = u128::from(index - start);
    let p = ((j * u128::from(MULT) + u128::from(splitmix(seed))) % u128::from(size)) as u64;
    push_syllables(out, p, k);
}

fn push_syllables(out: &mut String, mut p: u64, k: usize) {
    for _ in 0..k {
        let d = (p % SYLLABLES) as usize;
        p /= SYLLABLES;
        out.push(char::from(CONSONANTS[d / 4]));
        out.push(char::from(VOWELS[d % 4]));
    }
}

fn pseudo_word(out: &mut String, h: u64, syllables: usize) {
    push_syllables(out, h % SYLLABLES.pow(syllables as u32), syllables);
}

fn scope(out: &mut String, seed: u64, h: u64) {
    if h % 100 < 35 {
        out.push_str(SCOPES[(h >> 8) as usize % SCOPES.len()]);
        return;
    }
    // 30,000 organisations, named like users
    let org = (h >> 8) % 30_000;
    let oh = splitmix(seed ^ splitmix(org ^ 0x0E6));
    pseudo_word(out, oh, 2 + (oh >> 62) as usize % 2);
    out.push_str(ORG_SUFFIXES[(oh >> 40) as usize % ORG_SUFFIXES.len()]);
}

/// A word from the shared list, for dependency aliases and git dependency keys.
pub fn word(h: u64) -> &'static str {
    WORDS[(h % WORDS.len() as u64) as usize]
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn no_decoration_word_is_a_core() {
        for w in WORDS.iter().chain(PREFIXES).chain(SUFFIXES) {
            for seg in w.split(['-', '.', '_']) {
                assert!(!is_core(seg), "`{seg}` (in `{w}`) looks like a core: names could collide");
            }
        }
        assert_eq!(MULT % 2, 1);
        assert_ne!(MULT % 7, 0);
    }

    #[test]
    fn names_are_unique_and_valid() {
        let mut seen = HashSet::new();
        for i in 0..300_000u64 {
            let n = package_name(42, i);
            assert!(n.len() <= 214 && !n.starts_with('.') && !n.starts_with('_'), "{n}");
            assert!(n.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"-._@/".contains(&b)), "{n}");
            let unscoped = basename(&n);
            assert_eq!(unscoped.split(['-', '.', '_']).filter(|s| is_core(s)).count(), 1, "{n}");
            assert!(seen.insert(n.clone()), "duplicate name {n} at {i}");
        }
    }

    #[test]
    fn names_depend_on_the_seed_and_about_a_quarter_are_scoped() {
        assert_ne!(package_name(1, 5), package_name(2, 5));
        assert_eq!(package_name(1, 5), package_name(1, 5));
        let scoped = (0..10_000).filter(|&i| package_name(3, i).starts_with('@')).count();
        assert!((2_200..2_800).contains(&scoped), "{scoped}");
    }
}
