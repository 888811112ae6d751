//! Every MongoDB read and write of the indexer goes through `nodules-store`'s typed
//! functions: no collection handle, collection name or filter document in `src/`. A query
//! written here instead would escape the store's index and query-shape checks.

use std::path::Path;

/// What only database code writes (a `doc!` that builds a stored document counts too: the
/// model and its BSON shape live in the store).
const FORBIDDEN: [&str; 6] = ["coll::", "Collection<", ".collection::<", ".collection(", "doc!", "bson::doc"];

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read src") {
        let path = entry.expect("dir entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn the_indexer_sends_no_query_of_its_own() {
    let mut files = Vec::new();
    rust_files(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"), &mut files);
    let mut found = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).expect("read file");
        for (i, line) in text.lines().enumerate() {
            if FORBIDDEN.iter().any(|f| line.contains(f)) {
                found.push(format!("{}:{}: {}", file.display(), i + 1, line.trim()));
            }
        }
    }
    assert!(found.is_empty(), "queries belong in store/src, as typed functions:\n{}", found.join("\n"));
}
