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
        debug_assert!(JOBS.contains(&job), "{job} is not in runs::JOBS: /metrics would not show it");
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

    /// The last run of each of [`JOBS`], by job name, read by key (a `/metrics` scrape
    /// reads them too: never a scan).
    pub async fn last_runs(&self) -> Result<Vec<Document>> {
        use futures::TryStreamExt;
        let mut docs: Vec<Document> = self
            .collection(coll::RUNS)
            .find(doc! { "_id": { "$in": JOBS } })
            .await
            .map_err(StoreError::mongo("find", coll::RUNS))?
            .try_collect()
            .await
            .map_err(StoreError::mongo("find", coll::RUNS))?;
        docs.sort_by(|a, b| a.get_str("_id").ok().cmp(&b.get_str("_id").ok()));
        Ok(docs)
    }
}

/// A job's last run, as `/metrics` shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct JobRun {
    pub job: String,
    /// When it finished, in ms since the epoch.
    pub finished_at_ms: Option<i64>,
    pub ok: bool,
    /// Its counts by name (`ingested`, `failed`, …).
    pub counts: Vec<(String, i64)>,
}

/// Every job that records its runs (`record_run`'s `job`): `/metrics` reads them by key.
pub const JOBS: &[&str] =
    &["ingest", "fetch", "follow", "rerank", "rebuild", "trees", "sitemaps", "download", "github"];

impl Store {
    /// The last run of each of [`JOBS`], typed.
    pub async fn job_runs(&self) -> Result<Vec<JobRun>> {
        let docs = self.last_runs().await?;
        Ok(docs
            .iter()
            .filter_map(|d| {
                let counts = d
                    .get_document("counts")
                    .map(|c| c.keys().filter_map(|k| Some((k.clone(), crate::model::int_field(c, k)?))).collect())
                    .unwrap_or_default();
                Some(JobRun {
                    job: d.get_str("_id").ok()?.to_string(),
                    finished_at_ms: d.get_datetime("finished_at").ok().map(|t| t.timestamp_millis()),
                    ok: d.get_bool("ok").unwrap_or(false),
                    counts,
                })
            })
            .collect())
    }
}
