//! What the database already holds for a batch's packages: one query per batch, never a
//! read per document.

use std::collections::HashMap;

use futures::TryStreamExt;
use mongodb::bson::{Document, doc};
use nodules_store::model::{DepTargets, PackageState, VersionSummary};
use nodules_store::{Store, StoreError};
use serde::Deserialize;

use nodules_npm::normalize::KnownVersions;

/// The stored facts the pipeline decides on.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(default)]
pub struct StoredPackage {
    #[serde(rename = "_id")]
    pub name: String,
    pub rev: Option<String>,
    pub normalizer: u32,
    pub state: PackageState,
    pub versions: Vec<VersionSummary>,
    pub dep_targets: DepTargets,
}

impl StoredPackage {
    /// Version hashes, when they were made by the current normalizer.
    pub fn known_versions(&self, normalizer: u32) -> Option<KnownVersions> {
        (self.normalizer == normalizer)
            .then(|| self.versions.iter().map(|v| (v.version.clone(), v.hash.clone())).collect())
    }
}

/// Reads the stored state of `names`, keyed by name.
pub async fn read_stored(store: &Store, names: &[String]) -> Result<HashMap<String, StoredPackage>, StoreError> {
    if names.is_empty() {
        return Ok(HashMap::new());
    }
    let projection = doc! { "rev": 1, "normalizer": 1, "state": 1, "versions.v": 1, "versions.h": 1, "dep_targets": 1 };
    let mut out = HashMap::with_capacity(names.len());
    for chunk in names.chunks(nodules_store::bulk::IN_LIST_MAX) {
        let cursor = store
            .packages()
            .find(doc! { "_id": { "$in": chunk } })
            .projection(projection.clone())
            .await
            .map_err(StoreError::mongo("find", "packages"))?;
        let docs: Vec<Document> = cursor.try_collect().await.map_err(StoreError::mongo("find", "packages"))?;
        for d in docs {
            let stored: StoredPackage =
                mongodb::bson::from_document(d).map_err(|e| StoreError::decode("packages", e))?;
            out.insert(stored.name.clone(), stored);
        }
    }
    Ok(out)
}
