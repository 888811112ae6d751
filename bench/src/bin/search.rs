//! Search benchmarks against a database filled by the indexer (MONGODB_URI, NODULES_DB):
//! `build DIR` — the webapp's first build of its index from MongoDB: time, peak RSS;
//! `queries DIR` — p50/p99 latency of exact-name, one-word, three-word, qualifier, filter,
//! fuzzy queries and of suggest, on queries drawn from the index itself;
//! `update DIR` — with the sync running, time from a package write to its appearance;
//! `build-dump DUMP DIR` — an index of a generated dump without a database (for sizes the
//! development server cannot hold): two passes, dependents counts then documents, each
//! normalized by the indexer's own normalizer. Tarball facts (types, module type) do not
//! exist without downloads; they are drawn from the name's hash (35 % types; 25 % ESM,
//! 60 % CJS, 15 % dual) so that filters have realistic selectivity.

use std::time::{Duration, Instant};

use mongodb::bson::doc;
use nodules_store::seq::PACKAGE_SEQ;
use nodules_store::{DbArgs, Store};
use nodules_webapp::search::engine::SearchEngine;
use nodules_webapp::search::sync::SearchService;

/// Queries per kind.
const PER_KIND: usize = 300;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(mode), Some(dir)) = (args.first(), args.get(1)) else {
        anyhow::bail!("usage: nodules-bench-search build|queries|update INDEX_DIR");
    };
    let dir = std::path::PathBuf::from(dir);
    match mode.as_str() {
        "build" => {
            let store = store().await?;
            let _ = std::fs::remove_dir_all(&dir);
            let started = Instant::now();
            let service = SearchService::start(store, &dir)?;
            while service.building().is_some() {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            let secs = started.elapsed().as_secs_f64();
            let docs = service.engine.doc_count();
            println!(
                "search build: {docs} packages in {secs:.1} s ({:.0} packages/s), peak RSS {} MB, index {} MB",
                docs as f64 / secs,
                peak_rss_mb(),
                dir_mb(&dir)
            );
        }
        "queries" => {
            let (engine, needs_build) = SearchEngine::open_or_create(&dir)?;
            anyhow::ensure!(!needs_build, "no index in {}: run `build` first", dir.display());
            engine.optimize()?;
            let sets = query_sets(&engine)?;
            println!("search queries on {} packages ({} segment):", engine.doc_count(), engine.segment_count());
            println!("| query kind | example | p50 (ms) | p99 (ms) | max (ms) |");
            println!("|---|---|---|---|---|");
            // a server answering traffic is warm: one untimed round first (index pages in the
            // page cache, decompressed doc-store blocks)
            for (kind, queries) in &sets {
                for q in queries {
                    if *kind == "suggest" {
                        std::hint::black_box(engine.suggest(q, 10));
                    } else {
                        std::hint::black_box(engine.search(q, 20, 0)?);
                    }
                }
            }
            for (kind, queries) in &sets {
                let mut times = Vec::with_capacity(queries.len());
                let mut slowest = Vec::with_capacity(queries.len());
                for q in queries {
                    let t = Instant::now();
                    let total = if *kind == "suggest" {
                        std::hint::black_box(engine.suggest(q, 10)).len() as u64
                    } else {
                        std::hint::black_box(engine.search(q, 20, 0)?).total
                    };
                    times.push(t.elapsed());
                    slowest.push((t.elapsed(), q, total));
                }
                times.sort();
                slowest.sort_by_key(|s| std::cmp::Reverse(s.0));
                for (t, q, total) in slowest.iter().take(4) {
                    eprintln!("{kind}: {q:?} {:.2} ms, {total} matches", t.as_secs_f64() * 1000.0);
                }
                let ms = |d: Duration| d.as_secs_f64() * 1000.0;
                let p = |q: f64| ms(times[((times.len() as f64 * q) as usize).min(times.len() - 1)]);
                let example = queries.first().map(String::as_str).unwrap_or("");
                println!(
                    "| {kind} | `{example}` | {:.2} | {:.2} | {:.2} |",
                    p(0.50),
                    p(0.99),
                    ms(*times.last().unwrap_or(&Duration::ZERO))
                );
            }
        }
        "update" => {
            let store = store().await?;
            let service = SearchService::start(store.clone(), &dir)?;
            while service.building().is_some() {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            let names = names_from(&service.engine)?;
            let mut times = Vec::new();
            for (i, name) in names.iter().take(20).enumerate() {
                let marker = format!("zqxbench{i}x{}", std::process::id());
                let seq = store.reserve_seq(PACKAGE_SEQ, 1).await?;
                let t = Instant::now();
                store
                    .packages()
                    .update_one(
                        doc! { "_id": name },
                        doc! { "$set": { "latest_version.description": &marker, "seq": seq } },
                    )
                    .await?;
                loop {
                    let engine = service.engine.clone();
                    let m = marker.clone();
                    let found = tokio::task::spawn_blocking(move || engine.search(&m, 1, 0)).await??;
                    if found.total > 0 {
                        break;
                    }
                    anyhow::ensure!(t.elapsed() < Duration::from_secs(60), "{name}: not indexed within 60 s");
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
                times.push(t.elapsed().as_secs_f64());
            }
            times.sort_by(f64::total_cmp);
            println!(
                "incremental update, write to visible in results ({} writes): p50 {:.2} s, max {:.2} s",
                times.len(),
                times[times.len() / 2],
                times.last().copied().unwrap_or(0.0)
            );
        }
        "probe" => {
            // each query 20 times: total matches, best and median time (warm)
            let (engine, _) = SearchEngine::open_or_create(&dir)?;
            for q in &args[2..] {
                let mut times = Vec::new();
                let mut total = 0;
                for _ in 0..20 {
                    let t = Instant::now();
                    total = std::hint::black_box(engine.search(q, 20, 0)?).total;
                    times.push(t.elapsed().as_secs_f64() * 1000.0);
                }
                times.sort_by(f64::total_cmp);
                println!("{q:?}: {total} matches, best {:.2} ms, median {:.2} ms", times[0], times[10]);
            }
        }
        "build-dump" => {
            let dump = dir.clone();
            let dir = std::path::PathBuf::from(args.get(2).ok_or_else(|| anyhow::anyhow!("build-dump DUMP DIR"))?);
            build_from_dump(&dump, &dir)?;
        }
        other => anyhow::bail!("unknown mode {other}: build, queries, update or build-dump"),
    }
    Ok(())
}

async fn store() -> anyhow::Result<Store> {
    let uri = std::env::var("MONGODB_URI")?;
    let db = std::env::var("NODULES_DB").unwrap_or_else(|_| "nodules".into());
    Ok(Store::connect_and_ping(&DbArgs::new(&uri, &db)).await?)
}

/// Names spread over the index: the most popular, and deeper pages of a broad query.
fn names_from(engine: &SearchEngine) -> anyhow::Result<Vec<String>> {
    let mut names = Vec::new();
    for offset in (0..9_000).step_by(PER_KIND * 3) {
        let r = engine.search("not:deprecated", PER_KIND / 3, offset)?;
        names.extend(r.results.into_iter().map(|h| h.name));
    }
    anyhow::ensure!(!names.is_empty(), "the index is empty");
    Ok(names)
}

/// Realistic queries of each kind, drawn from what is indexed.
fn query_sets(engine: &SearchEngine) -> anyhow::Result<Vec<(&'static str, Vec<String>)>> {
    let names = names_from(engine)?;
    let mut words = Vec::new();
    for name in &names {
        let r = engine.search(&format!("\"{name}\""), 1, 0)?;
        if let Some(d) = r.results.first().and_then(|h| h.description.clone()) {
            let w: Vec<String> =
                d.split(|c: char| !c.is_alphanumeric()).filter(|w| w.len() >= 4).map(str::to_lowercase).collect();
            if w.len() >= 3 {
                words.push(w);
            }
        }
    }
    anyhow::ensure!(!words.is_empty(), "no descriptions to draw words from");
    let take = |f: &dyn Fn(usize) -> String| (0..PER_KIND).map(f).collect::<Vec<_>>();
    let name = |i: usize| names[i * 7 % names.len()].clone();
    let w = |i: usize| &words[i * 13 % words.len()];
    let typo = |s: &str| {
        let mut c: Vec<char> = s.chars().collect();
        let k = c.len() / 2;
        if c.len() > 4 {
            c.swap(k, k - 1);
        }
        c.into_iter().collect::<String>()
    };
    Ok(vec![
        ("exact name", take(&|i| name(i))),
        ("one word", take(&|i| w(i)[0].clone())),
        ("three words", take(&|i| w(i)[..3].join(" "))),
        ("qualifier", take(&|i| format!("keywords:{}", w(i)[1]))),
        ("filter", take(&|i| format!("{} has:types not:deprecated", w(i)[0]))),
        ("filter only", take(&|i| ["has:types", "module:esm", "license:mit", "is:deprecated"][i % 4].to_string())),
        ("fuzzy (typo in a name)", take(&|i| typo(&name(i)))),
        ("suggest", take(&|i| name(i).chars().take(3 + i % 3).collect())),
    ])
}

fn peak_rss_mb() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb / 1024)
}

fn dir_mb(dir: &std::path::Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|rd| rd.filter_map(Result::ok).filter_map(|e| e.metadata().ok()).map(|m| m.len()).sum::<u64>() >> 20)
        .unwrap_or(0)
}

/// One row of an `_all_docs?include_docs=true` dump.
#[derive(serde::Deserialize)]
struct Row<'a> {
    #[serde(borrow)]
    doc: Option<&'a serde_json::value::RawValue>,
}

/// Calls `each` with every package of the dump, normalized.
fn each_package(dump: &std::path::Path, mut each: impl FnMut(nodules_store::model::Package)) -> anyhow::Result<u64> {
    use std::io::{BufRead, BufReader, Read};
    let file = std::fs::File::open(dump)?;
    let mut head = BufReader::with_capacity(1 << 20, file);
    let gz = head.fill_buf()?.starts_with(&[0x1f, 0x8b]);
    let reader: Box<dyn Read> = if gz { Box::new(flate2::read::MultiGzDecoder::new(head)) } else { Box::new(head) };
    let mut lines = BufReader::with_capacity(1 << 20, reader);
    let mut buf = Vec::new();
    let mut n = 0;
    loop {
        buf.clear();
        if lines.read_until(b'\n', &mut buf)? == 0 {
            break;
        }
        let line = buf.trim_ascii();
        let line = line.strip_suffix(b",").unwrap_or(line);
        let Ok(Row { doc: Some(doc) }) = serde_json::from_slice::<Row>(line) else { continue };
        if let Ok(p) = nodules_npm::normalize::document::normalize_streaming(doc, None, None, &mut drop) {
            n += 1;
            each(p);
        }
    }
    Ok(n)
}

fn build_from_dump(dump: &std::path::Path, dir: &std::path::Path) -> anyhow::Result<()> {
    use nodules_webapp::search::doc::SearchDoc;
    use std::collections::HashMap;
    use std::hash::{Hash, Hasher};
    let started = Instant::now();
    let mut dependents: HashMap<String, u32> = HashMap::new();
    each_package(dump, |p| {
        for target in p.dep_targets.prod {
            *dependents.entry(target).or_default() += 1;
        }
    })?;
    let counted = started.elapsed().as_secs_f64();
    let _ = std::fs::remove_dir_all(dir);
    let (engine, _) = SearchEngine::open_or_create(dir)?;
    let index_started = Instant::now();
    let mut batch = Vec::with_capacity(1000);
    let mut fail = None;
    let n = each_package(dump, |p| {
        if p.state != nodules_store::model::PackageState::Active {
            return;
        }
        let mut h = std::collections::hash_map::DefaultHasher::new();
        p.name.hash(&mut h);
        let h = h.finish() % 100;
        let latest = p.latest_version.as_ref();
        batch.push(SearchDoc {
            version: p.latest.clone(),
            description: latest.and_then(|l| l.description.clone()),
            keywords: latest.map(|l| l.keywords.clone()).unwrap_or_default(),
            author: latest.and_then(|l| l.author.as_ref()).and_then(|a| a.name.clone()),
            maintainers: p.maintainers.iter().filter_map(|m| m.name.clone()).collect(),
            license: latest.and_then(|l| l.license.as_ref()).and_then(|l| l.spdx.clone()),
            deprecated: latest.is_some_and(|l| l.deprecated.is_some()),
            has_types: Some(h < 35),
            module_type: Some(
                if h % 20 < 5 {
                    "esm"
                } else if h % 20 < 17 {
                    "cjs"
                } else {
                    "dual"
                }
                .to_string(),
            ),
            dependents_count: u64::from(dependents.get(&p.name).copied().unwrap_or(0)),
            modified: p.modified.map_or(0, |t| t.timestamp_millis() / 1000),
            // the 1M dump has no GitHub data
            active: false,
            archived: false,
            name: p.name,
        });
        if batch.len() >= 1000 && fail.is_none() {
            fail = engine.upsert(&std::mem::take(&mut batch)).err();
        }
    })?;
    if let Some(e) = fail {
        return Err(e.into());
    }
    engine.upsert(&batch)?;
    engine.commit("0")?;
    let indexed = index_started.elapsed().as_secs_f64();
    engine.optimize()?;
    println!(
        "search build from the dump: {n} packages; dependents pass {counted:.0} s, index pass {indexed:.0} s \
         (normalize + index, {:.0} packages/s), merge {:.0} s; peak RSS {} MB, index {} MB",
        n as f64 / indexed,
        index_started.elapsed().as_secs_f64() - indexed,
        peak_rss_mb(),
        dir_mb(dir)
    );
    Ok(())
}
