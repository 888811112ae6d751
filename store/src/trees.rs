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

/// `_id` of page `page` (from 1) of generation `generation` of a version's file tree (see
/// [`crate::model::Source::tree_gen`]).
pub fn tree_page_id(source: &str, generation: Option<i64>, page: i64) -> String {
    match generation {
        Some(g) => format!("{source}\u{0}{g:06}\u{0}{page:06}"),
        None => format!("{source}\u{0}{page:06}"),
    }
}

impl Store {
    /// Page `page` (from 1) of `source`'s tree (`source` = `name@version`) as written by
    /// generation `generation`.
    pub async fn tree_page(&self, source: &str, generation: Option<i64>, page: i64) -> Result<Vec<TreeEntry>> {
        let d = self
            .collection(coll::TREES)
            .find_one(doc! { "_id": tree_page_id(source, generation, page) })
            .await
            .map_err(StoreError::mongo("find", coll::TREES))?;
        Ok(d.as_ref().map(entries).unwrap_or_default())
    }

    /// The entry for `path` in `source`'s tree. `firsts` is the first path of each page
    /// (kept on the source document): the page is found by binary search, then read by key.
    pub async fn tree_entry(
        &self,
        source: &str,
        generation: Option<i64>,
        firsts: &[String],
        path: &str,
    ) -> Result<Option<TreeEntry>> {
        let page = firsts.partition_point(|f| f.as_str() <= path);
        if page == 0 {
            return Ok(None);
        }
        Ok(self.tree_page(source, generation, page as i64).await?.into_iter().find(|e| e.path == path))
    }
}
