//! Autocomplete: names starting with what was typed, the exact name first, then the most
//! depended upon (deprecated ones last). One term lookup in the `name_prefix` field, so a
//! one-letter prefix costs a scan of its postings, not of the term dictionary.

use std::sync::Arc;

use serde::Serialize;
use tantivy::collector::sort_key::NaturalComparator;
use tantivy::collector::{Collector, SegmentCollector, TopNComputer};
use tantivy::columnar::{ColumnValues, StrColumn};
use tantivy::query::TermQuery;
use tantivy::schema::IndexRecordOption;
use tantivy::{DocAddress, DocId, DocSet, Score, SegmentOrdinal, SegmentReader, TERMINATED, Term};

use super::engine::SearchEngine;
use super::results::hit;
use super::schema::{PREFIX_MAX_CHARS, Rank};

/// At most this many suggestions, whatever is asked.
pub const MAX_SUGGESTIONS: usize = 50;

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Suggestion {
    pub name: String,
    pub description: Option<String>,
}

impl SearchEngine {
    /// Up to `n` names starting with `prefix` (case-insensitive), most popular first.
    /// Errors are logged and answer nothing: autocomplete is best effort.
    pub fn suggest(&self, prefix: &str, n: usize) -> Vec<Suggestion> {
        match self.try_suggest(prefix, n.min(MAX_SUGGESTIONS)) {
            Ok(suggestions) => suggestions,
            Err(error) => {
                tracing::warn!(prefix, %error, "suggest failed");
                Vec::new()
            }
        }
    }

    fn try_suggest(&self, prefix: &str, n: usize) -> tantivy::Result<Vec<Suggestion>> {
        let prefix = prefix.trim().to_lowercase();
        if prefix.is_empty() || n == 0 {
            return Ok(Vec::new());
        }
        let indexed: String = prefix.chars().take(PREFIX_MAX_CHARS).collect();
        let collector = PrefixCollector {
            n,
            exact_name: Term::from_field_text(self.fields.name_exact, &prefix),
            // past the indexed prefixes, the name itself is checked
            longer_than_indexed: (indexed.len() < prefix.len()).then(|| prefix.clone()),
        };
        let query = TermQuery::new(Term::from_field_text(self.fields.name_prefix, &indexed), IndexRecordOption::Basic);
        let searcher = self.reader.searcher();
        let top = searcher.search(&query, &collector)?;
        top.into_iter()
            .map(|addr| {
                let hit = hit(&searcher, self, addr)?;
                Ok(Suggestion { name: hit.name, description: hit.description })
            })
            .collect()
    }
}

struct PrefixCollector {
    n: usize,
    exact_name: Term,
    longer_than_indexed: Option<String>,
}

struct PrefixSegmentCollector {
    segment_ord: SegmentOrdinal,
    rank: Arc<dyn ColumnValues<u64>>,
    dependents: Arc<dyn ColumnValues<u64>>,
    exact: Vec<DocId>,
    names: Option<(StrColumn, String, String)>,
    top: TopNComputer<u64, DocId, NaturalComparator>,
}

impl Collector for PrefixCollector {
    type Fruit = Vec<DocAddress>;
    type Child = PrefixSegmentCollector;

    fn for_segment(&self, segment_ord: SegmentOrdinal, segment: &SegmentReader) -> tantivy::Result<Self::Child> {
        let fast = segment.fast_fields();
        let mut exact = Vec::new();
        let postings = segment
            .inverted_index(self.exact_name.field())?
            .read_postings(&self.exact_name, IndexRecordOption::Basic)?;
        if let Some(mut postings) = postings {
            let mut doc = postings.doc();
            while doc != TERMINATED {
                exact.push(doc);
                doc = postings.advance();
            }
        }
        let names = match &self.longer_than_indexed {
            Some(prefix) => fast.str("name")?.map(|column| (column, prefix.clone(), String::new())),
            None => None,
        };
        Ok(PrefixSegmentCollector {
            segment_ord,
            rank: fast.u64("rank")?.first_or_default_col(0),
            dependents: fast.u64("dependents_count")?.first_or_default_col(0),
            exact,
            names,
            top: TopNComputer::new_with_comparator(self.n, NaturalComparator),
        })
    }

    fn requires_scoring(&self) -> bool {
        false
    }

    fn merge_fruits(&self, segments: Vec<Vec<(u64, DocAddress)>>) -> tantivy::Result<Vec<DocAddress>> {
        let mut all: Vec<(u64, DocAddress)> = segments.into_iter().flatten().collect();
        all.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        Ok(all.into_iter().take(self.n).map(|(_, addr)| addr).collect())
    }
}

impl SegmentCollector for PrefixSegmentCollector {
    type Fruit = Vec<(u64, DocAddress)>;

    fn collect(&mut self, doc: DocId, _score: Score) {
        if let Some((column, prefix, name)) = &mut self.names {
            let found = column.ords().first(doc).is_some_and(|ord| column.ord_to_str(ord, name).unwrap_or(false));
            if !found || !name.to_lowercase().starts_with(prefix.as_str()) {
                return;
            }
        }
        // exact name, then live before deprecated, then dependents
        let exact = u64::from(self.exact.contains(&doc)) << 63;
        let live = u64::from(!Rank(self.rank.get_val(doc)).deprecated()) << 62;
        self.top.push(exact | live | self.dependents.get_val(doc).min((1 << 62) - 1), doc);
    }

    fn harvest(self) -> Self::Fruit {
        let segment_ord = self.segment_ord;
        self.top.into_vec().into_iter().map(|d| (d.sort_key, DocAddress::new(segment_ord, d.doc))).collect()
    }
}
