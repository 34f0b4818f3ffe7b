//! Three managers in one process, each serving its Raft routes on 127.0.0.1:0: membership
//! changes, replication (from the log and by snapshot), leader redirection and failover.

mod store_support;

use model::Kind;
use store_support::*;
use swarm::store::{Event, StoreError};

/// Node 1 leads a cluster of nodes 1 and 2, with history compacted into a snapshot before node
/// 3 joins, so node 3 catches up by snapshot install and then by log.
async fn three_nodes(dirs: &[tempfile::TempDir; 3]) -> (Vec<Node>, Vec<String>) {
    let mut nodes = Vec::new();
    for (i, dir) in dirs.iter().enumerate() {
        nodes.push(Node::start(dir.path(), i as u64 + 1).await);
    }
    let leader = &nodes[0].store;
    leader.initialize_single().await.expect("initialize");
    leader.wait_leader(DEADLINE).await.expect("leader");
    leader
        .add_voter(2, nodes[1].addr.clone())
        .await
        .expect("add node 2");

    let (_, ids) = ok(leader
        .propose(command(vec![create("early-1"), create("early-2")]))
        .await
        .expect("propose"));
    let compacted = leader.compact(DEADLINE).await.expect("compact");
    let mut joiner_events = nodes[2].store.subscribe();
    leader
        .add_voter(3, nodes[2].addr.clone())
        .await
        .expect("add node 3");

    // The leader's log no longer holds the early writes: node 3 got them by snapshot, and its
    // subscribers saw them as ordinary events.
    let seen = events_until(&mut joiner_events, compacted).await;
    let created: Vec<&str> = seen
        .iter()
        .filter_map(|e| match e {
            Event::Created { object, .. } => Some(object.name.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(created, ["early-1", "early-2"]);
    let joiner = &nodes[2].store;
    eventually("node 3 reports the installed snapshot", || {
        joiner.metrics()["snapshot"] == compacted
    })
    .await;
    (nodes, ids)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_replicates_to_all_three_and_followers_name_the_leader() {
    let dirs = [(); 3].map(|_| tempfile::tempdir().expect("tempdir"));
    let (nodes, early) = three_nodes(&dirs).await;
    let leader = &nodes[0].store;
    assert_eq!(
        leader.metrics()["membership"]["voters"],
        serde_json::json!([1, 2, 3])
    );

    let (index, ids) = ok(leader
        .propose(command(vec![create("web")]))
        .await
        .expect("propose"));
    for node in &nodes {
        node.store
            .wait_executed(index, DEADLINE)
            .await
            .expect("replicated");
        let record = node
            .store
            .read(|idx| idx.get(Kind::Service, &ids[0]).cloned())
            .expect("the write is on every node");
        assert_eq!(record.version, index);
        let early_record = node
            .store
            .read(|idx| idx.get(Kind::Service, &early[0]).cloned());
        assert!(
            early_record.is_some(),
            "history reached node {} too",
            node.store.node_id()
        );
    }
    assert_eq!(snapshot_of(&nodes[1].store), snapshot_of(&nodes[0].store));
    assert_eq!(snapshot_of(&nodes[2].store), snapshot_of(&nodes[0].store));

    for follower in &nodes[1..] {
        assert!(!follower.store.is_leader());
        let refused = follower.store.propose(command(vec![create("nope")])).await;
        match refused {
            Err(StoreError::NotLeader {
                leader_id,
                leader_addr,
            }) => {
                assert_eq!(leader_id, Some(1));
                assert_eq!(leader_addr.as_deref(), Some(nodes[0].addr.as_str()));
            }
            other => panic!("expected NotLeader, got {other:?}"),
        }
    }
    for node in nodes {
        node.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_survivors_elect_a_new_leader_that_keeps_every_write() {
    let dirs = [(); 3].map(|_| tempfile::tempdir().expect("tempdir"));
    let (mut nodes, _) = three_nodes(&dirs).await;
    let (index, _) = ok(nodes[0]
        .store
        .propose(command(vec![create("before-failover")]))
        .await
        .expect("propose"));
    for node in &nodes {
        node.store
            .wait_executed(index, DEADLINE)
            .await
            .expect("replicated");
    }
    let expected = snapshot_of(&nodes[0].store);

    let old_leader = nodes.remove(0);
    old_leader.stop().await;
    let mut events = nodes[0].store.subscribe();
    let survivor = &nodes[0].store;
    // Polled: the survivors still name node 1 until their election timeout fires.
    eventually("a survivor leads", || {
        nodes.iter().any(|n| n.store.is_leader())
    })
    .await;
    let leader = nodes
        .iter()
        .find(|n| n.store.is_leader())
        .map(|n| n.store.clone())
        .expect("a survivor leads");
    assert_ne!(leader.node_id(), 1);
    let (after, _) = ok(leader
        .propose(command(vec![create("after-failover")]))
        .await
        .expect("propose on the new leader"));
    events_until(&mut events, after).await;
    let survivors_view = snapshot_of(survivor);
    assert_eq!(survivors_view.len(), expected.len() + 1);
    for record in &expected {
        assert!(
            survivors_view.contains(record),
            "{} survived",
            record.metadata.name
        );
    }
    for node in nodes {
        node.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ten_thousand_object_command_replicates_as_one_entry() {
    let dirs = [(); 3].map(|_| tempfile::tempdir().expect("tempdir"));
    let (nodes, _) = three_nodes(&dirs).await;
    let ops = (0..10_000).map(|i| create(&format!("task-{i}"))).collect();
    let (index, ids) = ok(propose_at_leader(&nodes, command(ops)).await);
    assert_eq!(ids.len(), 10_000);
    for node in &nodes {
        node.store
            .wait_executed(index, DEADLINE)
            .await
            .expect("replicated");
        assert_eq!(
            node.store.read(|idx| idx.len()),
            10_000 + 2,
            "the early writes plus the batch"
        );
    }
    for node in nodes {
        node.stop().await;
    }
}
