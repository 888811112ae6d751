//! Writes a whole synthetic registry into a directory: `all_docs.json`, `changes.ndjson`,
//! `updates.ndjson` (each `.gz` with gzip) and `manifest.json`, which says what a
//! benchmark should find in them.

use std::io;
use std::path::PathBuf;
use std::sync::atomic::Ordering;

use serde_json::{Value, json};

use crate::feeds::{HUBS, Outputs, Stats, generate};
use crate::names::package_name;
use crate::plan::Gen;
use crate::sink::FileSink;

/// What to generate.
#[derive(Clone, Debug)]
pub struct Options {
    pub packages: u64,
    pub seed: u64,
    pub out: PathBuf,
    pub gzip: bool,
    /// Exponent of the Zipf law dependency targets follow.
    pub zipf_exponent: f64,
}

/// Progress as the run goes: packages done, bytes generated, bytes on disk.
pub type Progress<'a> = &'a mut dyn FnMut(u64, u64, u64);

/// Generates the registry of `opts` into `opts.out` and returns the manifest written.
pub fn write_registry(opts: &Options, progress: Progress<'_>) -> io::Result<Value> {
    std::fs::create_dir_all(&opts.out).map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", opts.out.display())))?;
    let ext = if opts.gzip { ".gz" } else { "" };
    let names = [format!("all_docs.json{ext}"), format!("changes.ndjson{ext}"), format!("updates.ndjson{ext}")];
    let mut sinks = Vec::with_capacity(3);
    for name in &names {
        sinks.push(FileSink::create(&opts.out.join(name), opts.gzip)?);
    }
    let disk: Vec<_> = sinks.iter().map(FileSink::on_disk).collect();
    let g = Gen::new(opts.seed, opts.packages, opts.zipf_exponent);
    let result = {
        let [a, c, u] = &mut sinks[..] else { unreachable!("three sinks") };
        let out = Outputs { all_docs: a, changes: c, updates: u };
        generate(&g, out, &mut |done, bytes| {
            progress(done, bytes, disk.iter().map(|d| d.load(Ordering::Relaxed)).sum())
        })
    };
    let mut sizes = Vec::with_capacity(3);
    for sink in sinks {
        sizes.push(sink.finish()?);
    }
    let stats = result?;
    let manifest = manifest(opts, &g, &stats, &names, &sizes);
    let path = opts.out.join("manifest.json");
    let mut text = serde_json::to_string_pretty(&manifest).map_err(io::Error::other)?;
    text.push('\n');
    std::fs::write(&path, text).map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", path.display())))?;
    Ok(manifest)
}

/// The manifest: inputs, file sizes, totals and the expected dependents counts of the
/// five most depended-upon packages.
pub fn manifest(opts: &Options, g: &Gen, stats: &Stats, names: &[String; 3], sizes: &[u64]) -> Value {
    let mut hubs: Vec<(u64, String)> = (0..stats.hubs.len() as u64).map(|i| (i, package_name(g.seed, i))).collect();
    hubs.sort_by(|a, b| stats.hubs[b.0 as usize].prod.cmp(&stats.hubs[a.0 as usize].prod).then(a.1.cmp(&b.1)));
    let top: Vec<Value> = hubs
        .iter()
        .take(5)
        .map(|(i, name)| {
            let h = &stats.hubs[*i as usize];
            json!({
                "name": name,
                "prod_dependents": h.prod,
                "dev_dependents": h.dev,
                "prod_dependents_after_updates": h.prod_after_updates,
                "dev_dependents_after_updates": h.dev_after_updates,
            })
        })
        .collect();
    let file = |k: usize| json!({ "path": names[k], "bytes": sizes.get(k), "uncompressed_bytes": stats.bytes[k] });
    json!({
        "generator": concat!("nodules-gen ", env!("CARGO_PKG_VERSION")),
        "packages": stats.packages,
        "seed": opts.seed,
        "gzip": opts.gzip,
        "shape": {
            "zipf_exponent": opts.zipf_exponent,
            "hubs_counted": HUBS.min(stats.packages),
        },
        "files": { "all_docs": file(0), "changes": file(1), "updates": file(2) },
        "versions": stats.versions,
        "edges": { "prod": stats.prod_edges, "dev": stats.dev_edges },
        "edges_after_updates": { "prod": stats.prod_edges_after_updates, "dev": stats.dev_edges_after_updates },
        "updates": {
            "changed": stats.changed,
            "unpublished": stats.unpublished,
            "deleted": stats.deleted,
            "first_seq": stats.packages + 1,
            "last_seq": stats.last_seq,
        },
        "largest_document": { "name": stats.largest.0, "bytes": stats.largest.1 },
        "giants": stats.giants.iter().map(|(name, versions, bytes)| json!({
            "name": name, "versions": versions, "bytes": bytes,
        })).collect::<Vec<_>>(),
        "top_dependents": top,
    })
}
