//! Search: a Tantivy index the webapp owns, kept in step with MongoDB.
pub mod doc; // SearchDoc: one package as indexed
pub mod engine; // SearchEngine: open or rebuild, upsert, remove, commit with the watermark
pub mod match_set; // a query's matches as bitset operations over its leaves
pub mod pass; // the first pass: match bitset -> total, facets; pruned top of the ranking
pub mod plan; // parsed query -> Tantivy queries: text, fuzzy text, filters
pub mod query; // the search syntax, parsed leniently; QueryError
pub mod rank; // ranking keys and tiers; the collector of the fuzzy pass
pub mod results; // SearchEngine::search and what it answers
pub mod run; // a request's search: off the runtime, within its budget; its cache key
pub mod schema; // every field, SCHEMA_VERSION, SearchDoc -> document
pub mod segment_sets; // per segment: facet bitsets, highest boost
pub mod suggest; // SearchEngine::suggest: name prefixes by popularity
pub mod sync; // SearchService: first build, then follows `seq`
pub mod tokenize; // package names -> words
