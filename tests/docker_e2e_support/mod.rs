//! One swarm cluster on the real Docker engine per test: its own data dir, stack name and port
//! range, cleaned up by label even when the test fails.
//!
//! The tests of every docker_e2e binary take a lock first: each daemon registers this host under
//! the same hostname, so two agents on one engine would each see the other's containers as
//! theirs. One cluster at a time keeps every test's view of the engine its own.

#![allow(dead_code)]

use std::process::Output;
use std::time::Duration;

use serde_json::Value;

use crate::daemon_support::{Daemon, text};
pub use crate::docker_support::{docker, docker_available, docker_ok};

/// How long a cluster may take to converge after a change (image already built).
pub const CONVERGE: Duration = Duration::from_secs(90);

/// A running `swarmd up --runtime docker` with one stack to test.
pub struct Cluster {
    pub stack: String,
    /// The test image (built once per engine from the static busybox).
    pub image: String,
    pub dir: tempfile::TempDir,
    daemon: Option<Daemon>,
    _lock: std::fs::File,
}

impl Cluster {
    /// Starts a cluster for `stack`, or `None` when Docker tests are skipped on purpose.
    pub fn start(stack: &str) -> Option<Cluster> {
        if !docker_available() {
            return None;
        }
        let lock = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(std::env::temp_dir().join("swarm-docker-e2e.lock"))
            .expect("lock file");
        lock.lock().expect("lock the engine for this test");
        let image = crate::docker_support::test_image();
        clean(stack);
        let dir = tempfile::tempdir().expect("tempdir");
        let data = dir.path().join("data");
        std::fs::create_dir_all(&data).expect("data dir");
        let daemon = Daemon::up(&data, &["--runtime", "docker"]);
        Some(Cluster {
            stack: stack.to_owned(),
            image,
            dir,
            daemon: Some(daemon),
            _lock: lock,
        })
    }

    /// SIGTERM (a clean shutdown, whose exit status is checked), then `after_stop`, then a new
    /// daemon on the same data directory.
    pub fn restart(&mut self, after_stop: impl FnOnce(&Cluster)) {
        let daemon = self.daemon.take().expect("daemon running");
        let data = daemon.data_dir.clone();
        let status = daemon.terminate();
        assert!(status.success(), "clean exit on SIGTERM: {status}");
        after_stop(self);
        self.daemon = Some(Daemon::up(&data, &["--runtime", "docker"]));
    }

    /// The daemon.
    pub fn daemon(&self) -> &Daemon {
        self.daemon.as_ref().expect("daemon running")
    }

    /// Runs swarmctl in the test's directory.
    pub fn ctl(&self, args: &[&str]) -> Output {
        self.daemon().ctl(self.dir.path(), args)
    }

    /// Runs swarmctl, failing the test (with the daemon's log) unless it succeeds.
    pub fn ctl_ok(&self, args: &[&str]) -> String {
        let out = self.ctl(args);
        assert!(
            out.status.success(),
            "swarmctl {args:?}: {}{}\n--- swarmd log ---\n{}",
            text(&out.stdout),
            text(&out.stderr),
            self.log_tail()
        );
        text(&out.stdout)
    }

    /// swarmctl with `-o json`.
    pub fn json(&self, args: &[&str]) -> Value {
        self.daemon().json(self.dir.path(), args)
    }

    /// Writes `yaml` (with `IMAGE` replaced by the test image) and applies it as the stack.
    pub fn apply(&self, yaml: &str) {
        let file = self.dir.path().join("stack.yml");
        std::fs::write(&file, yaml.replace("IMAGE", &self.image)).expect("write stack");
        self.ctl_ok(&["apply", "--stack", &self.stack, "-f", "stack.yml"]);
    }

    /// Writes a file next to the stack file (secret or config sources).
    pub fn write(&self, name: &str, content: &str) {
        std::fs::write(self.dir.path().join(name), content).expect("write file");
    }

    /// The stack's tasks as `stack ps -o json` shows them.
    pub fn tasks(&self) -> Vec<Value> {
        let rows = self.json(&["stack", "ps", &self.stack]);
        rows.as_array().cloned().unwrap_or_default()
    }

    /// Tasks of `service` that are running and meant to.
    pub fn running(&self, service: &str) -> Vec<Value> {
        self.tasks()
            .into_iter()
            .filter(|t| t["service"] == service)
            .filter(|t| t["state"] == "running" && t["desired_state"] == "running")
            .collect()
    }

    /// Ids of the stack's running containers, optionally only `service`'s.
    pub fn containers(&self, service: Option<&str>) -> Vec<String> {
        let stack = format!("label=com.docker.stack.namespace={}", self.stack);
        let mut args = vec!["ps", "-q", "--no-trunc", "--filter", &stack];
        let by_service = service.map(|s| format!("label=swarm.service.name={s}"));
        if let Some(filter) = &by_service {
            args.extend(["--filter", filter]);
        }
        docker_ok(&args)
            .lines()
            .map(str::to_owned)
            .filter(|l| !l.is_empty())
            .collect()
    }

    /// Waits until `service` has `n` running tasks, each backed by a running container.
    pub fn wait_running(&self, service: &str, n: usize) -> Vec<Value> {
        self.wait(&format!("{n} running tasks of {service}"), || {
            let tasks = self.running(service);
            let containers = self.containers(Some(service));
            let backed = tasks.iter().all(|t| {
                t["container_id"].as_str().is_some_and(|id| {
                    containers
                        .iter()
                        .any(|c| c.starts_with(id) || id.starts_with(c.as_str()))
                })
            });
            (tasks.len() == n && containers.len() == n && backed).then_some(tasks)
        })
    }

    /// Polls `check` until it answers, failing with the tasks and the daemon log after
    /// [`CONVERGE`].
    pub fn wait<T>(&self, what: &str, mut check: impl FnMut() -> Option<T>) -> T {
        let deadline = std::time::Instant::now() + CONVERGE;
        loop {
            if let Some(value) = check() {
                return value;
            }
            if std::time::Instant::now() > deadline {
                panic!(
                    "timed out after {CONVERGE:?} waiting for {what}\n--- tasks ---\n{}\n--- swarmd log ---\n{}",
                    serde_json::to_string_pretty(&self.tasks()).unwrap_or_default(),
                    self.log_tail()
                );
            }
            std::thread::sleep(Duration::from_millis(250));
        }
    }

    /// The last lines of the daemon's log.
    pub fn log_tail(&self) -> String {
        let log = self.daemon.as_ref().map(Daemon::log).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(60)..].join("\n")
    }

    /// This node's hostname as the cluster knows it.
    pub fn hostname(&self) -> String {
        let nodes = self.json(&["node", "ls"]);
        nodes[0]["hostname"]
            .as_str()
            .expect("a node with a hostname")
            .to_owned()
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        // Stop the daemon first, or its agent would replace what is removed below.
        drop(self.daemon.take());
        clean(&self.stack);
    }
}

/// Removes every container, network and volume of `stack` (by label, and by Docker's
/// `<stack>_` name prefix for objects created without labels).
pub fn clean(stack: &str) {
    let label = format!("label=com.docker.stack.namespace={stack}");
    let prefix = format!("name={stack}_");
    for filter in [&label, &prefix] {
        let ids = text(&docker(&["ps", "-aq", "--filter", filter]).stdout);
        let ids: Vec<&str> = ids.split_whitespace().collect();
        if !ids.is_empty() {
            let mut args = vec!["rm", "-f", "-v"];
            args.extend(ids);
            let _ = docker(&args);
        }
    }
    for filter in [&label, &prefix] {
        let ids = text(&docker(&["network", "ls", "-q", "--filter", filter]).stdout);
        for id in ids.split_whitespace() {
            let _ = docker(&["network", "rm", id]);
        }
        let vols = text(&docker(&["volume", "ls", "-q", "--filter", filter]).stdout);
        for id in vols.split_whitespace() {
            let _ = docker(&["volume", "rm", "-f", id]);
        }
    }
}

/// One HTTP GET of `http://127.0.0.1:<port>/` with a short timeout: the body, or why not.
pub fn http_get(port: u16) -> Result<String, String> {
    use std::io::{Read, Write};
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    let mut stream = std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(2))
        .map_err(|e| format!("connect: {e}"))?;
    stream
        .set_read_timeout(Some(Duration::from_secs(3)))
        .map_err(|e| e.to_string())?;
    stream
        .write_all(b"GET / HTTP/1.0\r\nHost: localhost\r\n\r\n")
        .map_err(|e| format!("write: {e}"))?;
    let mut response = String::new();
    stream
        .read_to_string(&mut response)
        .map_err(|e| format!("read: {e}"))?;
    match response.split_once("\r\n\r\n") {
        Some((head, body)) if head.starts_with("HTTP/1.") && head.contains(" 200 ") => {
            Ok(body.trim().to_owned())
        }
        _ => Err(format!("bad response: {response:?}")),
    }
}
