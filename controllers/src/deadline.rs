//! When the next pass is due although nothing changes in the store: the earliest instant at
//! which a controller would decide differently only because time has passed ("requeue after" in
//! kube-runtime's terms). The runner sleeps until then (or until a commit) instead of polling.
//!
//! Each entry mirrors a comparison against `now` in a controller: a restart held until its
//! release time (scheduler) or prepared until its `start_at` (handoff), a slot cooling down for
//! `update_config.delay` and the `monitor` window before an update is called completed
//! (update), a node down for longer than the grace period (node drain), and a restart attempt
//! leaving the restart policy's `window` (restart).

use model::service::UpdateState;
use model::{NodeState, TaskState, Timestamp};

use crate::tasks::{RolloutConfig, after, ended, is_live, millis, same_container_spec};
use crate::{ClusterView, ServiceObj, handoff};

/// The earliest instant after `now` at which a pass over `view` could decide something it
/// would not decide at `now`; `None` when only a store change can.
pub fn next(view: &ClusterView, now: Timestamp, node_down_grace_ms: i64) -> Option<Timestamp> {
    let held = view.tasks().values().filter_map(|t| {
        let waiting = t.status.state == TaskState::Pending && t.status.node_id.is_none();
        waiting.then_some(t.status.timestamp)
    });
    let prepared = view
        .tasks()
        .values()
        .filter(|t| handoff::prepared(t))
        .filter_map(|t| t.spec.start_at);
    let grace = view.nodes().values().filter_map(|n| {
        let down = matches!(n.status.state, NodeState::Down | NodeState::Disconnected);
        // `dead_for` orphans once the silence is strictly longer than the grace.
        down.then_some(n.status.last_heartbeat)
            .flatten()
            .map(|beat| Timestamp(beat.0.saturating_add(node_down_grace_ms).saturating_add(1)))
    });
    let services = view
        .services()
        .values()
        .flat_map(|svc| update_deadlines(svc, view).chain(restart_window_deadlines(svc, view)));
    held.chain(prepared)
        .chain(grace)
        .chain(services)
        .filter(|at| *at > now)
        .min()
}

/// The ends of the `delay` cool-down of each replacement and of the final `monitor` window, while
/// an update or rollback is in progress.
fn update_deadlines<'a>(
    svc: &'a ServiceObj,
    view: &'a ClusterView,
) -> impl Iterator<Item = Timestamp> + 'a {
    let update = svc.status.update.as_ref().filter(|u| {
        matches!(
            u.state,
            UpdateState::Updating | UpdateState::RollbackStarted
        )
    });
    let config = update.map(|u| {
        let deploy = svc.spec.deploy.as_ref();
        let config = if u.state == UpdateState::RollbackStarted {
            deploy.and_then(|d| d.rollback_config.as_ref())
        } else {
            deploy.and_then(|d| d.update_config.as_ref())
        };
        (u.started_at, RolloutConfig::from(config))
    });
    config.into_iter().flat_map(move |(started_at, cfg)| {
        let up: Vec<Timestamp> = view
            .tasks_of(&svc.id)
            .filter(|t| {
                t.status.state == TaskState::Running
                    && t.status.timestamp >= started_at
                    && same_container_spec(&t.spec.service_spec, &svc.spec)
            })
            .map(|t| t.status.timestamp)
            .collect();
        // A slot's cool-down only matters while slots wait for a worker; the update completes
        // `monitor` after the last replacement came up.
        let waiting = view
            .tasks_of(&svc.id)
            .any(|t| is_live(t) && !same_container_spec(&t.spec.service_spec, &svc.spec));
        let cooling = up
            .iter()
            .filter(move |_| waiting)
            .map(move |at| after(*at, cfg.delay));
        let monitor = up.iter().max().map(|at| after(*at, cfg.monitor));
        cooling.chain(monitor).collect::<Vec<_>>()
    })
}

/// When each counted restart attempt leaves the restart policy's `window` (so a slot whose
/// attempts were exhausted may be restarted again).
fn restart_window_deadlines<'a>(
    svc: &'a ServiceObj,
    view: &'a ClusterView,
) -> impl Iterator<Item = Timestamp> + 'a {
    let policy = svc
        .spec
        .deploy
        .as_ref()
        .and_then(|d| d.restart_policy.as_ref());
    let window = policy
        .filter(|p| p.max_attempts.is_some_and(|m| m > 0))
        .and_then(|p| p.window)
        .filter(|w| w.0 > 0);
    window.into_iter().flat_map(move |window| {
        view.tasks_of(&svc.id)
            .filter(|t| ended(t))
            // `decide` counts attempts with `timestamp >= now - window`.
            .map(move |t| Timestamp(t.status.timestamp.0.saturating_add(millis(window)) + 1))
    })
}
