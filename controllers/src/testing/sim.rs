//! A tiny cluster: commits each pass as one store command would (compare-and-set, unique task
//! names, one index per command) and plays the agents of ready nodes.

use model::{NodeState, TaskState, Timestamp};

use crate::{Action, ClusterView, Settings, TaskObj, reconcile_all_with, reconcile_pass};

/// Why the simulated store refuses a pass, as the real store would.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// An action targets an object that is not there.
    #[error("{kind} {id} not found")]
    NotFound {
        /// `task` or `service`.
        kind: &'static str,
        /// The object's id.
        id: String,
    },
    /// An action expects another version than the object's (compare-and-set).
    #[error("{kind} {id} is at {current}, not {expected}")]
    Stale {
        /// `task` or `service`.
        kind: &'static str,
        /// The object's id.
        id: String,
        /// The object's version.
        current: u64,
        /// The version the action expects.
        expected: u64,
    },
    /// A created task's name is already taken in its stack.
    #[error("task name {0} taken")]
    NameTaken(String),
}

/// A simulated cluster driven by [`crate::reconcile_all`].
#[derive(Clone, Debug)]
pub struct Sim {
    pub view: ClusterView,
    pub now: Timestamp,
    /// The next store index.
    pub index: u64,
    pub settings: Settings,
    /// Every committed pass, in order.
    pub log: Vec<Vec<Action>>,
}

impl Sim {
    /// A simulation of `view` at t = 1,000,000 ms.
    pub fn new(view: ClusterView) -> Sim {
        Sim {
            view,
            now: Timestamp(1_000_000),
            index: 100,
            settings: Settings::default(),
            log: Vec::new(),
        }
    }

    /// One reconcile pass, committed. Panics when the store would refuse it.
    pub fn pass(&mut self) -> Vec<Action> {
        let actions = reconcile_all_with(&self.view, self.now, &self.settings);
        if let Err(e) = self.commit(&actions) {
            panic!("the store would refuse this pass: {e}\n{actions:#?}");
        }
        if !actions.is_empty() {
            self.log.push(actions.clone());
        }
        actions
    }

    /// Commits `actions` as one command at the next index (each absorbed into the view), or changes nothing.
    pub fn commit(&mut self, actions: &[Action]) -> Result<(), Refusal> {
        let index = self.index;
        let mut next = self.view.clone();
        for (pos, action) in actions.iter().enumerate() {
            if let Some((kind, id)) = action.target() {
                let current = match kind {
                    "task" => next.tasks().get(id).map(|t| t.version),
                    _ => next.services().get(id).map(|s| s.version),
                };
                let Some(current) = current else {
                    return Err(Refusal::NotFound {
                        kind,
                        id: id.to_owned(),
                    });
                };
                if let Some(expected) = action.expected_version().filter(|v| *v != current) {
                    return Err(Refusal::Stale {
                        kind,
                        id: id.to_owned(),
                        current,
                        expected,
                    });
                }
            }
            if let Action::CreateTask { metadata, .. } = action {
                let taken = next.tasks().values().any(|t| {
                    t.name == metadata.name && self.stack_of(t) == metadata.stack.as_deref()
                });
                if taken {
                    return Err(Refusal::NameTaken(metadata.name.clone()));
                }
            }
            next.absorb(action, &format!("{index:012x}{pos:04x}"), Some(index));
        }
        self.view = next;
        self.index += 1;
        Ok(())
    }

    fn stack_of(&self, task: &TaskObj) -> Option<&str> {
        self.view
            .services()
            .get(&task.spec.service_id)
            .and_then(|s| s.stack.as_deref())
    }

    /// The agents of ready nodes: start assigned tasks, stop tasks no longer wanted. Returns
    /// true when something changed.
    pub fn agents(&mut self) -> bool {
        let mut reports = Vec::new();
        for task in self.view.tasks().values() {
            let Some(node) = task
                .status
                .node_id
                .as_ref()
                .and_then(|n| self.view.nodes().get(n))
            else {
                continue;
            };
            if node.status.state != NodeState::Ready || task.status.state.is_terminal() {
                continue;
            }
            if task.spec.desired_state > TaskState::Complete {
                reports.push((task.id.clone(), TaskState::Shutdown));
            } else if task.spec.desired_state == TaskState::Ready {
                if task.status.state < TaskState::Ready {
                    reports.push((task.id.clone(), TaskState::Ready));
                }
            } else if task.status.state < TaskState::Running {
                reports.push((task.id.clone(), TaskState::Running));
            }
        }
        let moved = !reports.is_empty();
        for (id, state) in reports {
            self.report(&id, state);
        }
        moved
    }

    /// An agent report: `state` now (one index per report).
    pub fn report(&mut self, task_id: &str, state: TaskState) {
        let (now, index) = (self.now, self.index);
        let found = self.view.update_task(task_id, |task| {
            task.status.state = state;
            task.status.timestamp = now;
            if state == TaskState::Running {
                task.status.started_at.get_or_insert(now);
            }
            task.status.message.clear();
            task.status.exit_code = match state {
                TaskState::Complete => Some(0),
                TaskState::Failed => Some(1),
                _ => task.status.exit_code,
            };
            task.version = index;
        });
        assert!(found, "no task {task_id}");
        self.index += 1;
    }

    /// Passes and agent steps at the current time until nothing changes; returns the rounds.
    pub fn converge(&mut self) -> usize {
        for round in 0..200 {
            let acted = !self.pass().is_empty();
            let moved = self.agents();
            if !acted && !moved {
                return round;
            }
        }
        panic!("no fixed point after 200 rounds");
    }

    /// Converges, then advances the clock one second at a time for `secs` seconds, converging
    /// after each step.
    pub fn run_for(&mut self, secs: i64) {
        self.converge();
        for _ in 0..secs {
            self.advance(1000);
            self.converge();
        }
    }

    /// The controllers' next deadline at the current time (when the runner would wake with no
    /// commit in between).
    pub fn deadline(&self) -> Option<Timestamp> {
        reconcile_pass(&self.view, self.now, &self.settings).requeue_at
    }

    /// Converges, then moves the clock to the next deadline as the runner sleeps until it, and
    /// converges again. False (clock unchanged) when nothing is due.
    pub fn sleep_until_deadline(&mut self) -> bool {
        self.converge();
        let Some(at) = self.deadline() else {
            return false;
        };
        self.now = at;
        self.converge();
        true
    }

    /// Moves the clock forward.
    pub fn advance(&mut self, ms: i64) {
        self.now = Timestamp(self.now.0 + ms);
    }

    /// Tasks of a service, oldest first.
    pub fn tasks(&self, service_id: &str) -> Vec<&TaskObj> {
        let mut tasks: Vec<&TaskObj> = (self.view.tasks().values())
            .map(std::sync::Arc::as_ref)
            .filter(|t| t.spec.service_id == service_id)
            .collect();
        tasks.sort_by(crate::tasks::by_creation);
        tasks
    }

    /// Live tasks of a service (wanted, not ended), oldest first.
    pub fn live(&self, service_id: &str) -> Vec<&TaskObj> {
        self.tasks(service_id)
            .into_iter()
            .filter(|t| crate::tasks::is_live(t))
            .collect()
    }

    /// Live tasks of a service in state `state`.
    pub fn in_state(&self, service_id: &str, state: TaskState) -> Vec<&TaskObj> {
        self.tasks(service_id)
            .into_iter()
            .filter(|t| t.status.state == state && crate::tasks::is_wanted(t))
            .collect()
    }

    /// Ids of the live tasks of a service with their slot or node.
    pub fn ids(&self, service_id: &str) -> Vec<String> {
        self.live(service_id).iter().map(|t| t.id.clone()).collect()
    }

    /// Mutable access to a node.
    pub fn node(&mut self, id: &str) -> &mut crate::NodeObj {
        match self.view.node_mut(id) {
            Some(node) => node,
            None => panic!("no node {id}"),
        }
    }

    /// A spec write by the API: `edit` the service and bump its version.
    pub fn edit_service(&mut self, id: &str, edit: impl FnOnce(&mut crate::ServiceObj)) {
        let index = self.index;
        let Some(svc) = self.view.service_mut(id) else {
            panic!("no service {id}");
        };
        edit(svc);
        svc.version = index;
        self.index += 1;
    }
}
