//! The Service spec: exactly the keys of a Compose service.
//!
//! A Compose service block is a valid native `spec`. Every Compose input form is accepted;
//! serialization produces one canonical long form.

mod command;
mod deploy;
mod extras;
mod healthcheck;
pub(crate) mod lists;
mod mounts;
mod networks;
mod ports;
mod references;
mod status;
mod unsupported;

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub use command::{CommandError, split_command};
pub use deploy::{
    Deploy, DiscreteResource, EndpointMode, FailureAction, GenericResource, NamedResource,
    Placement, ResourceLimits, ResourceReservations, Resources, RestartCondition, RestartPolicy,
    ServiceMode, UpdateConfig, UpdateOrder,
};
pub use extras::{DependsCondition, DependsOn, EnvFile, Logging, Ulimit};
pub use healthcheck::{HEALTH_TEST_KINDS, Healthcheck};
pub use mounts::{
    BindOptions, ImageOptions, Mount, MountError, MountFault, MountType, Propagation, SelinuxLabel,
    TmpfsOptions, VolumeOptions,
};
pub use networks::ServiceNetwork;
pub use ports::{PORT_PATTERN, PortConfig, PortError, PortFault, PortMode, Protocol};
pub use references::FileRef;
pub use status::{ServiceStatus, UpdateState, UpdateStatus};
pub use unsupported::{UNSUPPORTED_SERVICE_KEYS, unsupported_reason};

use crate::units::Duration;

/// What a service runs and how: the keys of a Compose service that swarm honours.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields, transform = unsupported::allow_unsupported_keys)]
pub struct ServiceSpec {
    /// Image to run (`redis:7`, `registry.example.com/app@sha256:...`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    /// Overrides the image's CMD; a string is split like a POSIX shell would.
    #[serde(
        default,
        deserialize_with = "command::deserialize_command",
        skip_serializing_if = "Option::is_none"
    )]
    #[schemars(with = "command::CommandLine")]
    pub command: Option<Vec<String>>,
    /// Overrides the image's ENTRYPOINT; a string is split like a POSIX shell would.
    #[serde(
        default,
        deserialize_with = "command::deserialize_command",
        skip_serializing_if = "Option::is_none"
    )]
    #[schemars(with = "command::CommandLine")]
    pub entrypoint: Option<Vec<String>>,
    /// Environment variables; a name without a value is taken from the deployer's environment.
    #[serde(
        default,
        deserialize_with = "lists::environment",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    #[schemars(with = "lists::ListOrDict")]
    pub environment: BTreeMap<String, Option<String>>,
    /// Files of `NAME=VALUE` lines added to the environment (read by the loader).
    #[serde(
        default,
        deserialize_with = "extras::deserialize_env_files",
        skip_serializing_if = "Vec::is_empty"
    )]
    #[schemars(with = "extras::EnvFiles")]
    pub env_file: Vec<EnvFile>,
    /// Working directory inside the container.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub working_dir: Option<String>,
    /// User (and group) the process runs as.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// Container hostname.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hostname: Option<String>,
    /// Labels on the containers.
    #[serde(
        default,
        deserialize_with = "lists::labels",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    #[schemars(with = "lists::ListOrDict")]
    pub labels: BTreeMap<String, String>,
    /// Published ports.
    #[serde(
        default,
        deserialize_with = "ports::deserialize_ports",
        skip_serializing_if = "Vec::is_empty"
    )]
    #[schemars(with = "ports::Ports")]
    pub ports: Vec<PortConfig>,
    /// Mounts.
    #[serde(
        default,
        deserialize_with = "mounts::deserialize_mounts",
        skip_serializing_if = "Vec::is_empty"
    )]
    #[schemars(with = "mounts::Mounts")]
    pub volumes: Vec<Mount>,
    /// Secrets mounted as files.
    #[serde(
        default,
        deserialize_with = "references::deserialize_file_refs",
        skip_serializing_if = "Vec::is_empty"
    )]
    #[schemars(with = "references::FileRefs")]
    pub secrets: Vec<FileRef>,
    /// Configs mounted as files.
    #[serde(
        default,
        deserialize_with = "references::deserialize_file_refs",
        skip_serializing_if = "Vec::is_empty"
    )]
    #[schemars(with = "references::FileRefs")]
    pub configs: Vec<FileRef>,
    /// Networks the service joins.
    #[serde(
        default,
        deserialize_with = "networks::deserialize_networks",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    #[schemars(with = "networks::ServiceNetworks")]
    pub networks: BTreeMap<String, ServiceNetwork>,
    /// Container health check.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub healthcheck: Option<Healthcheck>,
    /// Signal sent to stop the container (default SIGTERM).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop_signal: Option<String>,
    /// Wait after `stop_signal` before SIGKILL (default 10s).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop_grace_period: Option<Duration>,
    /// Run an init process as PID 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub init: Option<bool>,
    /// Mount the root filesystem read-only.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub read_only: bool,
    /// Allocate a TTY.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub tty: bool,
    /// Keep stdin open.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub stdin_open: bool,
    /// Linux capabilities to add.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cap_add: Vec<String>,
    /// Linux capabilities to drop.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cap_drop: Vec<String>,
    /// Extra groups (names or ids) for the process.
    #[serde(
        default,
        deserialize_with = "lists::string_or_list",
        skip_serializing_if = "Vec::is_empty"
    )]
    #[schemars(with = "lists::StringOrList")]
    pub group_add: Vec<String>,
    /// Namespaced kernel parameters.
    #[serde(
        default,
        deserialize_with = "lists::labels",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    #[schemars(with = "lists::ListOrDict")]
    pub sysctls: BTreeMap<String, String>,
    /// Resource limits (`nofile`, `nproc`, ...).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub ulimits: BTreeMap<String, Ulimit>,
    /// Extra /etc/hosts entries, canonically `host:ip`.
    #[serde(
        default,
        deserialize_with = "lists::extra_hosts",
        skip_serializing_if = "Vec::is_empty"
    )]
    #[schemars(with = "lists::ExtraHosts")]
    pub extra_hosts: Vec<String>,
    /// DNS servers.
    #[serde(
        default,
        deserialize_with = "lists::string_or_list",
        skip_serializing_if = "Vec::is_empty"
    )]
    #[schemars(with = "lists::StringOrList")]
    pub dns: Vec<String>,
    /// DNS search domains.
    #[serde(
        default,
        deserialize_with = "lists::string_or_list",
        skip_serializing_if = "Vec::is_empty"
    )]
    #[schemars(with = "lists::StringOrList")]
    pub dns_search: Vec<String>,
    /// Resolver options.
    #[serde(
        default,
        deserialize_with = "lists::string_or_list",
        skip_serializing_if = "Vec::is_empty"
    )]
    #[schemars(with = "lists::StringOrList")]
    pub dns_opt: Vec<String>,
    /// Tmpfs mounts (`/run` or `/run:size=64m`).
    #[serde(
        default,
        deserialize_with = "lists::string_or_list",
        skip_serializing_if = "Vec::is_empty"
    )]
    #[schemars(with = "lists::StringOrList")]
    pub tmpfs: Vec<String>,
    /// Log driver and options.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logging: Option<Logging>,
    /// Start ordering hints; swarm itself starts services independently.
    #[serde(
        default,
        deserialize_with = "extras::deserialize_depends_on",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    #[schemars(with = "extras::DependsOnSchema")]
    pub depends_on: BTreeMap<String, DependsOn>,
    /// Replicas, placement, resources, restart and update policy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deploy: Option<Deploy>,
}

impl ServiceSpec {
    /// The service mode, `replicated` when `deploy` is absent.
    pub fn mode(&self) -> ServiceMode {
        self.deploy.as_ref().map(|d| d.mode).unwrap_or_default()
    }

    /// The desired number of replicas for replicated modes (default 1); `None` for global modes.
    pub fn replicas(&self) -> Option<u64> {
        if self.mode().is_global() {
            return None;
        }
        Some(self.deploy.as_ref().and_then(|d| d.replicas).unwrap_or(1))
    }
}

#[cfg(test)]
mod tests;
