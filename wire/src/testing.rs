//! Builders for hand-made assignments (agent tests, controller tests on the simulator).

use std::sync::Arc;

use model::service::ServiceSpec;
use model::{TaskState, TaskStatus};

use crate::TaskAssignment;

impl TaskAssignment {
    /// A replicated task `<service>.1` of `image`, assigned and desired running.
    pub fn test(task_id: &str, service: &str, image: &str) -> TaskAssignment {
        TaskAssignment {
            task_id: task_id.into(),
            display_name: format!("{service}.1"),
            service_id: format!("svc-{service}"),
            service_name: service.into(),
            stack: None,
            slot: Some(1),
            spec: Arc::new(ServiceSpec {
                image: Some(image.into()),
                ..ServiceSpec::default()
            }),
            spec_version: 1,
            desired_state: TaskState::Running,
            status: TaskStatus {
                state: TaskState::Assigned,
                ..TaskStatus::default()
            },
            networks: Vec::new(),
            secrets: Vec::new(),
            configs: Vec::new(),
        }
    }

    /// Its service spec to edit (a copy of its own if the spec is shared).
    pub fn spec_mut(&mut self) -> &mut ServiceSpec {
        Arc::make_mut(&mut self.spec)
    }

    /// The same task with another desired state.
    pub fn desired(mut self, state: TaskState) -> TaskAssignment {
        self.desired_state = state;
        self
    }

    /// The same task in `stack`.
    pub fn in_stack(mut self, stack: &str) -> TaskAssignment {
        self.stack = Some(stack.into());
        self
    }

    /// The same task in replica slot `slot`.
    pub fn slot(mut self, slot: u64) -> TaskAssignment {
        self.slot = Some(slot);
        self.display_name = format!("{}.{slot}", self.service_name);
        self
    }
}
