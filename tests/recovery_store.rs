//! Backup, restore and force-new-cluster on stores in this process: a backup restored into a new
//! data directory holds every object unchanged and the same CA, under a new single-manager
//! group whose log continues the old numbering; a manager of a 3-manager group made into a new
//! cluster leads alone with every object and accepts writes.

mod store_support;

use std::path::Path;

use model::{Kind, ObjectMeta, Timestamp};
use serde_json::json;
use store_support::*;
use swarm::clock::Clock;
use swarm::pki::{Role, files};
use swarm::store::Op;
use swarm::store::recovery::{self, RecoveryError};

fn secret(name: &str, content: &str) -> Op {
    Op::Create {
        kind: Kind::Secret,
        metadata: ObjectMeta {
            name: name.into(),
            ..ObjectMeta::default()
        },
        spec: json!({ "content": content }),
        status: serde_json::Value::Null,
    }
}

fn now() -> Timestamp {
    Clock::system().now()
}

/// A one-manager store in `dir` with a cluster CA and its cluster object, holding a service
/// and a secret.
async fn seeded_manager(dir: &Path) -> swarm::store::Store {
    let (_, material) = files::init_cluster(dir, "first-node", now()).expect("CA");
    let store = single(dir).await;
    swarm::pki::cluster::ensure(&store, &material)
        .await
        .expect("cluster object");
    ok(store
        .propose(command(vec![create("web"), secret("token", "s3cr3t")]))
        .await
        .expect("propose"));
    store
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_restored_into_a_new_data_dir_holds_every_object_and_the_same_ca() {
    let old = tempfile::tempdir().expect("tempdir");
    let store = seeded_manager(old.path()).await;
    let backup = recovery::backup(&store).expect("backup");
    let before = snapshot_of(&store);
    store.shutdown().await.expect("shutdown");
    assert_eq!(backup.format, "swarm-backup/1");
    assert_eq!(backup.records, before);
    let secret = before
        .iter()
        .find(|r| r.kind == Kind::Secret)
        .expect("secret");
    assert_eq!(
        secret.spec["content"], "s3cr3t",
        "secrets are backed up in clear"
    );

    let file = old.path().join("backup.json");
    std::fs::write(&file, serde_json::to_vec(&backup).expect("encode")).expect("write");
    let read = recovery::read_backup(&file).expect("read back");
    assert_eq!(read, backup);

    let new = tempfile::tempdir().expect("tempdir");
    recovery::ensure_unused(new.path()).expect("an empty dir is usable");
    let restored = recovery::restore(&read, new.path(), "second-node", 7, now())
        .await
        .expect("restore");
    assert_eq!(restored.objects, before.len());
    assert!(matches!(
        recovery::ensure_unused(new.path()),
        Err(RecoveryError::InUse { .. })
    ));

    // The same CA (so existing certificates stay valid), and a manager certificate for the new
    // node signed by it.
    let old_ca = files::load_ca(old.path()).expect("load").expect("old CA");
    let new_ca = files::load_ca(new.path()).expect("load").expect("new CA");
    assert_eq!(new_ca.digest(), old_ca.digest());
    assert_eq!(new_ca.key_pem(), old_ca.key_pem());
    let node = files::load_node(new.path()).expect("load").expect("node");
    assert_eq!(node.cert.identity().node_id, "second-node");
    assert_eq!(node.cert.identity().role, Role::Manager);
    assert_eq!(node.cert.identity().cluster_id, old_ca.cluster_id());

    // The first start sets the address this node really listens at.
    let addr = "127.0.0.1:9";
    let prepared = recovery::prepare_start(new.path(), 7, addr, false, Clock::system())
        .await
        .expect("prepare");
    assert!(prepared.is_some(), "a restored data dir is prepared once");
    let again = recovery::prepare_start(new.path(), 7, addr, false, Clock::system())
        .await
        .expect("prepare");
    assert!(again.is_none(), "and only once");

    let store = open(new.path(), 7, addr).await;
    store.initialize_single().await.expect("initialize");
    store.wait_leader(DEADLINE).await.expect("leads");
    assert!(store.is_leader());
    assert_eq!(store.metrics()["membership"]["voters"], json!([7]));
    assert_eq!(store.metrics()["membership"]["nodes"]["7"], addr);
    assert_eq!(snapshot_of(&store), before, "every object, unchanged");

    // The log continues after the backup: versions keep growing and ids never collide.
    let (index, ids) = ok(store
        .propose(command(vec![create("after-restore")]))
        .await
        .expect("a write after the restore"));
    assert!(index > backup.raft_index, "{index} > {}", backup.raft_index);
    assert!(before.iter().all(|r| r.id != ids[0]));
    store.shutdown().await.expect("shutdown");
}

#[test]
fn a_file_in_an_unknown_format_or_no_backup_at_all_is_refused_by_name() {
    let dir = tempfile::tempdir().expect("tempdir");
    let future = dir.path().join("future.json");
    std::fs::write(&future, r#"{"format": "swarm-backup/9", "whatever": 1}"#).expect("write");
    let err = recovery::read_backup(&future).expect_err("unknown format");
    assert!(matches!(err, RecoveryError::UnknownFormat { .. }), "{err}");
    assert!(err.to_string().contains("swarm-backup/9"), "{err}");
    assert!(err.to_string().contains("swarm-backup/1"), "{err}");

    let other = dir.path().join("other.json");
    std::fs::write(&other, r#"{"services": []}"#).expect("write");
    let err = recovery::read_backup(&other).expect_err("no format");
    assert!(matches!(err, RecoveryError::NotABackup { .. }), "{err}");
    std::fs::write(&other, "not json").expect("write");
    let err = recovery::read_backup(&other).expect_err("not JSON");
    assert!(matches!(err, RecoveryError::NotABackup { .. }), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_manager_of_a_lost_three_manager_group_becomes_a_new_cluster_with_every_object() {
    let dirs = [(); 3].map(|_| tempfile::tempdir().expect("tempdir"));
    let mut nodes = Vec::new();
    for (i, dir) in dirs.iter().enumerate() {
        nodes.push(Node::start(dir.path(), i as u64 + 1).await);
    }
    let leader = nodes[0].store.clone();
    leader.initialize_single().await.expect("initialize");
    leader.wait_leader(DEADLINE).await.expect("leader");
    for node in &nodes[1..] {
        leader
            .add_voter(node.store.node_id(), node.addr.clone())
            .await
            .expect("add voter");
    }
    let (index, _) = ok(leader
        .propose(command(vec![create("web"), secret("token", "s3cr3t")]))
        .await
        .expect("propose"));
    let survivor = &nodes[2];
    survivor
        .store
        .wait_executed(index, DEADLINE)
        .await
        .expect("replicated to the survivor");
    let expected = snapshot_of(&survivor.store);
    assert_eq!(expected.len(), 2);
    for node in nodes {
        node.stop().await;
    }

    // Managers 1 and 2 are lost for good; manager 3 starts a new cluster from its data dir.
    let dir = dirs[2].path();
    let done = recovery::force_new_cluster(dir, 3, "127.0.0.1:9", Clock::system())
        .await
        .expect("force new cluster");
    assert_eq!(done.old_voters, [1, 2, 3]);
    assert!(done.replayed.last_applied.index >= index);

    let store = open(dir, 3, "127.0.0.1:9").await;
    store.initialize_single().await.expect("initialize");
    store.wait_leader(DEADLINE).await.expect("leads alone");
    assert!(store.is_leader());
    assert_eq!(store.metrics()["membership"]["voters"], json!([3]));
    assert_eq!(snapshot_of(&store), expected, "every object kept");
    let (after, _) = ok(store
        .propose(command(vec![create("after-recovery")]))
        .await
        .expect("accepts writes"));
    assert!(after > index);
    assert_eq!(store.read(|idx| idx.len()), 3);
    store.shutdown().await.expect("shutdown");

    // Restarting it again is an ordinary start of a one-manager cluster.
    let store = open(dir, 3, "127.0.0.1:9").await;
    store
        .wait_leader(DEADLINE)
        .await
        .expect("leads after a restart");
    assert_eq!(store.read(|idx| idx.len()), 3);
    store.shutdown().await.expect("shutdown");
}
