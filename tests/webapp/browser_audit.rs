//! The pages as browsers and their audits see them: Lighthouse 12 (accessibility, best
//! practices, SEO: 100 each, mobile preset) and the axe-core engine (no violation) on every
//! page of `PAGES`, in one headless Debian Chromium, against the sample site and `showcase`.
//! `scripts/browser install` (`make test`) installs Chromium and the pinned npm packages;
//! `tests/browser/audit.mjs` drives them and answers in JSON.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use nodules_e2e::web::Webapp;
use nodules_e2e::{FakeRegistry, run_bin};
use nodules_store::testing::TestDb;
use serde_json::{Value, json};

/// Every page audited, with the Lighthouse audits left out on it and why. Add new pages here.
const PAGES: &[(&str, &[&str])] = &[
    ("/", &[]),
    ("/package/showcase", &[]),
    ("/package/showcase/versions", &[]),
    ("/package/normal/dependents", &[]),
    ("/package/showcase/tree", &[]),
    ("/compare/showcase,normal", &[]),
    // search results are `noindex` on purpose (robots.txt keeps crawlers off them too): the
    // one SEO audit that checks a page may be indexed is left out there, and only there
    ("/search?q=normal", &["is-crawlable"]),
];

/// The README of `showcase`: what READMEs hold, in one. No image: this machine reaches no
/// image host, and an image that fails to load is an error in the console. (The sample's
/// `normal` has a hostile README, whose sanitized leftovers a page auditor faults: an image
/// without `alt`, a link stripped of its `javascript:` address.)
const SHOWCASE_README: &str = r#"# showcase

A package as a careful maintainer publishes it: [docs](https://example.com/docs), a
[relative link](docs/guide.md), `inline code` and **strong words**.

## Install

```sh
npm install showcase
```

## Usage

```js
import { parse } from "showcase";
const tree = parse("a + b", { strict: true }); // a comment
console.log(tree.kind);
```

| option | default | what |
| --- | --- | --- |
| `strict` | `false` | reject what the spec rejects |
| `depth` | `64` | nesting limit |

> **Note**: the API is stable since 1.0.

1. first
2. second
   - nested

<details><summary>Changelog</summary>

Everything changed.

</details>
"#;

/// Publishes `showcase`: its README, dependencies, and a history of release lines,
/// prereleases and deprecated versions a month apart (the versions page draws them), and
/// lets the indexer and the downloader take it in and the install trees be resolved.
async fn publish_showcase(db: &TestDb, reg: &FakeRegistry) {
    let manifest = json!({
        "description": "Parses expressions, carefully", "license": "Apache-2.0", "type": "module",
        "types": "index.d.ts", "keywords": ["parser", "ast"], "author": "Grace Hopper <grace@example.com>",
        "repository": "github:grace/showcase", "bin": "cli.js", "engines": { "node": ">=18" },
        "dependencies": { "normal": "^1", "dep-a": "^1" },
    });
    reg.publish(
        "showcase",
        &[("README.md", SHOWCASE_README.as_bytes()), ("index.js", b"export {}"), ("index.d.ts", b"export {}")],
        manifest.clone(),
    );
    let url = reg.url();
    // the published document (1.0.0, downloadable) with an older history beside it
    let mut doc = reqwest::get(format!("{url}showcase")).await.expect("document").json::<Value>().await.expect("json");
    let mut history: Vec<(String, Value)> = Vec::new();
    for minor in 1..=9 {
        for patch in 0..3 {
            let extra = if minor < 3 { json!({ "deprecated": "upgrade to 0.3 or later" }) } else { json!({}) };
            history.push((format!("0.{minor}.{patch}"), extra));
        }
    }
    history.extend((1..=3).map(|i| (format!("1.0.0-rc.{i}"), json!({}))));
    history.extend((0..4).map(|i| (format!("1.1.0-canary.{i}"), json!({}))));
    for (i, (version, extra)) in history.iter().enumerate() {
        let mut m = manifest.clone();
        m["name"] = json!("showcase");
        m["version"] = json!(version);
        m["dist"] = json!({ "tarball": format!("{url}showcase/-/showcase-{version}.tgz"), "shasum": "0".repeat(40) });
        if let Some(d) = extra.get("deprecated") {
            m["deprecated"] = d.clone();
        }
        doc["versions"][version] = m;
        doc["time"][version] = json!(format!("{}-{:02}-15T00:00:00.000Z", 2022 + i / 12, i % 12 + 1));
    }
    reg.package("showcase", &doc);
    run_bin("nodules-indexer", db, &["--registry", &url, "fetch", "showcase"]).await.assert_ok();
    run_bin("nodules-downloader", db, &["--registry", &url, "run", "--once"]).await.assert_ok();
    // the tree page shows a resolved tree, not its placeholder; every write has committed
    // (the runs above ended), so no wait for late ones
    run_bin("nodules-indexer", db, &["trees", "--all", "--commit-wait", "0s"]).await.assert_ok();
}

const CHROMIUM: &str = "/usr/bin/chromium";
const INSTALL_HINT: &str = "run `make test` (or `scripts/browser install`: Debian's package `chromium` and the pinned npm packages in tests/browser)";

fn browser_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("browser")
}

/// A headless Chromium with a fresh profile, listening for DevTools on a free port; its
/// process group is ended when dropped.
struct Chromium {
    child: Child,
    port: u16,
    dir: tempfile::TempDir,
}

impl Chromium {
    async fn start() -> Chromium {
        use std::os::unix::process::CommandExt;
        assert!(Path::new(CHROMIUM).exists(), "{CHROMIUM} is missing: {INSTALL_HINT}");
        let dir = tempfile::tempdir().expect("tmp");
        let profile = dir.path().join("profile");
        let log = std::fs::File::create(dir.path().join("chromium.log")).expect("log file");
        // without the background-networking flags Chromium keeps calling out, and this
        // machine's closed network refuses it
        let child = Command::new(CHROMIUM)
            .args(["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run"])
            .args(["--disable-background-networking", "--disable-component-update", "--disable-sync"])
            .args(["--disable-dev-shm-usage", "--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0"])
            .arg(format!("--user-data-dir={}", profile.display()))
            .arg("about:blank")
            .stdout(Stdio::null())
            .stderr(log)
            .process_group(0)
            .spawn()
            .expect("spawn chromium");
        let mut chromium = Chromium { child, port: 0, dir };
        // Chromium writes the port it chose into the profile once it listens
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Ok(s) = std::fs::read_to_string(profile.join("DevToolsActivePort"))
                && let Some(port) = s.lines().next().and_then(|l| l.trim().parse().ok())
            {
                chromium.port = port;
                return chromium;
            }
            if let Ok(Some(status)) = chromium.child.try_wait() {
                panic!("chromium exited ({status}): {}", chromium.log());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("chromium did not listen within 30 s: {}", chromium.log());
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("chromium.log")).unwrap_or_default()
    }
}

impl Drop for Chromium {
    fn drop(&mut self) {
        // the browser and its renderers: the group this test started
        let group = format!("-{}", self.child.id());
        let _ = Command::new("kill").args(["-TERM", "--", &group]).status();
        for _ in 0..40 {
            if let Ok(Some(_)) = self.child.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = Command::new("kill").args(["-KILL", "--", &group]).stderr(Stdio::null()).status();
        let _ = self.child.wait();
    }
}

/// Runs tests/browser/audit.mjs with `spec` on stdin; its JSON answer.
fn run_audit(spec: &Value) -> Value {
    let dir = browser_dir();
    assert!(dir.join("node_modules/lighthouse").exists(), "Lighthouse is missing: {INSTALL_HINT}");
    let mut child = Command::new("node")
        .arg("audit.mjs")
        .current_dir(&dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn node");
    child.stdin.take().expect("stdin").write_all(spec.to_string().as_bytes()).expect("write spec");
    let out = child.wait_with_output().expect("node audit.mjs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    eprint!("{stderr}");
    assert!(out.status.success(), "node audit.mjs failed ({}):\n{stderr}", out.status);
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("audit.mjs answered no JSON ({e}): {}", String::from_utf8_lossy(&out.stdout)))
}

/// One page's problems, as lines a person reads; empty when the page passes.
fn problems(page: &Value) -> Vec<String> {
    let mut lines = Vec::new();
    if let Some(status) = page["status"].as_u64()
        && status != 200
    {
        lines.push(format!("HTTP {status}"));
    }
    if let Some(error) = page["runtimeError"].as_str() {
        lines.push(format!("Lighthouse: {error}"));
    }
    for category in ["accessibility", "best-practices", "seo"] {
        let score = page["scores"][category].as_f64();
        if score != Some(1.0) {
            lines.push(format!(
                "Lighthouse {category}: {}",
                score.map_or("no score".into(), |s| format!("{:.0}", s * 100.0))
            ));
        }
    }
    for audit in page["failing"].as_array().into_iter().flatten() {
        let mut line = format!(
            "  {} ({}): {}",
            audit["id"].as_str().unwrap_or("?"),
            audit["category"].as_str().unwrap_or("?"),
            audit["title"].as_str().unwrap_or("")
        );
        for key in ["displayValue", "explanation"] {
            if let Some(s) = audit[key].as_str() {
                line.push_str(&format!(" — {s}"));
            }
        }
        lines.push(line);
        for item in audit["items"].as_array().into_iter().flatten() {
            lines.push(format!("      {}", item.as_str().unwrap_or_default()));
        }
    }
    for v in page["axe"].as_array().into_iter().flatten() {
        lines.push(format!(
            "axe {} ({}): {}",
            v["id"].as_str().unwrap_or("?"),
            v["impact"].as_str().unwrap_or("?"),
            v["help"].as_str().unwrap_or("")
        ));
        for node in v["nodes"].as_array().into_iter().flatten() {
            lines.push(format!(
                "      {}: {}",
                node["target"].as_str().unwrap_or(""),
                node["summary"].as_str().unwrap_or("").replace('\n', " ")
            ));
        }
    }
    lines
}

#[tokio::test]
async fn lighthouse_and_axe_find_nothing_on_the_pages() {
    let started = Instant::now();
    let db = TestDb::new().await;
    let registry = nodules_e2e::sample::load(&db).await;
    publish_showcase(&db, &registry).await;
    let web = Webapp::start(&db, &[]).await;
    web.wait_search_ready().await;
    let chromium = Chromium::start().await;
    let pages: Vec<Value> = PAGES.iter().map(|(path, skip)| json!({ "path": path, "skip": skip })).collect();
    let spec = json!({ "port": chromium.port, "base": web.base, "mode": "check", "pages": pages });
    let results = tokio::task::spawn_blocking(move || run_audit(&spec)).await.expect("join");
    drop(chromium);

    let mut report = String::new();
    for page in results.as_array().expect("one result per page") {
        let lines = problems(page);
        if !lines.is_empty() {
            report.push_str(&format!("\n{}\n  {}", page["path"].as_str().unwrap_or("?"), lines.join("\n  ")));
        }
    }
    eprintln!("browser audit of {} pages in {:.1} s", PAGES.len(), started.elapsed().as_secs_f64());
    assert!(report.is_empty(), "pages that Lighthouse or axe-core fault:{report}");
}
