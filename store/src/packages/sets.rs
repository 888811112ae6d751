//! Package records read as sets: which of some names are indexed, what changed since a
//! `seq` number, and the fields the webapp's search index reads of them. (One record by
//! name: [`Store::package`] in `read`.)

use std::collections::HashMap;

use futures::TryStreamExt;
use mongodb::bson::{Document, doc};

use crate::db::{Store, coll};
use crate::error::{Result, StoreError};

/// The fields of a package record the search index reads (with `_id`).
fn search_projection() -> Document {
    doc! {
        "state": 1, "seq": 1, "latest": 1, "maintainers.name": 1, "dependents_count": 1, "modified": 1,
        "latest_version.description": 1, "latest_version.keywords": 1, "latest_version.author.name": 1,
        "latest_version.license.spdx": 1, "latest_version.deprecated": 1,
        "latest_version.repository.hosted": 1,
    }
}

impl Store {
    /// Which of `names` are active packages (one query).
    pub async fn active_among(&self, names: Vec<String>) -> Result<Vec<String>> {
        let found: Vec<Document> = self
            .packages()
            .find(doc! { "_id": { "$in": names }, "state": "active" })
            .projection(doc! { "_id": 1 })
            .await
            .map_err(StoreError::mongo("find", coll::PACKAGES))?
            .try_collect()
            .await
            .map_err(StoreError::mongo("find", coll::PACKAGES))?;
        Ok(found.iter().filter_map(|d| d.get_str("_id").ok().map(str::to_string)).collect())
    }

    /// Names and `seq` of at most `limit` packages written after `seq`, in `seq` order.
    pub async fn changed_since(&self, seq: i64, limit: i64) -> Result<Vec<(String, i64)>> {
        let changed: Vec<Document> = self
            .packages()
            .find(doc! { "seq": { "$gt": seq } })
            .sort(doc! { "seq": 1 })
            .projection(doc! { "_id": 1, "seq": 1 })
            .limit(limit)
            .await
            .map_err(StoreError::mongo("find", coll::PACKAGES))?
            .try_collect()
            .await
            .map_err(StoreError::mongo("find", coll::PACKAGES))?;
        Ok(changed
            .iter()
            .filter_map(|d| Some((d.get_str("_id").ok()?.to_string(), d.get_i64("seq").unwrap_or(i64::MIN))))
            .collect())
    }

    /// Every package record's search fields, in windows of `window` seq numbers (see
    /// [`crate::scan`]): inactive ones too, as a record written during the scan may be a
    /// removal.
    pub async fn scan_search_records(&self, window: i64) -> Result<crate::scan::PackageScan> {
        self.scan_packages(search_projection(), window).await
    }

    /// The search fields of at most `limit` packages written after `seq`, in `seq` order.
    pub async fn search_records_changed_since(&self, seq: i64, limit: i64) -> Result<Vec<Document>> {
        self.packages()
            .find(doc! { "seq": { "$gt": seq } })
            .sort(doc! { "seq": 1 })
            .limit(limit)
            .projection(search_projection())
            .await
            .map_err(StoreError::mongo("find", coll::PACKAGES))?
            .try_collect()
            .await
            .map_err(StoreError::mongo("find", coll::PACKAGES))
    }

    /// The facts the search index reads (`has_types`, `module_type`) of the sources in
    /// `ids` (`name@version`), by `_id`, [`crate::bulk::IN_LIST_MAX`] keys per query.
    pub async fn search_facts(&self, ids: &[String]) -> Result<HashMap<String, Document>> {
        let mut facts: HashMap<String, Document> = HashMap::with_capacity(ids.len());
        for chunk in ids.chunks(crate::bulk::IN_LIST_MAX) {
            let found: Vec<Document> = self
                .collection(coll::SOURCES)
                .find(doc! { "_id": { "$in": chunk } })
                .projection(doc! { "facts.has_types": 1, "facts.module_type": 1, "state": 1 })
                .await
                .map_err(StoreError::mongo("find", coll::SOURCES))?
                .try_collect()
                .await
                .map_err(StoreError::mongo("find", coll::SOURCES))?;
            facts.extend(found.into_iter().filter_map(|d| Some((d.get_str("_id").ok()?.to_string(), d))));
        }
        Ok(facts)
    }
}
