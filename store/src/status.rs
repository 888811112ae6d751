//! `status`'s report: what the database holds and what the jobs did — counts by state,
//! checkpoints, leases, last runs, the current change number.

use futures::TryStreamExt;
use mongodb::bson::{Document, doc};

use crate::db::{Store, coll};
use crate::error::{Result, StoreError};
use crate::model::PackageState;
use crate::seq::PACKAGE_SEQ;

impl Store {
    /// The report as one document (`packages` by state, `stale`, `rejects`, `seq`,
    /// `checkpoints`, `leases` without their owner tokens, `runs`, `github` repositories, how
    /// many were never fetched, are due (data older than a day) and are failing), printed as text or JSON.
    pub async fn status_report(&self) -> Result<Document> {
        // Active packages are all but the few of the other states: counted directly they are a
        // walk over the whole registry, which the development server answers by holding every
        // record (it was killed for memory at 24 GB on 1M packages). The collection's own count
        // (metadata on MongoDB, a walk that holds nothing on the development server) and the
        // rare states read by the `state` index cost little on either.
        let total =
            self.packages().estimated_document_count().await.map_err(StoreError::mongo("count", coll::PACKAGES))?;
        let mut rare = Document::new();
        let mut not_active = 0;
        for state in [PackageState::Unpublished, PackageState::Deleted, PackageState::Stub] {
            let n = self.count_few(coll::PACKAGES, doc! { "state": state.as_str() }).await?;
            not_active += n;
            rare.insert(state.as_str(), count(n));
        }
        let mut by_state = doc! { PackageState::Active.as_str(): count(total.saturating_sub(not_active)) };
        by_state.extend(rare);
        let stale = self.count_few(coll::PACKAGES, doc! { "stale": true }).await?; // by its partial index
        let rejects = self
            .collection(coll::REJECTS)
            .estimated_document_count()
            .await
            .map_err(StoreError::mongo("count", coll::REJECTS))?;
        let checkpoints = self.checkpoints().await?;
        let leases: Vec<Document> = self
            .collection(coll::LOCKS)
            .find(doc! {})
            .projection(doc! { "owner": 0 })
            .await
            .map_err(StoreError::mongo("find", coll::LOCKS))?
            .try_collect()
            .await
            .map_err(StoreError::mongo("find", coll::LOCKS))?;
        let runs = self.last_runs().await?;
        let seq = self.current_seq(PACKAGE_SEQ).await?;
        let repositories = self
            .collection(coll::GITHUB)
            .estimated_document_count()
            .await
            .map_err(StoreError::mongo("count", coll::GITHUB))?;
        // never fetched: their `due_at` is the epoch or before (see `github`), by its index
        let not_fetched = self
            .count_few(coll::GITHUB, doc! { "due_at": { "$lte": mongodb::bson::DateTime::from_millis(0) } })
            .await?;
        // due (never fetched, or data older than the refresh's default `--max-age` of a day),
        // and failing: by their indexes
        let day_ago =
            mongodb::bson::DateTime::from_millis(mongodb::bson::DateTime::now().timestamp_millis() - 86_400_000);
        let due = self.count_few(coll::GITHUB, doc! { "due_at": { "$lte": day_ago } }).await?;
        let failing = self.count_few(coll::GITHUB, doc! { "failures": { "$gt": 0 } }).await?;
        Ok(doc! {
            "packages": by_state,
            "stale": count(stale),
            "rejects": count(rejects),
            "seq": seq,
            "checkpoints": checkpoints,
            "leases": leases,
            "runs": runs,
            "github": {
                "repositories": count(repositories), "not_fetched": count(not_fetched),
                "due": count(due), "failing": count(failing),
            },
        })
    }
}

fn count(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}
