//! Many writes in few round trips: the `update` and `delete` commands with many
//! statements, split to stay under the server's message limits.
//!
//! `Client::bulk_write` would need MongoDB 8.0; these commands work on every supported
//! server. `ordered: false`, so one rejected statement does not stop the others; the
//! rejected ones come back with their index and message.

use mongodb::bson::{Bson, Document, RawArrayBuf, RawDocumentBuf, doc};

use crate::db::Store;
use crate::error::{Result, StoreError};

/// Statements per command (the server allows 100,000; smaller keeps latency even).
const MAX_STATEMENTS: usize = 1000;
/// Bytes of statements per command, well under the 16 MiB command limit.
const MAX_BYTES: usize = 8 * 1024 * 1024;

/// Keys per `$in` list of a lookup by key (`_id`). The development server checks every
/// document found against the whole list, so its cost per document grows with the list's
/// length; measured on 20,000 records of ~3 KB fetched by `_id` (`bench/in_lists.py`):
/// 0.141 ms per document at 100 keys, 0.091 at 50, **0.083 at 25**, 0.097
/// at 10 (round trips take over). A real MongoDB is indifferent; 25 keeps its round trips few.
pub const IN_LIST_MAX: usize = 25;

/// Values per `$in` list of a lookup by a field that matches many documents per value (the
/// edges of a list by `target`): every match is checked against the whole list, so short
/// lists win by more. Measured on 131,209 edges of 400 targets: 95.6 µs per edge at 100
/// targets per query, 40.3 at 25, **30.3 at 10**, 24.5 at 1 (one round trip per target).
pub const IN_MANY_MAX: usize = 10;

/// Documents per cursor batch of a long scan. The driver's default fills 16 MB per
/// `getMore`, which keeps the single-threaded development server busy past the driver's
/// 10 s heartbeat on large collections: the connection is then dropped as dead and the
/// command fails (seen at 100k packages: `dependents --rerank` ended with "server monitor
/// timeout"). Small batches keep every command short.
pub const SCAN_BATCH: u32 = 2000;

/// A filter or update, as a document or already encoded. Large batches (thousands of
/// version records) are built as raw BSON: a `Document` tree costs ten times the bytes.
#[derive(Debug, Clone)]
pub enum Body {
    Doc(Document),
    Raw(RawDocumentBuf),
}

impl From<Document> for Body {
    fn from(d: Document) -> Self {
        Body::Doc(d)
    }
}

impl From<RawDocumentBuf> for Body {
    fn from(d: RawDocumentBuf) -> Self {
        Body::Raw(d)
    }
}

impl Body {
    fn into_raw(self) -> std::result::Result<RawDocumentBuf, String> {
        match self {
            Body::Raw(r) => Ok(r),
            Body::Doc(d) => RawDocumentBuf::from_document(&d).map_err(|e| format!("cannot encode: {e}")),
        }
    }
}

/// One update statement: `filter`, update document (operators or a replacement), upsert.
#[derive(Debug, Clone)]
pub struct UpdateOp {
    pub filter: Body,
    pub update: Body,
    pub upsert: bool,
    /// Update every match (for "touch all of these" statements).
    pub multi: bool,
}

impl UpdateOp {
    /// Updates (or inserts) the one document matching `filter`.
    pub fn upsert(filter: impl Into<Body>, update: impl Into<Body>) -> Self {
        UpdateOp { filter: filter.into(), update: update.into(), upsert: true, multi: false }
    }

    /// Updates the one document matching `filter`, if any.
    pub fn update(filter: impl Into<Body>, update: impl Into<Body>) -> Self {
        UpdateOp { filter: filter.into(), update: update.into(), upsert: false, multi: false }
    }

    /// Updates every document matching `filter`.
    pub fn update_many(filter: impl Into<Body>, update: impl Into<Body>) -> Self {
        UpdateOp { filter: filter.into(), update: update.into(), upsert: false, multi: true }
    }
}

/// A statement the server (or the encoder) refused, by its index in the caller's list.
#[derive(Debug, Clone)]
pub struct WriteFailure {
    pub index: usize,
    pub message: String,
    /// The server's error code (11000: duplicate key), when it gave one.
    pub code: Option<i32>,
}

impl WriteFailure {
    pub fn is_duplicate_key(&self) -> bool {
        self.code == Some(11000)
    }
}

impl Store {
    /// Runs every update, in commands of bounded size. Returns the statements that failed.
    pub async fn update_all(&self, collection: &str, ops: Vec<UpdateOp>) -> Result<Vec<WriteFailure>> {
        let statements = ops.into_iter().map(|op| {
            let mut st = RawDocumentBuf::new();
            st.append("q", op.filter.into_raw()?);
            st.append("u", op.update.into_raw()?);
            st.append("upsert", op.upsert);
            st.append("multi", op.multi);
            Ok(st)
        });
        self.run_statements("update", "updates", collection, statements).await
    }

    /// Inserts documents; those refused (a duplicate `_id`, …) come back as failures.
    pub async fn insert_all(&self, collection: &str, docs: Vec<Body>) -> Result<Vec<WriteFailure>> {
        self.run_statements("insert", "documents", collection, docs.into_iter().map(Body::into_raw)).await
    }

    /// Inserts `docs` (what is new costs the development server a third of an upsert); a
    /// document refused as a duplicate (a batch replayed after a crash) is written with
    /// `fallback(index)` instead (`None`: the stored one stands). Returns the statements that still failed, by index in `docs`.
    pub async fn insert_or_update(
        &self,
        collection: &str,
        docs: Vec<Body>,
        fallback: impl Fn(usize) -> Option<UpdateOp>,
    ) -> Result<Vec<WriteFailure>> {
        let mut failed = Vec::new();
        let mut retry = Vec::new();
        let mut retried = Vec::new();
        for f in self.insert_all(collection, docs).await? {
            if !f.is_duplicate_key() {
                failed.push(f);
            } else if let Some(op) = fallback(f.index) {
                retried.push(f.index);
                retry.push(op);
            }
        }
        for mut f in self.update_all(collection, retry).await? {
            f.index = retried.get(f.index).copied().unwrap_or(f.index);
            failed.push(f);
        }
        Ok(failed)
    }

    /// Inserts each `(_id, fields)` as a new document; one already there (a replayed batch)
    /// takes the fields as a `$set` instead. Failures are by index in `records`.
    pub async fn insert_or_set(&self, collection: &str, records: &[(String, Document)]) -> Result<Vec<WriteFailure>> {
        let docs = records
            .iter()
            .map(|(id, fields)| {
                let mut d = doc! { "_id": id };
                d.extend(fields.clone());
                d.into()
            })
            .collect();
        let set_instead = |i: usize| {
            let (id, fields) = records.get(i)?;
            Some(UpdateOp::upsert(doc! { "_id": id }, doc! { "$set": fields.clone() }))
        };
        self.insert_or_update(collection, docs, set_instead).await
    }

    /// Deletes every document matching each filter.
    pub async fn delete_all(&self, collection: &str, filters: Vec<Document>) -> Result<Vec<WriteFailure>> {
        let statements = filters.into_iter().map(|q| {
            let mut st = RawDocumentBuf::new();
            st.append("q", Body::Doc(q).into_raw()?);
            st.append("limit", 0);
            Ok(st)
        });
        self.run_statements("delete", "deletes", collection, statements).await
    }

    async fn run_statements(
        &self,
        command: &'static str,
        field: &str,
        collection: &str,
        statements: impl Iterator<Item = std::result::Result<RawDocumentBuf, String>>,
    ) -> Result<Vec<WriteFailure>> {
        let mut failures = Vec::new();
        // (index in the caller's list) of each statement in the chunk
        let mut chunk: Vec<(usize, RawDocumentBuf)> = Vec::new();
        let mut chunk_bytes = 0;
        for (i, statement) in statements.enumerate() {
            let statement = match statement {
                Ok(s) => s,
                Err(message) => {
                    failures.push(WriteFailure { index: i, message, code: None });
                    continue;
                }
            };
            let size = statement.as_bytes().len();
            if !chunk.is_empty() && (chunk.len() >= MAX_STATEMENTS || chunk_bytes + size > MAX_BYTES) {
                self.send(command, field, collection, std::mem::take(&mut chunk), &mut failures).await?;
                chunk_bytes = 0;
            }
            chunk_bytes += size;
            chunk.push((i, statement));
        }
        if !chunk.is_empty() {
            self.send(command, field, collection, chunk, &mut failures).await?;
        }
        Ok(failures)
    }

    async fn send(
        &self,
        command: &'static str,
        field: &str,
        collection: &str,
        statements: Vec<(usize, RawDocumentBuf)>,
        failures: &mut Vec<WriteFailure>,
    ) -> Result<()> {
        let mut array = RawArrayBuf::new();
        let mut indexes = Vec::with_capacity(statements.len());
        for (i, st) in statements {
            indexes.push(i);
            array.push(st);
        }
        let mut cmd = RawDocumentBuf::new();
        cmd.append(command, collection);
        cmd.append(field, array);
        cmd.append("ordered", false);
        let answer = self.database().run_raw_command(cmd).await.map_err(StoreError::mongo(command, collection))?;
        if let Ok(errors) = answer.get_array("writeErrors") {
            for e in errors {
                let Some(e) = e.as_document() else { continue };
                let at = match e.get("index") {
                    Some(Bson::Int32(i)) => usize::try_from(*i).unwrap_or(0),
                    Some(Bson::Int64(i)) => usize::try_from(*i).unwrap_or(0),
                    _ => 0,
                };
                let message = e.get_str("errmsg").unwrap_or("write refused").to_string();
                let code = match e.get("code") {
                    Some(Bson::Int32(c)) => Some(*c),
                    Some(Bson::Int64(c)) => i32::try_from(*c).ok(),
                    _ => None,
                };
                failures.push(WriteFailure { index: indexes.get(at).copied().unwrap_or(at), message, code });
            }
        }
        Ok(())
    }
}
