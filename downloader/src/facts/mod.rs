//! Facts only the tarball knows, from its own `package.json` and its file list: pure
//! functions, no I/O.
//!
//! Manifest fields go through the indexer's normalizers, so that the registry's copy and
//! the tarball's are normalized identically and compare field by field.

mod confusion;
mod files;
mod manifest;
mod modules;
mod scripts;

use nodules_npm::normalize::Warnings;
use nodules_npm::normalize::fields::{bin, dependencies, engines, optional_peers, string_list};
use nodules_npm::normalize::links::funding;
use nodules_store::model::{Dependencies, SourceFacts, StringMap};
use serde_json::Value;

pub use confusion::{clean_bin, manifest_mismatches, name_mismatch};
pub use files::{languages, pick_license, pick_readme};
pub use manifest::{MAX_MANIFEST, ManifestError, parse_manifest};
pub use modules::{has_types, module_type};
pub use scripts::{INSTALL_SCRIPTS, NODE_GYP_INSTALL, install_scripts};

/// Commands found through `directories.bin`, at most.
const MAX_DIR_BINS: usize = 1000;

/// The facts of a tarball whose `package.json` is `manifest` and whose files (package
/// paths, sizes) are `files`; `name` is the package's registry name (a string `bin` is named
/// after it).
///
/// Left for the caller: `readme` and `license_file` (see [`pick_readme`], [`pick_license`]:
/// the blobs are the caller's), `manifest_mismatches` ([`manifest_mismatches`]) and
/// `duplicates` (from the unpacker's outcome).
pub fn detect(manifest: &Value, files: &[(String, u64)], name: &str) -> SourceFacts {
    // shape warnings are the registry copy's to report; the tarball's would repeat them
    let w = &mut Warnings::new();
    let field = |key: &str| manifest.get(key);
    let deps = |key: &str, w: &mut Warnings| dependencies(field(key), key, w);
    let unpacked = files.iter().fold(0u64, |sum, (_, size)| sum.saturating_add(*size));
    SourceFacts {
        file_count: i64::try_from(files.len()).unwrap_or(i64::MAX),
        unpacked_size: i64::try_from(unpacked).unwrap_or(i64::MAX),
        has_types: has_types(manifest, files),
        module_type: Some(module_type(manifest)),
        install_scripts: install_scripts(manifest, files, w),
        deps: Dependencies {
            dependencies: deps("dependencies", w),
            dev_dependencies: deps("devDependencies", w),
            peer_dependencies: deps("peerDependencies", w),
            optional_dependencies: deps("optionalDependencies", w),
            optional_peers: optional_peers(field("peerDependenciesMeta"), w),
        },
        bin: match field("bin") {
            Some(v) if !v.is_null() => bin(Some(v), name, w),
            _ => directory_bins(manifest, files),
        },
        engines: engines(field("engines"), w),
        os: string_list(field("os"), "os", w),
        cpu: string_list(field("cpu"), "cpu", w),
        funding: funding(field("funding"), w),
        languages: languages(files),
        ..SourceFacts::default()
    }
}

/// Without `bin`, npm's publish step makes every file under `directories.bin` a command
/// named after the file, and installs them so: the registry's copy lists them.
fn directory_bins(manifest: &Value, files: &[(String, u64)]) -> StringMap {
    let Some(dir) = manifest.pointer("/directories/bin").and_then(Value::as_str) else {
        return StringMap::new();
    };
    let mut parts = Vec::new();
    for part in dir.split('/') {
        match part {
            "" | "." => {}
            // npm refuses a folder outside the package
            ".." => return StringMap::new(),
            part => parts.push(part),
        }
    }
    let prefix = format!("{}/", parts.join("/"));
    files
        .iter()
        .filter_map(|(path, _)| {
            let inside = if prefix == "/" { Some(path.as_str()) } else { path.strip_prefix(&prefix) };
            let command = inside?.rsplit('/').next()?;
            Some((command.to_string(), path.clone()))
        })
        .take(MAX_DIR_BINS)
        .collect()
}

#[cfg(test)]
mod tests {
    use nodules_store::model::{Funding, ModuleType};
    use serde_json::json;

    use super::*;

    fn map(pairs: &[(&str, &str)]) -> StringMap {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    fn files(list: &[(&str, u64)]) -> Vec<(String, u64)> {
        list.iter().map(|(p, s)| (p.to_string(), *s)).collect()
    }

    #[test]
    fn detects_a_typical_package() {
        let manifest = json!({
            "name": "@scope/tool", "version": "1.2.3",
            "main": "lib/index.js", "type": "module",
            "bin": "./cli.js",
            "dependencies": {"a": "^1", "h": "user/repo"},
            "devDependencies": ["jest@29"],
            "peerDependencies": {"react": ">=18"},
            "optionalDependencies": {"fsevents": "^2"},
            "engines": ["node >= 18"],
            "os": "darwin", "cpu": ["arm64", 7],
            "funding": {"type": "github", "url": "https://github.com/sponsors/x"},
            "scripts": {"postinstall": "node setup.js", "test": "jest"}
        });
        let files = files(&[("package.json", 400), ("lib/index.js", 1000), ("lib/index.d.ts", 200), ("cli.js", 50)]);
        let facts = detect(&manifest, &files, "@scope/tool");
        assert_eq!((facts.file_count, facts.unpacked_size), (4, 1650));
        assert!(facts.has_types);
        assert_eq!(facts.module_type, Some(ModuleType::Esm));
        assert_eq!(facts.install_scripts, map(&[("postinstall", "node setup.js")]));
        assert_eq!(facts.deps.dependencies, map(&[("a", "^1"), ("h", "github:user/repo")]));
        assert_eq!(facts.deps.dev_dependencies, map(&[("jest", "29")]));
        assert_eq!(facts.deps.peer_dependencies, map(&[("react", ">=18")]));
        assert_eq!(facts.deps.optional_dependencies, map(&[("fsevents", "^2")]));
        assert_eq!(facts.bin, map(&[("tool", "./cli.js")]));
        assert_eq!(facts.engines, map(&[("node", ">= 18")]));
        assert_eq!((facts.os, facts.cpu), (vec!["darwin".to_string()], vec!["arm64".to_string()]));
        assert_eq!(
            facts.funding,
            [Funding { kind: Some("github".into()), url: "https://github.com/sponsors/x".into() }]
        );
        assert_eq!(
            facts.languages,
            [("JavaScript".to_string(), 1050), ("JSON".into(), 400), ("TypeScript declarations".into(), 200)]
        );
        assert_eq!((facts.readme, facts.license_file), (None, None));
    }

    #[test]
    fn bin_as_a_string_is_named_after_the_package() {
        let facts = detect(&json!({"bin": "bin/run"}), &[], "runner");
        assert_eq!(facts.bin, map(&[("runner", "bin/run")]));
    }

    #[test]
    fn directories_bin_lists_its_files_when_bin_is_absent() {
        let files = files(&[("bin/a", 1), ("bin/sub/b.js", 1), ("lib/c.js", 1)]);
        let facts = detect(&json!({"directories": {"bin": "./bin/"}}), &files, "x");
        assert_eq!(facts.bin, map(&[("a", "bin/a"), ("b.js", "bin/sub/b.js")]));
        assert!(detect(&json!({"directories": {"bin": "../bin"}}), &files, "x").bin.is_empty());
        let both = detect(&json!({"bin": {"z": "z.js"}, "directories": {"bin": "bin"}}), &files, "x");
        assert_eq!(both.bin, map(&[("z", "z.js")]));
    }

    #[test]
    fn implicit_node_gyp_install_is_a_fact() {
        let facts = detect(&json!({}), &files(&[("binding.gyp", 10), ("src/x.cc", 100)]), "native");
        assert_eq!(facts.install_scripts, map(&[("install", "node-gyp rebuild")]));
        assert_eq!(facts.languages, [("C++".to_string(), 100)]);
    }
}
