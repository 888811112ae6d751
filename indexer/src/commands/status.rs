//! `status`: what the indexer knows and did — counts, checkpoints, leases, last runs.

use mongodb::bson::{Bson, Document};
use nodules_store::Store;

use super::CommandError;

pub async fn status(store: &Store, json: bool) -> Result<(), CommandError> {
    let report = store.status_report().await?;
    if json {
        let value: serde_json::Value = Bson::Document(report).into_relaxed_extjson();
        println!("{}", serde_json::to_string_pretty(&value).map_err(|e| CommandError::Failed(e.into()))?);
    } else {
        print_text(&report);
    }
    Ok(())
}

fn print_text(r: &Document) {
    println!("packages:");
    if let Ok(states) = r.get_document("packages") {
        for (state, n) in states {
            println!("  {state:<12} {n}");
        }
    }
    println!("  {:<12} {}", "stale", r.get("stale").cloned().unwrap_or(Bson::Null));
    println!("rejects:       {}", r.get("rejects").cloned().unwrap_or(Bson::Null));
    println!("last seq:      {}", r.get("seq").cloned().unwrap_or(Bson::Null));
    if let Ok(g) = r.get_document("github") {
        let n = |k: &str| g.get(k).cloned().unwrap_or(Bson::Null);
        println!(
            "github:        {} repositories, {} never fetched, {} due (older than a day), {} failing",
            n("repositories"),
            n("not_fetched"),
            n("due"),
            n("failing")
        );
    }
    println!("checkpoints:");
    for c in r.get_array("checkpoints").into_iter().flatten().filter_map(Bson::as_document) {
        println!("  {}  last_seq {}  at {}", str_of(c, "_id"), str_of(c, "last_seq"), time_of(c, "at"));
    }
    println!("leases:");
    for l in r.get_array("leases").into_iter().flatten().filter_map(Bson::as_document) {
        println!("  {}  held by {} until {}", str_of(l, "_id"), str_of(l, "holder"), time_of(l, "expires_at"));
    }
    println!("last runs:");
    for run in r.get_array("runs").into_iter().flatten().filter_map(Bson::as_document) {
        let ok = if run.get_bool("ok").unwrap_or(false) { "ok" } else { "FAILED" };
        println!("  {:<10} {}  {ok:<6} {}", str_of(run, "_id"), time_of(run, "finished_at"), str_of(run, "summary"));
    }
}

fn str_of(d: &Document, k: &str) -> String {
    match d.get(k) {
        Some(Bson::String(s)) => s.clone(),
        Some(other) => other.to_string(),
        None => "-".into(),
    }
}

fn time_of(d: &Document, k: &str) -> String {
    d.get_datetime(k).ok().and_then(|t| t.try_to_rfc3339_string().ok()).unwrap_or_else(|| "-".into())
}
