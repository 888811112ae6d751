//! The module page's details end to end: the version page shows that version's own README
//! and facts (or says plainly that it is not downloaded yet, never another version's), the
//! install box, the JSON link, the `@types` link and the warning about what a version added.

use mongodb::bson::doc;
use nodules_e2e::bins::run_bin;
use nodules_e2e::tarballs::{integrity, shasum, tarball, tarball_path};
use nodules_e2e::web::Webapp;
use nodules_e2e::{FakeRegistry, Reply};
use nodules_store::testing::TestDb;
use reqwest::StatusCode;
use scraper::Html;
use serde_json::{Value, json};

use super::{select, text};

const OLD_README: &str = "# Twice, the first\n\nOLD-README-MARKER: the first version's own words.\n";
const NEW_README: &str = "# Twice, the second\n\nNEW-README-MARKER: the latest version's words.\n";

/// The files of a version: its `package.json` first.
type Files = Vec<(&'static str, Vec<u8>)>;

/// `twice`: 1.0.0 ships types, is ESM, has no install script and no dependency; 2.0.0 (the
/// latest) ships no types, is CommonJS, adds a postinstall script and a dependency. And
/// `@types/twice`, for the latest's missing types.
fn publish(reg: &FakeRegistry) -> (Files, Files) {
    let old_manifest = json!({ "name": "twice", "version": "1.0.0", "type": "module", "description": "twice",
        "bin": { "twice-old": "cli-old.js" }, "engines": { "node": ">=10" }, "scripts": { "test": "node test.js" } });
    let new_manifest = json!({ "name": "twice", "version": "2.0.0", "description": "twice",
        "bin": { "twice-new": "cli-new.js" }, "engines": { "node": ">=18" },
        "scripts": { "test": "node test.js", "postinstall": "node setup.js" },
        "dependencies": { "left-pad": "^1.3.0" } });
    let old: Files = vec![
        ("package.json", old_manifest.to_string().into_bytes()),
        ("README.md", OLD_README.as_bytes().to_vec()),
        ("index.js", b"export default 1;\n".to_vec()),
        ("index.d.ts", b"declare const x: number;\nexport default x;\n".to_vec()),
        ("cli-old.js", b"#!/usr/bin/env node\n".to_vec()),
    ];
    let new: Files = vec![
        ("package.json", new_manifest.to_string().into_bytes()),
        ("README.md", NEW_README.as_bytes().to_vec()),
        ("index.js", b"module.exports = 2;\n".to_vec()),
        ("cli-new.js", b"#!/usr/bin/env node\n".to_vec()),
        ("setup.js", b"console.log('set up');\n".to_vec()),
        ("lib/a.js", b"module.exports = 'a';\n".to_vec()),
        ("lib/b.js", b"module.exports = 'b';\n".to_vec()),
    ];
    let tgz = |files: &Files| tarball(&files.iter().map(|(p, d)| (*p, d.as_slice())).collect::<Vec<_>>());
    let (old_tgz, new_tgz) = (tgz(&old), tgz(&new));
    let version = |manifest: &Value, v: &str, tgz: &[u8]| {
        let mut m = manifest.clone();
        m["dist"] = json!({ "tarball": format!("{}{}", reg.url().trim_end_matches('/'), tarball_path("twice", v)),
                            "integrity": integrity(tgz), "shasum": shasum(tgz) });
        m
    };
    reg.package(
        "twice",
        &json!({
            "_id": "twice", "name": "twice", "dist-tags": { "latest": "2.0.0" },
            "versions": { "1.0.0": version(&old_manifest, "1.0.0", &old_tgz), "2.0.0": version(&new_manifest, "2.0.0", &new_tgz) },
            "time": { "1.0.0": "2025-01-01T00:00:00.000Z", "2.0.0": "2025-03-01T00:00:00.000Z" },
        }),
    );
    reg.on(&tarball_path("twice", "1.0.0"), vec![Reply::bytes(old_tgz)]);
    reg.on(&tarball_path("twice", "2.0.0"), vec![Reply::bytes(new_tgz)]);
    reg.publish("@types/twice", &[("index.d.ts", b"export default 0;\n")], json!({ "types": "index.d.ts" }));
    (old, new)
}

struct Site {
    db: TestDb,
    reg: FakeRegistry,
    web: Webapp,
    http: reqwest::Client,
}

impl Site {
    async fn run(&self, bin: &str, args: &[&str]) {
        let url = self.reg.url();
        let mut all = vec!["--registry", url.as_str()];
        all.extend_from_slice(args);
        run_bin(bin, &self.db, &all).await.assert_ok();
    }

    /// The page at `path` (200), parsed, and its `Cache-Control`.
    async fn page(&self, path: &str) -> (Html, String) {
        let r = self.http.get(self.web.url(path)).send().await.expect("request");
        assert_eq!(r.status(), StatusCode::OK, "{path}");
        let cache = r.headers().get("cache-control").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
        (Html::parse_document(&r.text().await.expect("body")), cache)
    }
}

/// The value of `term` in the side column's lists (`Files`, `Unpacked`, an engine).
fn pairs(doc: &Html, term: &str) -> Option<String> {
    select(doc, ".package-side dl.pairs dt")
        .into_iter()
        .find(|dt| dt.text().collect::<String>() == term)
        .and_then(|dt| dt.next_siblings().find_map(scraper::ElementRef::wrap))
        .map(|dd| dd.text().collect::<String>())
}

fn size(files: &Files) -> String {
    let total: usize = files.iter().map(|(_, d)| d.len()).sum();
    assert!(total < 1000, "shown in bytes");
    format!("{total} B")
}

fn install_commands(doc: &Html) -> Vec<String> {
    select(doc, "ul.install li code").iter().map(|c| c.text().collect::<String>()).collect()
}

#[tokio::test]
async fn a_version_page_shows_its_own_readme_and_facts_never_the_latests() {
    let db = TestDb::new().await;
    let reg = FakeRegistry::start().await;
    let (old_files, new_files) = publish(&reg);
    let web = Webapp::start(&db, &["--rate-limit", "0"]).await;
    let s = Site { db, reg, web, http: reqwest::Client::new() };
    s.run("nodules-indexer", &["fetch", "twice", "@types/twice"]).await;
    // the latest versions only
    s.run("nodules-downloader", &["run", "--once"]).await;

    // the latest: its README and facts
    let (latest, _) = s.page("/package/twice").await;
    assert!(text(&latest, ".markdown").contains("NEW-README-MARKER"));
    let badges = text(&latest, ".badges");
    assert!(badges.contains("no types") && badges.contains("CJS"), "{badges}");
    assert_eq!(pairs(&latest, "Files").as_deref(), Some("7"));
    assert_eq!(pairs(&latest, "Unpacked"), Some(size(&new_files)));

    // 1.0.0, not downloaded: said plainly, queued on demand, nothing of the latest's shown
    let (old, cache) = s.page("/package/twice/v/1.0.0").await;
    let status = text(&old, "[role=status]");
    assert!(status.contains("not downloaded yet: queued; reload in a few seconds"), "{status}");
    assert_eq!(cache, "no-store", "a page that says \"reload\" is not kept");
    let html = old.html();
    assert!(!html.contains("NEW-README-MARKER") && !html.contains("OLD-README-MARKER"), "{html}");
    assert!(select(&old, ".markdown").is_empty());
    assert!(text(&old, ".readme").contains("once this version is downloaded"));
    let badges = text(&old, ".badges");
    assert!(!badges.contains("types") && !badges.contains("CJS") && !badges.contains("ESM"), "unknown yet: {badges}");
    assert_eq!(pairs(&old, "Files"), None, "no file count before the download");
    assert!(!html.contains("twice-new") && !html.contains("&gt;=18"), "the latest's bin and engines: {html}");
    let job = s.db.store.collection("sources").find_one(doc! { "_id": "twice@1.0.0" }).await.expect("find");
    let job = job.expect("queued");
    assert_eq!(job.get_str("state").ok(), Some("pending"));
    assert!(job.get_i64("priority").unwrap_or(0) >= nodules_store::queue::ON_DEMAND_PRIORITY, "{job}");

    // downloaded: its own README and facts
    s.run("nodules-downloader", &["run", "--once"]).await;
    let (old, _) = s.page("/package/twice/v/1.0.0").await;
    let readme = text(&old, ".markdown");
    assert!(readme.contains("OLD-README-MARKER") && !readme.contains("NEW-README-MARKER"), "{readme}");
    assert!(text(&old, "[role=status]").is_empty(), "no longer pending");
    let badges = text(&old, ".badges");
    assert!(badges.contains("types") && !badges.contains("no types") && badges.contains("ESM"), "{badges}");
    assert_eq!(pairs(&old, "Files").as_deref(), Some("5"));
    assert_eq!(pairs(&old, "Unpacked"), Some(size(&old_files)));
    assert_eq!(pairs(&old, "node").as_deref(), Some(">=10"), "its engines");
    assert!(text(&old, ".package-side").contains("twice-old"), "its bin");
    let html = old.html();
    assert!(!html.contains("twice-new") && !html.contains("&gt;=18"), "nothing of the latest's: {html}");
    assert!(select(&old, ".types-available").is_empty(), "it ships types");
    assert!(select(&old, ".banner.added").is_empty(), "nothing before it to compare with");
}

#[tokio::test]
async fn install_box_json_link_types_link_and_what_a_version_added() {
    let db = TestDb::new().await;
    let reg = FakeRegistry::start().await;
    publish(&reg);
    let web = Webapp::start(&db, &["--rate-limit", "0"]).await;
    let s = Site { db, reg, web, http: reqwest::Client::new() };
    s.run("nodules-indexer", &["fetch", "twice", "@types/twice"]).await;
    s.run("nodules-downloader", &["run", "--once"]).await;

    let (latest, _) = s.page("/package/twice").await;
    // every package manager's command, in the page itself (no script needed)
    assert_eq!(install_commands(&latest), ["npm i twice", "pnpm add twice", "yarn add twice", "bun add twice"]);
    // the JSON, from the page's link
    let json_links = select(&latest, r#"a[href="/api/v1/packages/twice"]"#);
    assert_eq!(json_links.len(), 1, "a link to the package's JSON");
    let api: Value =
        s.http.get(s.web.url("/api/v1/packages/twice")).send().await.expect("get").json().await.expect("JSON");
    assert_eq!(api["name"], "twice");
    // no types in 2.0.0, and @types/twice is indexed
    let types = select(&latest, r#".types-available a[href="/package/@types/twice"]"#);
    assert_eq!(types.len(), 1, "{}", latest.html());
    assert_eq!(types[0].text().collect::<String>(), "@types/twice");
    // 2.0.0 added a postinstall script and a dependency: named, with the diff linked
    let added = text(&latest, ".banner.added");
    assert!(added.contains("New since 1.0.0"), "{added}");
    assert!(added.contains("an install script") && added.contains("postinstall: node setup.js"), "{added}");
    assert!(added.contains("a dependency") && added.contains("left-pad ^1.3.0"), "{added}");
    assert!(!added.contains("test.js"), "a test script is not an install script: {added}");
    assert_eq!(select(&latest, r#".banner.added a[href="/package/twice/diff/1.0.0...2.0.0"]"#).len(), 1);
    assert_eq!(select(&latest, r#".banner.added a[href="/package/left-pad"]"#).len(), 1);

    // an older version's page pins its version
    let (old, _) = s.page("/package/twice/v/1.0.0").await;
    assert_eq!(
        install_commands(&old),
        ["npm i twice@1.0.0", "pnpm add twice@1.0.0", "yarn add twice@1.0.0", "bun add twice@1.0.0"]
    );
    assert!(select(&old, r#"a[href="/api/v1/packages/twice"]"#).len() == 1);
    // and @types itself links to no @types package
    let (types_page, _) = s.page("/package/@types/twice").await;
    assert!(select(&types_page, ".types-available").is_empty());
    assert!(text(&types_page, ".badges").contains("types"));
}

/// A README of 400 kB: the module page shows its beginning, cut at a paragraph, says so
/// and links to the whole file in the source browser; the page stays under 200 kB.
#[tokio::test]
async fn a_very_long_readme_is_cut_with_a_link_to_the_whole_file() {
    let db = TestDb::new().await;
    let reg = FakeRegistry::start().await;
    let mut readme = String::from("# Long\n\nFIRST-PARAGRAPH-MARKER\n\n");
    for i in 0..4_000 {
        readme.push_str(&format!("Paragraph {i} says a little more about nothing in particular, at length.\n\n"));
        if i % 100 == 0 {
            readme.push_str("```js\nconst example = 1;\n\nconsole.log(example);\n```\n\n");
        }
    }
    readme.push_str("LAST-PARAGRAPH-MARKER\n");
    reg.publish("long-readme", &[("README.md", readme.as_bytes())], json!({ "description": "a long README" }));
    let web = Webapp::start(&db, &[]).await;
    let s = Site { db, reg, web, http: reqwest::Client::new() };
    s.run("nodules-indexer", &["fetch", "long-readme"]).await;
    s.run("nodules-downloader", &["run", "--once"]).await;
    let r = s.http.get(s.web.url("/package/long-readme")).send().await.expect("page");
    let body = r.text().await.expect("body");
    assert!(body.len() < 200_000, "the page is {} bytes", body.len());
    assert!(body.contains("FIRST-PARAGRAPH-MARKER") && !body.contains("LAST-PARAGRAPH-MARKER"));
    assert!(body.contains("The README is cut here"), "says so");
    let doc = Html::parse_document(&body);
    let whole = select(&doc, ".readme-cut a").first().and_then(|a| a.attr("href")).map(str::to_string);
    assert_eq!(whole.as_deref(), Some("/package/long-readme/v/1.0.0/source/README.md"));
    let file = s.http.get(s.web.url("/package/long-readme/v/1.0.0/source/README.md?raw=1")).send().await.expect("raw");
    assert_eq!(file.status(), StatusCode::OK);
    assert!(file.text().await.expect("raw body").contains("LAST-PARAGRAPH-MARKER"), "the whole file is one click away");
}
