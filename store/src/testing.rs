//! A throw-away database for tests, on the server `make test` starts (`MONGODB_URI`).
//!
//! No server is a clear failure, never a skipped test.

use crate::config::DbArgs;
use crate::db::Store;

/// A database with a random name, indexes created by production's `ensure_indexes()`,
/// dropped when the value is dropped.
pub struct TestDb {
    pub store: Store,
    pub args: DbArgs,
}

impl TestDb {
    pub async fn new() -> TestDb {
        let uri = test_uri();
        let name = format!("test_{:016x}", rand::random::<u64>());
        let args = DbArgs::new(uri.clone(), name);
        let store = match Store::connect_and_ping(&args).await {
            Ok(s) => s,
            Err(e) => panic!("no MongoDB at MONGODB_URI={uri}: {e}. Run the tests with `make test`, which starts one."),
        };
        if let Err(e) = store.ensure_indexes().await {
            panic!("ensure_indexes failed on the test database: {e}");
        }
        TestDb { store, args }
    }

    /// A test database on another server (a test that stops and restarts its own).
    pub async fn from_args(args: DbArgs) -> TestDb {
        let store = Store::connect(&args).await.unwrap_or_else(|e| panic!("no MongoDB at {}: {e}", args.mongodb_uri));
        TestDb { store, args }
    }

    pub fn uri(&self) -> &str {
        &self.args.mongodb_uri
    }

    pub fn name(&self) -> &str {
        &self.args.db
    }
}

/// The test server's URI; panics with instructions when unset.
pub fn test_uri() -> String {
    match std::env::var("MONGODB_URI") {
        Ok(u) if !u.is_empty() => u,
        _ => panic!(
            "MONGODB_URI is not set: the tests need a real MongoDB-protocol server. \
             Run them with `make test` (it starts the development server), or set MONGODB_URI."
        ),
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let args = self.args.clone();
        // Drop runs inside the test's runtime, which cannot block on itself, and the
        // test's client lives on that runtime: use a thread with its own runtime and client.
        let _ = std::thread::spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread().enable_all().build() else {
                return;
            };
            rt.block_on(async {
                if let Ok(store) = Store::connect(&args).await {
                    let _ = store.database().drop().await;
                }
            });
        })
        .join();
    }
}
