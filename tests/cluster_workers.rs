//! Workers as separate `swarmd` processes on loopback (issue 10 §5, §7): a service spreads over
//! the manager and two workers (sim runtime: agents without containers), and a worker killed
//! with `kill -9` is marked down and its tasks come back on the other nodes, one per slot.

#[path = "daemon_support/mod.rs"]
mod daemon_support;

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use daemon_support::{Daemon, eventually, text};

/// A 1 s heartbeat: a silent node is down after ~3 s (shorter flaps on a loaded machine).
const HEARTBEAT_MS: &str = "1000";

fn token(daemon: &Daemon, dir: &Path, role: &str) -> String {
    let out = daemon.ctl(dir, &["cluster", "join-token", role, "-q"]);
    assert!(out.status.success(), "join-token: {}", text(&out.stderr));
    text(&out.stdout).trim().to_owned()
}

/// Running tasks of service `web_app` per node, and the slots that run more than one.
fn running(manager: &Daemon, dir: &Path) -> (BTreeMap<String, usize>, Vec<u64>) {
    let rows = manager.json(dir, &["service", "ps", "web_app"]);
    let mut per_node = BTreeMap::new();
    let mut per_slot: BTreeMap<u64, usize> = BTreeMap::new();
    for row in rows.as_array().expect("rows") {
        if row["state"] != "running" {
            continue;
        }
        let node = row["node"].as_str().unwrap_or("").to_owned();
        *per_node.entry(node).or_default() += 1;
        if let Some(slot) = row["slot"].as_u64() {
            *per_slot.entry(slot).or_default() += 1;
        }
    }
    let doubled = per_slot
        .into_iter()
        .filter(|(_, n)| *n > 1)
        .map(|(slot, _)| slot)
        .collect();
    (per_node, doubled)
}

fn node_status(manager: &Daemon, dir: &Path, name: &str) -> String {
    let nodes = manager.json(dir, &["node", "ls"]);
    nodes
        .as_array()
        .expect("rows")
        .iter()
        .find(|n| n["hostname"] == name)
        .and_then(|n| n["status"].as_str())
        .unwrap_or("")
        .to_owned()
}

#[test]
fn a_service_spreads_over_workers_and_a_killed_workers_tasks_move() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    let m1 = Daemon::start(
        "init",
        &dir.join("m1"),
        &[
            "--runtime",
            "sim",
            "--node-name",
            "m1",
            "--heartbeat-ms",
            HEARTBEAT_MS,
        ],
    );
    let worker = token(&m1, dir, "worker");
    let manager = m1.listen_addr();
    let w1 = Daemon::start_worker(
        &dir.join("w1"),
        &[
            "--runtime",
            "sim",
            "--node-name",
            "w1",
            "--token",
            &worker,
            &manager,
        ],
    );
    let _w2 = Daemon::start_worker(
        &dir.join("w2"),
        &[
            "--runtime",
            "sim",
            "--node-name",
            "w2",
            "--token",
            &worker,
            &manager,
        ],
    );
    for name in ["m1", "w1", "w2"] {
        eventually(Duration::from_secs(20), "every node ready", || {
            (node_status(&m1, dir, name) == "ready").then_some(())
        });
    }

    let stack = dir.join("web.yml");
    std::fs::write(
        &stack,
        "services:\n  app:\n    image: busybox\n    deploy:\n      replicas: 6\n",
    )
    .expect("stack");
    let out = m1.ctl(dir, &["apply", "-f", &stack.to_string_lossy()]);
    assert!(out.status.success(), "apply: {}", text(&out.stderr));
    let spread = eventually(Duration::from_secs(30), "6 tasks running", || {
        let (per_node, _) = running(&m1, dir);
        (per_node.values().sum::<usize>() == 6).then_some(per_node)
    });
    assert_eq!(spread.len(), 3, "spread over m1, w1 and w2: {spread:?}");
    assert!(spread.values().all(|n| *n == 2), "{spread:?}");

    w1.kill9();
    eventually(Duration::from_secs(20), "w1 down", || {
        (node_status(&m1, dir, "w1") == "down").then_some(())
    });
    let moved = eventually(Duration::from_secs(30), "w1's tasks replaced", || {
        let (per_node, doubled) = running(&m1, dir);
        assert!(doubled.is_empty(), "slots running twice: {doubled:?}");
        (per_node.values().sum::<usize>() == 6 && !per_node.contains_key("w1")).then_some(per_node)
    });
    assert_eq!(moved.keys().collect::<Vec<_>>(), ["m1", "w2"], "{moved:?}");
}
