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

#[tokio::test]
async fn browse_lists_are_rebuilt_exactly_past_their_first_windows() {
    use mongodb::bson::DateTime;
    use nodules_store::browse::{BROWSE_LIST_LEN, BrowseList};

    let db = TestDb::new().await;
    db.store.ensure_indexes().await.expect("indexes");
    let now = DateTime::now().timestamp_millis();
    // p0 is the most depended upon and the most recently modified; counts fall by one and
    // times by ten minutes per package, so neither the first floor of counts nor the
    // first window of time holds 1,000 packages: the rebuild has to widen both
    let n = BROWSE_LIST_LEN as i64 + 300;
    let mut docs: Vec<_> = (0..n)
        .map(|i| {
            doc! {
                "_id": format!("p{i:04}"), "state": "active", "latest": "1.0.0",
                "dependents_count": n - i, "modified": DateTime::from_millis(now - i * 600_000),
            }
        })
        .collect();
    // more popular and newer than all of them, but not active: never listed
    docs.push(
        doc! { "_id": "gone", "state": "unpublished", "dependents_count": 1_000_000i64, "modified": DateTime::now() },
    );
    // a tie with p0001, broken by name
    docs.push(
        doc! { "_id": "a-tie", "state": "active", "dependents_count": n - 1, "modified": DateTime::from_millis(0) },
    );
    db.store.collection("packages").insert_many(docs).await.expect("insert");

    db.store.rebuild_browse_lists().await.expect("rebuild");

    let depended = db.store.browse(&BrowseList::MostDepended).await.expect("depended");
    let names: Vec<&str> = depended.iter().map(|i| i.name.as_str()).collect();
    assert_eq!(names.len(), BROWSE_LIST_LEN);
    assert_eq!(&names[..4], ["p0000", "a-tie", "p0001", "p0002"]);
    assert_eq!(names.last(), Some(&"p0998"), "the 1,000th: p0000..p0998 and the tie");
    assert_eq!(depended[0].dependents_count, Some(n));

    let recent = db.store.browse(&BrowseList::Recent).await.expect("recent");
    let names: Vec<&str> = recent.iter().map(|i| i.name.as_str()).collect();
    assert_eq!(names.len(), BROWSE_LIST_LEN);
    assert_eq!(&names[..2], ["p0000", "p0001"]);
    assert_eq!(names.last(), Some(&"p0999"));
    assert!(!names.contains(&"gone"));

    // the next rebuild starts from the stored lists' last entries; five of the first
    // packages leave and a new one arrives, so that range holds too few and widens again
    let packages = db.store.collection("packages");
    packages
        .update_many(
            doc! { "_id": { "$in": ["p0000", "p0001", "p0002", "p0003", "p0004"] } },
            doc! { "$set": { "state": "unpublished" } },
        )
        .await
        .expect("unpublish");
    packages
        .insert_one(doc! { "_id": "fresh", "state": "active", "dependents_count": n + 5, "modified": DateTime::now() })
        .await
        .expect("insert");
    db.store.rebuild_browse_lists().await.expect("rebuild");
    let depended = db.store.browse(&BrowseList::MostDepended).await.expect("depended");
    let names: Vec<&str> = depended.iter().map(|i| i.name.as_str()).collect();
    assert_eq!((names.len(), &names[..3]), (BROWSE_LIST_LEN, &["fresh", "a-tie", "p0005"][..]));
    assert_eq!(names.last(), Some(&"p1002"));
    let recent = db.store.browse(&BrowseList::Recent).await.expect("recent");
    let names: Vec<&str> = recent.iter().map(|i| i.name.as_str()).collect();
    assert_eq!((names.len(), &names[..2]), (BROWSE_LIST_LEN, &["fresh", "p0005"][..]));
    assert_eq!(names.last(), Some(&"p1003"));
}

#[tokio::test]
async fn a_scan_by_windows_of_seq_sees_every_record_and_those_written_meanwhile_again() {
    use nodules_store::seq::PACKAGE_SEQ;

    let db = TestDb::new().await;
    db.store.ensure_indexes().await.expect("indexes");
    let first = db.store.reserve_seq(PACKAGE_SEQ, 10).await.expect("reserve");
    let docs: Vec<_> = (0..10).map(|i| doc! { "_id": format!("p{i}"), "seq": first + i, "x": i }).collect();
    db.store.collection("packages").insert_many(docs).await.expect("insert");

    let mut scan = db.store.scan_packages(doc! { "x": 1 }, 3).await.expect("scan");
    let mut seen: Vec<String> = Vec::new();
    let mut windows = 0;
    while let Some(records) = scan.next_window().await.expect("window") {
        windows += 1;
        assert!(records.len() <= 3, "one window at most: {records:?}");
        seen.extend(records.iter().map(|d| d.get_str("_id").expect("name").to_string()));
        if windows == 1 {
            // one record already read and one not yet reached are written again
            db.store.bump_packages(&["p0".to_string(), "p8".to_string()]).await.expect("bump");
        }
    }
    seen.sort();
    let mut expected: Vec<String> = (0..10).map(|i| format!("p{i}")).collect();
    expected.push("p0".into());
    expected.sort();
    assert_eq!(seen, expected, "every record, the one written after it was read twice");
    assert_eq!(scan.position(), (12, 12));
}
