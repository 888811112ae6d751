//! Reverse dependencies end to end: exact edges and counts after incremental runs, pages
//! read by key, rerank order, rebuild equal to incremental, crash repair.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use futures::TryStreamExt;
use mongodb::bson::{Document, doc};
use mongodb::event::EventHandler;
use mongodb::event::command::CommandEvent;
use nodules_e2e::bins::run_bin;
use nodules_e2e::dumps::{packument, write_row};
use nodules_store::Store;
use nodules_store::model::DepKind;
use nodules_store::testing::TestDb;
use serde_json::{Value, json};

/// A package with the given dependencies (`rev` changes when its content does).
fn pkg(name: &str, rev: &str, deps: Value, dev: Value) -> Value {
    let mut d = packument(name, &[("1.0.0", json!({ "dependencies": deps, "devDependencies": dev }))]);
    d["_rev"] = json!(rev);
    d
}

async fn ingest(db: &TestDb, docs: &[Value]) -> nodules_e2e::Run {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("dump.json");
    let mut f = std::fs::File::create(&path).expect("create");
    writeln!(f, "{{\"total_rows\":{},\"offset\":0,\"rows\":[", docs.len()).expect("w");
    for (i, d) in docs.iter().enumerate() {
        write_row(&mut f, d, i + 1 < docs.len()).expect("w");
    }
    writeln!(f, "]}}").expect("w");
    drop(f);
    let run = run_bin("nodules-indexer", db, &["ingest", path.to_str().expect("path")]).await;
    run.assert_ok();
    run
}

async fn indexer(db: &TestDb, args: &[&str]) -> nodules_e2e::Run {
    let run = run_bin("nodules-indexer", db, args).await;
    run.assert_ok();
    run
}

/// (target, kind) → sources, from the edges.
async fn edges(db: &TestDb) -> BTreeMap<(String, String), BTreeSet<String>> {
    let all: Vec<Document> = db
        .store
        .collection("dependency_edges")
        .find(doc! {})
        .await
        .expect("find")
        .try_collect()
        .await
        .expect("collect");
    let mut m: BTreeMap<(String, String), BTreeSet<String>> = BTreeMap::new();
    for e in all {
        let key = (e.get_str("target").expect("target").to_string(), e.get_str("kind").expect("kind").to_string());
        m.entry(key).or_default().insert(e.get_str("source").expect("source").to_string());
    }
    m
}

/// (target, kind) → members, from the pages.
async fn page_members(db: &TestDb) -> BTreeMap<(String, String), BTreeSet<String>> {
    let all: Vec<Document> =
        db.store.collection("dependent_pages").find(doc! {}).await.expect("find").try_collect().await.expect("collect");
    let mut m: BTreeMap<(String, String), BTreeSet<String>> = BTreeMap::new();
    for p in all {
        let key = (p.get_str("target").expect("target").to_string(), p.get_str("kind").expect("kind").to_string());
        let set = m.entry(key).or_default();
        for item in p.get_array("items").expect("items") {
            let name = item.as_document().and_then(|d| d.get_str("n").ok()).expect("name").to_string();
            assert!(set.insert(name.clone()), "{name} listed twice");
        }
    }
    m.retain(|_, v| !v.is_empty());
    m
}

/// name → (prod, dev) from the dependents documents and, where a package exists, its record.
async fn counts(db: &TestDb) -> BTreeMap<String, (i64, i64)> {
    let all: Vec<Document> =
        db.store.collection("dependents").find(doc! {}).await.expect("find").try_collect().await.expect("collect");
    let mut m = BTreeMap::new();
    for d in all {
        let name = d.get_str("_id").expect("id").to_string();
        let c = |k: &str| d.get_document(k).ok().and_then(|l| l.get_i64("count").ok()).unwrap_or(0);
        let (prod, dev) = (c("prod"), c("dev"));
        if let Some(p) = db.store.package(&name).await.expect("read") {
            let raw = db.store.packages().find_one(doc! { "_id": &name }).await.expect("find").expect("pkg");
            if p.state == nodules_store::model::PackageState::Active {
                assert_eq!(raw.get_i64("dependents_count").unwrap_or(0), prod, "{name}: package record count");
                assert_eq!(raw.get_i64("dev_dependents_count").unwrap_or(0), dev, "{name}: package record dev count");
            }
        }
        if prod != 0 || dev != 0 {
            m.insert(name, (prod, dev));
        }
    }
    m
}

fn set(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|s| s.to_string()).collect()
}

fn key(t: &str, k: &str) -> (String, String) {
    (t.to_string(), k.to_string())
}

#[tokio::test]
async fn incremental_runs_move_exactly_the_changed_edges() {
    let db = TestDb::new().await;
    ingest(
        &db,
        &[
            pkg("x", "1", json!({}), json!({})),
            pkg("y", "1", json!({}), json!({})),
            pkg("a", "1", json!({ "x": "^1", "ghost": "^1" }), json!({})),
            pkg("b", "1", json!({ "x": "^1" }), json!({})),
            pkg("c", "1", json!({}), json!({ "x": "^1" })),
            pkg("d", "1", json!({ "xx": "npm:x@^1", "gitdep": "github:u/r", "local": "file:../l" }), json!({})),
        ],
    )
    .await;
    let e = edges(&db).await;
    assert_eq!(e.get(&key("x", "prod")), Some(&set(&["a", "b", "d"])), "alias counted under its target");
    assert_eq!(e.get(&key("x", "dev")), Some(&set(&["c"])));
    assert_eq!(e.get(&key("ghost", "prod")), Some(&set(&["a"])), "a dependency not indexed still gets its list");
    assert!(!e.keys().any(|(t, _)| t == "gitdep" || t == "local" || t == "u/r"), "git and file specs are not edges");
    assert_eq!(page_members(&db).await, e, "pages hold exactly the edges");
    let c = counts(&db).await;
    assert_eq!(c.get("x"), Some(&(3, 1)));

    // b moves from x to y, c from dev to prod, a is deleted (a feed line)
    ingest(&db, &[pkg("b", "2", json!({ "y": "^1" }), json!({})), pkg("c", "2", json!({ "x": "^1" }), json!({}))])
        .await;
    let dir = tempfile::tempdir().expect("tmp");
    let feed = dir.path().join("changes.ndjson");
    std::fs::write(&feed, "{\"seq\":1,\"id\":\"a\",\"changes\":[{\"rev\":\"2\"}],\"deleted\":true}\n").expect("write");
    indexer(&db, &["ingest", feed.to_str().expect("path")]).await;

    let e = edges(&db).await;
    assert_eq!(e.get(&key("x", "prod")), Some(&set(&["c", "d"])));
    assert_eq!(e.get(&key("x", "dev")), None);
    assert_eq!(e.get(&key("y", "prod")), Some(&set(&["b"])));
    assert_eq!(e.get(&key("ghost", "prod")), None);
    assert_eq!(page_members(&db).await, e);
    let c = counts(&db).await;
    assert_eq!(c.get("x"), Some(&(2, 0)));
    assert_eq!(c.get("y"), Some(&(1, 0)));
    assert_eq!(c.get("ghost"), None);
}

/// Counts the commands a store sends.
async fn counting_store(db: &TestDb) -> (Store, Arc<AtomicUsize>) {
    let n = Arc::new(AtomicUsize::new(0));
    let seen = n.clone();
    let mut options = mongodb::options::ClientOptions::parse(db.uri()).await.expect("uri");
    options.command_event_handler = Some(EventHandler::callback(move |e: CommandEvent| {
        if let CommandEvent::Started(s) = e
            && s.command_name == "find"
        {
            seen.fetch_add(1, Ordering::SeqCst);
        }
    }));
    let client = mongodb::Client::with_options(options).expect("client");
    (Store::from_client(client, db.name()), n)
}

#[tokio::test]
async fn a_target_with_5000_dependents_is_read_page_by_page_by_key_in_rank_order() {
    let db = TestDb::new().await;
    let mut docs = vec![pkg("big", "1", json!({}), json!({}))];
    for i in 0..5000 {
        docs.push(pkg(&format!("dep-{i:04}"), "1", json!({ "big": "^1" }), json!({})));
    }
    // popularity: dep-00i has i + 1 dependents of its own, for i < 20
    for i in 0..20 {
        for j in 0..=i {
            docs.push(pkg(&format!("fan-{i}-{j}"), "1", json!({ format!("dep-{i:04}"): "^1" }), json!({})));
        }
    }
    ingest(&db, &docs).await;
    indexer(&db, &["dependents", "--rerank"]).await;

    let (store, finds) = counting_store(&db).await;
    let summary = store.dependents("big").await.expect("read").expect("dependents of big");
    assert_eq!((summary.prod.count, summary.prod.pages), (5000, 100));
    assert!(summary.ranked_at.is_some() && !summary.dirty);
    let top: Vec<&str> = summary.top.iter().map(|i| i.name.as_str()).collect();
    assert_eq!(top[..3], ["dep-0019", "dep-0018", "dep-0017"], "most popular first");
    assert_eq!(summary.top[0].dependents_count, 20);
    assert_eq!(finds.swap(0, Ordering::SeqCst), 1, "the counts and top 10: one read");

    for page in [1, 50, 100] {
        let p = store.dependents_page("big", DepKind::Prod, page).await.expect("read").expect("page");
        assert_eq!(p.items.len(), 50);
        assert_eq!(finds.swap(0, Ordering::SeqCst), 1, "page {page}: one read, whatever the list's length");
    }
    let first = store.dependents_page("big", DepKind::Prod, 1).await.expect("read").expect("page 1");
    assert_eq!(first.items[0].name, "dep-0019");
    assert_eq!(first.items[20].name, "dep-0020", "then by name among equals");
    let last = store.dependents_page("big", DepKind::Prod, 100).await.expect("read").expect("page 100");
    assert_eq!(last.items[49].name, "dep-4999");

    // a new dependent joins at the end until the next rerank puts it in its place
    let mut more = vec![pkg("newcomer", "1", json!({ "big": "^1" }), json!({}))];
    for j in 0..30 {
        more.push(pkg(&format!("nfan-{j}"), "1", json!({ "newcomer": "^1" }), json!({})));
    }
    ingest(&db, &more).await;
    let s = db.store.dependents("big").await.expect("read").expect("big");
    assert_eq!((s.prod.count, s.prod.pages, s.dirty), (5001, 101, true));
    let tail = db.store.dependents_page("big", DepKind::Prod, 101).await.expect("read").expect("page 101");
    assert_eq!(tail.items.iter().map(|i| i.name.as_str()).collect::<Vec<_>>(), vec!["newcomer"]);
    indexer(&db, &["dependents", "--rerank"]).await;
    let first = db.store.dependents_page("big", DepKind::Prod, 1).await.expect("read").expect("page 1");
    assert_eq!(first.items[0].name, "newcomer", "30 dependents: the most popular now");
    assert!(db.store.dependents_page("big", DepKind::Prod, 101).await.expect("read").is_some());
    assert_eq!(db.store.dependents("big").await.expect("read").map(|d| d.prod.pages), Some(101));
}

#[tokio::test]
async fn a_rerank_puts_every_dirty_list_in_order_past_one_round_of_lists() {
    // 450 lists (more than two rounds of the dirty query's batches), each in insertion
    // order first: a-i, then b-i, which is the more popular (c-i depends on it)
    let db = TestDb::new().await;
    let n = 450;
    let mut docs = Vec::new();
    for i in 0..n {
        docs.push(pkg(&format!("a-{i}"), "1", json!({ format!("t-{i}"): "1" }), json!({})));
    }
    for i in 0..n {
        docs.push(pkg(&format!("b-{i}"), "1", json!({ format!("t-{i}"): "1" }), json!({})));
        docs.push(pkg(&format!("c-{i}"), "1", json!({ format!("b-{i}"): "1" }), json!({})));
    }
    ingest(&db, &docs).await;
    let lists = db.store.collection("dependents");
    let dirty = || lists.count_documents(doc! { "dirty": true });
    assert!(dirty().await.expect("count") >= n as u64, "every new list waits for a rerank");
    let run = indexer(&db, &["dependents", "--rerank"]).await;
    assert!(run.stdout.starts_with(&format!("reranked {} lists", 2 * n)), "{}", run.stdout);
    assert_eq!(dirty().await.expect("count"), 0);
    for i in [0, 199, 200, 399, 449] {
        let first = db.store.dependents_page(&format!("t-{i}"), DepKind::Prod, 1).await.expect("read").expect("page");
        let names: Vec<&str> = first.items.iter().map(|m| m.name.as_str()).collect();
        assert_eq!(names, [format!("b-{i}"), format!("a-{i}")], "t-{i}: the more popular first");
    }
    assert_eq!(page_members(&db).await, edges(&db).await);
}

#[tokio::test]
async fn a_rerank_whose_dirty_lists_cursor_expires_goes_on_with_another_pass() {
    // the rerank reads the dirty lists through one cursor that idles while each round is
    // reranked; a server drops an idle cursor after its timeout (10 minutes), which a round
    // with a list of 250,000 members can reach. Killed here as soon as it is seen idle.
    let db = TestDb::new().await;
    let n = 450;
    let mut docs = Vec::new();
    for i in 0..n {
        docs.push(pkg(&format!("a-{i}"), "1", json!({ format!("t-{i}"): "1" }), json!({})));
        docs.push(pkg(&format!("b-{i}"), "1", json!({ format!("t-{i}"): "1" }), json!({})));
        docs.push(pkg(&format!("c-{i}"), "1", json!({ format!("b-{i}"): "1" }), json!({})));
    }
    ingest(&db, &docs).await;
    let child = nodules_e2e::bins::spawn_bin("nodules-indexer", &db, &["dependents", "--rerank"]);
    let namespace = format!("{}.dependents", db.store.database().name());
    let admin = db.store.client().database("admin");
    let started = std::time::Instant::now();
    let killed = loop {
        assert!(started.elapsed().as_secs() < 60, "the rerank's cursor was never seen idle");
        let ids = idle_cursors(&admin, &namespace).await;
        if !ids.is_empty() {
            let reply = db
                .store
                .database()
                .run_command(doc! { "killCursors": "dependents", "cursors": ids })
                .await
                .expect("killCursors");
            if !reply.get_array("cursorsKilled").expect("cursorsKilled").is_empty() {
                break reply;
            }
        }
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    };
    let run = nodules_e2e::bins::wait_child(child).await;
    run.assert_ok();
    assert!(run.stdout.starts_with(&format!("reranked {} lists", 2 * n)), "{}\nkilled: {killed}", run.stdout);
    assert_eq!(db.store.collection("dependents").count_documents(doc! { "dirty": true }).await.expect("count"), 0);
    for i in [0, 199, 200, 449] {
        let first = db.store.dependents_page(&format!("t-{i}"), DepKind::Prod, 1).await.expect("read").expect("page");
        let names: Vec<&str> = first.items.iter().map(|m| m.name.as_str()).collect();
        assert_eq!(names, [format!("b-{i}"), format!("a-{i}")], "t-{i}: the more popular first");
    }
    assert_eq!(page_members(&db).await, edges(&db).await);
}

/// Ids of the idle cursors on `namespace`: from the `currentOp` command (the development
/// server lists them there) and the `$currentOp` stage with `idleCursors` (MongoDB).
async fn idle_cursors(admin: &mongodb::Database, namespace: &str) -> Vec<i64> {
    let mut entries: Vec<Document> = Vec::new();
    if let Ok(reply) = admin.run_command(doc! { "currentOp": 1 }).await {
        entries.extend(reply.get_array("inprog").into_iter().flatten().filter_map(|e| e.as_document().cloned()));
    }
    if let Ok(cursor) = admin.aggregate([doc! { "$currentOp": { "idleCursors": true } }]).await {
        entries.extend(cursor.try_collect::<Vec<Document>>().await.unwrap_or_default());
    }
    entries
        .iter()
        .filter(|e| e.get_str("type").ok() == Some("idleCursor") && e.get_str("ns").ok() == Some(namespace))
        .filter_map(|e| e.get_i64("cursorId").or_else(|_| e.get_document("cursor")?.get_i64("cursorId")).ok())
        .collect()
}

#[tokio::test]
async fn rebuild_equals_what_incremental_runs_produced() {
    let db = TestDb::new().await;
    let mut docs = Vec::new();
    for i in 0..300 {
        let deps: serde_json::Map<String, Value> =
            (0..(i % 7)).map(|k| (format!("lib-{}", (i * 7 + k) % 40), json!("^1"))).collect();
        let dev: serde_json::Map<String, Value> =
            (0..(i % 3)).map(|k| (format!("lib-{}", (i + k * 11) % 40), json!("^2"))).collect();
        docs.push(pkg(&format!("app-{i}"), "1", Value::Object(deps), Value::Object(dev)));
    }
    for i in 0..40 {
        docs.push(pkg(&format!("lib-{i}"), "1", json!({ format!("lib-{}", (i + 1) % 40): "1" }), json!({})));
    }
    ingest(&db, &docs).await;
    // a second run changes a tenth of them
    let changed: Vec<Value> = (0..300)
        .step_by(10)
        .map(|i| {
            pkg(
                &format!("app-{i}"),
                "2",
                json!({ format!("lib-{}", i % 13): "1", "lib-39": "2" }),
                json!({ "lib-0": "1" }),
            )
        })
        .collect();
    ingest(&db, &changed).await;

    let (e1, c1, p1) = (edges(&db).await, counts(&db).await, page_members(&db).await);
    assert_eq!(p1, e1);
    let run = indexer(&db, &["dependents", "--rebuild"]).await;
    assert!(run.stdout.starts_with("rebuilt "), "{}", run.stdout);
    let (e2, c2, p2) = (edges(&db).await, counts(&db).await, page_members(&db).await);
    assert_eq!(e1, e2, "edges");
    assert_eq!(c1, c2, "counts");
    assert_eq!(p1, p2, "page membership");

    // wrong counts on records, repaired by a rebuild that holds the counts of only 7
    // targets in memory at a time (the 40 targets' counts are added up in the database)
    let set_counts = |name: &str, n: i64| {
        let name = name.to_string();
        let packages = db.store.packages().clone();
        async move {
            packages
                .update_one(
                    doc! { "_id": &name },
                    doc! { "$set": { "dependents_count": n, "dev_dependents_count": n } },
                )
                .await
                .expect("update")
        }
    };
    set_counts("lib-3", 999).await;
    set_counts("app-5", 7).await;
    let run = indexer(&db, &["dependents", "--rebuild", "--counts-in-memory", "7"]).await;
    assert!(run.stdout.contains(" 2 package counts changed"), "{}", run.stdout);
    let (e3, c3, p3) = (edges(&db).await, counts(&db).await, page_members(&db).await);
    assert_eq!(e1, e3, "edges");
    assert_eq!(c1, c3, "counts (and the records' counts, checked by `counts`)");
    assert_eq!(p1, p3, "page membership");
    let app5 = db.store.packages().find_one(doc! { "_id": "app-5" }).await.expect("find").expect("app-5");
    assert_eq!(app5.get_i64("dependents_count").unwrap_or(0), 0, "a package nobody depends on: {app5}");
    assert_eq!(app5.get_i64("dev_dependents_count").unwrap_or(0), 0, "{app5}");
}

#[tokio::test]
async fn an_interrupted_batch_is_repaired_by_the_next_run() {
    let db = TestDb::new().await;
    ingest(
        &db,
        &[
            pkg("t", "1", json!({}), json!({})),
            pkg("s1", "1", json!({ "t": "1" }), json!({})),
            pkg("s2", "1", json!({ "t": "1" }), json!({})),
            pkg("s3", "1", json!({ "t": "1" }), json!({})),
        ],
    )
    .await;
    // a crash after the records of s2 and s3 were written (two batches of one window)
    // but before their edges were: the journal says so, one entry per batch, s2 in both
    db.store
        .collection("dependency_edges")
        .delete_many(doc! { "source": { "$in": ["s2", "s3"] } })
        .await
        .expect("delete");
    for sources in [vec!["s2"], vec!["s2", "s3"]] {
        db.store
            .collection("dependents_journal")
            .insert_one(doc! { "sources": sources, "at": mongodb::bson::DateTime::now() })
            .await
            .expect("journal");
    }
    // any writing run repairs it first
    ingest(&db, &[pkg("unrelated", "1", json!({}), json!({}))]).await;
    assert_eq!(edges(&db).await.get(&key("t", "prod")), Some(&set(&["s1", "s2", "s3"])));
    assert_eq!(counts(&db).await.get("t"), Some(&(3, 0)));
    assert_eq!(db.store.collection("dependents_journal").count_documents(doc! {}).await.expect("count"), 0);
    // the repaired lists are marked for a rerank, which lays their pages out from the edges
    indexer(&db, &["dependents", "--rerank"]).await;
    assert_eq!(page_members(&db).await, edges(&db).await);
}

#[tokio::test]
async fn a_run_killed_inside_a_window_of_batches_is_repaired_by_the_next_run() {
    // a dump's batches share one application of their dependency changes; a run killed
    // after writing a full batch (the input stalls before the next) leaves records written,
    // their edges not yet applied and the batch's journal entry behind
    let db = TestDb::new().await;
    let mut child = nodules_e2e::bins::spawn_bin("nodules-indexer", &db, &["ingest", "--lease-ttl", "2s", "-"]);
    let mut stdin = child.stdin.take().expect("stdin");
    let mut rows = Vec::new();
    writeln!(rows, "{{\"total_rows\":600,\"offset\":0,\"rows\":[").expect("w");
    write_row(&mut rows, &pkg("t", "1", json!({}), json!({})), true).expect("w");
    for i in 1..500 {
        write_row(&mut rows, &pkg(&format!("s{i:03}"), "1", json!({ "t": "^1.0.0" }), json!({})), true).expect("w");
    }
    stdin.write_all(&rows).expect("write stdin"); // 500 rows: one full batch, then nothing
    let started = std::time::Instant::now();
    while db.store.collection("sources").count_documents(doc! {}).await.expect("count") < 500 {
        assert!(started.elapsed().as_secs() < 60, "the first batch was not written");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(db.store.collection("dependents_journal").count_documents(doc! {}).await.expect("count"), 1);
    assert!(edges(&db).await.is_empty(), "edges are applied once per window, not per batch");
    child.kill().expect("kill -9");
    child.wait().expect("wait");
    drop(stdin);
    tokio::time::sleep(std::time::Duration::from_millis(2500)).await; // its lease expires

    ingest(&db, &[pkg("unrelated", "1", json!({}), json!({}))]).await;
    let sources: BTreeSet<String> = (1..500).map(|i| format!("s{i:03}")).collect();
    assert_eq!(edges(&db).await.get(&key("t", "prod")), Some(&sources));
    assert_eq!(counts(&db).await.get("t"), Some(&(499, 0)));
    assert_eq!(db.store.collection("dependents_journal").count_documents(doc! {}).await.expect("count"), 0);
    // the most depended-upon package goes to the downloader first
    let job = db.store.collection("sources").find_one(doc! { "package": "t" }).await.expect("find").expect("job");
    assert_eq!(job.get_i64("priority").expect("priority"), 499, "{job}");
    indexer(&db, &["dependents", "--rerank"]).await;
    assert_eq!(page_members(&db).await, edges(&db).await);
}

#[tokio::test]
async fn a_rerank_after_a_list_shrank_removes_its_pages_past_the_end() {
    let db = TestDb::new().await;
    let mut docs = vec![pkg("t", "1", json!({}), json!({}))];
    docs.extend((0..120).map(|i| pkg(&format!("s{i:03}"), "1", json!({ "t": "1" }), json!({}))));
    ingest(&db, &docs).await;
    indexer(&db, &["dependents", "--rerank"]).await;
    let pages = |db: &TestDb| {
        let c = db.store.collection("dependent_pages");
        async move { c.count_documents(doc! { "target": "t", "kind": "prod" }).await.expect("count") }
    };
    assert_eq!(pages(&db).await, 3, "120 members: pages of 50, 50, 20");
    // 70 of them drop the dependency, the 10 shown first among them: 50 members, one
    // page, and a top 10 refilled from those left
    let dropped: Vec<Value> = (0..70).map(|i| pkg(&format!("s{i:03}"), "2", json!({}), json!({}))).collect();
    ingest(&db, &dropped).await;
    indexer(&db, &["dependents", "--rerank"]).await;
    assert_eq!(pages(&db).await, 1);
    assert_eq!(page_members(&db).await, edges(&db).await);
    assert_eq!(counts(&db).await.get("t"), Some(&(50, 0)));
    let d = db.store.collection("dependents").find_one(doc! { "_id": "t" }).await.expect("find").expect("doc");
    assert_eq!(d.get_document("prod").expect("prod").get_i64("pages").expect("pages"), 1, "{d}");
    let top: Vec<&str> = d
        .get_array("top")
        .expect("top")
        .iter()
        .filter_map(|i| i.as_document().and_then(|i| i.get_str("n").ok()))
        .collect();
    assert_eq!(top, (70..80).map(|i| format!("s{i:03}")).collect::<Vec<_>>(), "{d}");
}

#[tokio::test]
async fn a_rerank_writes_only_the_pages_that_changed_and_renumbers_only_their_targets() {
    let db = TestDb::new().await;
    let mut docs = vec![pkg("t", "1", json!({}), json!({})), pkg("u", "1", json!({}), json!({}))];
    docs.extend((0..120).map(|i| pkg(&format!("s{i:03}"), "1", json!({ "t": "1" }), json!({}))));
    docs.extend((0..3).map(|i| pkg(&format!("v{i}"), "1", json!({ "u": "1" }), json!({}))));
    ingest(&db, &docs).await;
    indexer(&db, &["dependents", "--rerank"]).await;
    let seq = |name: &'static str| {
        let c = db.store.packages();
        async move { c.find_one(doc! { "_id": name }).await.expect("find").expect(name).get_i64("seq").expect("seq") }
    };
    let page = |n: i64| {
        let s = &db.store;
        async move { s.dependents_page("t", DepKind::Prod, n).await.expect("read").expect("page") }
    };
    let (t, u) = (seq("t").await, seq("u").await);
    let pages: Vec<_> = [page(1).await, page(2).await, page(3).await].into();

    // nothing changed: every list is read again, no page is written, no number given
    let run = indexer(&db, &["dependents", "--rerank", "--all"]).await;
    assert!(
        run.stdout.starts_with("reranked 2 lists, 123 dependents, 4 pages (0 pages and 0 packages changed)"),
        "{}",
        run.stdout
    );
    assert_eq!((seq("t").await, seq("u").await), (t, u));

    // s000, first of t's list, gains a dependent: its count on page 1 of t changes, its
    // place does not; pages 2 and 3 stay as they were; u is not touched
    ingest(&db, &[pkg("fan", "1", json!({ "s000": "1" }), json!({}))]).await;
    let t = seq("t").await;
    let run = indexer(&db, &["dependents", "--rerank"]).await;
    // t's page 1 only: s000's new list (one member) was laid out by the ingest as it stays
    assert!(
        run.stdout.starts_with("reranked 2 lists, 121 dependents, 4 pages (1 pages and 1 packages changed)"),
        "{}",
        run.stdout
    );
    assert!(seq("t").await > t, "t's page 1 changed: the webapp must see a new number");
    assert_eq!(seq("u").await, u);
    let first = page(1).await;
    assert_eq!((first.items[0].name.as_str(), first.items[0].dependents_count), ("s000", 1));
    assert_eq!([page(2).await, page(3).await], pages[1..]);
    assert_eq!(page_members(&db).await, edges(&db).await);

    // `status` counts the active packages without walking them: all records but the rest
    let status = indexer(&db, &["status", "--json"]).await;
    let v: Value = serde_json::from_str(&status.stdout).expect("json");
    assert_eq!(v["packages"]["active"], json!(126), "t, u, s000–s119, v0–v2, fan: {v}");
}
