//! `make bench-github`: the GitHub refresh against a fake GitHub API in this process.
//!
//! `nodules-bench-github [REPOS]` (default 2,000) links REPOS repositories in the database
//! (MONGODB_URI, NODULES_DB: dropped first), serves GitHub's recorded answers for them with
//! an `ETag` (304 on a matching `If-None-Match`), and runs the real `nodules-downloader
//! github --once` twice: the first run fetches everything (200s), the second (`--max-age
//! 0s`) refreshes everything with conditional requests (304s). Prints one JSON line per
//! run: wall time, repositories/s, requests sent and requests per repository, 304s. The
//! reference in the same run: the fake API alone answering the same requests from a plain
//! HTTP client (reqwest, same concurrency of one), so the ratio says what the refresh adds.
//!
//! The packages come from a dump the real `nodules-indexer ingest` reads (REPOS packages on
//! GitHub, and as many without a repository), so the refresh discovers them itself. After
//! the refresh, the real `nodules-webapp serve --cache-entries 0` renders module pages: the
//! same package with the GitHub box and its graph, and without a repository (the box then
//! says so in one line), alternately,
//! one request at a time. Prints the cost of the box: milliseconds per page each way, the
//! ratio, and the bytes it adds.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use nodules_store::{DbArgs, Store};

const ETAG: &str = "\"bench-1\"";

#[derive(Default)]
struct Counts {
    requests: AtomicU64,
    not_modified: AtomicU64,
}

fn body(kind: &str, owner: &str, repo: &str) -> String {
    match kind {
        "repo" => {
            let mut v: serde_json::Value =
                serde_json::from_str(include_str!("../../../tests/fixtures/github/repository.json"))
                    .unwrap_or_default();
            v["name"] = repo.into();
            v["full_name"] = format!("{owner}/{repo}").into();
            v.to_string()
        }
        "commits" => serde_json::json!([{
            "sha": "0123456789abcdef0123456789abcdef01234567",
            "html_url": format!("https://github.com/{owner}/{repo}/commit/0123456"),
            "commit": { "message": "Bench commit", "author": { "name": "B", "date": "2026-12-01T00:00:00Z" },
                        "committer": { "date": "2026-12-01T00:00:00Z" } },
            "author": { "login": "bench" },
        }])
        .to_string(),
        _ => {
            let weeks: Vec<serde_json::Value> = (0..52)
                .map(|i| serde_json::json!({ "days": [0, 1, 0, 0, 0, 0, 0], "total": i % 5, "week": 1_733_011_200 + i * 604_800 }))
                .collect();
            serde_json::Value::Array(weeks).to_string()
        }
    }
}

async fn answer(counts: &Counts, headers: &HeaderMap, kind: &str, owner: &str, repo: &str) -> Response {
    counts.requests.fetch_add(1, Ordering::Relaxed);
    if headers.get(header::IF_NONE_MATCH).is_some_and(|v| v.as_bytes() == ETAG.as_bytes()) {
        counts.not_modified.fetch_add(1, Ordering::Relaxed);
        return (StatusCode::NOT_MODIFIED, [(header::ETAG, ETAG)]).into_response();
    }
    ([(header::CONTENT_TYPE, "application/json"), (header::ETAG, ETAG)], body(kind, owner, repo)).into_response()
}

async fn repo(State(c): State<Arc<Counts>>, h: HeaderMap, Path((o, r)): Path<(String, String)>) -> Response {
    answer(&c, &h, "repo", &o, &r).await
}
async fn commits(State(c): State<Arc<Counts>>, h: HeaderMap, Path((o, r)): Path<(String, String)>) -> Response {
    answer(&c, &h, "commits", &o, &r).await
}
async fn activity(State(c): State<Arc<Counts>>, h: HeaderMap, Path((o, r)): Path<(String, String)>) -> Response {
    answer(&c, &h, "activity", &o, &r).await
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let repos: usize = std::env::args().nth(1).and_then(|n| n.parse().ok()).unwrap_or(2000);
    let uri = std::env::var("MONGODB_URI").map_err(|_| anyhow::anyhow!("MONGODB_URI is not set"))?;
    let db = std::env::var("NODULES_DB").unwrap_or_else(|_| "bench_github".into());
    let store = Store::connect(&DbArgs::new(&uri, &db)).await?;
    store.database().drop().await?;
    store.ensure_indexes().await?;
    let work = std::env::temp_dir().join(format!("nodules-bench-github-{}", std::process::id()));
    std::fs::create_dir_all(&work)?;
    let dump = work.join("all_docs.json");
    std::fs::write(&dump, all_docs(repos))?;
    let bin = |name: &str| std::env::current_exe().map(|e| e.with_file_name(name));
    let out = tokio::process::Command::new(bin("nodules-indexer")?)
        .arg("ingest")
        .arg(&dump)
        .env("MONGODB_URI", &uri)
        .env("NODULES_DB", &db)
        .output()
        .await?;
    anyhow::ensure!(out.status.success(), "ingest: {}", String::from_utf8_lossy(&out.stderr));
    let counts = Arc::new(Counts::default());
    let app = axum::Router::new()
        .route("/repos/{owner}/{repo}", axum::routing::get(repo))
        .route("/repos/{owner}/{repo}/commits", axum::routing::get(commits))
        .route("/repos/{owner}/{repo}/stats/commit_activity", axum::routing::get(activity))
        .with_state(counts.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let api = format!("http://{}", listener.local_addr()?);
    tokio::spawn(async move { axum::serve(listener, app).await });

    // the reference: the same requests from a bare client, one at a time
    let client = reqwest::Client::new();
    let started = Instant::now();
    for i in 0..repos.min(500) {
        for path in [
            format!("/repos/bench/r{i}"),
            format!("/repos/bench/r{i}/commits"),
            format!("/repos/bench/r{i}/stats/commit_activity"),
        ] {
            client.get(format!("{api}{path}")).send().await?.bytes().await?;
        }
    }
    let bare_per_repo = started.elapsed().as_secs_f64() / repos.min(500) as f64;
    counts.requests.store(0, Ordering::Relaxed);
    println!("{}", serde_json::json!({ "run": "bare client", "repos_per_s": 1.0 / bare_per_repo }));

    for (run, extra) in [("first (200s)", vec![]), ("again (304s)", vec!["--max-age", "0s"])] {
        counts.requests.store(0, Ordering::Relaxed);
        counts.not_modified.store(0, Ordering::Relaxed);
        let started = Instant::now();
        let out = tokio::process::Command::new(bin("nodules-downloader")?)
            .args(["github", "--once", "--github-api", &api])
            .args(&extra)
            .env("MONGODB_URI", &uri)
            .env("NODULES_DB", &db)
            .env_remove("GITHUB_TOKEN")
            .output()
            .await?;
        let secs = started.elapsed().as_secs_f64();
        anyhow::ensure!(out.status.success(), "{run}: {}", String::from_utf8_lossy(&out.stderr));
        let requests = counts.requests.load(Ordering::Relaxed);
        println!(
            "{}",
            serde_json::json!({
                "run": run,
                "repos": repos,
                "secs": secs,
                "repos_per_s": repos as f64 / secs,
                "ratio_to_bare": (repos as f64 / secs) / (1.0 / bare_per_repo),
                "requests": requests,
                "requests_per_repo": requests as f64 / repos as f64,
                "not_modified": counts.not_modified.load(Ordering::Relaxed),
                "summary": String::from_utf8_lossy(&out.stdout).trim(),
            })
        );
    }
    pages(&uri, &db, &work, repos.min(PAGES)).await?;
    std::fs::remove_dir_all(&work)?;
    Ok(())
}

/// Module pages timed each way (and rounds of them, alternating).
const PAGES: usize = 100;
const ROUNDS: usize = 5;

/// An `_all_docs` dump as CouchDB writes one (a row per line): `gh-{i}` on GitHub
/// (`bench/r{i}`) and `plain-{i}` without a repository, otherwise the same manifest.
fn all_docs(repos: usize) -> String {
    let doc = |name: String, repository: Option<String>| {
        let mut manifest = serde_json::json!({
            "name": name, "version": "1.0.0", "description": "A package of the GitHub benchmark",
            "license": "MIT", "keywords": ["bench"],
            "dist": { "tarball": format!("http://registry.test/{name}/-/{name}-1.0.0.tgz"),
                      "shasum": "0000000000000000000000000000000000000000" },
        });
        if let Some(r) = repository {
            manifest["repository"] = serde_json::json!({ "type": "git", "url": r });
        }
        serde_json::json!({ "id": name, "key": name, "value": { "rev": "1-0" }, "doc": {
            "_id": name, "name": name, "dist-tags": { "latest": "1.0.0" },
            "versions": { "1.0.0": manifest }, "time": { "1.0.0": "2026-12-01T00:00:00.000000+00:00" },
        }})
    };
    let rows: Vec<String> = (0..repos)
        .map(|i| doc(format!("gh-{i}"), Some(format!("git+https://github.com/bench/r{i}.git"))))
        .chain((0..repos).map(|i| doc(format!("plain-{i}"), None)))
        .map(|r| r.to_string())
        .collect();
    format!("{{\"total_rows\":{},\"offset\":0,\"rows\":[\n{}\n]}}\n", rows.len(), rows.join(",\n"))
}

/// Starts the real webapp with no page cache and times `/package/gh-{i}` (the GitHub box
/// with its graph) against `/package/plain-{i}` (no repository: the box's one line).
async fn pages(uri: &str, db: &str, work: &std::path::Path, n: usize) -> anyhow::Result<()> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let base = format!("http://127.0.0.1:{port}");
    let mut webapp = tokio::process::Command::new(std::env::current_exe()?.with_file_name("nodules-webapp"))
        .args(["serve", "--listen", &format!("127.0.0.1:{port}"), "--base-url", &base, "--cache-entries", "0"])
        .args(["--rate-limit", "0", "--index-dir"])
        .arg(work.join("index"))
        .env("MONGODB_URI", uri)
        .env("NODULES_DB", db)
        .kill_on_drop(true)
        .spawn()?;
    let client = reqwest::Client::new();
    let started = Instant::now();
    while client.get(format!("{base}/healthz")).send().await.is_err() {
        anyhow::ensure!(started.elapsed().as_secs() < 60, "the webapp did not start in 60 s");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let get = |path: String| {
        let client = client.clone();
        let url = format!("{base}{path}");
        async move {
            let r = client.get(&url).send().await?;
            anyhow::ensure!(r.status().is_success(), "{url}: {}", r.status());
            Ok::<_, anyhow::Error>(r.bytes().await?.len())
        }
    };
    // what is compared: the box with its graph, and no box
    let page = client.get(format!("{base}/package/gh-0")).send().await?.text().await?;
    anyhow::ensure!(page.contains("class=\"sparkline\""), "no graph on /package/gh-0");
    let plain = client.get(format!("{base}/package/plain-0")).send().await?.text().await?;
    anyhow::ensure!(plain.contains("names no repository"), "/package/plain-0 does not say it has no repository");
    let (mut with, mut without) = (Vec::new(), Vec::new());
    let (mut bytes_with, mut bytes_without) = (0, 0);
    for _ in 0..ROUNDS {
        for (kind, times, bytes) in [("gh", &mut with, &mut bytes_with), ("plain", &mut without, &mut bytes_without)] {
            let started = Instant::now();
            for i in 0..n {
                *bytes = get(format!("/package/{kind}-{i}")).await?;
            }
            times.push(started.elapsed().as_secs_f64() * 1000.0 / n as f64);
        }
    }
    webapp.kill().await?;
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let (w, wo) = (median(&mut with), median(&mut without));
    println!(
        "{}",
        serde_json::json!({
            "run": "module page, uncached (median of rounds)",
            "pages": n, "rounds": ROUNDS,
            "ms_with_graph": w, "ms_without_repository": wo, "ratio": w / wo,
            "bytes_with_graph": bytes_with, "bytes_without": bytes_without,
        })
    );
    Ok(())
}
