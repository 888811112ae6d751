//! `nodules-webapp sitemaps` and the webapp's `/sitemap.xml`, `/sitemaps/{n}.xml.gz` and
//! `/robots.txt`, on packages a fake registry served to the real indexer. The files are
//! validated against the protocol's own XML Schema (`schema/sitemap.xsd` of the npm package
//! `sitemap`, fetched with `npm pack`) by Python's `xmlschema` (pinned in `.venv`).

use std::collections::{BTreeMap, HashMap};
use std::io::Read;
use std::path::{Path, PathBuf};

use nodules_e2e::dumps::packument;
use nodules_e2e::npm_pack::{npm_pack, tgz_member};
use nodules_e2e::web::Webapp;
use nodules_e2e::{FakeRegistry, Reply, run_bin};
use nodules_store::testing::TestDb;
use serde_json::json;

/// Pinned: the protocol's schema as that package ships it.
const SITEMAP_PACKAGE: &str = "sitemap@9.0.0";
const BASE: &str = "https://nodules.test";
const NS: &str = "http://www.sitemaps.org/schemas/sitemap/0.9";
/// Shards per kind in these tests: many, so that one publish can be seen to touch one.
const SHARDS: &str = "8";

async fn fetch(db: &TestDb, reg: &FakeRegistry, names: &[&str]) {
    let url = reg.url();
    let mut args = vec!["--registry", url.as_str(), "fetch"];
    args.extend(names);
    run_bin("nodules-indexer", db, &args).await.assert_ok();
}

async fn generate(db: &TestDb, out: &Path) -> String {
    let out = out.to_string_lossy().into_owned();
    let run = run_bin("nodules-webapp", db, &["sitemaps", "--out", &out, "--base-url", BASE, "--shards", SHARDS]).await;
    run.assert_ok();
    run.stdout
        .lines()
        .find(|l| l.starts_with("sitemaps: "))
        .unwrap_or_else(|| panic!("no summary: {}", run.stdout))
        .into()
}

/// Validates `dir` with the protocol's schema (see `tools/check_sitemaps.py`).
fn validate(dir: &Path, xsd: &Path) {
    let python = Path::new(env!("CARGO_MANIFEST_DIR")).join("../.venv/bin/python");
    assert!(python.exists(), "{} is missing: run `make test` (scripts/pytools install)", python.display());
    let out = std::process::Command::new(&python)
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tools/check_sitemaps.py"))
        .arg(xsd)
        .arg(dir)
        .output()
        .expect("run check_sitemaps.py");
    let report = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "the sitemaps do not validate:\n{report}");
}

fn gunzip(bytes: &[u8]) -> String {
    let mut s = String::new();
    flate2::read::GzDecoder::new(bytes).read_to_string(&mut s).expect("gzip");
    s
}

/// `(loc, lastmod)` of each `url` or `sitemap` entry.
fn entries(xml: &str) -> Vec<(String, Option<String>)> {
    let doc = roxmltree::Document::parse(xml).expect("XML");
    let child = |n: roxmltree::Node, name: &str| {
        n.children().find(|c| c.has_tag_name((NS, name))).and_then(|c| c.text()).map(str::to_string)
    };
    doc.root_element()
        .children()
        .filter(roxmltree::Node::is_element)
        .map(|e| (child(e, "loc").expect("loc"), child(e, "lastmod")))
        .collect()
}

/// Every shard file's bytes, by name.
fn shard_files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(dir.join("sitemaps"))
        .expect("sitemaps/")
        .map(|e| {
            let e = e.expect("entry");
            (e.file_name().to_string_lossy().into_owned(), std::fs::read(e.path()).expect("read"))
        })
        .collect()
}

/// Every URL listed, with the shard file it is in.
fn listed(dir: &Path) -> Vec<(String, Option<String>, String)> {
    let mut out = Vec::new();
    for (file, bytes) in shard_files(dir) {
        for (loc, lastmod) in entries(&gunzip(&bytes)) {
            out.push((loc, lastmod, file.clone()));
        }
    }
    out
}

fn sitemap_xsd(tmp: &Path) -> PathBuf {
    let xsd = tmp.join("sitemap.xsd");
    std::fs::write(&xsd, tgz_member(&npm_pack(SITEMAP_PACKAGE, tmp), "package/schema/sitemap.xsd")).expect("write xsd");
    xsd
}

fn canonical(html: &str) -> String {
    let doc = scraper::Html::parse_document(html);
    let sel = scraper::Selector::parse("link[rel=canonical]").expect("selector");
    doc.select(&sel).next().and_then(|l| l.value().attr("href")).expect("a canonical link").to_string()
}

#[tokio::test]
async fn every_shown_package_keyword_and_author_once_valid_and_stable() {
    let db = TestDb::new().await;
    let reg = FakeRegistry::start().await;
    let mut names: Vec<String> = (0..20).map(|i| format!("pkg-{i}")).collect();
    for n in &names {
        reg.package(n, &packument(n, &[("1.0.0", json!({}))]));
    }
    let hostile = json!({ "keywords": ["Fast", "xml&<tags>", "ünïcode"], "author": { "name": "Zoë O'Brien & Co" } });
    reg.package("alpha", &packument("alpha", &[("1.0.0", hostile)]));
    reg.package("@scope/pkg", &packument("@scope/pkg", &[("2.0.0", json!({ "keywords": ["fast"] }))]));
    reg.on(
        "/gone",
        vec![Reply::json(
            json!({ "_id": "gone", "name": "gone",
                    "time": { "unpublished": { "time": "2025-03-03T00:00:00.000Z", "versions": ["1.0.0"] } } })
            .to_string(),
        )],
    );
    names.extend(["alpha".to_string(), "@scope/pkg".to_string()]);
    let mut all: Vec<&str> = names.iter().map(String::as_str).collect();
    all.push("gone");
    fetch(&db, &reg, &all).await;

    let tmp = tempfile::tempdir().expect("tmp");
    let xsd = sitemap_xsd(tmp.path());
    let out = tmp.path().join("site");
    let summary = generate(&db, &out).await;
    assert!(summary.contains("22 packages, 3 keywords, 1 authors"), "{summary}");
    validate(&out, &xsd);

    // every shown package once, at its page's canonical URL; the unpublished one not at all
    let urls = listed(&out);
    let mut count: HashMap<&str, usize> = HashMap::new();
    for (loc, _, _) in &urls {
        *count.entry(loc.as_str()).or_default() += 1;
    }
    assert!(count.values().all(|&n| n == 1), "listed twice: {count:?}");
    for n in &names {
        let loc = format!("{BASE}/package/{n}");
        assert_eq!(count.get(loc.as_str()), Some(&1), "{loc} in {count:?}");
    }
    assert!(!urls.iter().any(|(l, _, _)| l.contains("gone") || l.contains("%2f") || l.contains("%2F")), "{urls:?}");
    for page in [
        "keyword/fast",
        "keyword/xml%26%3Ctags%3E",
        "keyword/%C3%BCn%C3%AFcode",
        "author/zo%C3%AB%20o%27brien%20%26%20co",
    ] {
        assert_eq!(count.get(format!("{BASE}/{page}").as_str()), Some(&1), "{page} in {count:?}");
    }
    assert_eq!(urls.len(), 22 + 3 + 1);
    assert!(urls.iter().all(|(_, lastmod, _)| lastmod.is_some()), "every page has a lastmod: {urls:?}");

    // the same URL as the page's <link rel="canonical"> (the webapp's base URL is BASE)
    let web = Webapp::start(&db, &["--sitemaps-dir", &out.to_string_lossy()]).await;
    let client = reqwest::Client::new();
    for n in ["@scope/pkg", "alpha"] {
        let html =
            client.get(web.url(&format!("/package/{n}"))).send().await.expect("page").text().await.expect("body");
        assert!(count.contains_key(canonical(&html).as_str()), "{} not listed", canonical(&html));
    }

    // served as written: the index as XML, shards as .gz files (not compressed again)
    let r = client.get(web.url("/sitemap.xml")).send().await.expect("index");
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-type"].to_str().unwrap_or("").starts_with("application/xml"));
    assert_eq!(r.bytes().await.expect("body").as_ref(), std::fs::read(out.join("sitemap.xml")).expect("file"));
    let (first, bytes) = shard_files(&out).into_iter().next().expect("a shard");
    let r = client
        .get(web.url(&format!("/sitemaps/{first}")))
        .header("accept-encoding", "gzip")
        .send()
        .await
        .expect("shard");
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/gzip");
    assert!(r.headers().get("content-encoding").is_none());
    assert_eq!(r.bytes().await.expect("body").as_ref(), bytes);
    for bad in ["/sitemaps/999.xml.gz", "/sitemaps/..%2fsitemap.xml", "/sitemaps/x.xml.gz", "/sitemaps/1.xml"] {
        assert_eq!(client.get(web.url(bad)).send().await.expect("get").status(), 404, "{bad}");
    }

    // nothing changed: the same bytes, nothing rewritten
    let before = shard_files(&out);
    let index_before = entries(&std::fs::read_to_string(out.join("sitemap.xml")).expect("index"));
    let summary = generate(&db, &out).await;
    assert!(summary.contains("(0 changed)"), "{summary}");
    assert_eq!(shard_files(&out), before);

    // a publish changes the one shard its name falls in, and that shard's lastmod
    reg.package("newcomer", &packument("newcomer", &[("1.0.0", json!({}))]));
    fetch(&db, &reg, &["newcomer"]).await;
    let summary = generate(&db, &out).await;
    assert!(summary.contains("23 packages") && summary.contains("(1 changed)"), "{summary}");
    validate(&out, &xsd);
    let after = shard_files(&out);
    let changed: Vec<&String> = after.keys().filter(|f| before.get(*f) != after.get(*f)).collect();
    let home = listed(&out).into_iter().find(|(l, _, _)| l == &format!("{BASE}/package/newcomer")).expect("listed").2;
    assert_eq!(changed, vec![&home], "only newcomer's shard changed");
    let index_after = entries(&std::fs::read_to_string(out.join("sitemap.xml")).expect("index"));
    for ((loc, was), (loc2, now)) in index_before.iter().zip(&index_after) {
        assert_eq!(loc, loc2);
        if loc.ends_with(&format!("/{home}")) {
            assert!(now > was, "{loc}: lastmod {was:?} -> {now:?}");
        } else {
            assert_eq!(was, now, "{loc}");
        }
    }
}

#[tokio::test]
async fn the_webapp_generates_them_itself_and_robots_txt_names_them() {
    let db = TestDb::new().await;
    let reg = FakeRegistry::start().await;
    for n in ["one", "@s/two"] {
        reg.package(n, &packument(n, &[("1.0.0", json!({ "keywords": ["k"] }))]));
    }
    fetch(&db, &reg, &["one", "@s/two"]).await;
    let web = Webapp::start(&db, &[]).await;
    let client = reqwest::Client::new();
    let r = client.get(web.url("/sitemap.xml")).send().await.expect("index");
    assert_eq!(r.status(), 200);
    let index = entries(&r.text().await.expect("body"));
    assert!(!index.is_empty());
    let mut locs = Vec::new();
    for (loc, lastmod) in &index {
        assert!(lastmod.is_some(), "{loc}");
        let path = loc.strip_prefix(BASE).unwrap_or_else(|| panic!("{loc} is not under {BASE}"));
        let bytes = client.get(web.url(path)).send().await.expect("shard").bytes().await.expect("body");
        locs.extend(entries(&gunzip(&bytes)).into_iter().map(|(l, _)| l));
    }
    locs.sort();
    let want: Vec<String> =
        ["/keyword/k", "/package/@s/two", "/package/one"].iter().map(|p| format!("{BASE}{p}")).collect();
    assert_eq!(locs, want);

    let r = client.get(web.url("/robots.txt")).send().await.expect("robots");
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-type"].to_str().unwrap_or("").starts_with("text/plain"));
    let robots = r.text().await.expect("body");
    for line in [
        "User-agent: *",
        "Disallow: /search",
        "Disallow: /api/",
        "Disallow: /*?raw=",
        "Disallow: /package/*/diff",
        &format!("Sitemap: {BASE}/sitemap.xml"),
    ] {
        assert!(robots.lines().any(|l| l == line), "{line:?} in\n{robots}");
    }
}
