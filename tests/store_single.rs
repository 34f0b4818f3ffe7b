//! The store on one manager: writes through Raft, the event stream, and durability across
//! restarts (with and without a snapshot and purged log).

mod store_support;

use std::time::{Duration, Instant};

use model::Kind;
use store_support::*;
use swarm::store::{Event, Executed, Op, Rejection};

#[tokio::test]
async fn create_update_and_stale_update_through_raft() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = single(dir.path()).await;
    assert!(store.is_leader());

    let (created_at, ids) = ok(store
        .propose(command(vec![create("api"), create("db")]))
        .await
        .expect("propose"));
    assert_eq!(ids.len(), 2);
    let api = store
        .read(|index| index.get(Kind::Service, &ids[0]).cloned())
        .expect("api is readable once propose returns");
    assert_eq!(api.version, created_at);

    let (updated_at, _) = ok(store
        .propose(command(vec![update("api", &ids[0], created_at, "nginx:2")]))
        .await
        .expect("propose"));
    assert!(updated_at > created_at);

    let stale = store
        .propose(command(vec![update("api", &ids[0], created_at, "nginx:3")]))
        .await
        .expect("propose");
    let Executed::Rejected(Rejection::Conflict(conflict)) = stale else {
        panic!("expected a conflict, got {stale:?}");
    };
    assert_eq!(
        (conflict.expected, conflict.actual),
        (created_at, updated_at)
    );
    let image = store.read(|index| {
        index
            .get(Kind::Service, &ids[0])
            .map(|r| r.spec["image"].clone())
    });
    assert_eq!(image, Some("nginx:2".into()));

    let duplicate = store
        .propose(command(vec![create("db")]))
        .await
        .expect("propose");
    assert!(matches!(
        duplicate,
        Executed::Rejected(Rejection::AlreadyExists { .. })
    ));
    store.shutdown().await.expect("shutdown");
}

#[tokio::test]
async fn events_arrive_in_commit_order_each_entry_closed_by_its_commit() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = single(dir.path()).await;
    let mut events = store.subscribe();

    let (first, ids) = ok(store
        .propose(command(vec![create("a"), create("b")]))
        .await
        .expect("propose"));
    let (second, _) = ok(store
        .propose(command(vec![
            update("a", &ids[0], first, "nginx:2"),
            Op::Delete {
                kind: Kind::Service,
                id: ids[1].clone(),
                expected_version: Some(first),
            },
        ]))
        .await
        .expect("propose"));

    let seen = events_until(&mut events, second).await;
    let summary: Vec<(&str, String, u64)> = seen
        .iter()
        .map(|event| match event {
            Event::Created { object, version } => ("created", object.name.clone(), *version),
            Event::Updated { object, version } => ("updated", object.name.clone(), *version),
            Event::Deleted { object, version } => ("deleted", object.name.clone(), *version),
            Event::Commit { index } => ("commit", String::new(), *index),
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            ("created", "a".into(), first),
            ("created", "b".into(), first),
            ("commit", String::new(), first),
            ("updated", "a".into(), second),
            ("deleted", "b".into(), second),
            ("commit", String::new(), second),
        ]
    );
    store.shutdown().await.expect("shutdown");
}

/// Writes a mix of creates, updates and deletes; returns the index of the last write.
async fn write_history(store: &swarm::store::Store, prefix: &str, rounds: usize) -> u64 {
    let mut last = 0;
    for round in 0..rounds {
        let names: Vec<String> = (0..10).map(|i| format!("{prefix}-{round}-{i}")).collect();
        let (at, ids) = ok(store
            .propose(command(names.iter().map(|n| create(n)).collect()))
            .await
            .expect("create"));
        let (updated, _) = ok(store
            .propose(command(vec![update(&names[0], &ids[0], at, "nginx:2")]))
            .await
            .expect("update"));
        let delete = Op::Delete {
            kind: Kind::Service,
            id: ids[1].clone(),
            expected_version: None,
        };
        let (deleted, _) = ok(store.propose(command(vec![delete])).await.expect("delete"));
        assert!(updated > at && deleted > updated);
        last = deleted;
    }
    last
}

#[tokio::test]
async fn reopening_the_data_dir_restores_every_acknowledged_object() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = single(dir.path()).await;
    let last = write_history(&store, "svc", 5).await;
    let before = snapshot_of(&store);
    assert_eq!(before.len(), 5 * 9);
    store.shutdown().await.expect("shutdown");

    let started = Instant::now();
    let store = single(dir.path()).await;
    let restart = started.elapsed();
    assert_eq!(snapshot_of(&store), before, "same objects, same versions");
    assert!(store.read(|index| index.last_executed()) >= last);
    // A one-manager cluster leads again at once (its vote is committed), no election wait.
    assert!(restart < Duration::from_secs(3), "restart took {restart:?}");

    let (next, _) = ok(store
        .propose(command(vec![create("after-restart")]))
        .await
        .expect("propose"));
    assert!(next > last, "the log continues where it stopped");
    store.shutdown().await.expect("shutdown");
}

#[tokio::test]
async fn reopening_after_a_snapshot_and_purge_restores_every_object() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = single(dir.path()).await;
    write_history(&store, "before", 3).await;
    let upto = store.compact(DEADLINE).await.expect("compact");
    assert_eq!(store.metrics()["purged"], upto);
    let last = write_history(&store, "after", 2).await;
    let before = snapshot_of(&store);
    store.shutdown().await.expect("shutdown");

    let store = single(dir.path()).await;
    assert_eq!(snapshot_of(&store), before);
    let metrics = store.metrics();
    assert_eq!(metrics["purged"], upto, "{metrics}");
    assert!(metrics["last_applied"].as_u64() >= Some(last), "{metrics}");
    store.shutdown().await.expect("shutdown");
}

#[tokio::test]
async fn initialize_single_is_idempotent_and_metrics_describe_the_node() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = single(dir.path()).await;
    store
        .initialize_single()
        .await
        .expect("second initialize is a no-op");
    let metrics = store.metrics();
    assert_eq!(metrics["leader"], 1);
    assert_eq!(metrics["state"], "Leader");
    assert_eq!(metrics["membership"]["voters"], serde_json::json!([1]));
    assert_eq!(store.node_id(), 1);
    store.shutdown().await.expect("shutdown");
}
