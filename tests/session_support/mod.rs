//! Managers and remote agents in one process, talking the session protocol over plain HTTP on
//! 127.0.0.1:0. The mTLS listener's identity layer is stood in for by a middleware that takes
//! the node id from a header, and can cut a node off (a partition) on the manager's side.

#![allow(dead_code)]

use std::collections::HashSet;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::Request;
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use model::{Kind, NodeState, NodeStatus, TaskState, TaskStatus};
use swarm::agent::names::LABEL_TASK_ID;
use swarm::agent::runtime::ContainerState;
use swarm::agent::{Agent, Backoff, SessionClient, SimRuntime};
use swarm::api::{ApiState, router};
use swarm::client::{ApplyParams, Client};
use swarm::clock::Clock;
use swarm::dispatcher::{DispatcherConfig, Heartbeats, liveness, session};
use swarm::pki::{PeerIdentity, Role};
use swarm::reconcile::{Runner, RunnerConfig};
use swarm::store::{Record, Store, StoreConfig};
use tokio::net::TcpListener;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use wire::{Assignments, OpenSession, SESSION_VERSION};

/// Generous: CI machines are slow, and a passing test never waits this long.
pub const DEADLINE: Duration = Duration::from_secs(20);

/// Short periods so a node goes down in a second of real time.
pub const HEARTBEAT: Duration = Duration::from_millis(250);

/// The header the stand-in identity layer reads the caller's node id from.
const NODE_HEADER: &str = "x-test-node-id";

/// Node ids whose requests the managers drop (a network partition).
#[derive(Clone, Default)]
pub struct Cut(Arc<Mutex<HashSet<String>>>);

impl Cut {
    pub fn cut(&self, node: &str) {
        self.0.lock().expect("cut").insert(node.to_owned());
    }
    pub fn heal(&self, node: &str) {
        self.0.lock().expect("cut").remove(node);
    }
    fn is_cut(&self, node: &str) -> bool {
        self.0.lock().expect("cut").contains(node)
    }
}

/// A manager: store, API, Raft and session routes on one listener, controllers, liveness.
pub struct Manager {
    pub store: Store,
    pub addr: String,
    pub url: String,
    pub sessions: session::SessionService,
    /// Once set, every request is refused, even on connections already open (in-process,
    /// stopping the server leaves those open; a killed process would not).
    dead: Arc<AtomicBool>,
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

pub fn dispatcher_config(heartbeat: Duration) -> DispatcherConfig {
    DispatcherConfig {
        heartbeat,
        ..DispatcherConfig::default()
    }
}

impl Manager {
    /// Starts manager `raft_id` in `dir` (not yet in any cluster).
    pub async fn start(dir: &Path, raft_id: u64, cut: &Cut) -> Manager {
        Manager::start_with(dir, raft_id, cut, HEARTBEAT).await
    }

    /// [`Manager::start`] with agents told to beat every `heartbeat`.
    pub async fn start_with(dir: &Path, raft_id: u64, cut: &Cut, heartbeat: Duration) -> Manager {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr").to_string();
        let store = Store::open(StoreConfig {
            data_dir: dir.to_path_buf(),
            node_id: raft_id,
            advertise_addr: addr.clone(),
            clock: Clock::system(),
            peer_http: None,
        })
        .await
        .expect("open store");
        let heartbeats = Heartbeats::default();
        let sessions = session::SessionService::new(
            store.clone(),
            heartbeats.clone(),
            dispatcher_config(heartbeat),
        );
        let cut = cut.clone();
        let dead = Arc::new(AtomicBool::new(false));
        let app = router(ApiState::new(store.clone()))
            .merge(store.raft_routes())
            .merge(
                session::routes(sessions.clone()).layer(axum::middleware::from_fn(
                    move |request: Request, next: Next| {
                        let cut = cut.clone();
                        async move { identify(&cut, request, next).await }
                    },
                )),
            )
            .layer(axum::middleware::from_fn({
                let dead = dead.clone();
                move |request: Request, next: Next| {
                    let dead = dead.load(Ordering::SeqCst);
                    async move {
                        if dead {
                            return StatusCode::BAD_GATEWAY.into_response();
                        }
                        next.run(request).await
                    }
                }
            }));
        let (stop, stopped) = watch::channel(false);
        let until = |mut stopped: watch::Receiver<bool>| async move {
            let _ = stopped.wait_for(|stop| *stop).await;
        };
        let server = tokio::spawn({
            let stopped = stopped.clone();
            async move {
                let _ = axum::serve(listener, app)
                    .with_graceful_shutdown(until(stopped))
                    .await;
            }
        });
        let runner = RunnerConfig {
            settings: controllers::Settings {
                node_down_grace_ms: 3 * heartbeat.as_millis() as i64,
                ..controllers::Settings::default()
            },
            ..RunnerConfig::default()
        };
        let runner = tokio::spawn(Runner::new(store.clone(), runner).run(until(stopped.clone())));
        let liveness = tokio::spawn(liveness::run(
            store.clone(),
            heartbeats,
            heartbeat,
            until(stopped.clone()),
        ));
        Manager {
            store,
            url: format!("http://{addr}"),
            addr,
            sessions,
            dead,
            stop,
            tasks: vec![server, runner, liveness],
        }
    }

    /// A one-manager cluster.
    pub async fn single(dir: &Path, cut: &Cut) -> Manager {
        Manager::single_with(dir, cut, HEARTBEAT).await
    }

    /// [`Manager::single`] with agents told to beat every `heartbeat`.
    pub async fn single_with(dir: &Path, cut: &Cut, heartbeat: Duration) -> Manager {
        let manager = Manager::start_with(dir, 1, cut, heartbeat).await;
        manager.store.initialize_single().await.expect("initialize");
        manager.store.wait_leader(DEADLINE).await.expect("leader");
        manager
    }

    /// The API client.
    pub fn client(&self) -> Client {
        Client::new(&self.url).expect("client")
    }

    /// Applies a compose stack `stack`.
    pub async fn apply(&self, stack: &str, yaml: &str) {
        let params = ApplyParams {
            stack: Some(stack.into()),
            ..ApplyParams::default()
        };
        self.client()
            .apply_yaml(yaml.into(), &params)
            .await
            .expect("apply");
    }

    /// Stops serving and stops the store: to its agents, the manager is dead.
    pub async fn kill(self) {
        self.dead.store(true, Ordering::SeqCst);
        let _ = self.stop.send(true);
        for task in self.tasks {
            task.abort();
        }
        self.store.shutdown().await.expect("shutdown");
    }

    /// Every record of `kind`.
    pub fn list(&self, kind: Kind) -> Vec<Record> {
        self.store
            .read(|index| index.list(kind).into_iter().cloned().collect())
    }

    /// The Node record named `name`, with its status.
    pub fn node(&self, name: &str) -> Option<(Record, NodeStatus)> {
        let record = self
            .store
            .read(|index| index.find(Kind::Node, None, name).cloned())?;
        let status = record.status_as().unwrap_or_default();
        Some((record, status))
    }

    /// The state of node `name`.
    pub fn node_state(&self, name: &str) -> Option<NodeState> {
        self.node(name).map(|(_, status)| status.state)
    }

    /// Tasks with their status.
    pub fn tasks(&self) -> Vec<(Record, TaskStatus)> {
        self.list(Kind::Task)
            .into_iter()
            .map(|record| {
                let status = record.status_as().unwrap_or_default();
                (record, status)
            })
            .collect()
    }

    /// Running tasks on node `name` (by record id).
    pub fn running_on(&self, name: &str) -> Vec<String> {
        let Some((node, _)) = self.node(name) else {
            return Vec::new();
        };
        self.tasks()
            .into_iter()
            .filter(|(_, s)| {
                s.state == TaskState::Running && s.node_id.as_deref() == Some(&node.id)
            })
            .map(|(r, _)| r.id)
            .collect()
    }
}

/// The stand-in for the mTLS layer: the caller's identity from a header; cut nodes get no
/// answer they can use.
async fn identify(cut: &Cut, mut request: Request, next: Next) -> Response {
    let node = request
        .headers()
        .get(NODE_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    if let Some(node) = node {
        if cut.is_cut(&node) {
            return StatusCode::GATEWAY_TIMEOUT.into_response();
        }
        request.extensions_mut().insert(PeerIdentity {
            node_id: node,
            role: Role::Worker,
            cluster_id: "test-cluster".into(),
        });
    }
    next.run(request).await
}

/// A worker node in the test process: a sim agent fed by a session client.
pub struct RemoteAgent {
    pub name: String,
    pub sim: SimRuntime,
    pub assignments: watch::Receiver<Assignments>,
    stop: watch::Sender<bool>,
    client: JoinHandle<()>,
    agent: JoinHandle<()>,
}

impl RemoteAgent {
    /// Starts node `name` (its certificate's node id is `id-<name>`) with sessions to `managers`.
    pub fn start(name: &str, managers: Vec<String>) -> RemoteAgent {
        let sim = SimRuntime::new();
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert(
            NODE_HEADER,
            format!("id-{name}").parse().expect("header value"),
        );
        let http = reqwest::Client::builder()
            .default_headers(headers)
            .build()
            .expect("http client");
        let open = OpenSession {
            version: SESSION_VERSION,
            node_name: name.to_owned(),
            advertise_addr: None,
            description: NodeStatus::default(),
        };
        let client = SessionClient::new(http, managers, open)
            .expect("session client")
            .with_backoff(Backoff {
                min: Duration::from_millis(50),
                max: Duration::from_millis(200),
            });
        let (publish, assignments) = watch::channel(Assignments::default());
        let (reports, reports_rx) = mpsc::channel(1024);
        let (stop, stopped) = watch::channel(false);
        let until = |mut stopped: watch::Receiver<bool>| async move {
            let _ = stopped.wait_for(|stop| *stop).await;
        };
        let client = tokio::spawn(client.run(publish, reports_rx, until(stopped.clone())));
        let agent = Agent::new(sim.clone(), format!("agent-{name}"))
            .with_ingress(None)
            .with_poll_period(Duration::from_millis(50));
        let agent = tokio::spawn(agent.run(assignments.clone(), reports, until(stopped)));
        RemoteAgent {
            name: name.to_owned(),
            sim,
            assignments,
            stop,
            client,
            agent,
        }
    }

    /// Task ids the node currently holds in its assignments.
    pub fn assigned(&self) -> Vec<String> {
        self.assignments
            .borrow()
            .tasks
            .iter()
            .map(|t| t.task_id.clone())
            .collect()
    }

    /// Task ids with a running container on the node.
    pub fn containers(&self) -> Vec<String> {
        self.sim
            .containers()
            .into_iter()
            .filter(|c| c.state == ContainerState::Running)
            .filter_map(|c| c.labels.get(LABEL_TASK_ID).cloned())
            .collect()
    }

    pub async fn stop(self) {
        let _ = self.stop.send(true);
        self.client.await.expect("session client stops");
        self.agent.await.expect("agent stops");
    }
}

/// Polls `condition` until it holds, failing after the deadline.
pub async fn eventually(what: &str, mut condition: impl FnMut() -> bool) {
    let deadline = Instant::now() + DEADLINE;
    while !condition() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A stack of one service with `replicas` replicas of a sim image.
pub fn stack(replicas: u32) -> String {
    format!("services:\n  web:\n    image: img\n    deploy: {{replicas: {replicas}}}\n")
}
