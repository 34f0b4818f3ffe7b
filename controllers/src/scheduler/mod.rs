//! The scheduler: filter → rank → plan for every task waiting for a node.
//!
//! One pass plans the whole batch: each assignment is accounted (reservations, host ports,
//! per-node counts) before the next task is considered, so one plan never overcommits a node.
//! A task no node can take stays PENDING with an explanation, rewritten only when it changes;
//! so does a task whose `depends_on` services are not ready yet ([`depends`]).

pub mod depends;
pub mod filters;
pub mod rank;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use model::service::UpdateOrder;
use model::{ConstraintKey, TaskState, TaskStatus, Timestamp};

use crate::tasks::{SlotKey, by_creation, is_wanted};
use crate::{Action, ClusterView, NodeObj, TaskObj};
use filters::{Reason, Usage};

/// Assigns or explains every unassigned task; shuts down unassigned tasks no longer wanted.
pub fn reconcile(view: &ClusterView, now: Timestamp) -> Vec<Action> {
    let mut usage = committed_usage(view);
    let all_nodes: Vec<&NodeObj> = view.nodes().values().collect();
    let stopping = stopping_slots(view);
    let mut dependencies = depends::Dependencies::new(view);
    let mut waiting: Vec<&TaskObj> = view
        .tasks()
        .values()
        .map(Arc::as_ref)
        .filter(|t| unassigned(t))
        .collect();
    waiting.sort_by(|a, b| {
        (&a.spec.service_id, SlotKey::of(a))
            .cmp(&(&b.spec.service_id, SlotKey::of(b)))
            .then(by_creation(a, b))
    });

    let mut out = Vec::new();
    for task in waiting {
        if !is_wanted(task) {
            out.push(status(
                task,
                TaskState::Shutdown,
                None,
                "shut down before it was scheduled",
                now,
            ));
            continue;
        }
        if task.status.state == TaskState::Pending && task.status.timestamp > now {
            continue; // held by a restart delay until its timestamp
        }
        if let Some(why) = dependencies.waiting_for(task) {
            explain(task, why, now, &mut out);
            continue;
        }
        let spec = &task.spec.service_spec;
        let start_first = spec
            .deploy
            .as_ref()
            .and_then(|d| d.update_config.as_ref())
            .and_then(|u| u.order)
            == Some(UpdateOrder::StartFirst);
        // A replacement wanting READY is placed now and started only once the slot is free.
        let prepares_first = task.spec.desired_state == TaskState::Ready;
        let slot = SlotKey::of(task).map(|k| (task.spec.service_id.clone(), k));
        if let Some(other) = slot
            .and_then(|s| stopping.get(&s))
            .filter(|_| !start_first && !prepares_first)
        {
            explain(
                task,
                format!("waiting for task {other} to stop"),
                now,
                &mut out,
            );
            continue;
        }
        let candidates: Vec<&NodeObj> = match &task.spec.node_id {
            Some(bound) => view.nodes().get(bound).into_iter().collect(),
            None => all_nodes.clone(),
        };
        if let (true, Some(bound)) = (candidates.is_empty(), &task.spec.node_id) {
            let message = format!("no suitable node (node {bound} not found)");
            explain(task, message, now, &mut out);
            continue;
        }
        let (feasible, rejections) = filter(task, &candidates, &usage);
        let spread: Vec<ConstraintKey> = spec
            .deploy
            .iter()
            .flat_map(|d| d.placement.preferences.iter())
            .filter_map(|p| p.spread_key().ok())
            .collect();
        match rank::choose(
            &feasible,
            &all_nodes,
            &usage,
            &task.spec.service_id,
            &spread,
        ) {
            Some(node) => {
                usage
                    .entry(node.id.clone())
                    .or_default()
                    .add(&task.spec.service_id, spec);
                out.push(status(
                    task,
                    TaskState::Assigned,
                    Some(node.id.clone()),
                    "",
                    now,
                ));
            }
            None => explain(task, filters::explain(&rejections), now, &mut out),
        }
    }
    out
}

/// Waiting for a node: NEW or PENDING and not placed.
fn unassigned(task: &TaskObj) -> bool {
    task.status.node_id.is_none() && task.status.state <= TaskState::Pending
}

/// Runs the filters over the candidates: the nodes that fit, and why the others do not.
fn filter<'a>(
    task: &TaskObj,
    candidates: &[&'a NodeObj],
    usage: &HashMap<String, Usage>,
) -> (Vec<&'a NodeObj>, Vec<Reason>) {
    let spec = &task.spec.service_spec;
    let constraints = filters::constraints(spec);
    let empty = Usage::default();
    let mut feasible = Vec::new();
    let mut rejections = Vec::new();
    for node in candidates {
        let verdict = filters::availability(node)
            .and_then(|()| match &constraints {
                Ok(cs) => filters::check_constraints(cs, node),
                Err(e) => Err(Reason::InvalidConstraint(format!(
                    "invalid constraint: {e}"
                ))),
            })
            .and_then(|()| {
                let used = usage.get(&node.id).unwrap_or(&empty);
                filters::check_capacity(&task.spec.service_id, spec, node, used)
            });
        match verdict {
            Ok(()) => feasible.push(*node),
            Err(reason) => rejections.push(reason),
        }
    }
    (feasible, rejections)
}

/// What placed, unfinished tasks already hold on each node. A task being stopped for a
/// replacement that waits to start (READY) hands its share to that replacement: the two never
/// run at once.
fn committed_usage(view: &ClusterView) -> HashMap<String, Usage> {
    let handed_over: HashSet<(&str, SlotKey)> = view
        .tasks()
        .values()
        .filter(|t| t.spec.desired_state == TaskState::Ready && !t.status.state.is_terminal())
        .filter_map(|t| Some((t.spec.service_id.as_str(), SlotKey::of(t)?)))
        .collect();
    let mut usage: HashMap<String, Usage> = HashMap::new();
    for task in view.tasks().values() {
        if task.status.state.is_terminal() {
            continue;
        }
        let handing_over = !is_wanted(task)
            && SlotKey::of(task)
                .is_some_and(|k| handed_over.contains(&(task.spec.service_id.as_str(), k)));
        if handing_over {
            continue;
        }
        if let Some(node) = &task.status.node_id {
            usage
                .entry(node.clone())
                .or_default()
                .add(&task.spec.service_id, &task.spec.service_spec);
        }
    }
    usage
}

/// Slots where a placed task is still stopping: a replacement waits for it (stop-first), so a
/// slot never runs two tasks at once unless the service asked for start-first.
fn stopping_slots(view: &ClusterView) -> HashMap<(String, SlotKey), String> {
    let mut seen = HashSet::new();
    let mut out = HashMap::new();
    for task in view.tasks().values() {
        if is_wanted(task) || task.status.state.is_terminal() || unassigned(task) {
            continue;
        }
        if let Some(key) = SlotKey::of(task) {
            let slot = (task.spec.service_id.clone(), key);
            if seen.insert(slot.clone()) {
                out.insert(slot, task.name.clone());
            }
        }
    }
    out
}

fn status(
    task: &TaskObj,
    state: TaskState,
    node_id: Option<String>,
    message: &str,
    now: Timestamp,
) -> Action {
    Action::SetTaskStatus {
        task_id: task.id.clone(),
        version: Some(task.version),
        status: TaskStatus {
            state,
            node_id,
            message: message.to_owned(),
            timestamp: now,
            ..TaskStatus::default()
        },
    }
}

/// PENDING with `message`, unless the task already says exactly that.
fn explain(task: &TaskObj, message: String, now: Timestamp, out: &mut Vec<Action>) {
    if task.status.state == TaskState::Pending && task.status.message == message {
        return;
    }
    out.push(status(task, TaskState::Pending, None, &message, now));
}
