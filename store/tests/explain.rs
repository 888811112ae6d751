//! Every query shape the services issue (`nodules_store::read::query_shapes`) is answered
//! from an index: `explain` shows no collection scan and no in-memory sort.

use mongodb::bson::{Bson, Document, doc};
use nodules_store::read::query_shapes;
use nodules_store::testing::TestDb;

/// Every `stage` name anywhere in an explain answer.
fn stages(v: &Bson, out: &mut Vec<String>) {
    match v {
        Bson::Document(d) => {
            for (k, v) in d {
                if k == "stage"
                    && let Bson::String(s) = v
                {
                    out.push(s.clone());
                }
                stages(v, out);
            }
        }
        Bson::Array(a) => a.iter().for_each(|v| stages(v, out)),
        _ => {}
    }
}

#[tokio::test]
async fn no_query_shape_scans_or_sorts() {
    let db = TestDb::new().await;
    let mut failures = Vec::new();
    for shape in query_shapes() {
        // a few documents, so the planner has something to choose between
        let c = db.store.collection(shape.collection);
        c.insert_many((0..5).map(|i| doc! { "_id": format!("seed-{i}"), "seq": i, "state": "active" })).await.ok();
        let mut find = doc! { "find": shape.collection, "filter": shape.filter.clone() };
        if let Some(sort) = &shape.sort {
            find.insert("sort", sort.clone());
        }
        let answer: Document = db
            .store
            .database()
            .run_command(doc! { "explain": find, "verbosity": "queryPlanner" })
            .await
            .unwrap_or_else(|e| panic!("explain {}: {e}", shape.what));
        let mut found = Vec::new();
        stages(&Bson::Document(answer.clone()), &mut found);
        assert!(!found.is_empty(), "explain of {} shows no stages: {answer}", shape.what);
        if found.iter().any(|s| s == "COLLSCAN" || s == "SORT") {
            failures.push(format!("{} on {}: {:?}", shape.what, shape.collection, found));
        }
    }
    assert!(failures.is_empty(), "queries without a fitting index:\n{}", failures.join("\n"));
}
