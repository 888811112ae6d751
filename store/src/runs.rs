//! The last run of each job, for `status`.

use mongodb::bson::{Bson, DateTime, Document, doc};

use crate::db::{Store, coll};
use crate::error::{Result, StoreError};

impl Store {
    /// Records a finished run of `job` (`ingest`, `fetch`, `follow`, …) with its summary
    /// line and its counts by name.
    pub async fn record_run(
        &self,
        job: &str,
        started_at: DateTime,
        ok: bool,
        summary: &str,
        counts: &[(&str, u64)],
    ) -> Result<()> {
        let counts: Document = counts
            .iter()
            .map(|&(name, n)| (name.to_string(), Bson::Int64(i64::try_from(n).unwrap_or(i64::MAX))))
            .collect();
        self.collection(coll::RUNS)
            .update_one(
                doc! { "_id": job },
                doc! { "$set": {
                    "started_at": started_at,
                    "finished_at": DateTime::now(),
                    "ok": ok,
                    "summary": summary,
                    "counts": counts,
                } },
            )
            .upsert(true)
            .await
            .map_err(StoreError::mongo("update", coll::RUNS))?;
        Ok(())
    }

    /// Every job's last run.
    pub async fn last_runs(&self) -> Result<Vec<Document>> {
        use futures::TryStreamExt;
        self.collection(coll::RUNS)
            .find(doc! {})
            .sort(doc! { "_id": 1 })
            .await
            .map_err(StoreError::mongo("find", coll::RUNS))?
            .try_collect()
            .await
            .map_err(StoreError::mongo("find", coll::RUNS))
    }
}
