//! Feasibility: can this node take this task? Each filter rejects with a [`Reason`], grouped
//! and counted into the pending explanation.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Write as _;

use model::service::{PortMode, Protocol, ServiceSpec};
use model::{
    Availability, Constraint, ConstraintError, ConstraintKey, ConstraintOp, NodeRole, NodeState,
};

use crate::NodeObj;

/// Why a node cannot take a task. Declaration order is the display order among equal counts.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Reason {
    /// A placement constraint does not hold (its text).
    Constraint(String),
    /// A constraint could not be parsed (`invalid constraint: ` and the parse error).
    InvalidConstraint(String),
    /// Not enough unreserved cpu and/or memory.
    Resources { cpu: bool, memory: bool },
    /// A host-mode published port is taken.
    Port(u16, Protocol),
    /// `max_replicas_per_node` tasks of the service already run there.
    MaxReplicas(u64),
    /// Availability drain.
    Drained,
    /// Availability pause.
    Paused,
    /// Not ready: `down`, `disconnected` or `not ready`.
    NotReady(&'static str),
}

fn nodes(n: usize) -> String {
    if n == 1 {
        "1 node".to_owned()
    } else {
        format!("{n} nodes")
    }
}

impl Reason {
    /// `1 node: insufficient memory`, `2 nodes drained`.
    pub fn describe(&self, count: usize) -> String {
        let n = nodes(count);
        match self {
            Reason::Constraint(c) => format!("{n}: constraint {c} not met"),
            Reason::InvalidConstraint(e) => format!("{n}: {e}"),
            Reason::Resources { cpu, memory } => {
                let what = match (cpu, memory) {
                    (true, true) => "cpu and memory",
                    (true, false) => "cpu",
                    _ => "memory",
                };
                format!("{n}: insufficient {what}")
            }
            Reason::Port(port, proto) => format!("{n}: host port {port}/{proto} in use"),
            Reason::MaxReplicas(max) => format!("{n}: max_replicas_per_node {max} reached"),
            Reason::Drained => format!("{n} drained"),
            Reason::Paused => format!("{n} paused"),
            Reason::NotReady(why) => format!("{n} {why}"),
        }
    }
}

/// `no suitable node (1 node: constraint node.labels.disk==ssd not met; 1 node drained)`:
/// reasons grouped, most frequent first.
pub fn explain(rejections: &[Reason]) -> String {
    if rejections.is_empty() {
        return "no suitable node (no nodes in the cluster)".to_owned();
    }
    let mut counts: BTreeMap<&Reason, usize> = BTreeMap::new();
    for r in rejections {
        *counts.entry(r).or_default() += 1;
    }
    let mut groups: Vec<(&Reason, usize)> = counts.into_iter().collect();
    groups.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    let mut out = String::from("no suitable node (");
    for (i, (reason, count)) in groups.iter().enumerate() {
        if i > 0 {
            out.push_str("; ");
        }
        let _ = write!(out, "{}", reason.describe(*count));
    }
    out.push(')');
    out
}

/// What is already committed to a node: reservations, host ports, task counts.
#[derive(Clone, Debug, Default)]
pub struct Usage {
    pub nano_cpus: i64,
    pub memory_bytes: i64,
    pub ports: BTreeSet<(u16, Protocol)>,
    pub per_service: HashMap<String, u64>,
    pub total: u64,
}

impl Usage {
    /// Accounts one more task of `service_id` running `spec` on the node.
    pub fn add(&mut self, service_id: &str, spec: &ServiceSpec) {
        let (cpus, mem) = reservations(spec);
        self.nano_cpus += cpus;
        self.memory_bytes += mem;
        self.ports.extend(host_ports(spec));
        *self.per_service.entry(service_id.to_owned()).or_default() += 1;
        self.total += 1;
    }
}

/// Reserved (nano cpus, memory bytes) of a spec.
pub fn reservations(spec: &ServiceSpec) -> (i64, i64) {
    let r = spec
        .deploy
        .as_ref()
        .and_then(|d| d.resources.reservations.as_ref());
    let cpus = r.and_then(|r| r.cpus).map_or(0, |c| c.nano_cpus());
    let mem = r
        .and_then(|r| r.memory)
        .map_or(0, |m| i64::try_from(m.0).unwrap_or(i64::MAX));
    (cpus, mem)
}

/// Host-mode published ports of a spec (ingress ports are shared by the routing mesh).
pub fn host_ports(spec: &ServiceSpec) -> impl Iterator<Item = (u16, Protocol)> + '_ {
    spec.ports
        .iter()
        .filter(|p| p.mode == PortMode::Host)
        .filter_map(|p| p.published.map(|port| (port, p.protocol)))
}

/// The parsed constraints of a spec, or the first parse error.
pub fn constraints(spec: &ServiceSpec) -> Result<Vec<Constraint>, ConstraintError> {
    spec.deploy
        .as_ref()
        .map(|d| d.placement.constraints.as_slice())
        .unwrap_or_default()
        .iter()
        .map(|c| Constraint::parse(c))
        .collect()
}

/// Ready and active: may receive new tasks.
pub fn availability(node: &NodeObj) -> Result<(), Reason> {
    if node.status.state != NodeState::Ready {
        return Err(Reason::NotReady(match node.status.state {
            NodeState::Down => "down",
            NodeState::Disconnected => "disconnected",
            _ => "not ready",
        }));
    }
    match node.spec.availability {
        Availability::Active => Ok(()),
        Availability::Pause => Err(Reason::Paused),
        Availability::Drain => Err(Reason::Drained),
    }
}

/// The first constraint the node does not satisfy.
pub fn check_constraints(constraints: &[Constraint], node: &NodeObj) -> Result<(), Reason> {
    match constraints.iter().find(|c| !matches(c, node)) {
        Some(c) => Err(Reason::Constraint(c.to_string())),
        None => Ok(()),
    }
}

/// Ready, active and within the constraints: a global service runs a task here.
pub fn eligible(spec: &ServiceSpec, node: &NodeObj) -> bool {
    availability(node).is_ok()
        && constraints(spec).is_ok_and(|cs| check_constraints(&cs, node).is_ok())
}

/// True when the node (still) satisfies the spec's constraints.
pub fn satisfies_constraints(spec: &ServiceSpec, node: &NodeObj) -> bool {
    constraints(spec).is_ok_and(|cs| check_constraints(&cs, node).is_ok())
}

/// Resources, ports and per-node limit, given what the node already carries.
pub fn check_capacity(
    service_id: &str,
    spec: &ServiceSpec,
    node: &NodeObj,
    usage: &Usage,
) -> Result<(), Reason> {
    let (cpus, mem) = reservations(spec);
    let res = &node.status.resources;
    let cpu_short = cpus > 0 && usage.nano_cpus + cpus > res.nano_cpus;
    let mem_short = mem > 0 && usage.memory_bytes + mem > res.memory_bytes;
    if cpu_short || mem_short {
        return Err(Reason::Resources {
            cpu: cpu_short,
            memory: mem_short,
        });
    }
    if let Some(taken) = host_ports(spec).find(|p| usage.ports.contains(p)) {
        return Err(Reason::Port(taken.0, taken.1));
    }
    let max = spec
        .deploy
        .as_ref()
        .and_then(|d| d.placement.max_replicas_per_node);
    if let Some(max) = max.filter(|m| *m > 0)
        && usage.per_service.get(service_id).copied().unwrap_or(0) >= max
    {
        return Err(Reason::MaxReplicas(max));
    }
    Ok(())
}

/// The node's value for a constraint or spread key (`None` when a label is absent).
pub fn attribute<'a>(node: &'a NodeObj, key: &ConstraintKey) -> Option<&'a str> {
    match key {
        ConstraintKey::NodeId => Some(&node.id),
        ConstraintKey::NodeHostname => Some(&node.status.hostname),
        ConstraintKey::NodeRole => Some(match node.spec.role {
            NodeRole::Manager => "manager",
            NodeRole::Worker => "worker",
        }),
        ConstraintKey::NodePlatformOs => Some(&node.status.platform.os),
        ConstraintKey::NodePlatformArch => Some(&node.status.platform.arch),
        ConstraintKey::NodeLabel(l) => node.spec.labels.get(l).map(String::as_str),
        ConstraintKey::EngineLabel(l) => node.status.engine_labels.get(l).map(String::as_str),
    }
}

/// Docker compares case-insensitively; architectures have aliases (`amd64` is `x86_64`).
fn same_value(key: &ConstraintKey, have: &str, want: &str) -> bool {
    let norm = |v: &str| {
        let v = v.to_ascii_lowercase();
        if *key != ConstraintKey::NodePlatformArch {
            return v;
        }
        match v.as_str() {
            "amd64" => "x86_64".to_owned(),
            "arm64" => "aarch64".to_owned(),
            _ => v,
        }
    };
    norm(have) == norm(want)
}

fn matches(c: &Constraint, node: &NodeObj) -> bool {
    let equal = attribute(node, &c.key).is_some_and(|have| same_value(&c.key, have, &c.value));
    match c.op {
        ConstraintOp::Eq => equal,
        // A missing label is "not equal" to anything, as in Docker.
        ConstraintOp::Ne => !equal,
    }
}
