//! Shared by the Docker tests: the busybox test image (built locally — there is no registry),
//! a per-test environment cleaned up by label even when the test fails, and a harness that
//! drives `Agent::run` with hand-built assignments.

#![allow(dead_code)]

use std::collections::HashMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;
use std::time::Duration;

use model::TaskStatus;
use swarm::agent::{Agent, DockerRuntime};
use tokio::sync::{mpsc, oneshot, watch};
use wire::{Assignments, TaskAssignment, TaskReport};

/// The image every Docker test runs: the static busybox with its applets, `/www` and users.
pub const TEST_IMAGE: &str = "swarm-test/busybox:latest";

/// Whether Docker tests run: `false` only with SWARM_SKIP_DOCKER_TESTS=1; a missing engine is a
/// failure that says what to do, never a silent pass.
pub fn docker_available() -> bool {
    if std::env::var("SWARM_SKIP_DOCKER_TESTS").as_deref() == Ok("1") {
        eprintln!("SKIPPED: SWARM_SKIP_DOCKER_TESTS=1");
        return false;
    }
    match Command::new("docker")
        .args(["info", "--format", "{{.ServerVersion}}"])
        .output()
    {
        Ok(out) if out.status.success() => true,
        Ok(out) => panic!(
            "the Docker engine does not answer (`docker info`: {}); start dockerd or set \
             SWARM_SKIP_DOCKER_TESTS=1 to skip the Docker tests",
            String::from_utf8_lossy(&out.stderr).trim()
        ),
        Err(e) => panic!(
            "the docker CLI cannot run ({e}); install Docker or set SWARM_SKIP_DOCKER_TESTS=1 \
             to skip the Docker tests"
        ),
    }
}

/// Runs `docker` with `args`.
pub fn docker(args: &[&str]) -> Output {
    Command::new("docker")
        .args(args)
        .output()
        .expect("the docker CLI runs")
}

/// Runs `docker`, failing the test on a non-zero exit; returns trimmed stdout.
pub fn docker_ok(args: &[&str]) -> String {
    let out = docker(args);
    assert!(
        out.status.success(),
        "docker {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// The test image, built once per engine (under a file lock: test binaries run in parallel).
pub fn test_image() -> String {
    static BUILT: OnceLock<()> = OnceLock::new();
    BUILT.get_or_init(|| {
        let lock = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(std::env::temp_dir().join("swarm-test-image.lock"))
            .expect("image lock file");
        lock.lock().expect("lock the image build");
        if !docker(&["image", "inspect", TEST_IMAGE]).status.success() {
            build_image();
        }
    });
    TEST_IMAGE.to_owned()
}

fn build_image() {
    let busybox = Path::new("/bin/busybox");
    assert!(
        busybox.exists(),
        "/bin/busybox is missing: `apt-get install -y busybox-static` (the test image is built from it)"
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    for d in [
        "bin", "etc", "www", "tmp", "root", "proc", "sys", "dev", "run",
    ] {
        std::fs::create_dir_all(root.join(d)).expect("rootfs dir");
    }
    std::fs::copy(busybox, root.join("bin/busybox")).expect("copy busybox");
    let list = Command::new(busybox)
        .arg("--list")
        .output()
        .expect("busybox --list");
    for applet in String::from_utf8_lossy(&list.stdout)
        .lines()
        .filter(|a| *a != "busybox")
    {
        let _ = std::os::unix::fs::symlink("busybox", root.join("bin").join(applet));
    }
    std::fs::write(
        root.join("etc/passwd"),
        "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/tmp:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n",
    )
    .expect("passwd");
    std::fs::write(
        root.join("etc/group"),
        "root:x:0:\napp:x:1000:\nnogroup:x:65534:\n",
    )
    .expect("group");
    std::fs::write(root.join("www/index.html"), "swarm test image\n").expect("index");
    // A file, not a pipe: simpler than juggling two children, and the rootfs is ~2 MB.
    let tarball = dir.path().with_extension("tar");
    let tar = Command::new("tar")
        .args(["-C", &root.display().to_string(), "-cf"])
        .arg(&tarball)
        .arg(".")
        .output()
        .expect("tar runs");
    assert!(
        tar.status.success(),
        "tar: {}",
        String::from_utf8_lossy(&tar.stderr)
    );
    let import = Command::new("docker")
        .args(["import", "--change", "CMD [\"sh\"]"])
        .arg(&tarball)
        .arg(TEST_IMAGE)
        .output()
        .expect("docker import runs");
    let _ = std::fs::remove_file(&tarball);
    assert!(
        import.status.success(),
        "docker import: {}",
        String::from_utf8_lossy(&import.stderr)
    );
}

/// One test's corner of the shared engine: a node id and stack nobody else uses, and a secrets
/// directory; everything carrying them is removed on drop, pass or fail.
pub struct TestEnv {
    pub node_id: String,
    pub stack: String,
    pub files_dir: PathBuf,
}

impl TestEnv {
    /// A fresh environment named after `test`.
    pub fn new(test: &str) -> TestEnv {
        static COUNTER: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let unique = format!("{}{}x{n}", test.replace(['_', '-'], ""), std::process::id());
        let env = TestEnv {
            node_id: format!("node-{unique}"),
            stack: format!("st{unique}"),
            files_dir: PathBuf::from(format!("/dev/shm/swarm-test-{unique}")),
        };
        env.clean();
        env
    }

    /// The Docker runtime of this test's agent.
    pub async fn runtime(&self) -> DockerRuntime {
        DockerRuntime::connect_with_files_dir(&self.files_dir)
            .await
            .expect("connect to the Docker engine")
    }

    /// A task `<service>.<slot>` of this test's stack running the test image.
    pub fn task(&self, service: &str, slot: u64) -> TaskAssignment {
        TaskAssignment::test(
            &format!("{}-{service}-{slot}", self.stack),
            service,
            TEST_IMAGE,
        )
        .in_stack(&self.stack)
        .slot(slot)
    }

    /// The container name the agent gives `task`.
    pub fn container_name(&self, task: &TaskAssignment) -> String {
        swarm::agent::names::container_name(task, &self.node_id)
    }

    /// Ids of this test's containers, running or not.
    pub fn containers(&self) -> Vec<String> {
        let filter = format!("label=swarm.node.id={}", self.node_id);
        docker_ok(&["ps", "-aq", "--filter", &filter])
            .lines()
            .map(str::to_owned)
            .collect()
    }

    fn clean(&self) {
        let ids = self.containers();
        if !ids.is_empty() {
            let mut args = vec!["rm", "-f", "-v"];
            args.extend(ids.iter().map(String::as_str));
            let _ = docker(&args);
        }
        let stack = format!("label=com.docker.stack.namespace={}", self.stack);
        for kind in ["network", "volume"] {
            let listed = docker(&[kind, "ls", "-q", "--filter", &stack]);
            for id in String::from_utf8_lossy(&listed.stdout).lines() {
                let _ = docker(&[kind, "rm", id]);
            }
        }
        let _ = std::fs::remove_dir_all(&self.files_dir);
    }
}

impl Drop for TestEnv {
    fn drop(&mut self) {
        self.clean();
    }
}

/// An `Agent::run` under test: feed it assignments, read what it reports.
pub struct AgentRun {
    assignments: watch::Sender<Assignments>,
    reports: mpsc::Receiver<Vec<TaskReport>>,
    /// Every report received so far, in order.
    pub seen: Vec<TaskReport>,
    stop: Option<oneshot::Sender<()>>,
    handle: tokio::task::JoinHandle<()>,
}

impl AgentRun {
    /// Starts an agent for `env` running `tasks`, serving ingress on `ingress` if given.
    pub async fn start(
        env: &TestEnv,
        tasks: Vec<TaskAssignment>,
        ingress: Option<IpAddr>,
    ) -> AgentRun {
        let agent = Agent::new(env.runtime().await, env.node_id.clone()).with_ingress(ingress);
        let tasks = tasks.into_iter().map(std::sync::Arc::new).collect();
        let (assignments, rx) = watch::channel(Assignments { index: 1, tasks });
        let (report_tx, reports) = mpsc::channel(64);
        let (stop, stopped) = oneshot::channel::<()>();
        let handle = tokio::spawn(agent.run(rx, report_tx, async {
            let _ = stopped.await;
        }));
        AgentRun {
            assignments,
            reports,
            seen: Vec::new(),
            stop: Some(stop),
            handle,
        }
    }

    /// Replaces the assignments.
    pub fn assign(&self, tasks: Vec<TaskAssignment>) {
        self.assignments.send_modify(|a| {
            a.index += 1;
            a.tasks = tasks.into_iter().map(std::sync::Arc::new).collect();
        });
    }

    /// Waits (up to `within`) for a report of `task_id` satisfying `want`; fails the test
    /// with everything reported so far otherwise.
    pub async fn wait_for(
        &mut self,
        task_id: &str,
        within: Duration,
        want: impl Fn(&TaskStatus) -> bool,
    ) -> TaskStatus {
        if let Some(r) = self
            .seen
            .iter()
            .find(|r| r.task_id == task_id && want(&r.status))
        {
            return r.status.clone();
        }
        let deadline = tokio::time::Instant::now() + within;
        loop {
            match tokio::time::timeout_at(deadline, self.reports.recv()).await {
                Ok(Some(batch)) => {
                    let hit = batch
                        .iter()
                        .find(|r| r.task_id == task_id && want(&r.status))
                        .map(|r| r.status.clone());
                    self.seen.extend(batch);
                    if let Some(status) = hit {
                        return status;
                    }
                }
                Ok(None) => panic!("the agent stopped; reports: {:#?}", self.history(task_id)),
                Err(_) => panic!(
                    "no matching report for {task_id} within {within:?}; reports: {:#?}",
                    self.history(task_id)
                ),
            }
        }
    }

    /// The states reported for `task_id`, in order.
    pub fn history(&self, task_id: &str) -> Vec<(model::TaskState, Option<String>)> {
        self.seen
            .iter()
            .filter(|r| r.task_id == task_id)
            .map(|r| (r.status.state, r.status.error.clone()))
            .collect()
    }

    /// Stops the agent (its containers keep running).
    pub async fn stop(mut self) -> Vec<TaskReport> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        tokio::time::timeout(Duration::from_secs(30), &mut self.handle)
            .await
            .expect("the agent stops within 30s")
            .expect("the agent does not panic");
        while let Ok(batch) = self.reports.try_recv() {
            self.seen.extend(batch);
        }
        self.seen
    }
}

/// Polls `check` until it returns `Some` or `within` passes (then fails with `what`).
pub async fn eventually<T>(
    within: Duration,
    what: &str,
    mut check: impl FnMut() -> Option<T>,
) -> T {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        if let Some(v) = check() {
            return v;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out after {within:?}: {what}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// `docker inspect` of one object as JSON.
pub fn inspect(id: &str) -> serde_json::Value {
    let out = docker_ok(&["inspect", id]);
    let all: Vec<serde_json::Value> = serde_json::from_str(&out).expect("inspect JSON");
    all.into_iter().next().expect("one object")
}

/// Labels of a container as a map.
pub fn labels(container: &serde_json::Value) -> HashMap<String, String> {
    serde_json::from_value(container["Config"]["Labels"].clone()).unwrap_or_default()
}

/// A TCP port nobody listens on now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}
