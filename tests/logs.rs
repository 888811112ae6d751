//! `--log-format json` on all three binaries: every line on stderr is one JSON object with
//! a timestamp, a level and the event's fields, so a log collector can read them.

use nodules_e2e::run_bin;
use nodules_store::testing::TestDb;
use serde_json::Value;

fn json_lines(binary: &str, stderr: &str) -> Vec<Value> {
    assert!(!stderr.trim().is_empty(), "{binary} logged nothing");
    stderr
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{binary}: not a JSON line ({e}): {l}")))
        .collect()
}

#[tokio::test]
async fn every_binary_logs_json_lines_when_asked() {
    let db = TestDb::new().await;
    let tmp = tempfile::tempdir().expect("tmp");
    let dump = tmp.path().join("dump.json");
    std::fs::write(&dump, "{\"total_rows\":1,\"offset\":0,\"rows\":[\n{\"key\":\"x\"}\n]}\n").expect("write");
    let dump = dump.to_string_lossy().into_owned();

    let run = run_bin("nodules-indexer", &db, &["--log-format", "json", "ingest", &dump]).await;
    run.assert_ok();
    let lines = json_lines("nodules-indexer", &run.stderr);
    let rejected = lines.iter().find(|l| l["fields"]["message"] == "rejected").expect("the rejection is logged");
    assert_eq!(rejected["level"], "WARN");
    assert!(rejected["timestamp"].is_string() && rejected["fields"]["reason"].is_string(), "{rejected}");
    // the summary stays a plain line on stdout, for people and cron mail
    assert!(run.stdout.starts_with("ingested 0,"), "{}", run.stdout);

    let run = run_bin("nodules-downloader", &db, &["--log-format", "json", "run", "--once"]).await;
    run.assert_ok();
    assert!(json_lines("nodules-downloader", &run.stderr).iter().any(|l| l["level"] == "INFO"));

    let out = tmp.path().to_string_lossy().into_owned();
    let run =
        run_bin("nodules-webapp", &db, &["--log-format", "json", "sitemaps", "--out", &out, "--base-url", "ftp://x"])
            .await;
    assert_eq!(run.code, Some(1), "a bad --base-url fails");
    let lines = json_lines("nodules-webapp", &run.stderr);
    assert!(lines.iter().any(|l| l["level"] == "ERROR" && l["fields"]["message"].as_str().is_some_and(|m| m.contains("--base-url"))), "{lines:?}");

    // text stays the default
    let run = run_bin("nodules-indexer", &db, &["ingest", &dump]).await;
    assert!(run.stderr.lines().any(|l| serde_json::from_str::<Value>(l).is_err()), "{}", run.stderr);
}
