//! `nodules-downloader run` end to end: documents and tarballs from a fake registry over
//! real HTTP, the indexer queueing work, the downloader storing files and facts.

use std::time::Duration;

use futures::TryStreamExt;
use mongodb::bson::{Document, doc};
use nodules_e2e::bins::{command, run_bin};
use nodules_e2e::registry::doc_path;
use nodules_e2e::tarballs::{packument_for, tarball, tarball_path};
use nodules_e2e::{FakeRegistry, Reply};
use nodules_store::model::{ModuleType, SourceState};
use nodules_store::testing::TestDb;
use serde_json::json;

/// Serves `name`'s document and tarball; returns the tarball.
async fn index(db: &TestDb, reg: &FakeRegistry, names: &[&str]) {
    let url = reg.url();
    let mut args = vec!["--registry", url.as_str(), "fetch"];
    args.extend_from_slice(names);
    run_bin("nodules-indexer", db, &args).await.assert_ok();
}

async fn download(db: &TestDb, reg: &FakeRegistry, extra: &[&str]) -> nodules_e2e::Run {
    let url = reg.url();
    let mut args = vec!["--registry", url.as_str(), "run", "--once", "--backoff", "100ms", "--lease", "5s"];
    args.extend_from_slice(extra);
    let run = run_bin("nodules-downloader", db, &args).await;
    run.assert_ok();
    run
}

/// `downloaded N, failed F, skipped S in T s`
fn counts(run: &nodules_e2e::Run) -> (u64, u64, u64) {
    let line = run
        .stdout
        .lines()
        .rev()
        .find(|l| l.starts_with("downloaded "))
        .unwrap_or_else(|| panic!("no summary: {}\n{}", run.stdout, run.stderr));
    let num = |k: &str| -> u64 {
        line.split(", ")
            .find_map(|p| p.split(" in ").next()?.strip_prefix(k)?.trim().parse().ok())
            .unwrap_or_else(|| panic!("{k} in {line}"))
    };
    (num("downloaded"), num("failed"), num("skipped"))
}

/// Page 1 of the committed tree of `name@version`.
async fn tree(db: &TestDb, name: &str, version: &str) -> Vec<nodules_store::model::TreeEntry> {
    let s = db.store.source(name, version).await.expect("read").unwrap_or_else(|| panic!("no source for {name}"));
    db.store.tree_page(&s.id, s.tree_gen, 1).await.expect("tree")
}

async fn source(db: &TestDb, name: &str) -> nodules_store::model::Source {
    db.store.source(name, "1.0.0").await.expect("read").unwrap_or_else(|| panic!("no source for {name}"))
}

#[tokio::test]
async fn tarballs_are_verified_unpacked_and_their_facts_read() {
    let db = TestDb::new().await;
    let reg = FakeRegistry::start().await;
    let license = b"MIT License\n\nPermission is hereby granted, free of charge...".repeat(20);
    reg.publish(
        "typed-esm",
        &[
            ("README.md", b"# typed-esm\n\nHello **world**."),
            ("LICENSE", &license),
            ("index.js", b"export default 1"),
            ("index.d.ts", b"export default 1"),
        ],
        json!({ "type": "module", "main": "index.js", "types": "index.d.ts" }),
    );
    reg.publish(
        "dual-cjs",
        &[("LICENSE", &license), ("lib/index.cjs", b"module.exports = 1"), ("lib/index.mjs", b"export default 1")],
        json!({ "exports": { ".": { "import": "./lib/index.mjs", "require": "./lib/index.cjs" } }, "bin": "cli.js" }),
    );
    reg.publish(
        "scripted",
        &[("binding.gyp", b"{}"), ("index.js", b"")],
        json!({ "scripts": { "postinstall": "node setup.js" } }),
    );
    index(&db, &reg, &["typed-esm", "dual-cjs", "scripted"]).await;

    let run = download(&db, &reg, &[]).await;
    assert_eq!(counts(&run), (3, 0, 0), "{}", run.stderr);

    let t = source(&db, "typed-esm").await;
    assert_eq!(t.state, SourceState::Done);
    let f = t.facts.as_ref().expect("facts");
    assert!(f.has_types);
    assert_eq!(f.module_type, Some(ModuleType::Esm));
    assert_eq!(f.file_count, 5);
    let readme = f.readme.as_ref().expect("readme found");
    assert_eq!(readme.path, "README.md");
    let bytes = db.store.blob(&readme.blob, 1 << 20).await.expect("read").expect("stored");
    assert!(String::from_utf8_lossy(&bytes).contains("Hello **world**"));
    let files: Vec<String> = tree(&db, "typed-esm", "1.0.0").await.into_iter().map(|e| e.path).collect();
    assert_eq!(files, vec!["LICENSE", "README.md", "index.d.ts", "index.js", "package.json"]);

    let d = source(&db, "dual-cjs").await;
    let f = d.facts.as_ref().expect("facts");
    assert_eq!(f.module_type, Some(ModuleType::Dual));
    assert_eq!(f.bin.get("dual-cjs").map(String::as_str), Some("cli.js"));
    let s = source(&db, "scripted").await;
    let scripts = &s.facts.as_ref().expect("facts").install_scripts;
    assert_eq!(scripts.get("postinstall").map(String::as_str), Some("node setup.js"));

    // the same LICENSE in two packages is stored once, referenced twice
    let license_id = f.license_file.as_ref().expect("license").blob.clone();
    let blob = db.store.collection("blobs").find_one(doc! { "_id": &license_id }).await.expect("find").expect("blob");
    assert_eq!(blob.get_i64("refs").ok(), Some(2), "{blob:?}");
    // identical files in one tarball (index.js, index.d.ts) and in another (dual-cjs's
    // lib/index.mjs): one blob, a reference each
    let tree = tree(&db, "typed-esm", "1.0.0").await;
    let blob_of = |path: &str| tree.iter().find(|e| e.path == path).and_then(|e| e.blob.clone()).expect(path);
    assert_eq!(blob_of("index.js"), blob_of("index.d.ts"));
    let blob = db.store.collection("blobs").find_one(doc! { "_id": blob_of("index.js") }).await.expect("find");
    assert_eq!(blob.expect("blob").get_i64("refs").ok(), Some(3));

    // a re-run downloads nothing
    let again = download(&db, &reg, &[]).await;
    assert_eq!(counts(&again), (0, 0, 0));
    assert_eq!(reg.requests(&tarball_path("typed-esm", "1.0.0")).len(), 1);
}

#[tokio::test]
async fn bad_tarballs_end_as_recorded_failures() {
    let db = TestDb::new().await;
    let reg = FakeRegistry::start().await;
    let other = FakeRegistry::start().await;
    // integrity mismatch: the registry serves other bytes than the document promises
    reg.publish("tampered", &[("index.js", b"ok")], json!({}));
    reg.on(
        &tarball_path("tampered", "1.0.0"),
        vec![Reply::bytes(tarball(&[("package.json", b"{}"), ("evil.js", b"x")]))],
    );
    // a tarball on another origin, and a redirect to one
    let tgz = reg.publish("elsewhere", &[("index.js", b"")], json!({}));
    let mut doc = packument_for("elsewhere", &other.url(), &tgz, json!({}));
    doc["versions"]["1.0.0"]["name"] = json!("elsewhere");
    reg.on(&doc_path("elsewhere"), vec![Reply::json(doc.to_string())]);
    reg.publish("redirected", &[("index.js", b"")], json!({}));
    reg.on(
        &tarball_path("redirected", "1.0.0"),
        vec![Reply::status(302).header("location", &format!("{}evil.tgz", other.url()))],
    );
    // gone, and flaky
    reg.publish("missing", &[("index.js", b"")], json!({}));
    reg.on(&tarball_path("missing", "1.0.0"), vec![Reply::status(404)]);
    let flaky = reg.publish("flaky", &[("index.js", b"")], json!({}));
    reg.on(&tarball_path("flaky", "1.0.0"), vec![Reply::status(500), Reply::bytes(flaky)]);
    // an HTML error page served as the tarball
    reg.publish("html", &[("index.js", b"")], json!({}));
    reg.on(&tarball_path("html", "1.0.0"), vec![Reply::bytes(b"<!DOCTYPE html><html>502 Bad Gateway</html>".to_vec())]);
    index(&db, &reg, &["tampered", "elsewhere", "redirected", "missing", "flaky", "html"]).await;

    let run = download(&db, &reg, &[]).await;
    assert_eq!(counts(&run).0, 1, "only flaky gets through: {}", run.stderr);
    assert!(other.all_requests().is_empty(), "no request left for another origin: {:?}", other.all_requests());
    for (name, expected) in [
        ("tampered", "integrity"),
        ("elsewhere", "another origin"),
        ("redirected", "redirect"),
        ("missing", "404"),
        ("html", "tarball"),
    ] {
        let s = source(&db, name).await;
        assert_eq!(s.state, SourceState::Failed, "{name}: {s:?}");
        let reason = s.reason.unwrap_or_default();
        assert!(reason.contains(expected), "{name}: `{reason}` should mention {expected}");
    }
    assert_eq!(source(&db, "flaky").await.state, SourceState::Done);
    assert_eq!(reg.requests(&tarball_path("flaky", "1.0.0")).len(), 2, "500 then 200");
    assert_eq!(source(&db, "tampered").await.tree_pages, 0, "nothing of a mismatching tarball is visible");
    let blobs = db.store.collection("blobs").count_documents(doc! { "refs": { "$gt": 0 } }).await.expect("count");
    let flaky_files = source(&db, "flaky").await.facts.map(|f| f.file_count).unwrap_or(0) as u64;
    assert!(blobs <= flaky_files, "only flaky's files are stored ({blobs} blobs)");
}

#[tokio::test]
async fn a_new_latest_version_releases_the_old_ones_files() {
    let db = TestDb::new().await;
    let reg = FakeRegistry::start().await;
    let shared: &[u8] = b"the same LICENSE text in two packages";
    reg.publish("neighbour", &[("LICENSE", shared)], json!({}));
    let v1 =
        reg.publish("moving", &[("LICENSE", shared), ("old.js", b"only in 1.0.0"), ("kept.js", b"in both")], json!({}));
    index(&db, &reg, &["moving", "neighbour"]).await;
    assert_eq!(counts(&download(&db, &reg, &[]).await), (2, 0, 0));
    let blob_of = |tree: &[nodules_store::model::TreeEntry], path: &str| {
        tree.iter().find(|e| e.path == path).and_then(|e| e.blob.clone()).expect(path)
    };
    let tree1 = tree(&db, "moving", "1.0.0").await;
    let (license, old, kept) = (blob_of(&tree1, "LICENSE"), blob_of(&tree1, "old.js"), blob_of(&tree1, "kept.js"));

    // 2.0.0 becomes latest: LICENSE and kept.js stay, old.js goes, new.js comes
    let m2 = json!({ "name": "moving", "version": "2.0.0" });
    let v2 = tarball(&[
        ("package.json", m2.to_string().as_bytes()),
        ("LICENSE", shared),
        ("kept.js", b"in both"),
        ("new.js", b"only in 2.0.0"),
    ]);
    let mut document = packument_for("moving", &reg.url(), &v1, json!({}));
    let mut second = document["versions"]["1.0.0"].clone();
    second["version"] = json!("2.0.0");
    second["dist"] = json!({
        "tarball": format!("{}{}", reg.url().trim_end_matches('/'), tarball_path("moving", "2.0.0")),
        "integrity": nodules_e2e::tarballs::integrity(&v2),
    });
    document["versions"]["2.0.0"] = second;
    document["dist-tags"]["latest"] = json!("2.0.0");
    document["time"]["2.0.0"] = json!("2025-02-01T00:00:00.000Z");
    reg.on(&doc_path("moving"), vec![Reply::json(document.to_string())]);
    reg.on(&tarball_path("moving", "2.0.0"), vec![Reply::bytes(v2)]);
    index(&db, &reg, &["moving"]).await;
    assert_eq!(counts(&download(&db, &reg, &[]).await), (1, 0, 0));

    let refs = |id: String| {
        let store = db.store.clone();
        async move {
            let b = store.collection("blobs").find_one(doc! { "_id": &id }).await.expect("find");
            b.map(|b| b.get_i64("refs").unwrap_or(-1))
        }
    };
    assert_eq!(refs(old).await, None, "a file only the released version had is deleted");
    assert_eq!(refs(license).await, Some(2), "the LICENSE: neighbour and moving@2.0.0");
    assert_eq!(refs(kept).await, Some(1), "kept.js: moving@2.0.0 only");
    let released = db.store.source("moving", "1.0.0").await.expect("read").expect("source");
    assert_eq!(released.tree_pages, 0);
    let pages = db.store.collection("trees").count_documents(doc! { "source": "moving@1.0.0" }).await.expect("count");
    assert_eq!(pages, 0, "its tree is gone");
    let tree2: Vec<String> = tree(&db, "moving", "2.0.0").await.into_iter().map(|e| e.path).collect();
    assert_eq!(tree2, vec!["LICENSE", "kept.js", "new.js", "package.json"]);
    // every blob left is referenced by a stored tree, and no count is off
    let blobs: Vec<Document> =
        db.store.collection("blobs").find(doc! {}).await.expect("find").try_collect().await.expect("collect");
    let mut expected = std::collections::HashMap::<String, i64>::new();
    for (name, version) in [("moving", "2.0.0"), ("neighbour", "1.0.0")] {
        for e in tree(&db, name, version).await {
            *expected.entry(e.blob.expect("stored")).or_default() += 1;
        }
    }
    let actual: std::collections::HashMap<String, i64> =
        blobs.iter().map(|b| (b.get_str("_id").expect("id").to_string(), b.get_i64("refs").expect("refs"))).collect();
    assert_eq!(actual, expected);
}

#[tokio::test]
async fn a_result_of_an_older_extractor_is_redone_in_place() {
    let db = TestDb::new().await;
    let reg = FakeRegistry::start().await;
    reg.publish("redo", &[("index.js", b"module.exports = 1"), ("README.md", b"# redo")], json!({}));
    index(&db, &reg, &["redo"]).await;
    assert_eq!(counts(&download(&db, &reg, &[]).await), (1, 0, 0));
    let before = tree(&db, "redo", "1.0.0").await;
    // as if an older extractor had written it
    db.store
        .collection("sources")
        .update_one(doc! { "_id": "redo@1.0.0" }, doc! { "$set": { "extractor": 0_i64 } })
        .await
        .expect("update");
    let run = download(&db, &reg, &[]).await;
    assert_eq!(counts(&run), (1, 0, 0), "{}", run.stderr);
    assert_eq!(reg.requests(&tarball_path("redo", "1.0.0")).len(), 2);
    let s = source(&db, "redo").await;
    assert_eq!((s.state, s.tree_pages), (SourceState::Done, 1));
    let after = tree(&db, "redo", "1.0.0").await;
    assert_eq!(after, before, "the same tree");
    let pages = db.store.collection("trees").count_documents(doc! { "source": "redo@1.0.0" }).await.expect("count");
    assert_eq!(pages, 1, "the old result's pages are gone");
    // the old result's references were taken back: each file is referenced once
    let blobs: Vec<Document> =
        db.store.collection("blobs").find(doc! {}).await.expect("find").try_collect().await.expect("collect");
    assert_eq!(blobs.len(), 3, "index.js, README.md, package.json");
    for b in blobs {
        assert_eq!(b.get_i64("refs").ok(), Some(1), "{:?}", b.get_str("_id"));
    }
}

#[tokio::test]
async fn two_downloaders_share_the_work_and_fetch_each_tarball_once() {
    let db = TestDb::new().await;
    let reg = FakeRegistry::start().await;
    let names: Vec<String> = (0..200).map(|i| format!("pkg-{i:03}")).collect();
    for n in &names {
        let body = format!("module.exports = '{n}'");
        reg.publish(n, &[("index.js", body.as_bytes())], json!({}));
    }
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    index(&db, &reg, &refs).await;
    let url = reg.url();
    let args = ["--registry", url.as_str(), "run", "--once", "--concurrency", "8", "--lease", "10s"];
    let (a, b) = tokio::join!(run_bin("nodules-downloader", &db, &args), run_bin("nodules-downloader", &db, &args));
    let (ca, cb) = (counts(a.assert_ok()), counts(b.assert_ok()));
    assert_eq!(ca.0 + cb.0, 200, "{ca:?} {cb:?}");
    assert!(ca.0 > 0 && cb.0 > 0, "both did work: {ca:?} {cb:?}");
    for n in &names {
        assert_eq!(reg.requests(&tarball_path(n, "1.0.0")).len(), 1, "{n} fetched once\n{}\n{}", a.stderr, b.stderr);
    }
}

#[tokio::test]
async fn a_killed_downloader_leaves_nothing_behind() {
    let db = TestDb::new().await;
    let reg = FakeRegistry::start().await;
    let tgz = reg.publish("stalled", &[("index.js", &vec![b'x'; 200_000])], json!({}));
    for i in 0..5 {
        reg.publish(&format!("other-{i}"), &[("index.js", b"1")], json!({}));
    }
    index(&db, &reg, &["stalled", "other-0", "other-1", "other-2", "other-3", "other-4"]).await;
    reg.on(&tarball_path("stalled", "1.0.0"), vec![Reply::bytes(tgz.clone()).stalled(1000), Reply::bytes(tgz)]);
    let url = reg.url();
    let mut first =
        command("nodules-downloader", &db, &["--registry", &url, "run", "--lease", "2s", "--concurrency", "1"])
            .spawn()
            .expect("spawn");
    // wait until the stalled body is being read, then kill -9
    for _ in 0..200 {
        if !reg.requests(&tarball_path("stalled", "1.0.0")).is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(!reg.requests(&tarball_path("stalled", "1.0.0")).is_empty(), "the downloader never asked for the tarball");
    let pid = first.id() as i32;
    // SAFETY-free: the `kill` command, as an operator would
    std::process::Command::new("kill").args(["-9", &pid.to_string()]).status().expect("kill");
    let _ = first.wait();

    // the dead downloader's lease runs out (2 s) and this run takes the job over
    let run = run_bin("nodules-downloader", &db, &["--registry", &url, "run", "--once", "--lease", "2s"]).await;
    let (downloaded, failed, _) = counts(run.assert_ok());
    assert_eq!(failed, 0, "{}", run.stderr);
    assert!(downloaded >= 1, "{}", run.stderr);
    let all: Vec<Document> =
        db.store.collection("sources").find(doc! {}).await.expect("find").try_collect().await.expect("collect");
    assert_eq!(all.len(), 6);
    for s in &all {
        assert_eq!(s.get_str("state").ok(), Some("done"), "{s}");
        assert!(matches!(s.get("owner"), None | Some(mongodb::bson::Bson::Null)), "orphaned lease: {s}");
    }
    assert_eq!(reg.requests(&tarball_path("other-0", "1.0.0")).len(), 1);
}

#[tokio::test]
async fn a_gzip_bomb_is_capped_in_bounded_memory() {
    let db = TestDb::new().await;
    let reg = FakeRegistry::start().await;
    // 2 GiB of zeros compress to about 2 MB
    let bomb = {
        use std::io::Write;
        let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        let mut b = tar::Builder::new(gz);
        let size: u64 = 2 << 30;
        let mut h = tar::Header::new_gnu();
        h.set_size(size);
        h.set_mode(0o644);
        h.set_cksum();
        struct Zeros(u64);
        impl std::io::Read for Zeros {
            fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
                let n = (buf.len() as u64).min(self.0) as usize;
                buf[..n].fill(0);
                self.0 -= n as u64;
                Ok(n)
            }
        }
        b.append_data(&mut h, "package/zeros.bin", Zeros(size)).expect("append");
        let mut gz = b.into_inner().expect("tar");
        gz.flush().expect("flush");
        gz.finish().expect("gzip")
    };
    let mut doc = packument_for("bomb", &reg.url(), &bomb, json!({}));
    doc["versions"]["1.0.0"]["name"] = json!("bomb");
    reg.on(&doc_path("bomb"), vec![Reply::json(doc.to_string())]);
    reg.on(&tarball_path("bomb", "1.0.0"), vec![Reply::bytes(bomb)]);
    index(&db, &reg, &["bomb"]).await;
    let run = download(&db, &reg, &["--max-unpacked-mib", "256"]).await;
    let s = source(&db, "bomb").await;
    assert!(matches!(s.state, SourceState::Capped | SourceState::Failed), "{s:?}");
    assert!(
        s.reason.as_deref().unwrap_or("").contains("cap") || s.reason.as_deref().unwrap_or("").contains("package.json"),
        "{s:?}"
    );
    let peak = run.peak_rss();
    assert!(peak < 150 << 20, "peak RSS {} MB", peak >> 20);
}
