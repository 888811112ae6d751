//! The ranking key, and a collector that computes it for every match (with the total and
//! the facet counts). The first pass of a search computes the same keys without visiting
//! every match (`pass.rs`); the fuzzy pass, small by nature, uses this collector.
//!
//! Ranking key, highest first:
//! - the exact name: `EXACT_TIER + boost`;
//! - a scoped package whose part after the scope is the query (`node` -> `@types/node`):
//!   `BARE_TIER + boost`;
//! - anything else: `text * boost`, where `text` is BM25 over name words (x3), keywords
//!   (x1.5) and description (x1), and `boost` = `(1 + 0.25 ln(1 + dependents))`, x1.15 when
//!   its GitHub repository had commits in the last 12 weeks, x0.2 when deprecated
//!   (precomputed at index time, see `schema::Rank`);
//! - with no free text (qualifiers and filters only): `boost`, i.e. by popularity.

use std::collections::BTreeMap;
use std::sync::Arc;

use tantivy::collector::sort_key::NaturalComparator;
use tantivy::collector::{Collector, SegmentCollector, TopNComputer};
use tantivy::columnar::{ColumnValues, StrColumn};
use tantivy::schema::IndexRecordOption;
use tantivy::{DocAddress, DocId, DocSet, Score, SegmentOrdinal, SegmentReader, TERMINATED, Term};

use super::schema::{Fields, Rank};

/// Above any text score: the exact name comes first, whatever its popularity.
pub const EXACT_TIER: f64 = 2e9;
/// Between the exact name and text matches.
pub const BARE_TIER: f64 = 1e9;
/// Above every tier: the exact matches kept ahead of fuzzy additions.
const PINNED_TIER: f64 = 1e12;

/// Ranks, counts and facets the documents a query matches.
pub struct RankCollector {
    pub fields: Fields,
    /// How many of the best to keep: offset + limit, at least 1.
    pub window: usize,
    /// Whether there is free text to score; otherwise by popularity.
    pub scored: bool,
    pub exact_name: Option<Term>,
    pub bare_name: Option<Term>,
    /// Documents placed first with their given key (the exact matches, in a fuzzy pass).
    pub pinned: Vec<(DocAddress, f64)>,
}

/// What the pass found.
#[derive(Debug, Default)]
pub struct Ranked {
    pub total: u64,
    /// Best first, at most `window`.
    pub top: Vec<(f64, DocAddress)>,
    pub licenses: BTreeMap<String, u64>,
    /// By module code (`schema::MODULE_NAMES`).
    pub modules: [u64; 4],
    /// By `has_types` code.
    pub types: [u64; 3],
    /// Whether a package of the exact name matched.
    pub exact_found: bool,
}

pub struct SegmentRanked {
    segment_ord: SegmentOrdinal,
    total: u64,
    top: Vec<(f64, DocId)>,
    licenses: Vec<(String, u64)>,
    modules: [u64; 4],
    types: [u64; 3],
}

pub struct RankSegmentCollector {
    segment_ord: SegmentOrdinal,
    rank: Arc<dyn ColumnValues<u64>>,
    license: Option<StrColumn>,
    license_counts: Vec<u32>,
    modules: [u64; 4],
    types: [u64; 3],
    total: u64,
    top: TopNComputer<f64, DocId, NaturalComparator>,
    /// (doc, base key, add the boost), by doc: the tiers and the pinned.
    special: Vec<(DocId, f64, bool)>,
    cursor: usize,
    scored: bool,
}

impl Collector for RankCollector {
    type Fruit = Ranked;
    type Child = RankSegmentCollector;

    fn for_segment(&self, segment_ord: SegmentOrdinal, segment: &SegmentReader) -> tantivy::Result<Self::Child> {
        let rank = segment.fast_fields().u64("rank")?.first_or_default_col(0);
        let license = segment.fast_fields().str("license_facet")?;
        let license_counts = license.as_ref().map_or(0, |l| l.dictionary().num_terms());
        let mut special: Vec<(DocId, f64, bool)> =
            tier_docs(segment, self.exact_name.as_ref(), self.bare_name.as_ref())?
                .into_iter()
                .map(|(doc, base)| (doc, base, true))
                .collect();
        special.extend(
            self.pinned
                .iter()
                .filter(|(addr, _)| addr.segment_ord == segment_ord)
                .map(|(addr, key)| (addr.doc_id, PINNED_TIER + key, false)),
        );
        special.sort_by(|a, b| a.0.cmp(&b.0).then(b.1.total_cmp(&a.1)));
        special.dedup_by_key(|s| s.0);
        Ok(RankSegmentCollector {
            segment_ord,
            rank,
            license,
            license_counts: vec![0; license_counts],
            modules: [0; 4],
            types: [0; 3],
            total: 0,
            top: TopNComputer::new_with_comparator(self.window.max(1), NaturalComparator),
            special,
            cursor: 0,
            scored: self.scored,
        })
    }

    fn requires_scoring(&self) -> bool {
        self.scored
    }

    fn merge_fruits(&self, segments: Vec<SegmentRanked>) -> tantivy::Result<Ranked> {
        let mut out = Ranked::default();
        let mut top = Vec::with_capacity(segments.iter().map(|s| s.top.len()).sum());
        for segment in segments {
            out.total += segment.total;
            top.extend(segment.top.into_iter().map(|(key, doc)| (key, DocAddress::new(segment.segment_ord, doc))));
            for (license, count) in segment.licenses {
                *out.licenses.entry(license).or_default() += count;
            }
            for (sum, n) in out.modules.iter_mut().zip(segment.modules) {
                *sum += n;
            }
            for (sum, n) in out.types.iter_mut().zip(segment.types) {
                *sum += n;
            }
        }
        top.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        top.truncate(self.window.max(1));
        out.top = top;
        Ok(out)
    }
}

/// The documents of `segment` in the exact-name and bare-name tiers, with the tier's base
/// key, by document; a document in both keeps the higher tier.
pub fn tier_docs(
    segment: &SegmentReader,
    exact: Option<&Term>,
    bare: Option<&Term>,
) -> tantivy::Result<Vec<(DocId, f64)>> {
    let mut docs = Vec::new();
    for (term, base) in [(exact, EXACT_TIER), (bare, BARE_TIER)] {
        let Some(term) = term else { continue };
        let postings = segment.inverted_index(term.field())?.read_postings(term, IndexRecordOption::Basic)?;
        if let Some(mut postings) = postings {
            let mut doc = postings.doc();
            while doc != TERMINATED {
                docs.push((doc, base));
                doc = postings.advance();
            }
        }
    }
    docs.sort_by(|a, b| a.0.cmp(&b.0).then(b.1.total_cmp(&a.1)));
    docs.dedup_by_key(|d| d.0);
    Ok(docs)
}

impl RankSegmentCollector {
    /// The tier or pinned key of `doc`; docs come in increasing order.
    #[inline]
    fn special(&mut self, doc: DocId) -> Option<(f64, bool)> {
        while let Some(&(d, base, add)) = self.special.get(self.cursor) {
            if d > doc {
                return None;
            }
            if d == doc {
                return Some((base, add));
            }
            self.cursor += 1;
        }
        None
    }
}

impl SegmentCollector for RankSegmentCollector {
    type Fruit = SegmentRanked;

    #[inline]
    fn collect(&mut self, doc: DocId, score: Score) {
        self.total += 1;
        let rank = Rank(self.rank.get_val(doc));
        self.modules[rank.module()] += 1;
        self.types[rank.types().min(2)] += 1;
        if let Some(ord) = self.license.as_ref().and_then(|l| l.ords().first(doc))
            && let Some(count) = self.license_counts.get_mut(ord as usize)
        {
            *count += 1;
        }
        let boost = rank.boost();
        let key = match self.special(doc) {
            Some((base, true)) => base + boost,
            Some((base, false)) => base,
            None if self.scored => f64::from(score) * boost,
            None => boost,
        };
        self.top.push(key, doc);
    }

    fn harvest(self) -> SegmentRanked {
        let mut licenses = Vec::new();
        if let Some(column) = &self.license {
            let mut name = String::new();
            for (ord, &count) in self.license_counts.iter().enumerate().filter(|(_, c)| **c > 0) {
                if column.ord_to_str(ord as u64, &mut name).unwrap_or(false) {
                    licenses.push((name.clone(), u64::from(count)));
                }
            }
        }
        SegmentRanked {
            segment_ord: self.segment_ord,
            total: self.total,
            top: self.top.into_vec().into_iter().map(|d| (d.sort_key, d.doc)).collect(),
            licenses,
            modules: self.modules,
            types: self.types,
        }
    }
}
