//! The sample site of the end-to-end tests: a fake registry with a few packages of every
//! kind (a normal one with a hostile README, files and 60 + 3 dependents, a scoped one, a
//! deprecated one, an unpublished one, one not downloaded yet), fetched by the indexer,
//! downloaded, and its dependents ranked. The webapp and API tests start a webapp on it.

use nodules_store::testing::TestDb;
use serde_json::json;

use crate::bins::run_bin;
use crate::{FakeRegistry, Reply};

pub const HOSTILE_README: &str = r#"# Normal

Some **bold** text and a [relative link](docs/guide.md) and ![logo](img/logo.png).

<script>alert("readme")</script>
<img src="x" onerror="alert(1)">
<a href="javascript:alert(2)">click</a>
[md link](javascript:alert(3))
<iframe src="https://evil.test"></iframe>
<p align="center" onclick="alert(4)">centered</p>

## Usage
"#;

async fn ok(args: &[&str], db: &TestDb, bin: &str) {
    run_bin(bin, db, args).await.assert_ok();
}

/// Fills `db` with the sample packages; the registry stays up as long as it is kept.
pub async fn load(db: &TestDb) -> FakeRegistry {
    let reg = FakeRegistry::start().await;
    let url = reg.url();
    reg.publish(
        "normal",
        &[("README.md", HOSTILE_README.as_bytes()), ("index.js", b"export default 1"), ("index.d.ts", b"export {}")],
        json!({
            "description": "A normal package", "license": "MIT", "type": "module", "types": "index.d.ts",
            "keywords": ["Parsing", "tools"], "author": "Ada Lovelace <ada@example.com>",
            "repository": "github:ada/normal", "dependencies": { "dep-a": "^1", "ghost": "^2" },
        }),
    );
    reg.publish("dep-a", &[("index.js", b"")], json!({ "description": "a dependency" }));
    reg.publish("@scope/pkg", &[("index.js", b"")], json!({ "description": "scoped", "bin": "cli.js" }));
    reg.publish("old-thing", &[("index.js", b"")], json!({ "deprecated": "use new-thing instead" }));
    for i in 0..60 {
        reg.publish(&format!("user-{i:02}"), &[("index.js", b"")], json!({ "dependencies": { "normal": "^1" } }));
    }
    for i in 0..3 {
        reg.publish(&format!("tester-{i}"), &[("index.js", b"")], json!({ "devDependencies": { "normal": "^1" } }));
    }
    reg.on(
        "/gone",
        vec![Reply::json(
            json!({ "_id": "gone", "name": "gone", "time": { "unpublished": { "time": "2025-03-03T00:00:00.000Z", "versions": ["1.0.0"] } } })
                .to_string(),
        )],
    );
    let mut names: Vec<String> =
        ["normal", "dep-a", "@scope/pkg", "old-thing", "gone"].iter().map(|s| s.to_string()).collect();
    names.extend((0..60).map(|i| format!("user-{i:02}")));
    names.extend((0..3).map(|i| format!("tester-{i}")));
    let mut args = vec!["--registry", url.as_str(), "fetch"];
    args.extend(names.iter().map(String::as_str));
    ok(&args, db, "nodules-indexer").await;
    ok(&["--registry", &url, "run", "--once"], db, "nodules-downloader").await;
    // indexed after the downloader ran: not downloaded yet
    reg.publish("queued", &[("index.js", b"")], json!({ "description": "not downloaded yet" }));
    ok(&["--registry", &url, "fetch", "queued"], db, "nodules-indexer").await;
    ok(&["dependents", "--rerank"], db, "nodules-indexer").await;
    reg
}
