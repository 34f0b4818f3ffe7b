//! A node's agent in a session with the managers over the node-to-node link (every node's
//! agent, managers' included: the leader's dispatcher is the one that assigns and watches them).

use model::NodeStatus;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use wire::{Assignments, OpenSession, SESSION_VERSION, TaskReport};

use super::identity::Identity;
use super::{DaemonError, RuntimeKind};
use crate::agent::session::SessionClient;
use crate::agent::{Agent, ContainerRuntime, DockerRuntime, SimRuntime, describe_node};
use crate::clock::Clock;

/// Reports an agent may have in flight before it waits for the session.
const REPORT_QUEUE: usize = 1024;

/// The running agent and its session, stopped by [`RemoteAgent::stop`].
pub struct RemoteAgent {
    stop_agent: watch::Sender<bool>,
    stop_session: watch::Sender<bool>,
    agent: JoinHandle<()>,
    session: JoinHandle<()>,
}

/// Where and as whom the agent opens its session.
pub struct SessionTarget<'a> {
    pub identity: &'a Identity,
    /// This node's node-to-node address.
    pub advertise: &'a str,
    /// The node-to-node mTLS client.
    pub http: reqwest::Client,
    /// Managers' node-to-node addresses (`HOST:PORT`), tried in this order.
    pub managers: Vec<String>,
    pub clock: Clock,
}

/// Starts the agent on `kind`'s runtime in a session with the managers; `None` for `none`.
pub async fn start(
    kind: RuntimeKind,
    target: SessionTarget<'_>,
) -> Result<Option<RemoteAgent>, DaemonError> {
    match kind {
        RuntimeKind::Docker => {
            let runtime = DockerRuntime::connect()
                .await
                .map_err(DaemonError::Runtime)?;
            spawn(runtime, target).await.map(Some)
        }
        RuntimeKind::Sim => spawn(SimRuntime::default(), target).await.map(Some),
        RuntimeKind::None => Ok(None),
    }
}

async fn spawn<R: ContainerRuntime>(
    runtime: R,
    target: SessionTarget<'_>,
) -> Result<RemoteAgent, DaemonError> {
    let description: NodeStatus = describe_node(&runtime)
        .await
        .map_err(DaemonError::Runtime)?;
    let open = OpenSession {
        version: SESSION_VERSION,
        node_name: target.identity.node_name.clone(),
        advertise_addr: Some(target.advertise.to_owned()),
        description,
    };
    let urls = target
        .managers
        .iter()
        .map(|addr| crate::peer::PeerClient::url(addr, ""))
        .collect();
    let client = SessionClient::new(target.http, urls, open).map_err(DaemonError::Session)?;
    let (publish, mut assignments) = watch::channel(Assignments::default());
    let (reports_tx, reports_rx): (mpsc::Sender<Vec<TaskReport>>, _) = mpsc::channel(REPORT_QUEUE);
    let (stop_session, session_stop) = watch::channel(false);
    let session = tokio::spawn(client.run(publish, reports_rx, stopped(session_stop)));
    let agent = Agent::new(runtime, target.identity.agent_id()).with_clock(target.clock);
    let (stop_agent, stop_rx) = watch::channel(false);
    let mut agent_stop = stop_rx.clone();
    let agent = tokio::spawn(async move {
        // Not before the first set a manager sent: an agent handed the empty initial set would
        // remove the containers it should adopt.
        tokio::select! {
            _ = agent_stop.wait_for(|stop| *stop) => return,
            changed = assignments.changed() => if changed.is_err() { return },
        }
        agent.run(assignments, reports_tx, stopped(stop_rx)).await;
    });
    Ok(RemoteAgent {
        stop_agent,
        stop_session,
        agent,
        session,
    })
}

/// A future resolving once `stop` turns true.
async fn stopped(mut stop: watch::Receiver<bool>) {
    let _ = stop.wait_for(|stop| *stop).await;
}

impl RemoteAgent {
    /// Stops the agent (its containers keep running: a restarted agent adopts them), then the
    /// session once the agent's last reports are handed over.
    pub async fn stop(self) {
        let _ = self.stop_agent.send(true);
        if let Err(err) = self.agent.await {
            tracing::warn!(%err, "agent task failed");
        }
        let _ = self.stop_session.send(true);
        if let Err(err) = self.session.await {
            tracing::warn!(%err, "session task failed");
        }
    }
}
