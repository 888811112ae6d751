//! The site and the API end to end: a fake registry, the indexer and the downloader fill a
//! real database, and the webapp answers over real HTTP what a user would see.

use mongodb::bson::doc;
use nodules_e2e::FakeRegistry;
use nodules_e2e::web::Webapp;
use nodules_store::testing::TestDb;
use reqwest::StatusCode;
use scraper::{Html, Selector};
use serde_json::{Value, json};

struct Site {
    db: TestDb,
    _reg: FakeRegistry,
    web: Webapp,
    http: reqwest::Client,
}

async fn site() -> Site {
    let db = TestDb::new().await;
    let reg = nodules_e2e::sample::load(&db).await;
    let web = Webapp::start(&db, &[]).await;
    Site { db, _reg: reg, web, http: reqwest::Client::new() }
}

impl Site {
    async fn get(&self, path: &str) -> (StatusCode, String) {
        let r = self.http.get(self.web.url(path)).send().await.expect("request");
        let status = r.status();
        (status, r.text().await.expect("body"))
    }

    async fn json(&self, path: &str) -> (StatusCode, Value) {
        let (s, body) = self.get(path).await;
        (s, serde_json::from_str(&body).unwrap_or_else(|e| panic!("{path}: not JSON ({e}): {body}")))
    }
}

fn select<'a>(doc: &'a Html, css: &str) -> Vec<scraper::ElementRef<'a>> {
    doc.select(&Selector::parse(css).expect("selector")).collect()
}

fn text(doc: &Html, css: &str) -> String {
    select(doc, css).iter().map(|e| e.text().collect::<String>()).collect::<Vec<_>>().join(" ")
}

#[tokio::test]
async fn pages_and_api_show_what_was_indexed_and_downloaded() {
    let s = site().await;

    // the module page
    let (status, html) = s.get("/package/normal").await;
    assert_eq!(status, StatusCode::OK, "{html}");
    let doc = Html::parse_document(&html);
    assert!(text(&doc, "h1").contains("normal"));
    assert!(text(&doc, ".lead").contains("A normal package"));
    let badges = text(&doc, ".badges");
    assert!(badges.contains("types") && badges.contains("ESM"), "{badges}");
    assert!(text(&doc, ".deps").contains("not indexed yet"), "ghost is not indexed");
    assert_eq!(select(&doc, r#"a[href="/package/dep-a"]"#).len(), 1);
    assert!(text(&doc, ".package-side").contains("60 packages"), "dependents count");
    assert!(select(&doc, r#"link[rel="canonical"][href="https://nodules.test/package/normal"]"#).len() == 1);
    assert!(!select(&doc, r#"meta[property="og:title"]"#).is_empty());
    assert!(!select(&doc, r#"a[href="/keyword/parsing"]"#).is_empty(), "keywords linked");

    // the README: rendered, sanitized (asserted on the parsed HTML), links resolved
    let readme = select(&doc, ".markdown");
    assert_eq!(readme.len(), 1, "README rendered");
    assert!(readme[0].text().collect::<String>().contains("bold"));
    for script in select(&doc, "script") {
        assert_eq!(
            script.value().attr("src").map(|s| s.starts_with("/media/site.js")),
            Some(true),
            "only our own script"
        );
    }
    for el in select(&doc, ".markdown *") {
        for (attr, value) in el.value().attrs() {
            assert!(!attr.starts_with("on"), "event handler {attr}={value}");
            if attr == "href" || attr == "src" {
                let v = value.to_ascii_lowercase();
                assert!(
                    v.starts_with("https://")
                        || v.starts_with("http://")
                        || v.starts_with('#')
                        || v.starts_with("mailto:"),
                    "{attr}={value}"
                );
            }
        }
    }
    assert!(select(&doc, ".markdown iframe").is_empty());
    assert!(
        select(&doc, r#".markdown a[href="https://github.com/ada/normal/blob/HEAD/docs/guide.md"]"#).len() == 1,
        "relative link resolved"
    );
    assert!(
        select(&doc, r#".markdown img[src="https://raw.githubusercontent.com/ada/normal/HEAD/img/logo.png"]"#).len()
            == 1,
        "relative image resolved"
    );

    // scoped names, both spellings; a deprecated package; an unpublished one (410)
    assert_eq!(s.get("/package/@scope/pkg").await.0, StatusCode::OK);
    assert_eq!(s.get("/package/@scope%2fpkg").await.0, StatusCode::OK);
    let (status, html) = s.get("/package/old-thing").await;
    assert_eq!(status, StatusCode::OK);
    assert!(text(&Html::parse_document(&html), ".banner").contains("use new-thing instead"));
    let (status, html) = s.get("/package/gone").await;
    assert_eq!(status, StatusCode::GONE);
    assert!(html.contains("unpublished"), "{html}");
    let (status, html) = s.get("/package/no-such-package").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(html.contains("/search?q=no-such-package"), "the 404 offers a search");

    // not downloaded yet: the page says so and queues it at high priority
    let (status, html) = s.get("/package/queued").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("not downloaded yet: queued"), "{html}");
    let job =
        s.db.store.collection("sources").find_one(doc! { "_id": "queued@1.0.0" }).await.expect("find").expect("queued");
    assert!(job.get_i64("priority").unwrap_or(0) >= nodules_store::queue::ON_DEMAND_PRIORITY, "{job}");

    // dependents, page by page and per kind
    let (status, html) = s.get("/package/normal/dependents").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(select(&Html::parse_document(&html), "ol.rows li").len(), 50);
    let (_, html) = s.get("/package/normal/dependents?page=2").await;
    assert_eq!(select(&Html::parse_document(&html), "ol.rows li").len(), 10);
    let (_, html) = s.get("/package/normal/dependents?kind=dev").await;
    assert_eq!(select(&Html::parse_document(&html), "ol.rows li").len(), 3);
    assert_eq!(s.get("/package/normal/dependents?kind=bogus").await.0, StatusCode::BAD_REQUEST);
    assert_eq!(s.get("/package/normal/dependents?page=9").await.0, StatusCode::NOT_FOUND);

    // browse pages
    for (path, expect) in [
        ("/keyword/parsing", "normal"),
        ("/author/ada%20lovelace", "normal"),
        ("/browse/recent", "user-"),
        ("/browse/depended", "normal"),
    ] {
        let (status, html) = s.get(path).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        assert!(text(&Html::parse_document(&html), "ol.rows").contains(expect), "{path} lists {expect}");
    }
    let (_, html) = s.get("/browse/depended").await;
    assert_eq!(text(&Html::parse_document(&html), "ol.rows li:first-child .pkg"), "normal", "most depended first");
    let (_, home) = s.get("/").await;
    assert!(home.contains("Most depended upon") && home.contains("normal"));
}

#[tokio::test]
async fn the_api_answers_every_field_and_pages_by_cursor() {
    let s = site().await;
    let (status, p) = s.json("/api/v1/packages/normal").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(p["name"], "normal");
    assert_eq!(p["latest"], "1.0.0");
    assert_eq!(p["license"], "MIT");
    assert_eq!(p["dependents_count"], 60);
    assert_eq!(p["dev_dependents_count"], 3);
    assert_eq!(p["repository"]["github"], json!({ "owner": "ada", "repo": "normal" }));
    assert_eq!(p["author"]["name"], "Ada Lovelace");
    assert_eq!(p["source"]["state"], "done");
    assert_eq!(p["source"]["has_types"], true);
    assert_eq!(p["source"]["module_type"], "esm");
    assert_eq!(p["dependencies"]["dep-a"], "^1");
    assert!(p["versions"][0]["published"].is_string());
    assert!(p["github"].is_null(), "absent facts are null, never invented");
    for field in [
        "description",
        "dist_tags",
        "keywords",
        "maintainers",
        "homepage",
        "bugs",
        "dev_dependencies",
        "peer_dependencies",
        "optional_dependencies",
        "engines",
        "bin",
        "deprecated",
        "created",
        "modified",
    ] {
        assert!(p.get(field).is_some(), "field {field} present");
    }

    let mut seen = std::collections::BTreeSet::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/v1/packages/normal/dependents?limit=20&cursor={c}"),
            None => "/api/v1/packages/normal/dependents?limit=20".to_string(),
        };
        let (status, page) = s.json(&path).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        assert_eq!(page["total"], 60);
        for item in page["items"].as_array().expect("items") {
            assert!(seen.insert(item["name"].as_str().expect("name").to_string()), "no duplicates");
        }
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    assert_eq!(seen.len(), 60);
    let (status, dev) = s.json("/api/v1/packages/normal/dependents?kind=dev").await;
    assert_eq!((status, dev["items"].as_array().map(Vec::len)), (StatusCode::OK, Some(3)));

    let (status, files) = s.json("/api/v1/packages/normal/versions/1.0.0/files").await;
    assert_eq!(status, StatusCode::OK);
    let paths: Vec<&str> =
        files["files"].as_array().expect("files").iter().filter_map(|f| f["path"].as_str()).collect();
    assert_eq!(paths, vec!["README.md", "index.d.ts", "index.js", "package.json"]);
    let (status, file) = s.json("/api/v1/packages/normal/versions/1.0.0/files/README.md").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(file["raw_url"], "/package/normal/v/1.0.0/source/README.md?raw=1");

    // errors in the envelope
    let (status, e) = s.json("/api/v1/packages/no-such-package").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(e["error"]["code"], "package_not_found");
    let (status, e) = s.json("/api/v1/packages/normal/dependents?limit=0").await;
    assert_eq!((status, e["error"]["code"].as_str()), (StatusCode::BAD_REQUEST, Some("bad_request")));
    let (status, e) = s.json("/api/v1/packages/gone").await;
    assert_eq!((status, e["error"]["code"].as_str()), (StatusCode::GONE, Some("package_gone")));
    assert_eq!(s.json("/api/v1/whatever").await.0, StatusCode::NOT_FOUND);

    // the OpenAPI document describes every API route
    let (status, doc) = s.json("/api/v1/openapi.json").await;
    assert_eq!(status, StatusCode::OK);
    assert!(doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.")), "{}", doc["openapi"]);
    for route in nodules_webapp::routes::api_routes() {
        assert!(doc["paths"].get(route).is_some(), "{route} missing from openapi.json");
        assert!(doc["paths"][route]["get"]["responses"]["200"].is_object(), "{route} documents its answer");
    }
}

#[tokio::test]
async fn validators_compression_cors_health() {
    let s = site().await;
    // a client that does not decompress, so the header stays visible
    let raw = reqwest::Client::builder().no_gzip().build().expect("client");
    let r = raw.get(s.web.url("/package/normal")).header("accept-encoding", "gzip").send().await.expect("get");
    assert_eq!(r.headers().get("content-encoding").map(|v| v.to_str().unwrap_or("")), Some("gzip"));
    let etag = r.headers().get("etag").expect("etag").clone();
    assert!(r.headers().get("cache-control").is_some());
    let again =
        s.http.get(s.web.url("/package/normal")).header("if-none-match", etag.clone()).send().await.expect("get");
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
    let api = s.http.get(s.web.url("/api/v1/packages/normal")).send().await.expect("get");
    let api_etag = api.headers().get("etag").expect("etag").clone();
    let api_again =
        s.http.get(s.web.url("/api/v1/packages/normal")).header("if-none-match", api_etag).send().await.expect("get");
    assert_eq!(api_again.status(), StatusCode::NOT_MODIFIED);
    let cors = s
        .http
        .get(s.web.url("/api/v1/packages/normal"))
        .header("origin", "https://elsewhere.test")
        .send()
        .await
        .expect("get");
    assert_eq!(cors.headers().get("access-control-allow-origin").map(|v| v.to_str().unwrap_or("")), Some("*"));
    let css = s.http.get(s.web.url("/media/style.css")).send().await.expect("get");
    assert_eq!(css.status(), StatusCode::OK);
    assert!(css.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").starts_with("text/css"));
    let (_, html) = s.get("/").await;
    assert!(
        html.contains(r#"<link rel="stylesheet" href="/media/style.css?v="#),
        "pages link the stylesheet under /media/"
    );
    assert_eq!(s.get("/healthz").await.0, StatusCode::OK);
    assert_eq!(s.get("/readyz").await.0, StatusCode::OK);
}

/// A page kept in the cache is answered before routing (`hit`): it must be the very answer
/// the whole stack gives — headers, bytes, compression, metrics and the rate limit.
#[tokio::test]
async fn a_kept_page_is_answered_as_the_routed_one() {
    let s = site().await;
    // sends no Accept-Encoding and decompresses nothing
    let raw = reqwest::Client::builder().no_gzip().build().expect("client");
    let url = s.web.url("/package/normal");
    let first = raw.get(&url).send().await.expect("get");
    assert!(first.headers().get("x-cache").is_none(), "the first answer is rendered");
    let second = raw.get(&url).send().await.expect("get");
    assert_eq!(second.headers().get("x-cache").map(|v| v.to_str().unwrap_or("")), Some("hit"));
    let headers = |r: &reqwest::Response| -> Vec<(String, String)> {
        let mut h: Vec<(String, String)> = r
            .headers()
            .iter()
            .filter(|(k, _)| !matches!(k.as_str(), "date" | "x-cache"))
            .map(|(k, v)| {
                let v = v.to_str().unwrap_or("").to_string();
                // the client's budget moves with each request: compared for being there
                let v = if k.as_str().starts_with("ratelimit-") && k.as_str() != "ratelimit-limit" {
                    "n".into()
                } else {
                    v
                };
                (k.to_string(), v)
            })
            .collect();
        h.sort();
        h
    };
    assert_eq!(headers(&first), headers(&second), "same headers as the rendered answer");
    let body = first.bytes().await.expect("body");
    assert_eq!(body, second.bytes().await.expect("body"));

    // gzip'd once and kept: the same bytes once decompressed
    let gz = raw.get(&url).header("accept-encoding", "gzip, deflate, br, zstd").send().await.expect("get");
    assert_eq!(gz.headers().get("content-encoding").map(|v| v.to_str().unwrap_or("")), Some("gzip"));
    assert_eq!(gz.headers().get("vary").map(|v| v.to_str().unwrap_or("")), Some("accept-encoding"));
    let mut unzipped = Vec::new();
    std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&gz.bytes().await.expect("body")[..]), &mut unzipped)
        .expect("gunzip");
    assert_eq!(unzipped, body);
    // brotli only: the compression layer compresses it, from the same kept page
    let br = raw.get(&url).header("accept-encoding", "br").send().await.expect("get");
    assert_eq!(br.headers().get("content-encoding").map(|v| v.to_str().unwrap_or("")), Some("br"));
    assert_eq!(br.headers().get("x-cache").map(|v| v.to_str().unwrap_or("")), Some("hit"));

    // counted under the route, as hits
    let metrics = raw.get(s.web.url("/metrics")).send().await.expect("get").text().await.expect("text");
    let value = |series: &str| -> u64 {
        metrics
            .lines()
            .find_map(|l| l.strip_prefix(series).and_then(|v| v.trim().parse().ok()))
            .unwrap_or_else(|| panic!("{series} not in {metrics}"))
    };
    assert!(value("nodules_cache_hits_total ") >= 3, "{metrics}");
    assert!(value("nodules_http_requests_total{route=\"/package/{name}\",status=\"2xx\"} ") >= 4, "{metrics}");

    // a client over its budget is refused on kept pages too (pages: 4 x 60 a minute, bursts of 40)
    let limited = Webapp::start(&s.db, &["--rate-limit", "60"]).await;
    let kept = limited.url("/package/normal");
    raw.get(&kept).send().await.expect("get");
    let mut statuses = Vec::new();
    for _ in 0..50 {
        let r = raw.get(&kept).send().await.expect("get");
        if r.status() == StatusCode::OK {
            assert!(r.headers().get("ratelimit-remaining").is_some(), "a kept page tells the client its budget");
        }
        statuses.push(r.status());
    }
    let refused = statuses.iter().filter(|s| **s == StatusCode::TOO_MANY_REQUESTS).count();
    // at most 11 (51 requests, a burst of 40); fewer when the budget refills during a slow run
    assert!((1..=11).contains(&refused), "{refused} of 50 refused after a burst of 40: {statuses:?}");
}

/// A badge as a README shows it: status, type, cache headers, and the SVG read as XML.
struct Badge {
    status: StatusCode,
    content_type: String,
    cache_control: String,
    x_cache: Option<String>,
    body: String,
}

impl Badge {
    async fn get(s: &Site, path: &str) -> Badge {
        let r = s.http.get(s.web.url(path)).send().await.expect("request");
        let header = |name: &str| r.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_string);
        let (status, content_type, cache_control, x_cache) = (
            r.status(),
            header("content-type").unwrap_or_default(),
            header("cache-control").unwrap_or_default(),
            header("x-cache"),
        );
        Badge { status, content_type, cache_control, x_cache, body: r.text().await.expect("body") }
    }

    /// The `<title>`, after checking the body is an accessible SVG image without inline styles.
    fn title(&self) -> String {
        let doc = roxmltree::Document::parse(&self.body).unwrap_or_else(|e| panic!("not XML ({e}): {}", self.body));
        let root = doc.root_element();
        assert!(root.has_tag_name(("http://www.w3.org/2000/svg", "svg")), "{}", self.body);
        assert_eq!(root.attribute("role"), Some("img"));
        assert!(doc.descendants().all(|n| n.attribute("style").is_none()), "the CSP forbids inline styles");
        let title = root.children().find(|n| n.has_tag_name("title")).and_then(|n| n.text()).unwrap_or_default();
        assert_eq!(root.attribute("aria-label"), Some(title));
        title.to_string()
    }

    /// Weekly bars of the sparkline.
    fn bars(&self) -> usize {
        let doc = roxmltree::Document::parse(&self.body).expect("XML");
        doc.descendants().filter(|n| n.has_tag_name("rect") && n.attribute("y").is_some()).count()
    }
}

#[tokio::test]
async fn badges_show_version_dependents_and_activity_as_svg() {
    let s = site().await;
    let svg = |b: &Badge, status: StatusCode, path: &str| {
        assert_eq!(b.status, status, "{path}: {}", b.body);
        assert_eq!(b.content_type, "image/svg+xml", "{path}");
    };

    let version = Badge::get(&s, "/badge/normal/version.svg").await;
    svg(&version, StatusCode::OK, "version");
    assert_eq!(version.title(), "npm: v1.0.0");
    assert!(version.cache_control.starts_with("public"), "{}", version.cache_control);
    // kept by the page cache as an image, not as a page
    let again = Badge::get(&s, "/badge/normal/version.svg").await;
    assert_eq!(again.x_cache.as_deref(), Some("hit"));
    svg(&again, StatusCode::OK, "version, kept");
    assert_eq!(again.body, version.body);

    // the count the module page shows
    let (_, html) = s.get("/package/normal").await;
    let doc = Html::parse_document(&html);
    assert!(text(&doc, ".package-side").contains("60 packages"));
    // the module page offers the badge to copy
    let snippet = "[![npm](https://nodules.test/badge/normal/version.svg)](https://nodules.test/package/normal)";
    assert!(text(&doc, ".package-side").contains(snippet), "{html}");
    assert_eq!(select(&doc, r#".package-side img[src="/badge/normal/version.svg"]"#).len(), 1);
    let dependents = Badge::get(&s, "/badge/normal/dependents.svg").await;
    svg(&dependents, StatusCode::OK, "dependents");
    assert_eq!(dependents.title(), "dependents: 60");

    // scoped names, both spellings
    for path in
        ["/badge/@scope/pkg/version.svg", "/badge/%40scope%2fpkg/version.svg", "/badge/@scope%2Fpkg/version.svg"]
    {
        let b = Badge::get(&s, path).await;
        svg(&b, StatusCode::OK, path);
        assert_eq!(b.title(), "npm: v1.0.0", "{path}");
    }

    // on GitHub, not refreshed yet; then refreshed: the sparkline and the year's commits
    let activity = Badge::get(&s, "/badge/normal/activity.svg").await;
    svg(&activity, StatusCode::OK, "activity");
    assert_eq!(activity.title(), "activity: not fetched");
    assert_eq!(activity.bars(), 0);
    let store = &s.db.store;
    let link = nodules_store::github::Link {
        package: "normal".into(),
        owner: "ada".into(),
        repo: "normal".into(),
        dependents: 60,
    };
    store.github_link(&link).await.expect("link");
    let before = store.github_repo("ada", "normal").await.expect("read").expect("linked");
    let mut weeks = vec![6; 52];
    weeks[10] = 0;
    weeks[11] = 6 * 2;
    let after = nodules_store::github::GithubRepo {
        weekly_commits: Some(weeks),
        fetched_at: Some(mongodb::bson::DateTime::now()),
        facts: Some(Default::default()),
        ..before.clone()
    };
    store.github_save(&before, &after).await.expect("save");
    // the cached badge is dropped when the package is renumbered (the watcher polls each second)
    let mut shown = String::new();
    for _ in 0..100 {
        let b = Badge::get(&s, "/badge/normal/activity.svg").await;
        svg(&b, StatusCode::OK, "activity");
        shown = b.title();
        if shown != "activity: not fetched" {
            assert_eq!(b.bars(), 52, "{}", b.body);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(shown, "activity: 312 commits/yr");

    // unknown, invalid and unpublished packages: still images, not error pages
    let missing = Badge::get(&s, "/badge/nothing-here/version.svg").await;
    svg(&missing, StatusCode::NOT_FOUND, "missing");
    assert_eq!(missing.title(), "npm: not found");
    assert_eq!(missing.cache_control, "public, max-age=30");
    let invalid = Badge::get(&s, "/badge/a%20b/dependents.svg").await;
    svg(&invalid, StatusCode::NOT_FOUND, "invalid");
    assert_eq!(invalid.title(), "dependents: not found");
    let gone = Badge::get(&s, "/badge/gone/version.svg").await;
    svg(&gone, StatusCode::GONE, "gone");
    assert_eq!(gone.title(), "npm: unpublished");
    assert_eq!(s.get("/badge/normal/stars.svg").await.0, StatusCode::NOT_FOUND);

    // counted by route template, never by the raw path
    let (_, metrics) = s.get("/metrics").await;
    for series in [
        "nodules_http_requests_total{route=\"/badge/{name}/version.svg\",status=\"2xx\"} ",
        "nodules_http_requests_total{route=\"/badge/{name}/version.svg\",status=\"4xx\"} ",
        "nodules_http_requests_total{route=\"/badge/{name}/activity.svg\",status=\"2xx\"} ",
    ] {
        assert!(metrics.contains(series), "{series} not in {metrics}");
    }
    assert!(!metrics.contains("nothing-here") && !metrics.contains("@scope"), "{metrics}");
}

/// A package of 2,990 versions (900 canaries, 100 deprecated, 30 release lines): the module
/// page shows a line per release line and stays small; the history is its own page, page by
/// page and filtered, with releases per month drawn.
#[tokio::test]
async fn versions_at_a_glance_and_the_whole_history_page_by_page() {
    let db = TestDb::new().await;
    let reg = FakeRegistry::start().await;
    let mut versions: Vec<(String, Value)> = Vec::new();
    for minor in 1..=9 {
        for patch in 0..10 {
            versions.push((format!("0.{minor}.{patch}"), json!({})));
        }
    }
    for major in 1..=20 {
        for patch in 0..100 {
            let extra = if major == 1 { json!({ "deprecated": "upgrade to 2.x" }) } else { json!({}) };
            versions.push((format!("{major}.0.{patch}"), extra));
        }
    }
    for i in 0..900 {
        versions.push((format!("21.0.0-canary.{i}"), json!({})));
    }
    // the latest last, as `packument` takes it
    let latest = versions.iter().position(|(v, _)| v == "20.0.99").expect("20.0.99");
    let l = versions.remove(latest);
    versions.push(l);
    let refs: Vec<(&str, Value)> = versions.iter().map(|(v, e)| (v.as_str(), e.clone())).collect();
    let mut doc = nodules_e2e::dumps::packument("many", &refs);
    // one version a day from 2016 on: years of months to draw
    for (i, (v, _)) in versions.iter().enumerate() {
        let day = mongodb::bson::DateTime::from_millis(1_451_606_400_000 + i as i64 * 86_400_000);
        doc["time"][v] = json!(day.try_to_rfc3339_string().expect("date"));
    }
    reg.package("many", &doc);
    let url = reg.url();
    nodules_e2e::run_bin("nodules-indexer", &db, &["--registry", &url, "fetch", "many"]).await.assert_ok();
    let web = Webapp::start(&db, &[]).await;
    let http = reqwest::Client::new();
    let get = |path: &str| {
        let (http, url) = (http.clone(), web.url(path));
        async move {
            let r = http.get(url).send().await.expect("request");
            (r.status(), r.text().await.expect("body"))
        }
    };
    let rows = |html: &str| -> Vec<String> {
        let sel = Selector::parse("table.versions tbody tr").expect("selector");
        Html::parse_document(html).select(&sel).map(|r| r.text().collect::<String>()).collect()
    };

    let (status, page) = get("/package/many").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.len() < 100_000, "the module page is {} bytes", page.len());
    let lines = rows(&page);
    assert_eq!(lines.len(), 12, "{lines:?}");
    assert!(lines[0].contains("20.x") && lines[0].contains("20.0.99") && lines[0].contains("100"), "{lines:?}");
    assert!(page.contains("All 2,990 versions") && page.contains("900 prereleases"), "links to the history");
    assert!(page.contains("18 older release lines"), "30 lines, 12 shown (0.1–0.9, 1–20, the canaries' 21)");
    // a version page keeps its own line in view, marked
    let (_, old) = get("/package/many/v/1.0.5").await;
    let sel = Selector::parse("table.versions tr.current").expect("selector");
    let current: Vec<String> = Html::parse_document(&old).select(&sel).map(|r| r.text().collect()).collect();
    assert!(current.len() == 1 && current[0].contains("1.x") && current[0].contains("deprecated"), "{current:?}");

    let (status, all) = get("/package/many/versions").await;
    assert_eq!(status, StatusCode::OK);
    assert!(all.len() < 200_000, "{} bytes", all.len());
    assert_eq!(rows(&all).len(), 100);
    assert!(rows(&all)[0].contains("21.0.0-canary.899"), "newest first: {:?}", rows(&all)[0]);
    assert!(all.contains("Page 1 of 30"));
    // the pickers: two versions checked by default (the newest and the one below), a form to the diff
    let doc = Html::parse_document(&all);
    let checked: Vec<(String, String)> = doc
        .select(&Selector::parse("form.pick-versions input[type=radio][checked]").expect("s"))
        .map(|i| (i.attr("name").unwrap_or("").to_string(), i.attr("value").unwrap_or("").to_string()))
        .collect();
    assert_eq!(
        checked,
        vec![
            ("to".to_string(), "21.0.0-canary.899".to_string()),
            ("from".to_string(), "21.0.0-canary.898".to_string())
        ]
    );
    let changes: Vec<&str> =
        doc.select(&Selector::parse("td a[href*='/diff/']").expect("s")).filter_map(|a| a.attr("href")).collect();
    assert_eq!(changes.len(), 100, "the last row's step goes to the next page's first version");
    assert_eq!(changes[99], "/package/many/diff/21.0.0-canary.799...21.0.0-canary.800");
    let picked = http.get(web.url("/package/many/diff?from=20.0.3&to=20.0.99")).send().await.expect("pick");
    assert_eq!(picked.url().path(), "/package/many/diff/20.0.3...20.0.99", "the form lands on the diff's own URL");
    let bars = doc.select(&Selector::parse("figure.releases svg rect").expect("s")).count();
    assert!(bars >= 90, "a bar per busy month of the last ten years: {bars}");
    let (_, pre) = get("/package/many/versions?filter=prerelease&page=9").await;
    let pre_rows = rows(&pre);
    assert_eq!(pre_rows.len(), 100);
    assert!(pre_rows.iter().all(|r| r.contains("canary") && r.contains("pre")), "{pre_rows:?}");
    assert!(pre.contains("Page 9 of 9"));
    let (_, deprecated) = get("/package/many/versions?filter=deprecated").await;
    let dep_rows = rows(&deprecated);
    assert!(dep_rows.len() == 100 && dep_rows.iter().all(|r| r.starts_with("1.0.") || r.contains("deprecated")));
    assert_eq!(get("/package/many/versions?filter=%3Cscript%3E").await.0, StatusCode::BAD_REQUEST);
    assert_eq!(get("/package/many/versions?page=31").await.0, StatusCode::NOT_FOUND);
    assert_eq!(get("/package/nothing-here/versions").await.0, StatusCode::NOT_FOUND);
}

#[path = "webapp/browser_audit.rs"]
mod browser_audit;
#[path = "webapp/compare.rs"]
mod compare;
#[path = "webapp/install.rs"]
mod install;
#[path = "webapp/page_details.rs"]
mod page_details;
