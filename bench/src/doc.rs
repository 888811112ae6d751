//! Writes a [`Plan`] as the registry writes a package document: `_id`, `_rev`,
//! `dist-tags`, `versions` (full manifests), `time`, `maintainers`, `readme`, …

use rand::Rng;
use rand::rngs::SmallRng;

use crate::clock::{TimeStyle, push_time};
use crate::deps::Dep;
use crate::fields::{common_fields, people, person, scripts};
use crate::json::{Json, push_base64, push_hex};
use crate::names::{basename, user_name};
use crate::plan::{Gen, Kind, Plan, Ver};
use crate::seed::{Stream, hash, rng, version_rng};
use crate::words;

/// 2017-06-01: versions published since carry `integrity`, `fileCount`, `unpackedSize`.
const INTEGRITY_MS: i64 = 1_496_275_200_000;
/// 2022-01-01: versions published since carry registry signatures.
const SIGNATURES_MS: i64 = 1_640_995_200_000;

/// The revision id of a plan: `<rev>-<32 hex>`.
pub fn rev(seed: u64, plan: &Plan) -> String {
    let mut out = Vec::with_capacity(40);
    crate::json::push_u64(&mut out, plan.rev);
    out.push(b'-');
    push_hex(&mut out, &hash(seed, plan.index, Stream::Rev, plan.rev).to_le_bytes());
    push_hex(&mut out, &hash(seed, plan.index, Stream::Rev, plan.rev + 1000).to_le_bytes());
    String::from_utf8(out).unwrap_or_default()
}

/// What every version repeats, rendered once per document: versions copy bytes.
struct Shared<'a> {
    plan: &'a Plan,
    style_time: TimeStyle,
    repo: &'a str,
    maintainers: Vec<String>,
    /// The fields of `common_fields`, without braces.
    common: Vec<u8>,
    /// The maintainers array.
    people: Vec<u8>,
    /// Each dependency set's maps; versions take prefixes of them.
    sets: Vec<[Rendered; 4]>,
}

/// A dependency map's entries, `"key":"spec"` joined by commas, and where each ends, so
/// that the first n entries are one slice.
struct Rendered {
    bytes: Vec<u8>,
    ends: Vec<usize>,
}

impl Rendered {
    fn new(deps: &[Dep]) -> Rendered {
        let mut j = Json::default();
        let mut ends = Vec::with_capacity(deps.len());
        for d in deps {
            j.kv_str(&d.key, &d.spec);
            ends.push(j.buf.len());
        }
        Rendered { bytes: j.buf, ends }
    }

    /// `field` with the first `n` entries; nothing when `n` is 0.
    fn write(&self, j: &mut Json, field: &str, n: usize) {
        let Some(&end) = n.checked_sub(1).and_then(|last| self.ends.get(last)) else { return };
        j.key(field);
        let out = j.value();
        out.push(b'{');
        out.extend_from_slice(&self.bytes[..end]);
        out.push(b'}');
    }
}

/// Appends the document of `plan` to `j`.
pub fn write_doc(j: &mut Json, g: &Gen, plan: &Plan, rev: &str) {
    let owner = user_name(g.seed, plan.owner);
    let repo = basename(&plan.name);
    let maintainers: Vec<String> = plan.maintainers.iter().map(|&u| user_name(g.seed, u)).collect();
    let mut common = Json::default();
    common_fields(&mut common, plan, &owner, repo);
    let mut people_json = Json::default();
    people(&mut people_json, &maintainers);
    let sets = plan
        .sets
        .iter()
        .map(|s| [Rendered::new(&s.deps), Rendered::new(&s.dev), Rendered::new(&s.peer), Rendered::new(&s.optional)])
        .collect();
    let shared = Shared {
        plan,
        style_time: plan.style.time,
        repo,
        maintainers,
        common: common.buf,
        people: people_json.buf,
        sets,
    };
    let style = &plan.style;
    j.open_obj();
    j.kv_str("_id", &plan.name);
    if !style.no_rev {
        j.kv_str("_rev", rev);
    }
    j.kv_str("name", &plan.name);
    j.kv_str("description", &plan.description);
    j.key("dist-tags");
    j.open_obj();
    j.kv_str("latest", &plan.versions[plan.latest].version);
    if let Some(next) = plan.next {
        j.kv_str("next", &plan.versions[next].version);
    }
    j.close_obj();
    j.key("versions");
    j.open_obj();
    for (vi, v) in plan.versions.iter().enumerate() {
        j.key(&v.version);
        write_version(j, g, &shared, vi, v);
    }
    j.close_obj();
    j.key("time");
    j.open_obj();
    time_field(j, "modified", plan.modified, shared.style_time);
    if !style.no_created {
        time_field(j, "created", plan.created, shared.style_time);
    }
    for v in &plan.versions {
        time_field(j, &v.version, v.time, shared.style_time);
    }
    j.close_obj();
    j.key("maintainers");
    j.raw_bytes(&shared.people);
    j.raw_bytes(&shared.common);
    if style.readme > 0 {
        let mut r = rng(g.seed, plan.index, Stream::Readme);
        j.kv_str("readme", &words::readme(&mut r, &plan.name, &plan.description, style.readme));
        j.kv_str("readmeFilename", "README.md");
    }
    j.close_obj();
}

/// The document of an unpublished package, as the registry keeps it: no versions, and
/// `time.unpublished` listing the versions that were.
pub fn write_unpublished(j: &mut Json, plan: &Plan, rev: &str, at: i64) {
    let t = plan.style.time;
    j.open_obj();
    j.kv_str("_id", &plan.name);
    j.kv_str("_rev", rev);
    j.kv_str("name", &plan.name);
    j.key("time");
    j.open_obj();
    time_field(j, "created", plan.created, t);
    time_field(j, "modified", at, t);
    j.key("unpublished");
    j.open_obj();
    time_field(j, "time", at, t);
    j.key("versions");
    j.open_arr();
    for v in &plan.versions {
        j.str(&v.version);
    }
    j.close_arr();
    j.close_obj();
    j.close_obj();
    j.close_obj();
}

fn write_version(j: &mut Json, g: &Gen, s: &Shared<'_>, vi: usize, v: &Ver) {
    let plan = s.plan;
    let style = &plan.style;
    let mut r = version_rng(g.seed, plan.index, vi);
    j.open_obj();
    j.kv_str("name", &plan.name);
    j.kv_str("version", &v.version);
    j.kv_str("description", &plan.description);
    j.kv_str("main", if r.random_bool(0.7) { "index.js" } else { "dist/index.js" });
    if r.random_bool(0.2) {
        j.kv_str("types", "dist/index.d.ts");
    }
    match style.bin {
        1 => {
            j.key("bin");
            j.open_obj();
            j.kv_str(s.repo, "bin/cli.js");
            j.close_obj();
        }
        2 => j.kv_str("bin", "./bin/cli.js"),
        _ => {}
    }
    scripts(j, plan.kind);
    if plan.kind == Kind::Giant {
        j.key("files");
        j.open_arr();
        for f in ["bin", "lib/**/*.js", "lib/**/*.d.ts", "lib/**/*.json", "!lib/**/*.map", "README.md", "LICENSE.txt"] {
            j.str(f);
        }
        j.close_arr();
        j.kv_str("typings", "./lib/typescript.d.ts");
        j.key("browser");
        j.raw(r#"{"fs":false,"os":false,"path":false,"crypto":false,"buffer":false,"source-map-support":false,"inspector":false,"perf_hooks":false}"#);
        j.kv_str("packageManager", "npm@8.19.4");
        j.key("volta");
        j.raw(r#"{"node":"20.1.0","npm":"8.19.4"}"#);
        j.key("contributors");
        j.open_arr();
        for m in &s.maintainers {
            person(j, 0, m);
        }
        j.close_arr();
    }
    j.raw_bytes(&s.common);
    match style.engines {
        1 => {
            j.key("engines");
            j.raw(r#"{"node":">=14.17"}"#);
        }
        2 => {
            j.key("engines");
            j.raw(r#"["node >= 0.8"]"#);
        }
        _ => {}
    }
    let set = &plan.sets[v.set];
    let rendered = &s.sets[v.set];
    if vi == 0 && vi < plan.latest && style.legacy_array && v.n_deps > 0 {
        j.key("dependencies");
        j.open_arr();
        for d in set.deps[..v.n_deps].iter().filter(|d| d.key.len() + 1 < 200 && !d.spec.contains(':')) {
            j.str_parts(&[&d.key, "@", &d.spec]);
        }
        j.close_arr();
    } else {
        rendered[0].write(j, "dependencies", v.n_deps);
    }
    rendered[1].write(j, "devDependencies", v.n_dev);
    if v.peers {
        rendered[2].write(j, "peerDependencies", set.peer.len());
        rendered[3].write(j, "optionalDependencies", set.optional.len());
    }
    let mut bytes = [0u8; 64];
    r.fill(&mut bytes[..20]);
    j.key("gitHead");
    hex_str(j, &bytes[..20]);
    j.key("_id");
    j.str_parts(&[&plan.name, "@", &v.version]);
    j.key("_nodeVersion");
    j.raw(["\"16.20.2\"", "\"18.19.0\"", "\"20.11.1\"", "\"22.12.0\""][r.random_range(0..4)]);
    j.key("_npmVersion");
    j.raw(["\"8.19.4\"", "\"9.6.7\"", "\"10.2.4\"", "\"10.9.0\""][r.random_range(0..4)]);
    dist(j, s, v, &mut r);
    j.key("_npmUser");
    let publisher = user_name(g.seed, v.npm_user);
    person(j, 0, &publisher);
    j.key("directories");
    j.raw("{}");
    j.key("maintainers");
    j.raw_bytes(&s.people);
    j.key("_hasShrinkwrap");
    j.raw("false");
    j.close_obj();
}

fn dist(j: &mut Json, s: &Shared<'_>, v: &Ver, r: &mut SmallRng) {
    let mut bytes = [0u8; 64];
    j.key("dist");
    j.open_obj();
    if v.time >= INTEGRITY_MS {
        r.fill(&mut bytes[..]);
        j.key("integrity");
        let out = j.value();
        out.extend_from_slice(b"\"sha512-");
        push_base64(out, &bytes);
        out.push(b'"');
    }
    r.fill(&mut bytes[..20]);
    j.key("shasum");
    hex_str(j, &bytes[..20]);
    j.key("tarball");
    j.str_parts(&["https://registry.test/", &s.plan.name, "/-/", s.repo, "-", &v.version, ".tgz"]);
    if v.time >= INTEGRITY_MS {
        j.kv_num("fileCount", r.random_range(3..400));
        j.kv_num("unpackedSize", r.random_range(1_000..5_000_000));
    }
    if v.time >= SIGNATURES_MS {
        r.fill(&mut bytes[..48]);
        j.key("signatures");
        let out = j.value();
        out.extend_from_slice(b"[{\"keyid\":\"SHA256:jl3bwswu80PjjokCgh0o2w5c2U4LhQAE57gj9cz1kzA\",\"sig\":\"");
        push_base64(out, &bytes[..48]);
        out.extend_from_slice(b"\"}]");
    }
    j.close_obj();
}

fn time_field(j: &mut Json, key: &str, ms: i64, style: TimeStyle) {
    j.key(key);
    let out = j.value();
    out.push(b'"');
    push_time(out, ms, style);
    out.push(b'"');
}

fn hex_str(j: &mut Json, bytes: &[u8]) {
    let out = j.value();
    out.push(b'"');
    push_hex(out, bytes);
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use super::*;

    fn doc(g: &Gen, i: u64) -> (Vec<u8>, Plan) {
        let plan = g.plan(i);
        let mut j = Json::default();
        write_doc(&mut j, g, &plan, &rev(g.seed, &plan));
        (j.buf, plan)
    }

    #[test]
    fn giant_documents_exceed_ten_megabytes_and_parse() {
        let g = Gen::new(9, 20_000, 1.15);
        let i = (0..20_000).find(|&i| g.kind(i) == Kind::Giant).expect("a giant");
        let (bytes, plan) = doc(&g, i);
        assert!(bytes.len() > 10_000_000, "{} bytes", bytes.len());
        let v: Value = serde_json::from_slice(&bytes).expect("valid JSON");
        assert_eq!(v["versions"].as_object().map(|m| m.len()), Some(plan.versions.len()));
        assert!(v["dist-tags"]["next"].as_str().is_some_and(|n| n.contains("-dev.")));
    }

    /// A messy shape's label and how to spot it.
    type Shape = (&'static str, fn(&Value) -> bool);

    #[test]
    fn messy_shapes_appear_at_low_rates() {
        let g = Gen::new(4, 5_000, 1.15);
        let shapes: [Shape; 14] = [
            ("author string", |d| d["author"].is_string()),
            ("author object", |d| d["author"].is_object()),
            ("repository shorthand", |d| d["repository"].is_string()),
            ("repository {}", |d| d["repository"].as_object().is_some_and(|o| o.is_empty())),
            ("license object", |d| d["license"].is_object()),
            ("licenses array", |d| d["licenses"].is_array()),
            ("SEE LICENSE IN", |d| d["license"] == "SEE LICENSE IN LICENSE"),
            ("UNLICENSED", |d| d["license"] == "UNLICENSED"),
            ("keywords string", |d| d["keywords"].is_string()),
            ("bugs string", |d| d["bugs"].is_string()),
            ("homepage array", |d| d["homepage"].is_array()),
            ("no _rev", |d| d.get("_rev").is_none()),
            ("no time.created", |d| d["time"].get("created").is_none()),
            ("readme", |d| d["readme"].as_str().is_some_and(|r| r.len() > 500)),
        ];
        let version_shapes: [Shape; 5] = [
            ("engines array", |v| v["engines"].is_array()),
            ("dependencies array", |v| v["dependencies"].is_array()),
            ("bin string", |v| v["bin"].is_string()),
            ("npm: alias", |v| {
                v["dependencies"]
                    .as_object()
                    .is_some_and(|m| m.values().any(|s| s.as_str().is_some_and(|s| s.starts_with("npm:"))))
            }),
            ("git spec", |v| {
                v["dependencies"]
                    .as_object()
                    .is_some_and(|m| m.values().any(|s| s.as_str().is_some_and(|s| s.contains('/'))))
            }),
        ];
        let mut seen = vec![0u32; shapes.len() + version_shapes.len() + 1];
        for i in 0..2_000 {
            let (bytes, _) = doc(&g, i);
            let d: Value = serde_json::from_slice(&bytes).expect("valid JSON");
            for (k, (_, f)) in shapes.iter().enumerate() {
                seen[k] += u32::from(f(&d));
            }
            let versions = d["versions"].as_object().expect("versions");
            for (k, (_, f)) in version_shapes.iter().enumerate() {
                seen[shapes.len() + k] += u32::from(versions.values().any(f));
            }
            let offset = d["time"]["modified"].as_str().is_some_and(|t| t.ends_with("+00:00"));
            seen[shapes.len() + version_shapes.len()] += u32::from(offset);
        }
        let labels = shapes.iter().map(|s| s.0).chain(version_shapes.iter().map(|s| s.0)).chain(["+00:00 times"]);
        for (label, count) in labels.zip(&seen) {
            assert!(*count > 0, "no document has {label}");
            assert!(*count < 1_900, "{label} in {count} of 2000 documents: not a sprinkle");
        }
    }

    #[test]
    fn tarballs_point_at_the_placeholder_host() {
        let g = Gen::new(4, 100, 1.15);
        let (bytes, plan) = doc(&g, 7);
        let v: Value = serde_json::from_slice(&bytes).expect("valid JSON");
        let latest = &plan.versions[plan.latest].version;
        let tarball = v["versions"][latest]["dist"]["tarball"].as_str().expect("tarball");
        assert_eq!(tarball, format!("https://registry.test/{}/-/{}-{latest}.tgz", plan.name, basename(&plan.name)));
    }
}
