//! What the database already holds for a batch's packages, as the indexer decides on it:
//! one query per 25 names, never a read per document.

use std::collections::HashMap;

use futures::TryStreamExt;
use mongodb::bson::{Document, doc};
use serde::Deserialize;

use crate::model::{DepTargets, PackageState, StringMap, VersionSummary};
use crate::{Store, StoreError};

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
    /// Read to tell what a write changes (dist-tag moves: [`crate::events`]).
    #[serde(with = "crate::pairs")]
    pub dist_tags: StringMap,
}

impl StoredPackage {
    /// Version hashes by version, when they were made by the normalizer `normalizer`.
    pub fn known_versions(&self, normalizer: u32) -> Option<HashMap<String, String>> {
        (self.normalizer == normalizer)
            .then(|| self.versions.iter().map(|v| (v.version.clone(), v.hash.clone())).collect())
    }
}

impl Store {
    /// Reads the stored state of `names`, keyed by name (one query per 25 names).
    pub async fn stored_packages(&self, names: &[String]) -> Result<HashMap<String, StoredPackage>, StoreError> {
        if names.is_empty() {
            return Ok(HashMap::new());
        }
        let projection = doc! {
            "rev": 1, "normalizer": 1, "state": 1, "versions.v": 1, "versions.h": 1, "versions.d": 1,
            "dep_targets": 1, "dist_tags": 1,
        };
        let mut out = HashMap::with_capacity(names.len());
        for chunk in names.chunks(crate::bulk::IN_LIST_MAX) {
            let cursor = self
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
}
