//! The last run of each job, for `status`.

use mongodb::bson::{DateTime, Document, doc};

use crate::db::{Store, coll};
use crate::error::{Result, StoreError};

impl Store {
    /// Records a finished run of `job` (`ingest`, `fetch`, `follow`, …).
    pub async fn record_run(
        &self,
        job: &str,
        started_at: DateTime,
        ok: bool,
        summary: &str,
        counts: Document,
    ) -> Result<()> {
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
