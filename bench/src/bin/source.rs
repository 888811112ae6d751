//! Source-browser benchmarks for `make bench-source` (driven by `bench/source.py`):
//! `highlight FILE [ROUNDS]` — the webapp's renderer against syntect's own bare class-based
//! highlighting of the same bytes with the same syntax set (`ClassedHTMLGenerator`, one line
//! at a time, the way syntect's documentation shows it): median seconds of each, and how the
//! webapp rendered the file;
//! `blobs NAME VERSION [ROUNDS]` — the reference of in-package search when cold: reading the
//! blobs in-package search reads (text files up to its cap), eight at a time as it does, from
//! the database (MONGODB_URI, NODULES_DB), nothing else.

use std::time::Instant;

use futures::StreamExt;
use nodules_store::queue::source_id;
use nodules_store::{DbArgs, Store};
use nodules_webapp::source::highlight;
use syntect::html::ClassedHTMLGenerator;
use syntect::util::LinesWithEndings;

/// In-package search skips files larger than this (the webapp's `grep::MAX_FILE`).
const SEARCHED_FILE: i64 = 4 << 20;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let rounds = |i: usize| args.get(i).and_then(|r| r.parse().ok()).unwrap_or(5usize).max(1);
    match args.first().map(String::as_str) {
        Some("highlight") => {
            let file = args.get(1).ok_or_else(|| anyhow::anyhow!("highlight FILE [ROUNDS]"))?;
            highlight_vs_bare(file, rounds(2))
        }
        Some("blobs") => {
            let (Some(name), Some(version)) = (args.get(1), args.get(2)) else {
                anyhow::bail!("blobs NAME VERSION [ROUNDS]");
            };
            read_blobs(name, version, rounds(3)).await
        }
        _ => anyhow::bail!("usage: nodules-bench-source highlight FILE [ROUNDS] | blobs NAME VERSION [ROUNDS]"),
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn highlight_vs_bare(file: &str, rounds: usize) -> anyhow::Result<()> {
    let bytes = std::fs::read(file).map_err(|e| anyhow::anyhow!("reading {file}: {e}"))?;
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let language = nodules_npm::files::language_of(file).ok_or_else(|| anyhow::anyhow!("{file}: no language"))?;
    let longest = text.lines().map(str::len).max().unwrap_or(0) as u64;
    let syntax = highlight::syntax_for(Some(language.syntax))
        .ok_or_else(|| anyhow::anyhow!("{file}: no syntax for {}", language.syntax))?;
    let set = highlight::syntax_set();
    // the syntax set is loaded lazily: not part of either timing
    let _ = highlight::render("x\n", Some(language.syntax), 1);

    let mut bare = Vec::new();
    let mut bare_bytes = 0;
    for _ in 0..rounds {
        let started = Instant::now();
        let mut g = ClassedHTMLGenerator::new_with_class_style(syntax, set, highlight::STYLE);
        for line in LinesWithEndings::from(&text) {
            g.parse_html_for_line_which_includes_newline(line)?;
        }
        bare_bytes = g.finalize().len();
        bare.push(started.elapsed().as_secs_f64());
    }
    let mut ours = Vec::new();
    let mut numbered = Vec::new();
    let mut rendering = String::new();
    let mut ours_bytes = 0;
    for _ in 0..rounds {
        let started = Instant::now();
        let r = highlight::render(&text, Some(language.syntax), longest);
        ours.push(started.elapsed().as_secs_f64());
        let started = Instant::now();
        ours_bytes = r.numbered(None).len();
        numbered.push(started.elapsed().as_secs_f64());
        rendering = format!("{:?}", r.rendering);
    }
    let out = serde_json::json!({
        "file": file, "bytes": bytes.len(), "lines": text.lines().count(), "language": language.name,
        "bare_s": median(bare), "bare_html_bytes": bare_bytes,
        "ours_s": median(ours), "numbered_s": median(numbered), "ours_html_bytes": ours_bytes,
        "rendering": rendering, "rounds": rounds,
    });
    println!("{out}");
    Ok(())
}

async fn read_blobs(name: &str, version: &str, rounds: usize) -> anyhow::Result<()> {
    let uri = std::env::var("MONGODB_URI")?;
    let db = std::env::var("NODULES_DB").unwrap_or_else(|_| "nodules".into());
    let store = Store::connect_and_ping(&DbArgs::new(&uri, &db)).await?;
    let s = store.source(name, version).await?.ok_or_else(|| anyhow::anyhow!("{name}@{version}: no source"))?;
    let tree = store.tree_under(&source_id(name, version), s.tree_gen, &s.tree_firsts, "", 200_000).await?;
    let ids: Vec<String> = tree
        .iter()
        .filter(|e| !e.binary && e.link_target.is_none() && e.size <= SEARCHED_FILE)
        .filter_map(|e| e.blob.clone())
        .collect();
    let mut times = Vec::new();
    let mut bytes = 0;
    for _ in 0..rounds {
        let started = Instant::now();
        let mut reads = futures::stream::iter(ids.iter().map(|id| {
            let store = store.clone();
            async move { store.blob(id, SEARCHED_FILE as usize).await }
        }))
        .buffered(8);
        bytes = 0;
        while let Some(b) = reads.next().await {
            bytes += b?.map_or(0, |b| b.len());
        }
        times.push(started.elapsed().as_secs_f64());
    }
    let out = serde_json::json!({
        "files": ids.len(), "bytes": bytes, "first_s": times[0], "median_s": median(times), "rounds": rounds,
    });
    println!("{out}");
    Ok(())
}
