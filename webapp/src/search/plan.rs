//! A [`ParsedQuery`] as Tantivy queries: the free-text part (what is scored), its fuzzy
//! variant (asked only when the exact one finds little), and the filters (never scored).

use tantivy::Term;
use tantivy::query::{
    AllQuery, BooleanQuery, BoostQuery, ConstScoreQuery, EmptyQuery, FuzzyTermQuery, Occur, PhraseQuery, Query,
    TermQuery,
};
use tantivy::schema::IndexRecordOption;
use tantivy::tokenizer::TextAnalyzer;

use super::match_set::MatchTree;
use super::query::ParsedQuery;
use super::schema::{Fields, TYPES_TRUE};

/// Text relevance weights by field: the name says most about a package.
pub const NAME_WEIGHT: f32 = 3.0;
pub const KEYWORDS_WEIGHT: f32 = 1.5;
pub const DESCRIPTION_WEIGHT: f32 = 1.0;
/// Score of a name within the fuzzy distance of the whole query (plus as much again at
/// distance 1, so the closer name wins among equally popular ones).
pub const FUZZY_NAME_SCORE: f32 = 3.0;
/// Score of a name word within the fuzzy distance of a query word.
pub const FUZZY_WORD_SCORE: f32 = 1.0;
/// Words shorter than this are not corrected: too many names are one edit away.
pub const FUZZY_MIN_CHARS: usize = 3;

/// Levenshtein distance allowed for a word: 1 up to 5 characters, 2 beyond.
pub fn fuzzy_distance(word: &str) -> u8 {
    if word.chars().count() <= 5 { 1 } else { 2 }
}

/// What the engine runs.
pub struct Plan {
    /// The scored part; `None` for a query of qualifiers and filters only.
    pub text: Option<Box<dyn Query>>,
    /// `text` without the exact and bare name clauses (those rank by tier, not by score):
    /// only BM25 terms, so Tantivy can skip blocks that cannot reach the top (block-max WAND).
    pub scored_text: Option<Box<dyn Query>>,
    /// The text part widened with fuzzy name matches, when any word can be corrected.
    pub fuzzy_text: Option<Box<dyn Query>>,
    /// Lowercased query when it could be a package name: exact-name tier.
    pub exact_name: Option<Term>,
    /// The same, for names after a scope: `node` -> `@types/node`.
    pub bare_name: Option<Term>,
    filters: Vec<(Occur, Term)>,
    /// `text`'s matches as set operations (see `match_set.rs`).
    text_tree: Option<MatchTree>,
    /// Every weighted clause of `scored_text` (a word or phrase in one field); a document's
    /// score is the sum of those it matches.
    pub scored_clauses: Vec<Box<dyn Query>>,
    /// Words and phrases in the free text (each must match).
    pub units: usize,
}

/// The analyzers the plan tokenizes the query with: the ones the fields were indexed with.
#[derive(Clone)]
pub struct Analyzers {
    pub name: TextAnalyzer,
    pub text: TextAnalyzer,
}

impl Plan {
    pub fn new(f: &Fields, parsed: &ParsedQuery, analyzers: &mut Analyzers) -> Plan {
        let name = parsed.name_candidate();
        let exact_name = name.as_deref().map(|n| Term::from_field_text(f.name_exact, n));
        let bare_name = name.as_deref().filter(|n| !n.contains('/')).map(|n| Term::from_field_text(f.name_bare, n));
        let (text, scored_text, fuzzy_text, text_tree, scored_clauses, n_units) = if parsed.had_text {
            let units: Vec<Unit> = parsed.text.iter().map(|part| Unit::new(part, analyzers)).collect();
            let text = text_query(f, &units, exact_name.as_ref(), bare_name.as_ref());
            let scored = text_query(f, &units, None, None);
            let fuzzy = fuzzy_query(f, &units, name.as_deref(), &text);
            let tree = text_tree(f, &units, exact_name.as_ref(), bare_name.as_ref());
            let clauses = units.iter().flat_map(|u| unit_clauses(f, u)).collect();
            (Some(text), Some(scored), fuzzy, Some(tree), clauses, units.len())
        } else {
            (None, None, None, None, Vec::new(), 0)
        };
        Plan {
            text,
            scored_text,
            fuzzy_text,
            exact_name,
            bare_name,
            filters: filters(f, parsed),
            text_tree,
            scored_clauses,
            units: n_units,
        }
    }

    /// The whole query: `text` (when given) and every filter.
    pub fn query(&self, text: Option<&dyn Query>) -> Box<dyn Query> {
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::with_capacity(self.filters.len() + 2);
        if let Some(text) = text {
            clauses.push((Occur::Must, text.box_clone()));
        }
        // filters match, they do not score
        clauses.extend(self.filters.iter().map(|(occur, term)| -> (Occur, Box<dyn Query>) {
            let query = TermQuery::new(term.clone(), IndexRecordOption::Basic);
            (*occur, Box::new(ConstScoreQuery::new(Box::new(query), 0.0)))
        }));
        if !clauses.iter().any(|(occur, _)| *occur == Occur::Must) {
            // exclusions alone match nothing: exclude from everything
            clauses.push((Occur::Must, Box::new(AllQuery)));
        }
        if let [(Occur::Must, _)] = clauses.as_slice() {
            return clauses.pop().map(|(_, q)| q).unwrap_or_else(|| Box::new(AllQuery));
        }
        Box::new(BooleanQuery::new(clauses))
    }
    /// What `query(text)` matches, as set operations.
    pub fn matching(&self) -> MatchTree {
        let mut and: Vec<MatchTree> = self.text_tree.iter().cloned().collect();
        for (occur, term) in &self.filters {
            let leaf = MatchTree::Term(term.clone());
            and.push(if *occur == Occur::MustNot { MatchTree::Not(Box::new(leaf)) } else { leaf });
        }
        match and.len() {
            0 => MatchTree::All,
            _ => MatchTree::And(and),
        }
    }
}

/// `text_query`'s matches: every unit (a word or phrase in any of the text fields), or the
/// exact or bare name.
fn text_tree(f: &Fields, units: &[Unit], exact: Option<&Term>, bare: Option<&Term>) -> MatchTree {
    let unit_tree = |unit: &Unit| -> Option<MatchTree> {
        let leaves: Vec<MatchTree> =
            [(f.name_tokens, &unit.name_words), (f.keywords_text, &unit.text_words), (f.description, &unit.text_words)]
                .into_iter()
                .filter_map(|(field, words)| match words.as_slice() {
                    [] => None,
                    [word] => Some(MatchTree::Term(Term::from_field_text(field, word))),
                    _ => words_query(field, words, 1.0).map(MatchTree::Leaf),
                })
                .collect();
        (!leaves.is_empty()).then_some(MatchTree::Or(leaves))
    };
    let mut or: Vec<MatchTree> = Vec::new();
    let units: Vec<MatchTree> = units.iter().filter_map(unit_tree).collect();
    if !units.is_empty() {
        or.push(MatchTree::And(units));
    }
    or.extend(exact.into_iter().chain(bare).map(|t| MatchTree::Term(t.clone())));
    MatchTree::Or(or)
}

/// One word or phrase, as the name field and the prose fields tokenize it.
struct Unit {
    name_words: Vec<String>,
    text_words: Vec<String>,
}

impl Unit {
    fn new(part: &str, analyzers: &mut Analyzers) -> Unit {
        Unit { name_words: tokens(&mut analyzers.name, part), text_words: tokens(&mut analyzers.text, part) }
    }
}

fn tokens(analyzer: &mut TextAnalyzer, text: &str) -> Vec<String> {
    let mut stream = analyzer.token_stream(text);
    let mut out = Vec::new();
    while let Some(token) = stream.next() {
        out.push(token.text.clone());
    }
    out
}

/// Matches `words` in `field`: one term, or a phrase of adjacent terms.
fn words_query(field: tantivy::schema::Field, words: &[String], weight: f32) -> Option<Box<dyn Query>> {
    let query: Box<dyn Query> = match words {
        [] => return None,
        [word] => Box::new(TermQuery::new(Term::from_field_text(field, word), IndexRecordOption::WithFreqs)),
        _ => Box::new(PhraseQuery::new(words.iter().map(|w| Term::from_field_text(field, w)).collect())),
    };
    Some(Box::new(BoostQuery::new(query, weight)))
}

/// A unit matches in the name, the keywords or the description; `None` if it has no word.
fn unit_query(f: &Fields, unit: &Unit) -> Option<Box<dyn Query>> {
    let should = unit_clauses(f, unit);
    (!should.is_empty()).then(|| Box::new(BooleanQuery::union(should)) as Box<dyn Query>)
}

/// A unit's weighted clauses: in the name, the keywords, the description.
fn unit_clauses(f: &Fields, unit: &Unit) -> Vec<Box<dyn Query>> {
    [
        words_query(f.name_tokens, &unit.name_words, NAME_WEIGHT),
        words_query(f.keywords_text, &unit.text_words, KEYWORDS_WEIGHT),
        words_query(f.description, &unit.text_words, DESCRIPTION_WEIGHT),
    ]
    .into_iter()
    .flatten()
    .collect()
}

/// Every unit must match; the exact name and a scoped package's bare name match too.
fn text_query(f: &Fields, units: &[Unit], exact: Option<&Term>, bare: Option<&Term>) -> Box<dyn Query> {
    let mut should: Vec<Box<dyn Query>> = Vec::new();
    let mut must: Vec<Box<dyn Query>> = units.iter().filter_map(|unit| unit_query(f, unit)).collect();
    if must.len() == 1 {
        should.extend(must.pop());
    } else if !must.is_empty() {
        should.push(Box::new(BooleanQuery::intersection(must)));
    }
    // their rank comes from their tier, not from a score
    for term in exact.into_iter().chain(bare) {
        let query = TermQuery::new(term.clone(), IndexRecordOption::Basic);
        should.push(Box::new(ConstScoreQuery::new(Box::new(query), 0.0)));
    }
    match should.len() {
        0 => Box::new(EmptyQuery),
        1 => should.pop().unwrap_or_else(|| Box::new(EmptyQuery)),
        _ => Box::new(BooleanQuery::union(should)),
    }
}

/// The exact text, or every unit matched exactly or by a name word within the fuzzy
/// distance, or the whole query within the fuzzy distance of a name. `None` when no word
/// is long enough to correct.
fn fuzzy_query(f: &Fields, units: &[Unit], name: Option<&str>, text: &dyn Query) -> Option<Box<dyn Query>> {
    let mut corrected = false;
    let mut must: Vec<Box<dyn Query>> = Vec::with_capacity(units.len());
    for unit in units {
        let mut should: Vec<Box<dyn Query>> = unit_query(f, unit).into_iter().collect();
        let fuzzy_words: Vec<Box<dyn Query>> = unit
            .name_words
            .iter()
            .map(|word| -> Box<dyn Query> {
                let term = Term::from_field_text(f.name_tokens, word);
                if word.chars().count() < FUZZY_MIN_CHARS {
                    return Box::new(ConstScoreQuery::new(
                        Box::new(TermQuery::new(term, IndexRecordOption::Basic)),
                        0.0,
                    ));
                }
                corrected = true;
                let fuzzy = FuzzyTermQuery::new(term, fuzzy_distance(word), true);
                Box::new(ConstScoreQuery::new(Box::new(fuzzy), FUZZY_WORD_SCORE))
            })
            .collect();
        if !fuzzy_words.is_empty() {
            should.push(Box::new(BooleanQuery::intersection(fuzzy_words)));
        }
        if should.is_empty() {
            continue;
        }
        must.push(Box::new(BooleanQuery::union(should)));
    }
    let mut should: Vec<Box<dyn Query>> = vec![text.box_clone()];
    if !must.is_empty() {
        should.push(Box::new(BooleanQuery::intersection(must)));
    }
    if let Some(name) = name.filter(|n| n.chars().count() >= FUZZY_MIN_CHARS) {
        corrected = true;
        let term = Term::from_field_text(f.name_exact, name);
        let distance = fuzzy_distance(name);
        for d in 1..=distance {
            let fuzzy = FuzzyTermQuery::new(term.clone(), d, true);
            should.push(Box::new(ConstScoreQuery::new(Box::new(fuzzy), FUZZY_NAME_SCORE)));
        }
    }
    corrected.then(|| Box::new(BooleanQuery::union(should)) as Box<dyn Query>)
}

/// The qualifiers and filters, each one term a package must (or must not) have.
fn filters(f: &Fields, parsed: &ParsedQuery) -> Vec<(Occur, Term)> {
    let term = |term: Term| term;
    let mut out: Vec<(Occur, Term)> = Vec::new();
    for (field, values) in [
        (f.keyword, &parsed.keywords),
        (f.author, &parsed.authors),
        (f.maintainer, &parsed.maintainers),
        (f.license_id, &parsed.licenses),
    ] {
        out.extend(values.iter().map(|v| (Occur::Must, term(Term::from_field_text(field, v)))));
    }
    out.extend(parsed.modules.iter().map(|m| (Occur::Must, term(Term::from_field_text(f.module_type, m)))));
    if parsed.is_deprecated {
        out.push((Occur::Must, term(Term::from_field_bool(f.deprecated, true))));
    }
    if parsed.not_deprecated {
        out.push((Occur::MustNot, term(Term::from_field_bool(f.deprecated, true))));
    }
    if parsed.is_archived {
        out.push((Occur::Must, term(Term::from_field_bool(f.archived, true))));
    }
    if parsed.not_archived {
        out.push((Occur::MustNot, term(Term::from_field_bool(f.archived, true))));
    }
    if parsed.has_types {
        out.push((Occur::Must, term(Term::from_field_u64(f.has_types, TYPES_TRUE))));
    }
    out
}
