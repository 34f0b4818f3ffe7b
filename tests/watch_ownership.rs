//! Ownership follows the running watcher (issue 8 §1): a stack applied by `swarmd up --watch DIR`
//! is the file's while that watcher runs, and the CLI's once it stops — cleanly, or by a crash
//! followed by a start without `--watch` or with `--watch` on another directory. A watcher that
//! starts again on the directory takes the stack back and the file wins.

#[path = "daemon_support/mod.rs"]
mod daemon_support;

use std::path::Path;
use std::time::Duration;

use daemon_support::{Daemon, eventually, text};
use serde_json::Value;

const WEB: &str = "services:\n  web:\n    image: nginx:1.27\n    deploy: {replicas: 2}\n";
const OTHER: &str = "services:\n  api:\n    image: api:1\n";
const WAIT: Duration = Duration::from_secs(20);

/// The stack's row once it exists and its claim is (`true`) or is not (`false`) held.
fn wait_claimed(daemon: &Daemon, dir: &Path, name: &str, claimed: bool) -> Value {
    let what = format!("stack {name} claimed: {claimed}");
    eventually(WAIT, &what, || {
        let row = daemon.stack_row(dir, name)?;
        (row["watcher"].is_null() != claimed).then_some(row)
    })
}

/// Desired replicas of service `name` of stack `stack`.
fn desired(daemon: &Daemon, dir: &Path, stack: &str, name: &str) -> Option<u64> {
    daemon
        .json(dir, &["service", "ls"])
        .as_array()?
        .iter()
        .find(|s| s["stack"] == stack && s["name"] == name)?["replicas"]["desired"]
        .as_u64()
}

fn stack_ls_table(daemon: &Daemon, dir: &Path) -> String {
    let out = daemon.ctl(dir, &["stack", "ls"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    text(&out.stdout)
}

fn succeeds(daemon: &Daemon, dir: &Path, args: &[&str]) {
    let out = daemon.ctl(dir, args);
    assert!(
        out.status.success(),
        "swarmctl {args:?}: {}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
}

fn refused_naming_file(daemon: &Daemon, dir: &Path, args: &[&str], file: &str) {
    let out = daemon.ctl(dir, args);
    let stderr = text(&out.stderr);
    assert!(!out.status.success(), "swarmctl {args:?} should be refused");
    assert!(
        stderr.contains(file) && stderr.contains("--watch"),
        "{stderr}"
    );
}

fn stacks_dir(root: &Path, name: &str, files: &[(&str, &str)]) -> String {
    let dir = root.join(name);
    std::fs::create_dir(&dir).expect("mkdir");
    for (file, content) in files {
        std::fs::write(dir.join(file), content).expect("write");
    }
    dir.canonicalize().expect("canonical").display().to_string()
}

#[test]
fn a_stopped_watcher_leaves_its_stack_to_the_cli_until_it_starts_again() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let here = tmp.path();
    let watched = stacks_dir(here, "stacks", &[("web.yml", WEB)]);
    let data = here.join("data");
    let file = format!("{watched}/web.yml");

    let daemon = Daemon::up(&data, &["--runtime", "none", "--watch", &watched]);
    let row = wait_claimed(&daemon, here, "web", true);
    assert_eq!(row["watched_file"], file.as_str(), "{row}");
    assert!(stack_ls_table(&daemon, here).contains("stacks/web.yml (watched)"));
    refused_naming_file(&daemon, here, &["stack", "rm", "web"], &file);
    refused_naming_file(&daemon, here, &["service", "scale", "web_web=3"], &file);
    assert!(daemon.terminate().success());

    // README's second flow: `swarmd up` without --watch. The stack is the CLI's now.
    let daemon = Daemon::up(&data, &["--runtime", "none"]);
    let row = wait_claimed(&daemon, here, "web", false);
    assert_eq!(
        row["watched_file"],
        file.as_str(),
        "where it came from: {row}"
    );
    let table = stack_ls_table(&daemon, here);
    assert!(table.contains("stacks/web.yml (not watched)"), "{table}");
    succeeds(&daemon, here, &["apply", "-f", &file]);
    let row = daemon.stack_row(here, "web").expect("same stack");
    assert!(row["watched_file"].is_null(), "the CLI's stack now: {row}");
    succeeds(&daemon, here, &["service", "scale", "web_web=3"]);
    assert_eq!(desired(&daemon, here, "web", "web"), Some(3));
    assert!(daemon.terminate().success());

    // Watching the directory again takes the stack back, and the file wins.
    let daemon = Daemon::up(&data, &["--runtime", "none", "--watch", &watched]);
    wait_claimed(&daemon, here, "web", true);
    eventually(WAIT, "the file's replicas again", || {
        (desired(&daemon, here, "web", "web") == Some(2)).then_some(())
    });
    refused_naming_file(&daemon, here, &["stack", "rm", "web"], &file);
    assert!(daemon.terminate().success());

    let daemon = Daemon::up(&data, &["--runtime", "none"]);
    wait_claimed(&daemon, here, "web", false);
    succeeds(&daemon, here, &["stack", "rm", "web"]);
    assert!(daemon.stack_row(here, "web").is_none());
    assert_eq!(daemon.json(here, &["service", "ls"]), serde_json::json!([]));
}

#[test]
fn a_crashed_watchers_claims_are_released_by_the_next_start() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let here = tmp.path();
    let first = stacks_dir(here, "first", &[("web.yml", WEB)]);
    let second = stacks_dir(here, "second", &[("other.yml", OTHER)]);
    let data = here.join("data");

    let daemon = Daemon::up(&data, &["--runtime", "none", "--watch", &first]);
    wait_claimed(&daemon, here, "web", true);
    daemon.kill9();

    // Restarted on the same directory: the claim holds throughout.
    let daemon = Daemon::up(&data, &["--runtime", "none", "--watch", &first]);
    wait_claimed(&daemon, here, "web", true);
    refused_naming_file(
        &daemon,
        here,
        &["stack", "rm", "web"],
        &format!("{first}/web.yml"),
    );
    daemon.kill9();

    // Restarted watching another directory: the first directory's stack is released.
    let daemon = Daemon::up(&data, &["--runtime", "none", "--watch", &second]);
    wait_claimed(&daemon, here, "other", true);
    let row = wait_claimed(&daemon, here, "web", false);
    assert_eq!(row["watched_file"], format!("{first}/web.yml").as_str());
    let table = stack_ls_table(&daemon, here);
    assert!(table.contains("first/web.yml (not watched)"), "{table}");
    assert!(table.contains("second/other.yml (watched)"), "{table}");
    succeeds(&daemon, here, &["stack", "rm", "web"]);
    refused_naming_file(
        &daemon,
        here,
        &["stack", "rm", "other"],
        &format!("{second}/other.yml"),
    );
    daemon.kill9();

    // Restarted without --watch: nothing stays claimed.
    let daemon = Daemon::up(&data, &["--runtime", "none"]);
    wait_claimed(&daemon, here, "other", false);
    succeeds(&daemon, here, &["service", "scale", "other_api=2"]);
    succeeds(
        &daemon,
        here,
        &["delete", "-f", &format!("{second}/other.yml")],
    );
    assert_eq!(daemon.json(here, &["stack", "ls"]), serde_json::json!([]));
}
