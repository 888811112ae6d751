//! Test inputs in the formats CouchDB writes: `_all_docs?include_docs=true` dumps (one row
//! per line) and `_changes` feeds (NDJSON).

use std::io::Write;

use serde_json::{Value, json};

/// Writes `docs` as an `_all_docs` dump, one row per line, with CouchDB's framing.
pub fn all_docs<W: Write>(out: &mut W, docs: &[Value]) -> std::io::Result<()> {
    writeln!(out, "{{\"total_rows\":{},\"offset\":0,\"rows\":[", docs.len())?;
    for (i, doc) in docs.iter().enumerate() {
        write_row(out, doc, i + 1 < docs.len())?;
    }
    writeln!(out, "]}}")
}

/// One `_all_docs` row line (with a trailing comma unless it is the last).
pub fn write_row<W: Write>(out: &mut W, doc: &Value, comma: bool) -> std::io::Result<()> {
    let id = doc.get("_id").or_else(|| doc.get("name")).cloned().unwrap_or(Value::Null);
    let rev = doc.get("_rev").cloned().unwrap_or(json!("1-0"));
    let row = json!({ "id": id, "key": id, "value": { "rev": rev }, "doc": doc });
    writeln!(out, "{}{}", row, if comma { "," } else { "" })
}

/// A package document in the registry's shape: `versions` with the given dependencies.
pub fn packument(name: &str, versions: &[(&str, Value)]) -> Value {
    let mut vs = serde_json::Map::new();
    let mut time = serde_json::Map::new();
    for (i, (v, extra)) in versions.iter().enumerate() {
        let mut manifest = json!({
            "name": name,
            "version": v,
            "description": format!("{name} does things"),
            "license": "MIT",
            "dist": {
                "tarball": format!("http://registry.test/{name}/-/{}-{v}.tgz", name.rsplit('/').next().unwrap_or(name)),
                "shasum": "0000000000000000000000000000000000000000",
            },
        });
        if let (Some(m), Some(e)) = (manifest.as_object_mut(), extra.as_object()) {
            for (k, val) in e {
                m.insert(k.clone(), val.clone());
            }
        }
        vs.insert(v.to_string(), manifest);
        time.insert(v.to_string(), json!(format!("2024-01-{:02}T00:00:00.000000+00:00", (i % 28) + 1)));
    }
    let latest = versions.last().map(|(v, _)| *v).unwrap_or("0.0.0");
    json!({ "_id": name, "name": name, "dist-tags": { "latest": latest }, "versions": vs, "time": time })
}
