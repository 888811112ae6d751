//! Where unpacked files go: content-addressed blobs (sha256, zstd-compressed, stored once
//! however many versions and packages hold the same bytes, reference-counted), per-version
//! file trees in pages, and the result on the version's `sources` document.

use std::collections::HashMap;

use futures::TryStreamExt;
use mongodb::bson::{Binary, Bson, Document, doc, spec::BinarySubtype};
use nodules_store::bulk::{IN_LIST_MAX, UpdateOp};
use nodules_store::db::coll;
use nodules_store::model::{TREE_PAGE_SIZE, TreeEntry};
use nodules_store::trees::tree_page_id;
use nodules_store::{Store, StoreError};

/// Blobs per write command, and bytes.
const BLOB_BATCH: usize = 500;
const BLOB_BATCH_BYTES: usize = 4 << 20;

pub use nodules_store::blobs::{EncodedBlob as BlobOut, encode as encode_blob};

/// Collects blob writes into bounded batches. Each write adds one reference.
///
/// Most blobs of a run are new, and a plain insert costs the server a third of an upsert
/// (measured on the development server): so a batch is inserted first, with its reference
/// counts, and only the blobs already stored (duplicate `_id`) are then counted by an
/// upsert — an upsert, not an update, so that a blob a release deletes between the two is
/// stored again with its bytes.
pub struct BlobWriter {
    store: Store,
    /// One entry per distinct blob of the batch, with how many references it adds.
    pending: Vec<(BlobOut, i64)>,
    index: HashMap<String, usize>,
    pending_bytes: usize,
    pub written: u64,
    pub bytes: u64,
}

impl BlobWriter {
    pub fn new(store: Store) -> Self {
        BlobWriter { store, pending: Vec::new(), index: HashMap::new(), pending_bytes: 0, written: 0, bytes: 0 }
    }

    pub async fn add(&mut self, blob: BlobOut) -> Result<(), StoreError> {
        self.written += 1;
        if let Some(&i) = self.index.get(&blob.id) {
            self.pending[i].1 += 1;
            return Ok(());
        }
        self.pending_bytes += blob.data.len();
        self.bytes += blob.data.len() as u64;
        self.index.insert(blob.id.clone(), self.pending.len());
        self.pending.push((blob, 1));
        if self.pending.len() >= BLOB_BATCH || self.pending_bytes >= BLOB_BATCH_BYTES {
            self.flush().await?;
        }
        Ok(())
    }

    pub async fn flush(&mut self) -> Result<(), StoreError> {
        let batch = std::mem::take(&mut self.pending);
        self.index.clear();
        self.pending_bytes = 0;
        if batch.is_empty() {
            return Ok(());
        }
        let docs = batch
            .iter()
            .map(|(b, refs)| {
                let data = Binary { subtype: BinarySubtype::Generic, bytes: b.data.clone() };
                doc! { "_id": &b.id, "size": b.size as i64, "z": b.compressed, "data": data, "refs": refs }.into()
            })
            .collect();
        let mut stored_already = Vec::new();
        for f in self.store.insert_all(coll::BLOBS, docs).await? {
            match batch.get(f.index) {
                Some(entry) if f.is_duplicate_key() => stored_already.push(entry),
                _ => tracing::warn!(error = %f.message, "a blob was refused"),
            }
        }
        let ops = stored_already
            .into_iter()
            .map(|(b, refs)| {
                let data = Binary { subtype: BinarySubtype::Generic, bytes: b.data.clone() };
                UpdateOp::upsert(
                    doc! { "_id": &b.id },
                    doc! {
                        "$setOnInsert": { "size": b.size as i64, "z": b.compressed, "data": data },
                        "$inc": { "refs": refs },
                    },
                )
            })
            .collect();
        for f in self.store.update_all(coll::BLOBS, ops).await? {
            tracing::warn!(error = %f.message, "a blob was refused");
        }
        Ok(())
    }
}

/// Takes one reference off each blob in `ids` (a released version, a superseded duplicate)
/// and deletes those no reference is left to.
///
/// Deleted here, by key, rather than found later by a sweep: a sweep needs an index on
/// `refs`, and on the development server any secondary index on `blobs` halves the rate
/// of blob inserts (bench: 13,300 vs 6,650 docs/s). The delete re-checks `refs <= 0`, so
/// a writer that counted the blob again in between keeps it, and a writer that comes
/// after stores it again with its bytes (the blob upsert).
pub async fn release_blobs(store: &Store, ids: &[String]) -> Result<(), StoreError> {
    let mut counts: HashMap<&str, i64> = HashMap::new();
    for id in ids {
        *counts.entry(id.as_str()).or_default() += 1;
    }
    let released: Vec<&str> = counts.keys().copied().collect();
    let ops = counts
        .into_iter()
        .map(|(id, n)| UpdateOp::update(doc! { "_id": id }, doc! { "$inc": { "refs": -n } }))
        .collect();
    store.update_all(coll::BLOBS, ops).await?;
    let deletes =
        released.chunks(IN_LIST_MAX).map(|chunk| doc! { "_id": { "$in": chunk }, "refs": { "$lte": 0 } }).collect();
    store.delete_all(coll::BLOBS, deletes).await?;
    Ok(())
}

/// Writes a version's tree (sorted by path) as pages of generation `generation` (random,
/// new for each tree written); returns the first path of each page.
///
/// Pages are inserted (a third of an upsert's cost on the development server) beside
/// those of any earlier result, which stay visible until this one is committed and are
/// then dropped ([`drop_tree`]). A refused page fails the job, which is tried again with a
/// new generation.
pub async fn write_tree(
    store: &Store,
    source: &str,
    generation: i64,
    tree: &[TreeEntry],
) -> Result<Vec<String>, StoreError> {
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
    if let Some(f) = store.insert_all(coll::TREES, pages).await?.first() {
        return Err(tree_refused(source, f));
    }
    Ok(firsts)
}

fn tree_refused(source: &str, f: &nodules_store::bulk::WriteFailure) -> StoreError {
    StoreError::Answer {
        op: "insert",
        collection: coll::TREES.to_string(),
        answer: Box::new(doc! { "source": source, "refused": &f.message }),
    }
}

/// Every blob generation `generation` of a version's tree references (one per file entry;
/// `None`: pages written before generations).
pub async fn tree_blobs(store: &Store, source: &str, generation: Option<i64>) -> Result<Vec<String>, StoreError> {
    let pages: Vec<Document> = store
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

/// Takes back what generation `generation` of a version's tree holds: its blobs' references
/// and its pages. The caller makes sure nothing shows it any more and that only one
/// downloader does this for it.
pub async fn drop_tree(store: &Store, source: &str, generation: Option<i64>) -> Result<(), StoreError> {
    let blobs = tree_blobs(store, source, generation).await?;
    release_blobs(store, &blobs).await?;
    store.delete_all(coll::TREES, vec![doc! { "source": source, "gen": generation }]).await?;
    Ok(())
}

/// Releases the files of `package`'s other versions that nobody asked for: their trees
/// go, their blobs lose a reference (and go once none is left).
///
/// A version is first marked released (`tree_pages` to 0, filtered on it being above 0),
/// and only the downloader whose mark matched takes the references off: two downloaders
/// committing two versions of one package, or a run that died half-way and the next one,
/// never take a version's references off twice (which would delete blobs other packages
/// still show). Dying after the mark leaves its blobs counted (disk, not a lost file).
pub async fn release_other_versions(store: &Store, package: &str, keep: &str) -> Result<u64, StoreError> {
    let others: Vec<Document> = store
        .collection(coll::SOURCES)
        .find(doc! { "package": package })
        .projection(doc! { "tree_pages": 1, "tree_gen": 1, "priority": 1, "state": 1 })
        .await
        .map_err(StoreError::mongo("find", coll::SOURCES))?
        .try_collect()
        .await
        .map_err(StoreError::mongo("find", coll::SOURCES))?;
    let mut released = 0;
    for o in others {
        let Ok(id) = o.get_str("_id") else { continue };
        let pages = o.get_i64("tree_pages").unwrap_or(0);
        let on_demand = o.get_i64("priority").unwrap_or(0) >= nodules_store::queue::ON_DEMAND_PRIORITY;
        if id == keep || pages == 0 || on_demand {
            continue;
        }
        let generation = o.get_i64("tree_gen").ok();
        // the generation read is in the filter: a redo of this version committed since
        // (a new generation) is not released, and its commit fails once this one matched
        let marked = store
            .collection(coll::SOURCES)
            .update_one(
                doc! { "_id": id, "tree_pages": { "$gt": 0_i64 }, "tree_gen": generation },
                doc! { "$set": { "tree_pages": 0_i64, "tree_firsts": [], "tree_gen": Bson::Null, "released": true } },
            )
            .await
            .map_err(StoreError::mongo("update", coll::SOURCES))?;
        if marked.matched_count == 0 {
            continue;
        }
        drop_tree(store, id, generation).await?;
        released += 1;
    }
    Ok(released)
}
