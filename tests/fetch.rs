//! `nodules-indexer fetch` against a fake registry over real HTTP.

use std::time::Duration;

use mongodb::bson::doc;
use nodules_e2e::bins::run_bin;
use nodules_e2e::dumps::packument;
use nodules_e2e::registry::doc_path;
use nodules_e2e::{FakeRegistry, Reply};
use nodules_store::testing::TestDb;
use serde_json::json;

fn doc(name: &str) -> String {
    packument(
        name,
        &[("1.0.0", json!({})), ("1.1.0", json!({ "dependencies": { "dep-a": "^1", "dep-b": "npm:dep-c@2" } }))],
    )
    .to_string()
}

async fn fetch(db: &TestDb, reg: &FakeRegistry, extra: &[&str]) -> nodules_e2e::Run {
    let url = reg.url();
    let mut args = vec!["--registry", url.as_str(), "fetch", "--backoff", "50ms", "--timeout", "1s"];
    args.extend_from_slice(extra);
    run_bin("nodules-indexer", db, &args).await
}

#[tokio::test]
async fn answers_200_404_429_500_slow_and_truncated() {
    let db = TestDb::new().await;
    let reg = FakeRegistry::start().await;
    reg.on("/ok", vec![Reply::json(doc("ok"))]);
    reg.on("/@scope%2fscoped", vec![Reply::json(doc("@scope/scoped"))]);
    reg.on("/limited", vec![Reply::status(429).header("retry-after", "1"), Reply::json(doc("limited"))]);
    reg.on("/flaky", vec![Reply::status(500), Reply::status(503), Reply::json(doc("flaky"))]);
    reg.on("/slow", vec![Reply::json(doc("slow")).delayed(Duration::from_secs(3)), Reply::json(doc("slow"))]);
    let body = doc("cut");
    reg.on("/cut", vec![Reply::json(body.clone()).truncated(body.len() / 2), Reply::json(body)]);
    reg.on("/down", vec![Reply::status(502)]);
    // "missing" is not scripted: 404

    let run = fetch(
        &db,
        &reg,
        &["ok", "@scope/scoped", "limited", "flaky", "slow", "cut", "down", "missing", "--attempts", "3"],
    )
    .await;
    let s = run.assert_ok().summary();
    assert_eq!((s.ingested, s.failed, s.rejected), (6, 1, 0), "{}\n{}", run.stdout, run.stderr);

    assert_eq!(reg.requests("/ok").len(), 1);
    assert_eq!(reg.requests("/@scope%2fscoped").len(), 1, "scoped names as @scope%2fname");
    let limited = reg.requests("/limited");
    assert_eq!(limited.len(), 2);
    let waited = limited[1].at.duration_since(limited[0].at);
    assert!(waited >= Duration::from_millis(950), "Retry-After: 1 honoured, waited {waited:?}");
    assert_eq!(reg.requests("/flaky").len(), 3, "500, 503, then 200");
    assert_eq!(reg.requests("/slow").len(), 2, "timed out once, then answered");
    assert_eq!(reg.requests("/cut").len(), 2, "a truncated body is retried");
    assert_eq!(reg.requests("/down").len(), 3, "retried up to --attempts");
    assert_eq!(reg.requests("/missing").len(), 1, "404 is not retried");

    for name in ["ok", "@scope/scoped", "limited", "flaky", "slow", "cut"] {
        let p = db.store.packages().find_one(doc! { "_id": name }).await.expect("find").expect(name);
        assert_eq!(p.get_str("latest").ok(), Some("1.1.0"), "{name}");
    }
    let down = db.store.packages().find_one(doc! { "_id": "down" }).await.expect("find").expect("down marked");
    assert_eq!(down.get_bool("stale").ok(), Some(true), "a failed fetch is retried next run: {down}");
    assert!(db.store.packages().find_one(doc! { "_id": "missing" }).await.expect("find").is_none());
}

#[tokio::test]
async fn deps_are_followed_up_to_max_and_unchanged_documents_skipped() {
    let db = TestDb::new().await;
    let reg = FakeRegistry::start().await;
    reg.on("/root", vec![Reply::json(doc("root"))]);
    for name in ["dep-a", "dep-c"] {
        reg.on(
            &doc_path(name),
            vec![Reply::json(packument(name, &[("1.0.0", json!({ "dependencies": { "leaf": "1" } }))]).to_string())],
        );
    }
    reg.on("/leaf", vec![Reply::json(packument("leaf", &[("1.0.0", json!({}))]).to_string())]);

    let run = fetch(&db, &reg, &["root", "--deps", "--max", "3"]).await;
    assert_eq!(run.assert_ok().summary().ingested, 3, "{}", run.stderr);
    assert!(reg.requests("/leaf").is_empty(), "--max 3 stops before the leaf");
    assert_eq!(reg.requests("/dep-b").len(), 0, "an alias fetches its target, not its key");

    let again = fetch(&db, &reg, &["root", "--deps"]).await;
    let s = again.assert_ok().summary();
    assert_eq!((s.ingested, s.unchanged), (1, 3), "only the leaf is new: {}", again.stdout);
}

#[tokio::test]
async fn the_token_is_sent_and_never_logged() {
    let db = TestDb::new().await;
    let reg = FakeRegistry::start().await;
    reg.on("/private", vec![Reply::json(doc("private"))]);
    let url = reg.url();
    let mut cmd = nodules_e2e::bins::command("nodules-indexer", &db, &["--registry", &url, "fetch", "private"]);
    cmd.env("NPM_TOKEN", "s3cret-token");
    let out = tokio::task::spawn_blocking(move || cmd.output().expect("run")).await.expect("join");
    assert!(out.status.success());
    let auth = reg.requests("/private")[0].headers.get("authorization").map(|v| v.to_str().unwrap_or("").to_string());
    assert_eq!(auth.as_deref(), Some("Bearer s3cret-token"));
    let all = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(!all.contains("s3cret"), "token in output: {all}");
}
