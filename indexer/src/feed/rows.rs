//! One line of CouchDB output → an [`Item`].
//!
//! Accepted, in any mix: `_all_docs` rows (`{"id","key","value":{"rev"},"doc"}`), changes
//! (`{"seq","id","changes":[{"rev"}],"deleted"?,"doc"?}`), `{"last_seq":…}`, and the
//! framing CouchDB puts around them (`{"total_rows":…,"rows":[`, `"results":[`, `]}`,
//! trailing or leading commas).

use nodules_npm::normalize::limits::truncate;
use nodules_npm::normalize::raw::BorrowedStr;
use serde::Deserialize;
use serde_json::value::RawValue;

use crate::pipeline::incoming::{DocItem, Incoming, Item};

#[derive(Deserialize)]
struct Row<'a> {
    #[serde(borrow)]
    id: Option<BorrowedStr<'a>>,
    #[serde(borrow)]
    value: Option<RowValue<'a>>,
    #[serde(borrow)]
    doc: Option<&'a RawValue>,
    #[serde(borrow)]
    seq: Option<&'a RawValue>,
    #[serde(borrow)]
    changes: Option<Vec<ChangeRev<'a>>>,
    deleted: Option<bool>,
    #[serde(borrow)]
    last_seq: Option<&'a RawValue>,
    #[serde(borrow)]
    error: Option<BorrowedStr<'a>>,
}

#[derive(Deserialize)]
struct RowValue<'a> {
    #[serde(borrow)]
    rev: Option<BorrowedStr<'a>>,
    deleted: Option<bool>,
}

#[derive(Deserialize)]
struct ChangeRev<'a> {
    #[serde(borrow)]
    rev: Option<BorrowedStr<'a>>,
}

/// Parses lines of one input, naming it in messages.
pub struct RowParser {
    label: String,
}

impl RowParser {
    pub fn new(label: impl Into<String>) -> Self {
        RowParser { label: label.into() }
    }

    /// The item on line `line_no`, or `None` for framing and blank lines.
    pub fn parse(&self, line: &[u8], line_no: u64) -> Option<Item> {
        parse_row(line, &format!("{}:{line_no}", self.label))
    }

    /// The item for a line that was longer than the cap.
    pub fn too_long(&self, line_no: u64, len: u64, max: usize) -> Item {
        Item {
            origin: format!("{}:{line_no}", self.label),
            seq: None,
            incoming: Incoming::Bad { name: None, reason: format!("row of {len} bytes is over the {max}-byte limit") },
        }
    }
}

/// Parses one line; `origin` names it in messages.
pub fn parse_row(line: &[u8], origin: &str) -> Option<Item> {
    let mut s = trim(line);
    // framing: `]}`, `],`, `"last_seq":…}` after a normal feed's results
    if let Some(rest) = s.strip_prefix(b"]") {
        s = trim(rest.strip_prefix(b",").unwrap_or(rest));
        if s.is_empty() || s == b"}" {
            return None;
        }
    }
    if s.starts_with(b"\"last_seq\"") {
        let mut obj = b"{".to_vec();
        obj.extend_from_slice(s);
        return parse_row(&obj, origin);
    }
    s = s.strip_prefix(b",").map(trim).unwrap_or(s);
    s = s.strip_suffix(b",").map(trim).unwrap_or(s);
    if s.is_empty() || s == b"[" || s == b"]" || s == b"}" || s == b"{" {
        return None;
    }
    // header of a dump or a normal changes feed: `{"total_rows":N,"offset":0,"rows":[`
    if s.ends_with(b"[") && (contains(s, b"\"rows\"") || contains(s, b"\"results\"")) {
        return None;
    }
    let item = |incoming| Some(Item { origin: origin.to_string(), seq: None, incoming });
    let row: Row<'_> = match serde_json::from_slice(s) {
        Ok(r) => r,
        Err(e) => {
            return item(Incoming::Bad { name: None, reason: format!("invalid JSON: {e}") });
        }
    };
    let seq = row.seq.map(seq_text);
    let with_seq = |incoming| Some(Item { origin: origin.to_string(), seq: seq.clone(), incoming });
    let id = row.id.map(|i| i.0.into_owned());
    if let (Some(last), None) = (row.last_seq, &id) {
        return with_seq(Incoming::LastSeq(seq_text(last)));
    }
    let rev = row
        .value
        .as_ref()
        .and_then(|v| v.rev.as_ref())
        .or_else(|| row.changes.as_ref().and_then(|c| c.first()).and_then(|c| c.rev.as_ref()))
        .map(|r| truncate(&r.0, 200));
    let deleted = row.deleted == Some(true) || row.value.as_ref().and_then(|v| v.deleted) == Some(true);
    if let Some(error) = row.error {
        return with_seq(Incoming::Bad { name: id, reason: format!("row error: {}", truncate(&error.0, 200)) });
    }
    if deleted {
        return match id {
            Some(name) => with_seq(Incoming::Deleted { name, rev }),
            None => with_seq(Incoming::Bad { name: None, reason: "deletion without an id".into() }),
        };
    }
    match (row.doc, id) {
        (Some(doc), hint) if doc.get() != "null" => {
            // a copy, not a second parse: the row's parse has validated it
            let doc = doc.to_owned();
            with_seq(Incoming::Doc(DocItem { hint, rev, change_rev: None, doc, etag: None, last_modified: None }))
        }
        (_, Some(name)) => with_seq(Incoming::Stale { name, rev }),
        (_, None) => with_seq(Incoming::Bad { name: None, reason: "row has neither a document nor an id".into() }),
    }
}

/// A `seq` as text: CouchDB 2+ sends strings, older feeds numbers.
fn seq_text(raw: &RawValue) -> String {
    serde_json::from_str::<String>(raw.get()).unwrap_or_else(|_| truncate(raw.get(), 200))
}

fn trim(s: &[u8]) -> &[u8] {
    s.trim_ascii()
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Option<Incoming> {
        parse_row(s.as_bytes(), "t:1").map(|i| i.incoming)
    }

    #[test]
    fn framing_is_skipped() {
        for s in ["{\"total_rows\":3,\"offset\":0,\"rows\":[", "]}", "", "  ", "],", "{\"results\":["] {
            assert!(parse(s).is_none(), "{s}");
        }
    }

    #[test]
    fn all_docs_rows() {
        match parse(r#"{"id":"a","key":"a","value":{"rev":"1-x"},"doc":{"_id":"a"}},"#) {
            Some(Incoming::Doc(d)) => {
                assert_eq!(d.hint.as_deref(), Some("a"));
                assert_eq!(d.rev.as_deref(), Some("1-x"));
                assert_eq!(d.doc.get(), r#"{"_id":"a"}"#);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn changes() {
        let item = parse_row(br#"{"seq":12,"id":"b","changes":[{"rev":"2-y"}]}"#, "t").expect("item");
        assert_eq!(item.seq.as_deref(), Some("12"));
        assert!(
            matches!(item.incoming, Incoming::Stale { ref name, ref rev } if name == "b" && rev.as_deref() == Some("2-y"))
        );
        assert!(matches!(
            parse(r#"{"seq":"13-g","id":"c","changes":[{"rev":"3-z"}],"deleted":true}"#),
            Some(Incoming::Deleted { .. })
        ));
        assert!(matches!(parse(r#"{"last_seq":"99-abc","pending":0}"#), Some(Incoming::LastSeq(s)) if s == "99-abc"));
        assert!(matches!(parse(r#""last_seq":42}"#), Some(Incoming::LastSeq(s)) if s == "42"));
    }

    #[test]
    fn bad_rows_say_why() {
        assert!(
            matches!(parse(r#"{"id":"a","doc":{"x":"#), Some(Incoming::Bad { reason, .. }) if reason.starts_with("invalid JSON"))
        );
        assert!(matches!(parse(r#"{"id":"a","error":"not_found"}"#), Some(Incoming::Bad { .. })));
        assert!(matches!(parse(r#"[1,2,3]"#), Some(Incoming::Bad { .. })));
    }
}
