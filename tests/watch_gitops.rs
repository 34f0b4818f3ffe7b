//! `swarmd up --watch DIR`: add, edit, break, fix and delete a stack file; the cluster follows
//! every step, the broken step changes nothing and shows its error, and the API refuses to
//! change what the file owns.

#[path = "daemon_support/mod.rs"]
mod daemon_support;

use std::path::Path;
use std::time::Duration;

use daemon_support::{Daemon, eventually, text};
use serde_json::Value;

const V1: &str = "services:\n  web:\n    image: nginx:1.26\n  cache:\n    image: redis:7\n";
const V2: &str = "services:\n  web:\n    image: nginx:1.27\n  cache:\n    image: redis:7\n  api:\n    image: api:1\n";
const BROKEN: &str = "services:\n  web:\n    image: nginx:1.28\n    replicas: 3\n";
const V3: &str = "services:\n  web:\n    image: nginx:1.28\n    deploy: {replicas: 3}\n";

/// Services of `stack` as name → image.
/// Empty while the stack does not exist yet (or any more): callers poll.
fn services(daemon: &Daemon, dir: &Path, stack: &str) -> Vec<(String, String)> {
    let out = daemon.ctl(dir, &["stack", "services", stack, "-o", "json"]);
    let listing: Value = if out.status.success() {
        serde_json::from_slice(&out.stdout).unwrap_or(Value::Null)
    } else {
        Value::Null
    };
    let mut out: Vec<(String, String)> = listing
        .as_array()
        .map(|a| {
            a.iter()
                .map(|s| {
                    (
                        s["name"].as_str().unwrap_or_default().to_owned(),
                        s["image"].as_str().unwrap_or_default().to_owned(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

fn git(dir: &Path, args: &[&str]) {
    let status = std::process::Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
        .args(args)
        .status()
        .expect("git runs");
    assert!(status.success(), "git {args:?}");
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

#[test]
fn the_cluster_follows_the_watched_directory() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let watched = tmp.path().join("stacks");
    std::fs::create_dir(&watched).expect("mkdir");
    let file = watched.join("shop.yml");
    std::fs::write(&file, V1).expect("write");
    git(&watched, &["init", "-q"]);
    git(&watched, &["add", "shop.yml"]);
    git(&watched, &["commit", "-qm", "v1"]);

    let watch_arg = watched.display().to_string();
    let daemon = Daemon::up(
        &tmp.path().join("data"),
        &["--runtime", "none", "--watch", &watch_arg],
    );
    let wait = Duration::from_secs(20);
    let here = tmp.path();

    // Applied on start, with hash and commit recorded.
    eventually(wait, "initial apply", || {
        (services(&daemon, here, "shop") == pairs(&[("cache", "redis:7"), ("web", "nginx:1.26")]))
            .then_some(())
    });
    let row = daemon.stack_row(here, "shop").expect("stack row");
    assert_eq!(
        row["source"]["git_commit"].as_str().map(str::len),
        Some(40),
        "{row}"
    );
    assert_eq!(
        row["source"]["content_hash"].as_str().map(str::len),
        Some(64),
        "{row}"
    );
    assert!(row["error"].is_null(), "{row}");

    // Edit: image change and a new service.
    std::fs::write(&file, V2).expect("write");
    eventually(wait, "edit applied", || {
        (services(&daemon, here, "shop")
            == pairs(&[
                ("api", "api:1"),
                ("cache", "redis:7"),
                ("web", "nginx:1.27"),
            ]))
        .then_some(())
    });

    // Break: nothing changes, the error is visible with its line.
    std::fs::write(&file, BROKEN).expect("write");
    let error = eventually(wait, "error recorded", || {
        daemon
            .stack_row(here, "shop")
            .and_then(|r| r["error"].as_str().map(str::to_owned))
    });
    assert!(
        error.contains("shop.yml:4:5") && error.contains("replicas"),
        "{error}"
    );
    assert_eq!(
        services(&daemon, here, "shop"),
        pairs(&[
            ("api", "api:1"),
            ("cache", "redis:7"),
            ("web", "nginx:1.27")
        ])
    );

    // The API cannot change what the file owns.
    let refused = daemon.ctl(here, &["stack", "rm", "shop"]);
    assert!(!refused.status.success());
    assert!(
        text(&refused.stderr).contains("shop.yml"),
        "{}",
        text(&refused.stderr)
    );

    // Fix: removing services from the file removes them from the cluster (pruning is on).
    std::fs::write(&file, V3).expect("write");
    eventually(wait, "fix applied", || {
        let row = daemon.stack_row(here, "shop")?;
        (row["error"].is_null()
            && services(&daemon, here, "shop") == pairs(&[("web", "nginx:1.28")]))
        .then_some(())
    });

    // Delete: the stack goes.
    std::fs::remove_file(&file).expect("remove");
    eventually(wait, "stack removed", || {
        let gone = daemon.stack_row(here, "shop").is_none();
        let none_left = daemon
            .json(here, &["service", "ls"])
            .as_array()
            .is_some_and(|a| a.is_empty());
        (gone && none_left).then_some(())
    });
}
