//! The Atom feeds, read by a real feed parser (Python's `feedparser`, pinned in `.venv`):
//! each parses without a `bozo` error, carries RFC 4287's id, title, updated, author and
//! self link, and shows hostile text as text. Pages link to their feed.

use std::path::Path;

use nodules_e2e::dumps::packument;
use nodules_e2e::web::Webapp;
use nodules_e2e::{FakeRegistry, run_bin};
use nodules_store::testing::TestDb;
use serde_json::{Value, json};

const BASE: &str = "https://nodules.test";
const XSS: &str = "<script>alert(1)</script> & \"q\" <img src=x onerror=alert(2)>";

/// What feedparser understood of each of `feeds` (bytes as served).
fn read_feeds(feeds: &[Vec<u8>]) -> Vec<Value> {
    let tmp = tempfile::tempdir().expect("tmp");
    let files: Vec<_> = feeds
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let p = tmp.path().join(format!("{i}.atom"));
            std::fs::write(&p, f).expect("write");
            p
        })
        .collect();
    let python = Path::new(env!("CARGO_MANIFEST_DIR")).join("../.venv/bin/python");
    assert!(python.exists(), "{} is missing: run `make test` (scripts/pytools install)", python.display());
    let out = std::process::Command::new(&python)
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tools/read_feeds.py"))
        .args(&files)
        .output()
        .expect("run read_feeds.py");
    assert!(out.status.success(), "read_feeds.py: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).lines().map(|l| serde_json::from_str(l).expect("JSON line")).collect()
}

fn links(v: &Value, rel: &str) -> Vec<String> {
    v["links"]
        .as_array()
        .map(|a| a.iter().filter(|l| l["rel"] == rel).filter_map(|l| l["href"].as_str().map(str::to_string)).collect())
        .unwrap_or_default()
}

fn alternate_feeds(html: &str) -> Vec<String> {
    let doc = scraper::Html::parse_document(html);
    let sel = scraper::Selector::parse("link[rel=alternate][type=\"application/atom+xml\"]").expect("selector");
    doc.select(&sel).filter_map(|l| l.value().attr("href").map(str::to_string)).collect()
}

#[tokio::test]
async fn feeds_parse_carry_what_rfc_4287_requires_and_show_hostile_text_as_text() {
    let db = TestDb::new().await;
    let reg = FakeRegistry::start().await;
    let manifest = json!({ "description": XSS, "keywords": ["feeds"], "author": { "name": "Mallory & Eve" } });
    let mut deprecated = manifest.clone();
    deprecated["deprecated"] = json!("<b>do not use</b>\u{1}");
    reg.package(
        "hostile",
        &packument("hostile", &[("1.0.0", manifest.clone()), ("1.1.0", deprecated), ("2.0.0", manifest)]),
    );
    reg.package("@scope/quiet", &packument("@scope/quiet", &[("0.1.0", json!({ "keywords": ["feeds"] }))]));
    let url = reg.url();
    run_bin("nodules-indexer", &db, &["--registry", &url, "fetch", "hostile", "@scope/quiet"]).await.assert_ok();
    let web = Webapp::start(&db, &[]).await;
    let client = reqwest::Client::new();

    let paths = [
        "/package/hostile/feed.atom",
        "/feeds/recent.atom",
        "/keyword/feeds/feed.atom",
        "/author/mallory%20%26%20eve/feed.atom",
    ];
    let mut bodies = Vec::new();
    for p in paths {
        let r = client.get(web.url(p)).send().await.expect("feed");
        assert_eq!(r.status(), 200, "{p}");
        assert_eq!(r.headers()["content-type"], "application/atom+xml; charset=utf-8", "{p}");
        bodies.push(r.bytes().await.expect("body").to_vec());
    }
    let feeds = read_feeds(&bodies);
    for (p, f) in paths.iter().zip(&feeds) {
        assert_eq!(f["bozo"], false, "{p}: {}", f["bozo_exception"]);
        assert_eq!(f["version"], "atom10", "{p}");
        assert_eq!(f["id"], format!("{BASE}{p}"), "{p}");
        assert_eq!(links(f, "self"), vec![format!("{BASE}{p}")], "{p}");
        assert!(f["title"].as_str().is_some_and(|t| !t.is_empty()) && f["updated"].is_string(), "{p}: {f}");
        assert_eq!(f["author"], "Nodules", "{p}");
        for e in f["entries"].as_array().expect("entries") {
            assert!(e["id"].is_string() && e["title"].is_string() && e["updated"].is_string(), "{p}: {e}");
        }
    }

    // the package's versions, latest published first, each to the diff from the one before
    let versions = &feeds[0]["entries"];
    let titles: Vec<&str> = versions.as_array().expect("entries").iter().filter_map(|e| e["title"].as_str()).collect();
    assert_eq!(titles, ["hostile 2.0.0", "hostile 1.1.0", "hostile 1.0.0"]);
    assert_eq!(links(&versions[0], "alternate"), vec![format!("{BASE}/package/hostile/diff/1.1.0...2.0.0")]);
    assert_eq!(links(&versions[0], "related"), vec![format!("{BASE}/package/hostile/v/2.0.0")]);
    assert_eq!(links(&versions[2], "alternate"), vec![format!("{BASE}/package/hostile/v/1.0.0")]);
    assert_eq!(versions[0]["id"], format!("{BASE}/package/hostile/v/2.0.0"));
    assert_eq!(versions[0]["updated"], "2024-01-03T00:00:00Z");
    // hostile text comes back as the same text: escaped once, neither lost nor run
    let summary = versions[1]["summary"].as_str().expect("summary");
    assert!(summary.starts_with("Deprecated: <b>do not use</b>. "), "{summary}");
    let raw = String::from_utf8_lossy(&bodies[0]);
    assert!(!raw.contains("<b>") && !raw.contains('\u{1}'), "escaped, impossible characters dropped: {raw}");

    // lists: a keyword's packages, an author's, the recent publishes
    let names = |f: &Value| -> Vec<String> {
        f["entries"]
            .as_array()
            .expect("entries")
            .iter()
            .filter_map(|e| e["title"].as_str().map(str::to_string))
            .collect()
    };
    let mut keyword = names(&feeds[2]);
    keyword.sort();
    assert_eq!(keyword, ["@scope/quiet 0.1.0", "hostile 2.0.0"]);
    assert_eq!(names(&feeds[3]), ["hostile 2.0.0"]);
    assert!(names(&feeds[1]).contains(&"hostile 2.0.0".to_string()), "{}", feeds[1]);
    let hostile = feeds[3]["entries"][0]["summary"].as_str().expect("summary");
    assert_eq!(hostile, XSS);
    assert_eq!(links(&feeds[2]["entries"][0], "alternate").len(), 1);

    // pages name their feed; unknown lists and packages have none
    for (page, feed) in [
        ("/package/hostile", "/package/hostile/feed.atom"),
        ("/", "/feeds/recent.atom"),
        ("/keyword/feeds", "/keyword/feeds/feed.atom"),
        ("/browse/recent", "/feeds/recent.atom"),
    ] {
        let html = client.get(web.url(page)).send().await.expect("page").text().await.expect("body");
        assert_eq!(alternate_feeds(&html), vec![feed.to_string()], "{page}");
    }
    for (p, status) in [("/keyword/nothing-here/feed.atom", 404), ("/package/not-there/feed.atom", 404)] {
        assert_eq!(client.get(web.url(p)).send().await.expect("get").status(), status, "{p}");
    }
}
