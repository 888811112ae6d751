//! One event of the live stream and its id.
//!
//! **What an id is.** `F.S.I`: `S.I` names the event (the `seq` number of the write that made
//! it, and its place among that write's events); `F` is the *floor* of the webapp that sent
//! it: every write numbered `F` or lower had been sent out before this event (or was given
//! up as never to come, see [`super::hub`]). A client that resumes with `Last-Event-ID: F.S.I`
//! is sent again every event numbered above `F`, from the records themselves: what it missed,
//! plus a stated overlap of events it may already have (writes numbered between `F` and `S`,
//! at most the last few seconds' worth), which it tells apart by `key` (package, version,
//! kind, seq). Writes are numbered before they commit and commit in any order, so a plain
//! `S` would skip a write numbered below `S` that committed after it.

use axum::response::sse::Event;
use mongodb::bson::DateTime;
use nodules_sitemaps::urls;
use nodules_store::events::{EventKind, PackageEvents, StoredEvent};
use serde::Serialize;

/// Where a client stands, as its last event's id says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventId {
    pub floor: i64,
    pub seq: i64,
    pub index: i32,
}

impl EventId {
    /// `F.S.I` as sent; `None` for anything else (the client is told to reset).
    pub fn parse(s: &str) -> Option<EventId> {
        let mut parts = s.trim().splitn(3, '.');
        let floor = parts.next()?.parse().ok()?;
        let seq = parts.next()?.parse().ok()?;
        let index = parts.next()?.parse().ok()?;
        (floor >= 0 && seq >= 0 && index >= 0).then_some(EventId { floor, seq, index })
    }
}

impl std::fmt::Display for EventId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}.{}", self.floor, self.seq, self.index)
    }
}

/// An event as clients receive it (the JSON of its `data:` line).
#[derive(Debug, Clone, Serialize)]
pub struct LiveEvent {
    pub kind: &'static str,
    pub package: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// What an update changed (`deprecated`, `dist-tag next`, `metadata`, …).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// When the indexer wrote the change (RFC 3339).
    pub at: String,
    /// The page that shows it.
    pub url: String,
    /// `package@version:kind:seq`: the same event sent twice (a resume's overlap) has the same key.
    pub key: String,
    #[serde(skip)]
    pub seq: i64,
    #[serde(skip)]
    pub index: i32,
    /// The package's keywords (lowercased), for `?keyword=`.
    #[serde(skip)]
    pub keywords: Vec<String>,
}

impl LiveEvent {
    pub fn new(package: &PackageEvents, e: &StoredEvent) -> LiveEvent {
        let url = match (&e.version, e.kind) {
            (_, EventKind::Remove) | (None, _) => urls::package("", &package.name),
            (Some(v), _) => urls::version("", &package.name, v),
        };
        LiveEvent {
            kind: e.kind.as_str(),
            package: package.name.clone(),
            version: e.version.clone(),
            detail: e.detail.clone(),
            at: rfc3339(e.at),
            url,
            key: format!("{}@{}:{}:{}", package.name, e.version.as_deref().unwrap_or(""), e.kind.as_str(), e.seq),
            seq: e.seq,
            index: e.index,
            keywords: package.keywords.clone(),
        }
    }

    /// The event under its id, sent with `floor`.
    pub fn sse(&self, floor: i64) -> Event {
        let id = EventId { floor, seq: self.seq, index: self.index };
        let data = serde_json::to_string(self).unwrap_or_else(|_| "{}".into());
        Event::default().id(id.to_string()).event(self.kind).data(data)
    }

    /// Whether a client that asked for `filter` wants it.
    pub fn wanted(&self, filter: &Filter) -> bool {
        filter.package.as_ref().is_none_or(|p| *p == self.package)
            && filter.keyword.as_ref().is_none_or(|k| self.keywords.iter().any(|x| x == k))
    }
}

/// `?package=` and `?keyword=`.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub package: Option<String>,
    /// Lowercased, as keywords are kept.
    pub keyword: Option<String>,
}

fn rfc3339(at: DateTime) -> String {
    at.try_to_rfc3339_string().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_and_anything_else_is_refused() {
        let id = EventId { floor: 41, seq: 57, index: 2 };
        assert_eq!(EventId::parse(&id.to_string()), Some(id));
        for bad in ["", "41", "41.57", "a.b.c", "-1.2.3", "1.2.3.4x", "99999999999999999999.1.1"] {
            assert_eq!(EventId::parse(bad), None, "{bad}");
        }
    }
}
