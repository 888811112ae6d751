//! Leases in MongoDB: keep two runs of a job (two indexers) from writing at once.
//!
//! A lease is one document per job with an owner and an expiry. Taking it is one
//! `find_one_and_update` that matches only an expired lease (or our own); a live one
//! makes the upsert collide on `_id`, and the caller learns who holds it. The holder
//! renews it in the background; a crashed holder's lease simply expires.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use mongodb::bson::{DateTime, Document, doc};
use mongodb::error::{ErrorKind, WriteFailure};
use tokio::task::JoinHandle;

use crate::db::{Store, coll};
use crate::error::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum LeaseError {
    #[error("another `{job}` run holds the lease: {holder}, until {expires_at} (lease expires if it died)")]
    Held { job: String, holder: String, expires_at: String },
    #[error("the `{job}` lease was lost (renewal failed or another run took it over); stopping before writing more")]
    Lost { job: String },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A held lease. Renewed every third of its length until released or dropped.
#[derive(Debug)]
pub struct Lease {
    store: Store,
    job: String,
    owner: String,
    lost: Arc<AtomicBool>,
    renewer: JoinHandle<()>,
}

impl Store {
    /// Takes the lease for `job`, or says who holds it.
    pub async fn acquire_lease(&self, job: &str, ttl: Duration) -> Result<Lease, LeaseError> {
        let owner = owner_id();
        let now = DateTime::now();
        let filter = doc! { "_id": job, "$or": [ { "expires_at": { "$lt": now } }, { "owner": &owner } ] };
        let update = doc! { "$set": {
            "owner": &owner,
            "holder": holder_description(),
            "acquired_at": now,
            "expires_at": expiry(ttl),
        } };
        let locks = self.collection(coll::LOCKS);
        match locks.find_one_and_update(filter, update).upsert(true).await {
            Ok(_) => {}
            Err(e) if is_duplicate_key(&e) => {
                let current = locks
                    .find_one(doc! { "_id": job })
                    .await
                    .map_err(StoreError::mongo("find", coll::LOCKS))?
                    .unwrap_or_default();
                return Err(held(job, &current));
            }
            Err(e) => return Err(StoreError::mongo("findAndModify", coll::LOCKS)(e).into()),
        }
        let lost = Arc::new(AtomicBool::new(false));
        let renewer = tokio::spawn(renew(self.clone(), job.to_string(), owner.clone(), ttl, lost.clone()));
        Ok(Lease { store: self.clone(), job: job.to_string(), owner, lost, renewer })
    }
}

impl Lease {
    /// Fails once the lease is lost: call before each write.
    pub fn check(&self) -> Result<(), LeaseError> {
        if self.lost.load(Ordering::Relaxed) {
            return Err(LeaseError::Lost { job: self.job.clone() });
        }
        Ok(())
    }

    /// Gives the lease back so the next run need not wait for it to expire.
    pub async fn release(self) -> Result<(), StoreError> {
        self.renewer.abort();
        self.store
            .collection(coll::LOCKS)
            .delete_one(doc! { "_id": &self.job, "owner": &self.owner })
            .await
            .map_err(StoreError::mongo("delete", coll::LOCKS))?;
        Ok(())
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        self.renewer.abort();
    }
}

async fn renew(store: Store, job: String, owner: String, ttl: Duration, lost: Arc<AtomicBool>) {
    let every = (ttl / 3).max(Duration::from_millis(100));
    loop {
        tokio::time::sleep(every).await;
        let result = store
            .collection(coll::LOCKS)
            .update_one(doc! { "_id": &job, "owner": &owner }, doc! { "$set": { "expires_at": expiry(ttl) } })
            .await;
        match result {
            Ok(r) if r.matched_count == 1 => {}
            Ok(_) => {
                tracing::error!(job = %job, "lease taken over by another run");
                lost.store(true, Ordering::Relaxed);
                return;
            }
            // A passing database error: try again before the lease runs out.
            Err(e) => tracing::warn!(job = %job, error = %e, "cannot renew lease, retrying"),
        }
    }
}

fn expiry(ttl: Duration) -> DateTime {
    let ms = i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX / 2);
    DateTime::from_millis(DateTime::now().timestamp_millis().saturating_add(ms))
}

fn held(job: &str, current: &Document) -> LeaseError {
    LeaseError::Held {
        job: job.to_string(),
        holder: current.get_str("holder").unwrap_or("unknown").to_string(),
        expires_at: current
            .get_datetime("expires_at")
            .map(|d| d.try_to_rfc3339_string().unwrap_or_default())
            .unwrap_or_default(),
    }
}

fn is_duplicate_key(e: &mongodb::error::Error) -> bool {
    match &*e.kind {
        ErrorKind::Write(WriteFailure::WriteError(we)) => we.code == 11000,
        ErrorKind::Command(ce) => ce.code == 11000,
        _ => e.to_string().contains("E11000"),
    }
}

fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|_| "unknown-host".to_string())
}

/// Unique per process and acquisition.
fn owner_id() -> String {
    format!("{}:{}:{:016x}", host_name(), std::process::id(), rand::random::<u64>())
}

/// What an operator reads when a run is refused.
fn holder_description() -> String {
    format!("pid {} on {}", std::process::id(), host_name())
}
