//! Which documents a query matches, as bitsets combined by set operations. Each leaf (a term,
//! a phrase) walks only its own postings, decoded a block at a time, and `and`/`or`/`not`
//! are word operations: a filter such as `has:types` over 350,000 packages costs a pass over
//! its postings, not a merge of iterators per matching document.
//!
//! `plan.rs` builds the tree next to the Tantivy query it mirrors; `pass.rs` tests that both
//! match the same documents.

use tantivy::query::{EnableScoring, Query};
use tantivy::schema::IndexRecordOption;
use tantivy::{Searcher, SegmentReader, Term};

use super::segment_sets::DocBits;

/// A query's matches as set operations over leaf queries.
pub enum MatchTree {
    /// Every document.
    All,
    /// The documents holding a term: read straight from its posting blocks.
    Term(Term),
    /// The documents a Tantivy query matches (phrases).
    Leaf(Box<dyn Query>),
    And(Vec<MatchTree>),
    Or(Vec<MatchTree>),
    Not(Box<MatchTree>),
}

impl Clone for MatchTree {
    fn clone(&self) -> Self {
        match self {
            MatchTree::All => MatchTree::All,
            MatchTree::Term(t) => MatchTree::Term(t.clone()),
            MatchTree::Leaf(q) => MatchTree::Leaf(q.box_clone()),
            MatchTree::And(c) => MatchTree::And(c.clone()),
            MatchTree::Or(c) => MatchTree::Or(c.clone()),
            MatchTree::Not(c) => MatchTree::Not(c.clone()),
        }
    }
}

impl MatchTree {
    /// The live documents of `segment` (of `searcher`) that match.
    pub fn matches(&self, searcher: &Searcher, segment: &SegmentReader) -> tantivy::Result<DocBits> {
        let mut bits = self.eval(searcher, segment)?;
        if let Some(alive) = segment.alive_bitset() {
            let dead: Vec<_> = bits.iter().filter(|d| !alive.is_alive(*d)).collect();
            for doc in dead {
                bits.remove(doc);
            }
        }
        Ok(bits)
    }

    fn eval(&self, searcher: &Searcher, segment: &SegmentReader) -> tantivy::Result<DocBits> {
        let max_doc = segment.max_doc();
        Ok(match self {
            MatchTree::All => DocBits::full(max_doc),
            MatchTree::Term(term) => {
                let mut bits = DocBits::new(max_doc);
                let postings =
                    segment.inverted_index(term.field())?.read_block_postings(term, IndexRecordOption::Basic)?;
                if let Some(mut block) = postings {
                    while !block.docs().is_empty() {
                        for &doc in block.docs() {
                            bits.insert(doc);
                        }
                        block.advance();
                    }
                }
                bits
            }
            MatchTree::Leaf(query) => {
                // phrases only, and few segments: a weight per segment costs nothing
                let weight = query.weight(EnableScoring::disabled_from_searcher(searcher))?;
                let mut bits = DocBits::new(max_doc);
                weight.for_each_no_score(segment, &mut |docs| {
                    for &doc in docs {
                        bits.insert(doc);
                    }
                })?;
                bits
            }
            MatchTree::And(children) => {
                // exclusions last: they only remove
                let (not, yes): (Vec<&MatchTree>, Vec<&MatchTree>) =
                    children.iter().partition(|c| matches!(c, MatchTree::Not(_)));
                let mut bits = match yes.split_first() {
                    Some((first, _)) => first.eval(searcher, segment)?,
                    None => DocBits::full(max_doc),
                };
                for child in yes.iter().skip(1) {
                    if bits.is_empty() {
                        break;
                    }
                    bits.and_assign(&child.eval(searcher, segment)?);
                }
                for child in not {
                    if bits.is_empty() {
                        break;
                    }
                    let MatchTree::Not(inner) = child else { continue };
                    bits.and_not_assign(&inner.eval(searcher, segment)?);
                }
                bits
            }
            MatchTree::Or(children) => {
                let mut bits = DocBits::new(max_doc);
                for child in children {
                    bits.or_assign(&child.eval(searcher, segment)?);
                }
                bits
            }
            MatchTree::Not(inner) => {
                let mut bits = DocBits::full(max_doc);
                bits.and_not_assign(&inner.eval(searcher, segment)?);
                bits
            }
        })
    }
}
