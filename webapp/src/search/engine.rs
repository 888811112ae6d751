//! The search index on disk: opening it (rebuilding when the schema changed), the one
//! writer, commits with the sync's watermark, and the reader searches use.
//! Searching itself is in `results.rs`, suggestions in `suggest.rs`.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};

use serde::{Deserialize, Serialize};
use tantivy::{Index, IndexReader, IndexWriter, ReloadPolicy, TantivyError, Term};

use super::doc::SearchDoc;
use super::plan::Analyzers;
use super::schema::{self, Fields, SCHEMA_VERSION};
use super::segment_sets::SetsCache;

/// Indexing memory, shared by the writer's threads.
const WRITER_HEAP_BYTES: usize = 192 << 20;
/// Decompressed doc-store blocks kept per segment: the hits of a page and of suggest.
const DOC_STORE_CACHE_BLOCKS: usize = 100;

/// The index, its reader, and the only writer.
pub struct SearchEngine {
    pub(super) index: Index,
    pub(super) reader: IndexReader,
    // `None` only while `optimize` swaps it, or after it failed to make a new one
    writer: Mutex<Option<IndexWriter>>,
    pub(super) fields: Fields,
    pub(super) analyzers: Analyzers,
    dir: PathBuf,
    /// Bumped after every reload (see [`generation`](Self::generation)).
    generation: std::sync::atomic::AtomicU64,
    /// Facet bitsets and highest boost of each segment (see `segment_sets.rs`).
    pub(super) sets: SetsCache,
}

#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    #[error("search index in {dir}: cannot open it: {source}")]
    Open { dir: PathBuf, source: TantivyError },
    #[error("search index in {dir}: cannot use the directory: {source}")]
    Directory { dir: PathBuf, source: io::Error },
    #[error("search index: {0}")]
    Index(#[from] TantivyError),
    #[error("search index in {dir}: no writer after an earlier failure; restart to recover")]
    WriterLost { dir: PathBuf },
}

/// What a commit's payload holds: ours, and the caller's.
#[derive(Serialize, Deserialize)]
struct Payload {
    schema_version: u32,
    meta: String,
}

impl SearchEngine {
    /// Opens the index in `dir`, or creates it. The flag says a full build is needed: the
    /// index is new, was never committed, or was built for another [`SCHEMA_VERSION`]
    /// (its files are then deleted).
    pub fn open_or_create(dir: &Path) -> Result<(SearchEngine, bool), SearchError> {
        let dir_error = |source| SearchError::Directory { dir: dir.to_path_buf(), source };
        let open_error = |source| SearchError::Open { dir: dir.to_path_buf(), source };
        std::fs::create_dir_all(dir).map_err(dir_error)?;
        let (schema, fields) = schema::build();
        let existing = if dir.join("meta.json").exists() {
            match Index::open_in_dir(dir) {
                Ok(index) => Some(index),
                Err(error) => {
                    tracing::warn!(dir = %dir.display(), %error, "search index unreadable, rebuilding it");
                    None
                }
            }
        } else {
            None
        };
        let (index, needs_build) = match existing {
            Some(index) if index.schema() == schema && stored_schema_version(&index) == Some(SCHEMA_VERSION) => {
                (index, false)
            }
            existing => {
                if let Some(index) = existing {
                    tracing::info!(
                        dir = %dir.display(),
                        found = ?stored_schema_version(&index),
                        want = SCHEMA_VERSION,
                        "search index from another schema version, rebuilding it"
                    );
                }
                wipe_index_files(dir).map_err(dir_error)?;
                (Index::create_in_dir(dir, schema).map_err(open_error)?, true)
            }
        };
        schema::register_tokenizers(&index);
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .doc_store_cache_num_blocks(DOC_STORE_CACHE_BLOCKS)
            .try_into()
            .map_err(open_error)?;
        let writer = index.writer(WRITER_HEAP_BYTES).map_err(open_error)?;
        let analyzers = Analyzers { name: schema::name_analyzer(), text: schema::text_analyzer() };
        let engine = SearchEngine {
            index,
            reader,
            writer: Mutex::new(Some(writer)),
            fields,
            analyzers,
            dir: dir.to_path_buf(),
            generation: Default::default(),
            sets: SetsCache::default(),
        };
        engine.sets.warm(&engine.reader.searcher())?;
        Ok((engine, needs_build))
    }

    /// Adds or replaces packages, by name. Visible after [`commit`](Self::commit).
    pub fn upsert(&self, docs: &[SearchDoc]) -> Result<(), SearchError> {
        self.with_writer(|writer| {
            for doc in docs {
                // one opstamp each: a name twice in `docs` keeps the last
                writer.delete_term(Term::from_field_text(self.fields.name, &doc.name));
                writer.add_document(schema::to_document(&self.fields, doc))?;
            }
            Ok(())
        })
    }

    /// Removes packages by name. Visible after [`commit`](Self::commit).
    pub fn remove(&self, names: &[String]) -> Result<(), SearchError> {
        self.with_writer(|writer| {
            for name in names {
                writer.delete_term(Term::from_field_text(self.fields.name, name));
            }
            Ok(())
        })
    }

    /// Makes every change so far durable and searchable, with `meta` (the sync's
    /// watermark) stored alongside: [`commit_meta`](Self::commit_meta) returns it.
    pub fn commit(&self, meta: &str) -> Result<(), SearchError> {
        let payload = Payload { schema_version: SCHEMA_VERSION, meta: meta.to_string() };
        let payload = serde_json::to_string(&payload).map_err(|e| TantivyError::InternalError(e.to_string()))?;
        self.with_writer(|writer| {
            let mut prepared = writer.prepare_commit()?;
            prepared.set_payload(&payload);
            prepared.commit()?;
            Ok(())
        })?;
        self.reader.reload()?;
        self.sets.warm(&self.reader.searcher())?;
        self.generation.fetch_add(1, std::sync::atomic::Ordering::AcqRel);
        Ok(())
    }

    /// The `meta` of the last commit, if any.
    pub fn commit_meta(&self) -> Option<String> {
        let payload = self.index.load_metas().ok()?.payload?;
        serde_json::from_str::<Payload>(&payload).ok().map(|p| p.meta)
    }

    /// Drops every document, for a rebuild. Searches see the old documents until the next
    /// [`commit`](Self::commit), which should follow the re-added ones.
    pub fn clear(&self) -> Result<(), SearchError> {
        self.with_writer(|writer| writer.delete_all_documents().map(drop))
    }

    /// Waits for background merges, then merges every segment into one: searches get
    /// faster. For after a full build; call it after a commit (uncommitted changes are lost).
    pub fn optimize(&self) -> Result<(), SearchError> {
        let mut slot = self.lock_writer();
        let writer = slot.take().ok_or_else(|| SearchError::WriterLost { dir: self.dir.clone() })?;
        let waited = writer.wait_merging_threads();
        let mut writer = self.index.writer(WRITER_HEAP_BYTES)?;
        waited?;
        let segments = self.index.searchable_segment_ids()?;
        let merged = if segments.len() > 1 { writer.merge(&segments).wait().map(drop) } else { Ok(()) };
        *slot = Some(writer);
        drop(slot);
        merged?;
        self.reader.reload()?;
        self.sets.warm(&self.reader.searcher())?;
        self.generation.fetch_add(1, std::sync::atomic::Ordering::AcqRel);
        Ok(())
    }

    /// A number that changes whenever searches may answer differently (each reload after
    /// a commit): cached search answers are keyed by it.
    pub fn generation(&self) -> u64 {
        self.generation.load(std::sync::atomic::Ordering::Acquire)
    }

    /// Packages in the last commit.
    pub fn doc_count(&self) -> u64 {
        self.reader.searcher().num_docs()
    }

    /// Segments in the last commit (each adds a little to every search).
    pub fn segment_count(&self) -> usize {
        self.reader.searcher().segment_readers().len()
    }

    fn lock_writer(&self) -> MutexGuard<'_, Option<IndexWriter>> {
        // a panic while indexing leaves the writer usable: Tantivy rolls back on error
        self.writer.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn with_writer<T>(&self, f: impl FnOnce(&mut IndexWriter) -> tantivy::Result<T>) -> Result<T, SearchError> {
        let mut slot = self.lock_writer();
        let writer = slot.as_mut().ok_or_else(|| SearchError::WriterLost { dir: self.dir.clone() })?;
        Ok(f(writer)?)
    }
}

fn stored_schema_version(index: &Index) -> Option<u32> {
    let payload = index.load_metas().ok()?.payload?;
    serde_json::from_str::<Payload>(&payload).ok().map(|p| p.schema_version)
}

/// Deletes the files Tantivy writes in `dir`, and nothing else: `--index-dir` may point
/// at a directory that holds other things.
fn wipe_index_files(dir: &Path) -> io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        let segment_file =
            name.split('.').next().is_some_and(|stem| stem.len() == 32 && stem.bytes().all(|b| b.is_ascii_hexdigit()));
        let index_file = matches!(name, "meta.json" | ".managed.json") || name.starts_with(".tantivy-");
        if (segment_file || index_file) && entry.file_type()?.is_file() {
            std::fs::remove_file(entry.path())?;
        }
    }
    Ok(())
}
