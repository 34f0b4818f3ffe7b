//! `swarmctl render`: a stack using anchors, merge keys, `.env`, `${VAR:-d}` and two `-f` files
//! prints the values a Docker user expects.

use std::path::Path;
use std::process::{Command, Output};

use serde_json::{Value, json};

fn swarmctl(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_swarmctl"));
    cmd.args(args).current_dir(dir);
    for var in ["WEB_TAG", "REPLICAS", "LOG_LEVEL", "API_PORT"] {
        cmd.env_remove(var);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("swarmctl runs")
}

const BASE: &str = r#"
name: demo
x-common: &common
  environment:
    LOG_LEVEL: ${LOG_LEVEL:-info}
    REGION: eu
  labels: &labels
    team: web
  deploy:
    restart_policy: {condition: on-failure}

services:
  web:
    <<: *common
    image: "nginx:${WEB_TAG}"
    ports: ["${API_PORT-8080}:80"]
    deploy:
      replicas: ${REPLICAS}
      labels:
        <<: *labels
        tier: front
  api:
    <<: [*common]
    image: api:1
    command: serve --port 9000
    secrets:
      - source: token
        mode: 0440
secrets:
  token:
    file: ./token.txt
"#;

const OVERRIDE: &str = r#"
services:
  web:
    environment:
      REGION: us
    ports: ["8443:443"]
    deploy:
      replicas: 5
  api:
    command: ["serve", "--port", "9001"]
"#;

fn write_stack(dir: &Path) {
    std::fs::write(dir.join("stack.yml"), BASE).expect("write");
    std::fs::write(dir.join("override.yml"), OVERRIDE).expect("write");
    std::fs::write(dir.join(".env"), "WEB_TAG=1.27\nREPLICAS=3\n").expect("write");
    std::fs::write(dir.join("token.txt"), "t0k3n").expect("write");
}

fn render(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Vec<Value> {
    let mut all = vec!["render", "-o", "json"];
    all.extend_from_slice(args);
    let out = swarmctl(dir, &all, env);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON array")
}

fn service<'a>(manifests: &'a [Value], name: &str) -> &'a Value {
    manifests
        .iter()
        .find(|m| m["kind"] == "Service" && m["metadata"]["name"] == name)
        .unwrap_or_else(|| panic!("no service {name}"))
}

#[test]
fn one_file_with_anchors_merge_keys_and_dotenv() {
    let dir = tempfile::tempdir().expect("tempdir");
    write_stack(dir.path());
    let manifests = render(dir.path(), &["-f", "stack.yml"], &[]);
    let web = service(&manifests, "web");
    assert_eq!(web["apiVersion"], "swarm/v1");
    assert_eq!(web["metadata"]["stack"], "demo");
    assert_eq!(web["spec"]["image"], "nginx:1.27");
    assert_eq!(
        web["spec"]["environment"],
        json!({"LOG_LEVEL": "info", "REGION": "eu"})
    );
    assert_eq!(web["spec"]["labels"], json!({"team": "web"}));
    assert_eq!(
        web["spec"]["deploy"]["replicas"], 3,
        "${{REPLICAS}} from .env becomes an integer"
    );
    assert_eq!(
        web["spec"]["deploy"]["labels"],
        json!({"team": "web", "tier": "front"})
    );
    // The service's own `deploy:` replaces the merged one: merge keys are shallow, as in YAML.
    assert!(web["spec"]["deploy"].get("restart_policy").is_none());
    assert_eq!(
        web["spec"]["ports"],
        json!([{"target": 80, "published": 8080, "protocol": "tcp", "mode": "ingress"}])
    );
    assert_eq!(web["spec"]["networks"], json!({"default": {}}));
    let api = service(&manifests, "api");
    assert_eq!(api["spec"]["command"], json!(["serve", "--port", "9000"]));
    assert_eq!(
        api["spec"]["deploy"]["restart_policy"]["condition"],
        "on-failure"
    );
    assert_eq!(api["spec"]["deploy"]["replicas"], 1);
    assert_eq!(api["spec"]["secrets"][0]["mode"], "0440");
    let token = manifests
        .iter()
        .find(|m| m["kind"] == "Secret")
        .expect("secret");
    let file = token["spec"]["file"].as_str().expect("resolved path");
    assert!(
        file.ends_with("/token.txt") && Path::new(file).is_absolute(),
        "{file}"
    );
    assert!(
        manifests
            .iter()
            .any(|m| m["kind"] == "Network" && m["metadata"]["name"] == "default")
    );
}

#[test]
fn process_environment_beats_dotenv_and_defaults() {
    let dir = tempfile::tempdir().expect("tempdir");
    write_stack(dir.path());
    let env = [
        ("WEB_TAG", "1.28"),
        ("LOG_LEVEL", "debug"),
        ("API_PORT", ""),
    ];
    let manifests = render(dir.path(), &["-f", "stack.yml"], &env);
    let web = service(&manifests, "web");
    assert_eq!(web["spec"]["image"], "nginx:1.28");
    assert_eq!(web["spec"]["environment"]["LOG_LEVEL"], "debug");
    // `${API_PORT-8080}` keeps an empty value that is set: the port is then unpublished.
    assert_eq!(
        web["spec"]["ports"][0],
        json!({"target": 80, "protocol": "tcp", "mode": "ingress"})
    );
}

#[test]
fn two_files_merge_with_compose_override_rules() {
    let dir = tempfile::tempdir().expect("tempdir");
    write_stack(dir.path());
    let manifests = render(dir.path(), &["-f", "stack.yml", "-f", "override.yml"], &[]);
    let web = service(&manifests, "web");
    assert_eq!(
        web["spec"]["environment"],
        json!({"LOG_LEVEL": "info", "REGION": "us"})
    );
    assert_eq!(web["spec"]["deploy"]["replicas"], 5);
    assert_eq!(
        web["spec"]["deploy"]["labels"],
        json!({"team": "web", "tier": "front"})
    );
    let published: Vec<&Value> = web["spec"]["ports"]
        .as_array()
        .expect("ports")
        .iter()
        .map(|p| &p["published"])
        .collect();
    assert_eq!(published, vec![&json!(8080), &json!(8443)]);
    let api = service(&manifests, "api");
    assert_eq!(api["spec"]["command"], json!(["serve", "--port", "9001"]));
}

#[test]
fn stack_flag_and_yaml_output() {
    let dir = tempfile::tempdir().expect("tempdir");
    write_stack(dir.path());
    let out = swarmctl(
        dir.path(),
        &["render", "-f", "stack.yml", "--stack", "prod"],
        &[],
    );
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("stack: prod"), "{text}");
    let docs: Vec<Value> = serde_saphyr::from_multiple(&text).expect("multi-document YAML");
    assert!(docs.len() >= 4, "services, network and secret");
    assert!(docs.iter().all(|d| d["apiVersion"] == "swarm/v1"));
}

#[test]
fn invalid_input_renders_nothing_and_exits_1() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("bad.yml"),
        "services:\n  web:\n    image: nginx\n    replicas: 3\n",
    )
    .expect("write");
    let out = swarmctl(dir.path(), &["render", "-f", "bad.yml"], &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("bad.yml:4:5: services.web.replicas: unknown key `replicas` here; it belongs under `deploy:`"), "{stderr}");
}

#[test]
fn a_volume_declaration_reaches_the_mounts_that_use_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("stack.yml"),
        r#"
services:
  db:
    image: postgres:16
    volumes:
      - data:/var/lib/postgresql/data
      - type: volume
        source: shared
        target: /shared
        volume: {labels: {owner: db}}
volumes:
  data:
    driver: local
    driver_opts: {type: tmpfs, device: tmpfs, o: "size=64m"}
    labels: {tier: data}
  shared:
    external: true
"#,
    )
    .expect("write");
    let manifests = render(dir.path(), &["-f", "stack.yml", "--stack", "shop"], &[]);
    let mounts = &service(&manifests, "db")["spec"]["volumes"];
    assert_eq!(
        mounts[0],
        json!({
            "type": "volume",
            "source": "shop_data",
            "target": "/var/lib/postgresql/data",
            "volume": {
                "driver": "local",
                "driver_opts": {"type": "tmpfs", "device": "tmpfs", "o": "size=64m"},
                "labels": {"tier": "data"}
            }
        })
    );
    assert_eq!(
        mounts[1]["source"], "shared",
        "external: the name as declared"
    );
    assert_eq!(
        mounts[1]["volume"],
        json!({"labels": {"owner": "db"}, "external": true})
    );
}
