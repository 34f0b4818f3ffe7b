//! The agent against the real Docker engine: `Agent::run` driven directly with hand-built
//! assignments (no manager). Every test has its own node id, stack and ports, and cleans up by
//! label even when it fails.

#[path = "docker_support/mod.rs"]
mod docker_support;

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use docker_support::{
    AgentRun, TestEnv, docker_ok, eventually, free_port, inspect, labels, test_image,
};
use model::service::{
    Deploy, FileRef, Healthcheck, Mount, MountType, PortConfig, PortMode, ResourceLimits,
    Resources, VolumeOptions,
};
use model::units::{ByteSize, Cpus, Duration as SpecDuration, FileMode};
use model::{NetworkSpec, TaskState, TaskStatus};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use wire::{FileData, NetworkAttachment, TaskAssignment};

/// Time a container may take to get from assigned to running on this engine.
const START: Duration = Duration::from_secs(30);

/// Exits promptly on SIGTERM (a bare `sleep` as PID 1 would not).
fn sleeper() -> Vec<String> {
    [
        "sh",
        "-c",
        "trap 'exit 0' TERM; while true; do sleep 1; done",
    ]
    .map(String::from)
    .to_vec()
}

fn running(s: &TaskStatus) -> bool {
    s.state == TaskState::Running
}

fn setup(test: &str) -> Option<TestEnv> {
    if !docker_support::docker_available() {
        return None;
    }
    test_image();
    Some(TestEnv::new(test))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_task_runs_in_a_container_shaped_by_its_spec() {
    let Some(env) = setup("shape") else { return };
    let mut task = env.task("web", 1);
    let volume = format!("{}_data", env.stack);
    let s = task.spec_mut();
    s.command = Some(sleeper());
    s.environment = BTreeMap::from([("GREETING".into(), Some("hello".into()))]);
    s.working_dir = Some("/tmp".into());
    s.hostname = Some("web-one".into());
    s.labels = BTreeMap::from([("team".into(), "blue".into())]);
    s.stop_grace_period = Some(SpecDuration::from_secs(2));
    s.volumes = vec![
        Mount {
            kind: MountType::Volume,
            source: Some(volume.clone()),
            target: "/data".into(),
            // As the loader fills it from a top-level `volumes:` declaration.
            volume: Some(VolumeOptions {
                driver: Some("local".into()),
                driver_opts: BTreeMap::from([
                    ("type".into(), "tmpfs".into()),
                    ("device".into(), "tmpfs".into()),
                    ("o".into(), "size=1m".into()),
                ]),
                labels: BTreeMap::from([("tier".into(), "data".into())]),
                ..VolumeOptions::default()
            }),
            ..Mount::default()
        },
        Mount {
            kind: MountType::Tmpfs,
            target: "/scratch".into(),
            ..Mount::default()
        },
    ];
    s.deploy = Some(Deploy {
        resources: Resources {
            limits: Some(ResourceLimits {
                cpus: Some(Cpus(0.5)),
                memory: Some(ByteSize(64 << 20)),
                pids: Some(64),
            }),
            ..Resources::default()
        },
        ..Deploy::default()
    });
    let mut agent = AgentRun::start(&env, vec![task.clone()], None).await;
    let status = agent.wait_for(&task.task_id, START, running).await;

    let states: Vec<TaskState> = agent
        .history(&task.task_id)
        .into_iter()
        .map(|(s, _)| s)
        .collect();
    assert_eq!(
        states,
        [
            TaskState::Accepted,
            TaskState::Preparing,
            TaskState::Starting,
            TaskState::Running
        ],
        "states are reported forward, one at a time"
    );
    let c = inspect(&env.container_name(&task));
    assert_eq!(c["Id"].as_str(), status.container_id.as_deref());
    assert_eq!(
        c["Name"].as_str(),
        Some(format!("/{}_web.1.{}", env.stack, task.task_id).as_str())
    );
    let l = labels(&c);
    assert_eq!(l["swarm.task.id"], task.task_id);
    assert_eq!(l["swarm.service.id"], task.service_id);
    assert_eq!(l["swarm.service.name"], "web");
    assert_eq!(l["swarm.stack"], env.stack);
    assert_eq!(l["com.docker.stack.namespace"], env.stack);
    assert_eq!(l["swarm.node.id"], env.node_id);
    assert_eq!(l["team"], "blue");
    let envs: Vec<&str> = c["Config"]["Env"]
        .as_array()
        .expect("env")
        .iter()
        .filter_map(|v| v.as_str())
        .collect();
    assert!(envs.contains(&"GREETING=hello"), "{envs:?}");
    assert_eq!(c["Config"]["WorkingDir"], "/tmp");
    assert_eq!(c["Config"]["Hostname"], "web-one");
    assert_eq!(c["Config"]["StopTimeout"], 2);
    assert_eq!(c["HostConfig"]["Memory"], 64 << 20);
    assert_eq!(c["HostConfig"]["NanoCpus"], 500_000_000);
    assert_eq!(c["HostConfig"]["PidsLimit"], 64);
    assert_eq!(c["HostConfig"]["RestartPolicy"]["Name"], "no");
    let mounts = c["Mounts"].as_array().expect("mounts");
    assert!(
        mounts.iter().any(|m| m["Type"] == "volume"
            && m["Name"] == volume.as_str()
            && m["Destination"] == "/data"),
        "{mounts:?}"
    );
    assert!(
        mounts
            .iter()
            .any(|m| m["Type"] == "tmpfs" && m["Destination"] == "/scratch"),
        "{mounts:?}"
    );
    let vol = inspect(&volume);
    assert_eq!(
        vol["Labels"]["swarm.owned"], "true",
        "the volume was created by the agent"
    );
    assert_eq!(vol["Labels"]["tier"], "data");
    assert_eq!(vol["Driver"], "local");
    assert_eq!(
        vol["Options"]["type"], "tmpfs",
        "driver options reach the engine"
    );
    assert_eq!(vol["Options"]["o"], "size=1m");
    agent.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_external_volume_fails_the_task_and_is_not_created() {
    let Some(env) = setup("extvol") else { return };
    let mut task = env.task("db", 1);
    let volume = format!("{}_outside", env.stack);
    task.spec_mut().command = Some(sleeper());
    task.spec_mut().volumes = vec![Mount {
        kind: MountType::Volume,
        source: Some(volume.clone()),
        target: "/data".into(),
        volume: Some(VolumeOptions {
            external: true,
            ..VolumeOptions::default()
        }),
        ..Mount::default()
    }];
    let mut agent = AgentRun::start(&env, vec![task.clone()], None).await;
    let failed = agent
        .wait_for(&task.task_id, START, |s| s.state == TaskState::Failed)
        .await;
    let error = failed.error.unwrap_or_default();
    assert_eq!(
        error,
        format!(
            "external volume {volume} does not exist on this node: create it (docker volume create {volume}) or drop `external: true`"
        )
    );
    assert!(
        !docker_support::docker(&["volume", "inspect", &volume])
            .status
            .success(),
        "an external volume is never created"
    );
    agent.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_health_check_gates_running() {
    let Some(env) = setup("healthy") else { return };
    let mut task = env.task("api", 1);
    task.spec_mut().command = Some(
        [
            "sh",
            "-c",
            "trap 'exit 0' TERM; sleep 2; touch /tmp/ready; while true; do sleep 1; done",
        ]
        .map(String::from)
        .to_vec(),
    );
    task.spec_mut().healthcheck = Some(Healthcheck {
        test: vec!["CMD-SHELL".into(), "test -f /tmp/ready".into()],
        interval: Some(SpecDuration::from_millis(300)),
        retries: Some(30),
        ..Healthcheck::default()
    });
    let mut agent = AgentRun::start(&env, vec![task.clone()], None).await;
    agent
        .wait_for(&task.task_id, START, |s| s.state == TaskState::Starting)
        .await;
    let starting = Instant::now();
    agent.wait_for(&task.task_id, START, running).await;
    assert!(
        starting.elapsed() >= Duration::from_millis(1500),
        "RUNNING came {:?} after STARTING, before the check could pass",
        starting.elapsed()
    );
    let c = inspect(&env.container_name(&task));
    assert_eq!(c["State"]["Health"]["Status"], "healthy");
    agent.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unhealthy_container_fails_its_task_with_the_health_log() {
    let Some(env) = setup("unhealthy") else {
        return;
    };
    let mut task = env.task("api", 1);
    task.spec_mut().command = Some(sleeper());
    task.spec_mut().stop_grace_period = Some(SpecDuration::from_secs(1));
    task.spec_mut().healthcheck = Some(Healthcheck {
        test: vec![
            "CMD-SHELL".into(),
            "echo database unreachable; exit 1".into(),
        ],
        interval: Some(SpecDuration::from_millis(200)),
        retries: Some(2),
        ..Healthcheck::default()
    });
    let mut agent = AgentRun::start(&env, vec![task.clone()], None).await;
    let failed = agent
        .wait_for(&task.task_id, START, |s| s.state == TaskState::Failed)
        .await;
    let error = failed.error.unwrap_or_default();
    assert!(
        error.contains("unhealthy") && error.contains("database unreachable"),
        "{error}"
    );
    assert!(
        !agent
            .history(&task.task_id)
            .iter()
            .any(|(s, _)| *s == TaskState::Running)
    );
    let name = env.container_name(&task);
    eventually(
        Duration::from_secs(15),
        "the unhealthy container is stopped",
        || (inspect(&name)["State"]["Running"] == false).then_some(()),
    )
    .await;
    agent.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn docker_kill_and_rm_outside_swarm_are_reported_within_two_seconds() {
    let Some(env) = setup("kill") else { return };
    let mut killed = env.task("web", 1);
    killed.spec_mut().command = Some(sleeper());
    let mut removed = env.task("web", 2);
    removed.spec_mut().command = Some(sleeper());
    let mut agent = AgentRun::start(&env, vec![killed.clone(), removed.clone()], None).await;
    agent.wait_for(&killed.task_id, START, running).await;
    agent.wait_for(&removed.task_id, START, running).await;

    docker_ok(&["kill", &env.container_name(&killed)]);
    let t0 = Instant::now();
    let failed = agent
        .wait_for(&killed.task_id, Duration::from_secs(2), |s| {
            s.state == TaskState::Failed
        })
        .await;
    eprintln!("docker kill reported after {:?}", t0.elapsed());
    assert_eq!(failed.exit_code, Some(137));
    assert_eq!(failed.error.as_deref(), Some("task: non-zero exit (137)"));

    // `rm -f` kills first: the engine reports the exit (137) before the removal.
    docker_ok(&["rm", "-f", &env.container_name(&removed)]);
    let failed = agent
        .wait_for(&removed.task_id, Duration::from_secs(2), |s| {
            s.state == TaskState::Failed
        })
        .await;
    let error = failed.error.unwrap_or_default();
    assert!(
        error == "task: non-zero exit (137)" || error == "container removed outside swarm",
        "{error}"
    );
    agent.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn desired_shutdown_stops_with_the_stop_signal_then_removes() {
    let Some(env) = setup("shutdown") else { return };
    let mut task = env.task("worker", 1);
    // Exits 3 on SIGUSR1 only: the exit code proves which signal stopped it.
    task.spec_mut().command = Some(
        [
            "sh",
            "-c",
            "trap 'exit 3' USR1; while true; do sleep 1; done",
        ]
        .map(String::from)
        .to_vec(),
    );
    task.spec_mut().stop_signal = Some("SIGUSR1".into());
    task.spec_mut().stop_grace_period = Some(SpecDuration::from_secs(20));
    let mut agent = AgentRun::start(&env, vec![task.clone()], None).await;
    agent.wait_for(&task.task_id, START, running).await;

    let t0 = Instant::now();
    agent.assign(vec![task.clone().desired(TaskState::Shutdown)]);
    let done = agent
        .wait_for(&task.task_id, START, |s| s.state == TaskState::Shutdown)
        .await;
    assert_eq!(done.exit_code, Some(3), "stopped by its stop_signal");
    assert!(
        t0.elapsed() < Duration::from_secs(15),
        "did not wait out the grace period"
    );
    eventually(Duration::from_secs(10), "the container is removed", || {
        env.containers().is_empty().then_some(())
    })
    .await;
    agent.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_agent_adopts_assigned_containers_and_removes_unassigned_ones() {
    let Some(env) = setup("adopt") else { return };
    let [mut kept, mut dropped, mut gone] = [1, 2, 3].map(|slot| {
        let mut t = env.task("web", slot);
        t.spec_mut().command = Some(sleeper());
        t.spec_mut().stop_grace_period = Some(SpecDuration::from_secs(1));
        t
    });
    let all = vec![kept.clone(), dropped.clone(), gone.clone()];
    let mut agent = AgentRun::start(&env, all, None).await;
    let first = agent.wait_for(&kept.task_id, START, running).await;
    let other = agent.wait_for(&dropped.task_id, START, running).await;
    let third = agent.wait_for(&gone.task_id, START, running).await;
    agent.stop().await;
    let started_at = inspect(&env.container_name(&kept))["State"]["StartedAt"].clone();
    // Removed while no agent watched: only the next agent can notice.
    docker_ok(&["rm", "-f", &env.container_name(&gone)]);

    // The manager recorded RUNNING; the new agent no longer gets `dropped`.
    kept.status = first.clone();
    gone.status = third;
    dropped.status = other.clone();
    let mut agent = AgentRun::start(&env, vec![kept.clone(), gone.clone()], None).await;
    let failed = agent
        .wait_for(&gone.task_id, START, |s| s.state == TaskState::Failed)
        .await;
    assert_eq!(
        failed.error.as_deref(),
        Some("container removed outside swarm")
    );
    let dropped_id = other.container_id.expect("container id");
    eventually(
        Duration::from_secs(20),
        "the unassigned container is removed",
        || (!env.containers().contains(&dropped_id[..12].to_string())).then_some(()),
    )
    .await;
    let c = inspect(&env.container_name(&kept));
    assert_eq!(
        c["Id"].as_str(),
        first.container_id.as_deref(),
        "same container"
    );
    assert_eq!(c["State"]["StartedAt"], started_at, "not restarted");
    assert_eq!(c["State"]["Running"], true);
    let reports = agent.stop().await;
    assert!(
        reports
            .iter()
            .all(|r| r.task_id != kept.task_id || r.status.state >= TaskState::Running),
        "never reports below the recorded RUNNING: {reports:?}"
    );
}

fn file(name: &str, content: &str) -> FileData {
    FileData {
        reference: FileRef::new(name),
        name: name.into(),
        content_hash: format!("{:016x}", content.len() * 7919),
        content: content.into(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_and_configs_are_files_with_their_mode_and_owner() {
    let Some(env) = setup("secrets") else { return };
    let mut task = env.task("db", 1);
    task.spec_mut().command = Some(sleeper());
    task.spec_mut().stop_grace_period = Some(SpecDuration::from_secs(1));
    let mut secret = file("db_password", "s3cret!");
    secret.reference.uid = Some("1000".into());
    secret.reference.gid = Some("1000".into());
    secret.reference.mode = Some(FileMode(0o400));
    let mut config = file("app.conf", "port=8080\n");
    config.reference.target = Some("/etc/app.conf".into());
    task.secrets = vec![secret];
    task.configs = vec![config, file("plain", "x")];
    let mut agent = AgentRun::start(&env, vec![task.clone()], None).await;
    agent.wait_for(&task.task_id, START, running).await;
    let name = env.container_name(&task);
    let exec = |cmd: &str| docker_ok(&["exec", &name, "sh", "-c", cmd]);
    assert_eq!(exec("cat /run/secrets/db_password"), "s3cret!");
    assert_eq!(
        exec("stat -c '%a %u %g' /run/secrets/db_password"),
        "400 1000 1000"
    );
    assert_eq!(exec("cat /etc/app.conf"), "port=8080");
    assert_eq!(exec("stat -c '%a %u %g' /etc/app.conf"), "444 0 0");
    assert_eq!(exec("cat /plain"), "x");
    assert!(exec("touch /run/secrets/db_password 2>&1 || echo read-only").contains("read-only"));
    let on_host = env.files_dir.join(&task.task_id);
    assert!(on_host.exists(), "files live under the tmpfs directory");

    agent.assign(vec![task.clone().desired(TaskState::Shutdown)]);
    agent
        .wait_for(&task.task_id, START, |s| s.state == TaskState::Shutdown)
        .await;
    eventually(
        Duration::from_secs(10),
        "the task's files are removed",
        || (!on_host.exists()).then_some(()),
    )
    .await;
    agent.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_image_fails_the_task_with_a_clear_error() {
    let Some(env) = setup("noimage") else { return };
    let mut task = env.task("web", 1);
    task.spec_mut().image = Some(format!("swarm-demo/{}:latest", env.stack));
    let mut agent = AgentRun::start(&env, vec![task.clone()], None).await;
    let failed = agent
        .wait_for(&task.task_id, START, |s| s.state == TaskState::Failed)
        .await;
    let error = failed.error.unwrap_or_default();
    let expected = format!(
        "image swarm-demo/{}:latest is not on this node and could not be pulled: ",
        env.stack
    );
    assert!(error.starts_with(&expected), "{error}");
    assert!(error.ends_with("build or load it on every node"), "{error}");
    agent.stop().await;
}

async fn http_body(port: u16) -> Option<String> {
    let mut s = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .ok()?;
    s.write_all(b"GET / HTTP/1.0\r\nHost: test\r\n\r\n")
        .await
        .ok()?;
    let mut out = String::new();
    tokio::time::timeout(Duration::from_secs(5), s.read_to_string(&mut out))
        .await
        .ok()?
        .ok()?;
    let body = out.split("\r\n\r\n").nth(1)?.trim().to_string();
    (out.starts_with("HTTP/1.") && out.contains(" 200 ") && !body.is_empty()).then_some(body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ingress_balances_a_published_port_over_the_running_tasks() {
    let Some(env) = setup("ingress") else { return };
    let port = free_port();
    let network = NetworkAttachment {
        key: "front".into(),
        docker_name: format!("{}_front", env.stack),
        spec: NetworkSpec::default(),
        aliases: vec!["web".into(), format!("{}_web", env.stack)],
    };
    let tasks: Vec<TaskAssignment> = (1..=3)
        .map(|slot| {
            let mut t = env.task("web", slot);
            t.spec_mut().command = Some(
                [
                    "sh",
                    "-c",
                    "hostname > /www/index.html && exec httpd -f -p 8080 -h /www",
                ]
                .map(String::from)
                .to_vec(),
            );
            t.spec_mut().stop_grace_period = Some(SpecDuration::from_secs(1));
            t.spec_mut().ports = vec![PortConfig {
                target: 8080,
                published: Some(port),
                mode: PortMode::Ingress,
                ..PortConfig::default()
            }];
            t.networks = vec![network.clone()];
            t
        })
        .collect();
    let mut agent = AgentRun::start(&env, tasks.clone(), Some([127, 0, 0, 1].into())).await;
    for t in &tasks {
        agent.wait_for(&t.task_id, START, running).await;
    }
    let net = inspect(&network.docker_name);
    assert_eq!(net["Driver"], "bridge");
    assert_eq!(net["Labels"]["swarm.owned"], "true");

    let mut seen = BTreeSet::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    while seen.len() < 2 {
        assert!(
            Instant::now() < deadline,
            "only {seen:?} answered on port {port}"
        );
        if let Some(body) = http_body(port).await {
            seen.insert(body);
        }
    }

    // Two tasks leave: the port keeps answering from the one left.
    agent.assign(vec![tasks[0].clone()]);
    let hostname = inspect(&env.container_name(&tasks[0]))["Config"]["Hostname"]
        .as_str()
        .expect("hostname")
        .to_string();
    eventually(
        Duration::from_secs(20),
        "the removed tasks' containers are gone",
        || (env.containers().len() == 1).then_some(()),
    )
    .await;
    for _ in 0..5 {
        assert_eq!(http_body(port).await.as_deref(), Some(hostname.as_str()));
    }

    // The last one leaves: the listener closes, the network goes.
    agent.assign(vec![]);
    let name = network.docker_name.clone();
    eventually(
        Duration::from_secs(20),
        "the unused network is removed",
        || {
            (!docker_support::docker(&["network", "inspect", &name])
                .status
                .success())
            .then_some(())
        },
    )
    .await;
    eventually(Duration::from_secs(5), "the ingress port is closed", || {
        std::net::TcpStream::connect(("127.0.0.1", port))
            .is_err()
            .then_some(())
    })
    .await;
    agent.stop().await;
}

/// The engine's "No such container" is a typed not-found that keeps the engine's error, so the
/// logs of a task whose container the agent removed end quietly (src/daemon/logs.rs).
#[tokio::test]
async fn a_missing_container_is_a_typed_not_found() {
    use futures_util::StreamExt;
    use swarm::agent::ContainerRuntime;
    let Some(env) = setup("nosuch") else { return };
    let runtime = env.runtime().await;
    let missing = format!("{}-never-created", env.stack);
    let first = runtime.logs(&missing, false, None).next().await;
    let Some(Err(err)) = first else {
        panic!("logs of a missing container: {first:?}")
    };
    assert!(err.is_not_found(), "{err:?}");
    assert_eq!(
        err.to_string(),
        format!("docker logs failed: No such container: {missing}")
    );
    assert!(std::error::Error::source(&err).is_some(), "{err:?}");
}
