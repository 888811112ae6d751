//! Search end to end: the indexer and downloader fill a real database, the webapp builds
//! its index from it and keeps it current, and a user searches over real HTTP — the page
//! without JavaScript, the JSON API, suggestions, and mistakes in the query.

use std::time::{Duration, Instant};

use mongodb::bson::doc;
use nodules_e2e::bins::run_bin;
use nodules_e2e::registry::doc_path;
use nodules_e2e::web::Webapp;
use nodules_e2e::{FakeRegistry, Reply};
use nodules_store::testing::TestDb;
use reqwest::StatusCode;
use scraper::{Html, Selector};
use serde_json::{Value, json};

/// How long an incremental update may take to show (the sync polls every second).
const UPDATE_WITHIN: Duration = Duration::from_secs(20);

async fn ok(bin: &str, db: &TestDb, args: &[&str]) {
    run_bin(bin, db, args).await.assert_ok();
}

async fn json(http: &reqwest::Client, url: String) -> (StatusCode, Value) {
    let r = http.get(&url).send().await.expect("request");
    let status = r.status();
    let body = r.text().await.expect("body");
    (status, serde_json::from_str(&body).unwrap_or_else(|e| panic!("{url}: not JSON ({e}): {body}")))
}

fn names(v: &Value) -> Vec<String> {
    v["results"].as_array().expect("results").iter().map(|r| r["name"].as_str().expect("name").to_string()).collect()
}

/// Polls the API until `check` holds for the answer to `q`, or panics with the last answer.
async fn eventually(web: &Webapp, q: &str, what: &str, check: impl Fn(&Value) -> bool) -> Duration {
    let http = reqwest::Client::new();
    let started = Instant::now();
    let mut last = Value::Null;
    while started.elapsed() < UPDATE_WITHIN {
        let url = format!("{}?q={}", web.url("/api/v1/search"), urlencoding(q));
        let (status, v) = json(&http, url).await;
        if status == StatusCode::OK && check(&v) {
            return started.elapsed();
        }
        last = v;
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("{what}: not seen within {UPDATE_WITHIN:?}; last answer for {q:?}: {last}");
}

fn urlencoding(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

struct Site {
    db: TestDb,
    reg: FakeRegistry,
    url: String,
}

/// `widget` (no dependents) among more popular look-alikes, a deprecated one, a package
/// with types, and dependents that make `widget-kit` popular.
async fn site() -> Site {
    let db = TestDb::new().await;
    let reg = FakeRegistry::start().await;
    let url = reg.url();
    reg.publish("widget", &[("index.js", b"")], json!({ "description": "The widget", "license": "MIT" }));
    reg.publish(
        "widget-kit",
        &[("index.js", b"export default 1"), ("index.d.ts", b"export {}")],
        json!({ "description": "Widgets with types", "license": "Apache-2.0", "type": "module", "types": "index.d.ts",
                "keywords": ["ui", "widgets"], "author": "Grace Hopper" }),
    );
    reg.publish(
        "old-widget",
        &[("index.js", b"")],
        json!({ "description": "widget of old", "deprecated": "use widget" }),
    );
    reg.publish("@acme/widget", &[("index.js", b"")], json!({ "description": "scoped widget" }));
    let mut all = vec!["widget".to_string(), "widget-kit".into(), "old-widget".into(), "@acme/widget".into()];
    for i in 0..12 {
        let name = format!("app-{i:02}");
        reg.publish(
            &name,
            &[("index.js", b"")],
            json!({ "description": "an app", "dependencies": { "widget-kit": "^1" } }),
        );
        all.push(name);
    }
    let mut args = vec!["--registry", url.as_str(), "fetch"];
    args.extend(all.iter().map(String::as_str));
    ok("nodules-indexer", &db, &args).await;
    ok("nodules-downloader", &db, &["--registry", &url, "run", "--once"]).await;
    ok("nodules-indexer", &db, &["dependents", "--rerank"]).await;
    Site { db, reg, url }
}

#[tokio::test]
async fn search_pages_api_and_suggest() {
    let site = site().await;
    let web = Webapp::start(&site.db, &[]).await;
    web.wait_search_ready().await;
    let http = reqwest::Client::new();

    // the exact name first, though every look-alike is more popular
    let (status, v) = json(&http, web.url("/api/v1/search?q=widget")).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    let found = names(&v);
    assert_eq!(found.first().map(String::as_str), Some("widget"), "{found:?}");
    assert_eq!(found.get(1).map(String::as_str), Some("@acme/widget"), "scoped name part next: {found:?}");
    assert!(found.contains(&"widget-kit".to_string()), "{found:?}");
    let pos = |n: &str| found.iter().position(|f| f == n).unwrap_or_else(|| panic!("{n} missing: {found:?}"));
    assert!(pos("old-widget") > pos("widget-kit"), "deprecated below: {found:?}");
    assert_eq!(v["total"], 4, "{v}");
    let kit = &v["results"][pos("widget-kit")];
    assert_eq!(kit["dependents_count"], 12, "{kit}");
    assert_eq!(kit["has_types"], true, "{kit}");
    assert_eq!(kit["module_type"], "esm", "{kit}");
    assert_eq!(kit["license"], "Apache-2.0", "{kit}");
    assert_eq!(v["facets"]["has_types"]["true"], 1, "{v}");
    assert_eq!(v["facets"]["license"]["MIT"], 1, "{v}");

    // qualifiers and filters
    let (_, v) = json(&http, web.url("/api/v1/search?q=keywords:ui")).await;
    assert_eq!(names(&v), ["widget-kit"], "{v}");
    let (_, v) = json(&http, web.url("/api/v1/search?q=widget%20has:types")).await;
    assert_eq!(names(&v), ["widget-kit"], "{v}");
    let (_, v) = json(&http, web.url("/api/v1/search?q=widget%20not:deprecated")).await;
    assert!(!names(&v).contains(&"old-widget".to_string()), "{v}");
    let (_, v) = json(&http, web.url("/api/v1/search?q=is:deprecated")).await;
    assert_eq!(names(&v), ["old-widget"], "{v}");
    let (_, v) = json(&http, web.url("/api/v1/search?q=author:%22Grace%20Hopper%22")).await;
    assert_eq!(names(&v), ["widget-kit"], "{v}");
    // a typo: fuzzy names, and "did you mean"
    let (_, v) = json(&http, web.url("/api/v1/search?q=widgte")).await;
    assert!(names(&v).contains(&"widget".to_string()), "{v}");
    assert_eq!(v["did_you_mean"], "widget", "{v}");

    // bad syntax: a 400 that says what to write, as JSON and as a page
    let (status, v) = json(&http, web.url("/api/v1/search?q=module:flat")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{v}");
    assert!(v["error"]["message"].as_str().unwrap_or("").contains("module:esm"), "{v}");
    let r = http.get(web.url("/search?q=module:flat")).send().await.expect("page");
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let body = r.text().await.expect("body");
    assert!(body.contains("module:esm") && body.contains("<form"), "a helpful page with the search box: {body}");

    // suggest: name prefixes, most depended first
    let (status, v) = json(&http, web.url("/api/v1/suggest?q=wid")).await;
    assert_eq!(status, StatusCode::OK);
    let suggested: Vec<&str> =
        v["suggestions"].as_array().expect("list").iter().filter_map(|s| s["name"].as_str()).collect();
    assert_eq!(suggested.first(), Some(&"widget-kit"), "{v}");
    assert!(suggested.contains(&"widget") && !suggested.contains(&"app-01"), "{v}");

    // the page, without JavaScript: a GET form, results, filters as plain links
    let body = http.get(web.url("/search?q=widget")).send().await.expect("page").text().await.expect("body");
    let page = Html::parse_document(&body);
    let sel = |css: &str| Selector::parse(css).expect("css");
    let form =
        page.select(&sel("form[action='/search'][method='get'] input#search-q[name='q']")).next().expect("search form");
    assert_eq!(form.value().attr("value"), Some("widget"));
    let shown: Vec<String> = page.select(&sel("ol.rows a.pkg")).map(|a| a.text().collect()).collect();
    assert_eq!(shown.first().map(String::as_str), Some("widget"), "{shown:?}");
    assert!(body.contains("12 dependents"), "dependents count shown");
    let filter = page
        .select(&sel("nav.filters a"))
        .find(|a| a.text().collect::<String>().contains("has types"))
        .expect("has types filter link");
    let href = filter.value().attr("href").expect("href").to_string();
    let filtered = http.get(web.url(&href)).send().await.expect("filtered").text().await.expect("body");
    let filtered = Html::parse_document(&filtered);
    let shown: Vec<String> = filtered.select(&sel("ol.rows a.pkg")).map(|a| a.text().collect()).collect();
    assert_eq!(shown, ["widget-kit"], "following {href}");
    let (status, _) = json(&http, web.url("/api/v1/search")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "q is required");
}

#[tokio::test]
async fn incremental_updates_and_restart_without_rebuild() {
    let site = site().await;
    let index = tempfile::tempdir().expect("tmp");
    let web = Webapp::start_in(&site.db, index.path(), &[]).await;
    web.wait_search_ready().await;

    // a package updated: its new description is found
    site.reg.publish("widget", &[("index.js", b"")], json!({ "description": "The sparkly widget", "license": "MIT" }));
    ok("nodules-indexer", &site.db, &["--registry", &site.url, "fetch", "widget"]).await;
    let took =
        eventually(&web, "sparkly", "updated description", |v| names(v).first().is_some_and(|n| n == "widget")).await;
    eprintln!("update visible after {took:?}");

    // a new package, downloaded later: `has:types` only once the tarball was read
    site.reg.publish(
        "gizmo",
        &[("index.js", b""), ("index.d.ts", b"export {}")],
        json!({ "description": "A gizmo", "types": "index.d.ts" }),
    );
    ok("nodules-indexer", &site.db, &["--registry", &site.url, "fetch", "gizmo"]).await;
    eventually(&web, "gizmo", "new package", |v| names(v) == ["gizmo"] && v["results"][0]["has_types"].is_null()).await;
    ok("nodules-downloader", &site.db, &["--registry", &site.url, "run", "--once"]).await;
    eventually(&web, "gizmo has:types", "types found by the downloader", |v| names(v) == ["gizmo"]).await;

    // unpublished: gone from results
    site.reg.on(
        &doc_path("old-widget"),
        vec![Reply::json(
            json!({ "_id": "old-widget", "name": "old-widget",
                    "time": { "unpublished": { "time": "2025-03-03T00:00:00.000Z", "versions": ["1.0.0"] } } })
            .to_string(),
        )],
    );
    ok("nodules-indexer", &site.db, &["--registry", &site.url, "fetch", "old-widget"]).await;
    eventually(&web, "is:deprecated", "unpublished package removed", |v| v["total"] == 0).await;
    web.stop();

    // behind the webapp's back: a record with an old `seq`. A rebuild would find it, the
    // incremental sync does not — so its absence shows the restart did not rebuild.
    let packages = site.db.store.collection("packages");
    let mut sneaky = packages.find_one(doc! { "_id": "gizmo" }).await.expect("read").expect("gizmo");
    sneaky.insert("_id", "sneaky-gizmo");
    sneaky.insert("seq", 0_i64);
    packages.insert_one(sneaky).await.expect("insert");

    let web = Webapp::start_in(&site.db, index.path(), &[]).await;
    let http = reqwest::Client::new();
    let ready = http.get(web.url("/readyz")).send().await.expect("readyz").text().await.expect("body");
    assert_eq!(ready, "ready\n", "no indexing after a restart");
    let (status, v) = json(&http, web.url("/api/v1/search?q=gizmo")).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(names(&v), ["gizmo"], "the restart kept the index and did not rebuild it: {v}");
    // and it still follows new writes
    site.reg.publish("gadget", &[("index.js", b"")], json!({ "description": "A gadget" }));
    ok("nodules-indexer", &site.db, &["--registry", &site.url, "fetch", "gadget"]).await;
    eventually(&web, "gadget", "a package written after the restart", |v| {
        names(v).first().is_some_and(|n| n == "gadget")
    })
    .await;
}

#[tokio::test]
async fn search_says_indexing_while_the_first_build_runs() {
    // one read of 40,000 records at once held the development server for seconds, and the
    // home page answered 503 on a busy machine: the build now reads windows and rests
    // enough packages that the first build takes a moment, written straight to the database
    const STUBS: i64 = 40_000;
    let db = TestDb::new().await;
    let packages = db.store.collection("packages");
    for chunk in (0..STUBS).collect::<Vec<_>>().chunks(5000) {
        let docs = chunk.iter().map(|i| {
            doc! { "_id": format!("stub-{i:05}"), "state": "active", "seq": i + 1, "latest": "1.0.0",
            "latest_version": { "version": "1.0.0", "description": format!("stub number {i}") } }
        });
        packages.insert_many(docs).await.expect("insert stubs");
    }
    // the counter stands past them, as after the indexer's writes (each takes a number)
    db.store.reserve_seq(nodules_store::seq::PACKAGE_SEQ, STUBS as u64).await.expect("seq");
    let web = Webapp::start(&db, &[]).await;
    let http = reqwest::Client::new();
    let ready = http.get(web.url("/readyz")).send().await.expect("readyz");
    assert_eq!(ready.status(), StatusCode::OK, "pages work meanwhile: still ready");
    let ready = ready.text().await.expect("body");
    assert!(ready.starts_with("ready; search: indexing, ") && ready.ends_with(" %\n"), "{ready:?}");
    let page = http.get(web.url("/search?q=stub")).send().await.expect("page").text().await.expect("body");
    assert!(page.contains("indexing,"), "the search page says so: {page}");
    let (status, v) = json(&http, web.url("/api/v1/search?q=stub")).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{v}");
    pages_answer_in_time_during_the_build(&http, &web).await;

    let started = Instant::now();
    web.wait_search_ready().await;
    eprintln!("{STUBS} packages indexed {:?} after the first probe", started.elapsed());
    let (_, v) = json(&http, web.url("/api/v1/search?q=stub")).await;
    assert_eq!(v["total"], STUBS, "every package indexed");
    let (_, v) = json(&http, web.url("/api/v1/search?q=stub-12345")).await;
    assert_eq!(names(&v).first().map(String::as_str), Some("stub-12345"), "{v}");
}

/// Page after page while the first build runs, each a different page (no page cache),
/// each answered in full within the request budget: the build leaves the server time.
async fn pages_answer_in_time_during_the_build(http: &reqwest::Client, web: &Webapp) {
    let budget = nodules_webapp::routes::REQUEST_BUDGET;
    let mut during_build = 0;
    let mut slowest = Duration::ZERO;
    for i in 0..12 {
        let path = match i {
            0 => "/".to_string(),
            _ if i % 2 == 1 => format!("/package/stub-{:05}", i * 997),
            _ => format!("/package/stub-{:05}/dependents", i * 997),
        };
        let started = Instant::now();
        let r = http.get(web.url(&path)).send().await.expect("page");
        let status = r.status();
        r.bytes().await.expect("body");
        let took = started.elapsed();
        assert!(status == StatusCode::OK, "{path} during the build: {status} after {took:?}");
        assert!(took < budget, "{path} during the build took {took:?}, over the {budget:?} budget");
        slowest = slowest.max(took);
        let ready = http.get(web.url("/readyz")).send().await.expect("readyz").text().await.expect("body");
        if ready.starts_with("ready; search: indexing") {
            during_build += 1;
        }
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
    eprintln!("{during_build} of 12 pages asked for during the build; the slowest took {slowest:?}");
    assert!(
        during_build >= 6,
        "only {during_build} of 12 pages were asked for while the build ran: too few to prove it"
    );
}
