//! File contents, content-addressed: `_id` = sha256 hex of the bytes, stored zstd-compressed
//! when that pays, once however many versions hold them.

use std::collections::HashMap;

use mongodb::bson::{Binary, Bson, Document, doc, spec::BinarySubtype};

use crate::bulk::{IN_LIST_MAX, UpdateOp};
use crate::db::{Store, coll};
use crate::error::{Result, StoreError};

/// Blobs per write command, and bytes.
const BLOB_BATCH: usize = 500;
const BLOB_BATCH_BYTES: usize = 4 << 20;

/// Content smaller than this is stored as is (compression would not pay).
const COMPRESS_FROM: usize = 64;

/// A blob ready to store: `data` is compressed when `compressed`.
#[derive(Debug)]
pub struct EncodedBlob {
    pub id: String,
    pub size: u64,
    pub compressed: bool,
    pub data: Vec<u8>,
}

/// zstd level: 1, not the library's default 3. Compressing was the largest item of the
/// downloader's own CPU (perf: `ZSTD_compressBlock_doubleFast`, 19%); on the bench's 352
/// real tarballs level 1 stores blobs 6.6% larger (2,957 vs 2,773 B on average) and takes
/// 1.3 s less of the downloader's CPU (8.9 vs 10.2 s over the run, two runs each).
const LEVEL: i32 = 1;

thread_local! {
    /// One compression context per thread: creating one per blob (`zstd::bulk::compress`)
    /// cost a tenth of the downloader's CPU (`ZSTD_createCCtx` and its memset).
    static COMPRESSOR: std::cell::RefCell<Option<zstd::bulk::Compressor<'static>>> =
        const { std::cell::RefCell::new(None) };
}

fn compress(content: &[u8]) -> Option<Vec<u8>> {
    COMPRESSOR.with(|c| {
        let mut c = c.borrow_mut();
        if c.is_none() {
            *c = zstd::bulk::Compressor::new(LEVEL).ok();
        }
        c.as_mut()?.compress(content).ok()
    })
}

/// Compresses `content` when that saves a tenth or more.
pub fn encode(id: String, content: &[u8]) -> EncodedBlob {
    if content.len() >= COMPRESS_FROM
        && let Some(z) = compress(content)
        && z.len() < content.len() * 9 / 10
    {
        return EncodedBlob { id, size: content.len() as u64, compressed: true, data: z };
    }
    EncodedBlob { id, size: content.len() as u64, compressed: false, data: content.to_vec() }
}

/// The bytes of a stored blob document, at most `max` of them (`None` if unreadable).
pub fn decode(doc: &Document, max: usize) -> Option<Vec<u8>> {
    let data = match doc.get("data") {
        Some(Bson::Binary(b)) => &b.bytes,
        _ => return None,
    };
    if doc.get_bool("z").unwrap_or(false) {
        use std::io::Read;
        let mut out = Vec::new();
        zstd::stream::read::Decoder::new(&data[..]).ok()?.take(max as u64).read_to_end(&mut out).ok()?;
        Some(out)
    } else {
        Some(data[..data.len().min(max)].to_vec())
    }
}

impl Store {
    /// A blob's bytes (at most `max`), by id.
    pub async fn blob(&self, id: &str, max: usize) -> Result<Option<Vec<u8>>> {
        let found = self
            .collection(coll::BLOBS)
            .find_one(doc! { "_id": id })
            .await
            .map_err(StoreError::mongo("find", coll::BLOBS))?;
        Ok(found.as_ref().and_then(|d| decode(d, max)))
    }
}

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
    pending: Vec<(EncodedBlob, i64)>,
    index: HashMap<String, usize>,
    pending_bytes: usize,
    pub written: u64,
    pub bytes: u64,
}

impl BlobWriter {
    pub fn new(store: Store) -> Self {
        BlobWriter { store, pending: Vec::new(), index: HashMap::new(), pending_bytes: 0, written: 0, bytes: 0 }
    }

    pub async fn add(&mut self, blob: EncodedBlob) -> Result<()> {
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

    pub async fn flush(&mut self) -> Result<()> {
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

impl Store {
    /// Takes one reference off each blob in `ids` (a released version, a superseded
    /// duplicate) and deletes those no reference is left to.
    ///
    /// Deleted here, by key, rather than found later by a sweep: a sweep needs an index on
    /// `refs`, and on the development server any secondary index on `blobs` halves the rate
    /// of blob inserts (bench: 13,300 vs 6,650 docs/s). The delete re-checks `refs <= 0`, so
    /// a writer that counted the blob again in between keeps it, and a writer that comes
    /// after stores it again with its bytes (the blob upsert).
    pub async fn release_blobs(&self, ids: &[String]) -> Result<()> {
        let mut counts: HashMap<&str, i64> = HashMap::new();
        for id in ids {
            *counts.entry(id.as_str()).or_default() += 1;
        }
        let released: Vec<&str> = counts.keys().copied().collect();
        let ops = counts
            .into_iter()
            .map(|(id, n)| UpdateOp::update(doc! { "_id": id }, doc! { "$inc": { "refs": -n } }))
            .collect();
        self.update_all(coll::BLOBS, ops).await?;
        let deletes =
            released.chunks(IN_LIST_MAX).map(|chunk| doc! { "_id": { "$in": chunk }, "refs": { "$lte": 0 } }).collect();
        self.delete_all(coll::BLOBS, deletes).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mongodb::bson::{Binary, spec::BinarySubtype};

    #[test]
    fn round_trip() {
        for content in [b"tiny".to_vec(), "x".repeat(10_000).into_bytes()] {
            let e = encode("id".into(), &content);
            let d = doc! { "z": e.compressed, "data": Binary { subtype: BinarySubtype::Generic, bytes: e.data } };
            assert_eq!(decode(&d, usize::MAX), Some(content.clone()));
            assert_eq!(decode(&d, 3).map(|v| v.len()), Some(3.min(content.len())));
        }
    }
}
