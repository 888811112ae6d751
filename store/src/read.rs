//! Reads on the request path: every one a key lookup or an indexed range. The query-shape
//! test (`tests/query_shapes.rs`) explains every shape the services send.

use mongodb::bson::doc;

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

pub use crate::browse::{BrowseList, ListItem, ListSort};
