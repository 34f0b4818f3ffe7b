//! Whole-service tests: the `foo` service of docker/cli's full-example.yml, validation rules.

use serde_json::{Value, json};

use super::*;
use crate::units::{ByteSize, Cpus, FileMode};
use crate::validate::PathSeg;

/// `services.foo` of full-example.yml as the loader hands it over (YAML → JSON, `0440` kept
/// as a string, `x-*` keys stripped).
fn full_example_foo() -> Value {
    serde_json::from_str(
        r#"{
        "build": {"context": "./dir", "dockerfile": "Dockerfile"},
        "cap_add": ["ALL"],
        "cap_drop": ["NET_ADMIN", "SYS_ADMIN"],
        "cgroup_parent": "m-executor-abcd",
        "command": "bundle exec thin -p 3000",
        "configs": ["config1", {"source": "config2", "target": "/my_config", "uid": "103", "gid": "103", "mode": "0440"}],
        "container_name": "my-web-container",
        "depends_on": ["db", "redis"],
        "deploy": {
            "mode": "replicated", "replicas": 6, "labels": ["FOO=BAR"],
            "rollback_config": {"parallelism": 3, "delay": "10s", "failure_action": "continue", "monitor": "60s", "max_failure_ratio": 0.3, "order": "start-first"},
            "update_config": {"parallelism": 3, "delay": "10s", "failure_action": "continue", "monitor": "60s", "max_failure_ratio": 0.3, "order": "start-first"},
            "resources": {
                "limits": {"cpus": "0.001", "memory": "50M", "pids": 100},
                "reservations": {"cpus": "0.0001", "memory": "20M", "generic_resources": [
                    {"discrete_resource_spec": {"kind": "gpu", "value": 2}},
                    {"discrete_resource_spec": {"kind": "ssd", "value": 1}}
                ]}
            },
            "restart_policy": {"condition": "on-failure", "delay": "5s", "max_attempts": 3, "window": "120s"},
            "placement": {"constraints": ["node=foo"], "max_replicas_per_node": 5, "preferences": [{"spread": "node.labels.az"}]},
            "endpoint_mode": "dnsrr"
        },
        "devices": ["/dev/ttyUSB0:/dev/ttyUSB0"],
        "dns": ["8.8.8.8", "9.9.9.9"],
        "dns_search": ["dc1.example.com", "dc2.example.com"],
        "domainname": "foo.com",
        "entrypoint": ["/code/entrypoint.sh", "-p", "3000"],
        "env_file": ["./example1.env", "./example2.env"],
        "environment": {"BAZ": "baz_from_service_def", "QUX": null},
        "expose": ["3000", 8000],
        "extra_hosts": ["somehost:162.242.195.82", "otherhost:50.31.209.229", "host.docker.internal:host-gateway"],
        "hostname": "foo",
        "healthcheck": {"test": "echo \"hello world\"", "interval": "10s", "timeout": "1s", "retries": 5, "start_period": "15s", "start_interval": "1s"},
        "image": "redis",
        "ipc": "host",
        "labels": {"com.example.description": "Accounting webapp", "com.example.number": 42, "com.example.empty-label": null},
        "logging": {"driver": "syslog", "options": {"syslog-address": "tcp://192.168.0.42:123"}},
        "mac_address": "02:42:ac:11:65:43",
        "network_mode": "container:0cfeab0f748b",
        "networks": {
            "some-network": {"aliases": ["alias1", "alias3"], "driver_opts": {"driveropt1": "optval1", "driveropt2": "optval2"}},
            "other-network": {"ipv4_address": "172.16.238.10", "ipv6_address": "2001:3984:3989::10"},
            "other-other-network": null
        },
        "pid": "host",
        "ports": [3000, "3001-3005", "8000:8000", "9090-9091:8080-8081", "49100:22", "127.0.0.1:8001:8001", "127.0.0.1:5000-5010:5000-5010"],
        "privileged": true,
        "read_only": true,
        "restart": "always",
        "secrets": ["secret1", {"source": "secret2", "target": "my_secret", "uid": "103", "gid": "103", "mode": "0440"}],
        "security_opt": ["label=level:s0:c100,c200"],
        "stdin_open": true,
        "stop_grace_period": "20s",
        "stop_signal": "SIGUSR1",
        "sysctls": {"net.core.somaxconn": 1024, "net.ipv4.tcp_syncookies": 0},
        "tmpfs": ["/run", "/tmp"],
        "tty": true,
        "ulimits": {"nproc": 65535, "nofile": {"soft": 20000, "hard": 40000}},
        "user": "someone",
        "volumes": [
            "/var/lib/mysql", "/opt/data:/var/lib/mysql", ".:/code", "./static:/var/www/html",
            "~/configs:/etc/configs/:ro", "datavolume:/var/lib/mysql",
            {"type": "bind", "source": "./opt", "target": "/opt", "consistency": "cached"},
            {"type": "tmpfs", "target": "/opt", "tmpfs": {"size": 10000}},
            {"type": "cluster", "source": "group:mygroup", "target": "/srv"}
        ],
        "working_dir": "/code"
    }"#,
    )
    .expect("valid JSON")
}

fn spec(v: Value) -> ServiceSpec {
    serde_json::from_value(v).expect("service spec")
}

#[test]
fn full_example_service_deserializes_every_supported_key() {
    let s = spec(full_example_foo());
    assert_eq!(s.image.as_deref(), Some("redis"));
    assert_eq!(
        s.command.as_deref(),
        Some(&["bundle", "exec", "thin", "-p", "3000"].map(String::from)[..])
    );
    assert_eq!(
        s.env_file,
        [
            EnvFile::new("./example1.env"),
            EnvFile::new("./example2.env")
        ]
    );
    assert_eq!(s.environment["QUX"], None);
    assert_eq!(s.labels["com.example.number"], "42");
    assert_eq!(s.labels["com.example.empty-label"], "");
    assert_eq!(s.ports.len(), 1 + 5 + 1 + 2 + 1 + 1 + 11);
    assert_eq!(s.volumes.len(), 9);
    assert_eq!(s.configs[1].mode, Some(FileMode(0o440)));
    assert_eq!(s.networks.len(), 3);
    assert_eq!(s.sysctls["net.core.somaxconn"], "1024");
    assert_eq!(
        s.ulimits["nproc"],
        Ulimit {
            soft: 65535,
            hard: 65535
        }
    );
    assert_eq!(
        s.ulimits["nofile"],
        Ulimit {
            soft: 20000,
            hard: 40000
        }
    );
    assert_eq!(s.depends_on["db"], DependsOn::default());
    assert_eq!(
        s.stop_grace_period,
        Some(crate::units::Duration::from_secs(20))
    );
    let deploy = s.deploy.as_ref().expect("deploy");
    assert_eq!(
        (deploy.mode, deploy.replicas, deploy.endpoint_mode),
        (ServiceMode::Replicated, Some(6), Some(EndpointMode::Dnsrr))
    );
    assert_eq!(deploy.labels["FOO"], "BAR");
    let limits = deploy.resources.limits.as_ref().expect("limits");
    assert_eq!(
        (limits.cpus, limits.memory, limits.pids),
        (Some(Cpus(0.001)), Some(ByteSize(50 << 20)), Some(100))
    );
    let reservations = deploy
        .resources
        .reservations
        .as_ref()
        .expect("reservations");
    assert_eq!(reservations.generic_resources.len(), 2);
    assert_eq!(
        deploy.restart_policy.as_ref().and_then(|r| r.condition),
        Some(RestartCondition::OnFailure)
    );
    assert_eq!(
        deploy.update_config.as_ref().and_then(|u| u.order),
        Some(UpdateOrder::StartFirst)
    );
}

#[test]
fn full_example_service_round_trips_through_its_canonical_form() {
    let s = spec(full_example_foo());
    let canonical = serde_json::to_value(&s).expect("ser");
    assert_eq!(spec(canonical.clone()), s);
    assert_eq!(
        serde_json::to_value(spec(canonical.clone())).expect("ser again"),
        canonical
    );
    // Canonical form is long syntax and drops what swarm ignores.
    assert!(canonical.get("build").is_none());
    assert_eq!(
        canonical["command"],
        json!(["bundle", "exec", "thin", "-p", "3000"])
    );
    assert_eq!(
        canonical["healthcheck"]["test"],
        json!(["CMD-SHELL", "echo \"hello world\""])
    );
    assert_eq!(
        canonical["ulimits"]["nproc"],
        json!({"soft": 65535, "hard": 65535})
    );
    assert_eq!(canonical["secrets"][0], json!({"source": "secret1"}));
    assert_eq!(
        canonical["deploy"]["resources"]["limits"]["memory"],
        json!(50 << 20)
    );
}

#[test]
fn full_example_service_fails_validation_only_on_its_constraint() {
    let issues = spec(full_example_foo()).validate();
    assert_eq!(issues.len(), 1, "{issues:?}");
    assert_eq!(issues[0].path_string(), "deploy.placement.constraints[0]");
    assert!(issues[0].message.contains("no `==` or `!=` operator"));
}

#[test]
fn empty_spec_serializes_to_an_empty_object() {
    assert_eq!(
        serde_json::to_value(ServiceSpec::default()).expect("ser"),
        json!({})
    );
    assert_eq!(spec(json!({})), ServiceSpec::default());
    assert_eq!(ServiceSpec::default().replicas(), Some(1));
}

/// A replicated service with `deploy` set from JSON, for validation cases.
fn with_deploy(deploy: Value) -> ServiceSpec {
    spec(json!({ "image": "nginx", "deploy": deploy }))
}

fn messages(s: &ServiceSpec) -> Vec<String> {
    s.validate().iter().map(ToString::to_string).collect()
}

#[test]
fn global_modes_refuse_replica_counts() {
    let s = with_deploy(
        json!({"mode": "global", "replicas": 2, "placement": {"max_replicas_per_node": 1}}),
    );
    let msgs = messages(&s);
    assert_eq!(msgs.len(), 2, "{msgs:?}");
    assert_eq!(
        msgs[0],
        "deploy.replicas: replicas cannot be set with mode: global; remove `replicas` or use mode: replicated"
    );
    assert!(msgs[1].starts_with("deploy.placement.max_replicas_per_node: "));
    assert_eq!(s.replicas(), None);
    assert!(
        messages(&with_deploy(json!({"mode": "global-job", "replicas": 1})))[0]
            .contains("mode: global-job")
    );
    assert!(
        messages(&with_deploy(
            json!({"mode": "replicated-job", "replicas": 3})
        ))
        .is_empty()
    );
}

#[test]
fn bad_constraints_and_preferences_are_located() {
    let s = with_deploy(json!({"placement": {
        "constraints": ["node.role==manager", "node.labels.x=y", "node.role==boss"],
        "preferences": [{"spread": "node.labels.az"}, {"spread": "rack"}]
    }}));
    let issues = s.validate();
    let paths: Vec<String> = issues.iter().map(|i| i.path_string()).collect();
    assert_eq!(
        paths,
        [
            "deploy.placement.constraints[1]",
            "deploy.placement.constraints[2]",
            "deploy.placement.preferences[1].spread"
        ]
    );
    assert_eq!(issues[0].path[3], PathSeg::Index(1));
}

#[test]
fn duplicate_published_ports_and_zero_targets() {
    let s =
        spec(json!({"ports": ["8080:80", "8080:81/udp", {"target": 82, "published": 8080}, 0]}));
    let msgs = messages(&s);
    assert_eq!(msgs.len(), 2, "{msgs:?}");
    assert!(
        msgs[0].starts_with("ports[2]: published port 8080/tcp is already used by ports[0]"),
        "{}",
        msgs[0]
    );
    assert_eq!(
        msgs[1],
        "ports[3].target: target port must be between 1 and 65535"
    );
}

#[test]
fn healthcheck_lists_must_start_with_a_known_word() {
    let bad = spec(json!({"healthcheck": {"test": ["curl", "-f", "http://localhost"]}}));
    assert!(messages(&bad)[0].starts_with(
        "healthcheck.test[0]: a health check list starts with NONE, CMD or CMD-SHELL"
    ));
    let lonely = spec(json!({"healthcheck": {"test": ["CMD"]}}));
    assert_eq!(
        messages(&lonely),
        ["healthcheck.test: `CMD` needs a command after it"]
    );
    for ok in [
        json!(["NONE"]),
        json!(["CMD", "true"]),
        json!("curl -f localhost"),
    ] {
        assert!(
            spec(json!({"healthcheck": {"test": ok}}))
                .validate()
                .is_empty()
        );
    }
}

#[test]
fn failure_ratios_are_fractions() {
    let s = with_deploy(
        json!({"update_config": {"max_failure_ratio": 1.5}, "rollback_config": {"max_failure_ratio": 1}}),
    );
    assert_eq!(
        messages(&s),
        [
            "deploy.update_config.max_failure_ratio: max_failure_ratio is a fraction between 0 and 1 (0.1 = 10%), not 1.5"
        ]
    );
}

#[test]
fn mount_targets_must_be_absolute() {
    let s = spec(json!({"volumes": ["data:relative/path", "/ok"]}));
    assert_eq!(
        messages(&s),
        [
            "volumes[0].target: mount target `relative/path` must be an absolute path in the container"
        ]
    );
}

#[test]
fn bad_short_syntax_errors_name_the_item() {
    let err =
        serde_json::from_value::<ServiceSpec>(json!({"ports": ["80:abc"]})).expect_err("bad port");
    assert!(err.to_string().contains("invalid port `80:abc`"), "{err}");
    let err = serde_json::from_value::<ServiceSpec>(json!({"deploy": {"replicas": "3"}}))
        .expect_err("string replicas");
    assert!(err.to_string().contains("invalid type"), "{err}");
}

#[test]
fn every_compose_spec_service_key_is_a_field_or_explained() {
    // The `service` properties of compose-spec.json (2025), kept here so the test needs no files.
    const COMPOSE_SPEC_SERVICE_KEYS: &[&str] = &[
        "annotations",
        "attach",
        "blkio_config",
        "build",
        "cap_add",
        "cap_drop",
        "cgroup",
        "cgroup_parent",
        "command",
        "configs",
        "container_name",
        "cpu_count",
        "cpu_percent",
        "cpu_period",
        "cpu_quota",
        "cpu_rt_period",
        "cpu_rt_runtime",
        "cpu_shares",
        "cpus",
        "cpuset",
        "credential_spec",
        "depends_on",
        "deploy",
        "develop",
        "device_cgroup_rules",
        "devices",
        "dns",
        "dns_opt",
        "dns_search",
        "domainname",
        "entrypoint",
        "env_file",
        "environment",
        "expose",
        "extends",
        "external_links",
        "extra_hosts",
        "gpus",
        "group_add",
        "healthcheck",
        "hostname",
        "image",
        "init",
        "ipc",
        "isolation",
        "label_file",
        "labels",
        "links",
        "logging",
        "mac_address",
        "mem_limit",
        "mem_reservation",
        "mem_swappiness",
        "memswap_limit",
        "models",
        "network_mode",
        "networks",
        "oom_kill_disable",
        "oom_score_adj",
        "pid",
        "pids_limit",
        "platform",
        "ports",
        "post_start",
        "pre_start",
        "pre_stop",
        "privileged",
        "profiles",
        "provider",
        "pull_policy",
        "pull_refresh_after",
        "read_only",
        "restart",
        "runtime",
        "scale",
        "secrets",
        "security_opt",
        "shm_size",
        "stdin_open",
        "stop_grace_period",
        "stop_signal",
        "storage_opt",
        "sysctls",
        "tmpfs",
        "tty",
        "ulimits",
        "use_api_socket",
        "user",
        "userns_mode",
        "uts",
        "volumes",
        "volumes_from",
        "working_dir",
    ];
    let schema = crate::schema::generator()
        .into_root_schema_for::<ServiceSpec>()
        .to_value();
    let properties = schema["properties"].as_object().expect("properties");
    for key in COMPOSE_SPEC_SERVICE_KEYS {
        assert!(
            properties.contains_key(*key),
            "compose key `{key}` is neither a field nor unsupported"
        );
    }
    for key in properties.keys() {
        let known =
            COMPOSE_SPEC_SERVICE_KEYS.contains(&key.as_str()) || unsupported_reason(key).is_some();
        assert!(
            known,
            "schema property `{key}` is not a Compose service key"
        );
    }
    let fields = properties.len() - UNSUPPORTED_SERVICE_KEYS.len();
    assert_eq!(
        fields, 34,
        "supported fields changed: update this test and the docs"
    );
}
