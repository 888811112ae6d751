//! Every field of the search index, its tokenizers, and how a [`SearchDoc`] becomes a
//! Tantivy document. Changing anything here, or the ranking constants baked into
//! [`RANK`], means bumping [`SCHEMA_VERSION`]: the webapp then rebuilds the index.

use tantivy::schema::{FAST, Field, INDEXED, IndexRecordOption, STORED, Schema, TextFieldIndexing, TextOptions};
use tantivy::tokenizer::{Language, LowerCaser, NgramTokenizer, RawTokenizer, RemoveLongFilter, SimpleTokenizer};
use tantivy::tokenizer::{Stemmer, TextAnalyzer};
use tantivy::{Index, TantivyDocument};

use super::doc::SearchDoc;
use super::tokenize::NameTokenizer;

/// Bump on any change to the fields, their tokenizers or what [`to_document`] puts in them.
pub const SCHEMA_VERSION: u32 = 2;

/// `npm_name`: a package name split into words (`@babel/preset-env` -> babel preset env).
pub const NAME_TOKENIZER: &str = "npm_name";
/// `raw_lower`: the whole value as one lowercased term, for exact qualifiers.
pub const RAW_LOWER_TOKENIZER: &str = "raw_lower";
/// `name_prefix`: every prefix of the lowercased name up to [`PREFIX_MAX_CHARS`], for suggest.
pub const PREFIX_TOKENIZER: &str = "name_prefix";
/// English prose: descriptions and keywords as text.
pub const TEXT_TOKENIZER: &str = "en_words";

/// Longest name prefix indexed for suggest; longer prefixes are checked against the name.
pub const PREFIX_MAX_CHARS: usize = 20;
/// Longest word kept by the word tokenizers: longer ones are hashes or base64, not words.
const MAX_WORD_BYTES: usize = 40;

/// How much popularity lifts a text match: `1 + POPULARITY_WEIGHT * ln(1 + dependents)`.
pub const POPULARITY_WEIGHT: f64 = 0.25;
/// What a deprecated package's boost is multiplied by: demoted, still found.
pub const DEPRECATED_FACTOR: f64 = 0.2;
/// What the boost of a package whose GitHub repository had commits in the last 12 weeks
/// is multiplied by: a slight lift, less than a tenfold difference in dependents makes.
pub const ACTIVE_FACTOR: f64 = 1.15;
/// Fixed-point scale of the boost stored in [`RANK`].
pub const BOOST_SCALE: f64 = 1024.0;

/// Handles to every field, resolved once.
#[derive(Debug, Clone, Copy)]
pub struct Fields {
    /// The name as published: the document's identity (`delete_term`), stored, fast.
    pub name: Field,
    /// Lowercased name, one term: the exact-name match and fuzzy names.
    pub name_exact: Field,
    /// Lowercased part after `@scope/`, scoped packages only: `node` finds `@types/node`.
    pub name_bare: Field,
    /// Name words (`npm_name`), with positions: the strongest text signal.
    pub name_tokens: Field,
    /// Name prefixes (suggest).
    pub name_prefix: Field,
    /// Description as English text, stored for display.
    pub description: Field,
    /// Keywords as English text (relevance).
    pub keywords_text: Field,
    /// Keywords lowercased, one term each (`keywords:`).
    pub keyword: Field,
    /// Author name lowercased (`author:`).
    pub author: Field,
    /// Maintainer names lowercased (`maintainer:`).
    pub maintainer: Field,
    /// License expression as published, stored for display.
    pub license: Field,
    /// Lowercased license expression and each SPDX id in it (`license:`).
    pub license_id: Field,
    /// License expression, fast: the license facet.
    pub license_facet: Field,
    /// Deprecated flag: indexed (`is:deprecated`), fast, stored.
    pub deprecated: Field,
    /// Its GitHub repository is archived: indexed (`is:archived`).
    pub archived: Field,
    /// 0 no types, 1 types, 2 unknown: indexed (`has:types`), fast, stored.
    pub has_types: Field,
    /// `esm`, `cjs` or `dual`: indexed (`module:`), fast, stored.
    pub module_type: Field,
    /// Prod dependents: fast (suggest order), stored.
    pub dependents_count: Field,
    /// Last modification, seconds since the epoch: fast.
    pub modified: Field,
    /// Latest version, stored for display.
    pub version: Field,
    /// [`Rank`] packed in one u64: everything the ranking reads per document, in one fast read.
    pub rank: Field,
}

/// `has_types` values as indexed.
pub const TYPES_FALSE: u64 = 0;
pub const TYPES_TRUE: u64 = 1;
pub const TYPES_UNKNOWN: u64 = 2;

/// The schema, and the handles to its fields.
pub fn build() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let raw_lower = |record: IndexRecordOption| text_indexed(RAW_LOWER_TOKENIZER, record, false);
    let fields = Fields {
        name: b
            .add_text_field("name", text_indexed("raw", IndexRecordOption::Basic, false).set_stored().set_fast("raw")),
        name_exact: b.add_text_field("name_exact", raw_lower(IndexRecordOption::Basic)),
        name_bare: b.add_text_field("name_bare", raw_lower(IndexRecordOption::Basic)),
        name_tokens: b.add_text_field(
            "name_tokens",
            text_indexed(NAME_TOKENIZER, IndexRecordOption::WithFreqsAndPositions, true),
        ),
        name_prefix: b.add_text_field("name_prefix", text_indexed(PREFIX_TOKENIZER, IndexRecordOption::Basic, false)),
        description: b.add_text_field(
            "description",
            text_indexed(TEXT_TOKENIZER, IndexRecordOption::WithFreqsAndPositions, true).set_stored(),
        ),
        keywords_text: b.add_text_field(
            "keywords_text",
            text_indexed(TEXT_TOKENIZER, IndexRecordOption::WithFreqsAndPositions, true),
        ),
        keyword: b.add_text_field("keyword", raw_lower(IndexRecordOption::Basic)),
        author: b.add_text_field("author", raw_lower(IndexRecordOption::Basic)),
        maintainer: b.add_text_field("maintainer", raw_lower(IndexRecordOption::Basic)),
        license: b.add_text_field("license", STORED),
        license_id: b.add_text_field("license_id", raw_lower(IndexRecordOption::Basic)),
        license_facet: b.add_text_field("license_facet", TextOptions::default().set_fast("raw")),
        deprecated: b.add_bool_field("deprecated", INDEXED | FAST | STORED),
        archived: b.add_bool_field("archived", INDEXED),
        has_types: b.add_u64_field("has_types", INDEXED | FAST | STORED),
        module_type: b.add_text_field(
            "module_type",
            text_indexed("raw", IndexRecordOption::Basic, false).set_stored().set_fast("raw"),
        ),
        dependents_count: b.add_u64_field("dependents_count", FAST | STORED),
        modified: b.add_i64_field("modified", FAST),
        version: b.add_text_field("version", STORED),
        rank: b.add_u64_field("rank", FAST),
    };
    (b.build(), fields)
}

fn text_indexed(tokenizer: &str, record: IndexRecordOption, fieldnorms: bool) -> TextOptions {
    TextOptions::default().set_indexing_options(
        TextFieldIndexing::default().set_tokenizer(tokenizer).set_index_option(record).set_fieldnorms(fieldnorms),
    )
}

/// Registers the tokenizers the schema names: on every open, Tantivy does not persist them.
pub fn register_tokenizers(index: &Index) {
    let tokenizers = index.tokenizers();
    tokenizers.register(NAME_TOKENIZER, name_analyzer());
    tokenizers.register(TEXT_TOKENIZER, text_analyzer());
    tokenizers.register(RAW_LOWER_TOKENIZER, TextAnalyzer::builder(RawTokenizer::default()).filter(LowerCaser).build());
    // min 1 <= max: the constructor cannot fail with these constants
    if let Ok(prefixes) = NgramTokenizer::prefix_only(1, PREFIX_MAX_CHARS) {
        tokenizers.register(PREFIX_TOKENIZER, TextAnalyzer::builder(prefixes).filter(LowerCaser).build());
    }
}

/// Package-name words, lowercased.
pub fn name_analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(NameTokenizer::default()).filter(RemoveLongFilter::limit(MAX_WORD_BYTES)).build()
}

/// English words, lowercased and stemmed.
pub fn text_analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(MAX_WORD_BYTES))
        .filter(LowerCaser)
        .filter(Stemmer::new(Language::English))
        .build()
}

/// The module type as indexed; `None` for anything but the three known ones.
pub fn module_code(module_type: Option<&str>) -> u64 {
    match module_type {
        Some("esm") => 1,
        Some("cjs") => 2,
        Some("dual") => 3,
        _ => 0,
    }
}

/// The names of module codes 1..=3, for facets.
pub const MODULE_NAMES: [&str; 4] = ["", "esm", "cjs", "dual"];

/// What ranking and facets read per matching document, packed in the `rank` fast field:
/// bits 0..16 the popularity boost (fixed point, [`BOOST_SCALE`]), bit 16 deprecated,
/// bits 17..19 `has_types`, bits 19..21 the module code.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rank(pub u64);

impl Rank {
    pub fn pack(doc: &SearchDoc) -> Rank {
        let boost = popularity_boost(doc.dependents_count, doc.deprecated, doc.active);
        let boost = (boost * BOOST_SCALE).round().clamp(1.0, f64::from(u16::MAX)) as u64;
        Rank(
            boost
                | u64::from(doc.deprecated) << 16
                | types_code(doc.has_types) << 17
                | module_code(doc.module_type.as_deref()) << 19,
        )
    }
    /// The popularity boost (>= 1 for live packages), as a multiplier of text relevance.
    #[inline]
    pub fn boost(self) -> f64 {
        self.boost_fixed() as f64 / BOOST_SCALE
    }
    /// The boost as stored: ordered like [`boost`](Self::boost).
    #[inline]
    pub fn boost_fixed(self) -> u64 {
        self.0 & 0xFFFF
    }
    #[inline]
    pub fn deprecated(self) -> bool {
        self.0 >> 16 & 1 == 1
    }
    /// [`TYPES_FALSE`], [`TYPES_TRUE`] or [`TYPES_UNKNOWN`].
    #[inline]
    pub fn types(self) -> usize {
        (self.0 >> 17 & 3) as usize
    }
    /// 0 unknown, then esm, cjs, dual ([`MODULE_NAMES`]).
    #[inline]
    pub fn module(self) -> usize {
        (self.0 >> 19 & 3) as usize
    }
}

/// `1 + POPULARITY_WEIGHT * ln(1 + dependents)`, times [`DEPRECATED_FACTOR`] when deprecated
/// and [`ACTIVE_FACTOR`] when its repository is active.
pub fn popularity_boost(dependents: u64, deprecated: bool, active: bool) -> f64 {
    let boost = 1.0 + POPULARITY_WEIGHT * (dependents as f64).ln_1p();
    let boost = if active { boost * ACTIVE_FACTOR } else { boost };
    if deprecated { boost * DEPRECATED_FACTOR } else { boost }
}

fn types_code(has_types: Option<bool>) -> u64 {
    match has_types {
        Some(false) => TYPES_FALSE,
        Some(true) => TYPES_TRUE,
        None => TYPES_UNKNOWN,
    }
}

/// The part after `@scope/`, or `None` for an unscoped name.
pub fn bare_name(name: &str) -> Option<&str> {
    name.strip_prefix('@').and_then(|scoped| scoped.split_once('/')).map(|(_, bare)| bare).filter(|b| !b.is_empty())
}

/// The SPDX ids in a license expression: `(MIT OR Apache-2.0)` -> `MIT`, `Apache-2.0`.
pub fn license_ids(expression: &str) -> impl Iterator<Item = &str> {
    expression
        .split(|c: char| c.is_whitespace() || c == '(' || c == ')')
        .filter(|id| !id.is_empty() && !matches!(*id, "OR" | "AND" | "WITH" | "or" | "and" | "with"))
}

/// The Tantivy document for one package.
pub fn to_document(f: &Fields, doc: &SearchDoc) -> TantivyDocument {
    let mut d = TantivyDocument::new();
    d.add_text(f.name, &doc.name);
    d.add_text(f.name_exact, &doc.name);
    if let Some(bare) = bare_name(&doc.name) {
        d.add_text(f.name_bare, bare);
    }
    d.add_text(f.name_tokens, &doc.name);
    d.add_text(f.name_prefix, &doc.name);
    if let Some(description) = doc.description.as_deref().filter(|s| !s.is_empty()) {
        d.add_text(f.description, description);
    }
    for keyword in doc.keywords.iter().map(|k| k.trim()).filter(|k| !k.is_empty()) {
        d.add_text(f.keywords_text, keyword);
        d.add_text(f.keyword, keyword);
    }
    if let Some(author) = doc.author.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        d.add_text(f.author, author);
    }
    for maintainer in doc.maintainers.iter().map(|m| m.trim()).filter(|m| !m.is_empty()) {
        d.add_text(f.maintainer, maintainer);
    }
    if let Some(license) = doc.license.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        d.add_text(f.license, license);
        d.add_text(f.license_facet, license);
        d.add_text(f.license_id, license);
        for id in license_ids(license).filter(|id| *id != license) {
            d.add_text(f.license_id, id);
        }
    }
    d.add_bool(f.deprecated, doc.deprecated);
    d.add_bool(f.archived, doc.archived);
    d.add_u64(f.has_types, types_code(doc.has_types));
    if let Some(module_type) = doc.module_type.as_deref().filter(|m| module_code(Some(m)) != 0) {
        d.add_text(f.module_type, module_type);
    }
    d.add_u64(f.dependents_count, doc.dependents_count);
    d.add_i64(f.modified, doc.modified);
    if let Some(version) = doc.version.as_deref() {
        d.add_text(f.version, version);
    }
    d.add_u64(f.rank, Rank::pack(doc).0);
    d
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rank_round_trips_its_parts() {
        let doc = SearchDoc {
            dependents_count: 1000,
            deprecated: true,
            has_types: Some(true),
            module_type: Some("dual".into()),
            ..SearchDoc::default()
        };
        let rank = Rank::pack(&doc);
        assert!(rank.deprecated());
        assert_eq!(rank.types(), TYPES_TRUE as usize);
        assert_eq!(MODULE_NAMES[rank.module()], "dual");
        assert!((rank.boost() - popularity_boost(1000, true, false)).abs() < 1.0 / BOOST_SCALE);
        let plain = Rank::pack(&SearchDoc::default());
        assert_eq!((plain.deprecated(), plain.types(), plain.module()), (false, TYPES_UNKNOWN as usize, 0));
        assert_eq!(plain.boost(), 1.0);
    }

    #[test]
    fn popularity_is_log_scaled_and_deprecation_demotes() {
        assert!(popularity_boost(1_000_000, false, false) < 5.0);
        assert!(popularity_boost(10, false, false) > popularity_boost(1, false, false));
        assert!(popularity_boost(1_000_000, true, false) < popularity_boost(0, false, false));
        // activity lifts slightly: less than ten times the dependents
        assert!(popularity_boost(10, false, true) > popularity_boost(10, false, false));
        assert!(popularity_boost(10, false, true) < popularity_boost(100, false, false));
    }

    #[test]
    fn license_ids_split_expressions() {
        assert_eq!(license_ids("(MIT OR Apache-2.0)").collect::<Vec<_>>(), ["MIT", "Apache-2.0"]);
        assert_eq!(
            license_ids("GPL-2.0 WITH Classpath-exception-2.0").collect::<Vec<_>>(),
            ["GPL-2.0", "Classpath-exception-2.0"]
        );
        assert_eq!(license_ids("ISC").collect::<Vec<_>>(), ["ISC"]);
    }

    #[test]
    fn bare_names_only_for_scoped_packages() {
        assert_eq!(bare_name("@types/node"), Some("node"));
        assert_eq!(bare_name("node"), None);
        assert_eq!(bare_name("@broken"), None);
        assert_eq!(bare_name("@scope/"), None);
    }
}
