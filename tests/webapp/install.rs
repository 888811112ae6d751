//! Install trees against npm itself: a fake registry serves fixture packuments whose ranges
//! need careful semver (`^0.x`, prereleases, `||`, `x` ranges, a `latest` below the highest
//! version, deprecated versions, peers, optional dependencies, dedupe in both orders, a
//! cycle); npm's own resolver (`npm install --package-lock-only`) and `nodules-indexer
//! trees` must install the same set of `name@version`. Then what a visitor sees of it.

use std::collections::BTreeSet;
use std::process::Command;

use nodules_e2e::FakeRegistry;
use nodules_e2e::web::Webapp;
use nodules_store::testing::TestDb;
use reqwest::StatusCode;
use scraper::{Html, Selector};
use serde_json::{Value, json};

/// A packument of `versions` (each with its extra manifest fields), `latest` as given.
fn doc(name: &str, latest: &str, versions: &[(&str, Value)]) -> Value {
    use base64::Engine;
    use sha1::Digest;
    let mut d = nodules_e2e::dumps::packument(name, versions);
    d["dist-tags"] = json!({ "latest": latest });
    // a digest of its own per version: npm takes two nodes with one integrity for one package
    for (v, _) in versions {
        let id = format!("{name}@{v}");
        d["versions"][v]["dist"]["shasum"] = json!(hex::encode(sha1::Sha1::digest(id.as_bytes())));
        let sha512 = sha2::Sha512::digest(id.as_bytes());
        d["versions"][v]["dist"]["integrity"] =
            json!(format!("sha512-{}", base64::engine::general_purpose::STANDARD.encode(sha512)));
    }
    d
}

fn plain(versions: &[&'static str]) -> Vec<(&'static str, Value)> {
    versions.iter().map(|v| (*v, json!({}))).collect()
}

/// The fixture registry: `app@1.0.0` depends on every case.
fn fixtures() -> Vec<Value> {
    vec![
        doc(
            "app",
            "1.0.0",
            &[(
                "1.0.0",
                json!({
                    "dependencies": {
                        "zero": "^0.2.0", "pre": "^1.0.0-beta.1", "either": "1.1.x || ^3.0.0", "ex": "2.x",
                        "tagged": "^2.0.0", "dep": "^1.0.0", "left": "1.0.0", "right": "1.0.0",
                        "aa-first": "1.0.0", "zz-later": "1.0.0", "plugin": "^1.0.0", "cyc-a": "^1.0.0",
                        "@scope/util": "~1.2.0",
                    },
                    "optionalDependencies": { "native": "^1.0.0" },
                }),
            )],
        ),
        doc("zero", "0.3.0", &plain(&["0.2.1", "0.2.5", "0.3.0"])),
        doc("pre", "0.9.0", &plain(&["0.9.0", "1.0.0-beta.1", "1.0.0-beta.3", "1.0.1-alpha.0"])),
        doc("either", "4.0.0", &plain(&["1.1.0", "1.1.4", "2.0.0", "3.0.0", "3.2.1", "4.0.0"])),
        doc("ex", "3.0.0", &plain(&["1.9.0", "2.0.0", "2.4.0", "3.0.0"])),
        // the latest tag below the highest version
        doc("tagged", "2.5.0", &plain(&["2.0.0", "2.5.0", "2.9.0"])),
        doc("dep", "1.1.0", &[("1.0.0", json!({})), ("1.1.0", json!({ "deprecated": "broken, use 1.0.0" }))]),
        // left places shared@1.2.0 at the top; right's exact 1.0.0 is nested under right
        doc("left", "1.0.0", &[("1.0.0", json!({ "dependencies": { "shared": "^1.0.0" } }))]),
        doc("right", "1.0.0", &[("1.0.0", json!({ "dependencies": { "shared": "1.0.0" } }))]),
        doc("shared", "1.2.0", &plain(&["1.0.0", "1.2.0"])),
        // aa-first places common@1.0.0 first; zz-later's ^1 reuses it (no 1.5.0)
        doc("aa-first", "1.0.0", &[("1.0.0", json!({ "dependencies": { "common": "1.0.0" } }))]),
        doc("zz-later", "1.0.0", &[("1.0.0", json!({ "dependencies": { "common": "^1.0.0" } }))]),
        doc("common", "1.5.0", &plain(&["1.0.0", "1.5.0"])),
        // a peer installed beside it (host@1, not the latest 2), an optional peer left out
        doc(
            "plugin",
            "1.0.0",
            &[(
                "1.0.0",
                json!({
                    "peerDependencies": { "host": "^1.0.0", "maybe": "^1.0.0" },
                    "peerDependenciesMeta": { "maybe": { "optional": true } },
                }),
            )],
        ),
        doc("host", "2.0.0", &plain(&["1.0.0", "1.5.0", "2.0.0"])),
        doc("maybe", "1.0.0", &plain(&["1.0.0"])),
        doc("cyc-a", "1.0.0", &[("1.0.0", json!({ "dependencies": { "cyc-b": "^1.0.0" } }))]),
        doc("cyc-b", "1.0.0", &[("1.0.0", json!({ "dependencies": { "cyc-a": "^1.0.0" } }))]),
        doc("@scope/util", "1.3.0", &plain(&["1.2.0", "1.2.3", "1.3.0"])),
        doc("native", "1.0.0", &[("1.0.0", json!({ "dependencies": { "native-helper": "^1.0.0" } }))]),
        doc("native-helper", "1.1.0", &plain(&["1.0.0", "1.1.0"])),
    ]
}

/// `name@version` of every package npm's lockfile installs for `spec` (the project itself left out).
fn npm_installs(registry: &str, spec: (&str, &str)) -> BTreeSet<String> {
    let dir = tempfile::tempdir().expect("tmp");
    let project = json!({ "name": "nodules-install-check", "version": "1.0.0", "dependencies": { spec.0: spec.1 } });
    std::fs::write(dir.path().join("package.json"), project.to_string()).expect("package.json");
    // no user or global config: only this registry, a private cache
    std::fs::write(dir.path().join(".npmrc"), format!("registry={registry}\n")).expect(".npmrc");
    let out = Command::new("npm")
        .args(["install", "--package-lock-only", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error"])
        .arg(format!("--registry={registry}"))
        .arg(format!("--cache={}", dir.path().join("cache").display()))
        .arg(format!("--userconfig={}", dir.path().join(".npmrc").display()))
        .current_dir(dir.path())
        .output()
        .unwrap_or_else(|e| panic!("this test needs `npm` on PATH (npm's own resolver is the reference): {e}"));
    assert!(out.status.success(), "npm install failed:\n{}", String::from_utf8_lossy(&out.stderr));
    if std::env::var_os("NODULES_SHOW_LOCK").is_some() {
        eprintln!("{}", std::fs::read_to_string(dir.path().join("package-lock.json")).unwrap_or_default());
    }
    let lock: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("package-lock.json")).expect("lockfile"))
            .expect("json");
    lock["packages"]
        .as_object()
        .expect("packages")
        .iter()
        .filter(|(path, _)| !path.is_empty())
        .map(|(path, p)| {
            let name = p["name"].as_str().map(str::to_string).unwrap_or_else(|| {
                path.rsplit_once("node_modules/").map(|(_, n)| n.to_string()).unwrap_or_else(|| path.clone())
            });
            format!("{name}@{}", p["version"].as_str().unwrap_or("?"))
        })
        .collect()
}

async fn ours(db: &TestDb, name: &str, version: &str) -> nodules_store::install::InstallTree {
    db.store.install_tree(name, version).await.expect("read").unwrap_or_else(|| panic!("no tree for {name}@{version}"))
}

fn set(tree: &nodules_store::install::InstallTree) -> BTreeSet<String> {
    tree.nodes.iter().map(|n| format!("{}@{}", n.name, n.version)).collect()
}

#[tokio::test]
async fn install_trees_match_npms_own_resolver_and_show_what_installing_costs() {
    let db = TestDb::new().await;
    let reg = FakeRegistry::start().await;
    let docs = fixtures();
    let names: Vec<String> = docs.iter().map(|d| d["name"].as_str().expect("name").to_string()).collect();
    for d in &docs {
        reg.package(d["name"].as_str().expect("name"), d);
    }
    let url = reg.url();
    let mut args = vec!["--registry", &url, "fetch"];
    args.extend(names.iter().map(String::as_str));
    nodules_e2e::run_bin("nodules-indexer", &db, &args).await.assert_ok();
    let npm = tokio::task::spawn_blocking({
        let url = url.clone();
        move || npm_installs(&url, ("app", "1.0.0"))
    });
    let run = nodules_e2e::run_bin("nodules-indexer", &db, &["trees", "--commit-wait", "0s"]).await;
    run.assert_ok();
    let npm = npm.await.expect("npm");
    let tree = ours(&db, "app", "1.0.0").await;
    assert_eq!(set(&tree), npm, "our tree (left) against npm's lockfile (right)");
    // the cases read as intended, so that the comparison above means something
    for expected in [
        "zero@0.2.5",
        "pre@1.0.0-beta.3",
        "either@3.2.1",
        "ex@2.4.0",
        "tagged@2.5.0",
        "dep@1.0.0",
        "shared@1.2.0",
        "shared@1.0.0",
        "common@1.0.0",
        "host@1.5.0",
        "@scope/util@1.2.3",
        "cyc-a@1.0.0",
        "native-helper@1.1.0",
    ] {
        assert!(npm.contains(expected), "{expected} in npm's tree: {npm:?}");
    }
    assert!(!npm.contains("common@1.5.0") && !npm.iter().any(|p| p.starts_with("maybe@")), "{npm:?}");
    let s = &tree.summary;
    assert_eq!(s.packages as usize, npm.len() - 2, "native and native-helper are optional: {s:?}");
    assert_eq!(s.optional, 2);
    assert!(!s.size_complete && s.unknown_sizes == s.packages, "no size known yet: {s:?}");
    assert_eq!(s.licenses.get("MIT").copied(), Some(s.packages));
    assert_eq!(s.depth, 2, "app → left → shared: {:?}", s.deepest);
    assert!(run.stdout.contains("trees computed"), "{}", run.stdout);
    let queued = db.store.download_queue_depth().await.expect("queue");
    assert!(queued >= s.packages as u64, "the tree's versions are queued for download: {queued}");

    // a new version of a dependency changes who resolves to what: the tree follows it
    let mut zero = doc("zero", "0.2.9", &plain(&["0.2.1", "0.2.5", "0.2.9", "0.3.0"]));
    zero["_rev"] = json!("2-b");
    reg.package("zero", &zero);
    nodules_e2e::run_bin("nodules-indexer", &db, &["--registry", &url, "fetch", "zero"]).await.assert_ok();
    let again = nodules_e2e::run_bin("nodules-indexer", &db, &["trees", "--commit-wait", "0s"]).await;
    again.assert_ok();
    let tree = ours(&db, "app", "1.0.0").await;
    assert!(set(&tree).contains("zero@0.2.9") && !set(&tree).contains("zero@0.2.5"), "{:?}", set(&tree));
    let npm = tokio::task::spawn_blocking(move || npm_installs(&url, ("app", "1.0.0"))).await.expect("npm");
    assert_eq!(set(&tree), npm, "after the publish");

    // what a visitor sees
    let web = Webapp::start(&db, &[]).await;
    let http = reqwest::Client::new();
    let api: Value = http.get(web.url("/api/v1/packages/app")).send().await.expect("api").json().await.expect("json");
    let install = &api["install"];
    assert_eq!(install["packages"], json!(tree.summary.packages), "{install}");
    assert_eq!(install["size_complete"], json!(false));
    assert_eq!(install["licenses"]["MIT"], json!(tree.summary.packages));
    let r = http.get(web.url("/package/app/tree")).send().await.expect("tree page");
    assert_eq!(r.status(), StatusCode::OK);
    let page = r.text().await.expect("body");
    assert!(page.len() < 200_000);
    let html = Html::parse_document(&page);
    let links: BTreeSet<String> = html
        .select(&Selector::parse("ul.tree a").expect("s"))
        .filter_map(|a| a.attr("href").map(str::to_string))
        .collect();
    for p in
        ["/package/left/v/1.0.0", "/package/shared/v/1.0.0", "/package/@scope/util/v/1.2.3", "/package/native/v/1.0.0"]
    {
        assert!(links.contains(p), "{p} linked from the tree: {links:?}");
    }
    assert!(page.contains("optional"), "optional packages are marked");
    assert!(page.contains("at least"), "the size is a lower bound while tarballs are missing");
    let module = http.get(web.url("/package/app")).send().await.expect("module").text().await.expect("body");
    assert!(module.contains("/package/app/tree"), "the module page links to the tree");

    // an older version's tree, on demand: asked for by its page, computed by the next run
    let old = http.get(web.url("/package/zero/v/0.2.1")).send().await.expect("old version").text().await.expect("body");
    assert!(old.contains("Not worked out yet"), "no tree yet for an older version");
    nodules_e2e::run_bin("nodules-indexer", &db, &["trees", "--commit-wait", "0s"]).await.assert_ok();
    let tree = ours(&db, "zero", "0.2.1").await;
    assert_eq!(set(&tree), BTreeSet::from(["zero@0.2.1".to_string()]));
    assert_eq!(tree.summary.packages, 1);
}
