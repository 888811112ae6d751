//! What facet counting and pruning need to know about a whole segment, computed once per
//! segment (segments never change; deletions are applied to the match set instead): the
//! documents of each facet value as bitsets, so that counting a facet over 300,000 matches
//! is a few thousand word ANDs instead of 300,000 fast-field reads; the documents in
//! popularity order; and the most popular ones apart, with the highest boost of the rest,
//! which bounds how far popularity can lift their text scores.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use tantivy::index::SegmentId;
use tantivy::{DocId, Searcher, SegmentReader};

use super::schema::Rank;

/// Licenses with their own bitset, the most common first; the rest are counted per document.
pub const BITSET_LICENSES: usize = 16;

/// A set of documents of one segment, one bit each.
#[derive(Debug, Clone)]
pub struct DocBits {
    words: Vec<u64>,
}

impl DocBits {
    pub fn new(max_doc: DocId) -> DocBits {
        DocBits { words: vec![0; (max_doc as usize).div_ceil(64)] }
    }

    /// Every document below `max_doc`.
    pub fn full(max_doc: DocId) -> DocBits {
        let mut bits = DocBits { words: vec![u64::MAX; (max_doc as usize).div_ceil(64)] };
        if let Some(last) = bits.words.last_mut()
            && !max_doc.is_multiple_of(64)
        {
            *last = (1 << (max_doc % 64)) - 1;
        }
        bits
    }

    #[inline]
    pub fn remove(&mut self, doc: DocId) {
        if let Some(w) = self.words.get_mut(doc as usize / 64) {
            *w &= !(1 << (doc % 64));
        }
    }

    pub fn and_assign(&mut self, other: &DocBits) {
        self.words.iter_mut().zip(&other.words).for_each(|(a, b)| *a &= b);
        // beyond `other`'s documents there are none in both
        self.words.iter_mut().skip(other.words.len()).for_each(|a| *a = 0);
    }

    pub fn and_not_assign(&mut self, other: &DocBits) {
        self.words.iter_mut().zip(&other.words).for_each(|(a, b)| *a &= !b);
    }

    pub fn or_assign(&mut self, other: &DocBits) {
        self.words.iter_mut().zip(&other.words).for_each(|(a, b)| *a |= b);
    }

    #[inline]
    pub fn insert(&mut self, doc: DocId) {
        if let Some(w) = self.words.get_mut(doc as usize / 64) {
            *w |= 1 << (doc % 64);
        }
    }

    #[inline]
    pub fn contains(&self, doc: DocId) -> bool {
        self.words.get(doc as usize / 64).is_some_and(|w| w >> (doc % 64) & 1 == 1)
    }

    pub fn len(&self) -> u64 {
        self.words.iter().map(|w| u64::from(w.count_ones())).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.words.iter().all(|w| *w == 0)
    }

    /// How many documents are in both sets.
    pub fn and_count(&self, other: &DocBits) -> u64 {
        self.words.iter().zip(&other.words).map(|(a, b)| u64::from((a & b).count_ones())).sum()
    }

    /// The documents in both sets, in increasing order.
    pub fn and_iter<'a>(&'a self, other: &'a DocBits) -> impl Iterator<Item = DocId> + 'a {
        self.words.iter().zip(&other.words).enumerate().flat_map(|(i, (a, b))| bits(a & b, i))
    }

    /// The documents, in increasing order.
    pub fn iter(&self) -> impl Iterator<Item = DocId> + '_ {
        self.words.iter().enumerate().flat_map(|(i, w)| bits(*w, i))
    }
}

fn bits(mut word: u64, index: usize) -> impl Iterator<Item = DocId> {
    std::iter::from_fn(move || {
        if word == 0 {
            return None;
        }
        let bit = word.trailing_zeros();
        word &= word - 1;
        Some((index * 64) as DocId + bit)
    })
}

/// One segment's facet bitsets and popularity order.
#[derive(Debug)]
pub struct SegmentSets {
    /// By module code (`schema::MODULE_NAMES`).
    pub modules: [DocBits; 4],
    /// By `has_types` code.
    pub types: [DocBits; 3],
    /// (license ordinal in the segment's `license_facet` column, its documents).
    pub licenses: Vec<(u64, DocBits)>,
    /// Documents with a license not in `licenses`.
    pub other_licenses: DocBits,
    /// Every document, most popular first (ties by document): the ranking of a query
    /// without free text is the first matches met in this order.
    pub by_boost: Vec<DocId>,
    /// The most popular documents ([`POPULAR_SHARE`] of them), ranked apart so that the
    /// others' scores are bounded by `rest_max_boost` instead of the segment's highest boost.
    pub popular: DocBits,
    /// The highest boost of a document outside `popular`.
    pub rest_max_boost: f64,
}

/// The share of a segment's documents in [`SegmentSets::popular`]: 1/64.
const POPULAR_SHARE: usize = 64;

impl SegmentSets {
    pub fn build(segment: &SegmentReader) -> tantivy::Result<SegmentSets> {
        let max_doc = segment.max_doc();
        let rank = segment.fast_fields().u64("rank")?.first_or_default_col(0);
        let license = segment.fast_fields().str("license_facet")?;
        let mut modules: [DocBits; 4] = std::array::from_fn(|_| DocBits::new(max_doc));
        let mut types: [DocBits; 3] = std::array::from_fn(|_| DocBits::new(max_doc));
        let mut ords: Vec<Option<u64>> = Vec::with_capacity(max_doc as usize);
        let mut boosts: Vec<(u64, DocId)> = Vec::with_capacity(max_doc as usize);
        let mut per_ord: HashMap<u64, u64> = HashMap::new();
        for doc in 0..max_doc {
            let r = Rank(rank.get_val(doc));
            boosts.push((r.boost_fixed(), doc));
            modules[r.module()].insert(doc);
            types[r.types().min(2)].insert(doc);
            let ord = license.as_ref().and_then(|l| l.ords().first(doc));
            if let Some(ord) = ord {
                *per_ord.entry(ord).or_default() += 1;
            }
            ords.push(ord);
        }
        let mut common: Vec<(u64, u64)> = per_ord.into_iter().collect();
        common.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        common.truncate(BITSET_LICENSES);
        let slot: HashMap<u64, usize> = common.iter().enumerate().map(|(i, (ord, _))| (*ord, i)).collect();
        let mut licenses: Vec<(u64, DocBits)> = common.iter().map(|(ord, _)| (*ord, DocBits::new(max_doc))).collect();
        let mut other_licenses = DocBits::new(max_doc);
        for (doc, ord) in ords.into_iter().enumerate() {
            let Some(ord) = ord else { continue };
            match slot.get(&ord) {
                Some(&i) => licenses[i].1.insert(doc as DocId),
                None => other_licenses.insert(doc as DocId),
            }
        }
        boosts.sort_unstable_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        let by_boost: Vec<DocId> = boosts.iter().map(|(_, doc)| *doc).collect();
        let n_popular = (max_doc as usize).div_ceil(POPULAR_SHARE);
        let mut popular = DocBits::new(max_doc);
        for &doc in by_boost.iter().take(n_popular) {
            popular.insert(doc);
        }
        let rest_max_boost = boosts.get(n_popular).map_or(0.0, |(fixed, _)| Rank(*fixed).boost());
        Ok(SegmentSets { modules, types, licenses, other_licenses, by_boost, popular, rest_max_boost })
    }
}

/// [`SegmentSets`] by segment, for the segments of the current searcher.
#[derive(Default)]
pub struct SetsCache {
    by_segment: Mutex<HashMap<SegmentId, Arc<SegmentSets>>>,
}

impl SetsCache {
    /// The sets of `segment`, built on first use.
    pub fn get(&self, segment: &SegmentReader) -> tantivy::Result<Arc<SegmentSets>> {
        let id = segment.segment_id();
        if let Some(sets) = self.lock().get(&id) {
            return Ok(sets.clone());
        }
        // built outside the lock: a large segment takes tens of milliseconds
        let sets = Arc::new(SegmentSets::build(segment)?);
        self.lock().insert(id, sets.clone());
        Ok(sets)
    }

    /// Builds the sets of `searcher`'s segments and forgets those of merged-away ones: after
    /// each reload, so that no search pays for a new segment.
    pub fn warm(&self, searcher: &Searcher) -> tantivy::Result<()> {
        for segment in searcher.segment_readers() {
            self.get(segment)?;
        }
        let live: std::collections::HashSet<SegmentId> =
            searcher.segment_readers().iter().map(SegmentReader::segment_id).collect();
        self.lock().retain(|id, _| live.contains(id));
        Ok(())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<SegmentId, Arc<SegmentSets>>> {
        self.by_segment.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bits_count_and_iterate() {
        let mut a = DocBits::new(200);
        let mut b = DocBits::new(200);
        for d in [0, 5, 63, 64, 130, 199] {
            a.insert(d);
        }
        for d in [5, 64, 131, 199] {
            b.insert(d);
        }
        assert_eq!(a.len(), 6);
        assert_eq!(a.and_count(&b), 3);
        assert_eq!(a.and_iter(&b).collect::<Vec<_>>(), [5, 64, 199]);
        assert_eq!(a.iter().collect::<Vec<_>>(), [0, 5, 63, 64, 130, 199]);
        assert!(a.contains(63) && !a.contains(62));
        a.insert(500); // beyond the segment: ignored, not a panic
        assert_eq!(a.len(), 6);
        let full = DocBits::full(130);
        assert_eq!((full.len(), full.contains(129), full.contains(130)), (130, true, false));
        let mut c = a.clone();
        c.and_not_assign(&b);
        assert_eq!(c.iter().collect::<Vec<_>>(), [0, 63, 130]);
        c.or_assign(&b);
        c.remove(0);
        assert_eq!(c.iter().collect::<Vec<_>>(), [5, 63, 64, 130, 131, 199]);
        c.and_assign(&full);
        assert_eq!(c.iter().collect::<Vec<_>>(), [5, 63, 64]);
    }
}
