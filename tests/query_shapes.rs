//! Every query shape the services send, recorded from the driver's command events
//! (`NODULES_QUERY_SHAPES`, see `nodules_store::shapes`) while the main flows run — ingest,
//! follow, fetch and fetch --stale, the downloader, dependents --rerank, trees, status, and every
//! page and API route of the webapp — is explained against the database the flows filled.
//! None sent by the webapp (the request path) may scan a collection or sort in memory; the
//! shapes only batch jobs send are listed with their plan. A query added without its index
//! fails here by construction: the binaries report what they send, nobody lists it by hand.

use std::collections::BTreeMap;
use std::time::Duration;

use mongodb::bson::{Bson, Document, doc};
use nodules_e2e::bins::{record_query_shapes, run_bin};
use nodules_e2e::dumps::{all_docs, packument};
use nodules_e2e::feed::FakeFeed;
use nodules_e2e::web::Webapp;
use nodules_e2e::{FakeRegistry, Reply};
use nodules_store::shapes::{Shape, read_dir};
use nodules_store::testing::TestDb;
use serde_json::json;

/// Every `stage` name anywhere in an explain answer.
fn stages(v: &Bson, out: &mut Vec<String>) {
    match v {
        Bson::Document(d) => {
            for (k, v) in d {
                if k == "stage"
                    && let Bson::String(s) = v
                {
                    out.push(s.clone());
                }
                stages(v, out);
            }
        }
        Bson::Array(a) => a.iter().for_each(|v| stages(v, out)),
        _ => {}
    }
}

/// The plan's stages for `shape`: a read as sent, a write as a `find` of its filter (the
/// development server explains only `find`). `Err` when there is nothing to explain.
async fn plan(db: &TestDb, shape: &Shape) -> Result<Vec<String>, String> {
    let Some(filter) = shape.sample_filter() else { return Err("no filter (an insert)".into()) };
    if shape.command == "count" && filter.is_empty() {
        return Err("no filter (a count from the collection's metadata)".into());
    }
    let mut find = doc! { "find": &shape.collection, "filter": filter };
    if let Some(sort) = &shape.sort {
        find.insert("sort", sort.clone());
    }
    let answer: Document = db
        .store
        .database()
        .run_command(doc! { "explain": find, "verbosity": "queryPlanner" })
        .await
        .map_err(|e| format!("explain failed: {e}"))?;
    let mut found = Vec::new();
    stages(&Bson::Document(answer.clone()), &mut found);
    if found.is_empty() {
        return Ok(vec![format!("NO STAGES in {answer}")]);
    }
    Ok(found)
}

/// Whether a filter pins `_id` (equality or `$in`): on MongoDB a key lookup through the
/// `_id` index whatever else the filter holds. The development server's planner answers
/// such a filter with `COLLSCAN` in `explain` but runs it by key: on 40,000 records,
/// `{_id, state}` took 2.2 ms and `{_id}` 1.4 ms, a real scan (an unindexed field) 1,180 ms
/// (measured 2026-12-07 with pymongo against `scripts/devdb`). Its verdict is not the
/// explain's, then; anything else that scans fails.
fn pins_id(shape: &Shape) -> bool {
    let Some(filter) = shape.filter.as_ref() else { return false };
    match filter.get("_id") {
        Some(mongodb::bson::Bson::Document(d)) => d.keys().all(|k| k == "$in"),
        Some(_) => true,
        None => false,
    }
}

fn get(base: &str, path: &str) -> String {
    format!("{base}{path}")
}

/// Fills a database through every flow, with shapes recorded in `shapes`.
async fn run_flows(db: &TestDb) {
    let reg = FakeRegistry::start().await;
    let url = reg.url();
    let indexer = |args: Vec<String>| async move {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let run = run_bin("nodules-indexer", db, &args).await;
        run.assert_ok();
    };
    let s = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();

    // ingest: a small dump (one package superseded by the fetch below)
    let dump_dir = tempfile::tempdir().expect("tmp");
    let dump = dump_dir.path().join("all_docs.json");
    let docs = vec![
        packument("ingested", &[("1.0.0", json!({ "dependencies": { "normal": "^1" } }))]),
        packument("ingested-two", &[("1.0.0", json!({})), ("2.0.0", json!({ "keywords": ["parsing"] }))]),
    ];
    all_docs(&mut std::fs::File::create(&dump).expect("dump"), &docs).expect("write dump");
    indexer(s(&["ingest", dump.to_str().expect("path")])).await;

    // fetch: documents and tarballs from the fake registry
    reg.publish(
        "normal",
        &[("README.md", b"# normal\n\nHello."), ("index.js", b"export default 1"), ("index.d.ts", b"export {}")],
        json!({
            "description": "A normal package", "license": "MIT", "type": "module", "keywords": ["Parsing"],
            "author": "Ada Lovelace <ada@example.com>", "dependencies": { "dep-a": "^1" },
        }),
    );
    reg.publish("dep-a", &[("index.js", b"")], json!({ "description": "a dependency" }));
    reg.publish("user-a", &[("index.js", b"")], json!({ "dependencies": { "normal": "^1" } }));
    reg.publish("tester-a", &[("index.js", b"")], json!({ "devDependencies": { "normal": "^1" } }));
    reg.on(
        "/gone",
        vec![Reply::json(
            json!({ "_id": "gone", "name": "gone", "time": { "unpublished": { "time": "2025-03-03T00:00:00.000Z", "versions": ["1.0.0"] } } })
                .to_string(),
        )],
    );
    let mut args = s(&["--registry", &url, "fetch", "normal", "dep-a", "user-a", "tester-a", "gone"]);
    indexer(args.clone()).await;

    // follow: a change without its document, one with it, a deletion
    let feed = FakeFeed::start().await;
    feed.change("dep-a", "2-x");
    feed.with_doc("carried", "1-c", packument("carried", &[("1.0.0", json!({}))]));
    feed.deletion("ingested-two", "3-z");
    indexer(s(&["--registry", &url, "follow", &feed.url(), "--idle", "1s", "--timeout", "2s"])).await;

    // fetch --stale: conditional requests for everything checked more than 1 ms ago
    indexer(s(&["--registry", &url, "fetch", "--stale", "1ms"])).await;

    // the downloader, then a version queued after it ran (a page asks for it)
    run_bin("nodules-downloader", db, &["--registry", &url, "run", "--once", "--backoff", "100ms", "--lease", "5s"])
        .await
        .assert_ok();
    reg.publish("queued", &[("index.js", b"")], json!({ "description": "not downloaded yet" }));
    args.truncate(2);
    args.extend(s(&["fetch", "queued"]));
    indexer(args).await;

    indexer(s(&["dependents", "--rerank"])).await;
    indexer(s(&["trees", "--commit-wait", "0s"])).await;
    indexer(s(&["status", "--json"])).await;

    // the webapp: every page and API route, then a change its watchers pick up
    let web = Webapp::start(db, &[]).await;
    web.wait_search_ready().await;
    let http = reqwest::Client::new();
    let paths = [
        "/",
        "/package/normal",
        "/package/normal/v/1.0.0",
        "/package/normal/dependents",
        "/package/normal/dependents?kind=dev",
        "/package/normal/tree",
        "/package/normal/versions",
        "/package/normal/source/",
        "/package/normal/v/1.0.0/source/index.js",
        "/package/normal/v/1.0.0/source/index.js?raw=1",
        "/package/normal/source/?find=index",
        "/package/normal/source/README.md",
        "/package/queued/source/",
        "/package/normal/diff/1.0.0...1.0.0",
        "/package/normal/v/1.0.0/search?q=export",
        "/api/v1/packages/normal/versions/1.0.0/search?q=re:export&i=1",
        "/package/normal/diff?from=1.0.0&to=1.0.0",
        "/api/v1/packages/normal/diff/1.0.0...1.0.0?text=1",
        "/package/queued",
        "/package/gone",
        "/package/no-such-package",
        "/keyword/parsing",
        "/author/ada%20lovelace",
        "/browse/recent",
        "/browse/depended",
        "/search?q=normal",
        "/api/v1/packages/normal",
        "/api/v1/packages/normal/dependents",
        "/api/v1/packages/normal/dependents?kind=dev&limit=1",
        "/api/v1/packages/normal/versions/1.0.0/files",
        "/api/v1/packages/normal/versions/1.0.0/files/README.md",
        "/api/v1/packages/gone",
        "/api/v1/packages/no-such-package",
        "/api/v1/search?q=normal",
        "/api/v1/suggest?q=nor",
        "/compare/normal,queued,no-such-package",
        "/api/v1/compare?packages=normal,queued",
        "/api/v1/openapi.json",
        "/healthz",
        "/readyz",
        "/metrics",
    ];
    for path in paths {
        let r = http.get(get(&web.base, path)).send().await.unwrap_or_else(|e| panic!("GET {path}: {e}"));
        assert!(r.status().as_u16() < 500, "GET {path}: {}", r.status());
    }
    reg.publish("late", &[("index.js", b"")], json!({ "description": "written while the webapp runs" }));
    run_bin("nodules-indexer", db, &["--registry", &url, "fetch", "late"]).await.assert_ok();
    tokio::time::sleep(Duration::from_millis(2500)).await;
    web.stop();
}

#[tokio::test]
async fn every_query_shape_sent_uses_an_index_on_the_request_path() {
    let shapes_dir = tempfile::tempdir().expect("tmp");
    record_query_shapes(shapes_dir.path());
    let db = TestDb::new().await;
    run_flows(&db).await;

    // one entry per shape, with every process that sent it
    let mut distinct: BTreeMap<String, (Shape, Vec<String>)> = BTreeMap::new();
    for shape in read_dir(shapes_dir.path()).expect("read the recorded shapes") {
        let key = serde_json::to_string(&(&shape.collection, &shape.command, &shape.filter, &shape.sort)).expect("key");
        let e = distinct.entry(key).or_insert_with(|| (shape.clone(), Vec::new()));
        if !e.1.contains(&shape.process) {
            e.1.push(shape.process.clone());
        }
    }
    for process in ["indexer", "downloader", "webapp"] {
        assert!(distinct.values().any(|(_, p)| p.iter().any(|p| p == process)), "no shape recorded for {process}");
    }

    let mut failures = Vec::new();
    let mut report = Vec::new();
    for (shape, processes) in distinct.values() {
        let request_path = processes.iter().any(|p| p == "webapp");
        let line = |verdict: &str| {
            format!(
                "{verdict} [{}] {} {} filter={} sort={}",
                processes.join(","),
                shape.command,
                shape.collection,
                shape.filter.as_ref().map_or("-".into(), Document::to_string),
                shape.sort.as_ref().map_or("-".into(), Document::to_string),
            )
        };
        match plan(&db, shape).await {
            Err(why) => report.push(format!("{}: {why}", line("  "))),
            Ok(found) => {
                let bad = found.iter().any(|s| s == "COLLSCAN" || s == "SORT" || s.starts_with("NO STAGES"));
                let known = bad && request_path && pins_id(shape);
                let verdict = if known {
                    "BY _id"
                } else if bad && request_path {
                    "!!"
                } else {
                    "  "
                };
                let text = format!("{} -> {}", line(verdict), found.join(" > "));
                if bad && request_path && !known {
                    failures.push(text.clone());
                }
                report.push(text);
            }
        }
    }
    println!("{} query shapes sent (request path: sent by the webapp):\n{}", distinct.len(), report.join("\n"));
    assert!(
        failures.is_empty(),
        "query shapes on the request path without a fitting index (collection scan or in-memory sort):\n{}",
        failures.join("\n")
    );
}
