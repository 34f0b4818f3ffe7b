//! Docker end-to-end: secrets and configs as files with their mode and owner, and draining the
//! node. Ports 23200-23299 (none used yet).

#[path = "daemon_support/mod.rs"]
mod daemon_support;
#[path = "docker_e2e_support/mod.rs"]
mod docker_e2e_support;
#[path = "docker_support/mod.rs"]
mod docker_support;

use docker_e2e_support::{Cluster, docker_ok};

const SLEEPER: &str = r#"["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 1; done"]"#;

#[test]
fn secrets_and_configs_are_files_with_their_mode_and_owner() {
    let Some(cluster) = Cluster::start("e2efiles") else {
        return;
    };
    cluster.write("token.txt", "s3cr3t-token");
    cluster.write("site.conf", "listen 8080;");
    cluster.apply(&format!(
        r#"services:
  app:
    image: IMAGE
    command: {SLEEPER}
    stop_grace_period: 1s
    secrets:
      - source: token
        uid: "1000"
        gid: "1001"
        mode: 0400
    configs:
      - source: site
        target: /etc/site.conf
        mode: 0444
secrets:
  token:
    file: ./token.txt
configs:
  site:
    file: ./site.conf
"#
    ));
    let tasks = cluster.wait_running("app", 1);
    let container = tasks[0]["container_id"].as_str().expect("container id");
    let read = |path: &str| docker_ok(&["exec", container, "cat", path]);
    let stat = |path: &str| docker_ok(&["exec", container, "stat", "-L", "-c", "%a %u %g", path]);
    assert_eq!(read("/run/secrets/token"), "s3cr3t-token");
    assert_eq!(stat("/run/secrets/token"), "400 1000 1001");
    assert_eq!(read("/etc/site.conf"), "listen 8080;");
    assert_eq!(stat("/etc/site.conf"), "444 0 0");
}

#[test]
fn draining_the_node_stops_its_tasks_and_activating_it_brings_them_back() {
    let Some(cluster) = Cluster::start("e2edrain") else {
        return;
    };
    cluster.apply(&format!(
        "services:\n  app:\n    image: IMAGE\n    command: {SLEEPER}\n    stop_grace_period: 1s\n    deploy:\n      replicas: 2\n"
    ));
    cluster.wait_running("app", 2);
    let host = cluster.hostname();
    cluster.ctl_ok(&["node", "update", &host, "--availability", "drain"]);
    let pending = cluster.wait("tasks pending with the drain explanation", || {
        let pending: Vec<_> = cluster
            .tasks()
            .into_iter()
            .filter(|t| t["desired_state"] == "running" && t["state"] == "pending")
            .collect();
        let explained = pending
            .iter()
            .all(|t| t["error"].as_str().is_some_and(|e| e.contains("drain")));
        let stopped = cluster.containers(Some("app")).is_empty();
        (pending.len() == 2 && explained && stopped).then_some(pending)
    });
    assert!(pending.iter().all(|t| t["service"] == "app"));
    cluster.ctl_ok(&["node", "update", &host, "--availability", "active"]);
    cluster.wait_running("app", 2);
}
