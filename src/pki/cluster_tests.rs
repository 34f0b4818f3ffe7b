//! The cluster object through a real one-node store: created once, tokens rotated through
//! Raft, the old token refused and the new one admitted.

use super::cluster::{self, ClusterError};
use super::{JoinToken, Role, files};
use crate::daemon::tests::store;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_live_in_the_store_and_rotation_refuses_the_old_one() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = store(&dir.path().join("store")).await;
    assert!(matches!(
        cluster::join_tokens(&store),
        Err(ClusterError::Missing)
    ));
    let now = store.clock().now();
    let (ca, node) = files::init_cluster(dir.path(), "first", now).expect("material");
    cluster::ensure(&store, &node).await.expect("created");
    let tokens = cluster::join_tokens(&store).expect("tokens");
    cluster::ensure(&store, &node).await.expect("idempotent");
    assert_eq!(cluster::join_tokens(&store).expect("tokens"), tokens);
    assert_eq!(tokens.ca_digest, ca.digest());
    assert_eq!(tokens.cluster_id, ca.cluster_id());
    let pinned: JoinToken = tokens.worker.parse().expect("parses");
    pinned.pin(ca.cert_der()).expect("pins our CA");

    let rotated = cluster::rotate(&store, Role::Worker)
        .await
        .expect("rotated");
    assert_ne!(rotated.worker, tokens.worker);
    assert_eq!(rotated.manager, tokens.manager);
    let (security, _) = cluster::read(&store).expect("reads").expect("present");
    assert!(security.admit(&tokens.worker).is_err(), "old worker token");
    assert_eq!(security.admit(&rotated.worker), Ok(Role::Worker));
    assert_eq!(security.admit(&rotated.manager), Ok(Role::Manager));

    // The cluster object is internal: not counted, not listed with user kinds.
    let listed = store.read(|index| {
        model::Kind::ALL
            .into_iter()
            .map(|kind| index.list(kind).len())
            .sum::<usize>()
    });
    assert_eq!(listed, 0);
    store.shutdown().await.expect("clean shutdown");
}
