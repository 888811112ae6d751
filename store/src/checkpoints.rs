//! How far each followed feed was read (`follow` resumes there; `status` shows them).

use futures::TryStreamExt;
use mongodb::bson::{DateTime, Document, doc};

use crate::db::{Store, coll};
use crate::error::{Result, StoreError};

impl Store {
    /// Remembers that the feed `key` was read up to `seq`.
    pub async fn save_checkpoint(&self, key: &str, seq: &str) -> Result<()> {
        self.collection(coll::CHECKPOINTS)
            .update_one(doc! { "_id": key }, doc! { "$set": { "last_seq": seq, "at": DateTime::now() } })
            .upsert(true)
            .await
            .map_err(StoreError::mongo("update", coll::CHECKPOINTS))?;
        Ok(())
    }

    /// Where the feed `key` was left (none before its first run).
    pub async fn checkpoint(&self, key: &str) -> Result<Option<String>> {
        let d = self
            .collection(coll::CHECKPOINTS)
            .find_one(doc! { "_id": key })
            .await
            .map_err(StoreError::mongo("find", coll::CHECKPOINTS))?;
        Ok(d.and_then(|d| d.get_str("last_seq").ok().map(str::to_string)))
    }

    /// Every checkpoint as stored (`_id`, `last_seq`, `at`): a handful, one per feed.
    pub async fn checkpoints(&self) -> Result<Vec<Document>> {
        self.collection(coll::CHECKPOINTS)
            .find(doc! {})
            .await
            .map_err(StoreError::mongo("find", coll::CHECKPOINTS))?
            .try_collect()
            .await
            .map_err(StoreError::mongo("find", coll::CHECKPOINTS))
    }
}
