//! Docker end-to-end: rolling updates keep a published port answering, and a failing health
//! check after an update rolls the service back. Ports 23100-23199.

#[path = "daemon_support/mod.rs"]
mod daemon_support;
#[path = "docker_e2e_support/mod.rs"]
mod docker_e2e_support;
#[path = "docker_support/mod.rs"]
mod docker_support;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use docker_e2e_support::{Cluster, http_get};

/// A web service answering `body`, replicated twice behind `port`, updated one task at a time.
fn stack(body: &str, port: u16, healthy: bool, extra_update: &str) -> String {
    let health_file = if healthy { "touch /healthy && " } else { "" };
    format!(
        r#"services:
  web:
    image: IMAGE
    command: ["sh", "-c", "mkdir -p /www && echo {body} > /www/index.html && {health_file}exec httpd -f -p 8080 -h /www"]
    stop_grace_period: 1s
    ports: ["{port}:8080"]
    healthcheck:
      test: ["CMD-SHELL", "test -f /healthy"]
      interval: 1s
      timeout: 1s
      retries: 2
      start_period: 0s
    deploy:
      replicas: 2
      update_config:
        parallelism: 1
        delay: 1s
        order: start-first
{extra_update}"#
    )
}

fn update_state(cluster: &Cluster) -> Option<String> {
    let services = cluster.json(&["service", "ls", "--stack", &cluster.stack]);
    services.as_array()?.iter().find(|s| s["name"] == "web")?["update_state"]
        .as_str()
        .map(str::to_owned)
}

#[test]
fn a_start_first_rolling_update_keeps_the_port_answering() {
    let Some(cluster) = Cluster::start("e2eroll") else {
        return;
    };
    let port = 23101;
    cluster.apply(&stack("v1", port, true, ""));
    let before = cluster.wait_running("web", 2);
    cluster.wait("v1 on the published port", || {
        (http_get(port).ok()? == "v1").then_some(())
    });

    // Poll the port for the whole update, from another thread.
    let done = Arc::new(AtomicBool::new(false));
    let poller = {
        let done = done.clone();
        std::thread::spawn(move || {
            let (mut ok, mut failures) = (0u32, Vec::new());
            while !done.load(Ordering::Relaxed) {
                match http_get(port) {
                    Ok(_) => ok += 1,
                    Err(err) => failures.push(err),
                }
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
            (ok, failures)
        })
    };
    cluster.apply(&stack("v2", port, true, ""));
    cluster.wait("the update to complete with 2 new tasks serving v2", || {
        let running = cluster.wait_running("web", 2);
        let replaced = running
            .iter()
            .all(|t| before.iter().all(|b| b["id"] != t["id"]));
        let completed = update_state(&cluster).as_deref() == Some("completed");
        (replaced && completed && http_get(port).ok()? == "v2").then_some(())
    });
    done.store(true, Ordering::Relaxed);
    let (ok, failures) = poller.join().expect("poller");
    assert!(ok > 0, "the port was polled during the update");
    assert!(
        failures.is_empty(),
        "{} of {} requests failed during a start-first update: {failures:?}",
        failures.len(),
        ok as usize + failures.len()
    );
}

#[test]
fn an_update_that_fails_its_health_check_rolls_back() {
    let Some(cluster) = Cluster::start("e2erollback") else {
        return;
    };
    let port = 23111;
    let rollback =
        "        failure_action: rollback\n        monitor: 5s\n        max_failure_ratio: 0\n";
    cluster.apply(&stack("v1", port, true, rollback));
    cluster.wait_running("web", 2);
    cluster.wait("v1 on the published port", || {
        (http_get(port).ok()? == "v1").then_some(())
    });
    cluster.apply(&stack("v2", port, false, rollback));
    cluster.wait("the automatic rollback to complete", || {
        (update_state(&cluster).as_deref() == Some("rollback_completed")).then_some(())
    });
    cluster.wait_running("web", 2);
    cluster.wait("v1 served again", || {
        (http_get(port).ok()? == "v1").then_some(())
    });
    let inspect = cluster.json(&["service", "inspect", "web", "--stack", &cluster.stack]);
    let command = inspect["spec"]["command"].to_string();
    assert!(command.contains("echo v1"), "spec rolled back: {command}");
}
