//! File contents, content-addressed: `_id` = sha256 hex of the bytes, stored zstd-compressed
//! when that pays, once however many versions hold them.

use mongodb::bson::{Bson, Document, doc};

use crate::db::{Store, coll};
use crate::error::{Result, StoreError};

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
