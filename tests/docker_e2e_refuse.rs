//! Docker end-to-end: what swarm refuses as Docker does. A bind mount whose source is missing
//! fails its task with the engine's reason and is never created; a port another stack publishes
//! is refused at apply while the first stack keeps serving. Ports 23200-23299.

#[path = "daemon_support/mod.rs"]
mod daemon_support;
#[path = "docker_e2e_support/mod.rs"]
mod docker_e2e_support;
#[path = "docker_support/mod.rs"]
mod docker_support;

use docker_e2e_support::{Cluster, clean, docker_ok, http_get};

const SLEEPER: &str = r#"["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 1; done"]"#;

/// Removes a second stack's objects when the test ends, however it ends.
struct CleanOnDrop(&'static str);

impl Drop for CleanOnDrop {
    fn drop(&mut self) {
        clean(self.0);
    }
}

#[test]
fn a_missing_bind_source_fails_the_task_and_is_never_created() {
    let Some(cluster) = Cluster::start("e2ebindsrc") else {
        return;
    };
    let missing = cluster.dir.path().join("etc-pihole");
    cluster.apply(&format!(
        "services:\n  dns:\n    image: IMAGE\n    command: {SLEEPER}\n    stop_grace_period: 1s\n    volumes:\n      - {}:/etc/pihole\n",
        missing.display()
    ));
    let want = format!("bind source path does not exist: {}", missing.display());
    let stack = cluster.stack.clone();
    cluster.wait("the task to fail on its bind source", || {
        let rows = cluster.json(&["service", "ps", "dns", "--stack", &stack]);
        rows.as_array()?
            .iter()
            .any(|r| {
                r["state"] == "failed" && r["error"].as_str().is_some_and(|e| e.contains(&want))
            })
            .then_some(())
    });
    let table = cluster.ctl_ok(&["service", "ps", "dns", "--stack", &stack, "--no-trunc"]);
    assert!(table.contains(&want), "the ERROR column says why:\n{table}");
    assert!(!missing.exists(), "swarm never creates a bind source");
    assert!(cluster.containers(Some("dns")).is_empty(), "nothing runs");
}

#[test]
fn a_port_another_stack_publishes_is_refused_and_the_first_keeps_serving() {
    let other = CleanOnDrop("e2eportb");
    let Some(cluster) = Cluster::start("e2eporta") else {
        return;
    };
    let port = 23201;
    let web = |body: &str| {
        format!(
            "services:\n  web:\n    image: IMAGE\n    command: [\"sh\", \"-c\", \"mkdir -p /www && echo {body} > /www/index.html && exec httpd -f -p 8080 -h /www\"]\n    stop_grace_period: 1s\n    ports: [\"{port}:8080\"]\n"
        )
    };
    cluster.apply(&web("first"));
    cluster.wait_running("web", 1);
    let body = cluster.wait("the published port to answer", || http_get(port).ok());
    assert_eq!(body, "first");

    cluster.write("other.yml", &web("second").replace("IMAGE", &cluster.image));
    let out = cluster.ctl(&["apply", "--stack", other.0, "-f", "other.yml"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "refused: {stderr}");
    assert!(
        stderr.contains(&format!(
            "port {port} is already published by service e2eporta_web"
        )),
        "{stderr}"
    );
    let stacks = cluster.json(&["stack", "ls"]);
    assert!(
        !stacks.to_string().contains(other.0),
        "nothing of the refused stack is written: {stacks}"
    );
    let theirs = format!("label=com.docker.stack.namespace={}", other.0);
    assert_eq!(docker_ok(&["ps", "-aq", "--filter", &theirs]).trim(), "");
    assert_eq!(http_get(port).as_deref(), Ok("first"));
}
