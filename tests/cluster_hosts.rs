//! A cluster of real hosts on one machine (issue 10 §7): each node a network namespace with
//! its own dockerd and swarmd, joined over mutual TLS on the testbed bridge. A service spreads
//! over the nodes' own engines; the leader cut off from the others stops acknowledging writes,
//! the majority elects a new leader and takes writes and marks the cut-off node down and runs
//! its task elsewhere; after healing the old leader follows with nothing it half-accepted
//! applied, and removes the container the cluster replaced (one running task per slot).

#[path = "docker_support/mod.rs"]
mod docker_support;

use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use docker_support::{docker_available, test_image};
use testbed::{NodeProcess, Testbed, eventually};

const NODES: [&str; 3] = ["m1", "m2", "m3"];
const STACK: &str = "hosts";

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// `swarmctl` on `node`, against that node's API (127.0.0.1:4242 inside its namespace).
fn ctl(tb: &Testbed, node: &str, args: &[&str]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_swarmctl"));
    command.args(["--host", "http://127.0.0.1:4242"]).args(args);
    tb.exec(node, &command).expect("swarmctl runs")
}

fn ctl_json(tb: &Testbed, node: &str, args: &[&str]) -> Option<serde_json::Value> {
    let mut all = args.to_vec();
    all.extend(["-o", "json"]);
    let out = ctl(tb, node, &all);
    out.status
        .success()
        .then(|| serde_json::from_slice(&out.stdout).ok())
        .flatten()
}

fn wait<T>(within: Duration, what: &str, check: impl FnMut() -> Option<T>) -> T {
    eventually(within, what, check).unwrap_or_else(|e| panic!("{e}"))
}

/// `swarmd COMMAND` on `node`: API on its loopback, node-to-node on its testbed address.
fn swarmd(tb: &Testbed, node: &str, data: &Path, command: &[&str]) -> NodeProcess {
    let addr = tb.node(node).expect("node").addr();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_swarmd"));
    cmd.args(command)
        .args(["--data-dir", &data.join(node).to_string_lossy()])
        .args([
            "--api-addr",
            "127.0.0.1:4242",
            "--listen-addr",
            "0.0.0.0:4243",
        ])
        .args(["--advertise-addr", &format!("{addr}:4243")])
        .args([
            "--node-name",
            node,
            "--runtime",
            "docker",
            "--heartbeat-ms",
            "2000",
        ])
        .env("RUST_LOG", "info,openraft=warn");
    let process = tb.spawn(node, "swarmd", &cmd).expect("swarmd starts");
    // swarmd writes listen.addr once the node is ready (registered, cluster settings there).
    let ready = data.join(node).join("listen.addr");
    wait(Duration::from_secs(60), &format!("{node} ready"), || {
        ready.exists().then_some(())
    });
    process
}

fn is_leader(tb: &Testbed, node: &str) -> bool {
    ctl_json(tb, node, &["cluster", "info"]).is_some_and(|info| info["is_leader"] == true)
}

fn secrets(tb: &Testbed, node: &str) -> Vec<String> {
    ctl_json(tb, node, &["secret", "ls"])
        .and_then(|rows| {
            rows.as_array().map(|rows| {
                rows.iter()
                    .filter_map(|r| r["name"].as_str().map(str::to_owned))
                    .collect()
            })
        })
        .unwrap_or_default()
}

fn create_secret(tb: &Testbed, node: &str, dir: &Path, name: &str) -> Output {
    let file = dir.join(name);
    std::fs::write(&file, name).expect("secret file");
    ctl(
        tb,
        node,
        &["secret", "create", name, &file.to_string_lossy()],
    )
}

/// Running containers of the test stack on `node`'s own engine.
fn running_here(tb: &Testbed, node: &str) -> usize {
    let filter = format!("label=com.docker.stack.namespace={STACK}");
    let out = tb
        .docker(node, &["ps", "-q", "--filter", &filter])
        .expect("docker ps runs");
    text(&out.stdout).lines().count()
}

#[test]
fn managers_on_separate_hosts_spread_a_service_and_survive_the_leader_cut_off() {
    if !docker_available() {
        return;
    }
    let image = test_image();
    let tb = Testbed::start("clh", &NODES).unwrap_or_else(|e| panic!("testbed: {e}"));
    tb.load_image(&image).expect("image loaded");
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path();

    let mut processes = vec![swarmd(&tb, "m1", data, &["init"])];
    let token = ctl(&tb, "m1", &["cluster", "join-token", "manager", "-q"]);
    assert!(token.status.success(), "{}", text(&token.stderr));
    let token = text(&token.stdout).trim().to_owned();
    let first = format!("{}:4243", tb.node("m1").expect("m1").addr());
    for node in ["m2", "m3"] {
        processes.push(swarmd(
            &tb,
            node,
            data,
            &["join", "--token", &token, &first],
        ));
    }
    for node in NODES {
        wait(Duration::from_secs(30), "three voters", || {
            ctl_json(&tb, node, &["cluster", "info"])
                .filter(|info| info["voters"].as_array().map(Vec::len) == Some(3))
        });
    }

    // Every node's agent in session (ready) before the apply: the scheduler spreads over the
    // nodes it can use then, and does not rebalance later (as Swarm).
    wait(Duration::from_secs(60), "three ready nodes", || {
        ctl_json(&tb, "m1", &["node", "ls"]).and_then(|rows| {
            let ready = rows
                .as_array()?
                .iter()
                .filter(|n| n["status"] == "ready")
                .count();
            (ready == 3).then_some(())
        })
    });

    // One replica per host, each on that host's own engine.
    let stack = data.join(format!("{STACK}.yml"));
    std::fs::write(
        &stack,
        format!(
            "services:\n  web:\n    image: {image}\n    command: [\"httpd\", \"-f\", \"-p\", \"8080\"]\n    deploy:\n      replicas: 3\n"
        ),
    )
    .expect("stack file");
    let out = ctl(&tb, "m2", &["apply", "-f", &stack.to_string_lossy()]);
    assert!(out.status.success(), "apply: {}", text(&out.stderr));
    for node in NODES {
        wait(
            Duration::from_secs(60),
            &format!("a task on {node}"),
            || (running_here(&tb, node) == 1).then_some(()),
        );
    }

    // Cut the leader off from the other two managers.
    let leader = wait(Duration::from_secs(10), "a leader", || {
        NODES.into_iter().find(|node| is_leader(&tb, node))
    });
    let others: Vec<&str> = NODES.into_iter().filter(|n| *n != leader).collect();
    tb.partition(leader).expect("cut the leader off");
    let cut = Instant::now();
    let refused = create_secret(&tb, leader, data, "half_accepted");
    assert!(
        !refused.status.success(),
        "the cut-off leader acknowledged a write"
    );
    assert!(
        cut.elapsed() < Duration::from_secs(12),
        "the cut-off leader took {:?} to refuse",
        cut.elapsed()
    );
    let new_leader = wait(Duration::from_secs(10), "a new leader", || {
        others.iter().copied().find(|node| is_leader(&tb, node))
    });
    let out = create_secret(&tb, others[0], data, "during_cut");
    assert!(
        out.status.success(),
        "majority write: {}",
        text(&out.stderr)
    );
    eprintln!(
        "cut {leader}: new leader {new_leader} after {:?}",
        cut.elapsed()
    );

    // Healed, the old leader follows: it has the majority's write, not its own refused one.
    tb.heal(leader).expect("heal");
    wait(Duration::from_secs(30), "the old leader caught up", || {
        secrets(&tb, leader)
            .contains(&"during_cut".to_owned())
            .then_some(())
    });
    for node in NODES {
        assert!(
            !secrets(&tb, node).contains(&"half_accepted".to_owned()),
            "{node} applied the write the cut-off leader refused"
        );
    }
    // Back in touch, it removes the container the cluster replaced: each slot runs once.
    wait(
        Duration::from_secs(60),
        "the stale container removed",
        || (running_here(&tb, leader) == 0).then_some(()),
    );
    let total: usize = NODES.iter().map(|n| running_here(&tb, n)).sum();
    assert_eq!(total, 3, "one running container per slot after the heal");
    drop(processes);
    // Containers stay when swarmd stops (a restarted agent adopts them): remove them here.
    for node in NODES {
        let filter = format!("label=com.docker.stack.namespace={STACK}");
        if let Ok(out) = tb.docker(node, &["ps", "-aq", "--filter", &filter]) {
            for id in text(&out.stdout).lines() {
                let _ = tb.docker(node, &["rm", "-f", id]);
            }
        }
    }
    tb.teardown().expect("teardown");
}
