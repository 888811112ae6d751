//! One generation: a windowed scan of the shown packages spills every page (package,
//! keyword, author) to the partition file of its shard, in a temporary folder beside the
//! output; then each partition is read alone (a few tens of thousands of pages), its pages
//! deduplicated (a scan may see a record written meanwhile twice; a keyword appears on
//! many packages) keeping the latest `lastmod`, sorted, and written as gzip'd shards;
//! the index goes last. Memory holds one window or one partition, whatever the registry's
//! size. Output is deterministic (sorted, gzip without a timestamp): a shard whose pages
//! did not change keeps its bytes, and is not rewritten.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context;
use flate2::{Compression, GzBuilder};
use nodules_store::Store;
use nodules_store::sitemap::SitemapRecord;

use crate::shards::{self, Kind};
use crate::urls;
use crate::xml::{self, Entry};

/// What one generation did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Summary {
    pub packages: u64,
    pub keywords: u64,
    pub authors: u64,
    /// Pages left out: their URL is over the protocol's 2,048 characters.
    pub too_long: u64,
    pub shards: usize,
    /// Shards whose bytes changed (written), the others kept.
    pub changed: usize,
    /// Uncompressed bytes of every shard.
    pub bytes: u64,
    pub secs: f64,
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "sitemaps: {} packages, {} keywords, {} authors in {} shards ({} changed){} in {:.1} s",
            self.packages,
            self.keywords,
            self.authors,
            self.shards,
            self.changed,
            if self.too_long > 0 { format!(", {} URLs too long left out", self.too_long) } else { String::new() },
            self.secs
        )
    }
}

/// The partition files, removed with the folder when dropped (also after an error).
struct Partitions {
    dir: PathBuf,
    files: Vec<BufWriter<File>>,
}

impl Drop for Partitions {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl Partitions {
    fn create(out: &Path, n: usize) -> anyhow::Result<Partitions> {
        let dir = out.join(format!(".partitions-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        let mut files = Vec::with_capacity(n);
        for i in 0..n {
            let path = dir.join(i.to_string());
            let f = File::create(&path).with_context(|| format!("creating {}", path.display()))?;
            files.push(BufWriter::with_capacity(8 << 10, f));
        }
        Ok(Partitions { dir, files })
    }

    fn add(&mut self, kind: Kind, name: &str, lastmod_ms: Option<i64>) -> anyhow::Result<()> {
        let p = shards::partition(kind, name, self.files.len());
        let line = serde_json::to_string(&(kind.tag(), name, lastmod_ms))?;
        let f = &mut self.files[p];
        f.write_all(line.as_bytes())?;
        f.write_all(b"\n")?;
        Ok(())
    }

    fn add_record(&mut self, r: &SitemapRecord) -> anyhow::Result<()> {
        self.add(Kind::Package, &r.name, r.lastmod_ms)?;
        for k in &r.keywords {
            self.add(Kind::Keyword, k, r.lastmod_ms)?;
        }
        for a in &r.people {
            self.add(Kind::Author, a, r.lastmod_ms)?;
        }
        Ok(())
    }

    /// Partition `i`'s pages by kind: name → latest `lastmod`.
    fn read(&self, i: usize) -> anyhow::Result<HashMap<Kind, HashMap<String, Option<i64>>>> {
        let path = self.dir.join(i.to_string());
        let mut out: HashMap<Kind, HashMap<String, Option<i64>>> = HashMap::new();
        for line in BufReader::new(File::open(&path)?).lines() {
            let (tag, name, ms): (String, String, Option<i64>) = serde_json::from_str(&line?)?;
            let kind = Kind::from_tag(&tag).with_context(|| format!("kind {tag} in {}", path.display()))?;
            let slot = out.entry(kind).or_default().entry(name).or_insert(ms);
            *slot = (*slot).max(ms);
        }
        Ok(out)
    }
}

fn page_url(kind: Kind, base_url: &str, name: &str) -> String {
    match kind {
        Kind::Package => urls::package(base_url, name),
        Kind::Keyword => urls::keyword(base_url, name),
        Kind::Author => urls::author(base_url, name),
    }
}

/// A shard's gzip'd bytes (no timestamp in the header: the same pages, the same bytes).
fn gzip_urlset(entries: &[Entry]) -> anyhow::Result<(Vec<u8>, usize)> {
    let xml = xml::urlset(Vec::new(), entries)?;
    let mut gz = GzBuilder::new().mtime(0).write(Vec::new(), Compression::default());
    gz.write_all(&xml)?;
    Ok((gz.finish()?, xml.len()))
}

/// Writes `bytes` to `path` unless it holds them already; true when written.
fn write_if_changed(path: &Path, bytes: &[u8]) -> anyhow::Result<bool> {
    if std::fs::read(path).is_ok_and(|old| old == bytes) {
        return Ok(false);
    }
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, bytes).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("renaming {} to {}", tmp.display(), path.display()))?;
    Ok(true)
}

/// Splits a partition's sorted entries into shards within the protocol's limits.
fn chunks(entries: Vec<Entry>) -> Vec<Vec<Entry>> {
    let mut out = vec![Vec::new()];
    let mut bytes = 0;
    for e in entries {
        let b = xml::entry_bytes(&e);
        let last = out.last_mut().map_or(0, |c: &mut Vec<Entry>| c.len());
        if last >= shards::MAX_URLS || bytes + b > shards::MAX_BYTES - 200 {
            out.push(Vec::new());
            bytes = 0;
        }
        bytes += b;
        if let Some(c) = out.last_mut() {
            c.push(e);
        }
    }
    out
}

/// Writes `sitemap.xml` and `sitemaps/{n}.xml.gz` under `out` for every shown package,
/// keyword and author in `store`, with URLs under `base_url`; `progress` is told how many
/// packages each window held. `shards_per_kind` overrides the count sized from the
/// registry (tests: many shards of a few packages).
pub async fn generate(
    store: &Store,
    base_url: &str,
    out: &Path,
    shards_per_kind: Option<usize>,
    progress: &mut (dyn FnMut(usize) + Send),
) -> anyhow::Result<Summary> {
    let started = Instant::now();
    let shard_dir = out.join("sitemaps");
    std::fs::create_dir_all(&shard_dir).with_context(|| format!("creating {}", shard_dir.display()))?;
    let per_kind = match shards_per_kind {
        Some(n) => n.clamp(1, 4096),
        None => shards::per_kind(store.package_count_estimate().await?),
    };
    let mut parts = Partitions::create(out, per_kind)?;
    let mut summary = Summary::default();

    let mut scan = store.sitemap_scan().await?;
    while let Some(window) = scan.next_window().await? {
        for r in &window {
            parts.add_record(r)?;
        }
        progress(window.len());
    }
    for f in &mut parts.files {
        f.flush()?;
    }

    let base_url = base_url.trim_end_matches('/').to_string();
    let out = out.to_path_buf();
    let summary = tokio::task::spawn_blocking(move || -> anyhow::Result<Summary> {
        let mut index = Vec::new();
        let mut overflow = 3 * per_kind;
        for i in 0..per_kind {
            let mut pages = parts.read(i)?;
            for kind in Kind::ALL {
                let Some(names) = pages.remove(&kind) else { continue };
                let mut entries = Vec::with_capacity(names.len());
                for (name, ms) in names {
                    let loc = page_url(kind, &base_url, &name);
                    if loc.len() > urls::MAX_URL {
                        summary.too_long += 1;
                        continue;
                    }
                    entries.push(Entry { loc, lastmod: ms.and_then(xml::w3c) });
                }
                match kind {
                    Kind::Package => summary.packages += entries.len() as u64,
                    Kind::Keyword => summary.keywords += entries.len() as u64,
                    Kind::Author => summary.authors += entries.len() as u64,
                }
                if entries.is_empty() {
                    continue;
                }
                entries.sort();
                for (j, chunk) in chunks(entries).into_iter().enumerate() {
                    let n = if j == 0 {
                        shards::number(kind, i, per_kind)
                    } else {
                        overflow += 1;
                        overflow - 1
                    };
                    // RFC 3339 strings of one format sort as times
                    let lastmod = chunk.iter().filter_map(|e| e.lastmod.clone()).max();
                    let (gz, bytes) = gzip_urlset(&chunk)?;
                    summary.bytes += bytes as u64;
                    if write_if_changed(&shard_dir.join(format!("{n}.xml.gz")), &gz)? {
                        summary.changed += 1;
                    }
                    index.push((n, Entry { loc: urls::shard(&base_url, n), lastmod }));
                }
            }
        }
        index.sort();
        summary.shards = index.len();
        let entries: Vec<Entry> = index.iter().map(|(_, e)| e.clone()).collect();
        write_if_changed(&out.join("sitemap.xml"), &xml::index(Vec::new(), &entries)?)?;
        // shards of an earlier generation that this one no longer lists
        let listed: std::collections::HashSet<String> = index.iter().map(|(n, _)| format!("{n}.xml.gz")).collect();
        for f in std::fs::read_dir(&shard_dir)?.flatten() {
            let name = f.file_name().to_string_lossy().into_owned();
            if !listed.contains(&name) {
                let _ = std::fs::remove_file(f.path());
            }
        }
        drop(parts);
        summary.secs = started.elapsed().as_secs_f64();
        Ok(summary)
    })
    .await??;
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_keep_to_the_protocols_limits() {
        let entries: Vec<Entry> =
            (0..120_000).map(|i| Entry { loc: format!("https://x.test/package/p{i:06}"), lastmod: None }).collect();
        let c = chunks(entries);
        assert_eq!(c.iter().map(Vec::len).collect::<Vec<_>>(), vec![50_000, 50_000, 20_000]);
        let long = "x".repeat(2000);
        let entries: Vec<Entry> =
            (0..10_000).map(|i| Entry { loc: format!("https://x.test/keyword/{long}{i}"), lastmod: None }).collect();
        for chunk in chunks(entries) {
            let (_, bytes) = gzip_urlset(&chunk).unwrap_or_default();
            assert!(bytes <= shards::MAX_BYTES, "{bytes}");
        }
    }
}
