//! One entry of a document's `versions` → [`VersionRecord`].

use bson::DateTime;
use nodules_store::model::{Dependencies, Dist, VersionRecord};
use serde_json::Value;

use super::Warnings;
use super::fields::{bin, dependencies, engines, keywords, optional_peers, string_list, string_map, text};
use super::license::license;
use super::limits::{MAX_SHORT, MAX_TEXT, truncate};
use super::links::{bugs, funding, homepage};
use super::person::{people, person};
use super::raw::RawObject;
use super::repository::repository;

/// Top-level fields of a document that stand in for the latest version's when it lacks
/// them (the public registry copies them there at publish time).
pub struct Fallbacks<'a, 'b> {
    pub document: &'b RawObject<'a>,
}

/// Normalizes the version published as `version` of `package`.
pub fn normalize_version(
    package: &str,
    version: &str,
    obj: &RawObject<'_>,
    published: Option<DateTime>,
    prerelease: bool,
    fallbacks: Option<&Fallbacks<'_, '_>>,
    w: &mut Warnings,
) -> VersionRecord {
    // A field of the version, else (for the latest version) of the document.
    let field = |key: &str, w: &mut Warnings| -> Option<Value> {
        obj.value(key, w).or_else(|| fallbacks.and_then(|f| f.document.value(key, w)))
    };
    let repo_value = obj.value("repositories", w).and_then(first_of_array).or_else(|| field("repository", w));
    let repo = repository(repo_value.as_ref(), w);
    let license_value = field("license", w);
    let licenses_value = field("licenses", w);
    VersionRecord {
        version: truncate(version, MAX_SHORT),
        published,
        deprecated: deprecation(obj.value("deprecated", w).as_ref(), w),
        prerelease,
        description: text(field("description", w).as_ref(), "description", MAX_TEXT, w),
        license: license(license_value.as_ref(), licenses_value.as_ref(), w),
        keywords: keywords(field("keywords", w).as_ref(), w),
        author: field("author", w).as_ref().and_then(|v| person(v, "author", w)),
        maintainers: people(obj.value("maintainers", w).as_ref(), "maintainers", w),
        contributors: people(obj.value("contributors", w).as_ref(), "contributors", w),
        homepage: homepage(field("homepage", w).as_ref(), repo.as_ref(), w),
        bugs: bugs(field("bugs", w).as_ref(), repo.as_ref(), w),
        repository: repo,
        funding: funding(obj.value("funding", w).as_ref(), w),
        engines: engines(obj.value("engines", w).as_ref(), w),
        bin: bin(obj.value("bin", w).as_ref(), package, w),
        os: string_list(obj.value("os", w).as_ref(), "os", w),
        cpu: string_list(obj.value("cpu", w).as_ref(), "cpu", w),
        scripts: string_map(obj.value("scripts", w).as_ref(), "scripts", w),
        deps: Dependencies {
            dependencies: dependencies(obj.value("dependencies", w).as_ref(), "dependencies", w),
            dev_dependencies: dependencies(obj.value("devDependencies", w).as_ref(), "devDependencies", w),
            peer_dependencies: dependencies(obj.value("peerDependencies", w).as_ref(), "peerDependencies", w),
            optional_dependencies: dependencies(
                obj.value("optionalDependencies", w).as_ref(),
                "optionalDependencies",
                w,
            ),
            optional_peers: optional_peers(obj.value("peerDependenciesMeta", w).as_ref(), w),
        },
        module_type: text(obj.value("type", w).as_ref(), "type", MAX_SHORT, w),
        main: text(obj.value("main", w).as_ref(), "main", MAX_SHORT, w),
        types: text(obj.value("types", w).or_else(|| obj.value("typings", w)).as_ref(), "types", MAX_SHORT, w),
        has_install_script: match obj.value("hasInstallScript", w) {
            Some(Value::Bool(b)) => Some(b),
            _ => None,
        },
        publisher: obj.value("_npmUser", w).as_ref().and_then(|v| person(v, "_npmUser", w)),
        dist: dist(obj.object("dist").as_ref(), w),
    }
}

/// npm's `deprecated`: a non-empty message (an empty string means "un-deprecated").
pub fn deprecation(v: Option<&Value>, w: &mut Warnings) -> Option<String> {
    match v? {
        Value::String(s) if s.trim().is_empty() => None,
        Value::String(s) => Some(truncate(s, MAX_TEXT)),
        Value::Bool(true) => Some("deprecated".to_string()),
        Value::Bool(false) => None,
        other => {
            w.wrong_type("deprecated", other, "string");
            None
        }
    }
}

fn first_of_array(v: Value) -> Option<Value> {
    match v {
        Value::Array(items) => items.into_iter().next(),
        other => Some(other),
    }
}

fn dist(obj: Option<&RawObject<'_>>, w: &mut Warnings) -> Dist {
    let Some(obj) = obj else {
        return Dist::default();
    };
    let count = |key: &str, w: &mut Warnings| match obj.value(key, w) {
        Some(Value::Number(n)) => n.as_i64().filter(|n| *n >= 0),
        Some(other) => {
            w.wrong_type(key, &other, "number");
            None
        }
        None => None,
    };
    Dist {
        tarball: text(obj.value("tarball", w).as_ref(), "dist.tarball", MAX_SHORT, w),
        integrity: text(obj.value("integrity", w).as_ref(), "dist.integrity", MAX_SHORT, w),
        shasum: text(obj.value("shasum", w).as_ref(), "dist.shasum", MAX_SHORT, w),
        file_count: count("fileCount", w),
        unpacked_size: count("unpackedSize", w),
    }
}
