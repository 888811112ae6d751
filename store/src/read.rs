//! Reads on the request path: every one a key lookup or an indexed range. Their query
//! shapes are listed in [`query_shapes`], which the explain test checks for collection
//! scans and in-memory sorts.

use mongodb::bson::{Document, doc};

use crate::db::{Store, coll};
use crate::error::{Result, StoreError};
use crate::model::{DepKind, Dependents, DependentsPage, Package, dependents_page_id};

impl Store {
    /// A package record by name.
    pub async fn package(&self, name: &str) -> Result<Option<Package>> {
        self.database()
            .collection::<Package>(coll::PACKAGES)
            .find_one(doc! { "_id": name })
            .await
            .map_err(StoreError::mongo("find", coll::PACKAGES))
    }

    /// Counts, page layout and top 10 of `name`'s dependents (one key lookup).
    pub async fn dependents(&self, name: &str) -> Result<Option<Dependents>> {
        self.database()
            .collection::<Dependents>(coll::DEPENDENTS)
            .find_one(doc! { "_id": name })
            .await
            .map_err(StoreError::mongo("find", coll::DEPENDENTS))
    }

    /// Page `page` (from 1) of `name`'s `kind` dependents (one key lookup, whatever the
    /// list's length).
    pub async fn dependents_page(&self, name: &str, kind: DepKind, page: i64) -> Result<Option<DependentsPage>> {
        self.database()
            .collection::<DependentsPage>(coll::DEPENDENT_PAGES)
            .find_one(doc! { "_id": dependents_page_id(name, kind, page) })
            .await
            .map_err(StoreError::mongo("find", coll::DEPENDENT_PAGES))
    }
}

pub use crate::browse::{BrowseList, ListItem};

/// A query the services issue: collection, filter, sort.
#[derive(Debug, Clone)]
pub struct QueryShape {
    pub what: &'static str,
    pub collection: &'static str,
    pub filter: Document,
    pub sort: Option<Document>,
}

/// Every query shape issued on a request path or per item of a run, with sample values.
/// A new query belongs here, so the explain test proves it uses an index.
pub fn query_shapes() -> Vec<QueryShape> {
    let shape = |what, collection, filter, sort| QueryShape { what, collection, filter, sort };
    vec![
        shape("package by name", coll::PACKAGES, doc! { "_id": "react" }, None),
        shape("packages of a batch", coll::PACKAGES, doc! { "_id": { "$in": ["a", "b"] } }, None),
        shape("version by id", coll::VERSIONS, doc! { "_id": "react@1.0.0" }, None),
        shape("versions of a package", coll::VERSIONS, doc! { "package": "react" }, None),
        shape("dependents of a package", coll::DEPENDENTS, doc! { "_id": "react" }, None),
        shape(
            "a dependents page",
            coll::DEPENDENT_PAGES,
            doc! { "_id": dependents_page_id("react", DepKind::Prod, 3) },
            None,
        ),
        shape(
            "the page holding a dependent",
            coll::DEPENDENT_PAGES,
            doc! { "target": "react", "kind": "prod", "items.n": "react-dom" },
            None,
        ),
        shape("edges of a list", coll::EDGES, doc! { "target": "react", "kind": "prod" }, None),
        shape(
            "the stored pages of lists (rerank)",
            coll::DEPENDENT_PAGES,
            doc! { "target": { "$in": ["react", "vue"] } },
            None,
        ),
        shape("edges of a source", coll::EDGES, doc! { "source": "react-dom" }, None),
        shape("lists to rerank", coll::DEPENDENTS, doc! { "dirty": true }, None),
        shape(
            "the next download",
            coll::SOURCES,
            doc! { "due_at": { "$lte": mongodb::bson::DateTime::now() } },
            Some(doc! { "due_at": 1 }),
        ),
        shape("downloads by state", coll::SOURCES, doc! { "state": "pending" }, None),
        shape("a version's source", coll::SOURCES, doc! { "_id": "react@1.0.0" }, None),
        shape("sources of a package", coll::SOURCES, doc! { "package": "react" }, None),
        shape("results of an older extractor", coll::SOURCES, doc! { "extractor": { "$lt": 2 } }, None),
        shape("a file tree page", coll::TREES, doc! { "source": "react@1.0.0", "page": 1 }, None),
        // the delete of released blobs adds `refs <= 0`, checked on the documents found by key
        shape("released blobs", coll::BLOBS, doc! { "_id": { "$in": ["a", "b"] } }, None),
        shape("packages marked stale", coll::PACKAGES, doc! { "stale": true }, None),
        shape(
            "packages due for a refresh",
            coll::PACKAGES,
            doc! { "checked_at": { "$lt": mongodb::bson::DateTime::now() } },
            Some(doc! { "checked_at": 1 }),
        ),
        shape("packages by state", coll::PACKAGES, doc! { "state": "unpublished" }, None),
        shape("changed since", coll::PACKAGES, doc! { "seq": { "$gt": 10 } }, Some(doc! { "seq": 1 })),
        shape("a browse list", coll::BROWSE_LISTS, doc! { "_id": "recent" }, None),
        shape("packages with a keyword", coll::PACKAGES, doc! { "kw": "parser", "state": "active" }, None),
        shape("packages of a person", coll::PACKAGES, doc! { "people": "sindresorhus", "state": "active" }, None),
    ]
}
