//! A whole registry document → [`Package`] plus the records of its changed versions.
//!
//! Display fields come from `versions[latest]` (the reduced documents some registries
//! serve have nothing else); "latest" is `dist-tags.latest`, or the highest stable semver
//! when that tag is missing or dangling — never derived from `time`.

use std::cmp::Ordering;
use std::collections::{BTreeMap, HashMap};

use bson::DateTime;
use nodules_store::model::{Package, PackageState, Unpublished, VersionRecord, VersionSummary};
use serde_json::Value;
use serde_json::value::RawValue;
use sha2::{Digest, Sha256};

use super::Warnings;
use super::limits::{MAX_ENTRIES, MAX_SHORT, MAX_SUMMARY_TEXT, MAX_VERSIONS, truncate};
use super::person::people;
use super::raw::RawObject;
use super::spec::{dep_targets, valid_name};
use super::version::{Fallbacks, deprecation, normalize_version};

/// Bumped whenever normalization changes: records of an older version are rewritten even
/// when their document did not change, so skipping unchanged documents never keeps an old
/// bug forever.
pub const NORMALIZER_VERSION: u32 = 3;

/// Why a document cannot be a package.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DocError {
    #[error("not a JSON object (found {0})")]
    NotObject(&'static str),
    #[error("no usable package name (`_id` and `name` missing or invalid{0})")]
    NoName(String),
}

/// Version → hash of its raw JSON, as stored: versions whose hash is unchanged are not
/// normalized again.
pub type KnownVersions = HashMap<String, String>;

/// A normalized document.
#[derive(Debug, Clone)]
pub struct Normalized {
    pub package: Package,
    /// Records of the versions that are new or changed (all of them when nothing was
    /// known), always including the latest.
    pub changed_versions: Vec<VersionRecord>,
}

/// The package name a document stands for: `_id`, else `name`, else the caller's hint
/// (the row id or the name that was fetched).
pub fn document_name(obj: &RawObject<'_>, hint: Option<&str>) -> Result<String, DocError> {
    let candidates =
        [obj.str("_id").map(|s| s.into_owned()), obj.str("name").map(|s| s.into_owned()), hint.map(str::to_string)];
    let mut seen = Vec::new();
    for c in candidates.into_iter().flatten() {
        if valid_name(&c) {
            return Ok(c);
        }
        seen.push(c);
    }
    let detail = match seen.first() {
        Some(bad) => format!("; got `{}`", truncate(bad, 100)),
        None => String::new(),
    };
    Err(DocError::NoName(detail))
}

/// Hash identifying a version's raw JSON (64 bits: change detection, not security).
pub fn version_hash(raw: &RawValue) -> String {
    let digest = Sha256::digest(raw.get().as_bytes());
    hex::encode(&digest[..8])
}

/// Normalizes a document. `known` holds the stored version hashes (see [`KnownVersions`]).
pub fn normalize_document(
    raw: &RawValue,
    hint: Option<&str>,
    known: Option<&KnownVersions>,
) -> Result<Normalized, DocError> {
    let mut changed_versions = Vec::new();
    let package = normalize_streaming(raw, hint, known, &mut |v| changed_versions.push(v))?;
    Ok(Normalized { package, changed_versions })
}

/// Normalizes a document, handing each new or changed version's record to `on_version`
/// as soon as it is made, so thousands of versions are never held at once.
pub fn normalize_streaming(
    raw: &RawValue,
    hint: Option<&str>,
    known: Option<&KnownVersions>,
    on_version: &mut dyn FnMut(VersionRecord),
) -> Result<Package, DocError> {
    let doc = RawObject::parse(raw).ok_or_else(|| DocError::NotObject(json_kind(raw)))?;
    let name = document_name(&doc, hint)?;
    let mut w = Warnings::new();

    let dist_tags = super::fields::string_map(doc.value("dist-tags", &mut w).as_ref(), "dist-tags", &mut w);
    let times = Times::read(doc.object("time"), &mut w);

    // Every version: its summary line, and its object for normalizing.
    let mut entries: Vec<Entry<'_>> = Vec::new();
    match doc.raw("versions") {
        None => {}
        Some(v) => match RawObject::parse(v) {
            Some(versions) => {
                for (key, raw_version) in versions.iter() {
                    if key.is_empty() || key.len() > MAX_SHORT {
                        w.push("versions", "skipped a version with an empty or over-long key");
                        continue;
                    }
                    let Some(obj) = RawObject::parse(raw_version) else {
                        w.push("versions", format!("`{}` is not an object", truncate(key, 100)));
                        continue;
                    };
                    let semver = nodejs_semver::Version::parse(key).ok();
                    entries.push(Entry { key: key.to_string(), hash: version_hash(raw_version), semver, obj });
                }
            }
            None if v.get() == "null" => {}
            None => w.push("versions", "not an object"),
        },
    }
    // duplicate keys: the last wins, as in JavaScript
    let mut seen = std::collections::HashSet::new();
    entries.reverse();
    entries.retain(|e| seen.insert(e.key.clone()));
    entries.sort_by(|a, b| compare_versions(b, a));
    if entries.len() > MAX_VERSIONS {
        w.push("versions", format!("{} versions; kept the highest {MAX_VERSIONS}", entries.len()));
        entries.truncate(MAX_VERSIONS);
    }

    let latest_index = choose_latest(&entries, dist_tags.get("latest").map(String::as_str));
    let mut summaries = Vec::with_capacity(entries.len());
    let mut latest_version = None;
    for (i, e) in entries.iter().enumerate() {
        let mut vw = Warnings::new();
        let published = times.versions.get(e.key.as_str()).copied();
        let prerelease = e.semver.as_ref().is_some_and(|s| s.is_prerelease());
        let is_latest = latest_index == Some(i);
        let unchanged = known.and_then(|k| k.get(&e.key)).is_some_and(|h| *h == e.hash);
        if is_latest || !unchanged {
            let fallbacks = Fallbacks { document: &doc };
            let record = normalize_version(
                &name,
                &e.key,
                &e.obj,
                published,
                prerelease,
                is_latest.then_some(&fallbacks),
                &mut vw,
            );
            if is_latest {
                latest_version = Some(record.clone());
            }
            if !unchanged {
                on_version(record);
            }
        }
        let deprecated = deprecation(e.obj.value("deprecated", &mut vw).as_ref(), &mut vw);
        summaries.push(VersionSummary {
            version: truncate(&e.key, MAX_SHORT),
            published,
            deprecated: deprecated.map(|d| truncate(&d, MAX_SUMMARY_TEXT)),
            prerelease,
            hash: e.hash.clone(),
        });
        if is_latest || !unchanged {
            w.absorb(&format!("versions.{}", truncate(&e.key, 100)), vw);
        }
    }

    let mut maintainers = people(doc.value("maintainers", &mut w).as_ref(), "maintainers", &mut w);
    if maintainers.is_empty()
        && let Some(l) = &latest_version
    {
        maintainers = l.maintainers.clone();
    }
    maintainers.truncate(MAX_ENTRIES);

    let state = if entries.is_empty() { PackageState::Unpublished } else { PackageState::Active };
    let unpublished = match (state, times.unpublished) {
        (PackageState::Unpublished, Some(u)) => Some(u),
        (PackageState::Unpublished, None) => Some(Unpublished { time: times.modified, versions: Vec::new() }),
        (_, _) => None,
    };
    let targets = latest_version.as_ref().map(|l| dep_targets(&name, &l.deps)).unwrap_or_default();
    let package = Package {
        latest: latest_version.as_ref().map(|l| l.version.clone()),
        dist_tags,
        maintainers,
        version_count: i64::try_from(summaries.len()).unwrap_or(i64::MAX),
        versions: summaries,
        created: times.created.or(times.earliest),
        modified: times.modified.or(times.newest),
        unpublished,
        dep_targets: targets,
        latest_version,
        state,
        warnings: Vec::new(),
        name,
    };
    let mut package = package;
    package.warnings = w.into_vec();
    Ok(package)
}

/// The dependency edges of the latest version only, without normalizing the rest of the
/// document: what `fetch --deps` follows.
pub fn latest_targets(raw: &RawValue, hint: Option<&str>) -> Option<nodules_store::model::DepTargets> {
    let doc = RawObject::parse(raw)?;
    let name = document_name(&doc, hint).ok()?;
    let mut w = Warnings::new();
    let versions = doc.object("versions")?;
    let mut entries: Vec<Entry<'_>> = versions
        .iter()
        .filter_map(|(key, raw_version)| {
            Some(Entry {
                key: key.to_string(),
                hash: String::new(),
                semver: nodejs_semver::Version::parse(key).ok(),
                obj: RawObject::parse(raw_version)?,
            })
        })
        .collect();
    entries.sort_by(|a, b| compare_versions(b, a));
    let tag = doc.object("dist-tags").and_then(|t| t.str("latest")).map(|s| s.into_owned());
    let latest = &entries[choose_latest(&entries, tag.as_deref())?];
    let record = normalize_version(&name, &latest.key, &latest.obj, None, false, None, &mut w);
    Some(dep_targets(&name, &record.deps))
}

struct Entry<'a> {
    key: String,
    hash: String,
    semver: Option<nodejs_semver::Version>,
    obj: RawObject<'a>,
}

/// Semver precedence; versions that are not semver sort below all that are, by key.
fn compare_versions(a: &Entry<'_>, b: &Entry<'_>) -> Ordering {
    match (&a.semver, &b.semver) {
        (Some(x), Some(y)) => x.cmp(y).then_with(|| a.key.cmp(&b.key)),
        (Some(_), None) => Ordering::Greater,
        (None, Some(_)) => Ordering::Less,
        (None, None) => a.key.cmp(&b.key),
    }
}

/// `dist-tags.latest` when it names a version; else the highest stable version; else the
/// highest prerelease. `entries` is sorted highest first.
fn choose_latest(entries: &[Entry<'_>], tag: Option<&str>) -> Option<usize> {
    if let Some(tag) = tag
        && let Some(i) = entries.iter().position(|e| e.key == tag)
    {
        return Some(i);
    }
    entries
        .iter()
        .position(|e| e.semver.as_ref().is_some_and(|s| !s.is_prerelease()))
        .or_else(|| entries.iter().position(|e| e.semver.is_some()))
        .or(if entries.is_empty() { None } else { Some(0) })
}

/// What the `time` object says.
#[derive(Default)]
struct Times {
    versions: BTreeMap<String, DateTime>,
    created: Option<DateTime>,
    modified: Option<DateTime>,
    earliest: Option<DateTime>,
    newest: Option<DateTime>,
    unpublished: Option<Unpublished>,
}

impl Times {
    fn read(obj: Option<RawObject<'_>>, w: &mut Warnings) -> Times {
        let mut t = Times::default();
        let Some(obj) = obj else { return t };
        for (key, raw) in obj.iter() {
            match key {
                "unpublished" => t.unpublished = Some(unpublished(raw, w)),
                "created" | "modified" => {
                    let parsed = serde_json::from_str::<&str>(raw.get()).ok().and_then(parse_time);
                    if key == "created" { t.created = parsed } else { t.modified = parsed }
                }
                version => {
                    let Some(time) = serde_json::from_str::<String>(raw.get()).ok().as_deref().and_then(parse_time)
                    else {
                        w.push("time", format!("`{}` is not a date", truncate(version, 100)));
                        continue;
                    };
                    t.earliest = Some(t.earliest.map_or(time, |e| e.min(time)));
                    t.newest = Some(t.newest.map_or(time, |e| e.max(time)));
                    t.versions.insert(version.to_string(), time);
                }
            }
        }
        t
    }
}

fn unpublished(raw: &RawValue, w: &mut Warnings) -> Unpublished {
    let Some(obj) = RawObject::parse(raw) else {
        return Unpublished::default();
    };
    let versions = match obj.value("versions", w) {
        Some(Value::Array(items)) => {
            items.into_iter().filter_map(|v| v.as_str().map(|s| truncate(s, MAX_SHORT))).take(MAX_VERSIONS).collect()
        }
        _ => Vec::new(),
    };
    Unpublished { time: obj.str("time").as_deref().and_then(parse_time), versions }
}

/// RFC 3339 times in either spelling the registries use (`Z` or `+00:00`, any fraction).
pub fn parse_time(s: &str) -> Option<DateTime> {
    let parsed = chrono::DateTime::parse_from_rfc3339(s.trim())
        .map(|d| d.with_timezone(&chrono::Utc))
        .or_else(|_| chrono::NaiveDateTime::parse_from_str(s.trim(), "%Y-%m-%dT%H:%M:%S%.f").map(|n| n.and_utc()))
        .ok()?;
    Some(DateTime::from_millis(parsed.timestamp_millis()))
}

fn json_kind(raw: &RawValue) -> &'static str {
    match raw.get().as_bytes().first() {
        Some(b'[') => "an array",
        Some(b'"') => "a string",
        Some(b'n') => "null",
        Some(b't' | b'f') => "a boolean",
        Some(_) => "a number",
        None => "nothing",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn norm(json: &str) -> Package {
        let raw = RawValue::from_string(json.to_string()).expect("json");
        normalize_document(&raw, None, None).expect("normalizes").package
    }

    fn rfc(t: Option<DateTime>) -> Option<String> {
        t.map(|t| t.try_to_rfc3339_string().expect("date"))
    }

    #[test]
    fn time_missing_leaves_dates_absent() {
        let p = norm(r#"{"name":"a","versions":{"1.0.0":{}}}"#);
        assert_eq!(p.latest.as_deref(), Some("1.0.0"));
        assert_eq!((p.created, p.modified, p.versions[0].published), (None, None, None));
    }

    #[test]
    fn offsets_and_fractions_parse() {
        let p = norm(
            r#"{"name":"a","versions":{"1.0.0":{},"1.1.0":{}},
                "time":{"1.1.0":"2024-12-13T04:59:25.321000+00:00","1.0.0":"2020-01-01T00:00:00Z"}}"#,
        );
        assert_eq!(rfc(p.versions[0].published).as_deref(), Some("2024-12-13T04:59:25.321Z"));
        // no created/modified in `time`: derived from the version times
        assert_eq!(rfc(p.created).as_deref(), Some("2020-01-01T00:00:00Z"));
        assert_eq!(rfc(p.modified).as_deref(), Some("2024-12-13T04:59:25.321Z"));
    }

    #[test]
    fn explicit_created_and_modified_win() {
        let p = norm(
            r#"{"name":"a","versions":{"1.0.0":{}},
                "time":{"created":"2019-01-01T00:00:00.000Z","modified":"2025-01-01T00:00:00.000Z","1.0.0":"2020-01-01T00:00:00Z"}}"#,
        );
        assert_eq!(rfc(p.created).as_deref(), Some("2019-01-01T00:00:00Z"));
        assert_eq!(rfc(p.modified).as_deref(), Some("2025-01-01T00:00:00Z"));
    }

    #[test]
    fn unpublished_in_time() {
        let p = norm(r#"{"name":"a","time":{"unpublished":{"time":"2024-02-02T00:00:00.000Z","versions":["1.0.0"]}}}"#);
        assert_eq!(p.state, PackageState::Unpublished);
        let u = p.unpublished.expect("unpublished");
        assert_eq!(rfc(u.time).as_deref(), Some("2024-02-02T00:00:00Z"));
        assert_eq!(u.versions, vec!["1.0.0"]);
        assert_eq!(p.latest, None);
    }

    #[test]
    fn latest_is_the_tag_else_highest_stable_never_the_newest_time() {
        let doc = r#"{"name":"a","dist-tags":{"latest":"1.0.0"},"versions":{"1.0.0":{},"2.0.0":{}},
                      "time":{"1.0.0":"2025-01-01T00:00:00Z","2.0.0":"2020-01-01T00:00:00Z"}}"#;
        assert_eq!(norm(doc).latest.as_deref(), Some("1.0.0"));
        let dangling =
            r#"{"name":"a","dist-tags":{"latest":"9.0.0"},"versions":{"1.0.0":{},"1.5.0":{},"2.0.0-rc.1":{}}}"#;
        assert_eq!(norm(dangling).latest.as_deref(), Some("1.5.0"));
        let only_pre = r#"{"name":"a","versions":{"1.0.0-a":{},"1.0.0-b":{}}}"#;
        assert_eq!(norm(only_pre).latest.as_deref(), Some("1.0.0-b"));
    }

    #[test]
    fn display_fields_come_from_the_latest_version_with_top_level_fallbacks() {
        let p = norm(
            r#"{"name":"a","description":"top","keywords":["top"],"dist-tags":{"latest":"1.0.0"},
                "versions":{"1.0.0":{"description":"from version"}}}"#,
        );
        let l = p.latest_version.expect("latest");
        assert_eq!(l.description.as_deref(), Some("from version"));
        assert_eq!(l.keywords, vec!["top"], "absent in the version: the document's");
    }

    #[test]
    fn names_come_from_id_then_name_then_hint() {
        let raw = RawValue::from_string(r#"{"versions":{}}"#.to_string()).expect("json");
        assert_eq!(normalize_document(&raw, Some("hinted"), None).expect("ok").package.name, "hinted");
        assert!(matches!(normalize_document(&raw, None, None), Err(DocError::NoName(_))));
        let not_object = RawValue::from_string("[]".to_string()).expect("json");
        assert!(matches!(normalize_document(&not_object, Some("x"), None), Err(DocError::NotObject(_))));
    }

    #[test]
    fn unchanged_versions_are_not_normalized_again() {
        let raw = RawValue::from_string(r#"{"name":"a","versions":{"1.0.0":{"a":1},"1.1.0":{"b":2}}}"#.to_string())
            .expect("json");
        let first = normalize_document(&raw, None, None).expect("ok");
        assert_eq!(first.changed_versions.len(), 2);
        let known: KnownVersions = first.package.versions.iter().map(|v| (v.version.clone(), v.hash.clone())).collect();
        let again = normalize_document(&raw, None, Some(&known)).expect("ok");
        assert!(again.changed_versions.is_empty(), "nothing changed");
        assert!(again.package.latest_version.is_some(), "the latest is always there");
    }

    #[test]
    fn wrong_typed_fields_become_warnings() {
        let p =
            norm(r#"{"name":"a","dist-tags":"latest","versions":{"1.0.0":{"author":17,"dist":[]},"bad":5},"time":7}"#);
        assert_eq!(p.latest.as_deref(), Some("1.0.0"));
        assert!(p.warnings.iter().any(|w| w.contains("author")), "{:?}", p.warnings);
        assert!(p.warnings.iter().any(|w| w.contains("not an object")), "{:?}", p.warnings);
    }
}
