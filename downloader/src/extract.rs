//! Runs the unpacker off the async runtime and turns its entries into a file tree, the
//! tarball's `package.json`, and blobs streamed to the writer as they come (never the whole
//! unpacked package in memory).

use std::collections::BTreeMap;

use bytes::Bytes;
use nodules_npm::files::{Content, content_of, language_of};
use nodules_store::model::{EntryKind, TreeEntry};
use tokio::sync::mpsc;

use crate::unpack::{Caps, Entry, Outcome, UnpackError, unpack};
use nodules_store::blobs::{EncodedBlob as BlobOut, encode as encode_blob};

/// What extraction produced, besides the blobs already sent.
#[derive(Debug)]
pub struct Extracted {
    /// Sorted by path; for a duplicated path, the last entry (as npm does).
    pub tree: Vec<TreeEntry>,
    /// The root `package.json`'s bytes, when present and stored.
    pub manifest: Option<Vec<u8>>,
    pub outcome: Outcome,
    /// Blobs of entries a later duplicate replaced (their references are taken back).
    pub superseded: Vec<String>,
}

fn as_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// Unpacks `tarball`. With `blobs`, each stored file's content is sent there (blocking
/// when the writer is behind, which bounds memory).
pub fn extract(tarball: Bytes, caps: &Caps, blobs: Option<mpsc::Sender<BlobOut>>) -> Result<Extracted, UnpackError> {
    let mut tree: BTreeMap<String, TreeEntry> = BTreeMap::new();
    let mut manifest = None;
    let mut superseded = Vec::new();
    let mut sink = |entry: Entry| -> Result<(), String> {
        let (path, te) = match entry {
            Entry::File(f) => {
                let id = hex::encode(f.sha256);
                let stored = f.content.is_some();
                let content_kind = f.content.as_deref().map(content_of);
                if let Some(content) = f.content {
                    if f.path == "package.json" {
                        manifest = Some(content.clone());
                    }
                    if let Some(tx) = &blobs {
                        tx.blocking_send(encode_blob(id.clone(), &content))
                            .map_err(|_| "the blob writer stopped".to_string())?;
                    }
                }
                let (lines, longest_line) = match content_kind {
                    Some(Content::Text { lines, longest }) => (Some(as_i64(lines)), Some(as_i64(longest))),
                    _ => (None, None),
                };
                let te = TreeEntry {
                    language: language_of(&f.path).map(|l| l.name.to_string()),
                    path: f.path.clone(),
                    size: as_i64(f.size),
                    mode: f.mode,
                    kind: EntryKind::File,
                    blob: stored.then(|| id.clone()),
                    sha256: Some(id),
                    link_target: None,
                    lines,
                    longest_line,
                    binary: content_kind == Some(Content::Binary),
                };
                (f.path, te)
            }
            Entry::Link { path, kind, target } => {
                let te = TreeEntry {
                    path: path.clone(),
                    size: 0,
                    mode: 0o777,
                    kind,
                    blob: None,
                    sha256: None,
                    link_target: Some(target),
                    language: None,
                    lines: None,
                    longest_line: None,
                    binary: false,
                };
                (path, te)
            }
        };
        if let Some(old) = tree.insert(path, te)
            && blobs.is_some()
        {
            superseded.extend(old.blob);
        }
        Ok(())
    };
    let outcome = unpack(std::io::Cursor::new(tarball), caps, &mut sink)?;
    Ok(Extracted { tree: tree.into_values().collect(), manifest, outcome, superseded })
}
