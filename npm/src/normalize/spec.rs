//! Which registry package a dependency spec points at, as npm-package-arg reads it:
//! `^1.2.0` and tags name the key itself, `npm:real@^1` names `real`, and git, file,
//! link and URL specs name no registry package at all.

use nodules_store::model::{DepTargets, Dependencies};

use super::hosted::Hosted;

/// The registry package that `name: spec` installs, or `None` for git/file/link/URL specs.
pub fn registry_target(name: &str, spec: &str) -> Option<String> {
    let spec = spec.trim();
    if let Some(alias) = spec.strip_prefix("npm:") {
        return alias_target(alias);
    }
    let lower = spec.to_ascii_lowercase();
    let not_registry = ["file:", "link:", "portal:", "git+", "git:", "github:", "gitlab:", "bitbucket:", "gist:", "http:", "https:"]
        .iter()
        .any(|p| lower.starts_with(p))
        || spec.contains("://")
        || spec.starts_with('.')
        || spec.starts_with('/')
        || spec.starts_with("~/")
        // `user/repo` (and `user/repo#ref`) is GitHub shorthand for npm; ranges never hold a `/`
        || (spec.contains('/') && Hosted::from_url(spec).is_some())
        // a path-like spec (`lib/x.tgz`) is a local file
        || (spec.contains('/') && !spec.starts_with('@'))
        || spec.ends_with(".tgz")
        || spec.ends_with(".tar.gz");
    if not_registry {
        return None;
    }
    valid_name(name).then(|| name.to_string())
}

/// `npm:@scope/real@^1` → `@scope/real`; `npm:real` → `real`.
fn alias_target(alias: &str) -> Option<String> {
    let alias = alias.trim();
    let (scope_at, rest) = match alias.strip_prefix('@') {
        Some(rest) => ("@", rest),
        None => ("", alias),
    };
    let name_part = rest.split('@').next().unwrap_or("");
    let name = format!("{scope_at}{name_part}");
    valid_name(&name).then_some(name)
}

pub use crate::names::valid_name;

/// The dependents edges a version's dependencies make (see INTERFACE.md): prod from
/// `dependencies`, `peerDependencies` and `optionalDependencies`; dev from
/// `devDependencies` unless also prod; never the package itself. Sorted, unique.
pub fn dep_targets(package: &str, deps: &Dependencies) -> DepTargets {
    let collect = |maps: &[&nodules_store::model::StringMap]| {
        let mut out: Vec<String> = maps
            .iter()
            .flat_map(|m| m.iter())
            .filter_map(|(name, spec)| registry_target(name, spec))
            .filter(|t| t != package)
            .collect();
        out.sort();
        out.dedup();
        out
    };
    let prod = collect(&[&deps.dependencies, &deps.peer_dependencies, &deps.optional_dependencies]);
    let dev = collect(&[&deps.dev_dependencies]).into_iter().filter(|t| prod.binary_search(t).is_err()).collect();
    DepTargets { prod, dev }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_and_tags_name_the_key() {
        for spec in ["^1.2.3", "~1", "1.x", ">=1 <2 || 3", "*", "", "latest", "next", "1.0.0-beta.1", "workspace:*"] {
            assert_eq!(registry_target("react", spec).as_deref(), Some("react"), "{spec}");
        }
        assert_eq!(registry_target("@types/node", "^20").as_deref(), Some("@types/node"));
    }

    #[test]
    fn aliases_name_their_target() {
        assert_eq!(registry_target("str", "npm:string-width@^4.2.0").as_deref(), Some("string-width"));
        assert_eq!(registry_target("x", "npm:@babel/core@7").as_deref(), Some("@babel/core"));
        assert_eq!(registry_target("x", "npm:lodash").as_deref(), Some("lodash"));
        assert_eq!(registry_target("x", "npm:").as_deref(), None);
    }

    #[test]
    fn git_file_link_and_url_specs_name_nothing() {
        for spec in [
            "git+https://github.com/u/r.git",
            "git://github.com/u/r.git#v1",
            "github:u/r",
            "u/r",
            "u/r#semver:^1",
            "gitlab:u/r",
            "file:../local",
            "link:../local",
            "../local",
            "./x.tgz",
            "/abs/path",
            "~/home",
            "https://example.com/x.tgz",
            "http://example.com/x.tgz",
        ] {
            assert_eq!(registry_target("x", spec), None, "{spec}");
        }
    }

    #[test]
    fn edges_split_prod_and_dev_and_skip_self() {
        let mut deps = Dependencies::default();
        deps.dependencies.insert("a".into(), "^1".into());
        deps.dependencies.insert("me".into(), "^1".into());
        deps.peer_dependencies.insert("b".into(), "*".into());
        deps.optional_dependencies.insert("c".into(), "npm:real-c@1".into());
        deps.dev_dependencies.insert("a".into(), "^1".into());
        deps.dev_dependencies.insert("d".into(), "^1".into());
        deps.dev_dependencies.insert("e".into(), "github:u/e".into());
        let t = dep_targets("me", &deps);
        assert_eq!(t.prod, vec!["a", "b", "real-c"]);
        assert_eq!(t.dev, vec!["d"]);
    }

    #[test]
    fn names() {
        assert!(valid_name("react"));
        assert!(valid_name("@types/node"));
        assert!(valid_name("JSONStream"));
        assert!(!valid_name(""));
        assert!(!valid_name("@scope"));
        assert!(!valid_name("@a/b/c"));
        assert!(!valid_name("a/b"));
        assert!(!valid_name("has space"));
        assert!(!valid_name(".hidden"));
    }
}
