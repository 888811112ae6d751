//! The live stream (`/api/v1/stream`), read by a real Server-Sent Events parser: an
//! ingest reaches connected clients (and the page a client reloads already shows it); a
//! client that resumes with `Last-Event-ID` is sent what it missed, a write that took its
//! number early and committed late and both of a quick double publish included; filters;
//! the cap on open streams; the last event of a server that stops.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use mongodb::bson::{DateTime, doc};
use nodules_e2e::dumps::packument;
use nodules_e2e::sse::{SseClient, data};
use nodules_e2e::web::Webapp;
use nodules_e2e::{FakeRegistry, run_bin};
use nodules_store::testing::TestDb;
use serde_json::json;

/// Loose on purpose: a busy machine must not make this flaky (`make bench` measures it).
const WAIT: Duration = Duration::from_secs(10);

fn doc(name: &str, versions: &[&str]) -> serde_json::Value {
    let vs: Vec<(&str, serde_json::Value)> = versions.iter().map(|v| (*v, json!({ "keywords": ["live"] }))).collect();
    packument(name, &vs)
}

async fn fetch(db: &TestDb, reg: &FakeRegistry, names: &[&str]) {
    let url = reg.url();
    let mut args = vec!["--registry", url.as_str(), "fetch"];
    args.extend_from_slice(names);
    run_bin("nodules-indexer", db, &args).await.assert_ok();
}

/// (kind, package, version) of each event.
fn seen(events: &[eventsource_stream::Event]) -> Vec<(String, String, String)> {
    events
        .iter()
        .map(|e| {
            let d = data(e);
            (e.event.clone(), d["package"].as_str().unwrap_or("").into(), d["version"].as_str().unwrap_or("").into())
        })
        .collect()
}

fn has(events: &[eventsource_stream::Event], kind: &str, package: &str, version: &str) -> bool {
    seen(events).iter().any(|(k, p, v)| k == kind && p == package && v == version)
}

#[tokio::test]
async fn an_ingest_reaches_clients_and_a_resumed_client_misses_nothing() {
    let db = TestDb::new().await;
    let reg = FakeRegistry::start().await;
    reg.package("a", &doc("a", &["1.0.0"]));
    fetch(&db, &reg, &["a"]).await;
    let web = Webapp::start(&db, &[]).await;
    let home = reqwest::get(web.url("/")).await.expect("home").text().await.expect("body");
    assert!(home.contains("data-live=\"/api/v1/stream\""), "the home list is wired to the stream");
    // the page is kept in the cache before the change
    let page = reqwest::get(web.url("/package/a")).await.expect("page").text().await.expect("body");
    assert!(!page.contains("1.1.0"));

    let stream = web.url("/api/v1/stream");
    let mut steady = SseClient::connect(&stream, None).await.expect("a stream");
    let mut first = SseClient::connect(&stream, None).await.expect("a stream");
    let only_b = SseClient::connect(&web.url("/api/v1/stream?package=b"), None).await.expect("a stream");

    // a publish reaches the client; the page it reloads on the event shows it
    reg.package("a", &doc("a", &["1.0.0", "1.1.0"]));
    let t = Instant::now();
    fetch(&db, &reg, &["a"]).await;
    let got = first.collect_until(WAIT, |e| has(e, "publish", "a", "1.1.0")).await;
    assert!(has(&got, "publish", "a", "1.1.0"), "within {WAIT:?}: {:?}", seen(&got));
    println!("publish seen {} ms after the indexer started", t.elapsed().as_millis());
    let event = data(got.last().expect("event"));
    assert_eq!(event["url"], "/package/a/v/1.1.0");
    let page = reqwest::get(web.url("/package/a")).await.expect("page").text().await.expect("body");
    assert!(page.contains("1.1.0"), "the cached page was dropped before the event went out");

    // a writer takes its number now and commits only after a later write was sent out
    let late = db.store.reserve_seq(nodules_store::seq::PACKAGE_SEQ, 1).await.expect("seq");
    reg.package("c", &doc("c", &["1.0.0"]));
    fetch(&db, &reg, &["c"]).await;
    let got = first.collect_until(WAIT, |e| has(e, "publish", "c", "1.0.0")).await;
    let last_id = got.last().map(|e| e.id.clone()).expect("the publish of c");
    drop(first);
    db.store
        .collection("packages")
        .update_one(
            doc! { "_id": "a" },
            doc! {
                "$set": { "seq": late },
                "$push": { "events": { "s": late, "i": 0, "k": "update", "v": "1.0.0", "d": "deprecated", "at": DateTime::now() } },
            },
        )
        .await
        .expect("the late write");
    // and a quick double publish while the client is away
    reg.package("b", &doc("b", &["2.0.0"]));
    fetch(&db, &reg, &["b"]).await;
    reg.package("b", &doc("b", &["2.0.0", "2.1.0"]));
    fetch(&db, &reg, &["b"]).await;

    let missed = |e: &[eventsource_stream::Event]| {
        has(e, "update", "a", "1.0.0") && has(e, "publish", "b", "2.0.0") && has(e, "publish", "b", "2.1.0")
    };
    // a client connected all along saw everything (the late write by the reader's sweep);
    // once it has, the webapp sent it all out: a client resuming now gets it from the replay alone
    let all = |e: &[eventsource_stream::Event]| has(e, "publish", "c", "1.0.0") && missed(e);
    let got = steady.collect_until(WAIT, all).await;
    assert!(all(&got), "{:?}", seen(&got));

    let mut resumed = SseClient::connect(&stream, Some(&last_id)).await.expect("a stream");
    let got = resumed.collect_until(WAIT, missed).await;
    assert!(missed(&got), "resumed after {last_id}: {:?}", seen(&got));
    assert!(!seen(&got).iter().any(|(k, _, _)| k == "reset"), "{:?}", seen(&got));
    let keys: Vec<String> = got.iter().map(|e| data(e)["key"].as_str().unwrap_or("").to_string()).collect();
    assert_eq!(keys.iter().collect::<HashSet<_>>().len(), keys.len(), "no event twice on one connection: {keys:?}");

    // filters
    let mut only_b = only_b;
    let got = only_b.collect_until(Duration::from_secs(3), |e| e.len() >= 2).await;
    assert!(!got.is_empty() && seen(&got).iter().all(|(_, p, _)| p == "b"), "{:?}", seen(&got));

    // an id from nowhere: told to reset, then live
    let mut lost = SseClient::connect(&stream, Some("not-an-id")).await.expect("a stream");
    let e = lost.next(WAIT).await.expect("an event");
    assert_eq!(e.event, "reset");
    assert_eq!(data(&e)["reload"], true);
}

#[tokio::test]
async fn streams_over_the_cap_are_refused_and_a_stopping_server_says_goodbye() {
    let db = TestDb::new().await;
    let mut web = Webapp::start(&db, &["--stream-clients", "1"]).await;
    let stream = web.url("/api/v1/stream");
    let mut open = SseClient::connect(&stream, None).await.expect("the first stream");
    let Err(refused) = SseClient::connect(&stream, None).await else { panic!("a second stream over the cap") };
    assert_eq!(refused.status(), 503);
    let retry: u64 = refused.headers()["retry-after"].to_str().expect("ascii").parse().expect("Retry-After in seconds");
    assert!((5..=35).contains(&retry), "{retry}");
    let body: serde_json::Value = refused.json().await.expect("the JSON error envelope");
    assert_eq!(body["error"]["code"], "overloaded", "{body}");
    let metrics = reqwest::get(web.url("/metrics")).await.expect("metrics").text().await.expect("body");
    assert!(metrics.contains("nodules_stream_clients 1"), "{metrics}");
    assert!(metrics.contains("nodules_stream_refused_total 1"), "{metrics}");

    // SIGTERM: the open stream gets its last event, then the process ends
    assert!(web.terminate(Duration::from_secs(15)).await, "the webapp ended within 15 s of SIGTERM");
    let last = open.collect_until(WAIT, |e| e.iter().any(|e| e.event == "shutdown")).await;
    let bye = last.iter().find(|e| e.event == "shutdown").expect("a shutdown event");
    let retry = bye.retry.expect("a retry delay for the reconnect");
    assert!((Duration::from_secs(1)..=Duration::from_secs(10)).contains(&retry), "{retry:?}");
    assert!(open.next(Duration::from_secs(2)).await.is_none(), "the stream ended");
}

/// Scaling out is running more of the same processes on one database: two webapps and two
/// downloaders, nothing coordinating them but MongoDB.
#[tokio::test]
async fn two_webapps_and_two_downloaders_share_one_database() {
    let db = TestDb::new().await;
    let reg = FakeRegistry::start().await;
    let names: Vec<String> = (0..60).map(|i| format!("spread-{i:02}")).collect();
    for n in &names {
        reg.publish(n, &[("index.js", format!("module.exports = '{n}'").as_bytes())], json!({}));
    }
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    fetch(&db, &reg, &refs).await;
    let (one, two) = (Webapp::start(&db, &[]).await, Webapp::start(&db, &[]).await);
    let mut streams = Vec::new();
    for web in [&one, &two] {
        streams.push(SseClient::connect(&web.url("/api/v1/stream?keyword=fresh"), None).await.expect("a stream"));
    }

    let url = reg.url();
    let args = ["--registry", url.as_str(), "run", "--once", "--concurrency", "4", "--lease", "10s"];
    let (a, b) = tokio::join!(run_bin("nodules-downloader", &db, &args), run_bin("nodules-downloader", &db, &args));
    let done = |run: &nodules_e2e::Run| -> u64 {
        let line = run.stdout.lines().last().unwrap_or("");
        line.strip_prefix("downloaded ").and_then(|r| r.split(',').next()).and_then(|n| n.parse().ok()).unwrap_or(0)
    };
    let (da, db_) = (done(a.assert_ok()), done(b.assert_ok()));
    assert_eq!(da + db_, 60, "every tarball committed once between them: {da} + {db_}");
    assert!(da > 0 && db_ > 0, "both did work: {da} and {db_}");
    for n in &names {
        let path = nodules_e2e::tarballs::tarball_path(n, "1.0.0");
        assert_eq!(reg.requests(&path).len(), 1, "{n} fetched once");
    }

    // a publish reaches both webapps' streams and both search indexes
    reg.publish("fresh-news", &[("index.js", b"1")], json!({ "keywords": ["fresh"] }));
    fetch(&db, &reg, &["fresh-news"]).await;
    for (i, s) in streams.iter_mut().enumerate() {
        let got = s.collect_until(WAIT, |e| has(e, "publish", "fresh-news", "1.0.0")).await;
        assert!(has(&got, "publish", "fresh-news", "1.0.0"), "webapp {i}: {:?}", seen(&got));
    }
    for web in [&one, &two] {
        web.wait_search_ready().await;
        let deadline = Instant::now() + WAIT;
        loop {
            let r: serde_json::Value =
                reqwest::get(web.url("/api/v1/search?q=fresh-news")).await.expect("search").json().await.expect("JSON");
            if r["results"].as_array().is_some_and(|a| a.iter().any(|x| x["name"] == "fresh-news")) {
                break;
            }
            assert!(Instant::now() < deadline, "{} does not find it: {r}", web.base);
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}
