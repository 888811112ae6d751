//! The store against a real MongoDB-protocol server.

use std::time::Duration;

use mongodb::bson::doc;
use nodules_store::bulk::UpdateOp;
use nodules_store::lease::LeaseError;
use nodules_store::testing::TestDb;

#[tokio::test]
async fn seq_blocks_are_consecutive_and_disjoint() {
    let db = TestDb::new().await;
    let a = db.store.reserve_seq("t", 10).await.expect("reserve");
    let b = db.store.reserve_seq("t", 5).await.expect("reserve");
    assert_eq!(a, 1);
    assert_eq!(b, 11);
    assert_eq!(db.store.current_seq("t").await.expect("current"), 15);
}

#[tokio::test]
async fn bulk_updates_report_failures_by_index_and_apply_the_rest() {
    let db = TestDb::new().await;
    let mut ops: Vec<UpdateOp> =
        (0..2500).map(|i| UpdateOp::upsert(doc! { "_id": format!("p{i}") }, doc! { "$set": { "n": i } })).collect();
    // An invalid update (a `$` operator the server rejects) in the middle.
    ops[1234].update = doc! { "$bogus": { "n": 1 } }.into();
    let failures = db.store.update_all("things", ops).await.expect("update_all");
    assert_eq!(failures.len(), 1, "{failures:?}");
    assert_eq!(failures[0].index, 1234);
    let n = db.store.collection("things").count_documents(doc! {}).await.expect("count");
    assert_eq!(n, 2499);
    let deleted = db
        .store
        .delete_all("things", vec![doc! { "_id": "p1" }, doc! { "n": { "$gte": 2000 } }])
        .await
        .expect("delete_all");
    assert!(deleted.is_empty());
    let n = db.store.collection("things").count_documents(doc! {}).await.expect("count");
    assert_eq!(n, 2499 - 1 - 500);
}

#[tokio::test]
async fn a_second_lease_holder_is_refused_and_an_expired_lease_is_taken_over() {
    let db = TestDb::new().await;
    let first = db.store.acquire_lease("job", Duration::from_secs(60)).await.expect("first");
    match db.store.acquire_lease("job", Duration::from_secs(60)).await {
        Err(LeaseError::Held { holder, .. }) => assert!(holder.contains("pid"), "{holder}"),
        other => panic!("expected Held, got {other:?}"),
    }
    first.release().await.expect("release");
    let second = db.store.acquire_lease("job", Duration::from_secs(60)).await.expect("after release");
    // A holder that died: its lease is not renewed and expires.
    drop(second);
    let short = db.store.acquire_lease("other", Duration::from_millis(300)).await.expect("short");
    drop(short); // dies: renewal stops, no release
    tokio::time::sleep(Duration::from_millis(400)).await;
    db.store.acquire_lease("other", Duration::from_secs(60)).await.expect("expired lease taken over");
}
