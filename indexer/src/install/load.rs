//! What the resolver reads, fetched in batches (one query per collection per level of a
//! tree) and kept for the rest of the run, within a bound: packages shared by many trees
//! (a popular dependency) are read once.

use std::collections::HashMap;

use nodules_npm::resolve::{Known, Manifest, Need, Outcome, Packument, PackumentVersion, Resolved, Resolver};
use nodules_store::Store;
use nodules_store::model::VersionRecord;
use nodules_store::queue::Wanted;

/// Largest `$in` list of one query.
const CHUNK: usize = 500;
/// Packages and versions kept between trees; past it the caches start again.
const KEEP: usize = 100_000;

pub struct Loader {
    store: Store,
    known: Known,
    /// Version records by `name@version`, for costing.
    records: HashMap<String, VersionRecord>,
}

impl Loader {
    pub fn new(store: Store) -> Loader {
        Loader { store, known: Known::default(), records: HashMap::new() }
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// `name@version`'s record, when stored (read by `resolve` or `record`).
    pub fn cached(&self, id: &str) -> Option<&VersionRecord> {
        self.records.get(id)
    }

    /// Resolves `name@version`, reading what it needs.
    pub async fn resolve(&mut self, name: &str, version: &str) -> Result<Resolved, nodules_store::StoreError> {
        let mut r = Resolver::new(name, version);
        loop {
            match r.run(&self.known) {
                Outcome::Done(done) => return Ok(done),
                Outcome::Need(need) => self.load(need).await?,
            }
        }
    }

    async fn load(&mut self, need: Need) -> Result<(), nodules_store::StoreError> {
        let names: Vec<String> = need.packuments.into_iter().collect();
        for chunk in names.chunks(CHUNK) {
            let mut found: HashMap<String, Packument> = self
                .store
                .install_packuments(chunk)
                .await?
                .into_iter()
                .map(|p| {
                    let versions = p
                        .versions
                        .iter()
                        .map(|v| PackumentVersion { version: v.version.clone(), deprecated: v.deprecated.is_some() })
                        .collect();
                    (p.name, Packument { tags: p.dist_tags.into_iter().collect(), versions })
                })
                .collect();
            for n in chunk {
                self.known.packuments.insert(n.clone(), found.remove(n));
            }
        }
        let ids: Vec<(String, String)> = need.manifests.into_iter().collect();
        for chunk in ids.chunks(CHUNK) {
            let keys: Vec<String> = chunk.iter().map(|(n, v)| format!("{n}@{v}")).collect();
            let mut found = self.store.install_manifests(&keys).await?;
            for ((n, v), key) in chunk.iter().zip(keys) {
                let record = found.remove(&key);
                let manifest = record.as_ref().map(manifest);
                self.known.manifests.insert((n.clone(), v.clone()), manifest);
                if let Some(r) = record {
                    self.records.insert(key, r);
                }
            }
        }
        Ok(())
    }

    /// Queues downloads (background priority) of versions nobody queued yet, so that
    /// their sizes become known. Returns how many.
    pub async fn queue_downloads(&self, wanted: &[Wanted]) -> Result<usize, nodules_store::StoreError> {
        if !wanted.is_empty() {
            self.store.enqueue_downloads(wanted).await?;
        }
        Ok(wanted.len())
    }

    /// Forgets what was read once past the bound (memory stays flat over a long run).
    pub fn trim(&mut self) {
        if self.known.packuments.len() + self.known.manifests.len() > KEEP {
            self.known = Known::default();
            self.records.clear();
        }
    }
}

/// A version record's dependencies as the resolver takes them.
fn manifest(v: &VersionRecord) -> Manifest {
    let pairs = |m: &nodules_store::model::StringMap| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    Manifest {
        dependencies: pairs(&v.deps.dependencies),
        optional_dependencies: pairs(&v.deps.optional_dependencies),
        peer_dependencies: pairs(&v.deps.peer_dependencies),
        optional_peers: v.deps.optional_peers.iter().cloned().collect(),
    }
}
