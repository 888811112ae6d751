//! Stored packages due for a refresh (`fetch --stale AGE`), streamed.

use futures::stream::BoxStream;
use futures::{StreamExt, TryStreamExt};
use mongodb::bson::{DateTime, Document, doc};

use crate::db::Store;

/// A package to fetch again, with the validators of its last answer (a 304 is cheap).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DueForRefresh {
    pub name: String,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
}

impl Store {
    /// Stored packages to refresh: those marked stale, those written by a normalizer older
    /// than `normalizer`, then those checked before `cutoff`, oldest first. Streamed, not
    /// loaded; a failed read is logged and ends its part of the stream.
    pub fn due_for_refresh(&self, normalizer: u32, cutoff: DateTime) -> BoxStream<'static, DueForRefresh> {
        let queries: Vec<(Document, Option<Document>)> = vec![
            (doc! { "stale": true }, None),
            (doc! { "normalizer": { "$lt": i64::from(normalizer) } }, None),
            (doc! { "checked_at": { "$lt": cutoff } }, Some(doc! { "checked_at": 1 })),
        ];
        let store = self.clone();
        futures::stream::iter(queries)
            .then(move |(filter, sort)| {
                let store = store.clone();
                async move {
                    let packages = store.packages();
                    let mut find = packages
                        .find(filter)
                        .projection(doc! { "etag": 1, "last_modified": 1 })
                        .batch_size(crate::bulk::SCAN_BATCH);
                    if let Some(sort) = sort {
                        find = find.sort(sort);
                    }
                    match find.await {
                        Ok(cursor) => cursor
                            .map_err(|e| tracing::error!(error = %e, "reading packages due for refresh failed"))
                            .take_while(|r| futures::future::ready(r.is_ok()))
                            .filter_map(|r| futures::future::ready(r.ok()))
                            .boxed(),
                        Err(e) => {
                            tracing::error!(error = %e, "reading packages due for refresh failed");
                            futures::stream::empty().boxed()
                        }
                    }
                }
            })
            .flatten()
            .filter_map(|d| {
                futures::future::ready(d.get_str("_id").ok().map(|name| DueForRefresh {
                    name: name.to_string(),
                    etag: d.get_str("etag").ok().map(str::to_string),
                    last_modified: d.get_str("last_modified").ok().map(str::to_string),
                }))
            })
            .boxed()
    }
}
