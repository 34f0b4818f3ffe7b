//! Real-world Compose files (../shared/conformance, read in place, never copied): every
//! awesome-compose stack validates or fails only for `build:` without `image:`, with warnings for
//! what a swarm ignores; docker/cli's full-example.yml (every v3.13 key) is refused only for its
//! `node=foo` constraint, and renders every swarm-relevant value once that is fixed; compose-go's
//! depends_on cycles are refused naming the cycle.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::{Value, json};
use swarm::manifest::{self, LoadOptions, PathArg};

fn conformance() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/conformance");
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!(
            "conformance files not present at {}; nothing to check",
            dir.display()
        );
        None
    }
}

fn compose_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).expect("readable") {
        let project = entry.expect("entry").path();
        for name in [
            "compose.yaml",
            "compose.yml",
            "docker-compose.yml",
            "docker-compose.yaml",
        ] {
            if project.join(name).is_file() {
                files.push(project.join(name));
            }
        }
    }
    files.sort();
    files
}

#[test]
fn awesome_compose_stacks_validate_or_only_lack_an_image() {
    let Some(root) = conformance() else { return };
    let files = compose_files(&root.join("awesome-compose"));
    assert!(
        files.len() >= 30,
        "expected the awesome-compose set, found {}",
        files.len()
    );
    // plex documents PLEX_MEDIA_PATH as the one variable its users must set.
    let options = LoadOptions {
        env: HashMap::from([("PLEX_MEDIA_PATH".to_string(), "/srv/media".to_string())]),
        ..LoadOptions::default()
    };
    let mut problems = Vec::new();
    for file in &files {
        let loaded = manifest::load(&[PathArg::File(file.clone())], &options);
        let report = &loaded.reports[0];
        for error in &report.errors {
            if !error.message.contains("has `build:` but no `image:`") {
                problems.push(format!("{error}"));
            }
        }
        let raw: Value = serde_saphyr::from_str(&std::fs::read_to_string(file).expect("read"))
            .expect("conformance file parses");
        for (service, body) in raw["services"].as_object().expect("services") {
            for key in body.as_object().expect("service mapping").keys() {
                let ignored = model::service::UNSUPPORTED_SERVICE_KEYS
                    .iter()
                    .any(|(k, _)| k == key);
                let warned = report.warnings.iter().any(|w| {
                    w.message.contains(&format!(
                        "`{key}` is ignored by swarm (service `{service}`)"
                    ))
                });
                if ignored && !warned {
                    problems.push(format!(
                        "{}: no warning for ignored `{key}` of `{service}`",
                        file.display()
                    ));
                }
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

fn full_example(root: &Path) -> String {
    std::fs::read_to_string(root.join("docker-cli/full-example.yml")).expect("full-example.yml")
}

fn swarmctl_stdin(dir: &Path, args: &[&str], input: &str) -> std::process::Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_swarmctl"))
        .args(args)
        .current_dir(dir)
        .env_remove("QUX")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("swarmctl starts");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input.as_bytes())
        .expect("write stdin");
    child.wait_with_output().expect("swarmctl finishes")
}

#[test]
fn full_example_is_refused_only_for_its_constraint() {
    let Some(root) = conformance() else { return };
    let dir = root.join("docker-cli");
    let out = swarmctl_stdin(
        &dir,
        &["validate", "-o", "json", "-f", "-"],
        &full_example(&root),
    );
    assert_eq!(out.status.code(), Some(1));
    let reports: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let errors = reports[0]["errors"].as_array().expect("errors");
    // Besides the constraint, the file names a network and a volume it never declares (which
    // `docker stack deploy` refuses too) and depends on services it does not define.
    let paths: Vec<&str> = errors.iter().filter_map(|e| e["path"].as_str()).collect();
    assert_eq!(
        paths,
        [
            "services.foo.depends_on[0]",
            "services.foo.depends_on[1]",
            "services.foo.deploy.placement.constraints[0]",
            "services.foo.networks.other-other-network",
            "services.foo.volumes[5]",
        ],
        "{errors:#?}"
    );
    let constraint = &errors[2];
    assert_eq!(constraint["line"], 88);
    assert!(
        constraint["message"]
            .as_str()
            .is_some_and(|m| m.contains("node=foo"))
    );
    let warnings = reports[0]["warnings"].to_string();
    for key in [
        "build",
        "container_name",
        "privileged",
        "network_mode",
        "links",
        "restart",
        "devices",
    ] {
        assert!(
            warnings.contains(&format!("`{key}` is ignored by swarm")),
            "no warning for {key}"
        );
    }
}

#[test]
fn full_example_renders_every_swarm_relevant_value() {
    let Some(root) = conformance() else { return };
    let dir = root.join("docker-cli");
    let fixed = full_example(&root)
        .replace("[node=foo]", "[node.hostname==foo]")
        .replace(
            "\nservices:\n",
            "\nservices:\n  db: {image: db}\n  redis: {image: redis}\n",
        )
        .replace("\nnetworks:\n", "\nnetworks:\n  other-other-network:\n")
        .replace("\nvolumes:\n", "\nvolumes:\n  datavolume:\n");
    let out = swarmctl_stdin(
        &dir,
        &["render", "-o", "json", "-f", "-", "--stack", "full"],
        &fixed,
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let manifests: Vec<Value> = serde_json::from_slice(&out.stdout).expect("JSON");
    let find = |kind: &str, name: &str| {
        manifests
            .iter()
            .find(|m| m["kind"] == kind && m["metadata"]["name"] == name)
            .unwrap_or_else(|| panic!("no {kind} {name}"))
            .clone()
    };
    let foo = find("Service", "foo");
    assert_eq!(foo["metadata"]["stack"], "full");
    let s = &foo["spec"];
    assert_eq!(s["image"], "redis");
    assert_eq!(
        s["command"],
        json!(["bundle", "exec", "thin", "-p", "3000"])
    );
    assert_eq!(
        s["entrypoint"],
        json!(["/code/entrypoint.sh", "-p", "3000"])
    );
    assert_eq!(
        s["environment"],
        json!({"BAR": "bar_from_env_file_2", "BAZ": "baz_from_service_def", "FOO": "foo_from_env_file"})
    );
    assert_eq!(s["working_dir"], "/code");
    assert_eq!(s["user"], "someone");
    assert_eq!(s["hostname"], "foo");
    assert_eq!(s["labels"]["com.example.number"], "42");
    assert_eq!(s["labels"]["com.example.empty-label"], "");
    let ports = s["ports"].as_array().expect("ports");
    // 3000, 3001-3005, 8000, 9090-9091, 49100, 8001, 5000-5010
    assert_eq!(ports.len(), 1 + 5 + 1 + 2 + 1 + 1 + 11);
    assert!(ports.contains(
        &json!({"target": 8081, "published": 9091, "protocol": "tcp", "mode": "ingress"})
    ));
    assert!(ports.contains(
        &json!({"target": 5010, "published": 5010, "protocol": "tcp", "mode": "ingress", "host_ip": "127.0.0.1"})
    ));
    let volumes = s["volumes"].as_array().expect("volumes");
    assert_eq!(volumes.len(), 9);
    assert_eq!(
        volumes[0],
        json!({"type": "volume", "target": "/var/lib/mysql"})
    );
    assert_eq!(
        volumes[2]["source"],
        dir.canonicalize().expect("dir").display().to_string()
    );
    assert_eq!(volumes[4]["read_only"], true);
    assert_eq!(volumes[5]["source"], "full_datavolume");
    assert_eq!(volumes[6]["consistency"], "cached");
    assert_eq!(volumes[7]["tmpfs"]["size"], 10000);
    assert_eq!(
        s["secrets"][1],
        json!({"source": "secret2", "target": "my_secret", "uid": "103", "gid": "103", "mode": "0440"})
    );
    assert_eq!(s["configs"][1]["mode"], "0440");
    assert_eq!(
        s["networks"]["some-network"]["aliases"],
        json!(["alias1", "alias3"])
    );
    assert_eq!(
        s["healthcheck"],
        json!({"test": ["CMD-SHELL", "echo \"hello world\""], "interval": "10s", "timeout": "1s",
               "start_period": "15s", "start_interval": "1s", "retries": 5})
    );
    assert_eq!(s["stop_signal"], "SIGUSR1");
    assert_eq!(s["stop_grace_period"], "20s");
    assert_eq!(s["read_only"], true);
    assert_eq!(s["cap_add"], json!(["ALL"]));
    assert_eq!(s["cap_drop"], json!(["NET_ADMIN", "SYS_ADMIN"]));
    assert_eq!(s["sysctls"]["net.core.somaxconn"], "1024");
    assert_eq!(s["ulimits"]["nproc"], json!({"soft": 65535, "hard": 65535}));
    assert_eq!(
        s["ulimits"]["nofile"],
        json!({"soft": 20000, "hard": 40000})
    );
    assert!(
        s["extra_hosts"]
            .as_array()
            .expect("hosts")
            .contains(&json!("host.docker.internal:host-gateway"))
    );
    assert_eq!(s["dns"], json!(["8.8.8.8", "9.9.9.9"]));
    assert_eq!(
        s["dns_search"],
        json!(["dc1.example.com", "dc2.example.com"])
    );
    assert_eq!(s["tmpfs"], json!(["/run", "/tmp"]));
    assert_eq!(
        s["logging"]["options"]["syslog-address"],
        "tcp://192.168.0.42:123"
    );
    assert!(s["depends_on"]["db"].is_object() && s["depends_on"]["redis"].is_object());
    let d = &s["deploy"];
    assert_eq!(d["mode"], "replicated");
    assert_eq!(d["replicas"], 6);
    assert_eq!(d["endpoint_mode"], "dnsrr");
    assert_eq!(d["labels"], json!({"FOO": "BAR"}));
    assert_eq!(d["placement"]["constraints"], json!(["node.hostname==foo"]));
    assert_eq!(
        d["placement"]["preferences"],
        json!([{"spread": "node.labels.az"}])
    );
    assert_eq!(d["placement"]["max_replicas_per_node"], 5);
    assert_eq!(
        d["resources"]["limits"],
        json!({"cpus": 0.001, "memory": 52428800, "pids": 100})
    );
    assert_eq!(d["resources"]["reservations"]["memory"], 20 * 1024 * 1024);
    assert_eq!(
        d["resources"]["reservations"]["generic_resources"][0],
        json!({"discrete_resource_spec": {"kind": "gpu", "value": 2}})
    );
    assert_eq!(
        d["restart_policy"],
        json!({"condition": "on-failure", "delay": "5s", "max_attempts": 3, "window": "2m"})
    );
    let update = json!({"parallelism": 3, "delay": "10s", "failure_action": "continue",
                        "monitor": "1m", "max_failure_ratio": 0.3, "order": "start-first"});
    assert_eq!(d["update_config"], update);
    assert_eq!(d["rollback_config"], update);

    let other = find("Network", "other-network");
    assert_eq!(other["spec"]["driver"], "overlay");
    assert_eq!(
        other["spec"]["driver_opts"],
        json!({"baz": "1", "foo": "bar"})
    );
    assert_eq!(
        other["spec"]["ipam"]["config"][1]["subnet"],
        "2001:3984:3989::/64"
    );
    assert_eq!(
        find("Network", "other-external-network")["spec"],
        json!({"name": "my-cool-network", "external": true})
    );
    assert_eq!(
        find("Secret", "secret2")["spec"],
        json!({"name": "my_secret", "external": true})
    );
    assert_eq!(
        find("Secret", "secret1")["spec"]["labels"],
        json!({"foo": "bar"})
    );
    assert_eq!(find("Config", "config3")["spec"], json!({"external": true}));
}

#[test]
fn compose_go_dependency_cycles_are_refused_naming_the_cycle() {
    let Some(root) = conformance() else { return };
    for (file, cycle) in [
        (
            "compose-depends-on-cycle.yaml",
            "service1 -> service2 -> service3 -> service1",
        ),
        ("compose-depends-on-self.yaml", "service1 -> service1"),
    ] {
        let path = root.join("compose-go").join(file);
        let loaded = manifest::load(&[PathArg::File(path)], &LoadOptions::default());
        let errors = &loaded.reports[0].errors;
        assert_eq!(errors.len(), 1, "{file}: {errors:#?}");
        assert_eq!(
            (errors[0].line, errors[0].path.as_str()),
            (6, "services.service1.depends_on[0]"),
            "{file}"
        );
        assert!(
            errors[0]
                .message
                .starts_with(&format!("depends_on cycle: {cycle};")),
            "{file}: {}",
            errors[0].message
        );
    }
}
