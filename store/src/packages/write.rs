//! A batch's package record writes: the records written or deleted (each under a new
//! change number), then the marks on the records the batch only checked.

use mongodb::bson::{self, Bson, DateTime, Document, doc};

use crate::bulk::UpdateOp;
use crate::db::{Store, coll};
use crate::error::{Result, StoreError};
use crate::events::{Change, EVENTS_KEPT};
use crate::model::{Package, PackageState, SourceMeta};
use crate::packages::StoredPackage;
use crate::seq::PACKAGE_SEQ;

/// A package record to write: its `$set`, everything but `_id` and `seq`.
#[derive(Debug, Clone)]
pub struct RecordWrite {
    name: String,
    set: Document,
    /// Never stored: inserted; one already there (a replayed batch) takes the `$set`.
    new: bool,
    /// What the write changes, kept in the record with its number ([`crate::events`]).
    events: Vec<Change>,
}

impl RecordWrite {
    /// The record of `pkg` as fetched with `meta`, written at `now`.
    /// `before` is what the indexer had stored (`None`: never stored); the write keeps
    /// what changed since as events.
    pub fn new(pkg: &Package, meta: &SourceMeta, now: DateTime, before: Option<&StoredPackage>) -> Result<RecordWrite> {
        Ok(RecordWrite {
            name: pkg.name.clone(),
            set: package_set(pkg, meta, now)?,
            new: before.is_none(),
            events: crate::events::changes(before, pkg),
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// A package stored for the first time carries the dependents counts already known for
    /// it: no second write.
    pub fn set_dependents_counts(&mut self, prod: i64, dev: i64) {
        self.set.insert("dependents_count", prod);
        self.set.insert("dev_dependents_count", dev);
    }
}

/// A package that left the registry: its record stays, emptied of edges, as `deleted`.
#[derive(Debug, Clone)]
pub struct RecordDelete {
    pub name: String,
    pub rev: Option<String>,
}

/// A record the server refused: its name (when known) and the server's message.
#[derive(Debug, Clone)]
pub struct RefusedRecord {
    pub name: Option<String>,
    pub message: String,
}

impl Store {
    /// Writes `records` and `deletes`, each under a new change number (reserved at once):
    /// new records inserted, the others updated. Returns the records refused.
    pub async fn write_records(
        &self,
        records: Vec<RecordWrite>,
        deletes: Vec<RecordDelete>,
        now: DateTime,
    ) -> Result<Vec<RefusedRecord>> {
        let n = (records.len() + deletes.len()) as u64;
        if n == 0 {
            return Ok(Vec::new());
        }
        let first = self.reserve_seq(PACKAGE_SEQ, n).await?;
        let mut seq = first;
        let mut ops = Vec::with_capacity(records.len() + deletes.len());
        let mut names = Vec::with_capacity(ops.capacity());
        // records never stored are inserted; one already there (a replayed batch) takes the $set
        let mut inserts: Vec<(String, Document)> = Vec::new();
        for RecordWrite { name, mut set, new, events } in records {
            set.insert("seq", seq);
            let events: Vec<Bson> = events.iter().enumerate().map(|(i, e)| e.stored(seq, i, now)).collect();
            seq += 1;
            if new {
                set.insert("events", events);
                inserts.push((name, set));
            } else {
                ops.push(UpdateOp::upsert(doc! { "_id": &name }, doc! { "$set": set, "$push": kept(events) }));
                names.push(name);
            }
        }
        for RecordDelete { name, rev } in deletes {
            ops.push(UpdateOp::update(
                doc! { "_id": &name },
                doc! {
                "$push": kept(vec![Change::removal().stored(seq, 0, now)]),
                "$set": {
                    "state": PackageState::Deleted.as_str(),
                    "deleted_at": now,
                    "rev": rev,
                    "seq": seq,
                    "checked_at": now,
                    "stale": false,
                    "dep_targets": { "prod": [], "dev": [] },
                } },
            ));
            seq += 1;
            names.push(name);
        }
        let mut refused = Vec::new();
        for f in self.insert_or_set(coll::PACKAGES, &inserts).await? {
            refused.push(RefusedRecord { name: inserts.get(f.index).map(|(n, _)| n.clone()), message: f.message });
        }
        for f in self.update_all(coll::PACKAGES, ops).await? {
            refused.push(RefusedRecord { name: names.get(f.index).cloned(), message: f.message });
        }
        Ok(refused)
    }

    /// Sends the marks of `checks`: validators and check times of unchanged packages, then
    /// the stale marks.
    pub async fn write_checks(&self, checks: CheckWrites, now: DateTime) -> Result<()> {
        let CheckWrites { mut validators, touched, stale } = checks;
        if !touched.is_empty() {
            validators.push(UpdateOp::update_many(
                doc! { "_id": { "$in": touched } },
                doc! { "$set": { "checked_at": now, "stale": false, "fetch_error": Bson::Null } },
            ));
        }
        self.update_all(coll::PACKAGES, validators).await?;
        self.update_all(coll::PACKAGES, stale).await?;
        Ok(())
    }
}

/// `$push` of a write's `events`, keeping the record's last [`EVENTS_KEPT`].
fn kept(events: Vec<Bson>) -> Document {
    doc! { "events": { "$each": events, "$slice": -EVENTS_KEPT } }
}

/// Marks on records a batch checked without rewriting them.
#[derive(Debug, Default)]
pub struct CheckWrites {
    validators: Vec<UpdateOp>,
    /// Checked now and found unchanged.
    touched: Vec<String>,
    stale: Vec<UpdateOp>,
}

impl CheckWrites {
    /// The registry's answer for `name` had not changed: checked now, with its validators
    /// (when the answer carried any) for the next conditional fetch.
    pub fn unchanged(&mut self, name: String, etag: Option<String>, last_modified: Option<String>) {
        if etag.is_some() || last_modified.is_some() {
            self.validators.push(UpdateOp::update(
                doc! { "_id": &name },
                doc! { "$set": { "etag": etag, "last_modified": last_modified } },
            ));
        }
        self.touched.push(name);
    }

    /// `name` is to be fetched again (`fetch --stale`); `failed` says why the last fetch failed.
    /// An unknown package gets a stub record.
    pub fn stale(&mut self, name: &str, failed: Option<String>) {
        self.stale.push(UpdateOp::upsert(
            doc! { "_id": name },
            doc! { "$set": { "stale": true, "fetch_error": failed }, "$setOnInsert": { "state": PackageState::Stub.as_str() } },
        ));
    }
}

/// The `$set` of a package record (everything but `_id` and `seq`).
fn package_set(pkg: &Package, meta: &SourceMeta, now: DateTime) -> Result<Document> {
    let encode = |e| StoreError::encode(coll::PACKAGES, e);
    let mut d = bson::to_document(pkg).map_err(encode)?;
    d.remove("_id");
    for (k, v) in bson::to_document(meta).map_err(encode)? {
        d.insert(k, v);
    }
    d.insert("written_at", now);
    d.insert("fetch_error", Bson::Null);
    // browse lists by keyword and by person, case-insensitive
    let latest = pkg.latest_version.as_ref();
    let mut kw: Vec<String> = latest.map(|l| l.keywords.iter().map(|k| k.to_lowercase()).collect()).unwrap_or_default();
    kw.sort();
    kw.dedup();
    let mut people: Vec<String> = latest
        .and_then(|l| l.author.as_ref())
        .into_iter()
        .chain(pkg.maintainers.iter())
        .filter_map(|p| p.name.as_ref().map(|n| n.to_lowercase()))
        .collect();
    people.sort();
    people.dedup();
    d.insert("kw", kw);
    d.insert("people", people);
    Ok(d)
}
