//! One task's worker: observes the task's container, asks `step` what to do, does it, reports
//! the new status. One worker per task, so the same task is never handled twice at once.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use model::service::PortMode;
use model::{TaskState, TaskStatus};
use tokio::sync::{Notify, mpsc, watch};
use wire::{TaskAssignment, TaskReport};

use super::error::RuntimeError;
use super::ingress::{Backend, Backends};
use super::names::container_name;
use super::runtime::{ContainerRuntime, HealthStatus, Observed};
use super::step::{StepAction, current_status, failed, step, stop_grace};
use crate::clock::Clock;

/// What every worker of an agent shares.
pub(super) struct Shared<R> {
    pub runtime: Arc<R>,
    pub node_id: String,
    pub reports: mpsc::UnboundedSender<TaskReport>,
    pub backends: watch::Sender<Backends>,
    /// Re-inspection period when no event arrives (events are the fast path).
    pub poll: Duration,
    /// What reports are stamped with (the step function takes time as an argument).
    pub clock: Clock,
}

/// Runs one task until it is unassigned and its container is gone; returns its id.
pub(super) async fn run<R: ContainerRuntime>(
    shared: Arc<Shared<R>>,
    mut assignment: watch::Receiver<Option<Arc<TaskAssignment>>>,
    wake: Arc<Notify>,
    task_id: String,
) -> String {
    let mut local: Option<TaskStatus> = None;
    let mut released = false;
    let mut last: Option<Arc<TaskAssignment>> = None;
    loop {
        // Cloned only when it changed: a worker loops on every poll and event. (Compared, not
        // `has_changed`: waiting in `idle` already marks a change seen.)
        let changed = {
            let current = assignment.borrow_and_update();
            (last.is_none() || current.as_ref() != last.as_ref()).then(|| current.clone())
        };
        if let Some(next) = changed {
            let Some(next) = next else {
                if let Some(task) = &last {
                    Box::pin(teardown(&shared, task)).await;
                }
                return task_id;
            };
            last = Some(next);
        }
        let Some(task) = &last else {
            return task_id;
        };
        let name = container_name(task, &shared.node_id);
        // Every await on the runtime is boxed: the future lives on the heap only while it
        // runs, instead of making every idle worker's task as big as the biggest of them
        // (~6 KB per task at 10k tasks, measured with heaptrack).
        let observed = match Box::pin(shared.runtime.inspect(&name)).await {
            Ok(observed) => observed,
            Err(e) => {
                tracing::warn!(error = %e, "cannot inspect the task's container");
                idle(&mut assignment, &wake, Some(shared.poll)).await;
                continue;
            }
        };
        let current = current_status(task, local.as_ref()).clone();
        let (action, next) = step(task, &current, observed.as_ref(), shared.clock.now());
        let moved = next.is_some();
        if let Some(next) = next {
            tracing::info!(state = ?next.state, error = next.error.as_deref(), "task status");
            report(&shared, &task_id, &next);
            local = Some(next);
        }
        let status = current_status(task, local.as_ref()).clone();
        publish_backends(&shared, task, &status, observed.as_ref());

        let result = match action {
            StepAction::Wait => None,
            StepAction::Release if released => None,
            StepAction::Release => {
                released = true;
                Some(Box::pin(shared.runtime.release(&task_id)).await)
            }
            StepAction::Prepare => Some(Box::pin(prepare(&shared, task)).await.map(|_| ())),
            StepAction::Start => Some(Box::pin(shared.runtime.start(&name)).await),
            StepAction::Stop { signal, grace } => {
                Some(Box::pin(shared.runtime.stop(&name, signal.as_deref(), Some(grace))).await)
            }
            StepAction::Remove => Some(match Box::pin(shared.runtime.remove(&name)).await {
                Ok(()) => {
                    released = true;
                    Box::pin(shared.runtime.release(&task_id)).await
                }
                Err(e) => Err(e),
            }),
        };
        let Some(result) = result else {
            // Nothing to do: sleep unless the state just moved (then step again at once).
            if !moved {
                let poll = (!status.state.is_terminal()).then_some(shared.poll);
                idle(&mut assignment, &wake, poll).await;
            }
            continue;
        };
        if let Err(e) = result {
            if status.state.is_terminal() {
                // Nothing to report any more; retry the clean-up later.
                tracing::warn!(error = %e, "task clean-up failed");
                idle(&mut assignment, &wake, Some(shared.poll)).await;
            } else {
                let status = failed(&status, e.to_string(), shared.clock.now());
                tracing::warn!(error = %e, "task failed");
                report(&shared, &task_id, &status);
                local = Some(status);
            }
        }
    }
}

/// Image (pulled once if missing), volumes, files, networks, container.
async fn prepare<R: ContainerRuntime>(
    shared: &Shared<R>,
    task: &TaskAssignment,
) -> Result<String, RuntimeError> {
    let image = task.spec.image.as_deref().unwrap_or_default();
    if !image.is_empty() && !shared.runtime.image_present(image).await? {
        tracing::info!(image, "pulling image");
        shared.runtime.pull_image(image).await?;
    }
    shared.runtime.prepare(task).await?;
    shared.runtime.create(task, &shared.node_id).await
}

/// The task left the assignments: out of the routing mesh, container stopped (with the
/// task's signal and grace period) and removed, files and unused networks released.
async fn teardown<R: ContainerRuntime>(shared: &Shared<R>, task: &TaskAssignment) {
    shared
        .backends
        .send_if_modified(|b| b.remove(&task.task_id).is_some());
    let name = container_name(task, &shared.node_id);
    let result = async {
        if let Some(o) = shared.runtime.inspect(&name).await? {
            if o.is_running() {
                let signal = task.spec.stop_signal.as_deref();
                shared
                    .runtime
                    .stop(&name, signal, Some(stop_grace(task)))
                    .await?;
            }
            shared.runtime.remove(&name).await?;
        }
        shared.runtime.release(&task.task_id).await
    };
    match result.await {
        Ok(()) => tracing::info!("task removed"),
        // The orphan sweep of the agent retries whatever is left.
        Err(e) => tracing::warn!(error = %e, "removing the task's container failed"),
    }
}

/// Keeps the task's published ingress ports open while it lives, with its address only while
/// it serves (running, not unhealthy, not asked to stop): a task about to stop gets no new
/// connections, its open ones finish.
fn publish_backends<R>(
    shared: &Shared<R>,
    task: &TaskAssignment,
    status: &TaskStatus,
    observed: Option<&Observed>,
) {
    let live = !status.state.is_terminal() && task.desired_state <= TaskState::Running;
    let ip = observed
        .filter(|o| {
            status.state == TaskState::Running
                && o.is_running()
                && o.health != Some(HealthStatus::Unhealthy)
        })
        .and_then(|o| o.addresses.first().copied());
    let backends: Vec<Backend> = task
        .spec
        .ports
        .iter()
        .filter(|p| live && p.mode == PortMode::Ingress)
        .filter_map(|p| {
            Some(Backend {
                protocol: p.protocol,
                published: p.published?,
                addr: ip.map(|ip| SocketAddr::new(ip, p.target)),
            })
        })
        .collect();
    shared.backends.send_if_modified(|all| {
        if backends.is_empty() {
            all.remove(&task.task_id).is_some()
        } else if all.get(&task.task_id) != Some(&backends) {
            all.insert(task.task_id.clone(), backends);
            true
        } else {
            false
        }
    });
}

/// Waits for a new assignment, an event about the container, or the poll period.
async fn idle(
    assignment: &mut watch::Receiver<Option<Arc<TaskAssignment>>>,
    wake: &Notify,
    poll: Option<Duration>,
) {
    let poll = async {
        match poll {
            Some(d) => tokio::time::sleep(d).await,
            None => std::future::pending().await,
        }
    };
    tokio::select! {
        changed = assignment.changed() => {
            if changed.is_err() {
                // The agent is gone: nothing will wake us again.
                std::future::pending::<()>().await;
            }
        }
        () = wake.notified() => {}
        () = poll => {}
    }
}

fn report<R>(shared: &Shared<R>, task_id: &str, status: &TaskStatus) {
    // The batcher only goes away when the agent stops; nothing to do then.
    let _ = shared.reports.send(TaskReport {
        task_id: task_id.to_string(),
        status: status.clone(),
    });
}
