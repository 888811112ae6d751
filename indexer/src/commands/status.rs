//! `status`: what the indexer knows and did — counts, checkpoints, leases, last runs.

use futures::TryStreamExt;
use mongodb::bson::{Bson, Document, doc};
use nodules_store::Store;
use nodules_store::db::coll;
use nodules_store::model::PackageState;

use super::CommandError;

pub async fn status(store: &Store, json: bool) -> Result<(), CommandError> {
    let report = gather(store).await?;
    if json {
        let value: serde_json::Value = Bson::Document(report).into_relaxed_extjson();
        println!("{}", serde_json::to_string_pretty(&value).map_err(|e| CommandError::Failed(e.into()))?);
    } else {
        print_text(&report);
    }
    Ok(())
}

async fn gather(store: &Store) -> Result<Document, CommandError> {
    // Active packages are all but the few of the other states: counted directly they are a
    // walk over the whole registry, which the development server answers by holding every
    // record (it was killed for memory at 24 GB on 1M packages). The collection's own count
    // (metadata on MongoDB, a walk that holds nothing on the development server) and the
    // rare states read by the `state` index cost little on either.
    let total = store.packages().estimated_document_count().await.map_err(mongo("count"))?;
    let mut rare = Document::new();
    let mut not_active = 0;
    for state in [PackageState::Unpublished, PackageState::Deleted, PackageState::Stub] {
        let n = store.count_few(coll::PACKAGES, doc! { "state": state.as_str() }).await?;
        not_active += n;
        rare.insert(state.as_str(), count(n));
    }
    let mut by_state = doc! { PackageState::Active.as_str(): count(total.saturating_sub(not_active)) };
    by_state.extend(rare);
    let stale = store.count_few(coll::PACKAGES, doc! { "stale": true }).await?; // by its partial index
    let rejects = store.collection(coll::REJECTS).estimated_document_count().await.map_err(mongo("count"))?;
    let checkpoints: Vec<Document> = store
        .collection(coll::CHECKPOINTS)
        .find(doc! {})
        .await
        .map_err(mongo("find"))?
        .try_collect()
        .await
        .map_err(mongo("find"))?;
    let leases: Vec<Document> = store
        .collection(coll::LOCKS)
        .find(doc! {})
        .projection(doc! { "owner": 0 })
        .await
        .map_err(mongo("find"))?
        .try_collect()
        .await
        .map_err(mongo("find"))?;
    let runs = store.last_runs().await?;
    let seq = store.current_seq(nodules_store::seq::PACKAGE_SEQ).await?;
    Ok(doc! {
        "packages": by_state,
        "stale": count(stale),
        "rejects": count(rejects),
        "seq": seq,
        "checkpoints": checkpoints,
        "leases": leases,
        "runs": runs,
    })
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

fn count(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn mongo(op: &'static str) -> impl Fn(mongodb::error::Error) -> CommandError {
    move |e| CommandError::Failed(anyhow::anyhow!("MongoDB {op} failed: {e}"))
}
