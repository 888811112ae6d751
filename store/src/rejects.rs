//! Documents that cannot be a package, kept with the reason so an operator can look.

use mongodb::bson::{DateTime, doc};

use crate::bulk::UpdateOp;
use crate::db::{Store, coll};
use crate::error::Result;

/// One rejected input.
#[derive(Debug, Clone)]
pub struct Reject {
    /// The package it named, when it named one.
    pub package: Option<String>,
    /// Where it came from: `dump.json:1234`, `fetch`, `follow seq 42`.
    pub source: String,
    pub reason: String,
}

impl Store {
    /// Records rejects: one record per package (the latest reason), or per source line
    /// when the document named no package.
    pub async fn record_rejects(&self, rejects: &[Reject]) -> Result<()> {
        if rejects.is_empty() {
            return Ok(());
        }
        let now = DateTime::now();
        let ops = rejects
            .iter()
            .map(|r| {
                let id = match &r.package {
                    Some(p) => format!("package:{p}"),
                    None => format!("source:{}", r.source),
                };
                UpdateOp::upsert(
                    doc! { "_id": id },
                    doc! { "$set": {
                        "package": r.package.as_deref(),
                        "source": &r.source,
                        "reason": &r.reason,
                        "at": now,
                    } },
                )
            })
            .collect();
        self.update_all(coll::REJECTS, ops).await?;
        Ok(())
    }
}
