//! The orchestrator: the right number of tasks per service.
//!
//! Replicated services (and replicated jobs) own slots `1..=replicas`; global services (and
//! global jobs) own one slot per eligible node. An empty slot gets a new task; a slot whose
//! newest task ended by itself is left to the restart policy ([`crate::restart`]); a job slot
//! whose task completed with the current spec is done. Slots beyond the desired set are shut
//! down, highest first. Out-of-date tasks are the update controller's business, not this one's.

use model::Timestamp;

use crate::scheduler::filters;
use crate::tasks::{Fate, Namer, SlotKey, fate, is_live, shut_down, slots_of};
use crate::{Action, ClusterView, ServiceObj};

/// Creates missing tasks and shuts down surplus ones for every service.
pub fn reconcile(view: &ClusterView, now: Timestamp) -> Vec<Action> {
    let mut namer = Namer::new(view, now);
    let mut out = Vec::new();
    for svc in view.services().values() {
        reconcile_service(svc, view, now, &mut namer, &mut out);
    }
    out
}

/// One service's share of [`reconcile`].
pub fn reconcile_service(
    svc: &ServiceObj,
    view: &ClusterView,
    now: Timestamp,
    namer: &mut Namer,
    out: &mut Vec<Action>,
) {
    let slots = slots_of(view, &svc.id);
    let desired = desired_slots(svc, view);
    for key in &desired {
        let tasks = slots.get(key).map(Vec::as_slice).unwrap_or_default();
        if fate(svc, tasks) == Fate::Empty {
            out.push(namer.task(svc, key, now));
        }
    }
    // Surplus: slots above `replicas`, highest first; global tasks on nodes that no longer
    // satisfy the constraints (drained and dead nodes are the node controller's).
    for (key, tasks) in slots.iter().rev() {
        let surplus = match key {
            SlotKey::Slot(_) => !desired.contains(key),
            SlotKey::Node(node) => view
                .nodes()
                .get(node)
                .is_some_and(|n| !filters::satisfies_constraints(&svc.spec, n)),
        };
        if surplus {
            out.extend(tasks.iter().filter(|t| is_live(t)).map(|t| shut_down(t)));
        }
    }
}

/// The slots a service should occupy right now.
pub fn desired_slots(svc: &ServiceObj, view: &ClusterView) -> Vec<SlotKey> {
    match svc.spec.replicas() {
        Some(n) => (1..=n).map(SlotKey::Slot).collect(),
        None => view
            .nodes()
            .values()
            .filter(|node| filters::eligible(&svc.spec, node))
            .map(|node| SlotKey::Node(node.id.clone()))
            .collect(),
    }
}
