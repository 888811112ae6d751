//! `/metrics` read by the official Prometheus Python client's OpenMetrics parser (pinned in
//! `.venv`): it parses, and one scrape of the webapp shows the jobs' last runs as they
//! recorded them in MongoDB, and this webapp's sitemap generations.

use std::io::Write;
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use nodules_e2e::web::Webapp;
use nodules_e2e::{FakeRegistry, run_bin};
use nodules_store::testing::TestDb;
use serde_json::{Value, json};

/// The samples of an exposition, as the parser read them.
fn parse(exposition: &str) -> Vec<Value> {
    let python = Path::new(env!("CARGO_MANIFEST_DIR")).join("../.venv/bin/python");
    assert!(python.exists(), "{} is missing: run `make test` (scripts/pytools install)", python.display());
    let mut child = std::process::Command::new(&python)
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tools/parse_metrics.py"))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run parse_metrics.py");
    child.stdin.take().expect("stdin").write_all(exposition.as_bytes()).expect("write");
    let out = child.wait_with_output().expect("wait");
    assert!(
        out.status.success(),
        "the exposition does not parse: {}\n{exposition}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).lines().map(|l| serde_json::from_str(l).expect("JSON line")).collect()
}

fn value(samples: &[Value], name: &str, labels: Value) -> Option<f64> {
    samples.iter().find(|s| s["name"] == name && s["labels"] == labels).and_then(|s| s["value"].as_f64())
}

#[tokio::test]
async fn one_scrape_shows_the_jobs_last_runs_and_sitemap_generations() {
    let db = TestDb::new().await;
    let reg = FakeRegistry::start().await;
    for n in ["one", "two"] {
        reg.publish(n, &[("index.js", b"module.exports = 1")], json!({}));
    }
    let url = reg.url();
    run_bin("nodules-indexer", &db, &["--registry", &url, "fetch", "one", "two"]).await.assert_ok();
    run_bin("nodules-downloader", &db, &["--registry", &url, "run", "--once"]).await.assert_ok();
    // no repository known: nothing is asked of the (unreachable) API
    run_bin("nodules-downloader", &db, &["github", "--once", "--github-api", "http://127.0.0.1:9"]).await.assert_ok();
    let web = Webapp::start(&db, &[]).await;
    let client = reqwest::Client::new();
    assert_eq!(client.get(web.url("/sitemap.xml")).send().await.expect("sitemap").status(), 200);

    let r = client.get(web.url("/metrics")).send().await.expect("metrics");
    assert_eq!(r.status(), 200);
    let samples = parse(&r.text().await.expect("body"));
    let fetch = json!({ "job": "fetch" });
    assert_eq!(value(&samples, "nodules_job_last_run_success", fetch.clone()), Some(1.0), "{samples:?}");
    assert_eq!(
        value(&samples, "nodules_job_last_run_count", json!({ "job": "fetch", "count": "ingested" })),
        Some(2.0)
    );
    let finished = value(&samples, "nodules_job_last_run_timestamp_seconds", fetch).expect("finished");
    let now = SystemTime::now().duration_since(UNIX_EPOCH).expect("clock").as_secs_f64();
    assert!((now - finished).abs() < 600.0, "finished {finished}, now {now}");
    assert_eq!(value(&samples, "nodules_job_runs_readable", json!({})), Some(1.0));
    // the downloader and the GitHub refresher record theirs too, queue depths included
    let count =
        |job: &str, count: &str| value(&samples, "nodules_job_last_run_count", json!({ "job": job, "count": count }));
    assert_eq!(value(&samples, "nodules_job_last_run_success", json!({ "job": "download" })), Some(1.0));
    assert_eq!(count("download", "downloaded"), Some(2.0));
    assert_eq!(count("download", "failed"), Some(0.0));
    assert_eq!(count("download", "queue_depth"), Some(0.0));
    assert_eq!(value(&samples, "nodules_job_last_run_success", json!({ "job": "github" })), Some(1.0));
    assert_eq!(count("github", "due"), Some(0.0));
    assert_eq!(count("github", "failed"), Some(0.0));
    assert_eq!(value(&samples, "nodules_sitemap_generations_total", json!({})), Some(1.0));
    assert_eq!(value(&samples, "nodules_sitemap_urls", json!({})), Some(2.0), "two packages, no keywords or authors");
    let sitemap = json!({ "route": "/sitemap.xml", "status": "2xx" });
    assert_eq!(value(&samples, "nodules_http_requests_total", sitemap), Some(1.0));
}
