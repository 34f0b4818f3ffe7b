//! What apply refuses before writing anything: missing references and taken ports.

use model::service::{PortConfig, PortMode, ServiceNetwork};
use model::{NetworkSpec, ObjectMeta};
use serde_json::Value;

use super::*;
use crate::store::Op;

fn publishing(port: &str) -> ServiceSpec {
    let mut spec = service("web", "nginx");
    spec.ports = PortConfig::parse_short(port).expect("port");
    spec
}

fn external_secret(key: &str, name: Option<&str>) -> Manifest {
    Manifest::new(
        key,
        ManifestSpec::Secret(SecretSpec {
            external: true,
            name: name.map(str::to_owned),
            ..SecretSpec::default()
        }),
    )
}

/// `swarmctl secret create NAME`: a secret outside any stack.
fn create_plain_secret(cluster: &mut FakeRaft, name: &str) {
    let command = Command {
        at: Timestamp(0),
        ops: vec![Op::Create {
            kind: Kind::Secret,
            metadata: ObjectMeta {
                name: name.into(),
                ..ObjectMeta::default()
            },
            spec: serde_json::json!({ "content": "s3cret" }),
            status: Value::Null,
        }],
    };
    cluster.commit(&command);
}

#[test]
fn a_port_another_stack_publishes_is_refused_with_its_owner_and_nothing_is_written() {
    let mut cluster = FakeRaft::new();
    cluster.apply(&request("porta", vec![svc("web", publishing("9090:80"))]));
    let before = cluster.log;
    let err = cluster
        .plan(&request("portb", vec![svc("api", publishing("9090:8080"))]))
        .expect_err("refused");
    assert!(
        err.to_string()
            .starts_with("port 9090 is already published by service porta_web"),
        "{err}"
    );
    assert!(matches!(err, ApplyError::PortInUse { port: 9090, .. }));
    assert_eq!(cluster.log, before, "nothing written");
    assert!(cluster.index.in_stack("portb").is_empty());
    // Its own stack may apply it again (and change it), and other protocols or ports are free.
    cluster.apply(&request("porta", vec![svc("web", publishing("9090:81"))]));
    // A service the stack keeps (not in the input, no --prune) still has it; pruned, it is free.
    let moved = request("porta", vec![svc("api", publishing("9090:80"))]);
    let err = cluster.plan(&moved).expect_err("kept web has it");
    assert!(err.to_string().contains("service porta_web"), "{err}");
    let mut pruned = moved.clone();
    pruned.prune = true;
    cluster.apply(&pruned);
    let mut back = request("porta", vec![svc("web", publishing("9090:81"))]);
    back.prune = true;
    cluster.apply(&back);
    cluster.apply(&request(
        "portb",
        vec![svc("dns", publishing("9090:53/udp"))],
    ));
    cluster.apply(&request("portc", vec![svc("api", publishing("9091:80"))]));
}

#[test]
fn ingress_and_host_ports_collide_but_two_host_ports_are_left_to_placement() {
    let mut cluster = FakeRaft::new();
    let mut host = publishing("7070:80");
    host.ports[0].mode = PortMode::Host;
    cluster.apply(&request("hosta", vec![svc("web", host.clone())]));
    cluster.apply(&request("hostb", vec![svc("web", host)]));
    let err = cluster
        .plan(&request("mesh", vec![svc("web", publishing("7070:80"))]))
        .expect_err("ingress over a host port");
    assert!(
        err.to_string()
            .starts_with("port 7070 is already published by service hosta_web"),
        "{err}"
    );
}

#[test]
fn a_missing_external_secret_config_network_or_dependency_is_refused_by_name() {
    let mut cluster = FakeRaft::new();
    let mut web = service("web", "nginx");
    web.secrets = vec![FileRef::new("db_password")];
    let input = vec![
        svc("web", web.clone()),
        external_secret("db_password", None),
    ];
    let err = cluster
        .plan(&request("shop", input.clone()))
        .expect_err("no such secret");
    assert!(
        err.to_string()
            .starts_with("secret not found: db_password (service `web` uses it)"),
        "{err}"
    );
    assert!(cluster.index.in_stack("shop").is_empty(), "nothing written");
    // Once it exists, the same input applies.
    create_plain_secret(&mut cluster, "db_password");
    cluster.apply(&request("shop", input));

    let mut cfg = service("web", "nginx");
    cfg.configs = vec![FileRef::new("site")];
    let err = cluster
        .plan(&request("cfg", vec![svc("web", cfg)]))
        .expect_err("no such config");
    assert!(
        err.to_string().starts_with("config not found: site"),
        "{err}"
    );

    let mut net = service("web", "nginx");
    net.networks
        .insert("outside".into(), ServiceNetwork::default());
    let err = cluster
        .plan(&request("net", vec![svc("web", net.clone())]))
        .expect_err("no such network");
    assert!(
        err.to_string().starts_with("network not found: outside"),
        "{err}"
    );
    // Docker's own networks need no declaration.
    let mut host = service("web", "nginx");
    host.networks
        .insert("host".into(), ServiceNetwork::default());
    cluster.apply(&request("hostnet", vec![svc("web", host)]));
    // A network the stack declares is fine.
    let declared = Manifest::new("outside", ManifestSpec::Network(NetworkSpec::default()));
    cluster.apply(&request("net", vec![svc("web", net), declared]));

    let mut api = service("api", "nginx");
    api.depends_on.insert("db".into(), Default::default());
    let err = cluster
        .plan(&request("deps", vec![svc("api", api)]))
        .expect_err("no such service");
    assert!(
        err.to_string().starts_with("service not found: db"),
        "{err}"
    );
}

#[test]
fn an_external_secret_under_another_name_is_used_by_that_name() {
    let mut cluster = FakeRaft::new();
    create_plain_secret(&mut cluster, "prod_db_password");
    let mut web = service("web", "nginx");
    web.secrets = vec![FileRef::new("db")];
    cluster.apply(&request(
        "shop",
        vec![
            svc("web", web),
            external_secret("db", Some("prod_db_password")),
        ],
    ));
    let stored: ServiceSpec = cluster
        .record(Kind::Service, "shop", "web")
        .spec_as()
        .expect("spec");
    assert_eq!(stored.secrets[0].source, "prod_db_password");
    assert_eq!(
        stored.secrets[0].target.as_deref(),
        Some("db"),
        "the file keeps the key's name, as in Docker"
    );
}

#[test]
fn a_dependency_cycle_with_a_service_the_stack_keeps_is_refused() {
    let mut cluster = FakeRaft::new();
    let mut db = service("db", "postgres");
    db.depends_on.insert("api".into(), Default::default());
    let api = service("api", "nginx");
    cluster.apply(&request("shop", vec![svc("db", db), svc("api", api)]));
    let mut api = service("api", "nginx");
    api.depends_on.insert("db".into(), Default::default());
    let err = cluster
        .plan(&request("shop", vec![svc("api", api)]))
        .expect_err("cycle");
    assert!(
        err.to_string()
            .starts_with("depends_on cycle: api -> db -> api"),
        "{err}"
    );
}

#[test]
fn a_clash_stored_before_the_check_does_not_block_later_changes() {
    let mut cluster = FakeRaft::new();
    cluster.apply(&request("porta", vec![svc("web", publishing("9090:80"))]));
    // portb's web was written with 9090 before apply refused it (an older swarm).
    let mut old = FakeRaft::new();
    old.apply(&request("portb", vec![svc("web", publishing("9090:80"))]));
    let record = old.record(Kind::Service, "portb", "web").clone();
    cluster.commit(&Command {
        at: Timestamp(0),
        ops: vec![Op::Create {
            kind: Kind::Service,
            metadata: record.metadata.clone(),
            spec: record.spec.clone(),
            status: Value::Null,
        }],
    });
    let mut changed = publishing("9090:80");
    changed.image = Some("nginx:1.27".into());
    cluster.apply(&request("portb", vec![svc("web", changed)]));
    let err = cluster
        .plan(&request("portb", vec![svc("api", publishing("9090:80"))]))
        .expect_err("a new publication is checked");
    assert!(err.to_string().contains("porta_web"), "{err}");
}
