//! Staying current: `follow` against a fake `_changes` feed and fake registry, `fetch
//! --stale` with conditional requests, unpublished packages.

use mongodb::bson::doc;
use nodules_e2e::bins::run_bin;
use nodules_e2e::dumps::packument;
use nodules_e2e::feed::FakeFeed;
use nodules_e2e::{FakeRegistry, Reply};
use nodules_store::model::PackageState;
use nodules_store::testing::TestDb;
use serde_json::json;

fn doc_with_rev(name: &str, rev: &str, versions: &[&str]) -> String {
    let vs: Vec<(&str, serde_json::Value)> = versions.iter().map(|v| (*v, json!({}))).collect();
    let mut d = packument(name, &vs);
    d["_rev"] = json!(rev);
    d.to_string()
}

async fn follow(db: &TestDb, feed: &FakeFeed, reg: &FakeRegistry) -> nodules_e2e::Run {
    let (reg_url, feed_url) = (reg.url(), feed.url());
    run_bin("nodules-indexer", db, &["--registry", &reg_url, "follow", &feed_url, "--idle", "1s", "--timeout", "2s"])
        .await
}

async fn state(db: &TestDb, name: &str) -> Option<PackageState> {
    db.store.package(name).await.expect("read").map(|p| p.state)
}

#[tokio::test]
async fn follow_fetches_what_the_feed_does_not_carry_and_resumes_from_its_checkpoint() {
    let db = TestDb::new().await;
    let (feed, reg) = (FakeFeed::start().await, FakeRegistry::start().await);
    for name in ["a", "b", "c"] {
        reg.on(&format!("/{name}"), vec![Reply::json(doc_with_rev(name, "1-x", &["1.0.0"]))]);
        feed.change(name, "1-x");
    }
    feed.with_doc("carried", "1-c", serde_json::from_str(&doc_with_rev("carried", "1-c", &["2.0.0"])).expect("json"));
    let run = follow(&db, &feed, &reg).await;
    let s = run.assert_ok().summary();
    assert_eq!(s.ingested, 4, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(reg.requests("/a").len(), 1);
    assert!(reg.requests("/carried").is_empty(), "a change that carries its document is not fetched");

    // the next run resumes from the checkpoint; a change whose rev is stored is not fetched
    feed.change("a", "1-x");
    reg.on("/b", vec![Reply::json(doc_with_rev("b", "2-y", &["1.0.0", "1.1.0"]))]);
    feed.change("b", "2-y");
    feed.deletion("c", "2-z");
    let run = follow(&db, &feed, &reg).await;
    let s = run.assert_ok().summary();
    assert_eq!((s.ingested, s.unchanged, s.deleted), (1, 1, 1), "{}\n{}", run.stdout, run.stderr);
    assert_eq!(feed.sinces(), vec!["0", "4"], "resumed from the stored last_seq");
    assert_eq!(reg.requests("/a").len(), 1, "unchanged rev: no fetch");
    assert_eq!(reg.requests("/b").len(), 2);
    assert_eq!(db.store.package("b").await.expect("read").and_then(|p| p.latest).as_deref(), Some("1.1.0"));
    assert_eq!(state(&db, "c").await, Some(PackageState::Deleted));
    let cp = db.store.collection("checkpoints").find_one(doc! {}).await.expect("find").expect("checkpoint");
    assert_eq!(cp.get_str("last_seq").ok(), Some("7"), "{cp}");
}

#[tokio::test]
async fn a_dropped_feed_is_resumed_not_restarted() {
    let db = TestDb::new().await;
    let (feed, reg) = (FakeFeed::start().await, FakeRegistry::start().await);
    for i in 0..6 {
        let name = format!("p{i}");
        reg.on(&format!("/{name}"), vec![Reply::json(doc_with_rev(&name, "1-a", &["1.0.0"]))]);
        feed.change(&name, "1-a");
    }
    feed.drop_after(2);
    let run = follow(&db, &feed, &reg).await;
    assert_eq!(run.assert_ok().summary().ingested, 6, "{}", run.stderr);
    assert_eq!(feed.sinces(), vec!["0", "2"], "reconnected after the last change read: {}", run.stderr);
    for i in 0..6 {
        assert_eq!(reg.requests(&format!("/p{i}")).len(), 1, "p{i} fetched once");
    }
}

#[tokio::test]
async fn fetch_stale_sends_conditional_requests_and_handles_304() {
    let db = TestDb::new().await;
    let reg = FakeRegistry::start().await;
    let url = reg.url();
    reg.on(
        "/cond",
        vec![
            Reply::json(doc_with_rev("cond", "1-a", &["1.0.0"]))
                .header("etag", "\"v1\"")
                .header("last-modified", "Tue, 01 Jul 2025 00:00:00 GMT"),
            Reply::status(304),
        ],
    );
    run_bin("nodules-indexer", &db, &["--registry", &url, "fetch", "cond"]).await.assert_ok();
    let before = db.store.packages().find_one(doc! { "_id": "cond" }).await.expect("find").expect("stored");
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let run = run_bin("nodules-indexer", &db, &["--registry", &url, "fetch", "--stale", "1ms"]).await;
    let s = run.assert_ok().summary();
    assert_eq!((s.ingested, s.unchanged), (0, 1), "{}", run.stdout);
    let second = &reg.requests("/cond")[1];
    assert_eq!(second.headers.get("if-none-match").and_then(|v| v.to_str().ok()), Some("\"v1\""));
    assert_eq!(
        second.headers.get("if-modified-since").and_then(|v| v.to_str().ok()),
        Some("Tue, 01 Jul 2025 00:00:00 GMT")
    );
    let after = db.store.packages().find_one(doc! { "_id": "cond" }).await.expect("find").expect("stored");
    assert!(after.get_datetime("checked_at").expect("checked") > before.get_datetime("checked_at").expect("checked"));
    assert_eq!(after.get_i64("seq").ok(), before.get_i64("seq").ok(), "a 304 rewrites nothing");

    // packages marked stale by a feed are fetched by --stale, fresh ones are not
    reg.on("/fresh", vec![Reply::json(doc_with_rev("fresh", "1-f", &["1.0.0"]))]);
    run_bin("nodules-indexer", &db, &["--registry", &url, "fetch", "fresh"]).await.assert_ok();
    db.store.packages().update_one(doc! { "_id": "cond" }, doc! { "$set": { "stale": true } }).await.expect("mark");
    let run = run_bin("nodules-indexer", &db, &["--registry", &url, "fetch", "--stale", "1h"]).await;
    run.assert_ok();
    assert_eq!(reg.requests("/cond").len(), 3, "the stale one is fetched");
    assert_eq!(reg.requests("/fresh").len(), 1, "the fresh one is not");
}

#[tokio::test]
async fn unpublished_packages_keep_what_is_known_and_leave_the_site() {
    let db = TestDb::new().await;
    let reg = FakeRegistry::start().await;
    let url = reg.url();
    reg.on(
        "/gone",
        vec![
            Reply::json(doc_with_rev("gone", "1-a", &["1.0.0", "1.1.0"])),
            Reply::json(
                json!({
                    "_id": "gone", "_rev": "2-b", "name": "gone",
                    "time": { "created": "2020-01-01T00:00:00.000Z", "modified": "2025-03-03T00:00:00.000Z",
                              "unpublished": { "time": "2025-03-03T00:00:00.000Z", "versions": ["1.0.0", "1.1.0"] } }
                })
                .to_string(),
            ),
        ],
    );
    run_bin("nodules-indexer", &db, &["--registry", &url, "fetch", "gone"]).await.assert_ok();
    let run = run_bin("nodules-indexer", &db, &["--registry", &url, "fetch", "gone"]).await;
    assert_eq!(run.assert_ok().summary().deleted, 1, "{}", run.stdout);
    let p = db.store.package("gone").await.expect("read").expect("kept");
    assert_eq!(p.state, PackageState::Unpublished);
    let u = p.unpublished.expect("what is known");
    assert_eq!(u.versions, vec!["1.0.0", "1.1.0"]);
    assert_eq!(u.time.map(|t| t.try_to_rfc3339_string().expect("date")).as_deref(), Some("2025-03-03T00:00:00Z"));
    assert_eq!(db.store.versions().count_documents(doc! { "package": "gone" }).await.expect("count"), 0);
    let status = run_bin("nodules-indexer", &db, &["status", "--json"]).await;
    let v: serde_json::Value = serde_json::from_str(&status.assert_ok().stdout).expect("json");
    assert_eq!(v["packages"]["unpublished"], json!(1), "{v}");
    // active: all records but the other states' (not counted record by record)
    let active = db.store.packages().count_documents(doc! { "state": "active" }).await.expect("count");
    assert_eq!(v["packages"]["active"], json!(active), "{v}");
}
