//! Command-line options shared by every binary: where the database is.

use clap::Args;

/// Database options (`--mongodb-uri`, `--db`), flattened into each binary's config.
#[derive(Debug, Clone, Args)]
pub struct DbArgs {
    /// MongoDB connection string. `make demo` and `make test` start a development
    /// server and set this for you.
    #[arg(long, env = "MONGODB_URI", default_value = "mongodb://127.0.0.1:27017", hide_env_values = true)]
    pub mongodb_uri: String,

    /// Database name: several deployments (or tests) can share one server.
    #[arg(long = "db", env = "NODULES_DB", default_value = "nodules")]
    pub db: String,
}

impl DbArgs {
    pub fn new(mongodb_uri: impl Into<String>, db: impl Into<String>) -> Self {
        Self { mongodb_uri: mongodb_uri.into(), db: db.into() }
    }
}
