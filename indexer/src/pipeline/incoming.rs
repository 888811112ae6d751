//! What the readers (dump, feed, registry fetches) hand to the pipeline.

use serde_json::value::RawValue;

/// A package document to normalize and store.
#[derive(Debug)]
pub struct DocItem {
    /// The name the row or the request gave (the document's `_id` wins).
    pub hint: Option<String>,
    /// `_rev` from the row; else the document's `_rev`, else `change_rev`, else a hash of
    /// the content is the revision.
    pub rev: Option<String>,
    /// The revision a feed announced for a document fetched separately.
    pub change_rev: Option<String>,
    pub doc: Box<RawValue>,
    /// Conditional-request validators from the registry's answer.
    pub etag: Option<String>,
    pub last_modified: Option<String>,
}

/// One thing learned about one package.
#[derive(Debug)]
pub enum Incoming {
    Doc(DocItem),
    /// Deleted from the registry: leaves the site.
    Deleted {
        name: String,
        rev: Option<String>,
    },
    /// Changed, but the feed did not carry the document: `fetch --stale` gets it.
    Stale {
        name: String,
        rev: Option<String>,
    },
    /// The registry answered 304: still current.
    NotModified {
        name: String,
    },
    /// Fetching ran out of retries: marked stale, retried next run.
    Failed {
        name: String,
        reason: String,
    },
    /// Cannot be a package (not JSON, not an object, no name).
    Bad {
        name: Option<String>,
        reason: String,
    },
    /// A feed's `last_seq`.
    LastSeq(String),
}

/// An [`Incoming`] with where it came from.
#[derive(Debug)]
pub struct Item {
    /// For messages: `dump.json:42`, `fetch react`, `seq 12345`.
    pub origin: String,
    /// The feed sequence this item was at, for checkpoints.
    pub seq: Option<String>,
    pub incoming: Incoming,
}

impl Item {
    /// Bytes it holds (for the in-flight memory budget).
    pub fn size(&self) -> usize {
        match &self.incoming {
            Incoming::Doc(d) => d.doc.get().len(),
            _ => 64,
        }
    }
}
