//! Maps a task's `ServiceSpec` to the Docker container it runs as. Pure: unit-tested without an
//! engine; `docker.rs` sends the result.

use std::collections::HashMap;

use std::net::IpAddr;

use bollard::models::{
    ContainerCreateBody, ContainerInspectResponse, ContainerStateStatusEnum, EndpointSettings,
    HealthConfig, HealthStatusEnum, HostConfig, HostConfigLogConfig, Mount, MountBindOptions,
    MountTmpfsOptions, MountType, MountVolumeOptions, NetworkingConfig, PortBinding,
    ResourcesUlimits, RestartPolicy, RestartPolicyNameEnum,
};
use model::service::{MountType as SpecMountType, PortMode, Propagation};
use wire::{NetworkAttachment, TaskAssignment};

use super::error::RuntimeError;
use super::files::FileMount;
use super::names::{LABEL_OWNED, LABEL_STACK_NAMESPACE, container_labels};
use super::runtime::{ContainerState, HealthStatus, Observed};

/// The body of `POST /containers/create` for a task. Only the first network is joined at
/// create time (API < 1.44 refuses more); `docker.rs` connects the rest before the start.
pub fn container_body(
    task: &TaskAssignment,
    node_id: &str,
    files: &[FileMount],
) -> Result<ContainerCreateBody, RuntimeError> {
    let spec = &task.spec;
    let image = spec.image.clone().ok_or_else(|| {
        RuntimeError::InvalidSpec(format!("service {} has no image", task.service_name))
    })?;
    let env: Vec<String> = spec
        .environment
        .iter()
        // A key without a value means "from the deployer's shell" in Compose: the loader
        // resolved what it could, so an unresolved one is left out rather than set empty.
        .filter_map(|(k, v)| v.as_ref().map(|v| format!("{k}={v}")))
        .collect();

    let host_ports: Vec<_> = spec
        .ports
        .iter()
        .filter(|p| p.mode == PortMode::Host)
        .collect();
    let exposed: Vec<String> = spec
        .ports
        .iter()
        .map(|p| format!("{}/{}", p.target, p.protocol))
        .collect();
    let mut port_bindings: HashMap<String, Option<Vec<PortBinding>>> = HashMap::new();
    for p in &host_ports {
        port_bindings
            .entry(format!("{}/{}", p.target, p.protocol))
            .or_insert_with(|| Some(Vec::new()))
            .get_or_insert_with(Vec::new)
            .push(PortBinding {
                host_ip: p.host_ip.clone(),
                host_port: Some(p.published.map(|n| n.to_string()).unwrap_or_default()),
            });
    }

    let mut mounts = spec
        .volumes
        .iter()
        .map(|m| mount(task, m))
        .collect::<Result<Vec<_>, _>>()?;
    mounts.extend(files.iter().map(|f| Mount {
        typ: Some(MountType::BIND),
        source: Some(f.source.display().to_string()),
        target: Some(f.target.clone()),
        read_only: Some(true),
        ..Mount::default()
    }));

    let limits = spec
        .deploy
        .as_ref()
        .and_then(|d| d.resources.limits.as_ref());
    let tmpfs: HashMap<String, String> = spec
        .tmpfs
        .iter()
        .map(|t| match t.split_once(':') {
            Some((path, opts)) => (path.to_string(), opts.to_string()),
            None => (t.clone(), String::new()),
        })
        .collect();

    let host_config = HostConfig {
        network_mode: task.networks.first().map(|n| n.docker_name.clone()),
        // Swarm, not Docker, decides about restarts (a new task replaces a failed one).
        restart_policy: Some(RestartPolicy {
            name: Some(RestartPolicyNameEnum::NO),
            maximum_retry_count: None,
        }),
        init: spec.init,
        readonly_rootfs: Some(spec.read_only),
        cap_add: non_empty(spec.cap_add.clone()),
        cap_drop: non_empty(spec.cap_drop.clone()),
        group_add: non_empty(spec.group_add.clone()),
        sysctls: non_empty_map(
            spec.sysctls
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        ),
        ulimits: non_empty(
            spec.ulimits
                .iter()
                .map(|(name, u)| ResourcesUlimits {
                    name: Some(name.clone()),
                    soft: Some(u.soft),
                    hard: Some(u.hard),
                })
                .collect(),
        ),
        extra_hosts: non_empty(spec.extra_hosts.iter().map(|h| extra_host(h)).collect()),
        dns: non_empty(spec.dns.clone()),
        dns_search: non_empty(spec.dns_search.clone()),
        dns_options: non_empty(spec.dns_opt.clone()),
        tmpfs: non_empty_map(tmpfs),
        nano_cpus: limits.and_then(|l| l.cpus).map(|c| c.nano_cpus()),
        memory: limits.and_then(|l| l.memory).map(|m| clamp(m.0)),
        pids_limit: limits.and_then(|l| l.pids),
        mounts: non_empty(mounts),
        port_bindings: non_empty_map(port_bindings),
        log_config: spec.logging.as_ref().map(|l| HostConfigLogConfig {
            typ: l.driver.clone(),
            config: non_empty_map(
                l.options
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect(),
            ),
        }),
        ..HostConfig::default()
    };

    Ok(ContainerCreateBody {
        image: Some(image),
        cmd: spec.command.clone(),
        entrypoint: spec.entrypoint.clone(),
        env: non_empty(env),
        working_dir: spec.working_dir.clone(),
        user: spec.user.clone(),
        hostname: spec.hostname.clone(),
        labels: Some(container_labels(task, node_id)),
        tty: Some(spec.tty),
        open_stdin: Some(spec.stdin_open),
        exposed_ports: non_empty(exposed),
        stop_signal: spec.stop_signal.clone(),
        stop_timeout: spec
            .stop_grace_period
            .map(|d| clamp(d.0.div_ceil(1_000_000_000))),
        healthcheck: spec.healthcheck.as_ref().map(|h| HealthConfig {
            test: if h.disable {
                Some(vec!["NONE".into()])
            } else {
                non_empty(h.test.clone())
            },
            interval: h.interval.map(|d| clamp(d.0)),
            timeout: h.timeout.map(|d| clamp(d.0)),
            retries: h.retries.map(clamp),
            start_period: h.start_period.map(|d| clamp(d.0)),
            // Not in API 1.41: the engine ignores unknown fields there.
            start_interval: h.start_interval.map(|d| clamp(d.0)),
        }),
        host_config: Some(host_config),
        networking_config: task.networks.first().map(|n| NetworkingConfig {
            endpoints_config: Some(HashMap::from([(n.docker_name.clone(), endpoint(n))])),
        }),
        ..ContainerCreateBody::default()
    })
}

/// The engine-neutral view of an inspected container.
pub fn observed(c: ContainerInspectResponse) -> Observed {
    let state = c.state.unwrap_or_default();
    let lifecycle = match state.status {
        Some(ContainerStateStatusEnum::CREATED) => ContainerState::Created,
        Some(
            ContainerStateStatusEnum::RUNNING
            | ContainerStateStatusEnum::PAUSED
            | ContainerStateStatusEnum::RESTARTING,
        ) => ContainerState::Running,
        _ => ContainerState::Exited,
    };
    let health = state.health.as_ref();
    let addresses = c
        .network_settings
        .and_then(|n| n.networks)
        .map(|networks| {
            let mut ips: Vec<IpAddr> = networks
                .values()
                .filter_map(|e| e.ip_address.as_deref()?.parse().ok())
                .collect();
            ips.sort();
            ips
        })
        .unwrap_or_default();
    Observed {
        container_id: c.id.unwrap_or_default(),
        state: lifecycle,
        exit_code: (lifecycle == ContainerState::Exited)
            .then_some(state.exit_code)
            .flatten(),
        error: state.error.filter(|e| !e.is_empty()),
        oom_killed: state.oom_killed.unwrap_or(false),
        health: health.and_then(|h| match h.status {
            Some(HealthStatusEnum::STARTING) => Some(HealthStatus::Starting),
            Some(HealthStatusEnum::HEALTHY) => Some(HealthStatus::Healthy),
            Some(HealthStatusEnum::UNHEALTHY) => Some(HealthStatus::Unhealthy),
            _ => None,
        }),
        health_log: health
            .and_then(|h| h.log.as_ref()?.last()?.output.clone())
            .filter(|l| !l.trim().is_empty()),
        addresses,
    }
}

/// How a container joins a network: with the names other tasks reach it by.
pub fn endpoint(network: &NetworkAttachment) -> EndpointSettings {
    EndpointSettings {
        aliases: non_empty(network.aliases.clone()),
        ..EndpointSettings::default()
    }
}

/// Labels of the networks and volumes swarm creates (so only those are ever removed).
pub fn owned_labels(
    stack: Option<&str>,
    extra: &std::collections::BTreeMap<String, String>,
) -> HashMap<String, String> {
    let mut labels: HashMap<String, String> =
        extra.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    labels.insert(LABEL_OWNED.into(), "true".into());
    if let Some(stack) = stack {
        labels.insert(LABEL_STACK_NAMESPACE.into(), stack.into());
    }
    labels
}

fn mount(task: &TaskAssignment, m: &model::service::Mount) -> Result<Mount, RuntimeError> {
    let typ = match m.kind {
        SpecMountType::Bind => MountType::BIND,
        SpecMountType::Volume => MountType::VOLUME,
        SpecMountType::Tmpfs => MountType::TMPFS,
        other => {
            return Err(RuntimeError::InvalidSpec(format!(
                "mount type {other:?} at {} is not supported by the docker runtime",
                m.target
            )));
        }
    };
    // A bind source must exist on the node: the engine refuses a missing one ("bind source path
    // does not exist"), as for `docker stack deploy`. `create_host_path` is not passed on, so a
    // stack file can never make directories anywhere on a node's filesystem.
    let bind_options = m.bind.as_ref().map(|b| MountBindOptions {
        propagation: b.propagation.map(propagation),
        ..MountBindOptions::default()
    });
    let volume_options = (m.kind == SpecMountType::Volume).then(|| MountVolumeOptions {
        no_copy: m.volume.as_ref().map(|v| v.nocopy),
        labels: Some(owned_labels(
            task.stack.as_deref(),
            &m.volume
                .as_ref()
                .map(|v| v.labels.clone())
                .unwrap_or_default(),
        )),
        subpath: m.volume.as_ref().and_then(|v| v.subpath.clone()),
        ..MountVolumeOptions::default()
    });
    let tmpfs_options = m.tmpfs.as_ref().map(|t| MountTmpfsOptions {
        size_bytes: t.size.map(|s| clamp(s.0)),
        mode: t.mode.map(|mode| i64::from(mode.0)),
        ..MountTmpfsOptions::default()
    });
    Ok(Mount {
        typ: Some(typ),
        source: m.source.clone(),
        target: Some(m.target.clone()),
        read_only: Some(m.read_only),
        consistency: m.consistency.clone(),
        bind_options,
        volume_options,
        tmpfs_options,
        ..Mount::default()
    })
}

fn propagation(p: Propagation) -> bollard::models::MountBindOptionsPropagationEnum {
    use bollard::models::MountBindOptionsPropagationEnum as P;
    match p {
        Propagation::Private => P::PRIVATE,
        Propagation::Rprivate => P::RPRIVATE,
        Propagation::Shared => P::SHARED,
        Propagation::Rshared => P::RSHARED,
        Propagation::Slave => P::SLAVE,
        Propagation::Rslave => P::RSLAVE,
    }
}

/// Compose accepts `host=ip` as well as Docker's `host:ip`.
fn extra_host(h: &str) -> String {
    match h.split_once('=') {
        Some((host, ip)) => format!("{host}:{ip}"),
        None => h.to_string(),
    }
}

fn clamp(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn non_empty<T>(v: Vec<T>) -> Option<Vec<T>> {
    (!v.is_empty()).then_some(v)
}

fn non_empty_map<K, V>(m: HashMap<K, V>) -> Option<HashMap<K, V>> {
    (!m.is_empty()).then_some(m)
}

#[cfg(test)]
#[path = "docker_spec_tests.rs"]
mod tests;
