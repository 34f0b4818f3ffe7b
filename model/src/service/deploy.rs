//! `deploy:` — how many tasks, where, with what resources, and how to restart and update them.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::constraint::PlacementPreference;
use crate::units::{ByteSize, Cpus, Duration};

/// How a service's tasks are counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize, JsonSchema)]
pub enum ServiceMode {
    /// A fixed number of long-running tasks (`replicas`).
    #[default]
    #[serde(rename = "replicated")]
    Replicated,
    /// One long-running task per eligible node.
    #[serde(rename = "global")]
    Global,
    /// A fixed number of tasks that run to completion.
    #[serde(rename = "replicated-job")]
    ReplicatedJob,
    /// One run-to-completion task per eligible node.
    #[serde(rename = "global-job")]
    GlobalJob,
}

impl ServiceMode {
    /// True for `global` and `global-job`, whose task count follows the nodes.
    pub const fn is_global(self) -> bool {
        matches!(self, ServiceMode::Global | ServiceMode::GlobalJob)
    }

    /// True for the run-to-completion modes.
    pub const fn is_job(self) -> bool {
        matches!(self, ServiceMode::ReplicatedJob | ServiceMode::GlobalJob)
    }

    /// The mode as written in Compose.
    pub const fn as_str(self) -> &'static str {
        match self {
            ServiceMode::Replicated => "replicated",
            ServiceMode::Global => "global",
            ServiceMode::ReplicatedJob => "replicated-job",
            ServiceMode::GlobalJob => "global-job",
        }
    }
}

/// How clients reach a service's tasks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum EndpointMode {
    /// One virtual IP load-balancing over the tasks.
    Vip,
    /// DNS round-robin over the task IPs.
    Dnsrr,
}

/// The `deploy:` section of a service.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct Deploy {
    /// Replicated, global, or one of the job modes.
    #[serde(default)]
    pub mode: ServiceMode,
    /// Number of tasks for the replicated modes (default 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replicas: Option<u64>,
    /// Virtual IP or DNS round-robin.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint_mode: Option<EndpointMode>,
    /// Labels on the service itself (not its containers).
    #[serde(
        default,
        deserialize_with = "super::lists::labels",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    #[schemars(with = "super::lists::ListOrDict")]
    pub labels: BTreeMap<String, String>,
    /// Where tasks may run.
    #[serde(default, skip_serializing_if = "Placement::is_empty")]
    pub placement: Placement,
    /// Resource limits and reservations.
    #[serde(default, skip_serializing_if = "Resources::is_empty")]
    pub resources: Resources,
    /// When a stopped task is replaced.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restart_policy: Option<RestartPolicy>,
    /// How a new spec is rolled out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub update_config: Option<UpdateConfig>,
    /// How a failed update is rolled back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rollback_config: Option<UpdateConfig>,
}

/// Placement rules of a service.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct Placement {
    /// Node filters such as `node.role==manager` or `node.labels.disk!=hdd`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub constraints: Vec<String>,
    /// Spread preferences, applied in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub preferences: Vec<PlacementPreference>,
    /// At most this many tasks of the service per node.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_replicas_per_node: Option<u64>,
}

impl Placement {
    /// True when no placement rule is set.
    pub fn is_empty(&self) -> bool {
        *self == Placement::default()
    }
}

/// Resource limits and reservations of each task.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct Resources {
    /// Hard caps.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limits: Option<ResourceLimits>,
    /// What the scheduler sets aside on the node.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reservations: Option<ResourceReservations>,
}

impl Resources {
    /// True when neither limits nor reservations are set.
    pub fn is_empty(&self) -> bool {
        self.limits.is_none() && self.reservations.is_none()
    }
}

/// Hard resource caps of a task.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct ResourceLimits {
    /// CPU cap.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpus: Option<Cpus>,
    /// Memory cap.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory: Option<ByteSize>,
    /// Maximum number of processes (-1 for unlimited).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pids: Option<i64>,
}

/// Resources the scheduler reserves for a task.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct ResourceReservations {
    /// CPUs reserved.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpus: Option<Cpus>,
    /// Memory reserved.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory: Option<ByteSize>,
    /// Node-advertised resources such as GPUs.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub generic_resources: Vec<GenericResource>,
}

/// One generic (node-advertised) resource requirement.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct GenericResource {
    /// A countable resource (`gpu: 2`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub discrete_resource_spec: Option<DiscreteResource>,
    /// A named resource (`gpu: UUID`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub named_resource_spec: Option<NamedResource>,
}

/// A countable generic resource.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct DiscreteResource {
    /// Resource kind, e.g. `gpu`.
    pub kind: String,
    /// How many.
    pub value: i64,
}

/// A named generic resource.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct NamedResource {
    /// Resource kind, e.g. `gpu`.
    pub kind: String,
    /// Resource name, e.g. a device UUID.
    pub value: String,
}

/// When a task that stopped is replaced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub enum RestartCondition {
    /// Never.
    #[serde(rename = "none")]
    None,
    /// Only when it exited non-zero.
    #[serde(rename = "on-failure")]
    OnFailure,
    /// Always (the default).
    #[serde(rename = "any")]
    Any,
}

/// The `restart_policy:` of a service.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct RestartPolicy {
    /// When to restart (default `any`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub condition: Option<RestartCondition>,
    /// Wait between restart attempts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delay: Option<Duration>,
    /// Give up after this many attempts within `window` (unlimited if unset).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_attempts: Option<u64>,
    /// Window over which attempts are counted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window: Option<Duration>,
}

/// What an update does when tasks fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum FailureAction {
    /// Stop the update and wait for an operator.
    Pause,
    /// Keep going.
    Continue,
    /// Roll back to the previous spec.
    Rollback,
}

/// Whether the old task stops before or after its replacement starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub enum UpdateOrder {
    /// Stop the old task, then start the new one.
    #[serde(rename = "stop-first")]
    StopFirst,
    /// Start the new task, then stop the old one.
    #[serde(rename = "start-first")]
    StartFirst,
}

/// `update_config:` / `rollback_config:` of a service.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct UpdateConfig {
    /// Tasks updated at once (0 = all).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parallelism: Option<u64>,
    /// Wait between batches.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delay: Option<Duration>,
    /// What to do when the failure ratio is exceeded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure_action: Option<FailureAction>,
    /// How long each updated task is watched for failure.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub monitor: Option<Duration>,
    /// Fraction of tasks (0 to 1) that may fail before `failure_action` applies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0.0, max = 1.0))]
    pub max_failure_ratio: Option<f64>,
    /// Stop-first or start-first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order: Option<UpdateOrder>,
}
