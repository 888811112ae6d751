//! Runs the project's binaries as a user would, against a test database.

use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use nodules_store::testing::TestDb;

/// The built binary `name` (`nodules-indexer`), next to this test's own executable.
pub fn bin_path(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("current_exe");
    // target/<profile>/deps/<test> -> target/<profile>/<name>
    let dir = exe.parent().and_then(|d| d.parent()).expect("target dir");
    let path = dir.join(name);
    assert!(
        path.exists(),
        "{} is not built: run the tests with `make test` (it builds every binary first) or `cargo build --bins` before `cargo test`",
        path.display()
    );
    path
}

/// A finished run of a binary.
#[derive(Debug)]
pub struct Run {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
}

impl Run {
    fn from_output(o: Output, elapsed: Duration) -> Run {
        Run {
            code: o.status.code(),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
            elapsed,
        }
    }

    /// Panics (showing the output) unless the exit code is `code`.
    pub fn assert_code(&self, code: i32) -> &Self {
        assert_eq!(self.code, Some(code), "exit code\n--- stdout:\n{}\n--- stderr:\n{}", self.stdout, self.stderr);
        self
    }

    pub fn assert_ok(&self) -> &Self {
        self.assert_code(0)
    }

    /// The numbers of the summary line `ingested N, unchanged U, deleted D, rejected R, failed F in T s`.
    pub fn summary(&self) -> Summary {
        let line =
            self.stdout.lines().rev().find(|l| l.starts_with("ingested ")).unwrap_or_else(|| {
                panic!("no summary line\n--- stdout:\n{}\n--- stderr:\n{}", self.stdout, self.stderr)
            });
        let counts = line.rsplit_once(" in ").map(|(c, _)| c).unwrap_or(line);
        let num = |key: &str| -> u64 {
            counts
                .split(", ")
                .find_map(|part| part.strip_prefix(key)?.trim().parse().ok())
                .unwrap_or_else(|| panic!("no number for `{key}` in `{line}`"))
        };
        Summary {
            ingested: num("ingested"),
            unchanged: num("unchanged"),
            deleted: num("deleted"),
            rejected: num("rejected"),
            failed: num("failed"),
        }
    }

    /// Peak memory the binary reported (`peak_rss_kb=…` in its log), in bytes.
    pub fn peak_rss(&self) -> u64 {
        let i = self.stderr.rfind("peak_rss_kb=").unwrap_or_else(|| panic!("no peak memory line in:\n{}", self.stderr));
        let digits: String = self.stderr[i + "peak_rss_kb=".len()..].chars().take_while(char::is_ascii_digit).collect();
        digits.parse::<u64>().expect("peak_rss_kb number") * 1024
    }
}

/// The counts of a summary line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Summary {
    pub ingested: u64,
    pub unchanged: u64,
    pub deleted: u64,
    pub rejected: u64,
    pub failed: u64,
}

static QUERY_SHAPES: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();

/// Makes every binary started from now on record the query shapes it sends in `dir`
/// (`NODULES_QUERY_SHAPES`, see `nodules_store::shapes`).
pub fn record_query_shapes(dir: &std::path::Path) {
    let _ = QUERY_SHAPES.set(dir.to_path_buf());
}

/// A command for binary `name` against `db` (its URI and database name in the environment).
pub fn command(name: &str, db: &TestDb, args: &[&str]) -> Command {
    let mut cmd = Command::new(bin_path(name));
    match QUERY_SHAPES.get() {
        Some(dir) => cmd.env(nodules_store::shapes::ENV, dir),
        None => cmd.env_remove(nodules_store::shapes::ENV),
    };
    cmd.args(args)
        .env("MONGODB_URI", db.uri())
        .env("NODULES_DB", db.name())
        .env("RUST_LOG", "info")
        .env_remove("NODULES_REGISTRY")
        .env_remove("NPM_TOKEN")
        .env_remove("GITHUB_TOKEN")
        .env_remove("GITHUB_API_URL")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd
}

/// Runs binary `name` to the end (on a blocking thread, so async tests' servers keep serving).
pub async fn run_bin(name: &str, db: &TestDb, args: &[&str]) -> Run {
    let mut cmd = command(name, db, args);
    tokio::task::spawn_blocking(move || {
        let started = Instant::now();
        let out = cmd.output().expect("spawn binary");
        Run::from_output(out, started.elapsed())
    })
    .await
    .expect("join")
}

/// Starts binary `name` and returns the child (stdin piped) for tests that interleave runs.
pub fn spawn_bin(name: &str, db: &TestDb, args: &[&str]) -> Child {
    let mut cmd = command(name, db, args);
    cmd.stdin(Stdio::piped());
    cmd.spawn().expect("spawn binary")
}

/// Waits for `child` to finish.
pub async fn wait_child(child: Child) -> Run {
    tokio::task::spawn_blocking(move || {
        let started = Instant::now();
        let out = child.wait_with_output().expect("wait");
        Run::from_output(out, started.elapsed())
    })
    .await
    .expect("join")
}
