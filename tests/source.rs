//! The source browser end to end: a fake registry serves tarballs with awkward names, hostile
//! contents, images, binaries, minified code and links; the real indexer and downloader store
//! them; the webapp shows folders, highlighted files and raw bytes over real HTTP, and what a
//! browser would make of them is asserted on the parsed HTML and the headers.

use nodules_e2e::FakeRegistry;
use nodules_e2e::bins::run_bin;
use nodules_e2e::tarballs::tarball_with_links;
use nodules_e2e::web::Webapp;
use nodules_store::testing::TestDb;
use reqwest::StatusCode;
use reqwest::header::{HeaderMap, LOCATION};
use scraper::{Html, Selector};
use serde_json::{Value, json};

const JS: &str = "// <script>alert('js')</script>\nconst a = \"</span><b>bold</b>\";\nmodule.exports = a;\n";
const SVG: &[u8] =
    b"<svg xmlns=\"http://www.w3.org/2000/svg\"><script>alert(1)</script><rect width=\"1\" height=\"1\"/></svg>";
const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01";
const WEIRD: &str = "lib/a b#c?d%e.js";
const GUIDE: &str =
    "# Guide\n\nSee [the types](../lib/deep/x.ts) and [the root](/README.md#src).\n\n![logo](../img/logo.svg)\n";
/// Lines of `big.js`: over the 2 MiB highlighting limit, under the 4 MiB stored-file cap.
const BIG_LINES: usize = 120_000;

fn big_js() -> Vec<u8> {
    "var value = 12345;\n".repeat(BIG_LINES).into_bytes()
}

fn files(minified: &str) -> Vec<(&'static str, Vec<u8>)> {
    vec![
        ("package.json", br#"{"name":"src-pkg","version":"1.0.0","description":"sources"}"#.to_vec()),
        ("index.js", JS.as_bytes().to_vec()),
        (WEIRD, b"export const weird = 1;\n".to_vec()),
        ("lib/deep/x.ts", b"export type T = { a: number };\n".to_vec()),
        ("lib/README.md", b"# Lib folder\n\n<script>alert('readme')</script>\n[x](javascript:alert(2))\n".to_vec()),
        ("README.md", b"# Src\n\nThe root README.\n".to_vec()),
        ("img/logo.png", PNG.to_vec()),
        ("img/logo.svg", SVG.to_vec()),
        ("data.bin", b"\0\x01\x02\x03".to_vec()),
        ("min.js", minified.as_bytes().to_vec()),
        ("page.html", b"<html><script>alert('page')</script></html>\n".to_vec()),
        ("docs/guide.md", GUIDE.as_bytes().to_vec()),
        ("big.js", big_js()),
        // over the downloader's default stored-file cap (4 MiB): listed, not kept
        ("huge.txt", vec![b'x'; 4_500_000]),
    ]
}

struct Site {
    db: TestDb,
    reg: FakeRegistry,
    web: Webapp,
    http: reqwest::Client,
}

impl Site {
    /// A webapp on `db`, and `name` fetched from `reg` and downloaded (its latest version).
    async fn start(db: TestDb, reg: FakeRegistry, name: &str) -> Site {
        let web = Webapp::start(&db, &["--rate-limit", "0"]).await;
        let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client");
        let site = Site { db, reg, web, http };
        site.run("nodules-indexer", &["fetch", name]).await;
        site.run("nodules-downloader", &["run", "--once"]).await;
        site
    }

    async fn get(&self, path: &str) -> (StatusCode, HeaderMap, Vec<u8>) {
        let r = self.http.get(self.web.url(path)).send().await.expect("request");
        let (status, headers) = (r.status(), r.headers().clone());
        (status, headers, r.bytes().await.expect("body").to_vec())
    }

    async fn page(&self, path: &str) -> (StatusCode, String) {
        let (s, _, b) = self.get(path).await;
        (s, String::from_utf8(b).expect("utf-8 page"))
    }

    async fn run(&self, bin: &str, args: &[&str]) {
        let url = self.reg.url();
        let mut all = vec!["--registry", url.as_str()];
        all.extend_from_slice(args);
        run_bin(bin, &self.db, &all).await.assert_ok();
    }
}

async fn site() -> Site {
    let db = TestDb::new().await;
    let reg = FakeRegistry::start().await;
    let minified = "var a=1;".repeat(1000);
    let files = files(&minified);
    let refs: Vec<(&str, &[u8])> = files.iter().map(|(p, d)| (*p, d.as_slice())).collect();
    let tgz = tarball_with_links(&refs, &[("link-in", "lib/deep/x.ts"), ("lib/link-out", "../../../etc/passwd")]);
    reg.publish_tarball("src-pkg", tgz, json!({ "description": "sources" }));
    Site::start(db, reg, "src-pkg").await
}

fn select<'a>(doc: &'a Html, css: &str) -> Vec<scraper::ElementRef<'a>> {
    doc.select(&Selector::parse(css).expect("selector")).collect()
}

fn text(doc: &Html, css: &str) -> String {
    select(doc, css).iter().map(|e| e.text().collect::<String>()).collect::<Vec<_>>().join(" ")
}

fn hrefs(doc: &Html, css: &str) -> Vec<String> {
    select(doc, css).iter().filter_map(|e| e.value().attr("href").map(str::to_string)).collect()
}

/// Nothing a file brought may become an element or attribute of our page.
fn assert_no_injection(html: &str, what: &str) {
    let doc = Html::parse_document(html);
    for s in select(&doc, "script") {
        assert!(s.value().attr("src").is_some_and(|src| src.starts_with("/media/")), "{what}: a script ran: {html}");
    }
    assert!(select(&doc, "b, svg, [onerror], [onclick]").is_empty(), "{what}: markup from a file: {html}");
    assert!(!html.contains("javascript:"), "{what}: a javascript: URL: {html}");
}

#[tokio::test]
async fn folders_files_and_raw_bytes() {
    let s = site().await;
    let base = "/package/src-pkg/v/1.0.0/source/";

    // the root folder: folders first, with counts; then files; the README below
    let (status, html) = s.page("/package/src-pkg/source/").await;
    assert_eq!(status, StatusCode::OK, "{html}");
    let doc = Html::parse_document(&html);
    let names: Vec<String> =
        select(&doc, "table.tree tbody td:first-child a").iter().map(|a| a.text().collect::<String>()).collect();
    assert_eq!(&names[..3], ["docs/", "img/", "lib/"], "{names:?}");
    assert!(names.contains(&"index.js".to_string()) && names.contains(&"link-in".to_string()), "{names:?}");
    assert!(text(&doc, "table.tree").contains("4 files"), "lib/ holds 4 files: {}", text(&doc, "table.tree"));
    assert!(text(&doc, ".readme h1").contains("Src"), "the root README");

    // a folder pinned to its version, its README rendered and sanitized
    let (status, html) = s.page(&format!("{base}lib/")).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert_no_injection(&html, "lib/README.md in the listing");
    let doc = Html::parse_document(&html);
    assert!(text(&doc, ".readme h1").contains("Lib folder"));
    assert!(text(&doc, ".crumbs").contains("src-pkg@1.0.0"));
    // an awkward name is linked percent-encoded, and the link answers
    let weird = format!("{base}lib/a%20b%23c%3Fd%25e.js");
    assert!(hrefs(&doc, "table.tree a").contains(&weird), "{:?}", hrefs(&doc, "table.tree a"));
    let (status, html) = s.page(&weird).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains("weird"));
    // a folder without its slash is redirected to it; a missing file is a 404
    let (status, headers, _) = s.get(&format!("{base}lib")).await;
    assert_eq!(status, StatusCode::PERMANENT_REDIRECT);
    assert_eq!(headers.get(LOCATION).and_then(|v| v.to_str().ok()), Some(format!("{base}lib/").as_str()));
    assert_eq!(s.page(&format!("{base}nope.js")).await.0, StatusCode::NOT_FOUND);
    assert_eq!(s.page("/package/src-pkg/v/9.9.9/source/").await.0, StatusCode::NOT_FOUND);

    // a file: highlighted, escaped, numbered lines, facts from the tree
    let (status, html) = s.page(&format!("{base}index.js")).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert_no_injection(&html, "index.js");
    let doc = Html::parse_document(&html);
    assert_eq!(select(&doc, "pre.code .line").len(), 3);
    assert!(select(&doc, "pre.code [class*=\"hl-\"]").len() > 3, "highlighted: {html}");
    assert!(text(&doc, "pre.code").contains("<script>alert('js')</script>"), "shown as text");
    let facts = text(&doc, ".file-facts");
    assert!(facts.contains("3 lines") && facts.contains("JavaScript"), "{facts}");
    assert!(hrefs(&doc, "pre.code a.ln").contains(&"#L2".to_string()));
    assert!(hrefs(&doc, ".file-facts a").contains(&format!("{base}index.js?raw=1")));
    // a range marked by the server
    let (_, html) = s.page(&format!("{base}index.js?lines=2-3")).await;
    let doc = Html::parse_document(&html);
    let marked: Vec<&str> = select(&doc, ".line.marked").iter().filter_map(|l| l.value().id()).collect();
    assert_eq!(marked, ["L2", "L3"]);

    // raw bytes: exact, never HTML, sandboxed
    let (status, headers, body) = s.get(&format!("{base}index.js?raw=1")).await;
    assert_eq!((status, body.as_slice()), (StatusCode::OK, JS.as_bytes()));
    let header = |h: &HeaderMap, k: &str| h.get(k).and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    assert_eq!(header(&headers, "content-type"), "text/plain; charset=utf-8");
    assert_eq!(header(&headers, "x-content-type-options"), "nosniff");
    assert!(header(&headers, "content-security-policy").starts_with("sandbox"), "{headers:?}");
    assert_eq!(header(&headers, "access-control-allow-origin"), "*");
    assert!(header(&headers, "cache-control").contains("immutable"), "{headers:?}");
    let (_, headers, body) = s.get(&format!("{base}page.html?raw=1")).await;
    assert_eq!(header(&headers, "content-type"), "text/plain; charset=utf-8", "HTML is served as text");
    assert!(body.starts_with(b"<html><script>"));
    let (_, headers, body) = s.get(&format!("{base}data.bin?raw=1")).await;
    assert_eq!(header(&headers, "content-type"), "application/octet-stream");
    assert!(header(&headers, "content-disposition").starts_with("attachment"), "{headers:?}");
    assert_eq!(body, b"\0\x01\x02\x03");

    // images: shown through <img> from ?image=1, with their type; SVG sandboxed
    let (_, html) = s.page(&format!("{base}img/logo.png")).await;
    let doc = Html::parse_document(&html);
    let img: Vec<&str> = select(&doc, "p.image img").iter().filter_map(|i| i.value().attr("src")).collect();
    assert_eq!(img, [format!("{base}img/logo.png?image=1").as_str()]);
    let (status, headers, body) = s.get(&format!("{base}img/logo.png?image=1")).await;
    assert_eq!((status, header(&headers, "content-type"), body.as_slice()), (StatusCode::OK, "image/png".into(), PNG));
    let (_, html) = s.page(&format!("{base}img/logo.svg")).await;
    assert_no_injection(&html, "logo.svg's page");
    let (_, headers, _) = s.get(&format!("{base}img/logo.svg?image=1")).await;
    assert_eq!(header(&headers, "content-type"), "image/svg+xml");
    assert!(header(&headers, "content-security-policy").starts_with("sandbox"));
    assert_eq!(s.get(&format!("{base}page.html?image=1")).await.0, StatusCode::NOT_FOUND);

    // binary and minified files say what they are
    let (_, html) = s.page(&format!("{base}data.bin")).await;
    assert!(html.contains("binary file") && html.contains("Download"), "{html}");
    let (_, html) = s.page(&format!("{base}min.js")).await;
    let doc = Html::parse_document(&html);
    assert!(text(&doc, "[role=note]").contains("not highlighted"), "{html}");
    assert!(select(&doc, "pre.code [class*=\"hl-\"]").is_empty());

    // Markdown renders, sanitized, with a toggle to its source
    let (_, html) = s.page(&format!("{base}lib/README.md")).await;
    assert_no_injection(&html, "lib/README.md");
    let doc = Html::parse_document(&html);
    assert!(text(&doc, ".readme h1").contains("Lib folder"));
    assert!(hrefs(&doc, ".file-facts a").contains(&format!("{base}lib/README.md?plain=1")));
    let (_, html) = s.page(&format!("{base}lib/README.md?plain=1")).await;
    assert!(Html::parse_document(&html).select(&Selector::parse("pre.code").expect("sel")).count() == 1);

    // a Markdown file's relative links and images stay in this version's files
    let (_, html) = s.page(&format!("{base}docs/guide.md")).await;
    let doc = Html::parse_document(&html);
    let links = hrefs(&doc, ".readme a");
    for want in [format!("{base}lib/deep/x.ts"), format!("{base}README.md#user-content-src")] {
        assert!(links.contains(&want), "{want} in {links:?}");
    }
    let img: Vec<&str> = select(&doc, ".readme img").iter().filter_map(|i| i.value().attr("src")).collect();
    assert_eq!(img, [format!("{base}img/logo.svg?image=1").as_str()]);

    // a file over the highlighting limit is shown plain, whole; one over the stored-file cap
    // is listed with its size, without a raw link
    let (status, html) = s.page(&format!("{base}big.js")).await;
    assert_eq!(status, StatusCode::OK);
    let note = text(&Html::parse_document(&html), "[role=note]");
    assert!(note.contains("files over 2 MiB") && note.contains("not highlighted"), "{note}");
    assert!(html.contains(&format!("id=\"L{BIG_LINES}\"")) && !html.contains("class=\"hl-"), "every line, plain");
    let (status, html) = s.page(&format!("{base}huge.txt")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("larger than what Nodules stores per file"), "{html}");
    assert!(!html.contains("huge.txt?raw=1"), "no raw link to bytes not kept");

    // links: inside the package they lead to their target; outside, nowhere
    let (_, html) = s.page(&format!("{base}link-in")).await;
    assert!(hrefs(&Html::parse_document(&html), "main a").contains(&format!("{base}lib/deep/x.ts")), "{html}");
    let (_, html) = s.page(&format!("{base}lib/link-out")).await;
    assert!(html.contains("outside the package") && !html.contains("href=\"/etc"), "{html}");

    // go to file
    let (_, html) = s.page(&format!("{base}?find=deep")).await;
    assert!(hrefs(&Html::parse_document(&html), "table.tree a").contains(&format!("{base}lib/deep/x.ts")));

    // search inside the version: literal, regex ignoring case, hostile text, a bad expression
    let search = "/package/src-pkg/v/1.0.0/search";
    let (status, html) = s.page(&format!("{search}?q=weird")).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    let doc = Html::parse_document(&html);
    assert_eq!(text(&doc, "section.hits h2"), WEIRD);
    assert_eq!(text(&doc, "section.hits mark"), "weird");
    assert!(hrefs(&doc, "section.hits a.ln").contains(&format!("{base}lib/a%20b%23c%3Fd%25e.js#L1")));
    let (_, html) = s.page(&format!("{search}?q=re%3AMODULE%5C.%5Cw%2B&i=1")).await;
    let hit_files = text(&Html::parse_document(&html), "section.hits h2");
    assert!(hit_files.contains("index.js"), "{hit_files}");
    let (_, html) = s.page(&format!("{search}?q=%3Cscript%3Ealert(%27js%27)")).await;
    assert_no_injection(&html, "a search for a script");
    assert!(text(&Html::parse_document(&html), "section.hits mark").contains("<script>alert('js')"), "{html}");
    assert_eq!(s.page(&format!("{search}?q=re%3A(")).await.0, StatusCode::BAD_REQUEST);
    let (status, _, body) = s.get("/api/v1/packages/src-pkg/versions/1.0.0/search?q=weird").await;
    assert_eq!(status, StatusCode::OK);
    let v: Value = serde_json::from_slice(&body).expect("json");
    assert_eq!((v["total"].as_i64(), v["files"][0]["path"].as_str()), (Some(1), Some(WEIRD)));
    assert_eq!(v["files"][0]["url"], format!("{base}lib/a%20b%23c%3Fd%25e.js"));
    assert_eq!(v["files"][0]["matches"][0]["ranges"][0], json!([13, 18]));

    // every URL the files API hands out answers, the raw ones with the stored bytes
    let (_, _, body) = s.get("/api/v1/packages/src-pkg/versions/1.0.0/files").await;
    let listing: Value = serde_json::from_slice(&body).expect("json");
    let items = listing["files"].as_array().expect("files");
    let weird_entry = items.iter().find(|f| f["path"] == WEIRD).expect("the awkward name");
    let huge = items.iter().find(|f| f["path"] == "huge.txt").expect("huge.txt listed");
    assert_eq!((huge["size"].as_i64(), huge["raw_url"].is_null()), (Some(4_500_000), true));
    assert_eq!(weird_entry["language"], "JavaScript");
    assert_eq!(weird_entry["lines"], 1);
    for f in items {
        let html_url = f["html_url"].as_str().expect("html_url");
        assert_eq!(s.get(html_url).await.0, StatusCode::OK, "{html_url}");
        if let Some(raw) = f["raw_url"].as_str() {
            let (status, _, bytes) = s.get(raw).await;
            assert_eq!(status, StatusCode::OK, "{raw}");
            let want = files(&"var a=1;".repeat(1000)).into_iter().find(|(p, _)| *p == f["path"]).map(|(_, d)| d);
            assert_eq!(Some(bytes), want, "{raw}");
        }
    }
}

/// A scoped package whose paths carry non-ASCII letters and spaces: every link is
/// percent-encoded per segment, and every one answers with the stored bytes.
#[tokio::test]
async fn a_scoped_package_with_unicode_and_spaces_in_names() {
    let db = TestDb::new().await;
    let reg = FakeRegistry::start().await;
    let deep = "src/café ü/naïve 文件.js";
    reg.publish(
        "@uni/pkg",
        &[(deep, "export const é = '<i>ü</i>';\n".as_bytes())],
        json!({ "description": "unicode" }),
    );
    let s = Site::start(db, reg, "@uni/pkg").await;
    let base = "/package/@uni/pkg/v/1.0.0/source/";
    let folder = format!("{base}src/caf%C3%A9%20%C3%BC/");
    let (status, html) = s.page(&format!("{base}src/")).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(hrefs(&Html::parse_document(&html), "table.tree a").contains(&folder), "{html}");
    let (status, html) = s.page(&folder).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    let doc = Html::parse_document(&html);
    let file = format!("{folder}na%C3%AFve%20%E6%96%87%E4%BB%B6.js");
    assert!(hrefs(&doc, "table.tree a").contains(&file), "{:?}", hrefs(&doc, "table.tree a"));
    assert!(text(&doc, ".crumbs").contains("café ü"), "{}", text(&doc, ".crumbs"));
    let (status, html) = s.page(&file).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert_no_injection(&html, "a unicode file");
    assert!(text(&Html::parse_document(&html), "pre.code").contains("export const é = '<i>ü</i>';"), "{html}");
    let (status, _, body) = s.get(&format!("{file}?raw=1")).await;
    assert_eq!((status, body.as_slice()), (StatusCode::OK, "export const é = '<i>ü</i>';\n".as_bytes()));
    // the latest's URLs and the files API agree
    assert_eq!(s.get("/package/@uni/pkg/source/src/caf%C3%A9%20%C3%BC/").await.0, StatusCode::OK);
    let (_, _, body) = s.get("/api/v1/packages/@uni%2Fpkg/versions/1.0.0/files").await;
    let v: Value = serde_json::from_slice(&body).expect("json");
    let entry = v["files"].as_array().expect("files").iter().find(|f| f["path"] == deep).expect("the deep file");
    assert_eq!(entry["html_url"], file.as_str());
    assert_eq!(entry["raw_url"], format!("{file}?raw=1"));
}

#[tokio::test]
async fn a_version_not_downloaded_is_prepared_on_demand() {
    let db = TestDb::new().await;
    let reg = FakeRegistry::start().await;
    reg.publish("later", &[("index.js", b"module.exports = 1;\n")], json!({ "description": "later" }));
    let url = reg.url();
    run_bin("nodules-indexer", &db, &["--registry", &url, "fetch", "later"]).await.assert_ok();
    let web = Webapp::start(&db, &["--rate-limit", "0"]).await;
    let http = reqwest::Client::new();
    let r = http.get(web.url("/package/later/source/")).send().await.expect("get");
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    assert_eq!(r.headers().get("retry-after").and_then(|v| v.to_str().ok()), Some("5"));
    assert!(r.headers().get("cache-control").is_some_and(|v| v == "no-store"));
    assert!(r.text().await.expect("body").contains("reload this page in a few seconds"));
    run_bin("nodules-downloader", &db, &["--registry", &url, "run", "--once"]).await.assert_ok();
    let r = http.get(web.url("/package/later/source/index.js")).send().await.expect("get");
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.text().await.expect("body").contains("exports"));
}

/// A package with two versions whose differences a reviewer cares about.
fn two_versions(reg: &FakeRegistry) {
    use nodules_e2e::tarballs::{integrity, shasum, tarball, tarball_path};
    let index_v1 = "const a = 1;\nconst b = 2;\nconst c = 3;\nconst d = 4;\nconst e = 5;\nconst f = 6;\nconst g = 7;\nmodule.exports = { a };\n";
    let index_v2 = "const a = 1;\nconst b = 2;\nconst c = 'three';\nconst d = 4;\nconst e = 5;\nconst f = 6;\nconst g = 7;\nmodule.exports = { a, c };\nconsole.log('<b>x</b>');\n";
    let v1_manifest = json!({ "name": "two", "version": "1.0.0", "dependencies": { "a": "^1", "b": "^1" }, "scripts": { "test": "jest" } });
    let v2_manifest = json!({ "name": "two", "version": "1.1.0", "dependencies": { "a": "^2", "c": "^1" },
        "scripts": { "test": "jest", "postinstall": "node collect.js" }, "engines": { "node": ">=18" } });
    let v1 = tarball(&[
        ("package.json", v1_manifest.to_string().as_bytes()),
        ("index.js", index_v1.as_bytes()),
        ("lib/old.js", b"module.exports = 'old';\n"),
        ("lib/helper.js", b"module.exports = 'moved';\n"),
        ("util.js", b"function f() {\n  return 1;\n}\n"),
    ]);
    let v2 = tarball(&[
        ("package.json", v2_manifest.to_string().as_bytes()),
        ("index.js", index_v2.as_bytes()),
        ("lib/new.js", b"module.exports = 'new';\n"),
        ("src/helper.js", b"module.exports = 'moved';\n"),
        ("util.js", b"function f() {\n    return 1;\n}\n"),
    ]);
    let version = |m: &Value, v: &str, tgz: &[u8]| {
        let mut m = m.clone();
        m["dist"] = json!({ "tarball": format!("{}{}", reg.url().trim_end_matches('/'), tarball_path("two", v)),
                            "integrity": integrity(tgz), "shasum": shasum(tgz) });
        m
    };
    let doc = json!({
        "_id": "two", "name": "two", "dist-tags": { "latest": "1.1.0" },
        "versions": { "1.0.0": version(&v1_manifest, "1.0.0", &v1), "1.1.0": version(&v2_manifest, "1.1.0", &v2) },
        "time": { "1.0.0": "2025-01-01T00:00:00.000Z", "1.1.0": "2025-02-01T00:00:00.000Z" },
    });
    reg.package("two", &doc);
    reg.on(&tarball_path("two", "1.0.0"), vec![nodules_e2e::Reply::bytes(v1)]);
    reg.on(&tarball_path("two", "1.1.0"), vec![nodules_e2e::Reply::bytes(v2)]);
}

#[tokio::test]
async fn a_diff_shows_what_a_reviewer_checks_first() {
    let db = TestDb::new().await;
    let reg = FakeRegistry::start().await;
    two_versions(&reg);
    let s = Site::start(db, reg, "two").await;

    // the module page links to the changes since the previous version
    let (_, html) = s.page("/package/two").await;
    let diff = "/package/two/diff/1.0.0...1.1.0";
    assert!(hrefs(&Html::parse_document(&html), "main a").contains(&diff.to_string()), "{html}");
    // 1.0.0 was never downloaded: queued, 202; the API says the same
    let (status, headers, _) = s.get(diff).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    assert_eq!(headers.get("retry-after").and_then(|v| v.to_str().ok()), Some("5"));
    let (status, _, body) = s.get("/api/v1/packages/two/diff/1.0.0...1.1.0").await;
    assert_eq!(status, StatusCode::ACCEPTED, "{}", String::from_utf8_lossy(&body));
    s.run("nodules-downloader", &["run", "--once"]).await;

    // a diff waits 100 ms for a file's highlighting and shows it plain meanwhile (a slow CI
    // machine's debug build takes longer): a reload shows it highlighted once it is kept
    let mut tries = 0;
    let (doc, html) = loop {
        let (status, html) = s.page(diff).await;
        assert_eq!(status, StatusCode::OK, "{html}");
        let doc = Html::parse_document(&html);
        tries += 1;
        if !select(&doc, "[id=\"f-index.js\"] tr.add [class*=\"hl-\"]").is_empty() || tries == 40 {
            break (doc, html);
        }
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    };
    assert_no_injection(&html, "the diff");
    let review = text(&doc, ".review");
    assert!(review.contains("Install scripts changed") && review.contains("node collect.js"), "{review}");
    for want in ["^1", "^2", "removed", "added", ">=18"] {
        assert!(review.contains(want), "{want} in {review}");
    }
    assert!(!review.contains("jest"), "a test script is not an install script: {review}");
    let files = text(&doc, "ul.changed-files");
    for want in ["index.js", "lib/new.js", "lib/old.js", "util.js", "+3", "−2"] {
        assert!(files.contains(want), "{want} in {files}");
    }
    assert!(!files.contains("package.json changed +0"), "{files}");
    // the same bytes under another path: one rename, not a removal and an addition
    assert!(files.contains("src/helper.js renamed from lib/helper.js +0 −0"), "{files}");
    assert!(!files.contains("lib/helper.js removed"), "{files}");
    let added: Vec<String> = select(&doc, "[id=\"f-index.js\"] tr.add").iter().map(|r| r.text().collect()).collect();
    assert!(added.iter().any(|r| r.contains("const c = 'three';")), "{added:?}");
    assert!(added.iter().any(|r| r.contains("console.log('<b>x</b>');")), "shown as text: {added:?}");
    let removed: Vec<String> = select(&doc, "[id=\"f-index.js\"] tr.del").iter().map(|r| r.text().collect()).collect();
    assert!(removed.iter().any(|r| r.contains("const c = 3;")), "{removed:?}");
    assert!(!select(&doc, "[id=\"f-index.js\"] tr.add [class*=\"hl-\"]").is_empty(), "highlighted");
    assert!(!select(&doc, "[id=\"f-util.js\"] tr.add").is_empty(), "white space counts by default");

    // ignoring white space; one file alone
    let (_, html) = s.page(&format!("{diff}?w=1")).await;
    let doc = Html::parse_document(&html);
    assert!(
        select(&doc, "[id=\"f-util.js\"] tr.add").is_empty() && !select(&doc, "[id=\"f-index.js\"] tr.add").is_empty()
    );
    let (_, html) = s.page(&format!("{diff}?file=index.js")).await;
    assert_eq!(select(&Html::parse_document(&html), "section.file-diff").len(), 1);
    // the pickers' form lands on the canonical URL
    let (status, headers, _) = s.get("/package/two/diff?from=1.0.0&to=1.1.0").await;
    assert!(status.is_redirection());
    assert_eq!(headers.get(LOCATION).and_then(|v| v.to_str().ok()), Some(diff));

    // the API: the same files and counts, and unified text on request
    let (status, _, body) = s.get("/api/v1/packages/two/diff/1.0.0...1.1.0?text=1").await;
    assert_eq!(status, StatusCode::OK);
    let v: Value = serde_json::from_slice(&body).expect("json");
    let index = v["files"].as_array().expect("files").iter().find(|f| f["path"] == "index.js").expect("index.js");
    assert_eq!(
        (index["change"].as_str(), index["added"].as_i64(), index["removed"].as_i64()),
        (Some("changed"), Some(3), Some(2))
    );
    let unified = index["unified"].as_str().expect("unified");
    assert!(
        unified.starts_with("--- a/index.js\n+++ b/index.js\n@@ ")
            && unified.contains("\n-const c = 3;\n+const c = 'three';\n"),
        "{unified}"
    );
    assert_eq!(v["review"]["install_scripts"][0]["name"], "postinstall");
    let moved = v["files"].as_array().expect("files").iter().find(|f| f["path"] == "src/helper.js").expect("moved");
    assert_eq!((moved["change"].as_str(), moved["from"].as_str()), (Some("renamed"), Some("lib/helper.js")));
    assert_eq!(s.get("/api/v1/packages/two/diff/1.0.0...9.9.9").await.0, StatusCode::NOT_FOUND);
}

/// A version downloaded for a visitor stays while visitors keep asking for it, and is
/// released like any old version once nobody has for `--keep-asked-for`.
#[tokio::test]
async fn an_old_version_nobody_asks_for_is_released() {
    let db = TestDb::new().await;
    let reg = FakeRegistry::start().await;
    two_versions(&reg);
    let s = Site::start(db, reg, "two").await;
    let old = "/package/two/v/1.0.0/source/index.js";
    assert_eq!(s.get(old).await.0, StatusCode::ACCEPTED);
    s.run("nodules-downloader", &["run", "--once"]).await;
    assert_eq!(s.get(old).await.0, StatusCode::OK);
    // asked for just now: kept by the next run
    s.run("nodules-downloader", &["run", "--once"]).await;
    assert_eq!(s.get(old).await.0, StatusCode::OK);

    // the last visit 40 days ago: released (the latest stays), and asking again queues it
    let sources = s.db.store.collection("sources");
    let long_ago =
        mongodb::bson::DateTime::from_millis(mongodb::bson::DateTime::now().timestamp_millis() - 40 * 86_400_000);
    let r = sources
        .update_one(
            mongodb::bson::doc! { "_id": "two@1.0.0" },
            mongodb::bson::doc! { "$set": { "asked_at": long_ago } },
        )
        .await
        .expect("update");
    assert_eq!(r.matched_count, 1, "the source of two@1.0.0");
    s.run("nodules-downloader", &["run", "--once"]).await;
    assert_eq!(s.get("/package/two/v/1.1.0/source/index.js").await.0, StatusCode::OK, "the latest is kept");
    // (its cached pages go when the webapp sees the package change: within a second or two)
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while s.get(old).await.0 == StatusCode::OK && std::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let (status, html) = s.page(old).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{html}");
    s.run("nodules-downloader", &["run", "--once"]).await;
    assert_eq!(s.get(old).await.0, StatusCode::OK);
}

/// `scripts/demo` runs the whole system: a version nobody downloaded becomes browsable without
/// a manual step (the demo's own downloader takes the on-demand job), and Ctrl-C stops all.
#[tokio::test]
async fn the_demo_prepares_an_old_version_by_itself_and_stops_whole() {
    let db = TestDb::new().await;
    let reg = FakeRegistry::start().await;
    two_versions(&reg);
    let dir = tempfile::tempdir().expect("tmp");
    let names = dir.path().join("names.txt");
    std::fs::write(&names, "two\n").expect("names");
    let port = std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port();
    let bin_dir = nodules_e2e::bins::bin_path("nodules-webapp").parent().expect("bin dir").to_path_buf();
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/demo");
    let log = std::fs::File::create(dir.path().join("demo.log")).expect("log");
    // as from a terminal: a job started in the background of a shell without job control
    // (CI's runner, `cmd &`) inherits SIGINT ignored, and bash cannot trap an ignored signal
    let mut demo = std::process::Command::new("env")
        .args(["--default-signal=INT", "bash"])
        .arg(&script)
        .arg(dir.path())
        .args(["0", db.name()])
        .env("MONGODB_URI", db.uri())
        .env("NODULES_BIN", &bin_dir)
        .env("NODULES_REGISTRY", reg.url())
        .env("NODULES_DEMO_NAMES", &names)
        .env("NODULES_DEMO_REFRESH", "3600")
        .env("NODULES_LISTEN", format!("127.0.0.1:{port}"))
        .stdout(log.try_clone().expect("log"))
        .stderr(log)
        .spawn()
        .expect("start scripts/demo");
    let http = reqwest::Client::new();
    let url = |p: &str| format!("http://127.0.0.1:{port}{p}");
    let demo_log = || std::fs::read_to_string(dir.path().join("demo.log")).unwrap_or_default();
    let started = std::time::Instant::now();
    while http.get(url("/healthz")).send().await.is_err() {
        assert!(started.elapsed().as_secs() < 180, "the demo did not start:\n{}", demo_log());
        assert!(demo.try_wait().expect("wait").is_none(), "the demo exited:\n{}", demo_log());
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    let page = "/package/two/v/1.0.0/source/index.js";
    let r = http.get(url(page)).send().await.expect("get");
    assert_eq!(r.status(), StatusCode::ACCEPTED, "not downloaded yet: {}", r.text().await.unwrap_or_default());
    let asked = std::time::Instant::now();
    loop {
        let r = http.get(url(page)).send().await.expect("get");
        if r.status() == StatusCode::OK {
            let doc = Html::parse_document(&r.text().await.expect("body"));
            assert!(text(&doc, "pre.code").contains("module.exports = { a };"), "1.0.0's index.js");
            break;
        }
        assert!(asked.elapsed().as_secs() < 60, "still {} after 60 s:\n{}", r.status(), demo_log());
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
    // Ctrl-C: the site, the downloader and the refresh loop all stop
    drop(http);
    let pid = demo.id().to_string();
    let children = std::process::Command::new("pgrep").args(["-P", &pid]).output().expect("pgrep");
    let children: Vec<String> =
        String::from_utf8_lossy(&children.stdout).split_whitespace().map(str::to_string).collect();
    assert!(children.len() >= 3, "site, downloader and refresh: {children:?}");
    std::process::Command::new("kill").args(["-INT", &pid]).status().expect("kill");
    let stopping = std::time::Instant::now();
    while demo.try_wait().expect("wait").is_none() {
        // the script kills what is left after 10 s: if it never ran its trap, the children's
        // states say what was left
        if stopping.elapsed().as_secs() >= 60 {
            let ps = std::process::Command::new("ps").args(["-o", "pid,ppid,stat,etime,args", "--ppid", &pid]).output();
            let ps = ps.map(|o| String::from_utf8_lossy(&o.stdout).into_owned()).unwrap_or_default();
            panic!("the demo did not stop within 60 s; its children:\n{ps}\nits log:\n{}", demo_log());
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    for child in &children {
        let alive = std::process::Command::new("kill").args(["-0", child]).stderr(std::process::Stdio::null()).status();
        assert!(!alive.expect("kill -0").success(), "process {child} outlived the demo:\n{}", demo_log());
    }
}

/// A crawler walking old versions cannot fill the download queue: each client may queue 20
/// versions a minute, the site `--max-on-demand`; past that, 429 or 503 with Retry-After, while
/// the version pages still answer and a version already queued still says "being prepared".
#[tokio::test]
async fn on_demand_work_is_bounded() {
    use nodules_e2e::tarballs::{integrity, shasum, tarball};
    let db = TestDb::new().await;
    let reg = FakeRegistry::start().await;
    let tgz = tarball(&[("package.json", br#"{"name":"many","version":"1.0.0"}"#), ("index.js", b"1\n")]);
    let versions: serde_json::Map<String, Value> = (0..30)
        .map(|i| {
            let v = format!("1.0.{i}");
            let m = json!({ "name": "many", "version": v, "dist": {
                "tarball": format!("{}many/-/many-1.0.0.tgz", reg.url()), "integrity": integrity(&tgz), "shasum": shasum(&tgz) } });
            (v, m)
        })
        .collect();
    let times: serde_json::Map<String, Value> =
        (0..30).map(|i| (format!("1.0.{i}"), json!(format!("2025-01-{:02}T00:00:00.000Z", i + 1)))).collect();
    reg.package("many", &json!({ "_id": "many", "name": "many", "dist-tags": { "latest": "1.0.29" }, "versions": versions, "time": times }));
    run_bin("nodules-indexer", &db, &["--registry", &reg.url(), "fetch", "many"]).await.assert_ok();
    let http = reqwest::Client::new();
    let status = |web: &Webapp, v: usize| {
        let url = web.url(&format!("/package/many/v/1.0.{v}/source/"));
        let http = http.clone();
        async move {
            let r = http.get(url).send().await.expect("get");
            (r.status(), r.headers().get("retry-after").is_some())
        }
    };

    let web = Webapp::start(&db, &["--rate-limit", "6000"]).await;
    for v in 0..20 {
        assert_eq!(status(&web, v).await.0, StatusCode::ACCEPTED, "1.0.{v}");
    }
    assert_eq!(status(&web, 20).await, (StatusCode::TOO_MANY_REQUESTS, true), "the 21st in a minute");
    let page = http.get(web.url("/package/many/v/1.0.25")).send().await.expect("get");
    assert_eq!(page.status(), StatusCode::OK, "the version page still answers");
    assert_eq!(status(&web, 3).await.0, StatusCode::ACCEPTED, "already queued: still being prepared");

    // site-wide: 20 are waiting; this webapp allows 25
    let web = Webapp::start(&db, &["--rate-limit", "0", "--max-on-demand", "25"]).await;
    for v in 20..25 {
        assert_eq!(status(&web, v).await.0, StatusCode::ACCEPTED, "1.0.{v}");
    }
    assert_eq!(status(&web, 25).await, (StatusCode::SERVICE_UNAVAILABLE, true), "past --max-on-demand");
    assert_eq!(status(&web, 0).await.0, StatusCode::ACCEPTED, "already queued");
    assert_eq!(db.store.count_on_demand_pending().await.expect("count"), 25);
}
