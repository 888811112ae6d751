//! What the module page tells a reviewer about the version shown, beyond its own record:
//! the install scripts and dependencies it added since the previous version, and the
//! `@types` package to use when it ships no types of its own.

use std::collections::BTreeSet;

use nodules_store::model::{Source, SourceState, StringMap, VersionRecord};
use serde::Serialize;

/// The scripts npm runs on `npm install` of a package (not `prepare`: that runs only for a
/// git or local install).
const INSTALL_SCRIPTS: [&str; 3] = ["preinstall", "install", "postinstall"];

/// What the shown version has that the previous one did not.
#[derive(Debug, Serialize)]
pub struct Added {
    pub previous: String,
    pub scripts: Vec<AddedScript>,
    pub dependencies: Vec<AddedDependency>,
}

#[derive(Debug, Serialize)]
pub struct AddedScript {
    pub name: String,
    /// `None`: only the registry's `hasInstallScript` says so (an implied `node-gyp rebuild`
    /// for a `binding.gyp`).
    pub command: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct AddedDependency {
    pub name: String,
    pub range: String,
    /// `dependencies`, `optionalDependencies` or `peerDependencies`.
    pub kind: &'static str,
}

/// The kinds of dependency an install brings in, as `package.json` names them.
fn installed(v: &VersionRecord) -> [(&'static str, &StringMap); 3] {
    let d = &v.deps;
    [
        ("dependencies", &d.dependencies),
        ("optionalDependencies", &d.optional_dependencies),
        ("peerDependencies", &d.peer_dependencies),
    ]
}

fn runs_install_script(v: &VersionRecord) -> bool {
    v.has_install_script == Some(true) || INSTALL_SCRIPTS.iter().any(|s| v.scripts.contains_key(*s))
}

/// The install scripts and dependencies (of the kinds an install brings in) that `shown`
/// has and `previous` did not; `None` when it added neither.
pub fn added_since(previous: &VersionRecord, shown: &VersionRecord) -> Option<Added> {
    let mut scripts: Vec<AddedScript> = INSTALL_SCRIPTS
        .iter()
        .filter(|s| !previous.scripts.contains_key(**s))
        .filter_map(|s| shown.scripts.get(*s).map(|c| AddedScript { name: s.to_string(), command: Some(c.clone()) }))
        .collect();
    if scripts.is_empty() && runs_install_script(shown) && !runs_install_script(previous) {
        scripts.push(AddedScript { name: "install".into(), command: None });
    }
    let before: BTreeSet<&String> = installed(previous).into_iter().flat_map(|(_, m)| m.keys()).collect();
    let mut seen = BTreeSet::new();
    let dependencies: Vec<AddedDependency> = installed(shown)
        .into_iter()
        .flat_map(|(kind, m)| m.iter().map(move |(n, r)| (kind, n, r)))
        // npm lists an optional dependency under `dependencies` too: named once
        .filter(|(_, n, _)| !before.contains(n) && seen.insert(*n))
        .map(|(kind, n, r)| AddedDependency { name: n.clone(), range: r.clone(), kind })
        .collect();
    if scripts.is_empty() && dependencies.is_empty() {
        return None;
    }
    Some(Added { previous: previous.version.clone(), scripts, dependencies })
}

/// The DefinitelyTyped package for `name`: `@types/name`, `@types/scope__name` for
/// `@scope/name`; `None` for an `@types` package itself.
pub fn types_package_name(name: &str) -> Option<String> {
    match name.strip_prefix('@') {
        Some(scoped) => {
            let (scope, rest) = scoped.split_once('/')?;
            (scope != "types").then(|| format!("@types/{scope}__{rest}"))
        }
        None => Some(format!("@types/{name}")),
    }
}

/// The `@types` package worth looking for: the shown version is downloaded, has no types
/// in its files and declares none (`types`/`typings`).
pub fn types_candidate(name: &str, v: &VersionRecord, source: Option<&Source>) -> Option<String> {
    let facts = source.filter(|s| matches!(s.state, SourceState::Done | SourceState::Capped))?.facts.as_ref()?;
    if facts.has_types || v.types.is_some() {
        return None;
    }
    types_package_name(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn version(v: &str) -> VersionRecord {
        VersionRecord { version: v.into(), ..Default::default() }
    }

    #[test]
    fn names_the_types_package() {
        assert_eq!(types_package_name("left-pad").as_deref(), Some("@types/left-pad"));
        assert_eq!(types_package_name("@babel/core").as_deref(), Some("@types/babel__core"));
        assert_eq!(types_package_name("@types/node"), None);
        assert_eq!(types_package_name("@broken"), None);
    }

    #[test]
    fn a_types_package_is_looked_for_only_when_none_ships() {
        let facts = |has_types| Source {
            state: SourceState::Done,
            facts: Some(nodules_store::model::SourceFacts { has_types, ..Default::default() }),
            ..Default::default()
        };
        let v = version("1.0.0");
        assert_eq!(types_candidate("x", &v, Some(&facts(false))).as_deref(), Some("@types/x"));
        assert_eq!(types_candidate("x", &v, Some(&facts(true))), None);
        assert_eq!(types_candidate("x", &v, None), None, "not downloaded: not known");
        let declared = VersionRecord { types: Some("index.d.ts".into()), ..version("1.0.0") };
        assert_eq!(types_candidate("x", &declared, Some(&facts(false))), None);
    }

    #[test]
    fn names_what_the_version_added() {
        let mut old = version("1.0.0");
        old.deps.dependencies.insert("a".into(), "^1".into());
        old.scripts.insert("test".into(), "jest".into());
        let mut new = version("1.1.0");
        new.deps.dependencies.insert("a".into(), "^2".into());
        new.deps.dependencies.insert("c".into(), "^1".into());
        new.deps.optional_dependencies.insert("c".into(), "^1".into());
        new.deps.peer_dependencies.insert("react".into(), "*".into());
        new.deps.dev_dependencies.insert("jest".into(), "*".into());
        new.scripts.insert("postinstall".into(), "node collect.js".into());
        let added = added_since(&old, &new).expect("added");
        assert_eq!(added.previous, "1.0.0");
        let scripts: Vec<_> = added.scripts.iter().map(|s| (s.name.as_str(), s.command.as_deref())).collect();
        assert_eq!(scripts, [("postinstall", Some("node collect.js"))]);
        let deps: Vec<_> = added.dependencies.iter().map(|d| (d.name.as_str(), d.kind)).collect();
        assert_eq!(deps, [("c", "dependencies"), ("react", "peerDependencies")], "a range change is not new");
        assert!(added_since(&new, &new).is_none());

        // only the registry's flag: still named
        let flagged = VersionRecord { has_install_script: Some(true), ..version("1.2.0") };
        let added = added_since(&version("1.1.9"), &flagged).expect("added");
        assert_eq!(added.scripts.len(), 1);
        assert!(added.scripts[0].command.is_none());
        assert!(added_since(&flagged, &flagged).is_none());
    }
}
