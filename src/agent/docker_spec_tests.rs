use std::collections::BTreeMap;
use std::path::PathBuf;

use model::NetworkSpec;
use model::service::{
    Deploy, Healthcheck, Logging, Mount as SpecMount, MountType as SpecMountType, PortConfig,
    PortMode, Protocol, ResourceLimits, Resources, TmpfsOptions, Ulimit,
};
use model::units::{ByteSize, Cpus, Duration, FileMode};

use super::*;

fn rich_task() -> TaskAssignment {
    let mut t = TaskAssignment::test("t1", "web", "swarm-test/busybox:latest")
        .in_stack("demo")
        .slot(2);
    let s = t.spec_mut();
    s.command = Some(vec!["httpd".into(), "-f".into()]);
    s.entrypoint = Some(vec!["/bin/sh".into(), "-c".into()]);
    s.environment = BTreeMap::from([("A".into(), Some("1".into())), ("UNSET".into(), None)]);
    s.working_dir = Some("/www".into());
    s.user = Some("1000:1000".into());
    s.hostname = Some("web-host".into());
    s.labels = BTreeMap::from([("team".into(), "blue".into())]);
    s.init = Some(true);
    s.read_only = true;
    s.cap_add = vec!["NET_ADMIN".into()];
    s.cap_drop = vec!["ALL".into()];
    s.sysctls = BTreeMap::from([("net.core.somaxconn".into(), "1024".into())]);
    s.ulimits = BTreeMap::from([(
        "nofile".into(),
        Ulimit {
            soft: 1024,
            hard: 2048,
        },
    )]);
    s.extra_hosts = vec!["db=10.0.0.5".into(), "cache:10.0.0.6".into()];
    s.dns = vec!["1.1.1.1".into()];
    s.tmpfs = vec!["/run:size=64m".into(), "/tmp".into()];
    s.stop_signal = Some("SIGINT".into());
    s.stop_grace_period = Some(Duration::from_millis(2500));
    s.logging = Some(Logging {
        driver: Some("json-file".into()),
        options: BTreeMap::from([("max-size".into(), "1m".into())]),
    });
    s.healthcheck = Some(Healthcheck {
        test: vec!["CMD-SHELL".into(), "true".into()],
        interval: Some(Duration::from_secs(1)),
        retries: Some(3),
        ..Healthcheck::default()
    });
    s.volumes = vec![
        SpecMount {
            kind: SpecMountType::Volume,
            source: Some("demo_data".into()),
            target: "/data".into(),
            ..SpecMount::default()
        },
        SpecMount {
            kind: SpecMountType::Tmpfs,
            target: "/cache".into(),
            tmpfs: Some(TmpfsOptions {
                size: Some(ByteSize(1 << 20)),
                mode: Some(FileMode(0o1777)),
            }),
            ..SpecMount::default()
        },
    ];
    s.ports = vec![
        PortConfig {
            target: 80,
            published: Some(8080),
            protocol: Protocol::Tcp,
            mode: PortMode::Host,
            ..PortConfig::default()
        },
        PortConfig {
            target: 53,
            published: Some(5353),
            protocol: Protocol::Udp,
            mode: PortMode::Ingress,
            ..PortConfig::default()
        },
    ];
    s.deploy = Some(Deploy {
        resources: Resources {
            limits: Some(ResourceLimits {
                cpus: Some(Cpus(0.5)),
                memory: Some(ByteSize(64 << 20)),
                pids: Some(100),
            }),
            ..Resources::default()
        },
        ..Deploy::default()
    });
    t.networks = vec![NetworkAttachment {
        key: "front".into(),
        docker_name: "demo_front".into(),
        spec: NetworkSpec::default(),
        aliases: vec!["web".into(), "demo_web".into()],
    }];
    t
}

#[test]
fn maps_every_service_field() {
    let files = [FileMount {
        source: PathBuf::from("/dev/shm/swarm/t1/secret-0-ab"),
        target: "/run/secrets/pw".into(),
    }];
    let body = container_body(&rich_task(), "node-1", &files).expect("body");
    assert_eq!(body.image.as_deref(), Some("swarm-test/busybox:latest"));
    assert_eq!(body.cmd, Some(vec!["httpd".to_string(), "-f".to_string()]));
    assert_eq!(body.entrypoint.as_ref().map(Vec::len), Some(2));
    assert_eq!(body.env, Some(vec!["A=1".to_string()]));
    assert_eq!(body.working_dir.as_deref(), Some("/www"));
    assert_eq!(body.user.as_deref(), Some("1000:1000"));
    assert_eq!(body.hostname.as_deref(), Some("web-host"));
    assert_eq!(body.stop_signal.as_deref(), Some("SIGINT"));
    assert_eq!(body.stop_timeout, Some(3));
    let labels = body.labels.as_ref().expect("labels");
    assert_eq!(labels["team"], "blue");
    assert_eq!(labels["swarm.task.id"], "t1");
    assert_eq!(labels["swarm.node.id"], "node-1");
    assert_eq!(labels["com.docker.stack.namespace"], "demo");
    let health = body.healthcheck.as_ref().expect("healthcheck");
    assert_eq!(health.interval, Some(1_000_000_000));
    assert_eq!(health.retries, Some(3));

    let host = body.host_config.as_ref().expect("host config");
    assert_eq!(host.init, Some(true));
    assert_eq!(host.readonly_rootfs, Some(true));
    assert_eq!(host.nano_cpus, Some(500_000_000));
    assert_eq!(host.memory, Some(64 << 20));
    assert_eq!(host.pids_limit, Some(100));
    assert_eq!(host.cap_drop, Some(vec!["ALL".to_string()]));
    assert_eq!(
        host.extra_hosts,
        Some(vec![
            "db:10.0.0.5".to_string(),
            "cache:10.0.0.6".to_string()
        ])
    );
    assert_eq!(
        host.tmpfs.as_ref().map(|t| t["/run"].as_str()),
        Some("size=64m")
    );
    assert_eq!(host.ulimits.as_ref().and_then(|u| u[0].hard), Some(2048));
    assert_eq!(host.network_mode.as_deref(), Some("demo_front"));
    assert_eq!(
        host.log_config.as_ref().and_then(|l| l.typ.as_deref()),
        Some("json-file")
    );
    let ports = host.port_bindings.as_ref().expect("port bindings");
    assert_eq!(ports.len(), 1, "only host-mode ports are bound: {ports:?}");
    let binding = &ports["80/tcp"].as_ref().expect("binding")[0];
    assert_eq!(binding.host_port.as_deref(), Some("8080"));

    let mounts = host.mounts.as_ref().expect("mounts");
    assert_eq!(mounts.len(), 3);
    assert_eq!(mounts[0].typ, Some(MountType::VOLUME));
    let volume_labels = mounts[0]
        .volume_options
        .as_ref()
        .and_then(|v| v.labels.as_ref());
    assert!(volume_labels.is_some_and(|l| l.contains_key(LABEL_OWNED)));
    assert_eq!(
        mounts[1].tmpfs_options.as_ref().and_then(|t| t.mode),
        Some(0o1777)
    );
    assert_eq!(mounts[2].read_only, Some(true));
    assert_eq!(mounts[2].target.as_deref(), Some("/run/secrets/pw"));

    let endpoints = body
        .networking_config
        .and_then(|n| n.endpoints_config)
        .expect("endpoints");
    assert_eq!(
        endpoints["demo_front"].aliases,
        Some(vec!["web".to_string(), "demo_web".to_string()])
    );
}

#[test]
fn a_disabled_healthcheck_overrides_the_image() {
    let mut t = TaskAssignment::test("t1", "web", "img");
    t.spec_mut().healthcheck = Some(Healthcheck {
        disable: true,
        ..Healthcheck::default()
    });
    let body = container_body(&t, "n", &[]).expect("body");
    assert_eq!(
        body.healthcheck.and_then(|h| h.test),
        Some(vec!["NONE".to_string()])
    );
}

#[test]
fn no_image_is_a_spec_error() {
    let mut t = TaskAssignment::test("t1", "web", "img");
    t.spec_mut().image = None;
    assert!(matches!(
        container_body(&t, "n", &[]),
        Err(RuntimeError::InvalidSpec(_))
    ));
}
