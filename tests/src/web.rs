//! A running `nodules-webapp serve` on a free port, stopped when dropped.

use std::process::Child;
use std::time::Duration;

use nodules_store::testing::TestDb;

use crate::bins::command;

pub struct Webapp {
    pub base: String,
    child: Child,
    _index: Option<tempfile::TempDir>,
}

impl Webapp {
    /// Starts the webapp against `db` and waits until it answers `/healthz`.
    pub async fn start(db: &TestDb, extra: &[&str]) -> Webapp {
        let index = tempfile::tempdir().expect("tmp");
        let mut web = Self::start_in(db, index.path(), extra).await;
        web._index = Some(index);
        web
    }

    /// Starts the webapp with its search index in `index_dir` (kept across restarts).
    pub async fn start_in(db: &TestDb, index_dir: &std::path::Path, extra: &[&str]) -> Webapp {
        let port = std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port();
        let listen = format!("127.0.0.1:{port}");
        let base = format!("http://{listen}");
        let index_dir = index_dir.to_string_lossy().into_owned();
        let mut args =
            vec!["serve", "--listen", &listen, "--base-url", "https://nodules.test", "--index-dir", &index_dir];
        args.extend_from_slice(extra);
        let child = command("nodules-webapp", db, &args)
            .stdout(std::process::Stdio::null())
            .stderr(if std::env::var_os("NODULES_TEST_WEBAPP_STDERR").is_some() {
                std::process::Stdio::inherit()
            } else {
                std::process::Stdio::null()
            })
            .spawn()
            .expect("spawn webapp");
        let web = Webapp { base, child, _index: None };
        let client = reqwest::Client::new();
        for _ in 0..200 {
            if let Ok(r) = client.get(format!("{}/healthz", web.base)).send().await
                && r.status().is_success()
            {
                return web;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("nodules-webapp did not answer /healthz within 10 s");
    }

    /// Waits until `/readyz` says plainly `ready` (the search index built), or panics.
    pub async fn wait_search_ready(&self) {
        let client = reqwest::Client::new();
        let mut last = String::new();
        // the first build rests between its reads (it leaves the server to page requests):
        // 40,000 packages take tens of seconds on a busy machine
        for _ in 0..2400 {
            if let Ok(r) = client.get(self.url("/readyz")).send().await {
                last = r.text().await.unwrap_or_default();
                if last == "ready\n" {
                    return;
                }
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("search index not ready within 120 s; /readyz said {last:?}");
    }

    /// Stops the process (the index directory stays).
    pub fn stop(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Sends SIGTERM (a graceful stop) and waits at most `wait` for the process to end;
    /// `true` when it did.
    pub async fn terminate(&mut self, wait: Duration) -> bool {
        let pid = self.child.id().to_string();
        let _ = std::process::Command::new("kill").args(["-TERM", &pid]).status();
        let deadline = std::time::Instant::now() + wait;
        while std::time::Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        false
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}

impl Drop for Webapp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
