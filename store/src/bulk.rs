//! Many writes in few round trips: the `update` and `delete` commands with many
//! statements, split to stay under the server's message limits.
//!
//! `Client::bulk_write` would need MongoDB 8.0; these commands work on every supported
//! server. `ordered: false`, so one rejected statement does not stop the others; the
//! rejected ones come back with their index and message.

use mongodb::bson::{Bson, Document, doc};

use crate::db::Store;
use crate::error::{Result, StoreError};

/// Statements per command (the server allows 100,000; smaller keeps latency even).
const MAX_STATEMENTS: usize = 1000;
/// Bytes of statements per command, well under the 16 MiB command limit.
const MAX_BYTES: usize = 8 * 1024 * 1024;

/// One update statement: `filter`, update document (operators or a replacement), upsert.
#[derive(Debug, Clone)]
pub struct UpdateOp {
    pub filter: Document,
    pub update: Document,
    pub upsert: bool,
    /// Update every match (for "touch all of these" statements).
    pub multi: bool,
}

impl UpdateOp {
    /// Updates (or inserts) the one document matching `filter`.
    pub fn upsert(filter: Document, update: Document) -> Self {
        UpdateOp {
            filter,
            update,
            upsert: true,
            multi: false,
        }
    }

    /// Updates the one document matching `filter`, if any.
    pub fn update(filter: Document, update: Document) -> Self {
        UpdateOp {
            filter,
            update,
            upsert: false,
            multi: false,
        }
    }

    /// Updates every document matching `filter`.
    pub fn update_many(filter: Document, update: Document) -> Self {
        UpdateOp {
            filter,
            update,
            upsert: false,
            multi: true,
        }
    }
}

/// A statement the server refused, by its index in the caller's list.
#[derive(Debug, Clone)]
pub struct WriteFailure {
    pub index: usize,
    pub message: String,
}

impl Store {
    /// Runs every update, in commands of bounded size. Returns the statements that failed.
    pub async fn update_all(
        &self,
        collection: &str,
        ops: Vec<UpdateOp>,
    ) -> Result<Vec<WriteFailure>> {
        let statements = ops
            .into_iter()
            .map(|op| doc! { "q": op.filter, "u": op.update, "upsert": op.upsert, "multi": op.multi })
            .collect();
        self.run_statements("update", "updates", collection, statements)
            .await
    }

    /// Deletes every document matching each filter.
    pub async fn delete_all(
        &self,
        collection: &str,
        filters: Vec<Document>,
    ) -> Result<Vec<WriteFailure>> {
        let statements = filters
            .into_iter()
            .map(|q| doc! { "q": q, "limit": 0 })
            .collect();
        self.run_statements("delete", "deletes", collection, statements)
            .await
    }

    async fn run_statements(
        &self,
        command: &'static str,
        field: &str,
        collection: &str,
        statements: Vec<Document>,
    ) -> Result<Vec<WriteFailure>> {
        let mut failures = Vec::new();
        let mut chunk: Vec<Bson> = Vec::new();
        let mut chunk_start = 0;
        let mut chunk_bytes = 0;
        let total = statements.len();
        for (i, statement) in statements.into_iter().enumerate() {
            let size = statement_size(&statement, collection)?;
            if !chunk.is_empty()
                && (chunk.len() >= MAX_STATEMENTS || chunk_bytes + size > MAX_BYTES)
            {
                let sent = std::mem::take(&mut chunk);
                self.send(command, field, collection, sent, chunk_start, &mut failures)
                    .await?;
                chunk_start = i;
                chunk_bytes = 0;
            }
            chunk_bytes += size;
            chunk.push(Bson::Document(statement));
        }
        if !chunk.is_empty() {
            self.send(
                command,
                field,
                collection,
                chunk,
                chunk_start,
                &mut failures,
            )
            .await?;
        }
        debug_assert!(failures.iter().all(|f| f.index < total));
        Ok(failures)
    }

    async fn send(
        &self,
        command: &'static str,
        field: &str,
        collection: &str,
        statements: Vec<Bson>,
        offset: usize,
        failures: &mut Vec<WriteFailure>,
    ) -> Result<()> {
        let cmd = doc! { command: collection, field: statements, "ordered": false };
        let answer = self
            .database()
            .run_command(cmd)
            .await
            .map_err(StoreError::mongo(command, collection))?;
        if let Ok(errors) = answer.get_array("writeErrors") {
            for e in errors {
                let Some(e) = e.as_document() else { continue };
                let index = match e.get("index") {
                    Some(Bson::Int32(i)) => usize::try_from(*i).unwrap_or(0),
                    Some(Bson::Int64(i)) => usize::try_from(*i).unwrap_or(0),
                    _ => 0,
                };
                let message = e.get_str("errmsg").unwrap_or("write refused").to_string();
                failures.push(WriteFailure {
                    index: offset + index,
                    message,
                });
            }
        }
        Ok(())
    }
}

fn statement_size(statement: &Document, collection: &str) -> Result<usize> {
    let mut buf = Vec::new();
    statement
        .to_writer(&mut buf)
        .map_err(|source| StoreError::Encode {
            collection: collection.to_string(),
            source,
        })?;
    Ok(buf.len())
}
