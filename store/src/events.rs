//! Change events: what a write of a package record changed (a version published, a
//! deprecation or dist-tag moved, the package removed), kept in the record itself under
//! `events` with the write's `seq` number and written in the same update as the record, so
//! an event exists exactly when its change does (a crash between two writes cannot keep one
//! without the other). The webapp's live stream reads them by the `seq` index.
//!
//! A record keeps its last [`EVENTS_KEPT`] events: a package's next write overwrites its
//! `seq`, and a quick second publish must not hide the first one from a reader that had
//! not looked in between.

use std::collections::{HashMap, HashSet};

use futures::TryStreamExt;
use mongodb::bson::{self, Bson, DateTime, Document, doc};
use serde::{Deserialize, Serialize};

use crate::db::{Store, coll};
use crate::error::{Result, StoreError};
use crate::model::{Package, PackageState};
use crate::packages::StoredPackage;

/// Events a record keeps (its last writes' events).
pub const EVENTS_KEPT: i32 = 16;
/// Events one write makes at most: a document that adds 500 versions at once (a first
/// ingest after an outage) is reported by its newest ones, not 500 events.
pub const EVENTS_PER_WRITE: usize = 8;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EventKind {
    /// A new version (or a package new to the site).
    Publish,
    /// Deprecation, dist-tags, removed versions or other metadata.
    Update,
    /// The package left the registry.
    Remove,
}

impl EventKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Publish => "publish",
            EventKind::Update => "update",
            EventKind::Remove => "remove",
        }
    }
}

/// A change a write makes, before the write has its number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub kind: EventKind,
    pub version: Option<String>,
    /// What an update changed (`deprecated`, `dist-tag next`, …).
    pub detail: Option<String>,
}

impl Change {
    fn new(kind: EventKind, version: Option<&str>, detail: Option<String>) -> Change {
        Change { kind, version: version.map(str::to_string), detail }
    }

    /// The package was removed.
    pub fn removal() -> Change {
        Change::new(EventKind::Remove, None, None)
    }

    /// As stored with write number `seq`, `index`-th of its write.
    pub fn stored(&self, seq: i64, index: usize, at: DateTime) -> Bson {
        let mut d = doc! { "s": seq, "i": index as i32, "k": self.kind.as_str(), "at": at };
        if let Some(v) = &self.version {
            d.insert("v", v);
        }
        if let Some(x) = &self.detail {
            d.insert("d", x);
        }
        Bson::Document(d)
    }
}

/// What writing `after` over `before` (what the indexer had stored) changes, as events.
pub fn changes(before: Option<&StoredPackage>, after: &Package) -> Vec<Change> {
    let was_shown = before.is_some_and(|b| b.state == PackageState::Active);
    if after.state != PackageState::Active {
        return if was_shown { vec![Change::removal()] } else { Vec::new() };
    }
    let latest = after.latest.as_deref();
    let Some(before) = before.filter(|_| was_shown) else {
        // new to the site (or back after a removal): its latest version is the news
        return vec![Change::new(EventKind::Publish, latest, None)];
    };
    let old: HashMap<&str, Option<&str>> =
        before.versions.iter().map(|v| (v.version.as_str(), v.deprecated.as_deref())).collect();
    let mut out = Vec::new();
    // new versions, newest publish first; the latest one always among those reported
    let mut published: Vec<_> = after.versions.iter().filter(|v| !old.contains_key(v.version.as_str())).collect();
    published.sort_by_key(|v| std::cmp::Reverse((Some(v.version.as_str()) == latest, v.published)));
    let published: Vec<&str> = published.iter().map(|v| v.version.as_str()).collect();
    out.extend(published.iter().map(|v| Change::new(EventKind::Publish, Some(v), None)));
    for v in &after.versions {
        if let Some(was) = old.get(v.version.as_str())
            && *was != v.deprecated.as_deref()
        {
            let detail = if v.deprecated.is_some() { "deprecated" } else { "undeprecated" };
            out.push(Change::new(EventKind::Update, Some(&v.version), Some(detail.into())));
        }
    }
    let (old_tags, new_tags) = (&before.dist_tags, &after.dist_tags);
    for (tag, version) in new_tags {
        // a tag moved onto a version published now is told by that publish
        if old_tags.get(tag) != Some(version) && !published.contains(&version.as_str()) {
            out.push(Change::new(EventKind::Update, Some(version), Some(format!("dist-tag {tag}"))));
        }
    }
    for tag in old_tags.keys().filter(|t| !new_tags.contains_key(*t)) {
        out.push(Change::new(EventKind::Update, None, Some(format!("dist-tag {tag} removed"))));
    }
    let kept: HashSet<&str> = after.versions.iter().map(|v| v.version.as_str()).collect();
    let removed = before.versions.iter().filter(|v| !kept.contains(v.version.as_str())).count();
    if removed > 0 {
        out.push(Change::new(EventKind::Update, None, Some(format!("{removed} versions removed"))));
    }
    if out.is_empty() {
        // rewritten for something else the page shows (description, maintainers, …)
        out.push(Change::new(EventKind::Update, latest, Some("metadata".into())));
    }
    out.truncate(EVENTS_PER_WRITE);
    out
}

/// One event as stored in a record.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct StoredEvent {
    #[serde(rename = "s")]
    pub seq: i64,
    #[serde(rename = "i")]
    pub index: i32,
    #[serde(rename = "k")]
    pub kind: EventKind,
    #[serde(rename = "v", default)]
    pub version: Option<String>,
    #[serde(rename = "d", default)]
    pub detail: Option<String>,
    pub at: DateTime,
}

/// A record's events as the stream reads them, with what its filters need.
#[derive(Debug, Clone)]
pub struct PackageEvents {
    pub name: String,
    /// The record's current `seq` (at least every event's).
    pub seq: i64,
    /// Its latest version's keywords, lowercased.
    pub keywords: Vec<String>,
    pub events: Vec<StoredEvent>,
}

impl Store {
    /// Records written after `after` (and up to `upto`), at most `limit`, in `seq` order,
    /// with their events: by the `seq` index.
    pub async fn events_after(&self, after: i64, upto: Option<i64>, limit: i64) -> Result<Vec<PackageEvents>> {
        let mut range = doc! { "$gt": after };
        if let Some(upto) = upto {
            range.insert("$lte", upto);
        }
        let docs: Vec<Document> = self
            .packages()
            .find(doc! { "seq": range })
            .sort(doc! { "seq": 1 })
            .projection(doc! { "_id": 1, "seq": 1, "kw": 1, "events": 1 })
            .limit(limit)
            .await
            .map_err(StoreError::mongo("find", coll::PACKAGES))?
            .try_collect()
            .await
            .map_err(StoreError::mongo("find", coll::PACKAGES))?;
        Ok(docs.iter().filter_map(package_events).collect())
    }
}

fn package_events(d: &Document) -> Option<PackageEvents> {
    let events = d
        .get_array("events")
        .map(|a| a.iter().filter_map(|e| bson::from_bson::<StoredEvent>(e.clone()).ok()).collect::<Vec<_>>())
        .unwrap_or_default();
    Some(PackageEvents {
        name: d.get_str("_id").ok()?.to_string(),
        seq: crate::model::int_field(d, "seq")?,
        keywords: crate::model::string_array(d, "kw"),
        events,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::VersionSummary;

    fn summary(v: &str, t: i64, deprecated: Option<&str>) -> VersionSummary {
        VersionSummary {
            version: v.into(),
            published: Some(DateTime::from_millis(t)),
            deprecated: deprecated.map(str::to_string),
            prerelease: false,
            hash: format!("h{v}"),
        }
    }

    fn package(versions: Vec<VersionSummary>, tags: &[(&str, &str)]) -> Package {
        Package {
            name: "p".into(),
            state: PackageState::Active,
            latest: tags.iter().find(|(t, _)| *t == "latest").map(|(_, v)| v.to_string()),
            dist_tags: tags.iter().map(|(t, v)| (t.to_string(), v.to_string())).collect(),
            versions,
            ..Package::default()
        }
    }

    fn stored(p: &Package) -> StoredPackage {
        StoredPackage {
            name: p.name.clone(),
            state: p.state,
            versions: p.versions.clone(),
            dist_tags: p.dist_tags.clone(),
            ..StoredPackage::default()
        }
    }

    fn kinds(c: &[Change]) -> Vec<(EventKind, Option<&str>, Option<&str>)> {
        c.iter().map(|c| (c.kind, c.version.as_deref(), c.detail.as_deref())).collect()
    }

    #[test]
    fn a_new_package_is_one_publish_of_its_latest() {
        let p = package(vec![summary("1.0.0", 1, None), summary("2.0.0", 2, None)], &[("latest", "2.0.0")]);
        assert_eq!(kinds(&changes(None, &p)), vec![(EventKind::Publish, Some("2.0.0"), None)]);
    }

    #[test]
    fn new_versions_are_publishes_and_the_latest_moving_onto_one_is_not_an_update() {
        let before = package(vec![summary("1.0.0", 1, None)], &[("latest", "1.0.0")]);
        let after = package(
            vec![summary("1.0.0", 1, None), summary("1.1.0", 2, None), summary("2.0.0-rc.1", 3, None)],
            &[("latest", "1.1.0"), ("next", "2.0.0-rc.1")],
        );
        assert_eq!(
            kinds(&changes(Some(&stored(&before)), &after)),
            vec![(EventKind::Publish, Some("1.1.0"), None), (EventKind::Publish, Some("2.0.0-rc.1"), None)]
        );
    }

    #[test]
    fn deprecations_tag_moves_and_removals_are_updates() {
        let before = package(
            vec![summary("1.0.0", 1, None), summary("1.1.0", 2, None), summary("0.9.0", 0, None)],
            &[("latest", "1.1.0"), ("beta", "1.0.0")],
        );
        let after =
            package(vec![summary("1.0.0", 1, Some("use 1.1")), summary("1.1.0", 2, None)], &[("latest", "1.0.0")]);
        assert_eq!(
            kinds(&changes(Some(&stored(&before)), &after)),
            vec![
                (EventKind::Update, Some("1.0.0"), Some("deprecated")),
                (EventKind::Update, Some("1.0.0"), Some("dist-tag latest")),
                (EventKind::Update, None, Some("dist-tag beta removed")),
                (EventKind::Update, None, Some("1 versions removed")),
            ]
        );
    }

    #[test]
    fn a_rewrite_with_no_visible_version_change_is_a_metadata_update() {
        let p = package(vec![summary("1.0.0", 1, None)], &[("latest", "1.0.0")]);
        assert_eq!(kinds(&changes(Some(&stored(&p)), &p)), vec![(EventKind::Update, Some("1.0.0"), Some("metadata"))]);
    }

    #[test]
    fn unpublishing_is_a_removal_once() {
        let before = package(vec![summary("1.0.0", 1, None)], &[("latest", "1.0.0")]);
        let after = Package { state: PackageState::Unpublished, ..before.clone() };
        assert_eq!(kinds(&changes(Some(&stored(&before)), &after)), vec![(EventKind::Remove, None, None)]);
        assert!(changes(Some(&stored(&after)), &after).is_empty(), "already gone: nothing to tell");
        assert!(changes(None, &after).is_empty());
    }

    #[test]
    fn a_huge_write_is_reported_by_its_newest_versions_latest_first() {
        let before = package(vec![summary("0.0.1", 0, None)], &[("latest", "0.0.1")]);
        let mut versions: Vec<_> = (1..=50).map(|i| summary(&format!("1.0.{i}"), i, None)).collect();
        versions.push(summary("0.0.1", 0, None));
        let after = package(versions, &[("latest", "1.0.7")]);
        let c = changes(Some(&stored(&before)), &after);
        assert_eq!(c.len(), EVENTS_PER_WRITE);
        assert_eq!(c[0].version.as_deref(), Some("1.0.7"));
        assert_eq!(c[1].version.as_deref(), Some("1.0.50"));
    }
}
