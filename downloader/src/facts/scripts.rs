//! The scripts npm runs when a package is installed, written or implied.

use nodules_npm::normalize::Warnings;
use nodules_npm::normalize::fields::string_map;
use nodules_store::model::StringMap;
use serde_json::Value;

/// Run by `npm install` for the package itself.
pub const INSTALL_SCRIPTS: [&str; 3] = ["preinstall", "install", "postinstall"];
/// What npm runs for a package with a `binding.gyp` and no install script of its own.
pub const NODE_GYP_INSTALL: &str = "node-gyp rebuild";

/// `preinstall`, `install` and `postinstall` from `scripts`, plus npm's implicit
/// `install: node-gyp rebuild`.
pub fn install_scripts(manifest: &Value, files: &[(String, u64)], w: &mut Warnings) -> StringMap {
    let mut scripts = string_map(manifest.get("scripts"), "scripts", w);
    scripts.retain(|name, _| INSTALL_SCRIPTS.contains(&name.as_str()));
    if implies_node_gyp(manifest, files, &scripts) {
        scripts.insert("install".into(), NODE_GYP_INSTALL.into());
    }
    scripts
}

/// npm's rule (arborist's rebuild, @npmcli/run-script): a `binding.gyp` at the package
/// root means `install: node-gyp rebuild`, unless `install` or `preinstall` is set or
/// `gypfile` is `false`.
pub fn implies_node_gyp(manifest: &Value, files: &[(String, u64)], scripts: &StringMap) -> bool {
    !scripts.contains_key("install")
        && !scripts.contains_key("preinstall")
        && manifest.get("gypfile") != Some(&Value::Bool(false))
        && files.iter().any(|(path, _)| path == "binding.gyp")
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn scripts(manifest: Value, files: &[&str]) -> Vec<(String, String)> {
        let files: Vec<(String, u64)> = files.iter().map(|p| (p.to_string(), 1)).collect();
        install_scripts(&manifest, &files, &mut Warnings::new()).into_iter().collect()
    }

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn only_install_scripts_are_kept() {
        let m =
            json!({"scripts": {"test": "jest", "postinstall": "node x.js", "preinstall": "echo", "prepare": "tsc"}});
        assert_eq!(scripts(m, &[]), pairs(&[("postinstall", "node x.js"), ("preinstall", "echo")]));
    }

    #[test]
    fn binding_gyp_implies_node_gyp_rebuild() {
        assert_eq!(scripts(json!({}), &["binding.gyp"]), pairs(&[("install", "node-gyp rebuild")]));
        assert_eq!(
            scripts(json!({"scripts": {"postinstall": "x"}}), &["binding.gyp"]),
            pairs(&[("install", "node-gyp rebuild"), ("postinstall", "x")])
        );
        // not when an install or preinstall is written, gypfile is false, or the file is nested
        assert_eq!(scripts(json!({"scripts": {"install": "make"}}), &["binding.gyp"]), pairs(&[("install", "make")]));
        assert_eq!(scripts(json!({"scripts": {"preinstall": "p"}}), &["binding.gyp"]), pairs(&[("preinstall", "p")]));
        assert!(scripts(json!({"gypfile": false}), &["binding.gyp"]).is_empty());
        assert!(scripts(json!({}), &["src/binding.gyp"]).is_empty());
    }
}
