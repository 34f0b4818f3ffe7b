//! Docker end-to-end: `apply --wait` on a service that cannot start says why, as the engine
//! said it, and names the task by the id `ps` shows. Ports 23300-23399 (none used yet).

#[path = "daemon_support/mod.rs"]
mod daemon_support;
#[path = "docker_e2e_support/mod.rs"]
mod docker_e2e_support;
#[path = "docker_support/mod.rs"]
mod docker_support;

use daemon_support::text;
use docker_e2e_support::Cluster;

/// A service whose image is on no node; there is no registry to pull it from.
fn missing_image_stack(stack: &str, restart_policy: &str) -> String {
    format!(
        "services:\n  web:\n    image: swarm-e2e-missing-{stack}:nope\n    deploy:\n      restart_policy: {restart_policy}\n"
    )
}

/// `apply --wait` with `extra` flags: its exit status and stdout, and the stack's task ids.
fn apply_wait(cluster: &Cluster, yaml: &str, extra: &[&str]) -> (Option<i32>, String, Vec<String>) {
    cluster.write("stack.yml", yaml);
    let mut args = vec![
        "apply",
        "--stack",
        &cluster.stack,
        "-f",
        "stack.yml",
        "--wait",
    ];
    args.extend(extra);
    let out = cluster.ctl(&args);
    let stdout = text(&out.stdout);
    eprintln!("swarmctl {args:?}:\n{stdout}{}", text(&out.stderr));
    let ids = cluster
        .tasks()
        .iter()
        .filter_map(|t| t["id"].as_str().map(str::to_owned))
        .collect();
    (out.status.code(), stdout, ids)
}

/// The first line of `stdout` that `wanted` accepts, which must name one of the stack's tasks
/// (`web.1 (<id>) failed: `) and the engine's error about the missing image.
fn line_naming_the_failure<'a>(
    cluster: &Cluster,
    stdout: &'a str,
    ids: &[String],
    wanted: impl Fn(&str) -> bool,
) -> &'a str {
    let line = stdout
        .lines()
        .find(|l| wanted(l))
        .unwrap_or_else(|| panic!("no such line in:\n{stdout}"));
    let engine = format!(
        "image swarm-e2e-missing-{}:nope is not on this node and could not be pulled",
        cluster.stack
    );
    assert!(line.contains(&engine), "the engine's error: {line}");
    assert!(
        ids.iter()
            .any(|id| line.contains(&format!("task web.1 ({id}) failed: "))),
        "a task id `ps` shows ({ids:?}) in: {line}"
    );
    line
}

#[test]
fn apply_wait_gives_up_with_the_engines_error_and_the_task_id() {
    let Some(cluster) = Cluster::start("e2ewaitimg") else {
        return;
    };
    let yaml = missing_image_stack(
        &cluster.stack,
        "{condition: on-failure, delay: 0s, max_attempts: 2}",
    );
    let (code, stdout, ids) = apply_wait(&cluster, &yaml, &["--timeout", "60s"]);
    assert_eq!(code, Some(1), "{stdout}");
    let verdict = line_naming_the_failure(&cluster, &stdout, &ids, |l| {
        l.starts_with("stack e2ewaitimg did not converge: web: ")
    });
    assert!(
        verdict.contains("restart attempts exhausted (max_attempts 2) after task web.1 ("),
        "{verdict}"
    );
    assert_eq!(ids.len(), 3, "the first attempt and 2 restarts: {ids:?}");
}

#[test]
fn apply_wait_times_out_showing_why_the_restarts_fail() {
    let Some(cluster) = Cluster::start("e2ewaitslow") else {
        return;
    };
    // Unlimited restarts (max_attempts 0, as in Docker): --wait does not give up before the
    // cluster does, and times out showing the held replacement with the failed task's error.
    let yaml = missing_image_stack(
        &cluster.stack,
        "{condition: any, delay: 2s, max_attempts: 0}",
    );
    let (code, stdout, ids) = apply_wait(&cluster, &yaml, &["--timeout", "8s"]);
    assert_eq!(code, Some(1), "{stdout}");
    assert!(
        stdout.contains("stack e2ewaitslow did not converge: timed out after 8s"),
        "{stdout}"
    );
    line_naming_the_failure(&cluster, &stdout, &ids, |l| {
        l.contains("web.1: restart ") && l.contains("delayed 2s by the restart policy, after task")
    });
    assert!(ids.len() >= 2, "restarted at least once: {ids:?}");
}

#[test]
fn apply_wait_on_a_scale_down_is_done_once_the_extra_tasks_stopped() {
    let Some(cluster) = Cluster::start("e2ewaitscale") else {
        return;
    };
    let stack = |replicas: u32| {
        format!(
            r#"services:
  web:
    image: {}
    command: ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 1; done"]
    stop_grace_period: 1s
    deploy:
      replicas: {replicas}
"#,
            cluster.image
        )
    };
    let (code, stdout, _) = apply_wait(&cluster, &stack(3), &["--timeout", "60s"]);
    assert_eq!(code, Some(0), "{stdout}");
    assert!(stdout.contains("web  3/3 running  done"), "{stdout}");
    let (code, stdout, _) = apply_wait(&cluster, &stack(1), &["--timeout", "60s"]);
    assert_eq!(code, Some(0), "{stdout}");
    let progress: Vec<&str> = stdout.lines().filter(|l| l.starts_with("web  ")).collect();
    assert!(
        progress.iter().all(|l| l.starts_with("web  1/1 running")),
        "the desired count is 1 throughout: {progress:?}"
    );
    assert_eq!(progress.last(), Some(&"web  1/1 running  done"), "{stdout}");
    assert_eq!(
        cluster.containers(Some("web")).len(),
        1,
        "done only once the scaled-away containers stopped"
    );
}
