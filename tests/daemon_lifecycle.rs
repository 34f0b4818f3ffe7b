//! `swarmd up` as a real process: apply, list, re-apply, prune, SIGKILL, restart — every
//! acknowledged object survives the crash; SIGTERM shuts down cleanly.

#[path = "daemon_support/mod.rs"]
mod daemon_support;

use daemon_support::{Daemon, text};
use serde_json::Value;

const STACK: &str = r#"
services:
  web:
    image: nginx:1.27
    ports: ["18080:80"]
    networks: [front]
    secrets: [token]
    configs:
      - source: site
        target: /etc/site.conf
  worker:
    image: busybox:latest
    command: sleep 3600
    deploy:
      replicas: 2
networks:
  front: {}
secrets:
  token:
    file: ./token.txt
configs:
  site:
    file: ./site.conf
"#;

fn names(listing: &Value) -> Vec<String> {
    let mut names: Vec<String> = listing
        .as_array()
        .expect("a list")
        .iter()
        .map(|s| s["name"].as_str().unwrap_or_default().to_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn acknowledged_objects_survive_sigkill_and_restart() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let data = tmp.path().join("data");
    let stack = tmp.path().join("demo");
    std::fs::create_dir(&stack).expect("mkdir");
    std::fs::write(stack.join("stack.yml"), STACK).expect("write");
    std::fs::write(stack.join("token.txt"), "s3cr3t").expect("write");
    std::fs::write(stack.join("site.conf"), "listen 80;").expect("write");

    let daemon = Daemon::up(&data, &["--runtime", "none"]);
    let second = std::process::Command::new(env!("CARGO_BIN_EXE_swarmd"))
        .args([
            "up",
            "--api-addr",
            "127.0.0.1:0",
            "--listen-addr",
            "127.0.0.1:0",
            "--data-dir",
        ])
        .arg(&data)
        .output()
        .expect("second swarmd runs");
    assert_eq!(second.status.code(), Some(1));
    assert!(
        text(&second.stderr).contains("another swarmd is using"),
        "{}",
        text(&second.stderr)
    );
    let applied = daemon.ctl(&stack, &["apply", "-f", "stack.yml"]);
    assert!(applied.status.success(), "{}", text(&applied.stderr));
    assert!(
        text(&applied.stdout).contains("+ service demo_web"),
        "{}",
        text(&applied.stdout)
    );

    let again = daemon.ctl(&stack, &["apply", "-f", "stack.yml"]);
    assert!(again.status.success());
    assert!(
        text(&again.stdout).contains("no changes"),
        "{}",
        text(&again.stdout)
    );

    let services = daemon.json(&stack, &["service", "ls"]);
    assert_eq!(names(&services), vec!["web", "worker"]);
    let stacks = daemon.json(&stack, &["stack", "ls"]);
    assert_eq!(stacks[0]["name"], "demo");
    assert_eq!(stacks[0]["services"], 2);

    // Drop `worker`: without --prune it stays (and is reported), with --prune it goes.
    let smaller = STACK.replace("  worker:\n    image: busybox:latest\n    command: sleep 3600\n    deploy:\n      replicas: 2\n", "");
    std::fs::write(stack.join("stack.yml"), smaller).expect("write");
    let kept = daemon.ctl(&stack, &["apply", "-f", "stack.yml"]);
    assert!(kept.status.success());
    assert_eq!(names(&daemon.json(&stack, &["service", "ls"])).len(), 2);
    let dry = daemon.ctl(
        &stack,
        &["apply", "--prune", "--dry-run", "-f", "stack.yml"],
    );
    assert!(
        text(&dry.stdout).contains("- service demo_worker"),
        "{}",
        text(&dry.stdout)
    );
    assert_eq!(
        names(&daemon.json(&stack, &["service", "ls"])).len(),
        2,
        "dry run wrote nothing"
    );
    let pruned = daemon.ctl(&stack, &["apply", "--prune", "-f", "stack.yml"]);
    assert!(pruned.status.success(), "{}", text(&pruned.stderr));
    let before: Value = daemon.json(&stack, &["service", "ls"]);
    assert_eq!(names(&before), vec!["web"]);
    let secrets_before = daemon.json(&stack, &["secret", "ls"]);
    let configs_before = daemon.json(&stack, &["config", "ls"]);
    let networks_before = daemon.json(&stack, &["network", "ls"]);

    daemon.kill9();
    let daemon = Daemon::up(&data, &["--runtime", "none"]);
    assert_eq!(daemon.json(&stack, &["service", "ls"]), before);
    assert_eq!(daemon.json(&stack, &["secret", "ls"]), secrets_before);
    assert_eq!(daemon.json(&stack, &["config", "ls"]), configs_before);
    assert_eq!(daemon.json(&stack, &["network", "ls"]), networks_before);
    let after = daemon.ctl(&stack, &["apply", "--prune", "-f", "stack.yml"]);
    assert!(
        text(&after.stdout).contains("no changes"),
        "{}",
        text(&after.stdout)
    );

    let status = daemon.terminate();
    assert!(status.success(), "clean exit on SIGTERM: {status}");
    assert!(
        !data.join("api.addr").exists(),
        "address file removed on clean shutdown"
    );
}
