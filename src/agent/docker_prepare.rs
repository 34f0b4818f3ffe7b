//! What a Docker task needs besides its container: networks (created on demand, removed when
//! unused) and named volumes (created on demand). Only objects labelled `swarm.owned` are ever
//! removed, so external networks and the operator's own are safe.

use std::collections::HashMap;

use bollard::Docker;
use bollard::models::{
    Ipam, IpamConfig, NetworkConnectRequest, NetworkCreateRequest, VolumeCreateRequest,
};
use bollard::query_parameters::{ListContainersOptionsBuilder, ListNetworksOptionsBuilder};
use model::service::MountType;
use wire::{NetworkAttachment, TaskAssignment};

use tokio::sync::{Mutex, RwLock};

use super::docker_spec::{endpoint, owned_labels};
use super::error::{RuntimeError, engine, engine_status as status};
use super::names::LABEL_OWNED;
use super::network_book::NetworkBook;

/// A task's networks and volumes on one engine, and this agent's bookkeeping of its networks
/// (owned by `DockerRuntime`).
pub(super) struct EngineResources {
    docker: Docker,
    /// Held shared while networks are ensured and a container joins them, exclusively while
    /// unused networks are removed, so this agent never removes a network it is about to use.
    pub(super) network_gc: RwLock<()>,
    /// Serialises network creation (see `ensure_networks`).
    network_create: Mutex<()>,
    /// Which networks this agent may remove, knows to exist, and uses (see `NetworkBook`).
    networks: std::sync::Mutex<NetworkBook>,
}

impl EngineResources {
    /// The resources on the engine behind `docker`, with nothing known yet.
    pub(super) fn new(docker: Docker) -> EngineResources {
        EngineResources {
            docker,
            network_gc: RwLock::new(()),
            network_create: Mutex::new(()),
            networks: std::sync::Mutex::default(),
        }
    }

    /// Runs `f` on the network bookkeeping (a poisoned lock still holds usable bookkeeping).
    pub(super) fn book<T>(&self, f: impl FnOnce(&mut NetworkBook) -> T) -> T {
        let mut book = self
            .networks
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        f(&mut book)
    }

    /// Fails early, with what to do, when an `external: true` network is missing.
    pub(super) async fn check_external_networks(
        &self,
        task: &TaskAssignment,
    ) -> Result<(), RuntimeError> {
        for net in task.networks.iter().filter(|n| n.spec.external) {
            if !self.network_exists(&net.docker_name).await? {
                return Err(RuntimeError::ExternalNetworkMissing(
                    net.docker_name.clone(),
                ));
            }
        }
        Ok(())
    }

    /// Creates the task's networks that do not exist yet (caller holds `network_gc` shared).
    pub(super) async fn ensure_networks(&self, task: &TaskAssignment) -> Result<(), RuntimeError> {
        // Docker before API 1.44 happily creates two networks of one name; tasks starting
        // together must not each make their own.
        if task
            .networks
            .iter()
            .all(|n| self.book(|b| b.is_known(&n.docker_name)))
        {
            return Ok(());
        }
        let _one_at_a_time = self.network_create.lock().await;
        self.book(|b| b.note(task.networks.iter().map(|n| n.docker_name.clone())));
        for net in &task.networks {
            if self.book(|b| b.is_known(&net.docker_name)) {
                continue;
            }
            let existing = self.networks_named(&net.docker_name).await?;
            if existing.len() > 1 {
                self.remove_duplicates(&net.docker_name, existing).await;
            } else if existing.is_empty() {
                if net.spec.external {
                    return Err(RuntimeError::ExternalNetworkMissing(
                        net.docker_name.clone(),
                    ));
                }
                self.docker
                    .create_network(network_request(task, net))
                    .await
                    .map_err(engine("create network"))?;
                tracing::info!(network = %net.docker_name, "created network");
                // Another agent on this engine may have raced us: settle on one network.
                let existing = self.networks_named(&net.docker_name).await?;
                if existing.len() > 1 {
                    self.remove_duplicates(&net.docker_name, existing).await;
                }
            }
            self.book(|b| b.mark_known(&net.docker_name));
        }
        Ok(())
    }

    /// Ids of the networks named exactly `name` (the engine's filter matches substrings), each
    /// with whether swarm owns it, sorted by id.
    async fn networks_named(&self, name: &str) -> Result<Vec<(String, bool)>, RuntimeError> {
        let filters = HashMap::from([("name", vec![name.to_string()])]);
        let options = ListNetworksOptionsBuilder::new().filters(&filters).build();
        let networks = self
            .docker
            .list_networks(Some(options))
            .await
            .map_err(engine("list networks"))?;
        let mut found: Vec<(String, bool)> = networks
            .into_iter()
            .filter(|n| n.name.as_deref() == Some(name))
            .filter_map(|n| {
                let owned = n
                    .labels
                    .as_ref()
                    .is_some_and(|l| l.contains_key(LABEL_OWNED));
                Some((n.id?, owned))
            })
            .collect();
        found.sort();
        Ok(found)
    }

    /// Keeps the network with the lowest id (every agent picks the same one) and removes the
    /// other swarm-made ones of that name.
    async fn remove_duplicates(&self, name: &str, networks: Vec<(String, bool)>) {
        for (id, _) in networks.into_iter().skip(1).filter(|(_, owned)| *owned) {
            match self.docker.remove_network(&id).await {
                Ok(()) => tracing::info!(network = name, id, "removed a duplicate network"),
                Err(e) => {
                    tracing::debug!(network = name, id, error = %e, "duplicate network stays")
                }
            }
        }
    }

    /// Joins the container to the task's networks beyond the first (API < 1.44 creates a
    /// container on one network only); already joined ones are skipped.
    pub(super) async fn connect_networks(
        &self,
        task: &TaskAssignment,
        id: &str,
    ) -> Result<(), RuntimeError> {
        if task.networks.len() < 2 {
            return Ok(());
        }
        let joined: Vec<String> = self
            .docker
            .inspect_container(id, None)
            .await
            .map_err(engine("inspect container"))?
            .network_settings
            .and_then(|n| n.networks)
            .map(|n| n.into_keys().collect())
            .unwrap_or_default();
        for net in task.networks.iter().skip(1) {
            if joined.contains(&net.docker_name) {
                continue;
            }
            let request = NetworkConnectRequest {
                container: id.to_string(),
                endpoint_config: Some(endpoint(net)),
            };
            self.docker
                .connect_network(&net.docker_name, request)
                .await
                .map_err(engine("connect network"))?;
        }
        Ok(())
    }

    /// Creates the named volumes the task mounts, labelled as swarm's.
    pub(super) async fn ensure_volumes(&self, task: &TaskAssignment) -> Result<(), RuntimeError> {
        let named = task
            .spec
            .volumes
            .iter()
            .filter(|m| m.kind == MountType::Volume)
            .filter_map(|m| Some((m.source.as_deref()?, m)));
        for (name, m) in named {
            match self.docker.inspect_volume(name).await {
                Ok(_) => continue,
                Err(e) if status(&e) != Some(404) => return Err(engine("inspect volume")(e)),
                Err(_) => {}
            }
            let options = m.volume.clone().unwrap_or_default();
            if options.external {
                return Err(RuntimeError::ExternalVolumeMissing(name.to_string()));
            }
            let request = VolumeCreateRequest {
                name: Some(name.to_string()),
                driver: options.driver,
                driver_opts: Some(options.driver_opts.into_iter().collect()),
                labels: Some(owned_labels(task.stack.as_deref(), &options.labels)),
                ..VolumeCreateRequest::default()
            };
            self.docker
                .create_volume(request)
                .await
                .map_err(engine("create volume"))?;
            tracing::info!(volume = name, "created volume");
        }
        Ok(())
    }

    /// Removes swarm's networks this agent used that no container (in any state) is attached to.
    pub(super) async fn remove_unused_networks(&self) -> Result<(), RuntimeError> {
        // Networks our own containers still use need no engine call (and no exclusive lock,
        // which would hold back every container being created meanwhile).
        if self.book(|b| b.maybe_unused()).is_empty() {
            return Ok(());
        }
        let _exclusive = self.network_gc.write().await;
        let candidates = self.book(|b| b.maybe_unused());
        if candidates.is_empty() {
            return Ok(());
        }
        let filters = HashMap::from([("label", vec![format!("{LABEL_OWNED}=true")])]);
        let options = ListNetworksOptionsBuilder::new().filters(&filters).build();
        let networks = self
            .docker
            .list_networks(Some(options))
            .await
            .map_err(engine("list networks"))?;
        let ours = networks
            .into_iter()
            .filter_map(|n| Some((n.id?, n.name?)))
            .filter(|(_, name)| candidates.contains(name));
        for (id, name) in ours {
            // Stopped containers count too: they would not start again without the network.
            let filters = HashMap::from([("network", vec![name.clone()])]);
            let options = ListContainersOptionsBuilder::new()
                .all(true)
                .filters(&filters)
                .build();
            let users = self
                .docker
                .list_containers(Some(options))
                .await
                .map_err(engine("list containers"))?;
            if !users.is_empty() {
                continue;
            }
            // By id: a name may (briefly) be ambiguous, see `ensure_networks`.
            match self.docker.remove_network(&id).await {
                Ok(()) => {
                    tracing::info!(network = %name, "removed unused network");
                    self.book(|b| b.removed(&name));
                }
                // Gone already, or joined meanwhile by another agent's container.
                Err(e) if matches!(status(&e), Some(403 | 404 | 409)) => {}
                Err(e) => return Err(engine("remove network")(e)),
            }
        }
        Ok(())
    }

    async fn network_exists(&self, name: &str) -> Result<bool, RuntimeError> {
        Ok(!self.networks_named(name).await?.is_empty())
    }
}

/// A bridge network for the attachment: one node needs no overlay, and Docker outside swarm
/// mode has none. Bridge driver options only apply when the spec asked for a bridge.
fn network_request(task: &TaskAssignment, net: &NetworkAttachment) -> NetworkCreateRequest {
    let is_bridge = net.spec.driver.as_deref() == Some("bridge");
    let ipam = net.spec.ipam.as_ref().map(|i| Ipam {
        driver: i.driver.clone(),
        config: Some(
            i.config
                .iter()
                .map(|p| IpamConfig {
                    subnet: p.subnet.clone(),
                    ip_range: p.ip_range.clone(),
                    gateway: p.gateway.clone(),
                    ..IpamConfig::default()
                })
                .collect(),
        ),
        options: (!i.options.is_empty()).then(|| i.options.clone().into_iter().collect()),
    });
    NetworkCreateRequest {
        name: net.docker_name.clone(),
        driver: Some("bridge".into()),
        internal: Some(net.spec.internal),
        attachable: Some(true),
        enable_ipv6: net.spec.enable_ipv6,
        ipam,
        options: is_bridge.then(|| net.spec.driver_opts.clone().into_iter().collect()),
        labels: Some(owned_labels(task.stack.as_deref(), &net.spec.labels)),
        ..NetworkCreateRequest::default()
    }
}
