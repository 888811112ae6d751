//! Install trees: what `npm install` of a version puts on disk, resolved by the indexer's
//! `trees` command from the stored versions (`nodules_npm::resolve`), one document per
//! root version (`_id` = `name@version`). Pages and the API read them by key.

use std::collections::BTreeMap;

use mongodb::bson::{DateTime, doc};
use serde::{Deserialize, Serialize};

use crate::db::{Store, coll};
use crate::error::{Result, StoreError};

/// What installing a version costs, summed over its resolved tree.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct InstallSummary {
    /// Packages installed, the root included, optional ones not.
    pub packages: i64,
    /// Optional packages (optional dependencies and what only they need), counted apart.
    pub optional: i64,
    /// Unpacked bytes of the packages (optional ones not) whose size is known.
    pub size: i64,
    /// Every counted package's size is known (false: `size` is a lower bound).
    pub size_complete: bool,
    /// Counted packages whose size is not known yet (not downloaded).
    pub unknown_sizes: i64,
    /// Counted packages that run an install script.
    pub install_scripts: i64,
    /// License (SPDX expression, or the text as written) → packages under it.
    pub licenses: BTreeMap<String, i64>,
    /// Edges on the longest of the shortest chains from the root (0: no dependencies).
    pub depth: i64,
    /// That chain, `name@version` from the root down.
    pub deepest: Vec<String>,
    /// Dependencies that could not be resolved from the stored versions: `name@range`.
    pub unresolved: Vec<String>,
}

/// One installed package of a tree.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct InstallNode {
    pub name: String,
    pub version: String,
    /// Indexes (into the tree's `nodes`) of what its dependencies resolved to, in name order.
    pub deps: Vec<u32>,
    /// Only installed because of an optional dependency.
    pub optional: bool,
    /// Installed as a peer dependency of a package (npm ≥ 7 installs those).
    pub peer: bool,
    pub size: Option<i64>,
    pub license: Option<String>,
    pub install_script: bool,
    pub deprecated: bool,
}

/// A root version's resolved tree: `nodes[0]` is the root.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct InstallTree {
    #[serde(rename = "_id")]
    pub id: String,
    pub package: String,
    pub version: String,
    pub summary: InstallSummary,
    pub nodes: Vec<InstallNode>,
    /// Names of every package in the tree (the root's included): a publish of any of them
    /// may change the tree (multikey index `members`).
    pub members: Vec<String>,
    pub computed_at: Option<DateTime>,
}

/// `_id` of a version's install tree.
pub fn install_id(package: &str, version: &str) -> String {
    format!("{package}@{version}")
}

impl Store {
    /// The resolved tree of `package@version`, if computed (one key lookup).
    pub async fn install_tree(&self, package: &str, version: &str) -> Result<Option<InstallTree>> {
        self.database()
            .collection::<InstallTree>(coll::INSTALLS)
            .find_one(doc! { "_id": install_id(package, version) })
            .await
            .map_err(StoreError::mongo("find", coll::INSTALLS))
    }

    /// The install summary of `package@version` without its nodes (one key lookup).
    pub async fn install_summary(&self, package: &str, version: &str) -> Result<Option<InstallSummary>> {
        let found = self
            .collection(coll::INSTALLS)
            .find_one(doc! { "_id": install_id(package, version) })
            .projection(doc! { "summary": 1 })
            .await
            .map_err(StoreError::mongo("find", coll::INSTALLS))?;
        Ok(found
            .and_then(|d| d.get_document("summary").ok().cloned())
            .and_then(|s| mongodb::bson::from_document(s).ok()))
    }
}

/// A tree to compute: its root version and the mark count it was read with.
#[derive(Debug, Clone)]
pub struct StaleInstall {
    pub package: String,
    pub version: String,
    pub marks: i64,
}

/// What an installed version contributes to its tree's cost: its download state and size.
#[derive(Debug, Clone, Default)]
pub struct InstalledSource {
    /// A download job exists (pending, done or failed).
    pub queued: bool,
    pub unpacked_size: Option<i64>,
    pub install_scripts: bool,
}

/// A package as resolving reads it.
#[derive(Debug, Clone, Deserialize)]
pub struct PackumentRow {
    #[serde(rename = "_id")]
    pub name: String,
    #[serde(default)]
    pub latest: Option<String>,
    #[serde(default, with = "crate::pairs")]
    pub dist_tags: crate::model::StringMap,
    #[serde(default)]
    pub versions: Vec<crate::model::VersionSummary>,
}

impl Store {
    /// The active packages among `names`, as resolving reads them (one query).
    pub async fn install_packuments(&self, names: &[String]) -> Result<Vec<PackumentRow>> {
        use futures::TryStreamExt;
        self.database()
            .collection::<PackumentRow>(coll::PACKAGES)
            .find(doc! { "_id": { "$in": names }, "state": "active" })
            .projection(doc! { "latest": 1, "dist_tags": 1, "versions": 1 })
            .await
            .map_err(StoreError::mongo("find", coll::PACKAGES))?
            .try_collect()
            .await
            .map_err(StoreError::mongo("find", coll::PACKAGES))
    }

    /// Version records by `name@version` (what resolving and costing reads of them).
    pub async fn install_manifests(
        &self,
        ids: &[String],
    ) -> Result<std::collections::HashMap<String, crate::model::VersionRecord>> {
        use futures::TryStreamExt;
        let rows: Vec<mongodb::bson::Document> = self
            .versions()
            .find(doc! { "_id": { "$in": ids } })
            .projection(doc! {
                "version": 1, "deps": 1, "license": 1, "scripts": 1, "has_install_script": 1,
                "deprecated": 1, "dist": 1,
            })
            .await
            .map_err(StoreError::mongo("find", coll::VERSIONS))?
            .try_collect()
            .await
            .map_err(StoreError::mongo("find", coll::VERSIONS))?;
        let mut out = std::collections::HashMap::new();
        for row in rows {
            let Ok(id) = row.get_str("_id").map(str::to_string) else { continue };
            match mongodb::bson::from_document::<crate::model::VersionRecord>(row) {
                Ok(v) => {
                    out.insert(id, v);
                }
                Err(e) => {
                    tracing::warn!(version = %id, error = %e, "unreadable version record: left out of install trees")
                }
            }
        }
        Ok(out)
    }

    /// Download state and unpacked size of versions by `name@version` (one query).
    pub async fn installed_sources(
        &self,
        ids: &[String],
    ) -> Result<std::collections::HashMap<String, InstalledSource>> {
        use futures::TryStreamExt;
        let rows: Vec<mongodb::bson::Document> = self
            .collection(coll::SOURCES)
            .find(doc! { "_id": { "$in": ids } })
            .projection(doc! { "state": 1, "facts.unpacked_size": 1, "facts.install_scripts": 1 })
            .await
            .map_err(StoreError::mongo("find", coll::SOURCES))?
            .try_collect()
            .await
            .map_err(StoreError::mongo("find", coll::SOURCES))?;
        Ok(rows
            .iter()
            .filter_map(|d| {
                let id = d.get_str("_id").ok()?.to_string();
                let facts = d.get_document("facts").ok();
                let done = d.get_str("state").ok() == Some("done");
                let size = facts.filter(|_| done).and_then(|f| crate::model::int_field(f, "unpacked_size"));
                let scripts = facts.and_then(|f| f.get_array("install_scripts").ok()).is_some_and(|a| !a.is_empty());
                Some((id, InstalledSource { queued: true, unpacked_size: size, install_scripts: scripts }))
            })
            .collect())
    }

    /// Marks stale every tree that `names` are members of, and the trees of `roots`
    /// (created stale when missing).
    pub async fn mark_installs_stale(&self, names: &[String], roots: &[(String, String)]) -> Result<()> {
        let mut ops = Vec::new();
        if !names.is_empty() {
            ops.push(crate::bulk::UpdateOp::update_many(
                doc! { "members": { "$in": names } },
                doc! { "$set": { "stale": true }, "$inc": { "marks": 1_i64 } },
            ));
        }
        for (package, version) in roots {
            ops.push(crate::bulk::UpdateOp::upsert(
                doc! { "_id": install_id(package, version) },
                doc! {
                    "$set": { "stale": true, "package": package, "version": version },
                    "$inc": { "marks": 1_i64 },
                },
            ));
        }
        if !ops.is_empty() {
            self.update_all(coll::INSTALLS, ops).await?;
        }
        Ok(())
    }

    /// Asks for the tree of a version that is not a latest one (a visitor's page): created
    /// stale when missing, for the next `trees` run; an existing tree is left alone.
    pub async fn request_install(&self, package: &str, version: &str) -> Result<()> {
        self.collection(coll::INSTALLS)
            .update_one(
                doc! { "_id": install_id(package, version) },
                doc! { "$setOnInsert": { "stale": true, "marks": 1_i64, "package": package, "version": version } },
            )
            .upsert(true)
            .await
            .map_err(StoreError::mongo("update", coll::INSTALLS))?;
        Ok(())
    }

    /// Up to `limit` stale trees (partial index `stale`).
    pub async fn stale_installs(&self, limit: i64) -> Result<Vec<StaleInstall>> {
        use futures::TryStreamExt;
        let rows: Vec<mongodb::bson::Document> = self
            .collection(coll::INSTALLS)
            .find(doc! { "stale": true })
            .projection(doc! { "package": 1, "version": 1, "marks": 1 })
            .limit(limit)
            .await
            .map_err(StoreError::mongo("find", coll::INSTALLS))?
            .try_collect()
            .await
            .map_err(StoreError::mongo("find", coll::INSTALLS))?;
        Ok(rows
            .iter()
            .filter_map(|d| {
                Some(StaleInstall {
                    package: d.get_str("package").ok()?.to_string(),
                    version: d.get_str("version").ok()?.to_string(),
                    marks: crate::model::int_field(d, "marks").unwrap_or(0),
                })
            })
            .collect())
    }

    /// Writes a computed tree, unless it was marked stale again since it was read (`marks`
    /// moved): then it stays stale for the next pass. Returns whether it was written.
    pub async fn write_install(&self, tree: &InstallTree, marks: i64) -> Result<bool> {
        let mut set = mongodb::bson::to_document(tree).map_err(|e| StoreError::encode(coll::INSTALLS, e))?;
        set.remove("_id");
        set.insert("stale", false);
        let r = self
            .collection(coll::INSTALLS)
            .update_one(doc! { "_id": &tree.id, "marks": marks }, doc! { "$set": set })
            .await
            .map_err(StoreError::mongo("update", coll::INSTALLS))?;
        Ok(r.matched_count == 1)
    }
}
