//! Running a search: parse, plan, one ranked pass (`pass.rs`; a second with fuzzy names when
//! the first finds little and not the package named), then the page's hits from the doc store.

use std::collections::BTreeMap;

use serde::Serialize;
use tantivy::schema::{Field, Value};
use tantivy::{DocAddress, Searcher, TantivyDocument};

use super::engine::SearchEngine;
use super::pass::first_pass;
use super::plan::Plan;
use super::query::{self, QueryError};
use super::rank::{RankCollector, Ranked};
use super::schema::{MODULE_NAMES, TYPES_FALSE, TYPES_TRUE};

/// Below this many exact matches, fuzzy name matches are added.
pub const FUZZY_BELOW: usize = 5;
/// Deepest result reachable by paging (offset + limit): deeper pages are empty.
pub const MAX_WINDOW: usize = 10_000;

/// One search's answer: `/api/v1/search` serializes it as is.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct SearchResults {
    /// Every match, fuzzy ones included when `fuzzy`.
    pub total: u64,
    pub results: Vec<Hit>,
    /// Counts over every match, not just this page.
    pub facets: Facets,
    /// The best fuzzy name, when the query itself matched nothing.
    pub did_you_mean: Option<String>,
    /// Whether fuzzy name matches were added.
    pub fuzzy: bool,
}

/// One result, renderable without the database.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Hit {
    pub name: String,
    pub description: Option<String>,
    pub version: Option<String>,
    pub license: Option<String>,
    pub dependents_count: u64,
    pub deprecated: bool,
    /// `None` until the tarball was looked at.
    pub has_types: Option<bool>,
    pub module_type: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Facets {
    /// License expression as published -> count.
    pub license: BTreeMap<String, u64>,
    /// `esm`, `cjs`, `dual` -> count.
    pub module_type: BTreeMap<String, u64>,
    /// `"true"`, `"false"` -> count (unknown is neither).
    pub has_types: BTreeMap<String, u64>,
}

impl SearchEngine {
    /// Searches; `limit` hits from `offset`, best first. Call from `spawn_blocking`.
    pub fn search(&self, q: &str, limit: usize, offset: usize) -> Result<SearchResults, QueryError> {
        let parsed = query::parse(q)?;
        let mut analyzers = self.analyzers.clone();
        let plan = Plan::new(&self.fields, &parsed, &mut analyzers);
        let offset = offset.min(MAX_WINDOW);
        let limit = limit.min(MAX_WINDOW - offset);
        let window = offset + limit;
        let searcher = self.reader.searcher();

        // every exact match is kept when fuzzy ones may follow: they stay ahead
        let mut ranked = first_pass(self, &searcher, &plan, window.max(FUZZY_BELOW))?;
        let mut fuzzy = false;
        let mut did_you_mean = None;
        // the package named is not "little": look-alikes are for typos
        if ranked.total < FUZZY_BELOW as u64
            && !ranked.exact_found
            && let Some(fuzzy_text) = plan.fuzzy_text.as_deref()
        {
            let widened = RankCollector {
                fields: self.fields,
                window: window.max(1),
                scored: true,
                exact_name: None,
                bare_name: None,
                pinned: ranked.top.iter().map(|(key, addr)| (*addr, *key)).collect(),
            };
            let widened = searcher.search(&*plan.query(Some(fuzzy_text)), &widened)?;
            if widened.total > ranked.total {
                fuzzy = true;
                if ranked.total == 0
                    && let Some((_, best)) = widened.top.first()
                {
                    did_you_mean = Some(hit(&searcher, self, *best)?.name);
                }
                ranked = widened;
            }
        }
        let results = ranked
            .top
            .iter()
            .skip(offset)
            .take(limit)
            .map(|(_, addr)| hit(&searcher, self, *addr))
            .collect::<tantivy::Result<Vec<Hit>>>()?;
        Ok(SearchResults { total: ranked.total, results, facets: facets(&ranked), did_you_mean, fuzzy })
    }
}

fn facets(ranked: &Ranked) -> Facets {
    let module_type = (1..MODULE_NAMES.len())
        .filter(|&code| ranked.modules[code] > 0)
        .map(|code| (MODULE_NAMES[code].to_string(), ranked.modules[code]))
        .collect();
    let has_types = BTreeMap::from([
        ("true".to_string(), ranked.types[TYPES_TRUE as usize]),
        ("false".to_string(), ranked.types[TYPES_FALSE as usize]),
    ]);
    Facets { license: ranked.licenses.clone(), module_type, has_types }
}

pub(super) fn hit(searcher: &Searcher, engine: &SearchEngine, addr: DocAddress) -> tantivy::Result<Hit> {
    let doc: TantivyDocument = searcher.doc(addr)?;
    let f = &engine.fields;
    let text = |field: Field| doc.get_first(field).and_then(|v| v.as_str().map(str::to_string));
    Ok(Hit {
        name: text(f.name).unwrap_or_default(),
        description: text(f.description),
        version: text(f.version),
        license: text(f.license),
        dependents_count: doc.get_first(f.dependents_count).and_then(|v| v.as_u64()).unwrap_or(0),
        deprecated: doc.get_first(f.deprecated).and_then(|v| v.as_bool()).unwrap_or(false),
        has_types: match doc.get_first(f.has_types).and_then(|v| v.as_u64()) {
            Some(TYPES_TRUE) => Some(true),
            Some(TYPES_FALSE) => Some(false),
            _ => None,
        },
        module_type: text(f.module_type),
    })
}
