//! The first pass of a search, built so that a word matching a third of the registry still
//! answers in a few milliseconds. Per segment, two sweeps:
//! 1. every match, unscored, into a bitset: the total, the facet counts (intersections with
//!    the segment's facet bitsets, `segment_sets.rs`, or per document when the matches are
//!    few) and which documents of the name tiers match;
//! 2. the top of the ranking: the tier documents, then text matches through Tantivy's
//!    pruning loop (block-max WAND for a union of terms), which is asked only for scores
//!    above `k-th key / the segment's highest boost`: a document scoring less cannot enter
//!    the window whatever its popularity, so whole blocks of postings are skipped.
//!
//! Keys and order are those of `rank::RankCollector` (which the fuzzy pass still uses, with
//! its pinned documents); `tests` checks that both agree.

use std::cmp::Ordering;
use std::collections::{BTreeMap, BinaryHeap};

use tantivy::query::{EnableScoring, Weight};
use tantivy::{DocAddress, DocId, DocSet, Score, Searcher, SegmentReader, TERMINATED};

use super::engine::SearchEngine;
use super::plan::Plan;
use super::rank::{Ranked, tier_docs};
use super::schema::Rank;
use super::segment_sets::{DocBits, SegmentSets};

/// Up to this many matches in a segment, facets are read per document; above, by bitsets.
/// (Low in unit tests, whose segments are small, so that they cover both ways.)
const PER_DOC_FACETS_BELOW: u64 = if cfg!(test) { 64 } else { 4096 };

/// Ranks, counts and facets `plan`'s matches; keeps the best `window`.
pub fn first_pass(engine: &SearchEngine, searcher: &Searcher, plan: &Plan, window: usize) -> tantivy::Result<Ranked> {
    let matching = plan.matching();
    let scored = match plan.scored_text.as_deref() {
        // the text alone: filters score nothing, and the match set applies them
        Some(text) => Some(text.weight(EnableScoring::enabled_from_searcher(searcher))?),
        None => None,
    };
    let clauses = plan
        .scored_clauses
        .iter()
        .map(|q| q.weight(EnableScoring::enabled_from_searcher(searcher)))
        .collect::<tantivy::Result<Vec<_>>>()?;
    let mut out = Ranked::default();
    let mut top = Top::new(window.max(1));
    for (ord, segment) in searcher.segment_readers().iter().enumerate() {
        let sets = engine.sets.get(segment)?;
        let matches = matching.matches(searcher, segment)?;
        if matches.is_empty() {
            continue;
        }
        let count = matches.len();
        out.total += count;
        count_facets(segment, &sets, &matches, count, &mut out)?;

        let rank = segment.fast_fields().u64("rank")?.first_or_default_col(0);
        let boost = |doc: DocId| Rank(rank.get_val(doc)).boost();
        let address = |doc: DocId| DocAddress::new(ord as u32, doc);
        let tiers: Vec<(DocId, f64)> = tier_docs(segment, plan.exact_name.as_ref(), plan.bare_name.as_ref())?
            .into_iter()
            .filter(|(doc, _)| matches.contains(*doc))
            .collect();
        out.exact_found |= tiers.iter().any(|(_, base)| *base == super::rank::EXACT_TIER);
        for (doc, base) in &tiers {
            top.push(base + boost(*doc), address(*doc));
        }
        let is_tier = |doc: DocId| tiers.binary_search_by(|(d, _)| d.cmp(&doc)).is_ok();
        // the matches are known: the ranking only has to find the best of them
        let ranked = |doc: DocId| matches.contains(doc) && !is_tier(doc);
        match &scored {
            Some(_) if plan.units > 1 => {
                // several words: their intersection is known, each clause adds its scores
                let docs: Vec<DocId> = matches.iter().filter(|d| !is_tier(*d)).collect();
                let scores = clause_scores(&clauses, segment, &docs)?;
                for (doc, score) in docs.into_iter().zip(scores) {
                    top.push(f64::from(score) * boost(doc), address(doc));
                }
            }
            Some(weight) => {
                // the most popular matches first, scored clause by clause: the rest cannot be
                // lifted by more than the highest boost among them, a much tighter bound
                let popular: Vec<DocId> = matches.and_iter(&sets.popular).filter(|d| !is_tier(*d)).collect();
                let scores = clause_scores(&clauses, segment, &popular)?;
                for (&doc, score) in popular.iter().zip(scores) {
                    top.push(f64::from(score) * boost(doc), address(doc));
                }
                let ranked = |doc: DocId| ranked(doc) && !sets.popular.contains(doc);
                let max_boost = sets.rest_max_boost.max(f64::MIN_POSITIVE);
                let threshold = |top: &Top| match top.kth() {
                    // a little below, so that rounding to f32 never skips a document that ties
                    Some(kth) => ((kth / max_boost) * (1.0 - 1e-6)) as Score,
                    None => Score::MIN,
                };
                let start = threshold(&top);
                weight.for_each_pruning(start, segment, &mut |doc, score| {
                    if ranked(doc) {
                        top.push(f64::from(score) * boost(doc), address(doc));
                    }
                    threshold(&top)
                })?;
            }
            None => {
                // by popularity alone: the first matches in popularity order are the best
                let mut wanted = top.k;
                for &doc in sets.by_boost.iter() {
                    if wanted == 0 {
                        break;
                    }
                    if ranked(doc) {
                        top.push(boost(doc), address(doc));
                        wanted -= 1;
                    }
                }
            }
        }
    }
    out.top = top.into_sorted();
    Ok(out)
}

/// The text score of each of `docs` (increasing, each matching the text): the sum of the
/// scores of the clauses it matches.
fn clause_scores(clauses: &[Box<dyn Weight>], segment: &SegmentReader, docs: &[DocId]) -> tantivy::Result<Vec<f32>> {
    let mut scores = vec![0.0f32; docs.len()];
    for clause in clauses {
        let mut scorer = clause.scorer(segment, 1.0)?;
        // the documents are a small part of each clause's postings: seek (skipping blocks)
        for (i, &doc) in docs.iter().enumerate() {
            let mut at = scorer.doc();
            if at < doc {
                at = scorer.seek(doc);
            }
            if at == TERMINATED {
                break;
            }
            if at == doc {
                scores[i] += scorer.score();
            }
        }
    }
    Ok(scores)
}

fn count_facets(
    segment: &SegmentReader,
    sets: &SegmentSets,
    matches: &DocBits,
    count: u64,
    out: &mut Ranked,
) -> tantivy::Result<()> {
    let license = segment.fast_fields().str("license_facet")?;
    let mut per_ord: BTreeMap<u64, u64> = BTreeMap::new();
    let count_license = |per_ord: &mut BTreeMap<u64, u64>, doc: DocId| {
        if let Some(ord) = license.as_ref().and_then(|l| l.ords().first(doc)) {
            *per_ord.entry(ord).or_default() += 1;
        }
    };
    if count < PER_DOC_FACETS_BELOW {
        let rank = segment.fast_fields().u64("rank")?.first_or_default_col(0);
        for doc in matches.iter() {
            let r = Rank(rank.get_val(doc));
            out.modules[r.module()] += 1;
            out.types[r.types().min(2)] += 1;
            count_license(&mut per_ord, doc);
        }
    } else {
        for (sum, set) in out.modules.iter_mut().zip(&sets.modules) {
            *sum += matches.and_count(set);
        }
        for (sum, set) in out.types.iter_mut().zip(&sets.types) {
            *sum += matches.and_count(set);
        }
        for (ord, set) in &sets.licenses {
            let n = matches.and_count(set);
            if n > 0 {
                *per_ord.entry(*ord).or_default() += n;
            }
        }
        for doc in matches.and_iter(&sets.other_licenses) {
            count_license(&mut per_ord, doc);
        }
    }
    if let Some(column) = &license {
        let mut name = String::new();
        for (ord, n) in per_ord {
            if column.ord_to_str(ord, &mut name)? {
                *out.licenses.entry(name.clone()).or_default() += n;
            }
        }
    }
    Ok(())
}

/// The best `k` (key, address): highest key first, then lowest address.
struct Top {
    k: usize,
    // the root is the worst kept
    heap: BinaryHeap<Entry>,
}

#[derive(PartialEq)]
struct Entry(f64, DocAddress);

impl Eq for Entry {}

impl Ord for Entry {
    /// Greater = worse: a lower key, or the same key at a later address.
    fn cmp(&self, other: &Self) -> Ordering {
        other.0.total_cmp(&self.0).then(self.1.cmp(&other.1))
    }
}

impl PartialOrd for Entry {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Top {
    fn new(k: usize) -> Top {
        Top { k, heap: BinaryHeap::with_capacity(k + 1) }
    }

    #[inline]
    fn push(&mut self, key: f64, addr: DocAddress) {
        let entry = Entry(key, addr);
        if self.heap.len() < self.k {
            self.heap.push(entry);
        } else if self.heap.peek().is_some_and(|worst| entry < *worst) {
            self.heap.pop();
            self.heap.push(entry);
        }
    }

    /// The lowest key kept, once `k` are kept: below it nothing gets in.
    #[inline]
    fn kth(&self) -> Option<f64> {
        (self.heap.len() >= self.k).then(|| self.heap.peek().map(|e| e.0)).flatten()
    }

    fn into_sorted(self) -> Vec<(f64, DocAddress)> {
        self.heap.into_sorted_vec().into_iter().map(|Entry(key, addr)| (key, addr)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::search::doc::SearchDoc;
    use crate::search::query;
    use crate::search::rank::RankCollector;

    #[test]
    fn top_keeps_the_best_and_breaks_ties_by_address() {
        let mut top = Top::new(3);
        let at = |d| DocAddress::new(0, d);
        for (key, doc) in [(1.0, 1), (5.0, 2), (3.0, 3), (5.0, 4), (0.5, 5), (3.0, 0)] {
            top.push(key, at(doc));
        }
        assert_eq!(top.kth(), Some(3.0));
        assert_eq!(top.into_sorted(), [(5.0, at(2)), (5.0, at(4)), (3.0, at(0))]);
    }

    /// A deterministic mix of names, words, licenses, facts and popularity.
    fn corpus(n: usize, salt: usize) -> Vec<SearchDoc> {
        let words = ["fast", "json", "parser", "tiny", "react", "hooks", "node", "stream", "typed", "cli"];
        let licenses = ["MIT", "ISC", "Apache-2.0", "(MIT OR Apache-2.0)", "BSD-3-Clause", "GPL-3.0"];
        (0..n)
            .map(|i| {
                let k = i * 7 + salt;
                let w = |j: usize| words[(k / (j + 1) + j * 3) % words.len()];
                SearchDoc {
                    name: if i % 11 == 0 {
                        format!("@s{}/{}-{i}-{salt}", k % 5, w(0))
                    } else {
                        format!("{}-{}-{i}-{salt}", w(0), w(1))
                    },
                    description: Some(format!("{} {} {} for {}", w(2), w(3), w(1), w(4))),
                    keywords: vec![w(5).to_string(), w(2).to_string()],
                    license: (i % 13 != 0).then(|| licenses[k % licenses.len()].to_string()),
                    // a license per package in a few: more than the bitset licenses
                    deprecated: i % 17 == 0,
                    has_types: [Some(true), Some(false), None][k % 3],
                    module_type: [Some("esm"), Some("cjs"), Some("dual"), None][k % 4].map(str::to_string),
                    dependents_count: (k * k % 1000) as u64 * if i % 97 == 0 { 1000 } else { 1 },
                    ..SearchDoc::default()
                }
            })
            .collect()
    }

    /// The bitset pass and the collector over every match agree: totals, facets, the order
    /// of the top (equal keys may swap), on several segments with deletions.
    #[test]
    fn the_first_pass_ranks_counts_and_facets_like_the_full_collector() {
        let dir = tempfile::tempdir().expect("temp dir");
        let (engine, _) = SearchEngine::open_or_create(dir.path()).expect("open");
        for salt in 0..3 {
            let mut docs = corpus(3000, salt);
            // more licenses than get a bitset, so that some are counted per document
            for (i, d) in docs.iter_mut().enumerate().filter(|(i, _)| i % 3 == 1) {
                d.license = Some(format!("LicenseRef-{}", i % 37));
            }
            engine.upsert(&docs).expect("upsert");
            engine.commit("test").expect("commit");
        }
        let gone: Vec<String> = corpus(3000, 1).into_iter().step_by(5).map(|d| d.name).collect();
        engine.remove(&gone).expect("remove");
        engine.upsert(&corpus(40, 7)).expect("upsert");
        engine.commit("test").expect("commit");
        let searcher = engine.reader.searcher();
        assert!(searcher.segment_readers().len() > 1, "several segments");
        assert!(searcher.segment_readers().iter().any(|s| s.alive_bitset().is_some()), "deletions");

        for q in [
            "fast",
            "json",
            "typed",
            "fast json",
            "react hooks node",
            "\"fast json\"",
            "json not:deprecated",
            "parser has:types",
            "fast license:mit",
            "module:esm",
            "has:types not:deprecated",
            "is:deprecated",
            "license:mit",
            "keywords:cli",
            "fast-json-3-0",
            "json-1-0",
            "react-hooks-5-2 fast",
            "nothing-matches-this",
        ] {
            for window in [1, 20, 500] {
                let plan = Plan::new(&engine.fields, &query::parse(q).expect(q), &mut engine.analyzers.clone());
                let new = first_pass(&engine, &searcher, &plan, window).expect("first pass");
                let full = RankCollector {
                    fields: engine.fields,
                    window,
                    scored: plan.text.is_some(),
                    exact_name: plan.exact_name.clone(),
                    bare_name: plan.bare_name.clone(),
                    pinned: Vec::new(),
                };
                let old = searcher.search(&*plan.query(plan.text.as_deref()), &full).expect("collector");
                assert_eq!(
                    (new.total, &new.licenses, new.modules, new.types),
                    (old.total, &old.licenses, old.modules, old.types),
                    "{q:?}"
                );
                assert_eq!(new.top.len(), old.top.len(), "{q:?} window {window}");
                let close = |a: f64, b: f64| (a - b).abs() <= 1e-5 * a.abs().max(1.0);
                for (i, ((nk, na), (ok, oa))) in new.top.iter().zip(&old.top).enumerate() {
                    assert!(close(*nk, *ok), "{q:?} window {window} at {i}: key {nk} vs {ok}");
                    let tied = |j: usize| old.top.get(j).is_some_and(|(k, _)| close(*k, *ok));
                    let tie = tied(i + 1) || (i > 0 && tied(i - 1));
                    if !tie {
                        assert_eq!(na, oa, "{q:?} window {window} at {i}");
                    }
                }
            }
        }
    }
}
