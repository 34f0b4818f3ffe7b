//! Builders for controller tests — `ServiceObj::test("web").replicas(3)`,
//! `NodeObj::test("n1").label("disk", "ssd")`, `TaskObj::test(&svc, 1)`, `view![...]` — and a
//! small cluster simulation ([`Sim`]) that commits passes like the store and plays the agents.

mod sim;

use model::service::{
    DependsCondition, DependsOn, Deploy, PortConfig, PortMode, ResourceReservations, RestartPolicy,
    ServiceMode, ServiceSpec, UpdateConfig,
};
use model::{
    Availability, ByteSize, Cpus, NodeRole, NodeSpec, NodeState, NodeStatus, PlacementPreference,
    TaskSpec, TaskState, TaskStatus, Timestamp,
};

use crate::{ClusterView, NodeObj, ServiceObj, TaskObj};
pub use sim::Sim;

/// One GiB, for `.memory(..)`.
pub const GIB: u64 = 1 << 30;

impl ServiceObj {
    /// A replicated service `name` (id = name, version 1) running `busybox`, 1 replica.
    pub fn test(name: &str) -> ServiceObj {
        ServiceObj {
            id: name.to_owned(),
            version: 1,
            name: name.to_owned(),
            stack: None,
            spec: ServiceSpec {
                image: Some("busybox".to_owned()),
                deploy: Some(Deploy::default()),
                ..ServiceSpec::default()
            },
            status: Default::default(),
        }
    }

    fn deploy(&mut self) -> &mut Deploy {
        self.spec.deploy.get_or_insert_with(Deploy::default)
    }

    /// Sets `deploy.replicas`.
    pub fn replicas(mut self, n: u64) -> ServiceObj {
        self.deploy().replicas = Some(n);
        self
    }

    /// Sets the mode.
    pub fn mode(mut self, mode: ServiceMode) -> ServiceObj {
        self.deploy().mode = mode;
        self
    }

    /// Global mode.
    pub fn global(self) -> ServiceObj {
        self.mode(ServiceMode::Global)
    }

    /// A replicated job of `completions` tasks.
    pub fn job(self, completions: u64) -> ServiceObj {
        self.mode(ServiceMode::ReplicatedJob).replicas(completions)
    }

    /// Sets the image (a spec change that replaces tasks).
    pub fn image(mut self, image: &str) -> ServiceObj {
        self.spec.image = Some(image.to_owned());
        self
    }

    /// Sets the store version.
    pub fn version(mut self, version: u64) -> ServiceObj {
        self.version = version;
        self
    }

    /// Sets the stack.
    pub fn stack(mut self, stack: &str) -> ServiceObj {
        self.stack = Some(stack.to_owned());
        self
    }

    /// Adds a `depends_on` entry.
    pub fn depends_on(mut self, service: &str, condition: DependsCondition) -> ServiceObj {
        let dep = DependsOn {
            condition,
            ..DependsOn::default()
        };
        self.spec.depends_on.insert(service.to_owned(), dep);
        self
    }

    /// Sets the restart policy.
    pub fn restart(mut self, policy: RestartPolicy) -> ServiceObj {
        self.deploy().restart_policy = Some(policy);
        self
    }

    /// Sets `update_config`.
    pub fn update_config(mut self, config: UpdateConfig) -> ServiceObj {
        self.deploy().update_config = Some(config);
        self
    }

    /// Sets `rollback_config`.
    pub fn rollback_config(mut self, config: UpdateConfig) -> ServiceObj {
        self.deploy().rollback_config = Some(config);
        self
    }

    /// Adds a placement constraint.
    pub fn constraint(mut self, constraint: &str) -> ServiceObj {
        self.deploy()
            .placement
            .constraints
            .push(constraint.to_owned());
        self
    }

    /// Adds a spread preference (`node.labels.az`).
    pub fn spread(mut self, key: &str) -> ServiceObj {
        self.deploy()
            .placement
            .preferences
            .push(PlacementPreference {
                spread: key.to_owned(),
            });
        self
    }

    /// Sets `max_replicas_per_node`.
    pub fn max_per_node(mut self, n: u64) -> ServiceObj {
        self.deploy().placement.max_replicas_per_node = Some(n);
        self
    }

    /// Reserves cpus and memory bytes per task.
    pub fn reserve(mut self, cpus: f64, memory: u64) -> ServiceObj {
        self.deploy().resources.reservations = Some(ResourceReservations {
            cpus: (cpus > 0.0).then_some(Cpus(cpus)),
            memory: (memory > 0).then_some(ByteSize(memory)),
            generic_resources: Vec::new(),
        });
        self
    }

    /// Publishes `port`/tcp in host mode.
    pub fn host_port(mut self, port: u16) -> ServiceObj {
        self.spec.ports.push(PortConfig {
            published: Some(port),
            mode: PortMode::Host,
            ..PortConfig::target(port)
        });
        self
    }
}

impl NodeObj {
    /// A ready, active worker `id` (hostname = id), linux/x86_64, 4 cpus, 8 GiB.
    pub fn test(id: &str) -> NodeObj {
        let mut status = NodeStatus {
            state: NodeState::Ready,
            hostname: id.to_owned(),
            last_heartbeat: Some(Timestamp(0)),
            ..NodeStatus::default()
        };
        status.platform.os = "linux".to_owned();
        status.platform.arch = "x86_64".to_owned();
        status.resources.nano_cpus = 4_000_000_000;
        status.resources.memory_bytes = 8 << 30;
        NodeObj {
            id: id.to_owned(),
            version: 1,
            name: id.to_owned(),
            spec: NodeSpec::default(),
            status,
        }
    }

    /// Adds a node label.
    pub fn label(mut self, key: &str, value: &str) -> NodeObj {
        self.spec.labels.insert(key.to_owned(), value.to_owned());
        self
    }

    /// Adds an engine label.
    pub fn engine_label(mut self, key: &str, value: &str) -> NodeObj {
        self.status
            .engine_labels
            .insert(key.to_owned(), value.to_owned());
        self
    }

    /// Sets memory capacity in bytes.
    pub fn memory(mut self, bytes: u64) -> NodeObj {
        self.status.resources.memory_bytes = i64::try_from(bytes).unwrap_or(i64::MAX);
        self
    }

    /// Sets cpu capacity.
    pub fn cpus(mut self, cpus: f64) -> NodeObj {
        self.status.resources.nano_cpus = Cpus(cpus).nano_cpus();
        self
    }

    /// Sets availability.
    pub fn availability(mut self, availability: Availability) -> NodeObj {
        self.spec.availability = availability;
        self
    }

    /// Availability drain.
    pub fn drain(self) -> NodeObj {
        self.availability(Availability::Drain)
    }

    /// Availability pause.
    pub fn pause(self) -> NodeObj {
        self.availability(Availability::Pause)
    }

    /// Down, last heard from at `last_heartbeat_ms`.
    pub fn down(mut self, last_heartbeat_ms: i64) -> NodeObj {
        self.status.state = NodeState::Down;
        self.status.last_heartbeat = Some(Timestamp(last_heartbeat_ms));
        self
    }

    /// Manager role.
    pub fn manager(mut self) -> NodeObj {
        self.spec.role = NodeRole::Manager;
        self
    }

    /// Sets OS and architecture.
    pub fn platform(mut self, os: &str, arch: &str) -> NodeObj {
        self.status.platform.os = os.to_owned();
        self.status.platform.arch = arch.to_owned();
        self
    }
}

impl TaskObj {
    /// A RUNNING task of `svc` in `slot` (id `web.1`, name `web.1.1`), current spec, no node.
    pub fn test(svc: &ServiceObj, slot: u64) -> TaskObj {
        TaskObj {
            id: format!("{}.{slot}", svc.name),
            version: 1,
            name: format!("{}.{slot}.1", svc.name),
            spec: TaskSpec {
                service_id: svc.id.clone(),
                slot: Some(slot),
                node_id: None,
                service_spec: std::sync::Arc::new(svc.spec.clone()),
                spec_version: svc.version,
                desired_state: if svc.spec.mode().is_job() {
                    TaskState::Complete
                } else {
                    TaskState::Running
                },
                start_at: None,
            },
            status: TaskStatus {
                state: TaskState::Running,
                ..TaskStatus::default()
            },
        }
    }

    /// A RUNNING task of global `svc` bound to and placed on `node` (id `web.n1`).
    pub fn global(svc: &ServiceObj, node: &str) -> TaskObj {
        let mut task = TaskObj::test(svc, 0);
        task.id = format!("{}.{node}", svc.name);
        task.name = format!("{}.{node}.1", svc.name);
        task.spec.slot = None;
        task.spec.node_id = Some(node.to_owned());
        task.status.node_id = Some(node.to_owned());
        task
    }

    /// Placed on `node`.
    pub fn on(mut self, node: &str) -> TaskObj {
        self.status.node_id = Some(node.to_owned());
        self
    }

    /// Observed state.
    pub fn state(mut self, state: TaskState) -> TaskObj {
        self.status.state = state;
        self
    }

    /// Desired state.
    pub fn desired(mut self, state: TaskState) -> TaskObj {
        self.spec.desired_state = state;
        self
    }

    /// Status timestamp (ms).
    pub fn at(mut self, ms: i64) -> TaskObj {
        self.status.timestamp = Timestamp(ms);
        self
    }

    /// Reported RUNNING at `ms` (it ran, so its restart is prepared ahead).
    pub fn started(mut self, ms: i64) -> TaskObj {
        self.status.started_at = Some(Timestamp(ms));
        self
    }

    /// Creation sequence `n`: name `<svc>.<slot>.<n>`, id `<svc>.<slot>.<n>`.
    pub fn seq(mut self, n: u64) -> TaskObj {
        let base = self
            .name
            .rsplit_once('.')
            .map_or(self.name.clone(), |(b, _)| b.to_owned());
        self.name = format!("{base}.{n}");
        self.id = self.name.clone();
        self
    }

    /// Status message.
    pub fn message(mut self, message: &str) -> TaskObj {
        self.status.message = message.to_owned();
        self
    }
}

/// Something `view![...]` accepts.
pub trait IntoView {
    /// Adds itself to the view.
    fn add_to(self, view: &mut ClusterView);
}

impl IntoView for ServiceObj {
    fn add_to(self, view: &mut ClusterView) {
        view.insert_service(self);
    }
}

impl IntoView for NodeObj {
    fn add_to(self, view: &mut ClusterView) {
        view.insert_node(self);
    }
}

impl IntoView for TaskObj {
    fn add_to(self, view: &mut ClusterView) {
        view.insert_task(self);
    }
}

impl<T: IntoView> IntoView for Vec<T> {
    fn add_to(self, view: &mut ClusterView) {
        for item in self {
            item.add_to(view);
        }
    }
}

/// A [`ClusterView`] of services, nodes and tasks (or vectors of them).
#[macro_export]
macro_rules! view {
    ($($item:expr),* $(,)?) => {{
        #[allow(unused_mut)]
        let mut view = $crate::ClusterView::default();
        $( $crate::testing::IntoView::add_to($item, &mut view); )*
        view
    }};
}
