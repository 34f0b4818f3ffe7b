//! The agent: runs a node's assigned tasks on its container runtime and reports their status.
//!
//! `supervisor` (the `Agent`) keeps one `worker` per task; a worker asks the pure `step`
//! function what to do next and does it through a `ContainerRuntime` — `docker` (bollard) in
//! production, `sim` for simulations. `ingress` is the node's routing mesh.

mod docker;
mod docker_prepare;
mod docker_spec;
mod error;
pub mod files;
pub mod ingress;
mod logs;
pub mod names;
mod network_book;
pub mod runtime;
pub mod session;
pub mod sim;
pub mod step;
mod supervisor;
mod worker;

pub use docker::DockerRuntime;
pub use error::RuntimeError;
pub use runtime::{ContainerRuntime, LogLine, NodeInfo, Observed, OutputStream};
pub use session::{Backoff, SessionClient, SessionClientError};
pub use sim::SimRuntime;
pub use supervisor::Agent;

use model::node::{NodeResources, Platform};

/// What the node looks like (hostname, platform os/arch, cpus, memory, engine labels) for NodeStatus.
pub async fn describe_node<R: ContainerRuntime>(
    runtime: &R,
) -> Result<model::NodeStatus, RuntimeError> {
    let info = runtime.node_info().await?;
    Ok(model::NodeStatus {
        hostname: info.hostname,
        platform: Platform {
            os: info.os,
            arch: info.arch,
        },
        resources: NodeResources {
            nano_cpus: info.cpus.saturating_mul(1_000_000_000),
            memory_bytes: info.memory_bytes,
        },
        engine_labels: info
            .labels
            .iter()
            .map(|l| match l.split_once('=') {
                Some((k, v)) => (k.to_string(), v.to_string()),
                None => (l.clone(), String::new()),
            })
            .collect(),
        ..model::NodeStatus::default()
    })
}
