//! Compose service keys swarm accepts but does not honour, and why.

use schemars::Schema;
use serde_json::{Value, json};

const USE_RESOURCES: &str = "use deploy.resources (limits/reservations) instead";
const NOT_IN_SWARM: &str = "Docker Swarm services do not support it";

/// `(key, why / what to do instead)` for every Compose service key swarm does not honour.
///
/// The loader warns with the reason; the schema accepts the key with any value.
pub const UNSUPPORTED_SERVICE_KEYS: &[(&str, &str)] = &[
    ("annotations", NOT_IN_SWARM),
    (
        "attach",
        "swarm does not attach to container output; use `swarmctl logs`",
    ),
    ("blkio_config", NOT_IN_SWARM),
    (
        "build",
        "build the image, push it to a registry every node can reach, and set `image:`",
    ),
    ("cgroup", NOT_IN_SWARM),
    ("cgroup_parent", NOT_IN_SWARM),
    ("cgroupns_mode", NOT_IN_SWARM),
    (
        "container_name",
        "swarm names containers itself (`<stack>_<service>.<slot>.<task id>`)",
    ),
    ("cpu_count", USE_RESOURCES),
    ("cpu_percent", USE_RESOURCES),
    ("cpu_period", USE_RESOURCES),
    ("cpu_quota", USE_RESOURCES),
    ("cpu_rt_period", USE_RESOURCES),
    ("cpu_rt_runtime", USE_RESOURCES),
    ("cpu_shares", USE_RESOURCES),
    ("cpus", USE_RESOURCES),
    ("cpuset", USE_RESOURCES),
    ("credential_spec", NOT_IN_SWARM),
    (
        "develop",
        "development-time file watching is a `docker compose` feature",
    ),
    ("device_cgroup_rules", NOT_IN_SWARM),
    (
        "devices",
        "swarm services cannot map host devices; use deploy.resources.reservations.generic_resources",
    ),
    ("domainname", NOT_IN_SWARM),
    (
        "expose",
        "has no effect: services on a shared network reach each other on every port",
    ),
    (
        "extends",
        "merge the files with `-f base.yml -f override.yml` instead",
    ),
    (
        "external_links",
        "use a shared network and the service name instead",
    ),
    (
        "gpus",
        "use deploy.resources.reservations.generic_resources",
    ),
    ("ipc", NOT_IN_SWARM),
    ("isolation", NOT_IN_SWARM),
    ("label_file", "put the labels in `labels:`"),
    (
        "links",
        "services on a shared network reach each other by service name; use `networks:`",
    ),
    ("mac_address", NOT_IN_SWARM),
    ("mem_limit", USE_RESOURCES),
    ("mem_reservation", USE_RESOURCES),
    ("mem_swappiness", USE_RESOURCES),
    ("memswap_limit", USE_RESOURCES),
    ("models", "model runners are a `docker compose` feature"),
    ("network_mode", "swarm services use `networks:`"),
    ("oom_kill_disable", NOT_IN_SWARM),
    ("oom_score_adj", NOT_IN_SWARM),
    ("pid", NOT_IN_SWARM),
    ("pids_limit", "use deploy.resources.limits.pids"),
    (
        "platform",
        "use a placement constraint on node.platform.os / node.platform.arch",
    ),
    ("post_start", NOT_IN_SWARM),
    ("pre_start", NOT_IN_SWARM),
    ("pre_stop", NOT_IN_SWARM),
    ("privileged", NOT_IN_SWARM),
    (
        "profiles",
        "every service in a stack is deployed; split optional services into another file",
    ),
    (
        "provider",
        "provider services are a `docker compose` feature",
    ),
    (
        "pull_policy",
        "nodes always pull the image the service names",
    ),
    (
        "pull_refresh_after",
        "nodes always pull the image the service names",
    ),
    ("restart", "use deploy.restart_policy"),
    ("runtime", NOT_IN_SWARM),
    ("scale", "use deploy.replicas"),
    ("security_opt", NOT_IN_SWARM),
    ("shm_size", "mount a tmpfs at /dev/shm instead"),
    ("storage_opt", NOT_IN_SWARM),
    ("use_api_socket", NOT_IN_SWARM),
    ("userns_mode", NOT_IN_SWARM),
    ("uts", NOT_IN_SWARM),
    (
        "volumes_from",
        "mount the same named volume in both services instead",
    ),
];

/// The reason swarm ignores `key`, if it is a known-but-unsupported Compose service key.
pub fn unsupported_reason(key: &str) -> Option<&'static str> {
    UNSUPPORTED_SERVICE_KEYS
        .iter()
        .find(|(k, _)| *k == key)
        .map(|(_, why)| *why)
}

/// Schema transform: lists every unsupported key as an allowed property with any value.
pub(crate) fn allow_unsupported_keys(schema: &mut Schema) {
    let Some(Value::Object(properties)) = schema.get_mut("properties") else {
        return;
    };
    for (key, why) in UNSUPPORTED_SERVICE_KEYS {
        properties.entry(*key).or_insert_with(|| {
            json!({ "description": format!("Not honoured by swarm; accepted with a warning: {why}") })
        });
    }
}
