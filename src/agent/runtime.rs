//! The `ContainerRuntime` trait: everything the agent asks of a container engine, and the
//! engine-neutral view of a container it gets back.

use std::future::Future;
use std::net::IpAddr;
use std::time::Duration;

use futures_util::stream::BoxStream;
use wire::TaskAssignment;

use super::error::RuntimeError;

/// The container engine the agent drives (Docker in production, [`super::sim::SimRuntime`] in
/// simulations). Methods are idempotent where it matters so a restarted agent can redo them.
pub trait ContainerRuntime: Send + Sync + 'static {
    /// What the node offers (for `NodeStatus`).
    fn node_info(&self) -> impl Future<Output = Result<NodeInfo, RuntimeError>> + Send;

    /// Whether `image` is present locally.
    fn image_present(&self, image: &str)
    -> impl Future<Output = Result<bool, RuntimeError>> + Send;

    /// Pulls `image` once; the error says why it could not be had.
    fn pull_image(&self, image: &str) -> impl Future<Output = Result<(), RuntimeError>> + Send;

    /// Makes what the task needs besides its container: named volumes, secret and config files,
    /// and checks that external networks exist.
    fn prepare(
        &self,
        task: &TaskAssignment,
    ) -> impl Future<Output = Result<(), RuntimeError>> + Send;

    /// Creates (without starting) the task's container, joining its networks (created on
    /// demand); returns its id. An existing container of the same name is returned as is.
    fn create(
        &self,
        task: &TaskAssignment,
        node_id: &str,
    ) -> impl Future<Output = Result<String, RuntimeError>> + Send;

    /// Starts a created container.
    fn start(&self, container: &str) -> impl Future<Output = Result<(), RuntimeError>> + Send;

    /// The container's current state, or `None` if it does not exist.
    fn inspect(
        &self,
        container: &str,
    ) -> impl Future<Output = Result<Option<Observed>, RuntimeError>> + Send;

    /// Stops a container: `signal` (default: the one it was created with), then a kill after
    /// `grace` (default: its configured stop timeout).
    fn stop(
        &self,
        container: &str,
        signal: Option<&str>,
        grace: Option<Duration>,
    ) -> impl Future<Output = Result<(), RuntimeError>> + Send;

    /// Removes a container (killing it if needed); a missing container is not an error.
    fn remove(&self, container: &str) -> impl Future<Output = Result<(), RuntimeError>> + Send;

    /// Releases what `prepare`/`create` made for a task that has ended: its files, and the
    /// swarm networks no container uses any more.
    fn release(&self, task_id: &str) -> impl Future<Output = Result<(), RuntimeError>> + Send;

    /// All swarm containers of this node, running or not.
    fn list(
        &self,
        node_id: &str,
    ) -> impl Future<Output = Result<Vec<ContainerSummary>, RuntimeError>> + Send;

    /// Container events of this node's swarm containers, until the engine closes the stream.
    fn events(&self, node_id: &str) -> BoxStream<'static, Result<RuntimeEvent, RuntimeError>>;

    /// The container's output, line by line; `follow` keeps the stream open.
    fn logs(
        &self,
        container: &str,
        follow: bool,
        tail: Option<usize>,
    ) -> BoxStream<'static, Result<LogLine, RuntimeError>>;
}

/// What a node offers to tasks.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NodeInfo {
    /// The engine host's name.
    pub hostname: String,
    /// `linux`, ...
    pub os: String,
    /// `x86_64`, `aarch64`, ...
    pub arch: String,
    /// Number of CPUs.
    pub cpus: i64,
    /// Memory in bytes.
    pub memory_bytes: i64,
    /// `key=value` engine labels.
    pub labels: Vec<String>,
}

/// The lifecycle state of a container, engine-neutral.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ContainerState {
    /// Created, never started.
    Created,
    /// Its process runs (paused counts: it still holds its resources).
    Running,
    /// Its process has ended (or the container is dead or being removed).
    Exited,
}

/// Result of the container's health check.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HealthStatus {
    /// Within the start period or before the first check.
    Starting,
    /// The last check passed.
    Healthy,
    /// `retries` checks in a row failed.
    Unhealthy,
}

/// What the runtime reports about one container.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Observed {
    /// The engine's container id.
    pub container_id: String,
    /// Lifecycle state.
    pub state: ContainerState,
    /// Exit code once exited.
    pub exit_code: Option<i64>,
    /// The engine's error for the container (failed start, ...), if any.
    pub error: Option<String>,
    /// The kernel killed it for exceeding its memory limit.
    pub oom_killed: bool,
    /// Health, when the container has a health check.
    pub health: Option<HealthStatus>,
    /// Output of the most recent health check (for the error of an unhealthy task).
    pub health_log: Option<String>,
    /// The container's addresses on its networks (the ingress proxy's backends).
    pub addresses: Vec<IpAddr>,
}

impl Observed {
    /// A running container (for tests and the simulator).
    pub fn running(container_id: impl Into<String>) -> Observed {
        Observed {
            container_id: container_id.into(),
            state: ContainerState::Running,
            exit_code: None,
            error: None,
            oom_killed: false,
            health: None,
            health_log: None,
            addresses: Vec::new(),
        }
    }

    /// True while the container's process runs.
    pub fn is_running(&self) -> bool {
        self.state == ContainerState::Running
    }
}

/// One swarm container, as listed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContainerSummary {
    /// The engine's container id.
    pub id: String,
    /// The task it runs (`swarm.task.id` label).
    pub task_id: String,
    /// Whether its process runs.
    pub running: bool,
}

/// What happened to a container.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventKind {
    /// It started.
    Start,
    /// Its process ended.
    Die,
    /// Its health status changed.
    Health,
    /// It ran out of memory.
    Oom,
    /// It was removed.
    Destroy,
}

/// A container event, already filtered to this node's swarm containers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuntimeEvent {
    /// The container.
    pub container_id: String,
    /// Its task (`swarm.task.id` label).
    pub task_id: String,
    /// What happened.
    pub kind: EventKind,
}

/// Which stream a log line came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutputStream {
    /// Standard output (or a TTY).
    Stdout,
    /// Standard error.
    Stderr,
}

/// One line of container output.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogLine {
    /// Where it came from.
    pub stream: OutputStream,
    /// The text, without its trailing newline.
    pub line: String,
}
