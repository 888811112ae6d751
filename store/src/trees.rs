//! Reading a version's file tree: pages of entries in path order.

use mongodb::bson::{Document, doc};

use crate::db::{Store, coll};
use crate::error::{Result, StoreError};
use crate::model::TreeEntry;

fn entries(d: &Document) -> Vec<TreeEntry> {
    d.get_array("entries")
        .ok()
        .map(|a| a.iter().filter_map(|e| mongodb::bson::from_bson::<TreeEntry>(e.clone()).ok()).collect())
        .unwrap_or_default()
}

impl Store {
    /// Page `page` (from 1) of `source`'s tree (`source` = `name@version`).
    pub async fn tree_page(&self, source: &str, page: i64) -> Result<Vec<TreeEntry>> {
        let d = self
            .collection(coll::TREES)
            .find_one(doc! { "source": source, "page": page })
            .await
            .map_err(StoreError::mongo("find", coll::TREES))?;
        Ok(d.as_ref().map(entries).unwrap_or_default())
    }

    /// The entry for `path` in `source`'s tree. `firsts` is the first path of each page
    /// (kept on the source document): the page is found by binary search, then read by key.
    pub async fn tree_entry(&self, source: &str, firsts: &[String], path: &str) -> Result<Option<TreeEntry>> {
        let page = firsts.partition_point(|f| f.as_str() <= path);
        if page == 0 {
            return Ok(None);
        }
        Ok(self.tree_page(source, page as i64).await?.into_iter().find(|e| e.path == path))
    }
}
