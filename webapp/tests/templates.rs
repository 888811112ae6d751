//! Every template renders, with hostile strings in every field, and the HTML that comes
//! out has no script of theirs and no event handler: autoescape holds everywhere.

use std::collections::{BTreeMap, HashSet};

use mongodb::bson::DateTime;
use nodules_store::model::*;
use nodules_store::{DbArgs, Store};
use nodules_webapp::package_data::PackageData;
use nodules_webapp::pages::package_page::PackagePage;
use nodules_webapp::state::{AppState, SiteConfig, val};
use scraper::{Html, Selector};

const EVIL: &str = "<script>alert(1)</script>\"'><img src=x onerror=alert(2)>&amp;{{ 7*7 }}";

fn evil(i: usize) -> String {
    format!("{EVIL}{i}")
}

fn map(n: usize) -> StringMap {
    (0..n).map(|i| (evil(i), evil(i + 100))).collect::<BTreeMap<_, _>>()
}

fn person(i: usize) -> Person {
    Person { name: Some(evil(i)), email: Some(evil(i + 1)), url: Some(format!("javascript:alert({i})")) }
}

fn hostile_version() -> VersionRecord {
    VersionRecord {
        version: evil(1),
        published: Some(DateTime::now()),
        deprecated: Some(evil(2)),
        prerelease: true,
        description: Some(evil(3)),
        license: Some(License { text: evil(4), spdx: None }),
        keywords: vec![evil(5), evil(6)],
        author: Some(person(7)),
        maintainers: vec![person(8)],
        contributors: vec![person(9)],
        repository: Some(Repository {
            kind: Some(evil(10)),
            raw: evil(11),
            normalized: evil(12),
            url: Some("javascript:alert(13)".into()),
            hosted: None,
            directory: Some(evil(14)),
        }),
        homepage: Some("javascript:alert(15)".into()),
        bugs: Some(Bugs { url: Some("javascript:alert(16)".into()), email: Some(evil(17)) }),
        funding: vec![],
        engines: map(2),
        bin: map(2),
        os: vec![evil(18)],
        cpu: vec![evil(19)],
        scripts: map(2),
        deps: Dependencies {
            dependencies: map(3),
            dev_dependencies: map(2),
            peer_dependencies: map(1),
            optional_dependencies: map(1),
            optional_peers: vec![evil(24)],
        },
        module_type: Some(evil(20)),
        main: Some(evil(21)),
        types: Some(evil(22)),
        has_install_script: Some(true),
        publisher: Some(person(23)),
        dist: Dist::default(),
    }
}

fn hostile_data() -> PackageData {
    let v = hostile_version();
    let package = Package {
        name: evil(30),
        state: PackageState::Active,
        latest: Some(evil(31)),
        dist_tags: map(2),
        latest_version: Some(v.clone()),
        maintainers: vec![person(32)],
        versions: (0..40)
            .map(|i| VersionSummary {
                version: evil(i),
                published: Some(DateTime::now()),
                deprecated: Some(evil(i)),
                prerelease: i % 2 == 0,
                hash: evil(i),
            })
            .collect(),
        version_count: 40,
        created: Some(DateTime::now()),
        modified: Some(DateTime::now()),
        unpublished: Some(Unpublished { time: Some(DateTime::now()), versions: vec![evil(33)] }),
        dep_targets: DepTargets::default(),
        warnings: vec![evil(34)],
    };
    let item = |i| DependentItem { name: evil(i), version: Some(evil(i + 1)), dependents_count: i as i64 };
    let source = Source {
        id: evil(40),
        package: evil(41),
        version: evil(42),
        state: SourceState::Failed,
        reason: Some(evil(43)),
        facts: Some(SourceFacts {
            install_scripts: map(2),
            manifest_mismatches: vec![ManifestMismatch {
                field: evil(44),
                registry: Some(evil(45)),
                tarball: Some(evil(46)),
            }],
            languages: vec![(evil(47), 10)],
            ..Default::default()
        }),
        ..Default::default()
    };
    let dependents = Dependents {
        name: evil(50),
        top: vec![item(51), item(52)],
        ranked_at: Some(DateTime::now()),
        ..Default::default()
    };
    PackageData {
        package,
        version: v,
        is_latest: false,
        source: Some(source),
        dependents: Some(dependents),
        github: None,
        queued: true,
        install: Some(nodules_store::install::InstallSummary {
            packages: 3,
            size: 1000,
            licenses: [(evil(60), 2), (evil(61), 1)].into_iter().collect(),
            deepest: vec![format!("{}@1.0.0", evil(62)), evil(63)],
            unresolved: vec![evil(64)],
            ..Default::default()
        }),
    }
}

async fn app() -> AppState {
    // a store that is never used: rendering needs no database
    let store = Store::connect(&DbArgs::new("mongodb://127.0.0.1:9/?serverSelectionTimeoutMS=100", "unused"))
        .await
        .expect("store");
    AppState::new(store, SiteConfig { base_url: "https://nodules.test".into() }, 10).expect("state")
}

/// No element or attribute that came from the hostile strings.
fn assert_inert(name: &str, html: &str) {
    let doc = Html::parse_document(html);
    let scripts: Vec<String> = doc.select(&Selector::parse("script").expect("sel")).map(|s| s.html()).collect();
    for s in &scripts {
        assert!(s.contains("/media/site.js") && !s.contains("alert"), "{name}: a script element from data: {s}");
    }
    for el in doc.select(&Selector::parse("*").expect("sel")) {
        for (attr, value) in el.value().attrs() {
            assert!(!attr.starts_with("on"), "{name}: event handler attribute {attr}={value}");
            if attr == "href" || attr == "src" {
                assert!(!value.trim_start().to_ascii_lowercase().starts_with("javascript:"), "{name}: {attr}={value}");
            }
        }
    }
    assert!(doc.select(&Selector::parse("img[src=x]").expect("sel")).next().is_none(), "{name}: an injected img");
    assert!(html.contains("&lt;script&gt;"), "{name}: the hostile text is shown, escaped");
}

#[tokio::test]
async fn every_template_renders_hostile_data_inertly() {
    let app = app().await;
    let data = hostile_data();
    let indexed: HashSet<String> = HashSet::new();
    let mut page = PackagePage::build(&data, "https://nodules.test", &indexed, (None, Some(evil(60))));
    // what the handler adds: the @types package, what the version added, the download note
    page.types_package = Some(evil(61));
    let mut previous = hostile_version();
    previous.version = evil(62);
    previous.scripts.clear();
    previous.has_install_script = None;
    previous.deps = Dependencies::default();
    let mut shown = data.version.clone();
    shown.scripts.insert("postinstall".into(), evil(64));
    page.added = nodules_webapp::pages::version_notes::added_since(&previous, &shown);
    assert!(page.added.as_ref().is_some_and(|a| !a.scripts.is_empty() && !a.dependencies.is_empty()));
    page.files_note = Some(evil(63));
    let rendered = app.render("pages/package.html", minijinja::context! { page => val(&page) }).expect("package page");
    assert_inert("package", &rendered);
    for shown in [evil(61), evil(62), evil(63), evil(64)] {
        assert!(rendered.contains(&minijinja::HtmlEscape(&shown).to_string()), "{shown} shown, escaped");
    }
    let show = nodules_webapp::pages::versions::Show::All;
    let versions = nodules_webapp::pages::versions::VersionsPage::build(&data.package, show, 1).expect("versions");
    let rendered = app.render("pages/versions.html", minijinja::context! { page => val(&versions) }).expect("versions");
    let node = |i: usize, deps: Vec<u32>| nodules_store::install::InstallNode {
        name: evil(i),
        version: evil(i + 1),
        deps,
        license: Some(evil(i + 2)),
        size: Some(1),
        optional: true,
        ..Default::default()
    };
    let tree = nodules_store::install::InstallTree {
        nodes: vec![node(70, vec![1, 2]), node(73, vec![2]), node(76, vec![])],
        summary: data.install.clone().unwrap_or_default(),
        ..Default::default()
    };
    let tree_page = nodules_webapp::pages::tree::TreePage::build(&evil(80), &evil(81), Some(&tree));
    assert_inert(
        "tree",
        &app.render("pages/tree.html", minijinja::context! { page => val(&tree_page) }).expect("tree"),
    );
    assert_inert("versions", &rendered);

    let gone = nodules_webapp::pages::package::gone_page(&app, &data.package).expect("gone page");
    let gone = axum::body::to_bytes(gone.into_body(), usize::MAX).await.expect("body");
    assert_inert("gone", std::str::from_utf8(&gone).expect("utf8"));

    let list = serde_json::json!({
        "title": evil(70), "heading": evil(71), "intro": evil(72), "page": 2, "has_next": true, "base": evil(73),
        "sorts": [[evil(77), evil(78), true], [evil(79), evil(80), false]], "sep": "&",
        "items": [{ "name": evil(74), "version": evil(75), "description": evil(76), "dependents_count": 3, "modified": "2024-01-01T00:00:00Z", "deprecated": true, "stars": 5, "commits": 7 }],
    });
    assert_inert("list", &app.render("pages/list.html", minijinja::context! { page => val(&list) }).expect("list"));
    let items = list["items"].clone();
    assert_inert(
        "home",
        &app.render("pages/home.html", minijinja::context! { recent => val(&items), depended => val(&items) })
            .expect("home"),
    );

    let deps = serde_json::json!({
        "name": evil(80), "kind": "prod", "other_kind": "dev", "count": 1, "other_count": 0, "page": 1, "pages": 2,
        "first_rank": 1, "ranked_at": "2024-01-01T00:00:00Z", "dirty": true, "indexed": false,
        "items": [{ "n": evil(81), "v": evil(82), "c": 5 }],
    });
    assert_inert(
        "dependents",
        &app.render("pages/dependents.html", minijinja::context! { page => val(&deps) }).expect("dependents"),
    );

    let search = serde_json::json!({
        "query": evil(100), "page": 2, "has_next": true, "total": 7, "did_you_mean": evil(101), "fuzzy": true,
        "indexing": null,
        "filters": [{ "label": evil(102), "href": "/search?q=x", "count": 3 }],
        "results": [{ "name": evil(103), "description": evil(104), "version": evil(105), "license": evil(106),
                      "module_type": "esm", "has_types": true, "deprecated": true, "dependents_count": 9 }],
    });
    assert_inert(
        "search",
        &app.render("pages/search.html", minijinja::context! { page => val(&search) }).expect("search"),
    );
    for mode in ["folder", "found", "file", "markdown", "unshown", "link", "preparing", "unavailable", "search"] {
        let source = serde_json::json!({
            "name": evil(110), "version": evil(111), "mode": mode, "title": evil(112), "pinned": true,
            "is_latest": false, "deprecated": evil(113), "path": evil(114),
            "crumbs": [{ "name": evil(115), "href": evil(116) }],
            "permalink": evil(117), "folder_url": evil(118), "find": evil(119),
            "rows": [{ "name": evil(120), "href": evil(121), "size": 5, "files": 2, "language": evil(122), "lines": 3, "link": null }],
            "size": 10, "lines": 2, "language": evil(123), "raw_url": evil(124), "image_url": evil(125),
            "note": evil(126), "toggle_url": evil(127), "link_target": evil(128), "link_href": evil(129),
            "marked": [1, 2], "message": evil(130), "query": evil(150), "ignore_case": true, "search_url": evil(151),
            "total": 3, "more": true, "skipped": 1, "timed_out": true,
        });
        let rendered =
            app.render("pages/source.html", minijinja::context! { page => val(&source), html => "" }).expect("source");
        assert_inert(&format!("source ({mode})"), &rendered);
    }
    for mode in ["diff", "pick", "preparing"] {
        let change =
            serde_json::json!({ "field": "dependencies", "name": evil(140), "from": evil(141), "to": evil(142) });
        let diff = serde_json::json!({
            "name": evil(131), "from": evil(132), "to": evil(133), "title": evil(134), "mode": mode, "message": evil(135),
            "review": { "dependencies": [change], "install_scripts": [change], "bin": [change], "engines": [change] },
            "files": [{ "path": evil(136), "anchor": evil(137), "change": "renamed", "from": evil(152), "added": 1, "removed": 2,
                        "note": evil(138), "alone_url": evil(139), "old_url": evil(143), "new_url": evil(144) }],
            "total_added": 1, "total_removed": 2, "ignore_whitespace": false, "toggle_ws_url": evil(145),
            "only": evil(146), "whole_url": evil(147), "versions": [evil(148)],
        });
        let rendered =
            app.render("pages/diff.html", minijinja::context! { page => val(&diff), diffs => vec![""] }).expect("diff");
        assert_inert(&format!("diff ({mode})"), &rendered);
    }
    assert_inert("compare", &compare_page(&app, &data).await);
    let form = nodules_webapp::pages::compare::ComparePage::form(&evil(170), Some(evil(171)));
    let rendered = app.render("pages/compare.html", minijinja::context! { page => val(&form) }).expect("compare form");
    assert_inert("compare (form)", &rendered);
    for t in ["errors/404.html", "errors/error.html"] {
        let ctx = minijinja::context! { status => 404, code => evil(90), message => evil(91), subject => evil(92), path => evil(93) };
        assert_inert(t, &app.render(t, ctx).expect(t));
    }
}

/// The compare table of two hostile packages (every fact filled in, GitHub and install
/// tree included) and a missing one.
async fn compare_page(app: &AppState, data: &PackageData) -> String {
    use nodules_webapp::compare::facts::{CompareJson, DependsOnJson, depends_on, fill};
    let blank = |name: String, state: &str| nodules_webapp::compare::ComparedJson::empty(&name, state);
    let mut a = blank(evil(160), "active");
    let github = nodules_store::github::GithubRepo {
        key: evil(161),
        owner: evil(162),
        repo: evil(163),
        packages: vec![],
        priority: 0,
        due_at: DateTime::now(),
        facts: Some(nodules_store::github::RepoFacts {
            stars: 5,
            open_issues: 2,
            archived: true,
            ..Default::default()
        }),
        latest_commit: None,
        weekly_commits: Some(vec![3; 52]),
        activity_pending: false,
        etags: Default::default(),
        fetched_at: Some(DateTime::now()),
        error: Some(evil(164)),
        gone: None,
        failures: 0,
        top_package: None,
        stars: 5,
        recent_commits: 36,
    };
    let install = nodules_store::install::InstallSummary {
        packages: 3,
        optional: 1,
        size: 1234,
        unknown_sizes: 1,
        install_scripts: 1,
        depth: 2,
        ..Default::default()
    };
    fill(&mut a, &data.version, data.dependents.as_ref(), data.source.as_ref(), Some(&github), Some(&install));
    a.repository = Some(format!("https://github.com/{}", evil(165)));
    let mut b = blank(evil(166), "active");
    fill(&mut b, &data.version, None, None, None, None);
    let facts = CompareJson {
        packages: vec![a, b, blank(evil(167), "not_found"), blank(evil(168), "unpublished")],
        depends_on: depends_on(&[(evil(160).as_str(), Some(&data.version))])
            .into_iter()
            .chain([DependsOnJson {
                package: evil(160),
                depends_on: evil(166),
                field: "peer_dependencies".into(),
                range: evil(169),
            }])
            .collect(),
    };
    let page = nodules_webapp::pages::compare::ComparePage::table(&facts, "https://nodules.test");
    app.render("pages/compare.html", minijinja::context! { page => val(&page) }).expect("compare")
}

#[test]
fn every_template_is_covered() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../templates");
    let mut found = Vec::new();
    for sub in ["pages", "errors"] {
        for e in std::fs::read_dir(dir.join(sub)).expect("templates") {
            found.push(format!("{sub}/{}", e.expect("entry").file_name().to_string_lossy()));
        }
    }
    found.sort();
    // the test above renders each of these; a new page template must be added there
    assert_eq!(
        found,
        vec![
            "errors/404.html",
            "errors/error.html",
            "pages/compare.html",
            "pages/dependents.html",
            "pages/diff.html",
            "pages/gone.html",
            "pages/home.html",
            "pages/list.html",
            "pages/package.html",
            "pages/search.html",
            "pages/source.html",
            "pages/tree.html",
            "pages/versions.html"
        ]
    );
}
