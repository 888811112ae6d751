//! Packages side by side, end to end: three packages (one depending on another, one through
//! an `npm:` alias, one as a peer), indexed, downloaded, one with GitHub activity and a
//! computed install tree; the compare page shows a column each and who depends on whom,
//! escaped; the search results' checkboxes land on it without JavaScript; the API answers
//! the same facts; lists it cannot compare are 400s that say why.

use mongodb::bson::doc;
use nodules_e2e::FakeRegistry;
use nodules_e2e::web::Webapp;
use nodules_store::testing::TestDb;
use reqwest::StatusCode;
use scraper::Html;
use serde_json::{Value, json};

use super::{select, text};

/// The cells of the row headed `label`, one per package.
fn row(doc: &Html, label: &str) -> Vec<String> {
    for tr in select(doc, "table.compare tbody tr") {
        let th = tr.select(&scraper::Selector::parse("th").expect("s")).next().map(|t| t.text().collect::<String>());
        if th.as_deref() == Some(label) {
            let td = scraper::Selector::parse("td").expect("s");
            return tr
                .select(&td)
                .map(|c| c.text().collect::<Vec<_>>().join(" ").split_whitespace().collect::<Vec<_>>().join(" "))
                .collect();
        }
    }
    panic!("no row {label}");
}

async fn fill(db: &TestDb) -> FakeRegistry {
    let reg = FakeRegistry::start().await;
    let url = reg.url();
    reg.publish(
        "cmp-core",
        &[("index.js", b"export default 1"), ("index.d.ts", b"export {}")],
        json!({
            "description": "The <b>core</b> & <script>alert(1)</script>", "license": "MIT", "type": "module",
            "types": "index.d.ts", "engines": { "node": ">=18" }, "repository": "github:ada/cmp-core",
        }),
    );
    reg.publish(
        "cmp-plugin",
        &[("index.js", b"module.exports = 1")],
        json!({
            "description": "A plugin", "license": "Apache-2.0",
            "dependencies": { "cmp-core": "^1.0.0" }, "peerDependencies": { "@cmp/extra": "*" },
        }),
    );
    reg.publish(
        "@cmp/extra",
        &[("index.js", b"")],
        json!({
            "description": "scoped", "deprecated": "use cmp-core instead",
            "scripts": { "postinstall": "node setup.js" }, "dependencies": { "core-alias": "npm:cmp-core@^1" },
        }),
    );
    let run = |args: Vec<&str>, bin: &'static str| {
        let args: Vec<String> = args.into_iter().map(str::to_string).collect();
        async move {
            let refs: Vec<&str> = args.iter().map(String::as_str).collect();
            nodules_e2e::run_bin(bin, db, &refs).await.assert_ok();
        }
    };
    run(vec!["--registry", &url, "fetch", "cmp-core", "cmp-plugin", "@cmp/extra"], "nodules-indexer").await;
    run(vec!["--registry", &url, "run", "--once"], "nodules-downloader").await;
    run(vec!["dependents", "--rerank"], "nodules-indexer").await;

    // GitHub activity of cmp-core's repository, as `nodules-downloader github` stores it
    let store = &db.store;
    let link = nodules_store::github::Link {
        package: "cmp-core".into(),
        owner: "ada".into(),
        repo: "cmp-core".into(),
        dependents: 2,
    };
    store.github_link(&link).await.expect("link");
    let before = store.github_repo("ada", "cmp-core").await.expect("read").expect("linked");
    let facts = nodules_store::github::RepoFacts { stars: 4242, open_issues: 7, ..Default::default() };
    let after = nodules_store::github::GithubRepo {
        weekly_commits: Some(vec![2; 52]),
        fetched_at: Some(mongodb::bson::DateTime::now()),
        facts: Some(facts),
        ..before.clone()
    };
    store.github_save(&before, &after).await.expect("save");

    // cmp-core's install tree computed (as the resolver stores it); cmp-plugin's not yet
    let installs = store.collection("installs");
    let summary = doc! {
        "packages": 3_i64, "optional": 0_i64, "size": 12_345_i64, "size_complete": false, "unknown_sizes": 1_i64,
        "install_scripts": 1_i64, "depth": 2_i64,
    };
    installs
        .update_one(
            doc! { "_id": "cmp-core@1.0.0" },
            doc! { "$set": { "package": "cmp-core", "version": "1.0.0", "summary": summary } },
        )
        .upsert(true)
        .await
        .expect("install tree");
    installs.delete_many(doc! { "_id": "cmp-plugin@1.0.0" }).await.expect("no tree");
    reg
}

#[tokio::test]
async fn packages_side_by_side_from_search_and_as_json() {
    let db = TestDb::new().await;
    let _reg = fill(&db).await;
    let web = Webapp::start(&db, &[]).await;
    let http = reqwest::Client::new();
    let get = |path: &str| {
        let (http, url) = (http.clone(), web.url(path));
        async move {
            let r = http.get(url).send().await.expect("request");
            (r.status(), r.text().await.expect("body"))
        }
    };

    // the table: a column per package, in the order asked, a missing one included
    let (status, html) = get("/compare/cmp-core,cmp-plugin,@cmp/extra,nothing-here").await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.len() < 200_000, "{} bytes", html.len());
    let doc = Html::parse_document(&html);
    let heads: Vec<String> = select(&doc, "table.compare thead th a").iter().map(|a| a.text().collect()).collect();
    assert_eq!(heads, ["cmp-core", "cmp-plugin", "@cmp/extra", "nothing-here"]);
    assert_eq!(
        select(
            &doc,
            r#"link[rel="canonical"][href="https://nodules.test/compare/cmp-core,cmp-plugin,@cmp/extra,nothing-here"]"#
        )
        .len(),
        1
    );
    // escaped: the description is shown as text, no script of its own
    assert!(html.contains("&lt;script&gt;alert(1)&lt;"), "escaped description");
    assert!(!html.contains("<script>alert") && !html.contains("<b>core"));
    assert!(select(&doc, "script").iter().all(|s| s.value().attr("src").is_some_and(|s| s.starts_with("/media/"))));
    let description = row(&doc, "Description");
    assert!(description[0].contains("The <b>core</b> & <script>alert(1)</script>"), "{description:?}");
    assert!(description[3].contains("Not found"), "{description:?}");

    // who depends on whom: a dependency, a peer, an npm: alias
    let note = text(&doc, ".depends-note li");
    for said in [
        "cmp-plugin depends on cmp-core ^1.0.0",
        "cmp-plugin has as a peer dependency @cmp/extra *",
        "@cmp/extra depends on cmp-core npm:cmp-core@^1",
    ] {
        assert!(note.contains(said), "{said:?} not in {note:?}");
    }

    assert_eq!(row(&doc, "License"), ["MIT", "Apache-2.0", "none", "—"]);
    let latest = row(&doc, "Latest version");
    assert!(latest[0].starts_with("1.0.0") && latest[3] == "—", "{latest:?}");
    assert!(row(&doc, "Deprecated")[2].contains("use cmp-core instead"));
    assert_eq!(row(&doc, "Deprecated")[0], "no");
    let dependents = row(&doc, "Dependents");
    assert_eq!(dependents[0], "2 packages", "cmp-plugin, and @cmp/extra through its alias");
    assert_eq!(dependents[2], "1 package", "a peer dependency counts");
    assert_eq!(row(&doc, "Types")[..2], ["included", "none"]);
    assert_eq!(row(&doc, "Module system")[0], "ESM");
    let scripts = row(&doc, "Install scripts");
    assert_eq!(scripts[0], "none");
    assert!(scripts[2].contains("postinstall") && scripts[2].contains("node setup.js"), "{scripts:?}");
    assert_eq!(row(&doc, "Engines")[0], "node >=18");
    let install = row(&doc, "Install size");
    assert_eq!(install[..2], ["at least 12.3 kB 1 package not downloaded yet", "not computed yet"]);
    assert_eq!(select(&doc, r#"table.compare a[href="/package/cmp-core/tree"]"#).len(), 1);
    assert_eq!(row(&doc, "Packages installed")[0], "3, 2 levels deep 1 run an install script");
    let commits = row(&doc, "Weekly commits");
    assert!(commits[0].contains("104 commits in 52 weeks, 24 in the last 12"), "{commits:?}");
    assert_eq!(commits[1], "not on GitHub");
    assert_eq!(select(&doc, "table.compare svg.sparkline rect").len(), 52);
    assert_eq!(row(&doc, "Stars")[..2], ["4,242", "—"]);
    assert!(row(&doc, "Open issues")[0].starts_with("7 "));

    // scoped names percent-encoded in the path; none indexed: a 404 that says so
    let (status, html) = get("/compare/%40cmp%2Fextra,cmp-core").await;
    assert_eq!(status, StatusCode::OK);
    assert!(text(&Html::parse_document(&html), "table.compare thead").contains("@cmp/extra"));
    let (status, html) = get("/compare/nothing-a,nothing-b").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(row(&Html::parse_document(&html), "Description").iter().all(|d| d.contains("Not found")));

    // lists that cannot be compared: 400, the form again, and why
    for (path, why) in [
        ("/compare/cmp-core", "at least two"),
        ("/compare/a,b,c,d,e", "at most 4"),
        ("/compare/cmp-core,a%20b", "not a valid npm package name"),
        ("/compare/cmp-core,,b", "empty"),
        ("/compare/cmp-core,cmp-core", "named twice"),
    ] {
        let (status, html) = get(path).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path}");
        let doc = Html::parse_document(&html);
        assert!(text(&doc, ".banner").contains(why), "{path}: {}", text(&doc, ".banner"));
        assert_eq!(select(&doc, r#"form[action="/compare"] input[name="packages"]"#).len(), 1, "{path}");
    }

    // from the search results: a checkbox per result in a GET form, which redirects
    web.wait_search_ready().await;
    let (status, html) = get("/search?q=cmp-core").await;
    assert_eq!(status, StatusCode::OK);
    let doc = Html::parse_document(&html);
    assert_eq!(
        select(&doc, r#"form[action="/compare"] input[type="checkbox"][name="packages"][value="cmp-core"]"#).len(),
        1
    );
    assert_eq!(select(&doc, r#"form[action="/compare"] button[type="submit"]"#).len(), 1);
    let no_redirects = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client");
    let r = no_redirects.get(web.url("/compare?packages=cmp-core&packages=%40cmp%2Fextra")).send().await.expect("get");
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers().get("location").and_then(|l| l.to_str().ok()), Some("/compare/cmp-core,@cmp/extra"));
    let r = http.get(web.url("/compare?packages=cmp-core%2C+cmp-plugin")).send().await.expect("get");
    assert_eq!(
        (r.status(), r.url().path()),
        (StatusCode::OK, "/compare/cmp-core,cmp-plugin"),
        "typed, comma separated"
    );
    let (status, html) = get("/compare?packages=cmp-core").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(html.contains("at least two"));
    let (status, html) = get("/compare?with=cmp-core").await;
    assert_eq!(status, StatusCode::OK);
    let doc = Html::parse_document(&html);
    let input = select(&doc, r#"input[name="packages"]"#);
    assert_eq!(input.first().and_then(|i| i.value().attr("value")), Some("cmp-core, "));
    // and from the module page
    let (_, html) = get("/package/cmp-core").await;
    assert_eq!(select(&Html::parse_document(&html), r#"a[href="/compare?with=cmp-core"]"#).len(), 1);

    // the same facts as JSON
    let json = |path: &str| {
        let get = get(path);
        async move {
            let (status, body) = get.await;
            (status, serde_json::from_str::<Value>(&body).unwrap_or_else(|e| panic!("not JSON ({e}): {body}")))
        }
    };
    let (status, c) = json("/api/v1/compare?packages=cmp-core,cmp-plugin,nothing-here").await;
    assert_eq!(status, StatusCode::OK, "{c}");
    let names: Vec<&str> =
        c["packages"].as_array().expect("packages").iter().filter_map(|p| p["name"].as_str()).collect();
    assert_eq!(names, ["cmp-core", "cmp-plugin", "nothing-here"]);
    let core = &c["packages"][0];
    assert_eq!(
        (core["state"].as_str(), core["license"].as_str(), core["latest"].as_str()),
        (Some("active"), Some("MIT"), Some("1.0.0"))
    );
    assert_eq!((core["dependents_count"].as_i64(), core["source"]["has_types"].as_bool()), (Some(2), Some(true)));
    assert_eq!(core["source"]["module_type"], "esm");
    assert_eq!(core["engines"], json!({ "node": ">=18" }));
    assert_eq!(
        (core["install"]["size"].as_i64(), core["install"]["size_complete"].as_bool()),
        (Some(12_345), Some(false))
    );
    assert_eq!((core["github"]["stars"].as_i64(), core["github"]["open_issues"].as_i64()), (Some(4242), Some(7)));
    assert_eq!(core["github"]["weekly_commits"].as_array().map(Vec::len), Some(52));
    assert!(c["packages"][1]["install"].is_null() && c["packages"][1]["github"].is_null(), "absent facts are null");
    assert_eq!(c["packages"][2]["state"], "not_found");
    assert_eq!(
        c["depends_on"],
        json!([{ "package": "cmp-plugin", "depends_on": "cmp-core", "field": "dependencies", "range": "^1.0.0" }])
    );
    for (path, status) in [
        ("/api/v1/compare", StatusCode::BAD_REQUEST),
        ("/api/v1/compare?packages=cmp-core", StatusCode::BAD_REQUEST),
        ("/api/v1/compare?packages=a,b,c,d,e", StatusCode::BAD_REQUEST),
        ("/api/v1/compare?packages=cmp-core,a%20b", StatusCode::BAD_REQUEST),
        ("/api/v1/compare?packages=nothing-a,nothing-b", StatusCode::NOT_FOUND),
    ] {
        let (got, e) = json(path).await;
        assert_eq!(got, status, "{path}: {e}");
        assert!(e["error"]["code"].is_string() && e["error"]["message"].is_string(), "{path}: {e}");
    }
}
