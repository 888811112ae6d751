//! What to do with each item of a batch, given what is stored: pure, so every rule is
//! unit-tested without a database.

use std::collections::HashMap;

use mongodb::bson::DateTime;
use nodules_npm::normalize::document::{document_name, normalize_streaming};
use nodules_npm::normalize::raw::RawObject;
use nodules_npm::normalize::{DocError, NORMALIZER_VERSION, normalize_document};
use nodules_store::model::{PackageState, SourceMeta};
use nodules_store::rejects::Reject;
use serde_json::value::RawValue;
use sha2::{Digest, Sha256};

use super::incoming::{DocItem, Incoming};
use mongodb::bson::RawDocumentBuf;
use nodules_store::model::{Package, VersionRecord};
use nodules_store::packages::StoredPackage;
use nodules_store::versions::encode_version;

/// A document with its name and revision worked out.
#[derive(Debug)]
pub struct Identified {
    pub name: String,
    pub rev: String,
    pub item: DocItem,
}

/// An item after the first look: documents identified, the rest as they came.
#[derive(Debug)]
pub enum Prepared {
    Doc(Identified),
    Other(Incoming),
}

/// Names a document and computes its revision; `Err` with the reject when it cannot be a package.
pub fn identify(item: DocItem) -> Result<Identified, (Option<String>, String)> {
    let hint = item.hint.clone();
    let obj = match RawObject::parse(&item.doc) {
        Some(o) => o,
        None => {
            let e = normalize_document(&item.doc, hint.as_deref(), None).err();
            let reason = e.map(|e| e.to_string()).unwrap_or_else(|| "not a JSON object".into());
            return Err((hint, reason));
        }
    };
    let name = document_name(&obj, hint.as_deref()).map_err(|e: DocError| (hint.clone(), e.to_string()))?;
    let rev = item
        .rev
        .clone()
        .or_else(|| obj.str("_rev").map(|r| r.into_owned()))
        .or_else(|| item.change_rev.clone())
        .unwrap_or_else(|| content_rev(&item.doc));
    Ok(Identified { name, rev, item })
}

/// `sha256:<hex>` of a document's bytes: the revision when the registry sends no `_rev`.
pub fn content_rev(doc: &RawValue) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(doc.get().as_bytes())))
}

/// The outcome for one package.
#[derive(Debug)]
pub enum Decision {
    /// New or changed: write the record and its changed versions (already encoded).
    Write {
        package: Box<Package>,
        versions: Vec<RawDocumentBuf>,
        meta: SourceMeta,
        before: Option<StoredPackage>,
    },
    /// Same revision stored: only note that it was checked.
    Unchanged {
        name: String,
        etag: Option<String>,
        last_modified: Option<String>,
    },
    /// Leaves the site.
    Delete {
        name: String,
        rev: Option<String>,
        before: StoredPackage,
    },
    /// A deletion of something not on the site: nothing to do.
    AlreadyGone,
    /// Fetch it later (`fetch --stale`): a change without a document, or a failed fetch.
    MarkStale {
        name: String,
        failed: Option<String>,
    },
    Reject(Reject),
}

/// Decides one prepared item. `now` stamps `checked_at`.
pub fn decide(origin: &str, prepared: Prepared, stored: &HashMap<String, StoredPackage>, now: DateTime) -> Decision {
    match prepared {
        Prepared::Doc(doc) => {
            let before = stored.get(&doc.name);
            decide_doc(origin, doc, before, now)
        }
        Prepared::Other(Incoming::Deleted { name, rev }) => match stored.get(&name) {
            Some(before) if before.state != PackageState::Deleted && before.state != PackageState::Stub => {
                Decision::Delete { name, rev, before: before.clone() }
            }
            _ => Decision::AlreadyGone,
        },
        Prepared::Other(Incoming::Stale { name, rev }) => match stored.get(&name) {
            Some(s) if s.rev.is_some() && s.rev == rev && s.normalizer == NORMALIZER_VERSION => {
                Decision::Unchanged { name, etag: None, last_modified: None }
            }
            _ => Decision::MarkStale { name, failed: None },
        },
        Prepared::Other(Incoming::NotModified { name }) => {
            Decision::Unchanged { name, etag: None, last_modified: None }
        }
        Prepared::Other(Incoming::Failed { name, reason }) => Decision::MarkStale { name, failed: Some(reason) },
        Prepared::Other(Incoming::Bad { name, reason }) => {
            Decision::Reject(Reject { package: name, source: origin.to_string(), reason })
        }
        Prepared::Other(Incoming::Doc(_)) | Prepared::Other(Incoming::LastSeq(_)) => Decision::AlreadyGone,
    }
}

fn decide_doc(origin: &str, doc: Identified, before: Option<&StoredPackage>, now: DateTime) -> Decision {
    let Identified { name, rev, item } = doc;
    if let Some(b) = before {
        let current = b.rev.as_deref() == Some(rev.as_str())
            && b.normalizer == NORMALIZER_VERSION
            && b.state != PackageState::Stub;
        if current {
            return Decision::Unchanged { name, etag: item.etag, last_modified: item.last_modified };
        }
    }
    let known = before.and_then(|b| b.known_versions(NORMALIZER_VERSION));
    let mut versions = Vec::new();
    let mut encode = |v: VersionRecord| match encode_version(&name, &v, now) {
        Ok(raw) => versions.push(raw),
        Err(e) => tracing::warn!(package.name = %name, version = %v.version, error = %e, "version record not stored"),
    };
    match normalize_streaming(&item.doc, Some(&name), known.as_ref(), &mut encode) {
        Ok(package) => Decision::Write {
            package: Box::new(package),
            versions,
            meta: SourceMeta {
                rev: Some(rev),
                normalizer: NORMALIZER_VERSION,
                checked_at: Some(now),
                stale: false,
                etag: item.etag,
                last_modified: item.last_modified,
            },
            before: before.cloned(),
        },
        Err(e) => Decision::Reject(Reject { package: Some(name), source: origin.to_string(), reason: e.to_string() }),
    }
}

/// Keeps the last item of each package (a feed may change one package several times in a
/// batch); returns the dropped ones' count. Items without a package keep their place.
pub fn last_per_package<T>(items: Vec<(T, Prepared)>) -> (Vec<(T, Prepared)>, u64) {
    let key = |p: &Prepared| -> Option<String> {
        match p {
            Prepared::Doc(d) => Some(d.name.clone()),
            Prepared::Other(Incoming::Deleted { name, .. })
            | Prepared::Other(Incoming::Stale { name, .. })
            | Prepared::Other(Incoming::NotModified { name })
            | Prepared::Other(Incoming::Failed { name, .. }) => Some(name.clone()),
            Prepared::Other(_) => None,
        }
    };
    let mut last: HashMap<String, usize> = HashMap::new();
    for (i, (_, p)) in items.iter().enumerate() {
        if let Some(k) = key(p) {
            last.insert(k, i);
        }
    }
    let total = items.len();
    let kept: Vec<_> = items
        .into_iter()
        .enumerate()
        .filter(|(i, (_, p))| key(p).is_none_or(|k| last.get(&k) == Some(i)))
        .map(|(_, x)| x)
        .collect();
    let dropped = (total - kept.len()) as u64;
    (kept, dropped)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(json: &str) -> DocItem {
        DocItem {
            hint: None,
            rev: None,
            change_rev: None,
            doc: RawValue::from_string(json.to_string()).expect("json"),
            etag: None,
            last_modified: None,
        }
    }

    #[test]
    fn identify_uses_rev_then_content_hash() {
        let a = identify(doc(r#"{"_id":"a","_rev":"3-x","versions":{}}"#)).expect("ok");
        assert_eq!((a.name.as_str(), a.rev.as_str()), ("a", "3-x"));
        let b = identify(doc(r#"{"name":"b","versions":{}}"#)).expect("ok");
        assert!(b.rev.starts_with("sha256:"));
        let b2 = identify(doc(r#"{"name":"b","versions":{}}"#)).expect("ok");
        assert_eq!(b.rev, b2.rev, "same bytes, same revision");
    }

    #[test]
    fn identify_rejects_what_cannot_be_a_package() {
        assert!(identify(doc("[1]")).is_err());
        assert!(identify(doc(r#"{"_id":"_design/app"}"#)).is_err());
        assert!(identify(doc(r#"{"versions":{}}"#)).is_err());
    }

    #[test]
    fn same_rev_is_unchanged_other_rev_is_written() {
        let now = DateTime::now();
        let mut stored = HashMap::new();
        stored.insert(
            "a".to_string(),
            StoredPackage {
                name: "a".into(),
                rev: Some("1-x".into()),
                normalizer: NORMALIZER_VERSION,
                ..Default::default()
            },
        );
        let same = identify(doc(r#"{"_id":"a","_rev":"1-x"}"#)).expect("ok");
        assert!(matches!(decide("t", Prepared::Doc(same), &stored, now), Decision::Unchanged { .. }));
        let other = identify(doc(r#"{"_id":"a","_rev":"2-y"}"#)).expect("ok");
        assert!(matches!(decide("t", Prepared::Doc(other), &stored, now), Decision::Write { .. }));
        // an older normalizer's record is rewritten even at the same revision
        stored.get_mut("a").expect("a").normalizer = 0;
        let same = identify(doc(r#"{"_id":"a","_rev":"1-x"}"#)).expect("ok");
        assert!(matches!(decide("t", Prepared::Doc(same), &stored, now), Decision::Write { .. }));
    }

    #[test]
    fn deletions_of_unknown_packages_do_nothing() {
        let stored = HashMap::new();
        let d = Prepared::Other(Incoming::Deleted { name: "x".into(), rev: None });
        assert!(matches!(decide("t", d, &stored, DateTime::now()), Decision::AlreadyGone));
    }
}
