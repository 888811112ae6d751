//! The one pass over all packages: each is generated from (seed, index), written as an
//! `_all_docs` row and a `_changes` line, and, for a few, followed by an update-feed
//! entry. Only counters for the hub packages are kept, never the registry.

use std::io::{self, Write};

use crate::deps::Edges;
use crate::doc::{rev, write_doc, write_unpublished};
use crate::json::{Json, escape, push_u64};
use crate::plan::{Gen, Kind, Plan, update_time};
use crate::seed::{Stream, hash};

/// Hub counters are kept for the first `HUBS` packages: Zipf rank r is package r − 1, so
/// the most depended-upon packages are among them.
pub const HUBS: u64 = 1_000;

/// Where the three streams go.
pub struct Outputs<'a> {
    pub all_docs: &'a mut dyn Write,
    pub changes: &'a mut dyn Write,
    pub updates: &'a mut dyn Write,
}

/// What a package undergoes in the update feed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Update {
    /// A new latest version with other dependencies (1 %).
    Change,
    /// Every version unpublished (0.05 %).
    Unpublish,
    /// The document deleted (0.02 %).
    Delete,
}

/// Dependents counts of one hub package.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct HubCount {
    pub prod: u64,
    pub dev: u64,
    pub prod_after_updates: u64,
    pub dev_after_updates: u64,
}

/// Everything counted while generating, for the manifest.
#[derive(Debug, Default)]
pub struct Stats {
    pub packages: u64,
    pub versions: u64,
    pub prod_edges: u64,
    pub dev_edges: u64,
    pub prod_edges_after_updates: u64,
    pub dev_edges_after_updates: u64,
    pub changed: u64,
    pub unpublished: u64,
    pub deleted: u64,
    pub last_seq: u64,
    /// Index → counts, for packages below [`HUBS`].
    pub hubs: Vec<HubCount>,
    /// (name, versions, document bytes) of the packages with thousands of versions.
    pub giants: Vec<(String, usize, usize)>,
    /// (name, bytes) of the largest document.
    pub largest: (String, usize),
    /// Uncompressed bytes of all_docs, changes, updates.
    pub bytes: [u64; 3],
}

/// Which update, if any, package `index` gets. Hubs are never unpublished or deleted, so
/// their dependents counts mean the same before and after the feed.
pub fn update_of(seed: u64, index: u64) -> Option<Update> {
    match hash(seed, index, Stream::Update, 0) % 100_000 {
        0..1_000 => Some(Update::Change),
        1_000..1_050 if index >= HUBS => Some(Update::Unpublish),
        1_050..1_070 if index >= HUBS => Some(Update::Delete),
        _ => None,
    }
}

/// Writes the registry of `g` to `out`; `progress(done, bytes)` is called every 1,024
/// packages.
pub fn generate(g: &Gen, out: Outputs<'_>, progress: &mut dyn FnMut(u64, u64)) -> io::Result<Stats> {
    let n = g.n;
    let mut stats = Stats { packages: n, hubs: vec![HubCount::default(); HUBS.min(n) as usize], ..Stats::default() };
    let mut doc = Json::with_capacity(1 << 16);
    let mut line = Vec::with_capacity(256);
    let mut w = Counted { out, bytes: [0; 3] };

    line.extend_from_slice(b"{\"total_rows\":");
    push_u64(&mut line, n);
    line.extend_from_slice(b",\"offset\":0,\"rows\":[\n");
    w.write(0, &line)?;
    let mut seq = n;
    for i in 0..n {
        let plan = g.plan(i);
        let rev = rev(g.seed, &plan);
        doc.clear();
        write_doc(&mut doc, g, &plan, &rev);
        stats.versions += plan.versions.len() as u64;
        if doc.buf.len() > stats.largest.1 {
            stats.largest = (plan.name.clone(), doc.buf.len());
        }
        if plan.kind == Kind::Giant {
            stats.giants.push((plan.name.clone(), plan.versions.len(), doc.buf.len()));
        }

        line.clear();
        if i > 0 {
            line.extend_from_slice(b",\n");
        }
        line.extend_from_slice(b"{\"id\":");
        escape(&mut line, &plan.name);
        line.extend_from_slice(b",\"key\":");
        escape(&mut line, &plan.name);
        line.extend_from_slice(b",\"value\":{\"rev\":");
        escape(&mut line, &rev);
        line.extend_from_slice(b"},\"doc\":");
        w.write(0, &line)?;
        w.write(0, &doc.buf)?;
        w.write(0, b"}")?;
        change_line(&mut w, 1, i + 1, &plan.name, &rev, Some(&doc.buf))?;

        let edges = plan.sets[plan.versions[plan.latest].set].edges(i);
        stats.prod_edges += edges.prod.len() as u64;
        stats.dev_edges += edges.dev.len() as u64;
        count_hubs(&mut stats.hubs, &edges.prod, &edges.dev, false);

        let after = match update_of(g.seed, i) {
            None => Some(edges),
            Some(kind) => update(g, &plan, kind, &mut seq, &mut doc, &mut w, &mut stats)?,
        };
        if let Some(after) = after {
            stats.prod_edges_after_updates += after.prod.len() as u64;
            stats.dev_edges_after_updates += after.dev.len() as u64;
            count_hubs(&mut stats.hubs, &after.prod, &after.dev, true);
        }
        if i % 1024 == 1023 {
            progress(i + 1, w.bytes.iter().sum());
        }
    }
    w.write(0, b"\n]}\n")?;
    for (stream, last) in [(1, n), (2, seq)] {
        line.clear();
        line.extend_from_slice(b"{\"last_seq\":");
        push_u64(&mut line, last);
        line.extend_from_slice(b"}\n");
        w.write(stream, &line)?;
    }
    stats.last_seq = seq;
    stats.bytes = w.bytes;
    progress(n, w.bytes.iter().sum());
    Ok(stats)
}

/// Writes package `plan`'s update-feed entry, taking the next sequence number; returns
/// the edges of its latest version afterwards (`None` once it is gone).
fn update(
    g: &Gen,
    plan: &Plan,
    kind: Update,
    seq: &mut u64,
    doc: &mut Json,
    w: &mut Counted<'_>,
    stats: &mut Stats,
) -> io::Result<Option<Edges>> {
    let k = *seq - g.n;
    let mut next = plan.clone();
    next.rev = 2;
    match kind {
        Update::Change => {
            let Some(changed) = g.updated(plan, k) else { return Ok(Some(plan.sets[0].edges(plan.index))) };
            next = changed;
            doc.clear();
            let rev = rev(g.seed, &next);
            write_doc(doc, g, &next, &rev);
            *seq += 1;
            stats.changed += 1;
            change_line(w, 2, *seq, &plan.name, &rev, Some(&doc.buf))?;
            Ok(Some(next.sets[next.versions[next.latest].set].edges(plan.index)))
        }
        Update::Unpublish => {
            doc.clear();
            let rev = rev(g.seed, &next);
            write_unpublished(doc, plan, &rev, update_time(k));
            *seq += 1;
            stats.unpublished += 1;
            change_line(w, 2, *seq, &plan.name, &rev, Some(&doc.buf))?;
            Ok(None)
        }
        Update::Delete => {
            *seq += 1;
            stats.deleted += 1;
            change_line(w, 2, *seq, &plan.name, &rev(g.seed, &next), None)?;
            Ok(None)
        }
    }
}

/// `{"seq":…,"id":…,"changes":[{"rev":…}],"doc":…}`, or `"deleted":true` without a doc.
fn change_line(
    w: &mut Counted<'_>,
    stream: usize,
    seq: u64,
    id: &str,
    rev: &str,
    doc: Option<&[u8]>,
) -> io::Result<()> {
    let mut line = Vec::with_capacity(128);
    line.extend_from_slice(b"{\"seq\":");
    push_u64(&mut line, seq);
    line.extend_from_slice(b",\"id\":");
    escape(&mut line, id);
    line.extend_from_slice(b",\"changes\":[{\"rev\":");
    escape(&mut line, rev);
    line.extend_from_slice(b"}]");
    match doc {
        Some(doc) => {
            line.extend_from_slice(b",\"doc\":");
            w.write(stream, &line)?;
            w.write(stream, doc)?;
            w.write(stream, b"}\n")
        }
        None => {
            line.extend_from_slice(b",\"deleted\":true}\n");
            w.write(stream, &line)
        }
    }
}

fn count_hubs(hubs: &mut [HubCount], prod: &[u64], dev: &[u64], after: bool) {
    for (targets, is_prod) in [(prod, true), (dev, false)] {
        for &t in targets {
            let Some(h) = hubs.get_mut(t as usize) else { continue };
            match (is_prod, after) {
                (true, false) => h.prod += 1,
                (false, false) => h.dev += 1,
                (true, true) => h.prod_after_updates += 1,
                (false, true) => h.dev_after_updates += 1,
            }
        }
    }
}

/// The three outputs, counting the bytes written to each.
struct Counted<'a> {
    out: Outputs<'a>,
    bytes: [u64; 3],
}

impl Counted<'_> {
    fn write(&mut self, stream: usize, data: &[u8]) -> io::Result<()> {
        self.bytes[stream] += data.len() as u64;
        match stream {
            0 => self.out.all_docs.write_all(data),
            1 => self.out.changes.write_all(data),
            _ => self.out.updates.write_all(data),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::{HashMap, HashSet};

    use serde_json::Value;

    use super::*;
    use crate::names::package_name;

    fn run(n: u64, seed: u64) -> ([Vec<u8>; 3], Stats) {
        let g = Gen::new(seed, n, 1.15);
        let (mut a, mut c, mut u) = (Vec::new(), Vec::new(), Vec::new());
        let out = Outputs { all_docs: &mut a, changes: &mut c, updates: &mut u };
        let stats = generate(&g, out, &mut |_, _| {}).expect("writing to memory");
        ([a, c, u], stats)
    }

    fn lines(bytes: &[u8]) -> Vec<&str> {
        std::str::from_utf8(bytes).expect("utf-8").lines().collect()
    }

    /// The registry package `key: spec` installs, by the indexer's rules.
    fn target_of(key: &str, spec: &str) -> Option<String> {
        if let Some(alias) = spec.strip_prefix("npm:") {
            let (at, rest) = alias.strip_prefix('@').map_or(("", alias), |r| ("@", r));
            return Some(format!("{at}{}", rest.split('@').next().unwrap_or_default()));
        }
        let git = spec.starts_with("github:") || spec.starts_with("git+") || spec.contains('/');
        (!git).then(|| key.to_string())
    }

    /// (prod, dev) targets of a document's latest version.
    fn latest_targets(doc: &Value) -> (Vec<String>, Vec<String>) {
        let latest = doc["dist-tags"]["latest"].as_str().expect("dist-tags.latest");
        let v = &doc["versions"][latest];
        assert!(v.is_object(), "{}: latest {latest} is not a version", doc["name"]);
        let targets = |fields: &[&str]| {
            let mut out: Vec<String> = Vec::new();
            for f in fields {
                match &v[f] {
                    Value::Null => {}
                    Value::Object(m) => out.extend(m.iter().filter_map(|(k, s)| target_of(k, s.as_str()?))),
                    other => panic!("{}: latest {f} is {other}", doc["name"]),
                }
            }
            out.sort();
            out.dedup();
            out
        };
        let prod = targets(&["dependencies", "peerDependencies", "optionalDependencies"]);
        let dev = targets(&["devDependencies"]).into_iter().filter(|t| prod.binary_search(t).is_err()).collect();
        (prod, dev)
    }

    #[test]
    fn same_seed_same_bytes() {
        let (a, _) = run(3_000, 11);
        let (b, _) = run(3_000, 11);
        assert!(a == b, "two runs with one seed differ");
        let (c, _) = run(3_000, 12);
        assert!(a[0] != c[0]);
    }

    #[test]
    fn feeds_parse_and_match_the_counts() {
        let n = 4_000u64;
        let ([all_docs, changes, updates], stats) = run(n, 3);

        // _all_docs: CouchDB's framing, one row per line, commas on all rows but the last
        let rows = lines(&all_docs);
        assert_eq!(rows[0], format!("{{\"total_rows\":{n},\"offset\":0,\"rows\":["));
        assert_eq!(rows[rows.len() - 1], "]}");
        assert_eq!(rows.len() as u64, n + 2);
        let mut docs: Vec<Value> = Vec::new();
        for (i, line) in rows[1..rows.len() - 1].iter().enumerate() {
            let last = i as u64 == n - 1;
            assert_eq!(line.ends_with(','), !last, "row {i}");
            let row: Value = serde_json::from_str(line.strip_suffix(',').unwrap_or(line)).expect("row is JSON");
            let doc = &row["doc"];
            assert_eq!(row["id"], doc["name"]);
            assert_eq!(row["key"], doc["_id"]);
            assert!(doc.get("_rev").is_none_or(|r| *r == row["value"]["rev"]));
            docs.push(row["doc"].clone());
        }
        let names: HashSet<&str> = docs.iter().map(|d| d["name"].as_str().expect("name")).collect();
        assert_eq!(names.len() as u64, n, "names are unique");

        // every edge points at an existing other package; counts agree with the hubs'
        let mut prod_count: HashMap<String, u64> = HashMap::new();
        let mut dev_count: HashMap<String, u64> = HashMap::new();
        let mut latest: HashMap<String, (Vec<String>, Vec<String>)> = HashMap::new();
        for doc in &docs {
            let name = doc["name"].as_str().unwrap_or_default().to_string();
            let (prod, dev) = latest_targets(doc);
            for t in prod.iter().chain(&dev) {
                assert!(names.contains(t.as_str()), "{name} depends on unknown {t}");
                assert_ne!(*t, name, "{name} depends on itself");
            }
            prod.iter().for_each(|t| *prod_count.entry(t.clone()).or_default() += 1);
            dev.iter().for_each(|t| *dev_count.entry(t.clone()).or_default() += 1);
            latest.insert(name, (prod, dev));
        }
        assert_eq!(prod_count.values().sum::<u64>(), stats.prod_edges);
        assert_eq!(dev_count.values().sum::<u64>(), stats.dev_edges);
        for (i, h) in stats.hubs.iter().enumerate() {
            let name = package_name(3, i as u64);
            assert_eq!(prod_count.get(&name).copied().unwrap_or(0), h.prod, "prod dependents of {name}");
            assert_eq!(dev_count.get(&name).copied().unwrap_or(0), h.dev, "dev dependents of {name}");
        }
        let top = prod_count.values().max().copied().unwrap_or(0);
        assert_eq!(top, stats.hubs[0].prod, "package 0 is the most depended upon");
        assert!(top * 100 / n >= 15, "top target has only {top} dependents of {n}");

        // _changes: the same documents, seq 1..=n, then last_seq
        let ch = lines(&changes);
        assert_eq!(ch.len() as u64, n + 1);
        for (i, line) in ch[..n as usize].iter().enumerate() {
            let c: Value = serde_json::from_str(line).expect("change is JSON");
            assert_eq!(c["seq"], i as u64 + 1);
            assert_eq!(c["doc"], docs[i]);
        }
        assert_eq!(ch[n as usize], format!("{{\"last_seq\":{n}}}"));

        // updates: seq continues; changed latest dependencies differ; counts after updates
        let up = lines(&updates);
        let mut seq = n;
        let (mut changed, mut gone) = (0u64, 0u64);
        for line in &up[..up.len() - 1] {
            let c: Value = serde_json::from_str(line).expect("update is JSON");
            seq += 1;
            assert_eq!(c["seq"], seq);
            let id = c["id"].as_str().expect("id").to_string();
            assert!(c["changes"][0]["rev"].as_str().is_some_and(|r| r.starts_with("2-")));
            let (prod, dev) = latest.remove(&id).expect("updated package was in the dump");
            if c["deleted"] == true {
                gone += 1;
            } else if c["doc"]["versions"].is_null() {
                assert!(c["doc"]["time"]["unpublished"]["versions"].is_array());
                gone += 1;
            } else {
                let now = latest_targets(&c["doc"]);
                assert_ne!(now.0, prod, "{id}: latest dependencies unchanged");
                latest.insert(id, now);
                changed += 1;
            }
            let _ = dev;
        }
        assert_eq!(up[up.len() - 1], format!("{{\"last_seq\":{seq}}}"));
        assert_eq!((changed, gone), (stats.changed, stats.unpublished + stats.deleted));
        assert!(changed > 20 && changed < 65, "{changed} changes for 1 % of {n}");
        let mut after: HashMap<&str, u64> = HashMap::new();
        for (prod, _) in latest.values() {
            prod.iter().for_each(|t| *after.entry(t.as_str()).or_default() += 1);
        }
        for (i, h) in stats.hubs.iter().enumerate().take(50) {
            let name = package_name(3, i as u64);
            assert_eq!(after.get(name.as_str()).copied().unwrap_or(0), h.prod_after_updates, "{name} after updates");
        }
    }

    #[test]
    fn dependents_follow_a_power_law() {
        let g = Gen::new(5, 30_000, 1.15);
        let (mut a, mut c, mut u) = (io::sink(), io::sink(), io::sink());
        let stats = generate(&g, Outputs { all_docs: &mut a, changes: &mut c, updates: &mut u }, &mut |_, _| {})
            .expect("discarding");
        let share = |i: usize| stats.hubs[i].prod as f64 / 30_000.0;
        // the top target is a dependency of a fifth of all packages; rank 100 of under 1 %
        assert!(share(0) > 0.2, "{}", share(0));
        assert!(share(0) > share(1) && share(1) > share(10) && share(10) > share(100));
        assert!(share(100) < 0.01, "{}", share(100));
        assert_eq!(stats.giants.len(), 2);
        assert!(stats.giants.iter().all(|(_, _, bytes)| *bytes > 10_000_000), "{:?}", stats.giants);
    }
}
