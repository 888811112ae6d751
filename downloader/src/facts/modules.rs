//! What a package offers to importers: its module system and whether it ships types.

use std::collections::HashSet;

use nodules_store::model::ModuleType;
use serde_json::Value;

/// Condition objects nested deeper than this are not looked into (real ones nest 3 or 4).
const MAX_NESTING: usize = 32;

/// The conditions found anywhere in `exports`.
#[derive(Debug, Default, PartialEq, Eq)]
struct Conditions {
    import: bool,
    require: bool,
    types: bool,
}

/// Whether TypeScript users get types from the package itself:
/// - a `types` or `typings` field, or a `typesVersions` map;
/// - a `types` condition anywhere in `exports` (nested condition objects, arrays);
/// - a declaration file next to the entry point, where TypeScript looks for one
///   (`main`, by default `index.js` → `index.d.ts`; `.mjs` → `.d.mts`, `.cjs` → `.d.cts`;
///   an entry without extension → `x.d.ts` or `x/index.d.ts`).
pub fn has_types(manifest: &Value, files: &[(String, u64)]) -> bool {
    let field = |name: &str| manifest.get(name).and_then(Value::as_str).is_some_and(|s| !s.trim().is_empty());
    if field("types") || field("typings") || manifest.get("typesVersions").is_some_and(Value::is_object) {
        return true;
    }
    if manifest.get("exports").is_some_and(|e| conditions(e).types) {
        return true;
    }
    let paths: HashSet<&str> = files.iter().map(|(p, _)| p.as_str()).collect();
    let main = manifest.get("main").and_then(Value::as_str).filter(|m| !m.trim().is_empty()).unwrap_or("index.js");
    declaration_candidates(main).iter().any(|c| paths.contains(c.as_str()))
}

/// Where TypeScript looks for the declarations of the entry point `main`.
fn declaration_candidates(main: &str) -> Vec<String> {
    let mut parts = Vec::new();
    for part in main.trim().split('/') {
        match part {
            "" | "." => {}
            ".." => return Vec::new(),
            part => parts.push(part),
        }
    }
    let main = parts.join("/");
    if main.is_empty() {
        return vec!["index.d.ts".into()];
    }
    for (ext, decl) in [(".js", ".d.ts"), (".mjs", ".d.mts"), (".cjs", ".d.cts")] {
        if let Some(stem) = main.strip_suffix(ext) {
            return vec![format!("{stem}{decl}")];
        }
    }
    vec![format!("{main}.d.ts"), format!("{main}/index.d.ts")]
}

/// The module system, by the first rule that applies:
/// 1. `exports` with both `import` and `require` conditions (anywhere, nested) → dual;
///    with `import` only → ESM; with `require` only → CommonJS;
/// 2. `"type": "module"` → ESM;
/// 3. a `main` ending in `.mjs` → ESM;
/// 4. a `module` field (a bundler's ESM entry) beside a CommonJS main → dual;
/// 5. otherwise CommonJS, Node's default.
///
/// `exports` comes first because it is what Node resolves: a `"type": "module"` package
/// whose exports also offer `require` works from both systems.
pub fn module_type(manifest: &Value) -> ModuleType {
    let found = manifest.get("exports").map(conditions).unwrap_or_default();
    match (found.import, found.require) {
        (true, true) => return ModuleType::Dual,
        (true, false) => return ModuleType::Esm,
        (false, true) => return ModuleType::Cjs,
        (false, false) => {}
    }
    if manifest.get("type").and_then(Value::as_str) == Some("module") {
        return ModuleType::Esm;
    }
    if manifest.get("main").and_then(Value::as_str).is_some_and(|m| m.trim().ends_with(".mjs")) {
        return ModuleType::Esm;
    }
    if manifest.get("module").and_then(Value::as_str).is_some_and(|m| !m.trim().is_empty()) {
        return ModuleType::Dual;
    }
    ModuleType::Cjs
}

/// Condition names anywhere in an `exports` value. Keys starting with `.` are subpaths,
/// not conditions; their values are looked into all the same.
fn conditions(exports: &Value) -> Conditions {
    let mut found = Conditions::default();
    walk(exports, 0, &mut found);
    found
}

fn walk(v: &Value, depth: usize, found: &mut Conditions) {
    if depth > MAX_NESTING {
        return;
    }
    match v {
        Value::Object(map) => {
            for (key, value) in map {
                match key.as_str() {
                    "import" => found.import = true,
                    "require" => found.require = true,
                    "types" => found.types = true,
                    _ => {}
                }
                walk(value, depth + 1, found);
            }
        }
        Value::Array(items) => items.iter().for_each(|item| walk(item, depth + 1, found)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn files(paths: &[&str]) -> Vec<(String, u64)> {
        paths.iter().map(|p| (p.to_string(), 1)).collect()
    }

    #[test]
    fn types_from_fields() {
        assert!(has_types(&json!({"types": "index.d.ts"}), &[]));
        assert!(has_types(&json!({"typings": "./lib/x.d.ts"}), &[]));
        assert!(has_types(&json!({"typesVersions": {">=4": {"*": ["ts4/*"]}}}), &[]));
        assert!(!has_types(&json!({"types": ""}), &[]));
        assert!(!has_types(&json!({"types": 5}), &[]));
    }

    #[test]
    fn types_from_a_declaration_next_to_main() {
        assert!(has_types(&json!({}), &files(&["index.js", "index.d.ts"])));
        assert!(has_types(&json!({"main": "./lib/main.js"}), &files(&["lib/main.d.ts"])));
        assert!(has_types(&json!({"main": "lib/main"}), &files(&["lib/main.d.ts"])));
        assert!(has_types(&json!({"main": "lib"}), &files(&["lib/index.d.ts"])));
        assert!(has_types(&json!({"main": "x.mjs"}), &files(&["x.d.mts"])));
        assert!(has_types(&json!({"main": "x.cjs"}), &files(&["x.d.cts"])));
        assert!(!has_types(&json!({"main": "lib/main.js"}), &files(&["index.d.ts", "lib/other.d.ts"])));
        assert!(!has_types(&json!({"main": "../x.js"}), &files(&["x.d.ts"])));
    }

    #[test]
    fn types_from_exports_conditions() {
        let nested = json!({"exports": {".": {"import": {"types": "./x.d.mts", "default": "./x.mjs"}}}});
        assert!(has_types(&nested, &[]));
        let in_array = json!({"exports": {"./a": [{"types": "./a.d.ts"}, "./a.js"]}});
        assert!(has_types(&in_array, &[]));
        assert!(!has_types(&json!({"exports": {".": "./index.js"}}), &[]));
    }

    #[test]
    fn esm_packages() {
        assert_eq!(module_type(&json!({"type": "module"})), ModuleType::Esm);
        assert_eq!(module_type(&json!({"main": "index.mjs"})), ModuleType::Esm);
        assert_eq!(
            module_type(&json!({"exports": {".": {"import": "./x.mjs", "default": "./x.mjs"}}})),
            ModuleType::Esm
        );
    }

    #[test]
    fn cjs_packages() {
        assert_eq!(module_type(&json!({})), ModuleType::Cjs);
        assert_eq!(module_type(&json!({"main": "lib/index.js", "type": "commonjs"})), ModuleType::Cjs);
        assert_eq!(module_type(&json!({"exports": {"require": "./x.js"}, "type": "module"})), ModuleType::Cjs);
        assert_eq!(module_type(&json!({"exports": "./index.js"})), ModuleType::Cjs);
    }

    #[test]
    fn dual_packages() {
        let flat = json!({"exports": {"import": "./x.mjs", "require": "./x.cjs"}});
        assert_eq!(module_type(&flat), ModuleType::Dual);
        let nested = json!({"exports": {".": {"node": {"import": "./n.mjs", "require": "./n.cjs"}}}});
        assert_eq!(module_type(&nested), ModuleType::Dual);
        let split = json!({"exports": {"./esm": {"import": "./e.mjs"}, "./cjs": [{"require": "./c.js"}]}});
        assert_eq!(module_type(&split), ModuleType::Dual);
        let typed = json!({"type": "module", "exports": {"import": "./x.js", "require": "./x.cjs"}});
        assert_eq!(module_type(&typed), ModuleType::Dual);
        assert_eq!(module_type(&json!({"main": "index.js", "module": "index.esm.js"})), ModuleType::Dual);
    }
}
