//! `nodules-downloader github` against a fake GitHub: an axum server answering with GitHub's
//! own recorded answers (`fixtures/github/`, from @octokit/fixtures) for the repositories
//! of packages the indexer fetched from a fake registry.

use std::time::{Duration, SystemTime};

use nodules_e2e::dumps::packument;
use nodules_e2e::github::{NOT_FOUND, activity, commits, moved, renamed, repository};
use nodules_e2e::web::Webapp;
use nodules_e2e::{FakeRegistry, Reply, run_bin};
use nodules_store::github::GithubRepo;
use nodules_store::testing::TestDb;
use scraper::{Html, Selector};
use serde_json::{Value, json};

const TOKEN: &str = "ghp_sekrit0123456789TOKENabcdef";

/// Indexes `packages` (name, `repository` field or null) from a fake registry.
/// Indexes `packages`: (name, its `repository` field, or null, or a manifest's fields when
/// they hold `keywords`).
async fn index(db: &TestDb, packages: &[(&str, Value)]) -> FakeRegistry {
    let reg = FakeRegistry::start().await;
    for (name, repository) in packages {
        let extra = match repository {
            Value::Null => json!({}),
            fields if fields.get("keywords").is_some() => fields.clone(),
            repository => json!({ "repository": repository }),
        };
        reg.package(name, &packument(name, &[("1.0.0", extra)]));
    }
    let url = reg.url();
    let mut args = vec!["--registry", url.as_str(), "fetch"];
    args.extend(packages.iter().map(|(n, _)| *n));
    run_bin("nodules-indexer", db, &args).await.assert_ok();
    reg
}

fn etagged(body: String, etag: &str) -> Reply {
    Reply::json(body).header("etag", etag).header("x-ratelimit-remaining", "4999")
}

fn not_modified(etag: &str) -> Reply {
    Reply::status(304).header("etag", etag)
}

async fn github(db: &TestDb, gh: &FakeRegistry, extra: &[&str]) -> nodules_e2e::Run {
    let api = gh.url();
    let api = api.trim_end_matches('/');
    let mut args = vec!["github", "--once", "--github-api", api, "--backoff", "10ms"];
    args.extend(extra);
    let mut cmd = nodules_e2e::bins::command("nodules-downloader", db, &args);
    cmd.env("GITHUB_TOKEN", TOKEN).env("RUST_LOG", "debug");
    tokio::task::spawn_blocking(move || {
        let started = std::time::Instant::now();
        let out = cmd.output().expect("spawn");
        nodules_e2e::Run {
            code: out.status.code(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            elapsed: started.elapsed(),
        }
    })
    .await
    .expect("join")
}

fn summary(run: &nodules_e2e::Run) -> String {
    let line = run
        .stdout
        .lines()
        .find(|l| l.starts_with("refreshed "))
        .unwrap_or_else(|| panic!("no summary line\n--- stdout:\n{}\n--- stderr:\n{}", run.stdout, run.stderr));
    line.rsplit_once(" in ").map_or(line, |(counts, _)| counts).to_string()
}

async fn repo(db: &TestDb, owner: &str, name: &str) -> GithubRepo {
    db.store.github_repo(owner, name).await.expect("read").unwrap_or_else(|| panic!("{owner}/{name} not linked"))
}

async fn seq(db: &TestDb, name: &str) -> i64 {
    let d = db.store.packages().find_one(mongodb::bson::doc! { "_id": name }).await.expect("read").expect("package");
    d.get_i64("seq").expect("seq")
}

#[tokio::test]
async fn a_monorepo_is_fetched_once_and_refreshes_are_conditional() {
    let db = TestDb::new().await;
    let _reg = index(
        &db,
        &[
            (
                "mono-a",
                json!({ "type": "git", "url": "git+https://github.com/octo/mono.git", "directory": "packages/a" }),
            ),
            // another spelling of the same repository (not another case: which package is linked
            // first is not fixed, and the fake, unlike GitHub, matches paths case-sensitively)
            ("mono-b", json!({ "type": "git", "url": "git://github.com/octo/mono.git", "directory": "packages/b" })),
            ("single", json!({ "repository": "github:octo/single", "keywords": ["tools"] })),
            ("elsewhere", json!({ "repository": "gitlab:octo/elsewhere", "keywords": ["tools"] })),
            ("no-repo", Value::Null),
        ],
    )
    .await;
    let gh = FakeRegistry::start().await;
    gh.on("/repos/octo/mono", vec![etagged(repository("octo", "mono", 10), "\"m1\""), not_modified("\"m1\"")]);
    gh.on(
        "/repos/octo/mono/commits",
        vec![etagged(commits("octo", "mono", "abc123", "Fix <b>it</b>\n\nmore"), "\"c1\""), not_modified("\"c1\"")],
    );
    // GitHub computes the weekly counts first (202), then has them
    gh.on(
        "/repos/octo/mono/stats/commit_activity",
        vec![
            Reply::status(202).header("content-type", "application/json"),
            etagged(activity(|i| (i % 3) as i64), "\"a1\""),
        ],
    );
    let hostile = {
        let mut v: Value = serde_json::from_str(&repository("octo", "single", 3)).expect("JSON");
        v["description"] = json!("<script>alert('gh')</script><img src=x onerror=alert(1)>");
        v.to_string()
    };
    gh.on("/repos/octo/single", vec![etagged(hostile, "\"s1\""), not_modified("\"s1\"")]);
    gh.on(
        "/repos/octo/single/commits",
        vec![etagged(commits("octo", "single", "def456", "Init"), "\"s2\""), not_modified("\"s2\"")],
    );
    gh.on("/repos/octo/single/stats/commit_activity", vec![etagged(activity(|_| 1), "\"s3\""), not_modified("\"s3\"")]);

    let first = github(&db, &gh, &[]).await;
    first.assert_ok();
    assert_eq!(summary(&first), "refreshed 2, not modified 0, failed 0, gone 0");
    assert_eq!(gh.requests("/repos/octo/mono").len(), 1, "one repository, fetched once for both packages");
    let mono = repo(&db, "octo", "mono").await;
    let mut linked = mono.packages.clone();
    linked.sort();
    assert_eq!(linked, vec!["mono-a", "mono-b"]);
    assert_eq!(mono.facts.as_ref().map(|f| f.stars), Some(10));
    let commit = mono.latest_commit.as_ref().expect("latest commit");
    assert_eq!(
        (commit.sha.as_str(), commit.message.as_str(), commit.author.as_deref()),
        ("abc123", "Fix <b>it</b>", Some("alice"))
    );
    assert!(mono.activity_pending && mono.weekly_commits.is_none(), "202: asked again later");
    assert!(db.store.github_repo("octo", "elsewhere").await.expect("read").is_none(), "not on GitHub");
    // the token goes to GitHub, and nowhere else
    for r in gh.all_requests() {
        let auth = r.headers.get("authorization").and_then(|v| v.to_str().ok()).unwrap_or("");
        assert_eq!(auth, format!("Bearer {TOKEN}"), "{}", r.path);
    }
    assert!(!first.stdout.contains(TOKEN) && !first.stderr.contains(TOKEN), "the token is never printed");

    let (single_seq, mono_seq) = (seq(&db, "single").await, seq(&db, "mono-a").await);
    let second = github(&db, &gh, &["--max-age", "0s", "--pending-retry", "0s"]).await;
    second.assert_ok();
    assert_eq!(summary(&second), "refreshed 1, not modified 1, failed 0, gone 0");
    for (path, etag) in
        [("/repos/octo/single", "\"s1\""), ("/repos/octo/single/commits", "\"s2\""), ("/repos/octo/mono", "\"m1\"")]
    {
        let asked = gh.requests(path);
        let last = asked.last().expect("asked");
        assert_eq!(last.headers.get("if-none-match").and_then(|v| v.to_str().ok()), Some(etag), "{path}");
    }
    let mono = repo(&db, "octo", "mono").await;
    let weeks = mono.weekly_commits.as_ref().expect("the weekly counts, once computed");
    assert_eq!((weeks.len(), weeks.iter().sum::<i64>()), (52, (0..52).map(|i| (i % 3) as i64).sum()));
    assert_eq!(seq(&db, "single").await, single_seq, "nothing shown changed: not renumbered");
    assert!(seq(&db, "mono-a").await > mono_seq, "the weekly counts arrived: renumbered");
    assert!(!second.stderr.contains(TOKEN));

    // what a visitor sees
    run_bin("nodules-indexer", &db, &["--registry", &_reg.url(), "fetch", "no-repo"]).await.assert_ok();
    _reg.package("fresh", &packument("fresh", &[("1.0.0", json!({ "repository": "github:octo/fresh" }))]));
    run_bin("nodules-indexer", &db, &["--registry", &_reg.url(), "fetch", "fresh"]).await.assert_ok();
    let web = Webapp::start(&db, &[]).await;
    let page = |name: &str| {
        let url = web.url(&format!("/package/{name}"));
        async move { reqwest::get(url).await.expect("get").text().await.expect("text") }
    };
    let html = Html::parse_document(&page("mono-a").await);
    let boxed = text(&html, "section.github");
    assert!(boxed.contains("octo/mono"), "{boxed}");
    let stars = select(&html, "section.github dl.pairs dd").first().map(|e| e.text().collect::<String>());
    assert_eq!(stars.as_deref(), Some("10"), "{boxed}");
    assert!(boxed.contains("issues and pull requests (GitHub counts both)"), "{boxed}");
    let total: i64 = (0..52).map(|i| (i % 3) as i64).sum();
    assert_eq!(text(&html, "section.github svg.sparkline title"), format!("{total} commits in the last year"));
    assert_eq!(select(&html, "section.github svg.sparkline rect").len(), 52);
    assert!(
        text(&html, "section.github figcaption").contains("packages/a"),
        "a monorepo's activity is the repository's"
    );
    assert!(text(&html, "section.github .commit").contains("Fix <b>it</b>"), "the message is text");
    assert!(select(&html, "section.github .commit b").is_empty());
    let single = page("single").await;
    let html = Html::parse_document(&single);
    assert!(text(&html, "section.github").contains("<script>alert('gh')</script>"), "shown as text");
    assert!(select(&html, "section.github script, section.github img").is_empty(), "escaped: {single}");
    for (name, says) in [
        ("elsewhere", "the repository is on gitlab, not GitHub"),
        ("no-repo", "this version names no repository"),
        ("fresh", "GitHub activity not fetched yet"),
    ] {
        let html = Html::parse_document(&page(name).await);
        assert!(text(&html, "section.github").contains(says), "{name}: {}", text(&html, "section.github"));
    }
    let api: Value = reqwest::get(web.url("/api/v1/packages/mono-b")).await.expect("get").json().await.expect("json");
    let g = &api["github"];
    assert_eq!((g["owner"].as_str(), g["repo"].as_str(), g["stars"].as_i64()), (Some("octo"), Some("mono"), Some(10)));
    assert_eq!(g["weekly_commits"].as_array().map(Vec::len), Some(52));
    assert_eq!(g["latest_commit"]["sha"], "abc123");
    assert!(g["fetched_at"].is_string() && g["error"].is_null() && g["gone"].is_null());
    let api: Value = reqwest::get(web.url("/api/v1/packages/fresh")).await.expect("get").json().await.expect("json");
    assert!(api["github"].is_null(), "not fetched yet: null");

    // browse lists by GitHub activity: one entry per repository
    let list = |path: &str| {
        let url = web.url(path);
        async move {
            let html = Html::parse_document(&reqwest::get(url).await.expect("get").text().await.expect("text"));
            let names: Vec<String> = select(&html, "ol.rows a.pkg").iter().map(|a| a.text().collect()).collect();
            (names, text(&html, "ol.rows"), text(&html, "nav.sorts [aria-current]"))
        }
    };
    let (starred, rows, _) = list("/browse/starred").await;
    assert_eq!(starred.len(), 2, "{starred:?}: the monorepo once, then single");
    assert!(starred[0].starts_with("mono-") && starred[1] == "single", "{starred:?}");
    assert!(rows.contains("10 stars") && rows.contains("3 stars"), "{rows}");
    let (active, rows, _) = list("/browse/active").await;
    assert_eq!(active.len(), 2, "{active:?}");
    assert!(rows.contains("12 commits in 12 weeks"), "{rows}");
    // a keyword list in three orders
    let (by_dependents, _, current) = list("/keyword/tools").await;
    assert_eq!(
        (by_dependents, current.as_str()),
        (vec!["elsewhere".to_string(), "single".to_string()], "Most depended upon")
    );
    let (by_stars, rows, current) = list("/keyword/tools?sort=stars").await;
    assert_eq!((by_stars, current.as_str()), (vec!["single".to_string(), "elsewhere".to_string()], "Most stars"));
    assert!(rows.contains("3 stars"), "{rows}");
    let (by_activity, _, current) = list("/keyword/tools?sort=activity").await;
    assert_eq!((by_activity[0].as_str(), current.as_str()), ("single", "Most active"));
}

fn select<'a>(doc: &'a Html, css: &str) -> Vec<scraper::ElementRef<'a>> {
    doc.select(&Selector::parse(css).expect("selector")).collect()
}

fn text(doc: &Html, css: &str) -> String {
    let joined: Vec<String> = select(doc, css).iter().map(|e| e.text().collect::<String>()).collect();
    joined.join(" ").split_whitespace().collect::<Vec<_>>().join(" ")
}

#[tokio::test]
async fn renames_gone_repositories_broken_answers_and_limits() {
    let db = TestDb::new().await;
    let _reg = index(
        &db,
        &[
            ("renamed", json!("github:octo/old")),
            ("missing", json!("github:octo/missing")),
            ("legal", json!("github:octo/legal")),
            ("broken", json!("github:octo/broken")),
            ("waits", json!("github:octo/waits")),
            ("resets", json!("github:octo/resets")),
        ],
    )
    .await;
    let gh = FakeRegistry::start().await;
    // GitHub's 301 names itself; ours points at the fake
    gh.on(
        "/repos/octo/old",
        vec![Reply::json(moved()).status_code(301).header("location", &format!("{}repositories/1000", gh.url()))],
    );
    gh.on("/repositories/1000", vec![etagged(renamed(), "\"r1\"")]);
    let new_base = "/repos/octokit-fixture-org/rename-repository-newname";
    gh.on(
        &format!("{new_base}/commits"),
        vec![etagged(commits("octokit-fixture-org", "x", "aaa111", "Renamed"), "\"r2\"")],
    );
    gh.on(&format!("{new_base}/stats/commit_activity"), vec![etagged(activity(|_| 2), "\"r3\"")]);
    gh.on("/repos/octo/missing", vec![Reply::json(NOT_FOUND).status_code(404)]);
    gh.on("/repos/octo/legal", vec![Reply::json(r#"{"message":"Repository access blocked"}"#).status_code(451)]);
    gh.on(
        "/repos/octo/broken",
        vec![Reply::bytes("<html><body>Unicorn!</body></html>").header("content-type", "text/html")],
    );
    // a secondary limit: Retry-After on a 403, then the answer
    gh.on(
        "/repos/octo/waits",
        vec![
            Reply::json(r#"{"message":"You have exceeded a secondary rate limit."}"#)
                .status_code(403)
                .header("retry-after", "1"),
            etagged(repository("octo", "waits", 5), "\"w1\""),
        ],
    );
    gh.on("/repos/octo/waits/commits", vec![etagged(commits("octo", "waits", "bbb222", "W"), "\"w2\"")]);
    gh.on("/repos/octo/waits/stats/commit_activity", vec![etagged(activity(|_| 0), "\"w3\"")]);
    // the primary limit spent, resetting in 2 s: waited for
    let soon = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).expect("clock").as_secs() + 2;
    gh.on(
        "/repos/octo/resets",
        vec![
            Reply::json(r#"{"message":"API rate limit exceeded"}"#)
                .status_code(403)
                .header("x-ratelimit-remaining", "0")
                .header("x-ratelimit-reset", &soon.to_string()),
            etagged(repository("octo", "resets", 6), "\"x1\""),
        ],
    );
    gh.on("/repos/octo/resets/commits", vec![etagged(commits("octo", "resets", "ccc333", "R"), "\"x2\"")]);
    gh.on("/repos/octo/resets/stats/commit_activity", vec![etagged(activity(|_| 0), "\"x3\"")]);

    let run = github(&db, &gh, &[]).await;
    run.assert_ok();
    assert_eq!(summary(&run), "refreshed 3, not modified 0, failed 1, gone 2");
    let renamed = repo(&db, "octo", "old").await;
    assert_eq!((renamed.owner.as_str(), renamed.repo.as_str()), ("octokit-fixture-org", "rename-repository-newname"));
    assert_eq!(renamed.latest_commit.as_ref().map(|c| c.sha.as_str()), Some("aaa111"), "asked under the new name");
    assert!(repo(&db, "octo", "missing").await.gone.as_deref().is_some_and(|g| g.contains("404")));
    let web = Webapp::start(&db, &[]).await;
    let gone = reqwest::get(web.url("/package/missing")).await.expect("get").text().await.expect("text");
    assert!(
        text(&Html::parse_document(&gone), "section.github").contains("octo/missing is no longer on GitHub"),
        "{gone}"
    );
    assert!(repo(&db, "octo", "legal").await.gone.as_deref().is_some_and(|g| g.contains("451")));
    let broken = repo(&db, "octo", "broken").await;
    assert!(broken.error.as_deref().is_some_and(|e| e.contains("not JSON")), "{:?}", broken.error);
    assert!(broken.facts.is_none());
    // status counts the failing one; nothing is due right after the run
    let status = run_bin("nodules-indexer", &db, &["status", "--json"]).await;
    status.assert_ok();
    let v: Value = serde_json::from_str(&status.stdout).expect("status JSON");
    assert_eq!((&v["github"]["failing"], &v["github"]["due"]), (&json!(1), &json!(0)), "{v}");
    assert_eq!(repo(&db, "octo", "waits").await.facts.map(|f| f.stars), Some(5));
    assert_eq!(repo(&db, "octo", "resets").await.facts.map(|f| f.stars), Some(6));
    assert_eq!(gh.requests("/repos/octo/waits").len(), 2, "asked again after the wait");
    assert!(!run.stdout.contains(TOKEN) && !run.stderr.contains(TOKEN));
}

#[tokio::test]
async fn a_spent_rate_limit_ends_the_run_and_the_next_one_resumes() {
    let db = TestDb::new().await;
    let names = ["r1", "r2", "r3"];
    let packages: Vec<(&str, Value)> = names.iter().map(|n| (*n, json!(format!("github:octo/{n}")))).collect();
    let _reg = index(&db, &packages).await;
    let gh = FakeRegistry::start().await;
    let in_an_hour = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).expect("clock").as_secs() + 3600;
    for n in names {
        let mut first = vec![];
        if n == "r2" {
            first.push(
                Reply::json(r#"{"message":"API rate limit exceeded"}"#)
                    .status_code(403)
                    .header("x-ratelimit-remaining", "0")
                    .header("x-ratelimit-reset", &in_an_hour.to_string()),
            );
        }
        first.push(etagged(repository("octo", n, 1), "\"e\""));
        gh.on(&format!("/repos/octo/{n}"), first);
        gh.on(&format!("/repos/octo/{n}/commits"), vec![etagged(commits("octo", n, "ddd444", "C"), "\"e\"")]);
        gh.on(&format!("/repos/octo/{n}/stats/commit_activity"), vec![etagged(activity(|_| 1), "\"e\"")]);
    }
    let first = github(&db, &gh, &[]).await;
    first.assert_ok();
    assert!(first.stderr.contains("stopping: GitHub's rate limit is spent until"), "{}", first.stderr);
    let done_first: Vec<&str> = {
        let mut v = Vec::new();
        for n in names {
            if repo(&db, "octo", n).await.facts.is_some() {
                v.push(n);
            }
        }
        v
    };
    assert!(!done_first.contains(&"r2") && done_first.len() < 3, "{done_first:?}");
    assert!(first.elapsed < Duration::from_secs(30), "did not wait an hour");
    let second = github(&db, &gh, &[]).await;
    second.assert_ok();
    assert_eq!(summary(&second), format!("refreshed {}, not modified 0, failed 0, gone 0", 3 - done_first.len()));
    for n in names {
        assert_eq!(repo(&db, "octo", n).await.facts.map(|f| f.stars), Some(1), "{n}: nothing lost");
    }
}
