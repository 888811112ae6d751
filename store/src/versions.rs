//! Version records (`_id` = `name@version`): encoded once, compactly, and written in a
//! batch's bulk commands before their package records (a crash in between leaves the old
//! revision stored and the next run redoes the package).

use mongodb::bson::{self, DateTime, Document, RawDocumentBuf, doc};

use crate::bulk::{UpdateOp, WriteFailure};
use crate::db::{Store, coll};
use crate::error::{Result, StoreError};
use crate::model::VersionRecord;

/// `_id` of a version record.
pub fn version_id(package: &str, version: &str) -> String {
    format!("{package}@{version}")
}

/// A version record as raw BSON: thousands of them per document must stay compact.
pub fn encode_version(package: &str, v: &VersionRecord, now: DateTime) -> Result<RawDocumentBuf> {
    let mut d = bson::to_raw_document_buf(v).map_err(|e| StoreError::encode(coll::VERSIONS, e))?;
    d.append("_id", version_id(package, &v.version));
    d.append("package", package);
    d.append("written_at", now);
    Ok(d)
}

/// A batch's version writes, gathered while its decisions are made and sent together.
#[derive(Debug, Default)]
pub struct VersionWrites {
    /// Versions of packages never stored: inserted (a third of an upsert's cost on the dev
    /// server); one already there (a batch replayed after a crash) is then replaced.
    inserts: Vec<RawDocumentBuf>,
    /// Versions of stored packages, replaced whole by `_id`.
    replaces: Vec<UpdateOp>,
    deletes: Vec<Document>,
}

impl VersionWrites {
    /// The versions of a package never stored.
    pub fn insert(&mut self, versions: Vec<RawDocumentBuf>) {
        self.inserts.extend(versions);
    }

    /// The versions of a stored package (new or changed ones).
    pub fn replace(&mut self, versions: Vec<RawDocumentBuf>) {
        for v in versions {
            let id = v.get_str("_id").map(str::to_string).unwrap_or_default();
            self.replaces.push(UpdateOp::upsert(doc! { "_id": id }, v));
        }
    }

    /// Versions a package no longer has, by `_id` (nothing when `ids` is empty).
    pub fn delete(&mut self, ids: Vec<String>) {
        if !ids.is_empty() {
            self.deletes.push(doc! { "_id": { "$in": ids } });
        }
    }

    /// Every version of a deleted package.
    pub fn delete_package(&mut self, package: &str) {
        self.deletes.push(doc! { "package": package });
    }
}

impl Store {
    /// Sends the inserts, then the replacements of `w` (its deletions stay for
    /// [`Store::delete_versions`]); returns the records the server refused.
    pub async fn write_versions(&self, w: &mut VersionWrites) -> Result<Vec<WriteFailure>> {
        let inserts = std::mem::take(&mut w.inserts);
        let replace = |i: usize| {
            let v = inserts.get(i)?;
            Some(UpdateOp::upsert(doc! { "_id": v.get_str("_id").ok()? }, v.clone()))
        };
        let docs = inserts.iter().cloned().map(Into::into).collect();
        let mut refused = self.insert_or_update(coll::VERSIONS, docs, replace).await?;
        drop(inserts);
        refused.extend(self.update_all(coll::VERSIONS, std::mem::take(&mut w.replaces)).await?);
        Ok(refused)
    }

    /// Sends the deletions of `w`.
    pub async fn delete_versions(&self, w: VersionWrites) -> Result<()> {
        self.delete_all(coll::VERSIONS, w.deletes).await?;
        Ok(())
    }
}

impl Store {
    /// `package`'s version `version`, by key.
    pub async fn version(&self, package: &str, version: &str) -> Result<Option<VersionRecord>> {
        self.database()
            .collection::<VersionRecord>(coll::VERSIONS)
            .find_one(doc! { "_id": version_id(package, version) })
            .await
            .map_err(StoreError::mongo("find", coll::VERSIONS))
    }
}
