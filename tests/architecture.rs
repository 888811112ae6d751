//! The crate graph, read from `cargo metadata`: `nodules-store` and `nodules-npm` at the
//! bottom (with `nodules-sitemaps`, the library behind the webapp's `sitemaps` command and
//! routes, on `store` alone), the services on them, `tests` and `bench` on top. No service depends on another
//! service (npm knowledge goes to `npm/`, queries to `store/`), the libraries depend on no
//! service, and nothing depends on the crates on top. Every workspace member must have a
//! place in this table: a new crate is placed here before it lands.
use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;

use serde_json::{Value, json};

/// The shared libraries: no database code in `npm` or `sitemaps`, every query in `store`.
const LIBRARIES: &[&str] = &["nodules-store", "nodules-npm", "nodules-sitemaps"];
/// The services: each uses the libraries only.
const SERVICES: &[&str] = &["nodules-indexer", "nodules-downloader", "nodules-webapp"];
/// On top: may depend on anything, nothing depends on them.
const ON_TOP: &[&str] = &["nodules-e2e", "nodules-bench"];

/// Workspace member → the workspace members it depends on (any kind: normal, dev, build).
type Graph = BTreeMap<String, BTreeSet<String>>;

fn metadata() -> Value {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args(["metadata", "--format-version", "1", "--no-deps", "--offline"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("run cargo metadata");
    assert!(out.status.success(), "cargo metadata failed: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("cargo metadata prints JSON")
}

/// The dependency edges between workspace members.
fn graph(metadata: &Value) -> Graph {
    let packages = metadata["packages"].as_array().expect("metadata lists packages");
    let members: BTreeSet<String> =
        packages.iter().map(|p| p["name"].as_str().expect("package name").to_string()).collect();
    packages
        .iter()
        .map(|p| {
            let deps: BTreeSet<String> = p["dependencies"]
                .as_array()
                .expect("package lists dependencies")
                .iter()
                .map(|d| d["name"].as_str().expect("dependency name").to_string())
                .filter(|d| members.contains(d))
                .collect();
            (p["name"].as_str().expect("package name").to_string(), deps)
        })
        .collect()
}

/// Every rule broken, in words.
fn violations(graph: &Graph) -> Vec<String> {
    let mut found = Vec::new();
    for (krate, deps) in graph {
        let krate = krate.as_str();
        if !LIBRARIES.contains(&krate) && !SERVICES.contains(&krate) && !ON_TOP.contains(&krate) {
            found.push(format!("{krate} is not placed in tests/architecture.rs (library, service or on top?)"));
        }
        for dep in deps.iter().map(String::as_str) {
            if ON_TOP.contains(&dep) {
                found.push(format!("{krate} depends on {dep}, which sits on top of everything"));
            } else if SERVICES.contains(&dep) && (SERVICES.contains(&krate) || LIBRARIES.contains(&krate)) {
                found.push(format!(
                    "{krate} depends on the service {dep}: move what it uses into nodules-npm or nodules-store"
                ));
            }
        }
    }
    found
}

#[test]
fn no_service_depends_on_another() {
    let graph = graph(&metadata());
    // the metadata was really read: every crate of the table is there, with its known edges
    for krate in LIBRARIES.iter().chain(SERVICES).chain(ON_TOP) {
        assert!(graph.contains_key(*krate), "{krate} missing from cargo metadata: {graph:?}");
    }
    for service in SERVICES {
        assert!(graph[*service].contains("nodules-store"), "{service} uses nodules-store: {graph:?}");
    }
    assert!(graph["nodules-downloader"].contains("nodules-npm"), "{graph:?}");
    let found = violations(&graph);
    assert!(found.is_empty(), "the crate graph breaks its rules:\n{}", found.join("\n"));
}

#[test]
fn a_service_depending_on_another_is_caught() {
    let mut metadata = metadata();
    let packages = metadata["packages"].as_array_mut().expect("packages");
    let downloader = packages.iter_mut().find(|p| p["name"] == "nodules-downloader").expect("the downloader");
    downloader["dependencies"]
        .as_array_mut()
        .expect("dependencies")
        .push(json!({ "name": "nodules-indexer", "kind": null, "path": "../indexer" }));
    let found = violations(&graph(&metadata));
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].contains("nodules-downloader depends on the service nodules-indexer"), "{found:?}");
}

#[test]
fn a_library_depending_on_a_service_or_a_crate_on_top_is_caught() {
    let mut metadata = metadata();
    let packages = metadata["packages"].as_array_mut().expect("packages");
    let npm = packages.iter_mut().find(|p| p["name"] == "nodules-npm").expect("the npm crate");
    let deps = npm["dependencies"].as_array_mut().expect("dependencies");
    deps.push(json!({ "name": "nodules-webapp", "kind": "dev", "path": "../webapp" }));
    deps.push(json!({ "name": "nodules-e2e", "kind": null, "path": "../tests" }));
    let found = violations(&graph(&metadata));
    assert_eq!(found.len(), 2, "{found:?}");
}

/// What only database code writes: a collection handle, a collection name, a filter or
/// update document (a `doc!` that builds a stored document counts too: the model and its
/// BSON shape live in the store).
const QUERY_MARKS: &[&str] = &["coll::", "Collection<", ".collection::<", ".collection(", "doc!", "bson::doc"];

fn rust_files(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("read {}: {e}", dir.display())) {
        let path = entry.expect("dir entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Lines of `text` that send or shape a query, outside `#[cfg(test)]` modules (a unit
/// test may build a document to compare with).
fn query_lines(text: &str) -> Vec<(usize, &str)> {
    let mut found = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim_start().starts_with("#[cfg(test)]") {
            break; // test modules close the file, by this workspace's convention
        }
        if QUERY_MARKS.iter().any(|m| line.contains(m)) {
            found.push((i + 1, line.trim()));
        }
    }
    found
}

#[test]
fn every_query_lives_in_store() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut found = Vec::new();
    for service in ["indexer", "downloader", "webapp", "sitemaps", "npm"] {
        let mut files = Vec::new();
        rust_files(&root.join(service).join("src"), &mut files);
        assert!(!files.is_empty(), "no sources found under {service}/src");
        for file in files {
            let text = std::fs::read_to_string(&file).expect("read source");
            for (line, code) in query_lines(&text) {
                found.push(format!("{}:{line}: {code}", file.display()));
            }
        }
    }
    assert!(found.is_empty(), "queries belong in store/src, as typed functions by subject:\n{}", found.join("\n"));
}

#[test]
fn a_query_outside_store_is_found() {
    let src = "use mongodb::bson::doc;\nfn f(s: &Store) { s.collection(coll::SOURCES).find(doc! { \"state\": \"x\" }); }\n#[cfg(test)]\nmod tests { fn g() { doc! {}; } }\n";
    let lines: Vec<usize> = query_lines(src).into_iter().map(|(l, _)| l).collect();
    assert_eq!(lines, [1, 2], "the import and the query, not the test module");
}
