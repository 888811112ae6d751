//! Which query shapes the services send, from the driver's own command events: on when
//! `NODULES_QUERY_SHAPES` names a directory (the query-shape test sets it; off, nothing is
//! recorded). Each process appends every distinct shape it sends, once, as a JSON line to
//! `DIR/<process>.jsonl` (`indexer`, `downloader`, `webapp`): collection, command, the
//! filter with its values replaced by type placeholders (`"<string>"`, `"<date>"`; keys and
//! operators kept) and the sort. A line is written when the shape is first sent, so a
//! process that is killed has recorded what it sent.
//!
//! The end-to-end test `tests/query_shapes.rs` runs the flows with it on and explains every
//! shape recorded: a query added without its index fails that test, not a review.

use std::collections::HashSet;
use std::fs::File;
use std::io::Write;
use std::path::PathBuf;
use std::sync::{Mutex, OnceLock};

use mongodb::bson::{Bson, DateTime, Document};
use mongodb::event::EventHandler;
use mongodb::event::command::CommandEvent;
use serde::{Deserialize, Serialize};

/// The switch: a directory to write shapes to.
pub const ENV: &str = "NODULES_QUERY_SHAPES";

/// One query shape a process sent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Shape {
    /// `indexer`, `downloader`, `webapp` (the binary's name without `nodules-`).
    pub process: String,
    pub collection: String,
    /// `find`, `update`, `delete`, `findAndModify`, `count`, `insert`, …
    pub command: String,
    /// The filter (`q` of a write statement, `query` of `findAndModify`/`count`), values
    /// replaced by placeholders; `None` for commands without one (`insert`).
    pub filter: Option<Document>,
    pub sort: Option<Document>,
}

impl Shape {
    /// The shape's filter with a sample value of each placeholder's type, for `explain`.
    pub fn sample_filter(&self) -> Option<Document> {
        self.filter.as_ref().map(|f| match sample(&Bson::Document(f.clone())) {
            Bson::Document(d) => d,
            _ => Document::new(),
        })
    }
}

/// Every shape recorded in `dir` by any process (each line once per process).
pub fn read_dir(dir: &std::path::Path) -> std::io::Result<Vec<Shape>> {
    let mut shapes = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "jsonl") {
            for line in std::fs::read_to_string(&path)?.lines().filter(|l| !l.trim().is_empty()) {
                let shape: Shape = serde_json::from_str(line)
                    .map_err(|e| std::io::Error::other(format!("{}: {e}: {line}", path.display())))?;
                shapes.push(shape);
            }
        }
    }
    Ok(shapes)
}

/// `handler` (possibly none) with the recorder in front of it when `NODULES_QUERY_SHAPES`
/// is set: installed on every client the services open.
pub fn with_recorder(handler: Option<EventHandler<CommandEvent>>) -> Option<EventHandler<CommandEvent>> {
    recorder()?;
    let inner = match handler {
        Some(EventHandler::Callback(f)) => Some(f),
        Some(_) => {
            tracing::warn!("query shapes: another command event handler is replaced");
            None
        }
        None => None,
    };
    Some(EventHandler::callback(move |e: CommandEvent| {
        if let CommandEvent::Started(s) = &e {
            record(&s.command_name, &s.command);
        }
        if let Some(f) = &inner {
            f(e);
        }
    }))
}

struct Recorder {
    process: String,
    seen: Mutex<(HashSet<String>, Option<File>)>,
}

fn recorder() -> Option<&'static Recorder> {
    static RECORDER: OnceLock<Option<Recorder>> = OnceLock::new();
    RECORDER
        .get_or_init(|| {
            let dir = PathBuf::from(std::env::var_os(ENV)?);
            let process = std::env::current_exe()
                .ok()
                .and_then(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
                .map(|s| s.strip_prefix("nodules-").map(str::to_string).unwrap_or(s))
                .unwrap_or_else(|| "unknown".into());
            let _ = std::fs::create_dir_all(&dir);
            let file = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(dir.join(format!("{process}.jsonl")))
                .map_err(|e| tracing::warn!(error = %e, "query shapes: cannot open the file; recording nothing"))
                .ok();
            Some(Recorder { process, seen: Mutex::new((HashSet::new(), file)) })
        })
        .as_ref()
}

fn record(command_name: &str, command: &Document) {
    let Some(r) = recorder() else { return };
    let collection = command.get_str(command_name).unwrap_or("-").to_string();
    for (filter, sort) in statements(command_name, command) {
        let shape = Shape {
            process: r.process.clone(),
            collection: collection.clone(),
            command: command_name.to_string(),
            filter: filter.map(|f| match placeholder(&Bson::Document(f)) {
                Bson::Document(d) => d,
                _ => Document::new(),
            }),
            sort,
        };
        let Ok(line) = serde_json::to_string(&shape) else { continue };
        let Ok(mut seen) = r.seen.lock() else { return };
        if seen.0.insert(line.clone())
            && let Some(file) = seen.1.as_mut()
        {
            // one write per line: lines of concurrent runs of a binary do not interleave
            let _ = file.write_all(format!("{line}\n").as_bytes());
        }
    }
}

/// (filter, sort) of each statement of a data command; none for other commands.
fn statements(command_name: &str, c: &Document) -> Vec<(Option<Document>, Option<Document>)> {
    let doc = |k: &str| c.get_document(k).ok().cloned();
    let each = |array: &str, key: &str| -> Vec<(Option<Document>, Option<Document>)> {
        c.get_array(array)
            .map(|a| {
                a.iter()
                    .filter_map(Bson::as_document)
                    .map(|s| (Some(s.get_document(key).cloned().unwrap_or_default()), None))
                    .collect()
            })
            .unwrap_or_default()
    };
    match command_name {
        "find" => vec![(Some(doc("filter").unwrap_or_default()), doc("sort"))],
        "findAndModify" => vec![(Some(doc("query").unwrap_or_default()), doc("sort"))],
        "count" | "distinct" => vec![(Some(doc("query").unwrap_or_default()), None)],
        "update" => each("updates", "q"),
        "delete" => each("deletes", "q"),
        "insert" => vec![(None, None)],
        "aggregate" => {
            let stages: Vec<&Document> =
                c.get_array("pipeline").map(|a| a.iter().filter_map(Bson::as_document).collect()).unwrap_or_default();
            let filter = stages.first().and_then(|s| s.get_document("$match").ok()).cloned();
            let sort = stages.get(1).and_then(|s| s.get_document("$sort").ok()).cloned();
            vec![(filter, sort)]
        }
        _ => Vec::new(),
    }
}

/// `v` with every value replaced by a placeholder of its type; documents keep their keys
/// (operators included), arrays their distinct placeholders.
fn placeholder(v: &Bson) -> Bson {
    match v {
        Bson::Document(d) => Bson::Document(d.iter().map(|(k, v)| (k.clone(), placeholder(v))).collect()),
        Bson::Array(a) => {
            let mut out: Vec<Bson> = Vec::new();
            for p in a.iter().map(placeholder) {
                if !out.contains(&p) {
                    out.push(p);
                }
            }
            Bson::Array(out)
        }
        other => Bson::String(format!("<{}>", type_name(other))),
    }
}

fn type_name(v: &Bson) -> &'static str {
    match v {
        Bson::String(_) => "string",
        Bson::Int32(_) => "int",
        Bson::Int64(_) => "long",
        Bson::Double(_) => "double",
        Bson::Boolean(_) => "bool",
        Bson::Null => "null",
        Bson::DateTime(_) => "date",
        Bson::ObjectId(_) => "objectId",
        Bson::Binary(_) => "binData",
        Bson::RegularExpression(_) => "regex",
        _ => "other",
    }
}

/// A value of each placeholder's type (the inverse of [`placeholder`], up to values).
fn sample(v: &Bson) -> Bson {
    match v {
        Bson::Document(d) => Bson::Document(d.iter().map(|(k, v)| (k.clone(), sample(v))).collect()),
        Bson::Array(a) => Bson::Array(a.iter().map(sample).collect()),
        Bson::String(s) => match s.as_str() {
            "<int>" => Bson::Int32(0),
            "<long>" => Bson::Int64(0),
            "<double>" => Bson::Double(0.0),
            "<bool>" => Bson::Boolean(true),
            "<null>" => Bson::Null,
            "<date>" => Bson::DateTime(DateTime::now()),
            "<objectId>" => Bson::ObjectId(mongodb::bson::oid::ObjectId::new()),
            _ => Bson::String("x".into()),
        },
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mongodb::bson::doc;

    #[test]
    fn placeholders_keep_keys_and_operators() {
        let f = doc! { "_id": { "$in": ["a", "b"] }, "refs": { "$lte": 0 }, "gen": Bson::Null };
        let p = placeholder(&Bson::Document(f));
        assert_eq!(
            p,
            Bson::Document(doc! { "_id": { "$in": ["<string>"] }, "refs": { "$lte": "<int>" }, "gen": "<null>" })
        );
        let s = sample(&p);
        assert_eq!(s, Bson::Document(doc! { "_id": { "$in": ["x"] }, "refs": { "$lte": 0 }, "gen": Bson::Null }));
    }

    #[test]
    fn statements_of_writes() {
        let c = doc! { "update": "blobs", "updates": [ { "q": { "_id": "a" }, "u": {} }, { "q": { "_id": "b" } } ] };
        assert_eq!(statements("update", &c).len(), 2);
        assert!(statements("hello", &doc! { "hello": 1 }).is_empty());
    }
}
