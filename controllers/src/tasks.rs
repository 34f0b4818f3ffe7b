//! The vocabulary every controller shares: which tasks are live, how tasks group into slots,
//! how a slot ended, how specs compare and how new tasks are named.

use std::cmp::Ordering;
use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::Arc;

use model::service::{ServiceSpec, UpdateConfig};
use model::{Duration, ObjectMeta, TaskSpec, TaskState, TaskStatus, Timestamp};

use crate::{Action, ClusterView, ServiceObj, TaskObj};

/// True while the orchestrator wants the task to run (or, for jobs, to complete).
pub fn is_wanted(task: &TaskObj) -> bool {
    task.spec.desired_state <= TaskState::Complete
}

/// Wanted and not yet ended: the task occupying its slot.
pub fn is_live(task: &TaskObj) -> bool {
    is_wanted(task) && !task.status.state.is_terminal()
}

/// Exited, failed or refused: how a task ends by itself (what the restart policy counts).
pub fn ended(task: &TaskObj) -> bool {
    matches!(
        task.status.state,
        TaskState::Complete | TaskState::Failed | TaskState::Rejected
    )
}

/// Ended by itself (exit, failure, refusal) while still wanted: the restart policy decides what
/// follows. Tasks the orchestrator stopped (shutdown, orphaned) are simply replaced.
pub fn ended_on_its_own(task: &TaskObj) -> bool {
    is_wanted(task) && ended(task)
}

/// The node a task was placed on, or for a global task the node it is bound to.
pub fn task_node(task: &TaskObj) -> Option<&str> {
    task.status
        .node_id
        .as_deref()
        .or(task.spec.node_id.as_deref())
}

/// Where a task belongs: a replica slot, or a node for global services.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SlotKey {
    Slot(u64),
    Node(String),
}

impl SlotKey {
    /// The slot of a task: its replica number, else the node it is bound to.
    pub fn of(task: &TaskObj) -> Option<SlotKey> {
        match (task.spec.slot, &task.spec.node_id) {
            (Some(slot), _) => Some(SlotKey::Slot(slot)),
            (None, Some(node)) => Some(SlotKey::Node(node.clone())),
            (None, None) => None,
        }
    }
}

impl fmt::Display for SlotKey {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match self {
            SlotKey::Slot(n) => write!(f, "{n}"),
            SlotKey::Node(id) => f.write_str(id),
        }
    }
}

/// The creation sequence encoded as the last dot-separated part of a task name.
pub fn seq(task: &TaskObj) -> u64 {
    task.name
        .rsplit('.')
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

/// Orders tasks oldest first (names carry a per-service increasing sequence).
pub fn by_creation(a: &&TaskObj, b: &&TaskObj) -> Ordering {
    (seq(a), &a.id).cmp(&(seq(b), &b.id))
}

/// Every task of a service grouped by slot, oldest first within a slot.
pub fn slots_of<'a>(
    view: &'a ClusterView,
    service_id: &str,
) -> BTreeMap<SlotKey, Vec<&'a TaskObj>> {
    let mut slots: BTreeMap<SlotKey, Vec<&TaskObj>> = BTreeMap::new();
    for task in view.tasks_of(service_id) {
        if let Some(key) = SlotKey::of(task) {
            slots.entry(key).or_default().push(task);
        }
    }
    for tasks in slots.values_mut() {
        tasks.sort_by(by_creation);
    }
    slots
}

/// What became of a slot, judged from its tasks (oldest first).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Fate<'a> {
    /// A task is running or on its way.
    Live,
    /// A job task completed with the current spec: nothing more to run.
    Done,
    /// The newest task ended by itself: the restart policy decides.
    Ended(&'a TaskObj),
    /// Nothing runs and nothing should hold the slot back: fill it.
    Empty,
}

/// The fate of one slot of `svc`.
pub fn fate<'a>(svc: &ServiceObj, tasks: &[&'a TaskObj]) -> Fate<'a> {
    if tasks.iter().any(|t| is_live(t)) {
        return Fate::Live;
    }
    let Some(latest) = tasks.last().copied() else {
        return Fate::Empty;
    };
    if !ended_on_its_own(latest) {
        return Fate::Empty;
    }
    if svc.spec.mode().is_job() && latest.status.state == TaskState::Complete {
        // A new spec is a new run of the job.
        return if same_container_spec(&latest.spec.service_spec, &svc.spec) {
            Fate::Done
        } else {
            Fate::Empty
        };
    }
    Fate::Ended(latest)
}

/// True when two specs run the same containers: scaling or editing update/restart policy must
/// not replace running tasks.
pub fn same_container_spec(a: &ServiceSpec, b: &ServiceSpec) -> bool {
    a == b || container_part(a) == container_part(b)
}

fn container_part(spec: &ServiceSpec) -> ServiceSpec {
    let mut spec = spec.clone();
    if let Some(deploy) = spec.deploy.as_mut() {
        deploy.replicas = None;
        deploy.labels.clear();
        deploy.restart_policy = None;
        deploy.update_config = None;
        deploy.rollback_config = None;
    }
    // `deploy: {}` and no `deploy` run the same containers.
    if spec
        .deploy
        .as_ref()
        .is_some_and(|d| *d == Default::default())
    {
        spec.deploy = None;
    }
    spec
}

/// `old`'s container fields with `current`'s control fields (replicas, policies), so rolling back
/// an image does not also undo a later scale.
pub fn with_control_of(old: &ServiceSpec, current: &ServiceSpec) -> ServiceSpec {
    let mut spec = old.clone();
    let control = current.deploy.clone().unwrap_or_default();
    let deploy = spec.deploy.get_or_insert_with(Default::default);
    deploy.replicas = control.replicas;
    deploy.labels = control.labels;
    deploy.restart_policy = control.restart_policy;
    deploy.update_config = control.update_config;
    deploy.rollback_config = control.rollback_config;
    spec
}

/// A stable fingerprint of a spec (FNV-1a over its canonical JSON).
pub fn spec_digest(spec: &ServiceSpec) -> String {
    let bytes = serde_json::to_vec(spec).unwrap_or_default();
    let hash = bytes.iter().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3)
    });
    format!("{hash:016x}")
}

/// The version new tasks record: the store version of the write that set the current spec.
pub fn spec_version(svc: &ServiceObj) -> u64 {
    let status = &svc.status;
    if status.spec_version != 0 && status.spec_digest == Some(spec_digest(&svc.spec)) {
        status.spec_version
    } else {
        svc.version
    }
}

/// Milliseconds of a duration, as timestamps count.
pub fn millis(d: Duration) -> i64 {
    i64::try_from(d.0 / 1_000_000).unwrap_or(i64::MAX)
}

/// `t + d`, saturating.
pub fn after(t: Timestamp, d: Duration) -> Timestamp {
    Timestamp(t.0.saturating_add(millis(d)))
}

/// The update (or rollback) config of a spec with Docker's defaults filled in.
#[derive(Clone, Debug, PartialEq)]
pub struct RolloutConfig {
    pub parallelism: u64,
    pub delay: Duration,
    pub failure_action: model::service::FailureAction,
    pub monitor: Duration,
    pub max_failure_ratio: f64,
    pub order: model::service::UpdateOrder,
}

impl RolloutConfig {
    /// Docker's defaults: 1 at a time, no delay, pause on failure, 5s monitor, stop-first.
    pub fn from(config: Option<&UpdateConfig>) -> RolloutConfig {
        let c = config.cloned().unwrap_or_default();
        RolloutConfig {
            parallelism: c.parallelism.unwrap_or(1),
            delay: c.delay.unwrap_or_default(),
            failure_action: c
                .failure_action
                .unwrap_or(model::service::FailureAction::Pause),
            monitor: c.monitor.unwrap_or(Duration::from_secs(5)),
            max_failure_ratio: c.max_failure_ratio.unwrap_or(0.0),
            order: c.order.unwrap_or(model::service::UpdateOrder::StopFirst),
        }
    }
}

/// Hands out task names `{service}.{slot}.{seq}` whose sequence grows per service and starts at
/// `now` in milliseconds, so names never repeat even across passes, deletions and re-creations.
pub struct Namer {
    last: HashMap<String, u64>,
    now: u64,
}

impl Namer {
    /// A namer aware of every task already in `view`.
    pub fn new(view: &ClusterView, now: Timestamp) -> Namer {
        let mut last: HashMap<String, u64> = HashMap::new();
        for task in view.tasks().values() {
            let n = last.entry(task.spec.service_id.clone()).or_default();
            *n = (*n).max(seq(task));
        }
        Namer {
            last,
            now: u64::try_from(now.0).unwrap_or(0),
        }
    }

    /// A new task for `slot` of `svc` with the current spec, status NEW.
    pub fn task(&mut self, svc: &ServiceObj, slot: &SlotKey, now: Timestamp) -> Action {
        self.task_with(
            svc,
            slot,
            TaskStatus {
                timestamp: now,
                ..TaskStatus::default()
            },
        )
    }

    /// A new task for `slot` of `svc` with the current spec and the given first status.
    pub fn task_with(&mut self, svc: &ServiceObj, slot: &SlotKey, status: TaskStatus) -> Action {
        let last = self.last.entry(svc.id.clone()).or_default();
        let n = (*last + 1).max(self.now);
        *last = n;
        let (slot_no, node_id) = match slot {
            SlotKey::Slot(s) => (Some(*s), None),
            SlotKey::Node(node) => (None, Some(node.clone())),
        };
        let desired_state = if svc.spec.mode().is_job() {
            TaskState::Complete
        } else {
            TaskState::Running
        };
        Action::CreateTask {
            metadata: ObjectMeta {
                name: format!("{}.{slot}.{n}", svc.name),
                labels: Default::default(),
                stack: svc.stack.clone(),
            },
            spec: TaskSpec {
                service_id: svc.id.clone(),
                slot: slot_no,
                node_id,
                service_spec: Arc::new(svc.spec.clone()),
                spec_version: spec_version(svc),
                desired_state,
                start_at: None,
            },
            status,
        }
    }
}

/// Asks a task to stop.
pub fn shut_down(task: &TaskObj) -> Action {
    Action::SetDesiredState {
        task_id: task.id.clone(),
        version: task.version,
        desired: TaskState::Shutdown,
    }
}
