//! Docker end-to-end: a real `swarmd up` drives the local engine. Convergence, replacement of a
//! killed container (prepared during the restart delay), scaling, global services, jobs, and a
//! restart that adopts the running containers. Ports 23000-23099.

#[path = "daemon_support/mod.rs"]
mod daemon_support;
#[path = "docker_e2e_support/mod.rs"]
mod docker_e2e_support;
#[path = "docker_support/mod.rs"]
mod docker_support;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use docker_e2e_support::{Cluster, docker_ok, http_get};

/// A process that exits promptly on SIGTERM (a bare `sleep` as PID 1 would not).
const SLEEPER: &str = r#"["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 1; done"]"#;

fn web(body: &str, port: u16) -> String {
    format!(
        r#"    image: IMAGE
    command: ["sh", "-c", "mkdir -p /www && echo {body} > /www/index.html && exec httpd -f -p 8080 -h /www"]
    stop_grace_period: 1s
    ports: ["{port}:8080"]
"#
    )
}

fn sleeper(replicas: u64) -> String {
    format!(
        "    image: IMAGE\n    command: {SLEEPER}\n    stop_grace_period: 1s\n    deploy:\n      replicas: {replicas}\n"
    )
}

#[test]
fn a_three_service_stack_converges_on_docker() {
    let Some(cluster) = Cluster::start("e2econverge") else {
        return;
    };
    let port = 23001;
    let stack = format!(
        "services:\n  web:\n{}  worker:\n{}  cache:\n{}",
        web("hello", port),
        sleeper(2),
        sleeper(1)
    );
    cluster.apply(&stack);
    cluster.wait_running("web", 1);
    cluster.wait_running("worker", 2);
    cluster.wait_running("cache", 1);
    assert_eq!(cluster.containers(None).len(), 4);
    let body = cluster.wait("the published port to answer", || http_get(port).ok());
    assert_eq!(body, "hello");
}

/// Runs one `app` replica (Docker's default restart delay, 5 s) and `docker kill`s its
/// container: the task's id and container, and the instant just before the kill.
fn kill_one_replica(cluster: &Cluster) -> (String, String, Instant) {
    cluster.apply(&format!("services:\n  app:\n{}", sleeper(1)));
    let before = cluster.wait_running("app", 1);
    let id = |key: &str| before[0][key].as_str().expect(key).to_owned();
    let (task, container) = (id("id"), id("container_id"));
    let killed = Instant::now();
    docker_ok(&["kill", &container]);
    (task, container, killed)
}

#[test]
fn a_killed_container_is_replaced_in_its_slot() {
    let Some(cluster) = Cluster::start("e2ekill") else {
        return;
    };
    let (old_task, old_container, _) = kill_one_replica(&cluster);
    let after = cluster.wait("a replacement task in slot 1", || {
        let tasks = cluster.tasks();
        let old_failed = tasks
            .iter()
            .any(|t| t["id"] == old_task.as_str() && t["state"] == "failed");
        let running = cluster.running("app");
        let replaced = running.len() == 1 && running[0]["id"] != old_task.as_str();
        (old_failed && replaced).then_some(running)
    });
    assert_eq!(after[0]["slot"], 1, "same slot");
    assert_ne!(after[0]["container_id"], old_container.as_str());
    cluster.wait_running("app", 1);
}

#[test]
fn a_killed_tasks_replacement_is_created_during_the_restart_delay_and_started_after_it() {
    let Some(cluster) = Cluster::start("e2eprepare") else {
        return;
    };
    let (_, _, killed) = kill_one_replica(&cluster);
    let prepared = cluster.wait("a replacement prepared during the delay", || {
        let tasks = cluster.tasks();
        tasks
            .into_iter()
            .find(|t| t["service"] == "app" && t["state"] == "ready")
    });
    assert!(
        killed.elapsed() < Duration::from_secs(5),
        "prepared within the delay"
    );
    let container = prepared["container_id"].as_str().expect("container id");
    assert_eq!(
        docker_ok(&["inspect", "-f", "{{.State.Status}}", container]),
        "created",
        "created, not started"
    );
    let after = cluster.wait("the prepared task running", || {
        let running = cluster.running("app");
        (running.len() == 1 && running[0]["id"] == prepared["id"]).then_some(running)
    });
    assert!(
        killed.elapsed() >= Duration::from_secs(5),
        "not started before the delay"
    );
    assert_eq!(after[0]["container_id"], container, "its container started");
}

#[test]
fn re_applying_with_new_replicas_scales_up_and_down() {
    let Some(cluster) = Cluster::start("e2escale") else {
        return;
    };
    cluster.apply(&format!("services:\n  app:\n{}", sleeper(1)));
    cluster.wait_running("app", 1);
    cluster.apply(&format!("services:\n  app:\n{}", sleeper(3)));
    let up = cluster.wait_running("app", 3);
    let mut slots: Vec<u64> = up.iter().filter_map(|t| t["slot"].as_u64()).collect();
    slots.sort_unstable();
    assert_eq!(slots, vec![1, 2, 3]);
    cluster.apply(&format!("services:\n  app:\n{}", sleeper(1)));
    cluster.wait_running("app", 1);
}

#[test]
fn a_global_service_runs_one_task_on_the_node() {
    let Some(cluster) = Cluster::start("e2eglobal") else {
        return;
    };
    cluster.apply(&format!(
        "services:\n  agent:\n    image: IMAGE\n    command: {SLEEPER}\n    stop_grace_period: 1s\n    deploy:\n      mode: global\n"
    ));
    let tasks = cluster.wait_running("agent", 1);
    let host = cluster.hostname();
    assert_eq!(tasks[0]["node"], host.as_str());
    assert!(tasks[0]["slot"].is_null(), "global tasks have no slot");
}

#[test]
fn a_replicated_job_runs_to_completion() {
    let Some(cluster) = Cluster::start("e2ejob") else {
        return;
    };
    cluster.apply(
        "services:\n  migrate:\n    image: IMAGE\n    command: [\"sh\", \"-c\", \"echo migrated\"]\n    deploy:\n      mode: replicated-job\n      replicas: 2\n",
    );
    let done = cluster.wait("2 completed job tasks", || {
        let tasks = cluster.tasks();
        let complete: Vec<_> = tasks
            .iter()
            .filter(|t| t["service"] == "migrate" && t["state"] == "complete")
            .cloned()
            .collect();
        (complete.len() == 2).then_some(complete)
    });
    assert!(done.iter().all(|t| t["error"].is_null()), "{done:?}");
    let tasks = cluster.tasks();
    assert_eq!(
        tasks.len(),
        2,
        "a completed job is not restarted: {tasks:?}"
    );
    assert!(cluster.containers(Some("migrate")).is_empty());
}

#[test]
fn a_restarted_daemon_adopts_the_running_containers() {
    let Some(mut cluster) = Cluster::start("e2eadopt") else {
        return;
    };
    cluster.apply(&format!("services:\n  app:\n{}", sleeper(2)));
    let ids = |tasks: &[serde_json::Value]| {
        let mut ids: Vec<String> = tasks
            .iter()
            .filter_map(|t| t["container_id"].as_str().map(str::to_owned))
            .collect();
        ids.sort();
        ids
    };
    let before = ids(&cluster.wait_running("app", 2));
    cluster.restart(|stopped| {
        assert_eq!(
            stopped.containers(Some("app")).len(),
            2,
            "a clean shutdown leaves the task containers running"
        );
    });
    // Once the restarted agent has started a third task it has gone through the first two.
    cluster.apply(&format!("services:\n  app:\n{}", sleeper(3)));
    let after = ids(&cluster.wait_running("app", 3));
    assert!(
        before.iter().all(|id| after.contains(id)),
        "the first containers were adopted, not replaced: {before:?} -> {after:?}"
    );
}

/// A service whose every task says hello once, then idles until SIGTERM.
fn talker(replicas: u64) -> String {
    format!(
        "services:\n  talk:\n    image: IMAGE\n    command: [\"sh\", \"-c\", \"echo hello; trap 'exit 0' TERM; while true; do sleep 1; done\"]\n    stop_grace_period: 1s\n    deploy:\n      replicas: {replicas}\n"
    )
}

#[test]
fn service_logs_prefix_each_task_and_follow_tasks_started_later() {
    let Some(cluster) = Cluster::start("e2elogs") else {
        return;
    };
    cluster.apply(&talker(1));
    cluster.wait_running("talk", 1);
    let logs = |args: &[&str]| {
        let mut all = vec!["service", "logs", "talk", "--stack", &cluster.stack];
        all.extend_from_slice(args);
        cluster.ctl_ok(&all)
    };
    // The container may not have written its line yet when it is reported running.
    let once = cluster.wait("the task's line in the logs", || {
        let out = logs(&["--tail", "10"]);
        out.contains("hello").then_some(out)
    });
    assert_eq!(once, "talk.1 | hello\n");

    // Follow, then scale up: the new task's line arrives on the same stream.
    let mut follow = Command::new(env!("CARGO_BIN_EXE_swarmctl"))
        .args(["--host", &cluster.daemon().host, "service", "logs", "talk"])
        .args(["--stack", &cluster.stack, "-f"])
        .stdout(Stdio::piped())
        .spawn()
        .expect("swarmctl runs");
    let (lines_tx, lines) = mpsc::channel();
    let stdout = follow.stdout.take().expect("stdout");
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if lines_tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut seen = Vec::new();
    let mut wait_line = |want: &str| {
        let deadline = Instant::now() + Duration::from_secs(60);
        while !seen.iter().any(|l| l == want) {
            let left = deadline.saturating_duration_since(Instant::now());
            match lines.recv_timeout(left) {
                Ok(line) => seen.push(line),
                Err(_) => panic!("no {want:?} within 60 s; got {seen:?}"),
            }
        }
    };
    wait_line("talk.1 | hello");
    cluster.apply(&talker(2));
    wait_line("talk.2 | hello");
    let _ = follow.kill();
    let _ = follow.wait();
}
