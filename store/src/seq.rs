//! `seq` numbers: every write of a package takes the next number from one database
//! counter, so readers ask "what changed since N" without trusting clocks.

use mongodb::bson::doc;
use mongodb::options::ReturnDocument;

use crate::db::{Store, coll};
use crate::error::{Result, StoreError};
use crate::model::int_field;

/// Name of the counter that numbers package writes.
pub const PACKAGE_SEQ: &str = "package_seq";

impl Store {
    /// Reserves `n` consecutive numbers of `counter` and returns the first.
    /// One round trip per batch, however many packages it holds.
    pub async fn reserve_seq(&self, counter: &str, n: u64) -> Result<i64> {
        let n = i64::try_from(n.max(1)).unwrap_or(i64::MAX);
        let after = self
            .collection(coll::COUNTERS)
            .find_one_and_update(doc! { "_id": counter }, doc! { "$inc": { "value": n } })
            .upsert(true)
            .return_document(ReturnDocument::After)
            .await
            .map_err(StoreError::mongo("findAndModify", coll::COUNTERS))?;
        let last = match after.as_ref().and_then(|d| int_field(d, "value")) {
            Some(v) => v,
            None => {
                return Err(StoreError::Answer {
                    op: "findAndModify",
                    collection: coll::COUNTERS.into(),
                    answer: Box::new(after.unwrap_or_default()),
                });
            }
        };
        Ok(last - n + 1)
    }

    /// The last number handed out by `counter` (0 when none yet).
    pub async fn current_seq(&self, counter: &str) -> Result<i64> {
        let found = self
            .collection(coll::COUNTERS)
            .find_one(doc! { "_id": counter })
            .await
            .map_err(StoreError::mongo("find", coll::COUNTERS))?;
        Ok(found.as_ref().and_then(|d| int_field(d, "value")).unwrap_or(0))
    }
}

impl Store {
    /// Gives `names`' package records new `seq` numbers: something they show changed
    /// (dependents, downloaded facts), so caches and the search index pick them up.
    pub async fn bump_packages(&self, names: &[String]) -> Result<()> {
        if names.is_empty() {
            return Ok(());
        }
        let first = self.reserve_seq(PACKAGE_SEQ, names.len() as u64).await?;
        let ops = names
            .iter()
            .enumerate()
            .map(|(i, n)| {
                crate::bulk::UpdateOp::update(doc! { "_id": n }, doc! { "$set": { "seq": first + i as i64 } })
            })
            .collect();
        self.update_all(coll::PACKAGES, ops).await?;
        Ok(())
    }
}
