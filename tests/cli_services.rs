//! swarmctl's commands for running services and nodes against an in-process manager, tasks and
//! nodes seeded as controllers and the dispatcher write them: the tables and JSON shapes, the
//! refusals and their exit status, and `apply --wait`.

#[path = "api_support/mod.rs"]
mod api_support;

use std::time::Duration;

use api_support::{SHOP, Server, json, swarmctl};
use model::Kind;
use serde_json::{Value, json as j};
use swarm::store::Event;
use tokio::sync::broadcast::error::RecvError;

/// SHOP applied, node `box` (the only manager) and web's slot 1 history: a failed task, then a
/// running one.
async fn seeded() -> (Server, tempfile::TempDir) {
    let server = Server::start().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let run = swarmctl(
        &server.url,
        dir.path(),
        &["apply", "-f", "-", "--stack", "shop"],
        Some(SHOP),
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let node = server
        .create(
            Kind::Node,
            "box",
            None,
            j!({"role": "manager"}),
            j!({"state": "ready", "hostname": "box"}),
        )
        .await;
    let web = server
        .client
        .get(Kind::Service, "web", Some("shop"))
        .await
        .expect("web");
    let now = swarm::clock::Clock::system().now().0;
    for (seq, desired, status) in [
        (
            1,
            "shutdown",
            j!({"state": "failed", "error": "task: non-zero exit (1)", "timestamp": now - 200_000}),
        ),
        (
            2,
            "running",
            j!({"state": "running", "container_id": "abc", "timestamp": now - 150_000}),
        ),
    ] {
        let mut status = status;
        status["node_id"] = j!(node);
        let spec = j!({"service_id": web.id, "slot": 1, "service_spec": web.spec, "spec_version": web.version, "desired_state": desired});
        server
            .create(
                Kind::Task,
                &format!("web.1.{seq}"),
                Some("shop"),
                spec,
                status,
            )
            .await;
    }
    (server, dir)
}

/// The cells of a table line (columns are separated by at least two spaces).
fn cells(line: &str) -> Vec<&str> {
    line.split("  ")
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .collect()
}

#[tokio::test]
async fn ps_tables_and_json_show_slot_history() {
    let (server, dir) = seeded().await;
    let (host, at) = (server.url.as_str(), dir.path());
    let table = swarmctl(host, at, &["service", "ps", "web", "--stack", "shop"], None).await;
    assert_eq!(table.code, 0, "{}", table.stderr);
    let lines: Vec<&str> = table.stdout.lines().collect();
    assert!(lines[0].starts_with("ID "), "{}", table.stdout);
    for header in [
        "NAME",
        "IMAGE",
        "NODE",
        "DESIRED STATE",
        "CURRENT STATE",
        "ERROR",
    ] {
        assert!(lines[0].contains(header), "{}", lines[0]);
    }
    assert_eq!(
        cells(lines[1])[1..],
        [
            "web.1",
            "nginx:1.26",
            "box",
            "Running",
            "Running 2 minutes ago"
        ]
    );
    assert_eq!(
        cells(lines[2])[1..],
        [
            "\\_ web.1",
            "nginx:1.26",
            "box",
            "Shutdown",
            "Failed 3 minutes ago",
            "task: non-zero exit (1)"
        ]
    );

    let rows = json(&swarmctl(host, at, &["-o", "json", "stack", "ps", "shop"], None).await);
    assert_eq!(rows.as_array().map(Vec::len), Some(2));
    let keys = api_support::keys(&rows[0]);
    assert_eq!(
        keys,
        [
            "id",
            "name",
            "service",
            "slot",
            "node",
            "desired_state",
            "state",
            "error",
            "container_id",
            "image"
        ]
    );
    assert_eq!(
        (
            &rows[0]["name"],
            &rows[0]["state"],
            &rows[0]["container_id"]
        ),
        (&j!("web.1"), &j!("running"), &j!("abc"))
    );

    let on_node = json(&swarmctl(host, at, &["-o", "json", "node", "ps", "box"], None).await);
    assert_eq!(on_node, rows);
    let yaml = swarmctl(host, at, &["-o", "yaml", "service", "ps", "shop_web"], None).await;
    assert!(yaml.stdout.contains("name: web.1"), "{}", yaml.stdout);

    let services = json(&swarmctl(host, at, &["-o", "json", "service", "ls"], None).await);
    let web = services
        .as_array()
        .and_then(|s| s.iter().find(|s| s["name"] == "web"))
        .expect("web row");
    assert_eq!(web["replicas"], j!({"desired": 1, "running": 1}));
    server.stop().await;
}

#[tokio::test]
async fn edits_print_plan_lines_and_refusals_exit_non_zero() {
    let (server, dir) = seeded().await;
    let (host, at) = (server.url.as_str(), dir.path());
    let scale = swarmctl(
        host,
        at,
        &["service", "scale", "web=3", "api=1", "--stack", "shop"],
        None,
    )
    .await;
    assert_eq!(
        (scale.code, scale.stdout.as_str()),
        (0, "web scaled to 3\napi scaled to 1\n"),
        "{}",
        scale.stderr
    );
    let bad = swarmctl(host, at, &["service", "scale", "web"], None).await;
    assert_eq!(bad.code, 2);
    assert!(
        bad.stderr.contains("not SERVICE=REPLICAS"),
        "{}",
        bad.stderr
    );

    let update = swarmctl(
        host,
        at,
        &[
            "service",
            "update",
            "shop_api",
            "--image",
            "nginx:1.27",
            "--env-add",
            "A=1",
        ],
        None,
    )
    .await;
    assert_eq!(update.code, 0, "{}", update.stderr);
    assert_eq!(
        update.stdout,
        "~ service shop_api: image nginx:1.26 -> nginx:1.27, environment.A (unset) -> 1\n"
    );
    let change = json(
        &swarmctl(
            host,
            at,
            &["-o", "json", "service", "restart", "shop_api"],
            None,
        )
        .await,
    );
    assert_eq!(change["object"]["spec"]["labels"]["swarm.restart"], "1");
    let rollback = swarmctl(host, at, &["service", "rollback", "shop_api"], None).await;
    assert_eq!(rollback.code, 1, "refused by the manager");
    assert!(
        rollback.stderr.contains("no previous spec to roll back to"),
        "{}",
        rollback.stderr
    );

    let logs = swarmctl(host, at, &["service", "logs", "shop_web"], None).await;
    assert_eq!(logs.code, 1, "refused by the manager");
    assert!(
        logs.stderr.contains("no agent on this manager"),
        "{}",
        logs.stderr
    );

    let nodes = json(&swarmctl(host, at, &["-o", "json", "node", "ls"], None).await);
    let keys = api_support::keys(&nodes[0]);
    assert_eq!(
        keys,
        [
            "id",
            "hostname",
            "role",
            "status",
            "availability",
            "manager_status",
            "labels"
        ]
    );
    let table = swarmctl(host, at, &["node", "ls"], None).await;
    let row = table.stdout.lines().nth(1).expect("node row");
    assert_eq!(
        cells(row)[1..],
        ["box", "Ready", "Active", "Leader"],
        "{}",
        table.stdout
    );
    let demote = swarmctl(host, at, &["node", "demote", "box"], None).await;
    assert_eq!(demote.code, 1);
    assert!(
        demote.stderr.contains("the last manager cannot be demoted"),
        "{}",
        demote.stderr
    );
    let drain = swarmctl(
        host,
        at,
        &[
            "node",
            "update",
            "box",
            "--availability",
            "drain",
            "--label-add",
            "disk=ssd",
        ],
        None,
    )
    .await;
    assert_eq!(
        drain.stdout, "~ node box: availability active -> drain, labels.disk (unset) -> ssd\n",
        "{}",
        drain.stderr
    );

    let rm = swarmctl(host, at, &["service", "rm", "shop_api", "nothing"], None).await;
    assert_eq!(rm.code, 1);
    assert!(rm.stdout.contains("- service shop_api"), "{}", rm.stdout);
    assert!(rm.stderr.contains("nothing"), "{}", rm.stderr);
    server.stop().await;
}

#[tokio::test]
async fn refusals_exit_1_and_usage_errors_exit_2_whatever_the_command() {
    let (server, dir) = seeded().await;
    let (host, at) = (server.url.as_str(), dir.path());
    let refused: [&[&str]; 4] = [
        &["service", "scale", "nothing=2", "--stack", "shop"],
        &[
            "service", "update", "nothing", "--stack", "shop", "--image", "x",
        ],
        &["stack", "rm", "nothing"],
        &["service", "rollback", "shop_web"],
    ];
    for args in refused {
        let run = swarmctl(host, at, args, None).await;
        assert_eq!(run.code, 1, "{args:?} is refused: {}", run.stderr);
        assert!(
            run.stderr.starts_with("error: "),
            "{args:?}: {}",
            run.stderr
        );
    }
    let usage: [&[&str]; 3] = [
        &["service", "scale", "web"],
        &["service", "update", "web", "--no-such-flag"],
        &["service", "update", "web", "--env-add", "=x"],
    ];
    for args in usage {
        let run = swarmctl(host, at, args, None).await;
        assert_eq!(run.code, 2, "{args:?} is a usage error: {}", run.stderr);
    }
    server.stop().await;
}

/// How long the converger waits for the next commit before it declares the run hung.
const CONVERGE_DEADLINE: Duration = Duration::from_secs(30);

/// Plays the controllers and agent: every service of `stack` without a task gets a running one
/// on its current spec, after each commit (no polling). Panics when no commit comes within
/// `CONVERGE_DEADLINE`: the run it plays for has hung.
async fn converge(server: &Server, stack: &str) {
    let mut commits = server.store.subscribe();
    loop {
        let pending: Vec<(String, Value, u64)> = server.store.read(|index| {
            let tasks = index.list(Kind::Task);
            index
                .in_stack(stack)
                .into_iter()
                .filter(|r| r.kind == Kind::Service)
                .filter(|s| !tasks.iter().any(|t| t.spec["service_id"] == s.id.as_str()))
                .map(|s| (s.id.clone(), s.spec.clone(), s.version))
                .collect()
        });
        for (id, spec, version) in pending {
            let task = j!({"service_id": id, "slot": 1, "service_spec": spec, "spec_version": version, "desired_state": "running"});
            server
                .create(
                    Kind::Task,
                    &format!("{id}.1"),
                    Some(stack),
                    task,
                    j!({"state": "running"}),
                )
                .await;
        }
        loop {
            match tokio::time::timeout(CONVERGE_DEADLINE, commits.recv()).await {
                Ok(Ok(Event::Commit { .. }) | Err(RecvError::Lagged(_))) => break,
                Ok(Ok(_)) => {}
                Ok(Err(RecvError::Closed)) => return,
                Err(_) => panic!("no commit within {CONVERGE_DEADLINE:?} while converging {stack}"),
            }
        }
    }
}

#[tokio::test]
async fn apply_wait_follows_convergence_or_times_out() {
    let server = Server::start().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let (host, at) = (server.url.as_str(), dir.path());
    let stack = "services:\n  web:\n    image: nginx:1.26\n";
    let late = swarmctl(
        host,
        at,
        &[
            "apply",
            "-f",
            "-",
            "--stack",
            "slow",
            "--wait",
            "--timeout",
            "1s",
        ],
        Some(stack),
    )
    .await;
    assert_eq!(late.code, 1, "{}{}", late.stdout, late.stderr);
    assert!(late.stdout.contains("web  0/1 running"), "{}", late.stdout);
    assert!(
        late.stdout.contains(
            "stack slow did not converge: timed out after 1s; still waiting for web 0/1 running"
        ),
        "{}",
        late.stdout
    );

    let playing = async {
        converge(&server, "fast").await;
    };
    let run = swarmctl(
        host,
        at,
        &[
            "apply",
            "-f",
            "-",
            "--stack",
            "fast",
            "--wait",
            "--timeout",
            "20s",
        ],
        Some(stack),
    );
    let run = tokio::select! {
        run = run => run,
        () = playing => unreachable!("the converger loops forever"),
    };
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout
            .starts_with("+ network fast_default\n+ service fast_web\n+ stack fast\n"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("web  1/1 running  done\nstack fast converged in "),
        "{}",
        run.stdout
    );
    let took = run
        .stdout
        .lines()
        .find_map(|l| l.strip_prefix("stack fast converged in "))
        .unwrap_or_default();
    assert!(
        took.ends_with('s') && took.trim_end_matches('s').parse::<f64>().is_ok(),
        "a measured duration, as `0.4s`: {took:?}"
    );
    server.stop().await;
}
