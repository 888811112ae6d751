//! Reading a version's file tree: pages of entries in path order.

use futures::TryStreamExt;
use mongodb::bson::{Document, doc};

use crate::bulk::WriteFailure;
use crate::db::{Store, coll};
use crate::error::{Result, StoreError};
use crate::model::{TREE_PAGE_SIZE, TreeEntry};

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

    /// Every entry whose path starts with `prefix` (`""`: the whole tree), in path order: the
    /// pages that can hold them, found from `firsts` as in [`Store::tree_entry`], one key
    /// lookup each. Stops after `max` entries; the caller bounds the tree's size.
    pub async fn tree_under(
        &self,
        source: &str,
        generation: Option<i64>,
        firsts: &[String],
        prefix: &str,
        max: usize,
    ) -> Result<Vec<TreeEntry>> {
        // the page before the first whose first path is past `prefix` may hold its start
        let start = firsts.partition_point(|f| f.as_str() < prefix).max(1);
        let mut out = Vec::new();
        for page in start..=firsts.len() {
            if page > start && !firsts[page - 1].starts_with(prefix) {
                break;
            }
            let entries = self.tree_page(source, generation, page as i64).await?;
            out.extend(entries.into_iter().filter(|e| e.path.starts_with(prefix)).take(max - out.len()));
            if out.len() >= max {
                break;
            }
        }
        Ok(out)
    }
}

impl Store {
    /// Writes a version's tree (sorted by path) as pages of generation `generation` (random,
    /// new for each tree written); returns the first path of each page.
    ///
    /// Pages are inserted (a third of an upsert's cost on the development server) beside
    /// those of any earlier result, which stay visible until this one is committed and are
    /// then dropped ([`Store::drop_tree`]). A refused page fails the job, which is tried
    /// again with a new generation.
    pub async fn write_tree(&self, source: &str, generation: i64, tree: &[TreeEntry]) -> Result<Vec<String>> {
        let mut pages = Vec::new();
        let mut firsts = Vec::new();
        for (i, chunk) in tree.chunks(TREE_PAGE_SIZE).enumerate() {
            let page = i as i64 + 1;
            let entries = mongodb::bson::to_bson(chunk).map_err(|e| StoreError::encode(coll::TREES, e))?;
            let first = chunk.first().map(|e| e.path.clone()).unwrap_or_default();
            firsts.push(first.clone());
            pages.push(
                doc! {
                    "_id": tree_page_id(source, Some(generation), page),
                    "source": source, "gen": generation, "page": page, "first": first, "entries": entries,
                }
                .into(),
            );
        }
        if let Some(f) = self.insert_all(coll::TREES, pages).await?.first() {
            return Err(tree_refused(source, f));
        }
        Ok(firsts)
    }

    /// Every blob generation `generation` of a version's tree references (one per file
    /// entry; `None`: pages written before generations).
    pub async fn tree_blobs(&self, source: &str, generation: Option<i64>) -> Result<Vec<String>> {
        let pages: Vec<Document> = self
            .collection(coll::TREES)
            .find(doc! { "source": source, "gen": generation })
            .projection(doc! { "entries.b": 1 })
            .await
            .map_err(StoreError::mongo("find", coll::TREES))?
            .try_collect()
            .await
            .map_err(StoreError::mongo("find", coll::TREES))?;
        Ok(pages
            .iter()
            .flat_map(|p| p.get_array("entries").into_iter().flatten())
            .filter_map(|e| e.as_document().and_then(|e| e.get_str("b").ok()).map(str::to_string))
            .collect())
    }

    /// Deletes the pages of generation `generation` of a version's tree (their blobs'
    /// references are the caller's).
    pub async fn delete_tree_pages(&self, source: &str, generation: Option<i64>) -> Result<()> {
        self.delete_all(coll::TREES, vec![doc! { "source": source, "gen": generation }]).await?;
        Ok(())
    }

    /// Takes back what generation `generation` of a version's tree holds: its blobs'
    /// references and its pages. The caller makes sure nothing shows it any more and that
    /// only one downloader does this for it.
    pub async fn drop_tree(&self, source: &str, generation: Option<i64>) -> Result<()> {
        let blobs = self.tree_blobs(source, generation).await?;
        self.release_blobs(&blobs).await?;
        self.delete_tree_pages(source, generation).await
    }
}

fn tree_refused(source: &str, f: &WriteFailure) -> StoreError {
    StoreError::Answer {
        op: "insert",
        collection: coll::TREES.to_string(),
        answer: Box::new(doc! { "source": source, "refused": &f.message }),
    }
}
