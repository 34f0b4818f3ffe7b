//! `swarmd init` and `swarmctl cluster join-token` as real processes: init makes the cluster's
//! ids, root CA, certificates (keys 0600) and tokens; tokens come through the API, rotate
//! through Raft and survive a restart; two nodes side by side are two clusters.

#[path = "daemon_support/mod.rs"]
mod daemon_support;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use daemon_support::{Daemon, text};
use swarm::pki::{JoinToken, files};

/// `swarmctl cluster join-token ROLE -q [extra]`, which must succeed.
fn token(daemon: &Daemon, dir: &Path, role: &str, extra: &[&str]) -> String {
    let mut args = vec!["cluster", "join-token", role, "-q"];
    args.extend(extra);
    let out = daemon.ctl(dir, &args);
    assert!(out.status.success(), "{args:?}: {}", text(&out.stderr));
    let printed = text(&out.stdout);
    assert_eq!(
        printed.lines().count(),
        1,
        "-q prints only the token: {printed}"
    );
    printed.trim().to_owned()
}

fn node_json(data: &Path) -> serde_json::Value {
    let bytes = std::fs::read(data.join("node.json")).expect("node.json");
    serde_json::from_slice(&bytes).expect("json")
}

#[test]
fn init_creates_the_cluster_and_its_tokens_rotate_and_persist() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let data = tmp.path().join("data");
    let daemon = Daemon::start("init", &data, &["--runtime", "sim", "--node-name", "alpha"]);

    let identity = node_json(&data);
    assert_eq!(identity["node_name"], "alpha");
    assert_eq!(identity["node_id"].as_str().map(str::len), Some(25));
    assert_ne!(identity["raft_id"], 1, "the Raft id is random");
    let certs = files::certificates_dir(&data);
    for key in ["swarm-root-ca.key", "swarm-node.key"] {
        let mode = std::fs::metadata(certs.join(key))
            .expect(key)
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "{key}");
    }
    let material = files::load_node(&data)
        .expect("reads")
        .expect("certificates");
    assert_eq!(
        material.cert.identity().node_id,
        identity["node_id"].as_str().expect("id")
    );
    let nodes = daemon.json(tmp.path(), &["node", "ls"]);
    assert_eq!(
        nodes[0]["hostname"], "alpha",
        "node ls shows --node-name: {nodes}"
    );
    let node_id = identity["node_id"].as_str().expect("id");
    let inspected = daemon_support::eventually(
        std::time::Duration::from_secs(20),
        "the node reports its id",
        || {
            let node = daemon.json(tmp.path(), &["node", "inspect", "alpha"]);
            (node["status"]["node_id"] == node_id).then_some(node)
        },
    );
    assert_eq!(inspected["metadata"]["name"], "alpha");

    let worker = token(&daemon, tmp.path(), "worker", &[]);
    let manager = token(&daemon, tmp.path(), "manager", &[]);
    assert_ne!(worker, manager);
    let parsed: JoinToken = worker.parse().expect("a join token");
    parsed
        .pin(&material.ca_cert)
        .expect("the token pins this cluster's CA");

    let table = daemon.ctl(tmp.path(), &["cluster", "join-token", "worker"]);
    assert!(
        text(&table.stdout).lines().any(|l| l.trim() == worker),
        "{}",
        text(&table.stdout)
    );

    let rotated = token(&daemon, tmp.path(), "worker", &["--rotate"]);
    assert_ne!(rotated, worker, "rotation makes a new secret");
    assert_eq!(token(&daemon, tmp.path(), "worker", &[]), rotated);
    assert_eq!(token(&daemon, tmp.path(), "manager", &[]), manager);
    let bad = daemon.ctl(tmp.path(), &["cluster", "join-token", "admin"]);
    assert!(!bad.status.success());

    assert!(daemon.terminate().success());
    let again = std::process::Command::new(env!("CARGO_BIN_EXE_swarmd"))
        .args([
            "init",
            "--api-addr",
            "127.0.0.1:0",
            "--listen-addr",
            "127.0.0.1:0",
            "--data-dir",
        ])
        .arg(&data)
        .output()
        .expect("swarmd runs");
    assert!(!again.status.success(), "init twice on one data dir");
    assert!(
        text(&again.stderr).contains("swarmd run"),
        "{}",
        text(&again.stderr)
    );

    let resumed = Daemon::start("run", &data, &["--runtime", "none"]);
    assert_eq!(node_json(&data), identity, "ids survive a restart");
    assert_eq!(token(&resumed, tmp.path(), "worker", &[]), rotated);
    assert_eq!(token(&resumed, tmp.path(), "manager", &[]), manager);
}

#[test]
fn two_nodes_side_by_side_have_their_own_ids_and_clusters() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    let first = Daemon::up(&a, &["--runtime", "none"]);
    let second = Daemon::up(&b, &["--runtime", "none"]);
    let (one, two) = (node_json(&a), node_json(&b));
    assert_ne!(one["node_id"], two["node_id"]);
    assert_ne!(one["raft_id"], two["raft_id"]);
    assert_eq!(
        one["node_name"], two["node_name"],
        "both default to the hostname"
    );
    let token_a: JoinToken = token(&first, tmp.path(), "worker", &[])
        .parse()
        .expect("token");
    let token_b: JoinToken = token(&second, tmp.path(), "worker", &[])
        .parse()
        .expect("token");
    assert_ne!(
        token_a.ca_digest(),
        token_b.ca_digest(),
        "two clusters, two CAs"
    );
    let ca_b = files::load_node(&b)
        .expect("reads")
        .expect("certificates")
        .ca_cert;
    assert!(
        token_a.pin(&ca_b).is_err(),
        "a token refuses another cluster's CA"
    );
}
