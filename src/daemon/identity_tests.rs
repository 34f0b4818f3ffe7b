//! Node identities: random ids, `--node-name`, and data dirs written before random ids.

use super::*;

#[test]
fn new_identities_are_random_and_named() {
    let a = tempfile::tempdir().expect("tempdir");
    let b = tempfile::tempdir().expect("tempdir");
    let first = create(a.path(), Some("alpha")).expect("created");
    let second = create(b.path(), None).expect("created");
    assert_eq!(first.node_name, "alpha");
    assert_eq!(
        second.node_name,
        hostname(),
        "the name defaults to the hostname"
    );
    assert_ne!(first.node_id, second.node_id);
    assert_ne!(first.raft_id, second.raft_id);
    assert_ne!(first.node_id, first.node_name);
    assert_eq!(load(a.path()).expect("reads"), Some(first.clone()));
    assert_eq!(
        load_or_create(a.path(), Some("renamed")).expect("reads"),
        first,
        "--node-name does not rename an existing node"
    );
}

#[test]
fn init_refuses_a_data_dir_that_holds_a_node() {
    let dir = tempfile::tempdir().expect("tempdir");
    create(dir.path(), Some("alpha")).expect("created");
    let err = create(dir.path(), Some("beta")).expect_err("refused");
    assert!(
        matches!(&err, IdentityError::Exists { name, .. } if name == "alpha"),
        "{err}"
    );
    assert!(err.to_string().contains("swarmd run"), "{err}");
}

#[test]
fn a_legacy_identity_keeps_its_raft_id_name_and_container_labels() {
    let dir = tempfile::tempdir().expect("tempdir");
    let uid = "0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0";
    let legacy = serde_json::json!({"node_id": 1, "hostname": "old-host", "uid": uid});
    std::fs::write(dir.path().join("node.json"), legacy.to_string()).expect("write");
    let migrated = load(dir.path()).expect("reads").expect("present");
    assert_eq!(migrated.raft_id, 1, "its Raft log names it 1");
    assert_eq!(migrated.node_name, "old-host");
    // The label the old code derived: hostname, then the uid's first 12 hex digits.
    assert_eq!(migrated.agent_id(), "old-host-0b1c2d3e4f50");
    assert_eq!(
        load(dir.path()).expect("reads again"),
        Some(migrated),
        "the migration was written"
    );
}

#[test]
fn a_legacy_identity_without_uid_gets_a_random_node_id() {
    let dir = tempfile::tempdir().expect("tempdir");
    let legacy = serde_json::json!({"node_id": 1, "hostname": "old-host"});
    std::fs::write(dir.path().join("node.json"), legacy.to_string()).expect("write");
    let migrated = load(dir.path()).expect("reads").expect("present");
    assert_eq!(migrated.node_id.len(), 25);
}

#[test]
fn a_corrupt_identity_is_reported() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("node.json"), "{\"node_id\": true}").expect("write");
    let err = load(dir.path()).expect_err("corrupt");
    assert!(matches!(err, IdentityError::Corrupt { .. }), "{err}");
}
