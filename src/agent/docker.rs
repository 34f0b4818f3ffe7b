//! The Docker runtime: the `ContainerRuntime` trait over bollard (Engine API, negotiated down
//! to what the engine speaks — 1.41 on Docker 20.10).

use std::path::PathBuf;
use std::time::Duration;

use bollard::Docker;
use bollard::query_parameters::{
    CreateContainerOptionsBuilder, CreateImageOptionsBuilder, EventsOptionsBuilder,
    ListContainersOptionsBuilder, RemoveContainerOptionsBuilder, StopContainerOptionsBuilder,
};
use futures_util::stream::{BoxStream, StreamExt, TryStreamExt};
use tokio::sync::Semaphore;
use wire::TaskAssignment;

use super::docker_prepare::EngineResources;
use super::docker_spec::{container_body, observed};
use super::error::{RuntimeError, engine, engine_message as message, engine_status as status};
use super::files::{DEFAULT_FILES_DIR, FileStore};
use super::logs::split_lines;
use super::names::{LABEL_NODE_ID, LABEL_TASK_ID, container_name};
use super::runtime::{
    ContainerRuntime, ContainerSummary, EventKind, LogLine, NodeInfo, Observed, RuntimeEvent,
};

/// How long a pull may take before the task fails.
const PULL_TIMEOUT: Duration = Duration::from_secs(300);
/// Margin over a stop's grace period for the engine to answer.
const STOP_MARGIN: Duration = Duration::from_secs(30);
/// Attempts at creating a container whose network another agent removed meanwhile.
const CREATE_ATTEMPTS: usize = 3;

/// The Docker engine, through bollard.
pub struct DockerRuntime {
    docker: Docker,
    files: FileStore,
    /// The task's networks and volumes, and the bookkeeping of the networks.
    resources: EngineResources,
    /// Container starts in flight at once (see `start_permits`).
    starts: Semaphore,
    /// The engine takes a signal on `stop` (API 1.42+); older ones use the container's own.
    stop_takes_signal: bool,
}

/// How many container starts the agent asks of the engine at once. A start sets up a mount and
/// a network namespace, mostly one at a time inside the engine: fifty at once took twice as long
/// as eight at a time on a two-core node, and the first tasks ran only when nearly all did.
fn start_permits() -> usize {
    std::env::var("SWARM_AGENT_START_PERMITS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get()) * 2)
        .max(1)
}

impl DockerRuntime {
    /// Connects to the local engine (`DOCKER_HOST` or the default socket) and negotiates the
    /// API version; secret and config files go to `$SWARM_AGENT_FILES_DIR` or `/dev/shm/swarm`.
    pub async fn connect() -> Result<DockerRuntime, RuntimeError> {
        let files = std::env::var_os("SWARM_AGENT_FILES_DIR")
            .map_or_else(|| PathBuf::from(DEFAULT_FILES_DIR), PathBuf::from);
        Self::connect_with_files_dir(files).await
    }

    /// Like [`DockerRuntime::connect`], with secret and config files under `files_dir` (a tmpfs).
    pub async fn connect_with_files_dir(
        files_dir: impl Into<PathBuf>,
    ) -> Result<DockerRuntime, RuntimeError> {
        let docker = Docker::connect_with_defaults()
            .map_err(RuntimeError::Connect)?
            .negotiate_version()
            .await
            .map_err(RuntimeError::Connect)?;
        docker.ping().await.map_err(RuntimeError::Connect)?;
        let version = docker.client_version();
        let stop_takes_signal = (version.major_version, version.minor_version) >= (1, 42);
        Ok(DockerRuntime {
            resources: EngineResources::new(docker.clone()),
            docker,
            files: FileStore::new(files_dir),
            starts: Semaphore::new(start_permits()),
            stop_takes_signal,
        })
    }

    async fn create_once(
        &self,
        task: &TaskAssignment,
        node_id: &str,
    ) -> Result<String, RuntimeError> {
        let _shared = self.resources.network_gc.read().await;
        self.resources.ensure_networks(task).await?;
        let name = container_name(task, node_id);
        let body = container_body(task, node_id, &self.files.mounts(task)?)?;
        let options = CreateContainerOptionsBuilder::new().name(&name).build();
        let id = match self.docker.create_container(Some(options), body).await {
            Ok(created) => created.id,
            // Created before a restart of the agent (or by a racing attempt): adopt it.
            Err(e) if status(&e) == Some(409) => match self.inspect(&name).await? {
                Some(o) => o.container_id,
                None => return Err(engine("create container")(e)),
            },
            Err(e) => return Err(engine("create container")(e)),
        };
        self.resources.connect_networks(task, &id).await?;
        // Still under `network_gc`: the collector sees this user before it looks.
        let names = task.networks.iter().map(|n| n.docker_name.clone());
        self.resources.book(|b| b.use_by(&task.task_id, names));
        Ok(id)
    }
}

impl ContainerRuntime for DockerRuntime {
    async fn node_info(&self) -> Result<NodeInfo, RuntimeError> {
        let info = self.docker.info().await.map_err(engine("info"))?;
        Ok(NodeInfo {
            hostname: info.name.unwrap_or_default(),
            os: info.os_type.unwrap_or_default(),
            arch: info.architecture.unwrap_or_default(),
            cpus: info.ncpu.unwrap_or_default(),
            memory_bytes: info.mem_total.unwrap_or_default(),
            labels: info.labels.unwrap_or_default(),
        })
    }

    async fn image_present(&self, image: &str) -> Result<bool, RuntimeError> {
        match self.docker.inspect_image(image).await {
            Ok(_) => Ok(true),
            Err(e) if status(&e) == Some(404) => Ok(false),
            Err(e) => Err(engine("inspect image")(e)),
        }
    }

    async fn pull_image(&self, image: &str) -> Result<(), RuntimeError> {
        let options = CreateImageOptionsBuilder::new().from_image(image).build();
        let pull = self
            .docker
            .create_image(Some(options), None, None)
            .try_for_each(|_| async { Ok(()) });
        let unavailable = |reason: String| RuntimeError::ImageUnavailable {
            image: image.to_string(),
            reason,
        };
        match tokio::time::timeout(PULL_TIMEOUT, pull).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(unavailable(message(&e))),
            Err(_) => Err(unavailable(format!(
                "no answer in {}s",
                PULL_TIMEOUT.as_secs()
            ))),
        }
    }

    async fn prepare(&self, task: &TaskAssignment) -> Result<(), RuntimeError> {
        self.resources.check_external_networks(task).await?;
        self.resources.ensure_volumes(task).await?;
        let files = self.files.clone();
        let task = task.clone();
        tokio::task::spawn_blocking(move || files.write(&task))
            .await
            .map_err(|e| RuntimeError::InvalidSpec(format!("writing files: {e}")))??;
        Ok(())
    }

    async fn create(&self, task: &TaskAssignment, node_id: &str) -> Result<String, RuntimeError> {
        let mut attempt = 1;
        loop {
            match self.create_once(task, node_id).await {
                // Another agent on this engine removed a network we had just ensured.
                // The engine says which object is missing only in its text.
                Err(e @ RuntimeError::Engine { .. })
                    if attempt < CREATE_ATTEMPTS
                        && e.is_not_found()
                        && e.engine_message().is_some_and(|m| m.contains("network")) =>
                {
                    self.resources
                        .book(|b| task.networks.iter().for_each(|n| b.forget(&n.docker_name)));
                    attempt += 1;
                }
                Err(RuntimeError::Engine { source, .. })
                    if let Some(path) = missing_bind_source(&message(&source)) =>
                {
                    return Err(RuntimeError::BindSourceMissing(path));
                }
                other => return other,
            }
        }
    }

    async fn start(&self, container: &str) -> Result<(), RuntimeError> {
        // Never closed, so acquiring only waits.
        let _permit = self.starts.acquire().await;
        match self.docker.start_container(container, None).await {
            Err(e) if status(&e) != Some(304) => Err(engine("start container")(e)),
            _ => Ok(()),
        }
    }

    async fn inspect(&self, container: &str) -> Result<Option<Observed>, RuntimeError> {
        match self.docker.inspect_container(container, None).await {
            Ok(c) => Ok(Some(observed(c))),
            Err(e) if status(&e) == Some(404) => Ok(None),
            Err(e) => Err(engine("inspect container")(e)),
        }
    }

    async fn stop(
        &self,
        container: &str,
        signal: Option<&str>,
        grace: Option<Duration>,
    ) -> Result<(), RuntimeError> {
        let mut options = StopContainerOptionsBuilder::new();
        if let Some(grace) = grace {
            let secs = grace.as_secs_f64().ceil();
            options = options.t(if secs > f64::from(i32::MAX) {
                i32::MAX
            } else {
                secs as i32
            });
        }
        if let Some(signal) = signal.filter(|_| self.stop_takes_signal) {
            options = options.signal(signal);
        }
        // The engine answers once the container is down: allow for the grace period.
        let timeout = grace.unwrap_or(Duration::from_secs(10)) + STOP_MARGIN;
        let docker = self
            .docker
            .clone()
            .with_timeout(timeout.max(Duration::from_secs(120)));
        match docker
            .stop_container(container, Some(options.build()))
            .await
        {
            Err(e) if !matches!(status(&e), Some(304 | 404)) => Err(engine("stop container")(e)),
            _ => Ok(()),
        }
    }

    async fn remove(&self, container: &str) -> Result<(), RuntimeError> {
        // Its networks may become unused: remember them for `release`.
        if let Ok(c) = self.docker.inspect_container(container, None).await {
            let networks = c
                .network_settings
                .and_then(|n| n.networks)
                .unwrap_or_default();
            self.resources.book(|b| b.note(networks.into_keys()));
        }
        // `v`: anonymous volumes go with their container (named ones stay), as in Swarm.
        let options = RemoveContainerOptionsBuilder::new()
            .force(true)
            .v(true)
            .build();
        match self.docker.remove_container(container, Some(options)).await {
            // 409: a removal is already in progress.
            Err(e) if !matches!(status(&e), Some(404 | 409)) => Err(engine("remove container")(e)),
            _ => Ok(()),
        }
    }

    async fn release(&self, task_id: &str) -> Result<(), RuntimeError> {
        let files = self.files.clone();
        let id = task_id.to_string();
        tokio::task::spawn_blocking(move || files.remove(&id))
            .await
            .map_err(|e| RuntimeError::InvalidSpec(format!("removing files: {e}")))??;
        self.resources.book(|b| b.release(task_id));
        self.resources.remove_unused_networks().await
    }

    async fn list(&self, node_id: &str) -> Result<Vec<ContainerSummary>, RuntimeError> {
        let filters = std::collections::HashMap::from([(
            "label",
            vec![format!("{LABEL_NODE_ID}={node_id}")],
        )]);
        let options = ListContainersOptionsBuilder::new()
            .all(true)
            .filters(&filters)
            .build();
        let containers = self
            .docker
            .list_containers(Some(options))
            .await
            .map_err(engine("list containers"))?;
        Ok(containers
            .into_iter()
            .filter_map(|c| {
                let task_id = c.labels.as_ref()?.get(LABEL_TASK_ID)?.clone();
                let running = c.state.is_some_and(|s| s.to_string() == "running");
                Some(ContainerSummary {
                    id: c.id?,
                    task_id,
                    running,
                })
            })
            .collect())
    }

    fn events(&self, node_id: &str) -> BoxStream<'static, Result<RuntimeEvent, RuntimeError>> {
        let filters = std::collections::HashMap::from([
            ("type", vec!["container".to_string()]),
            ("label", vec![format!("{LABEL_NODE_ID}={node_id}")]),
        ]);
        let options = EventsOptionsBuilder::new().filters(&filters).build();
        self.docker
            .events(Some(options))
            .filter_map(|event| async move {
                let event = match event {
                    Ok(event) => event,
                    Err(e) => return Some(Err(engine("events")(e))),
                };
                let action = event.action.as_deref().unwrap_or_default();
                // Health checks also emit exec_* events every interval: those are noise.
                let kind = match action {
                    "start" => EventKind::Start,
                    "die" => EventKind::Die,
                    "oom" => EventKind::Oom,
                    "destroy" => EventKind::Destroy,
                    a if a.starts_with("health_status") => EventKind::Health,
                    _ => return None,
                };
                let actor = event.actor?;
                let task_id = actor.attributes?.get(LABEL_TASK_ID)?.clone();
                Some(Ok(RuntimeEvent {
                    container_id: actor.id?,
                    task_id,
                    kind,
                }))
            })
            .boxed()
    }

    fn logs(
        &self,
        container: &str,
        follow: bool,
        tail: Option<usize>,
    ) -> BoxStream<'static, Result<LogLine, RuntimeError>> {
        let tail = tail.map_or_else(|| "all".to_string(), |n| n.to_string());
        let options = bollard::query_parameters::LogsOptionsBuilder::new()
            .follow(follow)
            .stdout(true)
            .stderr(true)
            .tail(&tail)
            .build();
        let chunks = self
            .docker
            .logs(container, Some(options))
            .map_err(engine("logs"));
        split_lines(chunks.boxed())
    }
}

/// The path of the engine's "bind source path does not exist: PATH" refusal. The engine, not the
/// agent, decides: it sees the node's filesystem, which an agent in a container may not.
fn missing_bind_source(message: &str) -> Option<String> {
    const REFUSAL: &str = "bind source path does not exist: ";
    let at = message.find(REFUSAL)? + REFUSAL.len();
    let path = message[at..].trim();
    (!path.is_empty()).then(|| path.to_owned())
}
