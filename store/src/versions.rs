//! Version records (`_id` = `name@version`), as the indexer stored them from the registry.

use mongodb::bson::doc;

use crate::db::{Store, coll};
use crate::error::{Result, StoreError};
use crate::model::VersionRecord;
use crate::queue::source_id;

impl Store {
    /// `package`'s version `version`, by key.
    pub async fn version(&self, package: &str, version: &str) -> Result<Option<VersionRecord>> {
        self.database()
            .collection::<VersionRecord>(coll::VERSIONS)
            .find_one(doc! { "_id": source_id(package, version) })
            .await
            .map_err(StoreError::mongo("find", coll::VERSIONS))
    }
}
