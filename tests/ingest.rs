//! `nodules-indexer ingest` end to end: real binary, real database, dump and feed files.

use std::io::Write;

use mongodb::bson::{Document, doc};
use nodules_e2e::bins::{run_bin, spawn_bin, wait_child};
use nodules_e2e::dumps::{packument, write_row};
use nodules_e2e::fixture;
use nodules_store::model::{Package, PackageState};
use nodules_store::testing::TestDb;
use serde_json::json;

async fn package(db: &TestDb, name: &str) -> Package {
    let d = db
        .store
        .packages()
        .find_one(doc! { "_id": name })
        .await
        .expect("find")
        .unwrap_or_else(|| panic!("{name} not stored"));
    mongodb::bson::from_document(d).expect("decode package")
}

async fn raw_package(db: &TestDb, name: &str) -> Document {
    db.store
        .packages()
        .find_one(doc! { "_id": name })
        .await
        .expect("find")
        .unwrap_or_else(|| panic!("{name} not stored"))
}

#[tokio::test]
async fn a_dump_is_ingested_normalized_and_skipped_when_unchanged() {
    let db = TestDb::new().await;
    let dump = fixture("all_docs/sample.json");
    let run = run_bin("nodules-indexer", &db, &["ingest", dump.to_str().expect("path")]).await;
    let s = run.assert_ok().summary();
    // reduced, public, messy, scoped active; gone-now unpublished; the design doc rejected
    assert_eq!((s.ingested, s.deleted, s.rejected, s.failed), (4, 1, 1, 0), "{}", run.stdout);

    let reduced = package(&db, "reduced-shape").await;
    assert_eq!(reduced.latest.as_deref(), Some("1.1.0"), "dist-tags.latest, not the newest by time");
    let latest = reduced.latest().expect("latest version");
    assert_eq!(latest.description.as_deref(), Some("Pads strings, the reduced way"));
    let author = latest.author.as_ref().expect("author");
    assert_eq!((author.name.as_deref(), author.email.as_deref()), (Some("Jane Doe"), Some("jane@example.com")));
    let repo = latest.repository.as_ref().expect("repository");
    assert_eq!(repo.url.as_deref(), Some("https://github.com/jane/reduced-shape"));
    assert_eq!(latest.bin.get("reduced-shape").map(String::as_str), Some("./cli.js"));
    assert_eq!(reduced.dep_targets.prod, vec!["left-pad", "react", "string-width"], "alias counted, git spec not");
    assert_eq!(reduced.dep_targets.dev, vec!["tape"], "a dev dependency also listed as prod is prod only");
    // versions highest first, the prerelease marked; created/modified from version times
    let vs: Vec<&str> = reduced.versions.iter().map(|v| v.version.as_str()).collect();
    assert_eq!(vs, vec!["2.0.0-beta.1", "1.1.0", "1.0.0"]);
    assert!(reduced.versions[0].prerelease);
    assert_eq!(
        reduced.created.map(|t| t.try_to_rfc3339_string().expect("date")),
        Some("2023-01-02T03:04:05Z".to_string())
    );
    assert_eq!(
        reduced.modified.map(|t| t.try_to_rfc3339_string().expect("date")),
        Some("2025-01-01T00:00:00Z".to_string())
    );
    // every version has its own record
    let n = db.store.versions().count_documents(doc! { "package": "reduced-shape" }).await.expect("count");
    assert_eq!(n, 3);
    let old = db.store.versions().find_one(doc! { "_id": "reduced-shape@1.0.0" }).await.expect("find").expect("1.0.0");
    assert_eq!(old.get_str("description").ok(), Some("old description"));

    let public = package(&db, "public-shape").await;
    let names: Vec<_> = public.maintainers.iter().filter_map(|m| m.name.as_deref()).collect();
    assert_eq!(names, vec!["alice", "bob"], "top-level maintainers");
    let l = public.latest().expect("latest");
    assert_eq!(l.license.as_ref().and_then(|l| l.spdx.as_deref()), Some("(MIT OR Apache-2.0)"));
    assert_eq!(l.deprecated, None, "an empty deprecation message means not deprecated");
    assert_eq!(
        public.versions.iter().find(|v| v.version == "2.0.0").and_then(|v| v.deprecated.as_deref()),
        Some("use 3.x")
    );
    assert_eq!(public.dist_tags.get("next").map(String::as_str), Some("4.0.0-rc.1"));
    assert_eq!(raw_package(&db, "public-shape").await.get_str("rev").ok(), Some("7-abc"));

    let messy = package(&db, "messy-shapes").await;
    let m = messy.latest().expect("latest");
    assert_eq!(m.keywords, vec!["one", "two", "three"]);
    assert_eq!(m.license.as_ref().map(|l| l.text.as_str()), Some("BSD-3-Clause"));
    assert_eq!(m.bugs.as_ref().and_then(|b| b.email.as_deref()), Some("bob@example.com"));
    assert_eq!(m.engines.get("node").map(String::as_str), Some(">= 0.8"));
    assert_eq!(m.deps.dependencies.get("foo").map(String::as_str), Some("1.0.0"));
    assert_eq!(m.description, None, "a non-string description is dropped");
    assert!(!messy.warnings.is_empty(), "wrong-typed fields leave warnings");

    let gone = package(&db, "gone-now").await;
    assert_eq!(gone.state, PackageState::Unpublished);
    assert_eq!(gone.unpublished.as_ref().map(|u| u.versions.len()), Some(2));

    let scoped = package(&db, "@scope/pkg").await;
    assert_eq!(scoped.latest.as_deref(), Some("1.2.0"), "dangling latest tag: highest stable version");
    assert_eq!(scoped.latest().and_then(|l| l.bin.get("pkg")).map(String::as_str), Some("bin.js"));

    let reject = db.store.collection("rejects").find_one(doc! {}).await.expect("find").expect("a reject");
    assert!(reject.get_str("source").expect("source").starts_with("sample.json:"), "{reject}");
    assert!(reject.get_str("reason").expect("reason").contains("_design/app"), "{reject}");

    // seq numbers: one per written package, distinct
    let mut seqs = Vec::new();
    for name in ["reduced-shape", "public-shape", "messy-shapes", "gone-now", "@scope/pkg"] {
        seqs.push(raw_package(&db, name).await.get_i64("seq").expect("seq"));
    }
    seqs.sort();
    seqs.dedup();
    assert_eq!(seqs.len(), 5);

    // the same dump again: nothing rewritten
    let seq_before = raw_package(&db, "public-shape").await.get_i64("seq").expect("seq");
    let again = run_bin("nodules-indexer", &db, &["ingest", dump.to_str().expect("path")]).await;
    let s = again.assert_ok().summary();
    assert_eq!((s.ingested, s.unchanged, s.deleted, s.rejected), (0, 5, 0, 1), "{}", again.stdout);
    assert_eq!(raw_package(&db, "public-shape").await.get_i64("seq").expect("seq"), seq_before, "not rewritten");
}

#[tokio::test]
async fn a_changes_feed_writes_deletes_and_marks_stale() {
    let db = TestDb::new().await;
    run_bin("nodules-indexer", &db, &["ingest", fixture("all_docs/sample.json").to_str().expect("path")])
        .await
        .assert_ok();
    let feed = fixture("changes/sample.ndjson");
    let run = run_bin("nodules-indexer", &db, &["ingest", feed.to_str().expect("path")]).await;
    let s = run.assert_ok().summary();
    // feed-a twice in one batch: the later revision is written, the earlier superseded
    assert_eq!((s.ingested, s.deleted, s.rejected), (1, 1, 0), "{}", run.stdout);
    assert_eq!(package(&db, "feed-a").await.latest.as_deref(), Some("1.1.0"));
    assert_eq!(package(&db, "reduced-shape").await.state, PackageState::Deleted);
    assert_eq!(db.store.versions().count_documents(doc! { "package": "reduced-shape" }).await.expect("count"), 0);
    let b = raw_package(&db, "feed-b").await;
    assert_eq!(b.get_bool("stale").ok(), Some(true), "a change without a document marks it stale: {b}");
    assert_eq!(b.get_str("state").ok(), Some("stub"));
}

#[tokio::test]
async fn gzip_and_stdin_inputs_and_dry_run() {
    let db = TestDb::new().await;
    let dir = tempfile::tempdir().expect("tmp");
    let gz = dir.path().join("dump.json.gz");
    {
        let mut enc =
            flate2::write::GzEncoder::new(std::fs::File::create(&gz).expect("create"), flate2::Compression::fast());
        enc.write_all(&std::fs::read(fixture("all_docs/sample.json")).expect("read")).expect("write");
        enc.finish().expect("finish");
    }
    let dry = run_bin("nodules-indexer", &db, &["ingest", "--dry-run", gz.to_str().expect("path")]).await;
    let s = dry.assert_ok().summary();
    assert_eq!((s.ingested, s.deleted, s.rejected), (4, 1, 1), "{}", dry.stdout);
    assert_eq!(db.store.packages().count_documents(doc! {}).await.expect("count"), 0, "a dry run writes nothing");

    let mut child = spawn_bin("nodules-indexer", &db, &["ingest", "-"]);
    let mut stdin = child.stdin.take().expect("stdin");
    let bytes = std::fs::read(&gz).expect("read");
    std::thread::spawn(move || stdin.write_all(&bytes)).join().expect("join").expect("write stdin");
    let run = wait_child(child).await;
    assert_eq!(run.assert_ok().summary().ingested, 4);
}

#[tokio::test]
async fn hostile_rows_are_rejected_and_every_good_package_kept() {
    let db = TestDb::new().await;
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("hostile.json");
    let mut f = std::io::BufWriter::new(std::fs::File::create(&path).expect("create"));
    writeln!(f, "{{\"total_rows\":99,\"offset\":0,\"rows\":[").expect("w");
    let good = |i: usize| {
        packument(
            &format!("good-{i}"),
            &[("1.0.0", json!({})), ("1.0.1", json!({ "dependencies": { "left-pad": "^1" } }))],
        )
    };
    let mut expected_good = 0;
    for i in 0..20 {
        write_row(&mut f, &good(i), true).expect("w");
        expected_good += 1;
    }
    // not JSON at all, and a row cut in half
    writeln!(f, "{{\"id\":\"broken\",\"doc\":{{\"_id\":\"broken\",").expect("w");
    writeln!(f, "this is not json,").expect("w");
    // a document that is not an object
    writeln!(f, "{},", json!({ "id": "arr", "key": "arr", "value": { "rev": "1-a" }, "doc": [1, 2, 3] })).expect("w");
    // 50,000 versions
    let many: Vec<(String, serde_json::Value)> = (0..50_000).map(|i| (format!("1.0.{i}"), json!({}))).collect();
    let many_refs: Vec<(&str, serde_json::Value)> = many.iter().map(|(v, e)| (v.as_str(), e.clone())).collect();
    write_row(&mut f, &packument("many-versions", &many_refs), true).expect("w");
    expected_good += 1;
    // deeply nested junk inside a version, and in a known field
    let deep = format!("{}1{}", "[".repeat(100_000), "]".repeat(100_000));
    let junk_doc = packument("deep-junk", &[("1.0.0", json!({ "description": "survives" }))]).to_string();
    let junk_doc =
        junk_doc.replacen("\"description\"", &format!("\"junk\":{deep},\"author\":{deep},\"description\""), 1);
    writeln!(f, "{{\"id\":\"deep-junk\",\"key\":\"deep-junk\",\"value\":{{\"rev\":\"1-j\"}},\"doc\":{junk_doc}}},")
        .expect("w");
    expected_good += 1;
    // huge strings: a 20 MB description and a 5 MB dependency name
    let huge = packument(
        "huge-strings",
        &[("1.0.0", json!({ "description": "d".repeat(20 << 20), "dependencies": { "x".repeat(5 << 20): "1" } }))],
    );
    write_row(&mut f, &huge, true).expect("w");
    expected_good += 1;
    for i in 20..30 {
        write_row(&mut f, &good(i), i < 29).expect("w");
        expected_good += 1;
    }
    writeln!(f, "]}}").expect("w");
    drop(f);

    let run = run_bin("nodules-indexer", &db, &["ingest", path.to_str().expect("path")]).await;
    let s = run.assert_ok().summary();
    assert_eq!(s.ingested, expected_good, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(s.rejected, 3, "{}", run.stderr);
    let rejects: Vec<Document> = {
        use futures::TryStreamExt;
        db.store.collection("rejects").find(doc! {}).await.expect("find").try_collect().await.expect("collect")
    };
    let reasons: Vec<String> = rejects
        .iter()
        .map(|r| format!("{} {}", r.get_str("source").unwrap_or(""), r.get_str("reason").unwrap_or("")))
        .collect();
    assert!(reasons.iter().any(|r| r.contains("hostile.json:22") && r.contains("invalid JSON")), "{reasons:?}");
    assert!(reasons.iter().any(|r| r.contains("hostile.json:23")), "{reasons:?}");
    assert!(reasons.iter().any(|r| r.contains("not a JSON object")), "{reasons:?}");

    let many = package(&db, "many-versions").await;
    assert_eq!(many.version_count, 50_000);
    assert_eq!(many.latest.as_deref(), Some("1.0.49999"));
    let junk = package(&db, "deep-junk").await;
    assert_eq!(junk.latest().and_then(|l| l.description.as_deref()), Some("survives"));
    assert!(junk.warnings.iter().any(|w| w.contains("author")), "{:?}", junk.warnings);
    let huge = package(&db, "huge-strings").await;
    let d = huge.latest().and_then(|l| l.description.clone()).expect("description kept, capped");
    assert!(d.len() <= 16 * 1024, "capped: {}", d.len());
    for i in 0..30 {
        assert_eq!(package(&db, &format!("good-{i}")).await.latest.as_deref(), Some("1.0.1"));
    }
}

#[tokio::test]
async fn a_second_run_exits_75_while_the_first_holds_the_lease() {
    let db = TestDb::new().await;
    // the first run holds the lease while it waits for stdin
    let mut first = spawn_bin("nodules-indexer", &db, &["ingest", "-"]);
    let mut held = false;
    for _ in 0..100 {
        if db.store.collection("locks").count_documents(doc! { "_id": "indexer" }).await.expect("count") == 1 {
            held = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(held, "the first run never took the lease");
    let second =
        run_bin("nodules-indexer", &db, &["ingest", fixture("all_docs/sample.json").to_str().expect("path")]).await;
    second.assert_code(75);
    assert!(second.stderr.contains("holds the lease") && second.stderr.contains("pid"), "{}", second.stderr);
    assert_eq!(db.store.packages().count_documents(doc! {}).await.expect("count"), 0, "the second run wrote nothing");
    drop(first.stdin.take()); // end of input: the first run finishes
    wait_child(first).await.assert_ok();
    // and the lease is free again
    run_bin("nodules-indexer", &db, &["ingest", fixture("all_docs/sample.json").to_str().expect("path")])
        .await
        .assert_ok();
}

/// Versions of a new package are inserted, not upserted; a batch replayed after a crash
/// between its version records and its package records finds them stored and replaces them.
#[tokio::test]
async fn a_batch_replayed_after_a_crash_replaces_the_versions_it_wrote() {
    let db = TestDb::new().await;
    let dir = tempfile::tempdir().expect("tmp");
    let write_dump = |name: &str, description: &str| {
        let path = dir.path().join(name);
        let mut f = std::io::BufWriter::new(std::fs::File::create(&path).expect("create"));
        writeln!(f, "{{\"total_rows\":0,\"offset\":0,\"rows\":[").expect("w");
        for i in 0..3 {
            let mut doc = packument(&format!("replayed-{i}"), &[("1.0.0", json!({})), ("1.1.0", json!({}))]);
            doc["versions"]["1.1.0"]["description"] = json!(description);
            write_row(&mut f, &doc, i < 2).expect("w");
        }
        writeln!(f, "]}}").expect("w");
        path
    };
    let first = write_dump("first.json", "as first written");
    run_bin("nodules-indexer", &db, &["ingest", first.to_str().expect("path")]).await.assert_ok();
    // the crash: version records written, package records not
    db.store.packages().delete_many(doc! {}).await.expect("delete packages");
    let second = write_dump("second.json", "as written again");
    let run = run_bin("nodules-indexer", &db, &["ingest", second.to_str().expect("path")]).await;
    assert_eq!(run.assert_ok().summary().ingested, 3, "{}", run.stdout);
    assert!(!run.stderr.contains("refused"), "{}", run.stderr);
    for i in 0..3 {
        let v = db
            .store
            .collection("versions")
            .find_one(doc! { "_id": format!("replayed-{i}@1.1.0") })
            .await
            .expect("find")
            .expect("version stored");
        assert_eq!(v.get_str("description").ok(), Some("as written again"), "{v:?}");
        assert_eq!(package(&db, &format!("replayed-{i}")).await.versions.len(), 2);
    }
}

#[tokio::test]
async fn memory_stays_flat_on_a_dump_ten_times_larger() {
    let db = TestDb::new().await;
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("big.json");
    let mut f = std::io::BufWriter::new(std::fs::File::create(&path).expect("create"));
    writeln!(f, "{{\"total_rows\":0,\"offset\":0,\"rows\":[").expect("w");
    // bulky documents, as real ones are: a large readme the indexer does not keep
    let readme = "r".repeat(200_000);
    let n = 3000;
    for i in 0..n {
        let mut doc = packument(
            &format!("big-{i}"),
            &[("1.0.0", json!({})), ("1.1.0", json!({ "dependencies": { "big-0": "1" } }))],
        );
        doc["readme"] = json!(readme);
        write_row(&mut f, &doc, i + 1 < n).expect("w");
    }
    writeln!(f, "]}}").expect("w");
    drop(f);
    let size = std::fs::metadata(&path).expect("meta").len();
    let run = run_bin("nodules-indexer", &db, &["ingest", path.to_str().expect("path")]).await;
    assert_eq!(run.assert_ok().summary().ingested, n as u64);
    let peak = run.peak_rss();
    eprintln!("dump {} MB, peak RSS {} MB", size >> 20, peak >> 20);
    assert!(peak * 10 <= size, "peak RSS {} MB is more than a tenth of the {} MB dump", peak >> 20, size >> 20);
}
