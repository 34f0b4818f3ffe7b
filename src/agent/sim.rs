//! `SimRuntime`: an in-memory stand-in for the engine, for the scale simulation of thousands of
//! nodes and controller-level tests — never in place of a Docker end-to-end test. Containers
//! start instantly, are healthy at once, and run until stopped or made to exit by the test.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use futures_util::stream::{self, BoxStream, StreamExt};
use tokio::sync::broadcast;
use wire::TaskAssignment;

use super::error::RuntimeError;
use super::names::{LABEL_TASK_ID, container_labels, container_name};
use super::runtime::{
    ContainerRuntime, ContainerState, ContainerSummary, EventKind, HealthStatus, LogLine, NodeInfo,
    Observed, OutputStream, RuntimeEvent,
};

/// One simulated container.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SimContainer {
    /// Its id (`sim-<n>`).
    pub id: String,
    /// Its name, as Docker would have it.
    pub name: String,
    /// Its labels.
    pub labels: HashMap<String, String>,
    /// Lifecycle state.
    pub state: ContainerState,
    /// Exit code once exited.
    pub exit_code: Option<i64>,
    /// Health, when the spec has a health check.
    pub health: Option<HealthStatus>,
}

#[derive(Default)]
struct Inner {
    containers: BTreeMap<String, SimContainer>,
    /// Container id by name and by task id, so a lookup does not scan every container (the
    /// scale benchmark runs 100,000 of them).
    by_name: HashMap<String, String>,
    by_task: HashMap<String, String>,
    /// Images present; `None`: every image is.
    images: Option<BTreeSet<String>>,
    next_id: u64,
}

impl Inner {
    fn insert(&mut self, c: SimContainer) {
        self.by_name.insert(c.name.clone(), c.id.clone());
        if let Some(task_id) = c.labels.get(LABEL_TASK_ID) {
            self.by_task.insert(task_id.clone(), c.id.clone());
        }
        self.containers.insert(c.id.clone(), c);
    }

    fn remove(&mut self, id: &str) -> Option<SimContainer> {
        let c = self.containers.remove(id)?;
        if self.by_name.get(&c.name).is_some_and(|named| named == id) {
            self.by_name.remove(&c.name);
        }
        if let Some(task_id) = c.labels.get(LABEL_TASK_ID)
            && self.by_task.get(task_id).is_some_and(|of| of == id)
        {
            self.by_task.remove(task_id);
        }
        Some(c)
    }

    /// The container of a task.
    fn of_task(&self, task_id: &str) -> Option<&SimContainer> {
        self.by_task
            .get(task_id)
            .and_then(|id| self.containers.get(id))
    }

    /// A container by id or name.
    fn named(&self, name_or_id: &str) -> Option<&SimContainer> {
        self.containers.get(name_or_id).or_else(|| {
            self.by_name
                .get(name_or_id)
                .and_then(|id| self.containers.get(id))
        })
    }
}

/// An in-memory container engine.
#[derive(Clone)]
pub struct SimRuntime {
    inner: Arc<Mutex<Inner>>,
    events: broadcast::Sender<RuntimeEvent>,
    info: NodeInfo,
}

impl Default for SimRuntime {
    fn default() -> Self {
        SimRuntime::new()
    }
}

impl SimRuntime {
    /// An engine on which every image is present, with 4 CPUs and 8 GiB.
    pub fn new() -> SimRuntime {
        SimRuntime {
            inner: Arc::default(),
            events: broadcast::channel(1024).0,
            info: NodeInfo {
                hostname: "sim".into(),
                os: "linux".into(),
                arch: "x86_64".into(),
                cpus: 4,
                memory_bytes: 8 << 30,
                labels: Vec::new(),
            },
        }
    }

    /// Only `images` are present (pulls always fail, as without a registry).
    pub fn with_images<I: IntoIterator<Item = S>, S: Into<String>>(self, images: I) -> SimRuntime {
        self.lock().images = Some(images.into_iter().map(Into::into).collect());
        self
    }

    /// Every container, for assertions.
    pub fn containers(&self) -> Vec<SimContainer> {
        self.lock().containers.values().cloned().collect()
    }

    /// The container of a task, if any.
    pub fn container_of(&self, task_id: &str) -> Option<SimContainer> {
        self.lock().of_task(task_id).cloned()
    }

    /// Makes a task's process exit with `code` (a crash, or `docker kill`).
    pub fn exit(&self, task_id: &str, code: i64) {
        self.change(task_id, EventKind::Die, |c| {
            c.state = ContainerState::Exited;
            c.exit_code = Some(code);
        });
    }

    /// Sets a task's health (as its health check would).
    pub fn set_health(&self, task_id: &str, health: HealthStatus) {
        self.change(task_id, EventKind::Health, |c| c.health = Some(health));
    }

    fn change(&self, task_id: &str, kind: EventKind, f: impl FnOnce(&mut SimContainer)) {
        let changed = {
            let mut inner = self.lock();
            let id = inner.of_task(task_id).map(|c| c.id.clone());
            let c = id.and_then(|id| inner.containers.get_mut(&id));
            c.map(|c| {
                f(c);
                c.clone()
            })
        };
        if let Some(c) = changed {
            self.emit(&c, kind);
        }
    }

    fn emit(&self, c: &SimContainer, kind: EventKind) {
        let task_id = c.labels.get(LABEL_TASK_ID).cloned().unwrap_or_default();
        // No subscriber is fine: the agent polls too.
        let _ = self.events.send(RuntimeEvent {
            container_id: c.id.clone(),
            task_id,
            kind,
        });
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panicking test thread must not take every other simulated node down with it.
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn find(&self, name_or_id: &str) -> Option<SimContainer> {
        self.lock().named(name_or_id).cloned()
    }

    fn update(
        &self,
        name_or_id: &str,
        kind: EventKind,
        f: impl FnOnce(&mut SimContainer),
    ) -> Result<(), RuntimeError> {
        let c = self
            .find(name_or_id)
            .ok_or_else(|| RuntimeError::NotFound(format!("container {name_or_id}")))?;
        let task_id = c.labels.get(LABEL_TASK_ID).cloned().unwrap_or_default();
        self.change(&task_id, kind, f);
        Ok(())
    }
}

impl ContainerRuntime for SimRuntime {
    async fn node_info(&self) -> Result<NodeInfo, RuntimeError> {
        Ok(self.info.clone())
    }

    async fn image_present(&self, image: &str) -> Result<bool, RuntimeError> {
        Ok(self
            .lock()
            .images
            .as_ref()
            .is_none_or(|i| i.contains(image)))
    }

    async fn pull_image(&self, image: &str) -> Result<(), RuntimeError> {
        Err(RuntimeError::ImageUnavailable {
            image: image.into(),
            reason: "the simulator has no registry".into(),
        })
    }

    async fn prepare(&self, _task: &TaskAssignment) -> Result<(), RuntimeError> {
        Ok(())
    }

    async fn create(&self, task: &TaskAssignment, node_id: &str) -> Result<String, RuntimeError> {
        let name = container_name(task, node_id);
        if let Some(c) = self.find(&name) {
            return Ok(c.id);
        }
        let mut inner = self.lock();
        inner.next_id += 1;
        let id = format!("sim-{}", inner.next_id);
        let health = task
            .spec
            .healthcheck
            .as_ref()
            .filter(|h| !h.disable)
            .map(|_| HealthStatus::Healthy);
        inner.insert(SimContainer {
            id: id.clone(),
            name,
            labels: container_labels(task, node_id),
            state: ContainerState::Created,
            exit_code: None,
            health,
        });
        Ok(id)
    }

    async fn start(&self, container: &str) -> Result<(), RuntimeError> {
        self.update(container, EventKind::Start, |c| {
            if c.state == ContainerState::Created {
                c.state = ContainerState::Running;
            }
        })
    }

    async fn inspect(&self, container: &str) -> Result<Option<Observed>, RuntimeError> {
        Ok(self.find(container).map(|c| Observed {
            container_id: c.id,
            state: c.state,
            exit_code: c.exit_code,
            error: None,
            oom_killed: false,
            health: c.health.filter(|_| c.state == ContainerState::Running),
            health_log: None,
            addresses: Vec::new(),
        }))
    }

    async fn stop(
        &self,
        container: &str,
        _signal: Option<&str>,
        _grace: Option<Duration>,
    ) -> Result<(), RuntimeError> {
        match self.update(container, EventKind::Die, |c| {
            if c.state == ContainerState::Running {
                c.state = ContainerState::Exited;
                // 128 + SIGTERM, as a process that honours the signal exits.
                c.exit_code = Some(143);
            }
        }) {
            Err(RuntimeError::NotFound(_)) => Ok(()),
            other => other,
        }
    }

    async fn remove(&self, container: &str) -> Result<(), RuntimeError> {
        if let Some(c) = self.find(container) {
            self.lock().remove(&c.id);
            self.emit(&c, EventKind::Destroy);
        }
        Ok(())
    }

    async fn release(&self, _task_id: &str) -> Result<(), RuntimeError> {
        Ok(())
    }

    async fn list(&self, node_id: &str) -> Result<Vec<ContainerSummary>, RuntimeError> {
        Ok(self
            .lock()
            .containers
            .values()
            .filter(|c| {
                c.labels
                    .get(super::names::LABEL_NODE_ID)
                    .map(String::as_str)
                    == Some(node_id)
            })
            .map(|c| ContainerSummary {
                id: c.id.clone(),
                task_id: c.labels.get(LABEL_TASK_ID).cloned().unwrap_or_default(),
                running: c.state == ContainerState::Running,
            })
            .collect())
    }

    fn events(&self, _node_id: &str) -> BoxStream<'static, Result<RuntimeEvent, RuntimeError>> {
        let rx = self.events.subscribe();
        stream::unfold(rx, |mut rx| async move {
            loop {
                match rx.recv().await {
                    Ok(event) => return Some((Ok(event), rx)),
                    // Missed events are made up for by polling.
                    Err(broadcast::error::RecvError::Lagged(_)) => continue,
                    Err(broadcast::error::RecvError::Closed) => return None,
                }
            }
        })
        .boxed()
    }

    fn logs(
        &self,
        container: &str,
        _follow: bool,
        _tail: Option<usize>,
    ) -> BoxStream<'static, Result<LogLine, RuntimeError>> {
        let line = LogLine {
            stream: OutputStream::Stdout,
            line: format!("simulated container {container}"),
        };
        stream::iter([Ok(line)]).boxed()
    }
}
