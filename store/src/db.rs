//! The connection to MongoDB, the collections every service shares, and their indexes.

use std::time::Duration;

use mongodb::bson::{Document, doc};
use mongodb::options::{ClientOptions, IndexOptions};
use mongodb::{Client, Collection, Database, IndexModel};

use crate::config::DbArgs;
use crate::error::{Result, StoreError};

/// Collection names, in one place.
pub mod coll {
    /// Package records, `_id` = name.
    pub const PACKAGES: &str = "packages";
    /// One record per version, `_id` = `name@version`.
    pub const VERSIONS: &str = "versions";
    /// Named counters (`seq`).
    pub const COUNTERS: &str = "counters";
    /// Leases that keep two runs of a job from writing at once.
    pub const LOCKS: &str = "locks";
    /// Documents that cannot be a package, with the reason.
    pub const REJECTS: &str = "rejects";
    /// The last run of each job, for `status`.
    pub const RUNS: &str = "runs";
    /// Checkpoints of followed feeds.
    pub const CHECKPOINTS: &str = "checkpoints";
    /// Dependency edges, `_id` = `target\0source`: who depends on whom, the source of truth.
    pub const EDGES: &str = "dependency_edges";
    /// Per depended-upon package: exact counts, page layout, top 10.
    pub const DEPENDENTS: &str = "dependents";
    /// Precomputed pages of dependents lists.
    pub const DEPENDENT_PAGES: &str = "dependent_pages";
    /// Dependents changes in progress (replayed after a crash).
    pub const DEPENDENTS_JOURNAL: &str = "dependents_journal";
    /// Download jobs and their results, one per package version (`name@version`).
    pub const SOURCES: &str = "sources";
    /// File trees of unpacked versions, in pages.
    pub const TREES: &str = "trees";
    /// File contents, content-addressed (`_id` = sha256), stored once.
    pub const BLOBS: &str = "blobs";
    /// Precomputed browse lists (`recent`, `depended`).
    pub const BROWSE_LISTS: &str = "browse_lists";
    /// GitHub activity, one document per repository (`_id` = `owner/repo`, lower case).
    pub const GITHUB: &str = "github";
    /// Resolved install trees, one per root version (`_id` = `name@version`).
    pub const INSTALLS: &str = "installs";
}

/// A handle on the Nodules database. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Store {
    client: Client,
    db: Database,
}

impl Store {
    /// Connects (lazily: the first operation finds the server) with short server-selection
    /// timeouts, so a missing database is a clear error within seconds, not a hang.
    pub async fn connect(args: &DbArgs) -> Result<Store> {
        let mut options = ClientOptions::parse(&args.mongodb_uri).await.map_err(StoreError::connect)?;
        if options.server_selection_timeout.is_none() {
            options.server_selection_timeout = Some(Duration::from_secs(10));
        }
        if options.connect_timeout.is_none() {
            options.connect_timeout = Some(Duration::from_secs(10));
        }
        options.app_name.get_or_insert_with(|| "nodules".to_string());
        if let Some(h) = crate::shapes::with_recorder(crate::tally::handler()) {
            options.command_event_handler = Some(h);
        }
        let client = Client::with_options(options).map_err(StoreError::connect)?;
        let db = client.database(&args.db);
        Ok(Store { client, db })
    }

    /// A store on an existing client (tests that watch the commands sent).
    pub fn from_client(client: Client, db: &str) -> Store {
        let db = client.database(db);
        Store { client, db }
    }

    /// Connects for serving requests: a missing database is noticed within a second, so
    /// pages answer 503 quickly instead of waiting; the pool recovers by itself.
    pub async fn connect_for_requests(args: &DbArgs) -> Result<Store> {
        let mut options = ClientOptions::parse(&args.mongodb_uri).await.map_err(StoreError::connect)?;
        options.server_selection_timeout.get_or_insert(Duration::from_secs(1));
        options.connect_timeout.get_or_insert(Duration::from_secs(1));
        options.app_name.get_or_insert_with(|| "nodules-webapp".to_string());
        if let Some(h) = crate::shapes::with_recorder(None) {
            options.command_event_handler = Some(h);
        }
        let client = Client::with_options(options).map_err(StoreError::connect)?;
        let db = client.database(&args.db);
        Ok(Store { client, db })
    }

    /// Connects and checks that the server answers `ping`.
    pub async fn connect_and_ping(args: &DbArgs) -> Result<Store> {
        let store = Store::connect(args).await?;
        store.ping().await?;
        Ok(store)
    }

    pub async fn ping(&self) -> Result<()> {
        self.db.run_command(doc! { "ping": 1 }).await.map_err(StoreError::connect)?;
        Ok(())
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    pub fn database(&self) -> &Database {
        &self.db
    }

    pub fn collection(&self, name: &str) -> Collection<Document> {
        self.db.collection(name)
    }

    /// Documents of `collection` matching `filter`, counted from their keys read through the
    /// filter's index: for sets known to be small (rare states, partial indexes). Neither
    /// `count_documents` nor the `count` command will do on the development server: both
    /// decode the whole collection whatever the filter and index (`count` of one state at
    /// 1M packages took it to 24 GB and an OOM kill); its `find` takes the index's matches.
    pub async fn count_few(&self, collection: &str, filter: Document) -> Result<u64> {
        let mut cursor = self
            .db
            .collection::<Document>(collection)
            .find(filter)
            .projection(doc! { "_id": 1 })
            .batch_size(crate::bulk::SCAN_BATCH)
            .await
            .map_err(StoreError::mongo("find", collection))?;
        let mut n = 0u64;
        while cursor.advance().await.map_err(StoreError::mongo("find", collection))? {
            n += 1;
        }
        Ok(n)
    }

    pub fn packages(&self) -> Collection<Document> {
        self.collection(coll::PACKAGES)
    }

    pub fn versions(&self) -> Collection<Document> {
        self.collection(coll::VERSIONS)
    }

    /// Creates every index the services' queries need. Production and tests call this one
    /// function; a query shape without its index here is a bug (the explain test finds it).
    pub async fn ensure_indexes(&self) -> Result<()> {
        for (collection, keys, name, options) in index_specs() {
            let mut model = IndexModel::builder().keys(keys).build();
            let mut opts = options.unwrap_or_default();
            opts.name = Some(name.to_string());
            model.options = Some(opts);
            self.collection(collection)
                .create_index(model)
                .await
                .map_err(StoreError::mongo("createIndex", collection))?;
        }
        for (collection, name) in OBSOLETE_INDEXES {
            // absent on new databases: a failure here means nothing to drop
            let _ = self.collection(collection).drop_index(*name).await;
        }
        Ok(())
    }
}

/// Indexes earlier versions created that nothing uses any more.
const OBSOLETE_INDEXES: &[(&str, &str)] = &[
    // blobs are deleted by key when their last reference goes (it halved insert rates)
    (coll::BLOBS, "unreferenced"),
];

/// (collection, keys, index name, options)
fn index_specs() -> Vec<(&'static str, Document, &'static str, Option<IndexOptions>)> {
    vec![
        // what changed since N: downloader, search index, sitemaps
        (coll::PACKAGES, doc! { "seq": 1 }, "seq", None),
        // fetch --stale: oldest checks first
        (coll::PACKAGES, doc! { "checked_at": 1 }, "checked_at", None),
        // packages marked stale by a change without a document
        (
            coll::PACKAGES,
            doc! { "stale": 1 },
            "stale",
            Some(IndexOptions::builder().partial_filter_expression(doc! { "stale": true }).build()),
        ),
        // status counts by state
        (coll::PACKAGES, doc! { "state": 1 }, "state", None),
        (coll::VERSIONS, doc! { "package": 1 }, "package", None),
        (coll::REJECTS, doc! { "at": -1 }, "at", None),
        // rerank, rebuild and recount read one target's edges of one kind
        (coll::EDGES, doc! { "target": 1, "kind": 1 }, "target_kind", None),
        // crash recovery and rebuild checks read one source's edges
        (coll::EDGES, doc! { "source": 1 }, "source", None),
        // removing a dependent finds its page by name
        (coll::DEPENDENT_PAGES, doc! { "target": 1, "kind": 1, "items.n": 1 }, "target_kind_member", None),
        // rerank: the lists whose order is no longer exact
        (
            coll::DEPENDENTS,
            doc! { "dirty": 1 },
            "dirty",
            Some(IndexOptions::builder().partial_filter_expression(doc! { "dirty": true }).build()),
        ),
        // browse lists: rebuilding "most depended upon" and "recent" (cron), by keyword, by person
        (coll::PACKAGES, doc! { "dependents_count": -1 }, "dependents_count", None),
        (coll::PACKAGES, doc! { "modified": -1 }, "modified", None),
        (coll::PACKAGES, doc! { "kw": 1, "state": 1 }, "keyword", None),
        (coll::PACKAGES, doc! { "people": 1, "state": 1 }, "person", None),
        // refreshes of records written by an older normalizer
        (coll::PACKAGES, doc! { "normalizer": 1 }, "normalizer", None),
        // downloaders claim the most important due job (importance is folded into due_at)
        (coll::SOURCES, doc! { "due_at": 1 }, "due", None),
        // how many jobs are pending, failed, done
        (coll::SOURCES, doc! { "state": 1 }, "state", None),
        // the webapp counts the versions visitors asked for that are still waiting
        (coll::SOURCES, doc! { "state": 1, "priority": 1 }, "state_priority", None),
        // versions visitors asked for, released when nobody has for a while
        (coll::SOURCES, doc! { "priority": 1, "asked_at": 1 }, "priority_asked", None),
        // a package's versions (popularity updates, releasing old versions)
        (coll::SOURCES, doc! { "package": 1 }, "package", None),
        // results of an older extractor are redone
        (coll::SOURCES, doc! { "extractor": 1 }, "extractor", None),
        // a version's file tree pages
        (coll::TREES, doc! { "source": 1, "page": 1 }, "source_page", None),
        // the GitHub refresh takes the most important due repository first
        (coll::GITHUB, doc! { "due_at": 1 }, "due", None),
        // status: repositories whose last refreshes failed (few: most are 0)
        (coll::GITHUB, doc! { "failures": 1 }, "failures", None),
        // rebuilding "most starred" and "most active" (after each refresh run)
        (coll::GITHUB, doc! { "stars": -1 }, "stars", None),
        (coll::GITHUB, doc! { "recent_commits": -1 }, "recent_commits", None),
        // a publish makes stale every install tree its package is a member of
        (coll::INSTALLS, doc! { "members": 1 }, "members", None),
        // the `trees` command computes the stale ones
        (
            coll::INSTALLS,
            doc! { "stale": 1 },
            "stale",
            Some(IndexOptions::builder().partial_filter_expression(doc! { "stale": true }).build()),
        ),
        // `blobs` has none on purpose: see `release_blobs` in the downloader
    ]
}
