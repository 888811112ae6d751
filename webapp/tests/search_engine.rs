//! The search engine as a user meets it: which names come back, in which order, with which
//! counts. Each test builds its own index in a temporary directory; no database.

use std::collections::{BTreeMap, HashSet};

use nodules_webapp::search::doc::SearchDoc;
use nodules_webapp::search::engine::SearchEngine;
use nodules_webapp::search::results::SearchResults;
use tempfile::TempDir;

/// A package with a name and a popularity; the rest by struct update.
fn pkg(name: &str, dependents: u64) -> SearchDoc {
    SearchDoc { name: name.into(), dependents_count: dependents, ..SearchDoc::default() }
}

fn described(name: &str, dependents: u64, description: &str) -> SearchDoc {
    SearchDoc { description: Some(description.into()), ..pkg(name, dependents) }
}

/// Unrelated packages: in a real index most packages do not match, which makes the query's
/// words rare and their scores high.
fn unrelated(n: usize) -> Vec<SearchDoc> {
    (0..n).map(|i| described(&format!("unrelated-{i}"), i as u64, "Something else entirely")).collect()
}

/// An engine over a temporary directory; the engine is dropped before the directory.
struct Index {
    engine: SearchEngine,
    _dir: TempDir,
}

impl Index {
    fn with(docs: &[SearchDoc]) -> Index {
        let dir = tempfile::tempdir().expect("temp dir");
        let (engine, needs_build) = SearchEngine::open_or_create(dir.path()).expect("open index");
        assert!(needs_build, "a new index needs a build");
        let index = Index { engine, _dir: dir };
        index.add(docs);
        index
    }

    /// `docs` among 500 [`unrelated`] packages.
    fn among_others(docs: &[SearchDoc]) -> Index {
        let index = Index::with(&unrelated(500));
        index.add(docs);
        index
    }

    fn add(&self, docs: &[SearchDoc]) {
        self.engine.upsert(docs).expect("upsert");
        self.engine.commit("test").expect("commit");
    }

    fn search(&self, q: &str, limit: usize, offset: usize) -> SearchResults {
        self.engine.search(q, limit, offset).unwrap_or_else(|e| panic!("{q:?}: {e}"))
    }

    /// The names of the first 20 results.
    fn names(&self, q: &str) -> Vec<String> {
        self.search(q, 20, 0).results.into_iter().map(|hit| hit.name).collect()
    }

    fn suggest(&self, prefix: &str, n: usize) -> Vec<String> {
        self.engine.suggest(prefix, n).into_iter().map(|s| s.name).collect()
    }
}

fn position(names: &[String], name: &str) -> usize {
    names.iter().position(|n| n == name).unwrap_or_else(|| panic!("{name} not in {names:?}"))
}

#[test]
fn exact_name_beats_fifty_more_popular_look_alikes() {
    let mut docs = vec![pkg("fetch", 0)];
    docs.extend((1..=50).map(|i| described(&format!("fetch-{i}"), 10_000 + i, "fetch fetch fetch: a fetch polyfill")));
    for name in ["node-fetch", "fetch-ponyfill", "isomorphic-fetch", "cross-fetch", "make-fetch-happen"] {
        docs.push(described(name, 1_000_000, "A light-weight module that brings the Fetch API to Node.js"));
    }
    let index = Index::among_others(&docs);
    let found = index.search("fetch", 10, 0);
    assert_eq!(found.results[0].name, "fetch");
    assert_eq!(found.total, 56);
    assert_eq!(index.names("Fetch")[0], "fetch", "the exact name is matched case-insensitively");
}

#[test]
fn react_before_its_types_and_dom() {
    let index = Index::among_others(&[
        described("react", 100, "React is a JavaScript library for building user interfaces."),
        described("@types/react", 50_000, "TypeScript definitions for react"),
        described("react-dom", 40_000, "React package for working with the DOM."),
        described("preact", 1_000_000, "Fast 3kb React alternative with the same modern API."),
    ]);
    let names = index.names("react");
    assert_eq!(names[..2], ["react", "@types/react"]);
    assert!(position(&names, "@types/react") < position(&names, "react-dom"), "{names:?}");
}

#[test]
fn scoped_names_exact_and_after_the_scope() {
    let index = Index::among_others(&[
        pkg("@babel/core", 10),
        described("@babel/core-utils", 100_000, "Utilities for @babel/core"),
        described("core-js", 1_000_000, "Standard library"),
        described("@scope/foo", 1, "The foo"),
        described("foo-bar", 50_000, "foo, then bar"),
    ]);
    assert_eq!(index.names("@babel/core")[0], "@babel/core");
    assert_eq!(index.names("core")[0], "@babel/core", "the name after the scope beats a popular name word");
    assert_eq!(index.names("foo"), ["@scope/foo", "foo-bar"], "the name after the scope beats a name word");

    index.add(&[pkg("foo", 0)]);
    assert_eq!(index.names("foo"), ["foo", "@scope/foo", "foo-bar"], "the unscoped name comes first");
}

#[test]
fn popularity_orders_equal_text_matches_and_is_log_scaled() {
    let index = Index::among_others(&[
        described("widget-b", 10, "A widget toolkit"),
        described("widget-d", 0, "A widget toolkit"),
        described("widget-a", 100_000, "A widget toolkit"),
        described("widget-c", 1_000, "A widget toolkit"),
    ]);
    assert_eq!(index.names("toolkit"), ["widget-a", "widget-c", "widget-b", "widget-d"]);

    // 100,000 times the dependents does not bury a package named for the query
    index.add(&[
        described("color-parse", 10, "Parse a color string"),
        described(
            "mega-lib",
            1_000_000,
            "Utilities for everything: strings, numbers, dates, color handling, parse helpers, formatting and more",
        ),
    ]);
    assert_eq!(index.names("color parse"), ["color-parse", "mega-lib"]);
}

#[test]
fn recently_active_packages_rank_slightly_higher_and_archived_is_filterable() {
    let active = |d: SearchDoc| SearchDoc { active: true, ..d };
    let index = Index::among_others(&[
        active(described("widget-live", 100, "Make widgets")),
        described("widget-idle", 100, "Make widgets"),
        described("widget-popular", 1_000, "Make widgets"),
        SearchDoc { archived: true, ..described("widget-archived", 100, "Make widgets") },
    ]);
    // equal text and dependents: the active one first; ten times the dependents still wins
    let names = index.names("widgets");
    assert_eq!(&names[..2], ["widget-popular", "widget-live"], "{names:?}");
    assert!(position(&names, "widget-live") < position(&names, "widget-idle"), "{names:?}");
    assert_eq!(index.names("is:archived"), ["widget-archived"]);
    assert_eq!(index.names("widgets is:archived"), ["widget-archived"]);
    assert!(!index.names("widgets not:archived").contains(&"widget-archived".to_string()));
    assert_eq!(index.names("widgets not:archived").len(), 3);
}

#[test]
fn deprecated_packages_are_demoted_and_filterable() {
    let left_pad = SearchDoc { deprecated: true, ..described("left-pad", 100_000, "Pad a string on the left") };
    let index = Index::among_others(&[left_pad, described("pad-left", 1_000, "Pad a string on the left")]);
    assert_eq!(index.names("pad"), ["pad-left", "left-pad"], "deprecated below, even 100x more popular");
    assert_eq!(index.names("left-pad")[0], "left-pad", "the exact name still comes first");
    assert_eq!(index.names("is:deprecated"), ["left-pad"]);
    assert_eq!(index.names("pad is:deprecated"), ["left-pad"]);
    assert_eq!(index.names("pad not:deprecated"), ["pad-left"]);
    let live = index.search("not:deprecated", 1_000, 0);
    assert_eq!(live.total, 501);
    assert!(live.results.iter().all(|hit| hit.name != "left-pad"));
    assert!(index.search("is:deprecated", 10, 0).results[0].deprecated);
}

fn qualifier_fixture() -> Index {
    Index::with(&[
        SearchDoc {
            keywords: vec!["JSON".into(), "parser".into()],
            author: Some("Jane Doe".into()),
            maintainers: vec!["bob".into(), "alice".into()],
            license: Some("MIT".into()),
            has_types: Some(true),
            module_type: Some("esm".into()),
            ..described("json-fast", 500, "fast json parser")
        },
        SearchDoc {
            keywords: vec!["json".into()],
            author: Some("John Roe".into()),
            maintainers: vec!["carol".into()],
            license: Some("(MIT OR Apache-2.0)".into()),
            has_types: Some(false),
            module_type: Some("cjs".into()),
            ..described("slow-json", 100, "json is fast, they said")
        },
        SearchDoc {
            keywords: vec!["yaml".into(), "parser".into()],
            author: Some("Jane Doe".into()),
            maintainers: vec!["bob".into()],
            license: Some("ISC".into()),
            module_type: Some("dual".into()),
            ..described("yaml-thing", 1_000, "A yaml parser")
        },
        SearchDoc {
            keywords: vec!["cli".into()],
            license: Some("GPL-3.0".into()),
            ..described("gpl-thing", 10, "GPL json tool")
        },
    ])
}

#[test]
fn qualifiers_and_filters() {
    let index = qualifier_fixture();
    // filters alone rank by popularity
    for (q, expected) in [
        ("keywords:parser", &["yaml-thing", "json-fast"][..]),
        ("keywords:JSON", &["json-fast", "slow-json"]),
        ("author:\"Jane Doe\"", &["yaml-thing", "json-fast"]),
        ("author:john", &[]),
        ("maintainer:bob", &["yaml-thing", "json-fast"]),
        ("maintainer:Carol", &["slow-json"]),
        ("license:MIT", &["json-fast", "slow-json"]),
        ("license:apache-2.0", &["slow-json"]),
        ("license:isc", &["yaml-thing"]),
        ("has:types", &["json-fast"]),
        ("module:esm", &["json-fast"]),
        ("module:CJS", &["slow-json"]),
        ("module:dual", &["yaml-thing"]),
        ("keywords:parser maintainer:bob license:mit", &["json-fast"]),
    ] {
        assert_eq!(index.names(q), expected, "{q}");
    }
    // with text
    let mut json = index.names("json");
    json.sort();
    assert_eq!(json, ["gpl-thing", "json-fast", "slow-json"]);
    assert_eq!(index.names("\"fast json\""), ["json-fast"], "a phrase needs its words adjacent");
    assert_eq!(index.names("json license:MIT"), ["json-fast", "slow-json"]);
    assert_eq!(index.names("json keywords:cli"), ["gpl-thing"]);
    assert_eq!(index.names("parser author:\"jane doe\" module:esm"), ["json-fast"]);
    assert_eq!(index.names("json has:types"), ["json-fast"]);
}

#[test]
fn misspelled_names_are_corrected() {
    let index = Index::among_others(&[
        described("express", 100_000, "Fast, unopinionated, minimalist web framework"),
        described("request", 50_000, "Simplified HTTP request client."),
        described("lodash", 200_000, "Lodash modular utilities."),
    ]);
    for (typo, name) in [("expresss", "express"), ("reqeust", "request"), ("lodahs", "lodash")] {
        let found = index.search(typo, 10, 0);
        assert_eq!(found.results.first().map(|h| h.name.as_str()), Some(name), "{typo}");
        assert!(found.fuzzy, "{typo}");
        assert_eq!(found.did_you_mean.as_deref(), Some(name), "{typo}");
    }
    let exact = index.search("express", 10, 0);
    assert_eq!((exact.results[0].name.as_str(), exact.fuzzy, exact.did_you_mean), ("express", false, None));
    let nothing = index.search("zzzzqqqq", 10, 0);
    assert_eq!((nothing.total, nothing.did_you_mean), (0, None));
}

#[test]
fn facets_count_every_match_not_just_the_page() {
    let licenses = ["MIT", "ISC", "(MIT OR Apache-2.0)"];
    let modules = [Some("esm"), Some("cjs"), Some("dual"), None];
    let types = [Some(true), Some(true), Some(false), None, None];
    let mut docs: Vec<SearchDoc> = (0..30)
        .map(|i| SearchDoc {
            license: Some(licenses[i % 3].into()),
            module_type: modules[i % 4].map(String::from),
            has_types: types[i % 5],
            ..described(&format!("widget-{i}"), i as u64, "a widget")
        })
        .collect();
    docs.extend((0..5).map(|i| SearchDoc { license: Some("GPL-3.0".into()), ..pkg(&format!("other-{i}"), 0) }));
    let index = Index::with(&docs);

    let found = index.search("widget", 5, 0);
    assert_eq!((found.total, found.results.len()), (30, 5));
    let counts = |pairs: &[(&str, u64)]| pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect::<BTreeMap<_, _>>();
    assert_eq!(found.facets.license, counts(&[("MIT", 10), ("ISC", 10), ("(MIT OR Apache-2.0)", 10)]));
    assert_eq!(found.facets.module_type, counts(&[("esm", 8), ("cjs", 8), ("dual", 7)]));
    assert_eq!(found.facets.has_types, counts(&[("true", 12), ("false", 6)]), "unknown is neither");

    let esm = index.search("widget module:esm", 5, 0);
    assert_eq!(esm.total, 8);
    assert_eq!(esm.facets.module_type, counts(&[("esm", 8)]));
    assert_eq!(index.search("license:GPL-3.0", 2, 0).facets.license, counts(&[("GPL-3.0", 5)]));
}

/// Pages of 5 add up to the whole list, in its order.
fn assert_pages_add_up(index: &Index, q: &str, total: usize) {
    let all: Vec<String> = index.search(q, 50, 0).results.into_iter().map(|h| h.name).collect();
    assert_eq!(all.len(), total);
    let mut paged = Vec::new();
    for offset in (0..total).step_by(5) {
        let page = index.search(q, 5, offset);
        assert_eq!((page.total, page.results.len()), (total as u64, (total - offset).min(5)), "offset {offset}");
        paged.extend(page.results.into_iter().map(|h| h.name));
    }
    assert_eq!(paged, all);
    assert_eq!(paged.iter().collect::<HashSet<_>>().len(), total, "no repeats");
}

#[test]
fn pages_neither_repeat_nor_skip() {
    // mostly equal keys, so ties must break the same way whatever the window
    let docs: Vec<SearchDoc> = (0..23)
        .map(|i| described(&format!("page-thing-{i}"), if i % 7 == 0 { 10 } else { 0 }, "paging fixture"))
        .collect();
    let index = Index::with(&docs[..14]);
    index.add(&docs[14..]);
    assert_pages_add_up(&index, "paging", 23); // several segments
    index.engine.optimize().expect("optimize");
    assert_eq!(index.engine.segment_count(), 1);
    assert_pages_add_up(&index, "paging", 23);
    assert_pages_add_up(&index, "not:deprecated", 23); // filters only: by popularity alone

    let past = index.search("paging", 10, 30);
    assert_eq!((past.total, past.results.len()), (23, 0));
    assert_eq!(index.search("paging", 0, 0).total, 23);
}

#[test]
fn suggest_by_prefix_exact_then_popular() {
    let index = Index::with(&[
        described("react", 1_000_000, "React"),
        pkg("react-dom", 2_500_000),
        pkg("readable-stream", 2_000_000),
        pkg("read-pkg", 100),
        pkg("realpath", 5),
        SearchDoc { deprecated: true, ..pkg("reap-old", 3_000_000) },
        pkg("redux", 1_000_000),
        pkg("@types/react", 300_000),
        pkg("@typescript-eslint/parser", 200_000),
        pkg("a-very-long-package-name-indeed", 1),
    ]);
    assert_eq!(index.suggest("rea", 3), ["react-dom", "readable-stream", "react"]);
    assert_eq!(
        index.suggest("rea", 10),
        ["react-dom", "readable-stream", "react", "read-pkg", "realpath", "reap-old"],
        "deprecated last, no redux"
    );
    assert_eq!(index.suggest("REA", 3), index.suggest("rea", 3));
    assert_eq!(index.suggest("react", 5), ["react", "react-dom"], "the exact name first");
    assert_eq!(index.suggest("@ty", 5), ["@types/react", "@typescript-eslint/parser"]);
    assert_eq!(index.engine.suggest("react", 5)[0].description.as_deref(), Some("React"));
    // past the indexed prefix length, names are checked whole
    assert_eq!(index.suggest("a-very-long-package-name-in", 5), ["a-very-long-package-name-indeed"]);
    assert!(index.suggest("a-very-long-package-name-out", 5).is_empty());
    assert_eq!(index.suggest("r", 1000).len(), 7, "every r name, under the cap");
    for junk in ["", "   ", "(((", "\"", "\0", "日本", "🚀", "zzz", &"a".repeat(10_000)] {
        assert!(index.suggest(junk, 5).is_empty(), "{junk:?}");
    }
    assert!(index.suggest("rea", 0).is_empty());
}

#[test]
fn bad_qualifiers_are_errors_junk_is_not() {
    let index = qualifier_fixture();
    for (q, names) in [
        ("module:foo", "module:foo"),
        ("keywords:", "keywords:"),
        ("keywords:\"\"", "keywords:"),
        ("is:great", "is:great"),
        ("has:bugs", "has:bugs"),
        ("json license:", "license:"),
    ] {
        let err = index.engine.search(q, 10, 0).expect_err(q);
        assert!(err.is_bad_query(), "{q}: {err}");
        assert!(err.to_string().contains(names), "{q}: {err}");
    }
    let long_words = "word ".repeat(2_000);
    let long_token = "a".repeat(10_000);
    for q in [
        "\"unclosed",
        ":",
        "json :",
        "foo:",
        "a:b:c",
        "(((",
        "!!! && || -- **",
        "\"\" \"\"",
        "http://example.com/x?y=1",
        "日本語 ÜberCool 🚀",
        "\0",
        long_words.as_str(),
        long_token.as_str(),
    ] {
        assert!(index.engine.search(q, 10, 0).is_ok(), "{q:.40}");
    }
    assert_eq!(index.names("\"fast json"), ["json-fast"], "an unclosed phrase still counts");
}

#[test]
fn reopening_keeps_the_index_and_its_watermark() {
    let dir = tempfile::tempdir().expect("temp dir");
    {
        let (engine, needs_build) = SearchEngine::open_or_create(dir.path()).expect("open");
        assert!(needs_build);
        assert_eq!(engine.commit_meta(), None);
    }
    {
        let (engine, needs_build) = SearchEngine::open_or_create(dir.path()).expect("reopen");
        assert!(needs_build, "never committed: still needs its build");
        engine.upsert(&[described("lodash", 10, "Lodash modular utilities.")]).expect("upsert");
        engine.commit("42").expect("commit");
    }
    let (engine, needs_build) = SearchEngine::open_or_create(dir.path()).expect("reopen");
    assert!(!needs_build, "a committed index is reused");
    assert_eq!(engine.commit_meta().as_deref(), Some("42"));
    assert_eq!(engine.doc_count(), 1);
    let found = engine.search("lodash", 10, 0).expect("search");
    assert_eq!(found.results[0].description.as_deref(), Some("Lodash modular utilities."));
}

#[test]
fn a_corrupt_index_is_rebuilt_and_other_files_kept() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("meta.json"), "{not json").expect("write");
    std::fs::write(dir.path().join("0123456789abcdef0123456789abcdef.idx"), "junk").expect("write");
    std::fs::write(dir.path().join("notes.txt"), "keep me").expect("write");
    let (engine, needs_build) = SearchEngine::open_or_create(dir.path()).expect("open despite garbage");
    assert!(needs_build);
    assert_eq!(engine.commit_meta(), None);
    assert!(dir.path().join("notes.txt").exists(), "not ours: left alone");
    engine.upsert(&[pkg("lodash", 10)]).expect("upsert");
    engine.commit("1").expect("commit");
    assert_eq!(engine.search("lodash", 10, 0).expect("search").total, 1);
}

#[test]
fn upsert_replaces_and_remove_removes() {
    let index = Index::with(&[described("dup", 1, "old words"), pkg("other", 1)]);
    index.add(&[described("dup", 1, "new words")]);
    let found = index.search("dup", 10, 0);
    assert_eq!(found.total, 1, "replaced, not duplicated");
    assert_eq!(found.results[0].description.as_deref(), Some("new words"));
    assert_eq!(index.search("old", 10, 0).total, 0);

    // the same name twice in a batch: the last wins
    index.add(&[described("dup", 1, "first"), described("dup", 1, "second")]);
    assert_eq!(index.names("dup"), ["dup"]);
    assert_eq!(index.search("second", 10, 0).total, 1);
    assert_eq!(index.search("first", 10, 0).total, 0);
    assert_eq!(index.engine.doc_count(), 2);

    index.engine.remove(&["dup".to_string(), "never-there".to_string()]).expect("remove");
    assert_eq!(index.names("dup"), ["dup"], "visible until the commit");
    index.engine.commit("after-remove").expect("commit");
    assert!(index.names("dup").is_empty());
    assert_eq!(index.engine.doc_count(), 1);
    assert_eq!(index.names("other"), ["other"]);
}
