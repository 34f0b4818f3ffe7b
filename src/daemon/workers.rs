//! The manager's and worker's moving parts beside the API: the controller runner, the local
//! node's dispatcher and its agent on the chosen container runtime.

use model::NodeStatus;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use wire::{Assignments, TaskReport};

use super::DaemonError;
use super::identity::Identity;
use crate::agent::{Agent, ContainerRuntime, DockerRuntime, SimRuntime, describe_node};
use crate::dispatcher::{Dispatcher, DispatcherConfig};
use crate::reconcile::{Runner, RunnerConfig};
use crate::store::Store;

/// Which container runtime the node's agent drives.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum RuntimeKind {
    /// The local Docker engine (the real one).
    #[default]
    Docker,
    /// An in-process stand-in: tasks "run" without containers (tests, simulations).
    Sim,
    /// No agent: control plane only; the node takes no tasks.
    None,
}

/// Reports an agent may have in flight before it waits for the dispatcher.
const REPORT_QUEUE: usize = 1024;

/// The running workers, stopped in order by [`Workers::stop`].
pub struct Workers {
    agent: Option<(watch::Sender<bool>, JoinHandle<()>)>,
    control: watch::Sender<bool>,
    dispatcher: JoinHandle<()>,
    runner: JoinHandle<()>,
}

/// A future resolving once `stop` turns true.
async fn stopped(mut stop: watch::Receiver<bool>) {
    let _ = stop.wait_for(|stop| *stop).await;
}

/// Starts the runner, the dispatcher of the local node and (unless `none`) its agent.
pub async fn start(
    store: &Store,
    identity: &Identity,
    node_id: String,
    addr: &str,
    kind: RuntimeKind,
) -> Result<Workers, DaemonError> {
    // The node's name in the store is its node name (`--node-name`); the engine may call itself otherwise
    // (the sim runtime says `sim`), and `node ls` should show the name `node update` takes.
    let describe = |mut status: NodeStatus| {
        status.hostname = identity.node_name.clone();
        status.node_id = identity.node_id.clone();
        // The node-to-node address: `node ls` finds the leader by it (the Raft address).
        status.addr = Some(addr.to_owned());
        status
    };
    // Seeded with the real set: an agent handed an empty set first would remove the
    // containers it should adopt.
    let initial = store.read(|index| crate::dispatcher::assignments::compute(index, &node_id));
    let (publish, assignments) = watch::channel(initial);
    let (reports_tx, reports_rx) = mpsc::channel(REPORT_QUEUE);
    let (node, agent) = match kind {
        RuntimeKind::Docker => {
            let runtime = DockerRuntime::connect()
                .await
                .map_err(DaemonError::Runtime)?;
            let status = describe_node(&runtime)
                .await
                .map_err(DaemonError::Runtime)?;
            let agent = spawn_agent(runtime, identity.agent_id(), store, assignments, reports_tx);
            (Some(describe(status)), Some(agent))
        }
        RuntimeKind::Sim => {
            let runtime = SimRuntime::default();
            let status = describe_node(&runtime)
                .await
                .map_err(DaemonError::Runtime)?;
            let agent = spawn_agent(runtime, identity.agent_id(), store, assignments, reports_tx);
            (Some(describe(status)), Some(agent))
        }
        RuntimeKind::None => (None, None),
    };
    let (control, control_rx) = watch::channel(false);
    let runner = tokio::spawn(
        Runner::new(store.clone(), RunnerConfig::default()).run(stopped(control_rx.clone())),
    );
    let dispatcher = Dispatcher::new(store.clone(), node_id, node, DispatcherConfig::default());
    let dispatcher = tokio::spawn(dispatcher.run(publish, reports_rx, stopped(control_rx)));
    Ok(Workers {
        agent,
        control,
        dispatcher,
        runner,
    })
}

fn spawn_agent<R: ContainerRuntime>(
    runtime: R,
    node_id: String,
    store: &Store,
    assignments: watch::Receiver<Assignments>,
    reports: mpsc::Sender<Vec<TaskReport>>,
) -> (watch::Sender<bool>, JoinHandle<()>) {
    let (stop, stop_rx) = watch::channel(false);
    // The agent in the manager's process shares the manager's clock.
    let agent = Agent::new(runtime, node_id).with_clock(store.clock());
    let handle = tokio::spawn(agent.run(assignments, reports, stopped(stop_rx)));
    (stop, handle)
}

impl Workers {
    /// Stops the agent first (its containers keep running: a restarted agent adopts them),
    /// then the dispatcher (which writes the agent's last reports) and the runner.
    pub async fn stop(self) {
        if let Some((stop, handle)) = self.agent {
            let _ = stop.send(true);
            if let Err(err) = handle.await {
                tracing::warn!(%err, "agent task failed");
            }
        }
        let _ = self.control.send(true);
        for (what, handle) in [("dispatcher", self.dispatcher), ("runner", self.runner)] {
            if let Err(err) = handle.await {
                tracing::warn!(%err, "{what} task failed");
            }
        }
    }
}

/// The controller runner alone: the daemon's agent holds a session with the managers instead
/// of the in-process dispatcher (see `remote_agent`).
pub struct RunnerHandle {
    stop: watch::Sender<bool>,
    handle: JoinHandle<()>,
}

/// Starts the controllers (they act while this manager leads). `heartbeat` is the agents'
/// period: a node is down once silent for [`GRACE_PERIODS`] of them, and its tasks then move
/// at once (the liveness loop already waited out the grace).
///
/// [`GRACE_PERIODS`]: crate::dispatcher::liveness::GRACE_PERIODS
pub fn start_runner(store: &Store, heartbeat: std::time::Duration) -> RunnerHandle {
    let (stop, stop_rx) = watch::channel(false);
    let grace = heartbeat * crate::dispatcher::liveness::GRACE_PERIODS;
    let mut config = RunnerConfig::default();
    config.settings.node_down_grace_ms = i64::try_from(grace.as_millis()).unwrap_or(i64::MAX);
    let handle = tokio::spawn(Runner::new(store.clone(), config).run(stopped(stop_rx)));
    RunnerHandle { stop, handle }
}

impl RunnerHandle {
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        if let Err(err) = self.handle.await {
            tracing::warn!(%err, "runner task failed");
        }
    }
}
