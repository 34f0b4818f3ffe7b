//! `swarmctl cluster backup`, `swarmd restore` and `swarmd run --force-new-cluster` as real
//! processes: a backup file (mode 0600) restored into a new data directory starts a cluster
//! with the same objects; a used data directory and a file of an unknown format are refused
//! with a clear error.

#[path = "daemon_support/mod.rs"]
mod daemon_support;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Output};

use daemon_support::{Daemon, text};
use serde_json::Value;

const STACK: &str = r#"
services:
  web:
    image: nginx:1.27
    networks: [front]
    secrets: [token]
    configs:
      - source: site
        target: /etc/site.conf
networks:
  front: {}
secrets:
  token:
    file: ./token.txt
configs:
  site:
    file: ./site.conf
"#;

fn swarmd(args: &[&str], data_dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_swarmd"))
        .args(args)
        .arg("--data-dir")
        .arg(data_dir)
        .output()
        .expect("swarmd runs")
}

/// What a user sees of the cluster's objects (secret content as its hash).
fn listing(daemon: &Daemon, dir: &Path) -> Vec<Value> {
    ["secret", "config", "network", "service"]
        .iter()
        .map(|kind| daemon.json(dir, &[kind, "ls"]))
        .collect()
}

/// The `field` of every row, sorted.
fn column(rows: &Value, field: &str) -> Vec<String> {
    let mut names: Vec<String> = rows
        .as_array()
        .expect("a list")
        .iter()
        .map(|row| row[field].as_str().unwrap_or_default().to_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn a_backup_file_restores_a_cluster_with_the_same_objects_and_used_dirs_are_refused() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let (old, new) = (tmp.path().join("old"), tmp.path().join("new"));
    let stack = tmp.path().join("demo");
    std::fs::create_dir(&stack).expect("mkdir");
    std::fs::write(stack.join("stack.yml"), STACK).expect("write");
    std::fs::write(stack.join("token.txt"), "s3cr3t").expect("write");
    std::fs::write(stack.join("site.conf"), "listen 80;").expect("write");

    let daemon = Daemon::start("up", &old, &["--runtime", "none", "--node-name", "first"]);
    let applied = daemon.ctl(&stack, &["apply", "-f", "stack.yml"]);
    assert!(applied.status.success(), "{}", text(&applied.stderr));
    let before = listing(&daemon, &stack);

    let file = tmp.path().join("cluster.backup");
    let backup = daemon.ctl(
        &stack,
        &["cluster", "backup", file.to_str().expect("utf-8")],
    );
    assert!(backup.status.success(), "{}", text(&backup.stderr));
    assert!(
        text(&backup.stdout).contains("keep it safe"),
        "{}",
        text(&backup.stdout)
    );
    let mode = std::fs::metadata(&file)
        .expect("written")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600, "the backup holds secrets: owner only");
    let document: Value =
        serde_json::from_slice(&std::fs::read(&file).expect("read")).expect("JSON");
    assert_eq!(document["format"], "swarm-backup/1");
    assert!(
        document["root_ca"]["key_pem"]
            .as_str()
            .is_some_and(|key| key.contains("PRIVATE KEY"))
    );

    // A data dir that holds a node is refused, and nothing is written to it.
    let used = swarmd(&["restore", file.to_str().expect("utf-8")], &old);
    assert_eq!(used.status.code(), Some(1), "{}", text(&used.stderr));
    assert!(
        text(&used.stderr).contains("already holds"),
        "{}",
        text(&used.stderr)
    );
    // A file of another format is refused by name.
    let future = tmp.path().join("future.backup");
    std::fs::write(&future, r#"{"format": "swarm-backup/2"}"#).expect("write");
    let refused = swarmd(&["restore", future.to_str().expect("utf-8")], &new);
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        text(&refused.stderr).contains("format `swarm-backup/2`"),
        "{}",
        text(&refused.stderr)
    );
    assert!(!new.join("node.json").exists(), "nothing written");
    assert!(daemon.terminate().success());

    let restore = swarmd(
        &[
            "restore",
            file.to_str().expect("utf-8"),
            "--node-name",
            "restored",
        ],
        &new,
    );
    assert!(restore.status.success(), "{}", text(&restore.stderr));
    assert!(
        text(&restore.stderr).contains("swarmd run --data-dir"),
        "{}",
        text(&restore.stderr)
    );

    let daemon = Daemon::start("run", &new, &["--runtime", "none"]);
    let after = listing(&daemon, &stack);
    assert_eq!(
        after[..3],
        before[..3],
        "secrets, configs, networks unchanged"
    );
    assert_eq!(column(&after[3], "name"), column(&before[3], "name"));
    let nodes = column(&daemon.json(&stack, &["node", "ls"]), "hostname");
    assert_eq!(nodes, ["first", "restored"], "the old node records stay");
    let write = daemon.ctl(&stack, &["service", "scale", "demo_web=2"]);
    assert!(write.status.success(), "{}", text(&write.stderr));
    assert!(daemon.terminate().success());

    // --force-new-cluster on a manager's data dir: it says what it did and keeps everything.
    let daemon = Daemon::start("run", &new, &["--runtime", "none", "--force-new-cluster"]);
    assert!(
        daemon
            .log()
            .contains("--force-new-cluster: this manager is now the only manager"),
        "{}",
        daemon.log()
    );
    let forced = listing(&daemon, &stack);
    assert_eq!(forced[..3], before[..3]);
    assert!(daemon.terminate().success());
}
