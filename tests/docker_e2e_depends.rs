//! Docker end-to-end: `depends_on` is start ordering. No container of a dependent exists before
//! its dependency is healthy, the waiting task says what it waits for, and it runs afterwards.
//! Ports 23400-23499 (none used yet).

#[path = "daemon_support/mod.rs"]
mod daemon_support;
#[path = "docker_e2e_support/mod.rs"]
mod docker_e2e_support;
#[path = "docker_support/mod.rs"]
mod docker_support;

use std::io::Read;
use std::process::{Command, Stdio};

use docker_e2e_support::{Cluster, docker_ok};

/// `db` turns healthy only ~3 s after it starts; `api` waits for that.
const STACK: &str = r#"services:
  db:
    image: IMAGE
    command: ["sh", "-c", "trap 'exit 0' TERM; (sleep 3; touch /tmp/ready) & while true; do sleep 1; done"]
    stop_grace_period: 1s
    healthcheck:
      test: ["CMD", "test", "-f", "/tmp/ready"]
      interval: 1s
  api:
    image: IMAGE
    command: ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 1; done"]
    stop_grace_period: 1s
    depends_on:
      db:
        condition: service_healthy
    deploy:
      replicas: 2
"#;

/// The engine's events for the stack, from now on: (nanoseconds, action, service name).
struct Events(std::process::Child);

impl Events {
    fn follow(stack: &str) -> Events {
        // From now, replayed: the subscription may start after the first events.
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("clock");
        let since = format!("{}.{:09}", now.as_secs(), now.subsec_nanos());
        let child = Command::new("docker")
            .args([
                "events",
                "--since",
                &since,
                "--filter",
                &format!("label=com.docker.stack.namespace={stack}"),
                "--format",
                r#"{{.TimeNano}}|{{.Action}}|{{index .Actor.Attributes "swarm.service.name"}}"#,
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("docker events");
        Events(child)
    }

    /// Stops following and returns what was seen.
    fn collect(mut self) -> Vec<(u128, String, String)> {
        let _ = self.0.kill();
        let mut out = String::new();
        if let Some(mut stdout) = self.0.stdout.take() {
            let _ = stdout.read_to_string(&mut out);
        }
        let _ = self.0.wait();
        out.lines()
            .filter_map(|line| {
                let mut parts = line.splitn(3, '|');
                let at = parts.next()?.parse().ok()?;
                Some((at, parts.next()?.to_owned(), parts.next()?.to_owned()))
            })
            .collect()
    }
}

/// `healthy`, `starting`, ... of the stack's `db` container, or `none`.
fn db_health(cluster: &Cluster) -> String {
    match cluster.containers(Some("db")).first() {
        Some(id) => docker_ok(&["inspect", "-f", "{{.State.Health.Status}}", id])
            .trim()
            .to_owned(),
        None => "none".to_owned(),
    }
}

/// Every `api` container, running or not.
fn api_containers(cluster: &Cluster) -> Vec<String> {
    let stack = format!("label=com.docker.stack.namespace={}", cluster.stack);
    docker_ok(&[
        "ps",
        "-aq",
        "--filter",
        &stack,
        "--filter",
        "label=swarm.service.name=api",
    ])
    .lines()
    .filter(|l| !l.is_empty())
    .map(str::to_owned)
    .collect()
}

#[test]
fn api_starts_only_once_db_is_healthy() {
    let Some(cluster) = Cluster::start("e2edepends") else {
        return;
    };
    let events = Events::follow(&cluster.stack);
    cluster.apply(STACK);

    // While db is not healthy, no api container exists, and api's tasks say why. The api
    // containers are listed before db's health is read: a container seen with db not healthy
    // afterwards was certainly created too early.
    let mut reason_seen = false;
    cluster.wait("db healthy", || {
        let api = api_containers(&cluster);
        let health = db_health(&cluster);
        if health == "healthy" {
            return Some(());
        }
        assert!(
            api.is_empty(),
            "api container {api:?} exists while db is {health}"
        );
        reason_seen |= cluster.tasks().iter().any(|t| {
            t["service"] == "api"
                && t["state"] == "pending"
                && t["error"] == "waiting for dependency db (service_healthy): 0/1 healthy"
        });
        None
    });
    assert!(reason_seen, "the waiting api tasks name their dependency");
    cluster.wait_running("api", 2);

    // The engine's own clock: both api containers were created after db turned healthy.
    let seen = events.collect();
    let healthy = seen
        .iter()
        .find(|(_, action, service)| service == "db" && action == "health_status: healthy")
        .map(|(at, ..)| *at)
        .unwrap_or_else(|| panic!("no healthy event of db: {seen:?}"));
    let created: Vec<u128> = seen
        .iter()
        .filter(|(_, action, service)| service == "api" && action == "create")
        .map(|(at, ..)| *at)
        .collect();
    assert_eq!(created.len(), 2, "{seen:?}");
    assert!(
        created.iter().all(|at| *at > healthy),
        "api created at {created:?}, db healthy at {healthy}"
    );
}
