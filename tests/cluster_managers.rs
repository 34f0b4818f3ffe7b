//! Several managers as separate `swarmd` processes on loopback (issue 10 §4, §6, §7): joins
//! over mutual TLS, one Raft group, writes on any manager, failover after `kill -9` of the
//! leader with no acknowledged write lost, refused joins, and a prompt "no quorum".

#[path = "daemon_support/mod.rs"]
mod daemon_support;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use daemon_support::{Daemon, eventually, text};

/// `swarmctl cluster join-token ROLE -q` on `daemon`.
fn token(daemon: &Daemon, dir: &Path, role: &str) -> String {
    let out = daemon.ctl(dir, &["cluster", "join-token", role, "-q"]);
    assert!(out.status.success(), "join-token: {}", text(&out.stderr));
    text(&out.stdout).trim().to_owned()
}

/// `cluster info -o json` of `daemon`.
fn info(daemon: &Daemon, dir: &Path) -> serde_json::Value {
    daemon.json(dir, &["cluster", "info"])
}

/// A manager joined to the cluster of `first` (sim runtime: no containers).
fn join_manager(tmp: &Path, first: &Daemon, name: &str) -> Daemon {
    let token = token(first, tmp, "manager");
    let data = tmp.join(name);
    Daemon::start(
        "join",
        &data,
        &[
            "--runtime",
            "none",
            "--node-name",
            name,
            "--token",
            &token,
            &first.listen_addr(),
        ],
    )
}

/// Three managers m1 (founder), m2, m3, all voters.
fn three_managers(tmp: &Path) -> Vec<Daemon> {
    let m1 = Daemon::start(
        "init",
        &tmp.join("m1"),
        &["--runtime", "none", "--node-name", "m1"],
    );
    let m2 = join_manager(tmp, &m1, "m2");
    let m3 = join_manager(tmp, &m1, "m3");
    let managers = vec![m1, m2, m3];
    for manager in &managers {
        eventually(Duration::from_secs(30), "three voters", || {
            let info = info(manager, tmp);
            (info["voters"].as_array().map(Vec::len) == Some(3)).then_some(())
        });
    }
    managers
}

/// Creates secret `name` through `daemon`; true when the API acknowledged it.
fn create_secret(daemon: &Daemon, dir: &Path, name: &str) -> bool {
    let file = dir.join(format!("{name}.txt"));
    std::fs::write(&file, name).expect("secret file");
    let out = daemon.ctl(dir, &["secret", "create", name, &file.to_string_lossy()]);
    out.status.success()
}

fn secret_names(daemon: &Daemon, dir: &Path) -> Vec<String> {
    let rows = daemon.json(dir, &["secret", "ls"]);
    rows.as_array()
        .expect("rows")
        .iter()
        .filter_map(|row| row["name"].as_str().map(str::to_owned))
        .collect()
}

#[test]
fn managers_join_one_raft_group_and_any_manager_takes_writes() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let managers = three_managers(tmp.path());
    let follower = managers
        .iter()
        .find(|m| info(m, tmp.path())["is_leader"] == false)
        .expect("a follower");
    // A write sent to a follower is forwarded to the leader, and the follower reads it back
    // at once (read-your-writes).
    assert!(create_secret(follower, tmp.path(), "via_follower"));
    assert!(secret_names(follower, tmp.path()).contains(&"via_follower".to_owned()));
    for manager in &managers {
        eventually(Duration::from_secs(10), "the write everywhere", || {
            secret_names(manager, tmp.path())
                .contains(&"via_follower".to_owned())
                .then_some(())
        });
    }
    let nodes = follower.json(tmp.path(), &["node", "ls"]);
    let mut names: Vec<&str> = nodes
        .as_array()
        .expect("rows")
        .iter()
        .filter_map(|n| n["hostname"].as_str())
        .collect();
    names.sort_unstable();
    assert_eq!(names, ["m1", "m2", "m3"], "{nodes}");
}

#[test]
fn killing_the_leader_elects_another_that_takes_writes_and_loses_none() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut managers = three_managers(tmp.path());
    let leader_at = managers
        .iter()
        .position(|m| info(m, tmp.path())["is_leader"] == true)
        .expect("a leader");
    let mut acknowledged = Vec::new();
    for i in 0..5 {
        let name = format!("before_{i}");
        let via = &managers[i % 3];
        if create_secret(via, tmp.path(), &name) {
            acknowledged.push(name);
        }
    }
    assert_eq!(acknowledged.len(), 5, "writes before the kill");
    let leader = managers.remove(leader_at);
    leader.kill9();
    let killed = Instant::now();
    // Writes go on through a survivor; the first accepted one marks the failover.
    let survivor = &managers[0];
    let mut first_accepted = None;
    let mut i = 0;
    while acknowledged.len() < 10 {
        assert!(
            killed.elapsed() < Duration::from_secs(30),
            "no write accepted after the kill"
        );
        let name = format!("after_{i}");
        i += 1;
        if create_secret(survivor, tmp.path(), &name) {
            first_accepted.get_or_insert_with(|| killed.elapsed());
            acknowledged.push(name);
        }
    }
    eprintln!("leader kill -> first accepted write: {first_accepted:?}");
    for manager in &managers {
        let names = eventually(Duration::from_secs(10), "every acknowledged write", || {
            let names = secret_names(manager, tmp.path());
            acknowledged
                .iter()
                .all(|n| names.contains(n))
                .then_some(names)
        });
        assert!(acknowledged.iter().all(|n| names.contains(n)));
    }
}

#[test]
fn losing_the_majority_is_answered_promptly_and_force_new_cluster_recovers() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut managers = three_managers(tmp.path());
    assert!(create_secret(&managers[1], tmp.path(), "before_loss"));
    let survivor = managers.remove(0);
    // Force-new-cluster keeps what the survivor holds: let it hold the write first.
    eventually(Duration::from_secs(10), "the write on the survivor", || {
        secret_names(&survivor, tmp.path())
            .contains(&"before_loss".to_owned())
            .then_some(())
    });
    for manager in managers {
        manager.kill9();
    }
    let file = tmp.path().join("late.txt");
    std::fs::write(&file, "late").expect("file");
    let started = Instant::now();
    let out = survivor.ctl(
        tmp.path(),
        &["secret", "create", "late", &file.to_string_lossy()],
    );
    let took = started.elapsed();
    assert!(!out.status.success(), "a write without quorum must fail");
    assert!(
        text(&out.stderr).contains("no quorum"),
        "{}",
        text(&out.stderr)
    );
    assert!(took < Duration::from_secs(5), "answered after {took:?}");
    // Reads still come from the survivor's store, marked as possibly stale.
    let out = survivor.ctl(tmp.path(), &["secret", "ls"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("before_loss"));
    assert!(
        text(&out.stderr).contains("has no quorum"),
        "stale reads are marked: {}",
        text(&out.stderr)
    );

    // The survivor becomes a new single-manager cluster with everything it held.
    let data = survivor.data_dir.clone();
    let status = survivor.terminate();
    assert!(status.success(), "clean stop: {status}");
    let reborn = Daemon::start("run", &data, &["--runtime", "none", "--force-new-cluster"]);
    assert_eq!(
        info(&reborn, tmp.path())["voters"].as_array().map(Vec::len),
        Some(1)
    );
    assert!(create_secret(&reborn, tmp.path(), "after_recovery"));
    let names = secret_names(&reborn, tmp.path());
    assert!(names.contains(&"before_loss".to_owned()), "{names:?}");
    assert!(names.contains(&"after_recovery".to_owned()), "{names:?}");
}

/// `swarmd join` that must fail; returns its stderr, and checks it left no node behind.
fn refused_join(tmp: &Path, name: &str, token: &str, manager: &str) -> String {
    let data = tmp.join(name);
    let mut child = Command::new(env!("CARGO_BIN_EXE_swarmd"))
        .args([
            "join",
            "--api-addr",
            "127.0.0.1:0",
            "--listen-addr",
            "127.0.0.1:0",
        ])
        .args([
            "--runtime",
            "none",
            "--node-name",
            name,
            "--token",
            token,
            "--data-dir",
        ])
        .arg(&data)
        .arg(manager)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("swarmd starts");
    let status = eventually(Duration::from_secs(30), "the refused join to exit", || {
        child.try_wait().expect("wait")
    });
    let mut stderr = String::new();
    std::io::Read::read_to_string(child.stderr.as_mut().expect("stderr"), &mut stderr)
        .expect("stderr");
    assert!(!status.success(), "join with {token} must fail: {stderr}");
    assert!(
        !data.join("node.json").exists(),
        "a refused join leaves no node behind"
    );
    stderr
}

#[test]
fn joins_with_a_rotated_token_a_foreign_ca_or_garbage_are_refused() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let m1 = Daemon::start(
        "init",
        &tmp.path().join("m1"),
        &["--runtime", "none", "--node-name", "m1"],
    );
    let old = token(&m1, tmp.path(), "worker");
    let out = m1.ctl(
        tmp.path(),
        &["cluster", "join-token", "worker", "--rotate", "-q"],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stderr = refused_join(tmp.path(), "w-old", &old, &m1.listen_addr());
    assert!(stderr.contains("invalid join token"), "{stderr}");

    let other = Daemon::start(
        "init",
        &tmp.path().join("other"),
        &["--runtime", "none", "--node-name", "other"],
    );
    let foreign = token(&other, tmp.path(), "worker");
    let stderr = refused_join(tmp.path(), "w-foreign", &foreign, &m1.listen_addr());
    assert!(
        stderr.contains("is not the one the join token pins"),
        "{stderr}"
    );

    let stderr = refused_join(tmp.path(), "w-garbage", "SWMTKN-1-nope", &m1.listen_addr());
    assert!(stderr.contains("not a join token"), "{stderr}");
}

#[test]
fn managers_joining_at_the_same_time_all_become_voters() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let m1 = Daemon::start(
        "init",
        &tmp.path().join("m1"),
        &["--runtime", "none", "--node-name", "m1"],
    );
    let joined: Vec<Daemon> = std::thread::scope(|scope| {
        let joins: Vec<_> = ["m2", "m3"]
            .into_iter()
            .map(|name| {
                let (tmp, m1) = (tmp.path(), &m1);
                scope.spawn(move || join_manager(tmp, m1, name))
            })
            .collect();
        joins
            .into_iter()
            .map(|join| join.join().expect("join thread"))
            .collect()
    });
    for manager in joined.iter().chain([&m1]) {
        eventually(Duration::from_secs(30), "three voters", || {
            let info = info(manager, tmp.path());
            (info["voters"].as_array().map(Vec::len) == Some(3)).then_some(())
        });
    }
}
