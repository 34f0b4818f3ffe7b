//! The multi-host testbed (crate `testbed`) on this machine: nodes come up with their own
//! engines and reach each other over the bridge, cuts stop traffic and heals restore it, and
//! neither a teardown, a panic nor a crashed run leaves anything behind.

#[path = "docker_support/mod.rs"]
mod docker_support;

use std::process::Command;
use std::time::Duration;

use docker_support::{docker_available, test_image};
use testbed::{Testbed, eventually};

/// Static busybox on the host: `nsenter --net=` keeps the host's filesystem.
const BUSYBOX: &str = "/bin/busybox";

fn start(name: &str, nodes: &[&str]) -> Testbed {
    let tb = Testbed::start(name, nodes).unwrap_or_else(|e| panic!("testbed {name}: {e}"));
    eprintln!(
        "testbed {name}: {} nodes up in {:?}",
        nodes.len(),
        tb.started_in()
    );
    tb
}

fn busybox(args: &[&str]) -> Command {
    let mut cmd = Command::new(BUSYBOX);
    cmd.args(args);
    cmd
}

/// Whether `from` gets an ICMP echo reply from `to`'s eth0 address within a second.
fn pings(tb: &Testbed, from: &str, to: &str) -> bool {
    let addr = tb.node(to).expect("node").addr().to_string();
    let out = tb
        .exec(from, &busybox(&["ping", "-c1", "-W1", &addr]))
        .expect("ping runs");
    out.status.success()
}

/// What `from` gets from the web container `to` publishes on port 8080 (None: no answer).
fn fetch(tb: &Testbed, from: &str, to: &str) -> Option<String> {
    let url = format!("http://{}:8080/", tb.node(to).expect("node").addr());
    // `timeout`, not wget's own -T: busybox 1.35's wget crashes on -T.
    let mut wget = Command::new("timeout");
    wget.args(["3", BUSYBOX, "wget", "-q", "-O", "-", &url]);
    let out = tb.exec(from, &wget).expect("wget runs");
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Runs the test image's web server on `node`'s own engine, published on port 8080.
fn run_web(tb: &Testbed, node: &str, image: &str) {
    let out = tb
        .docker(
            node,
            &[
                "run", "-d", "--name", "web", "-p", "8080:80", image, "httpd", "-f", "-p", "80",
                "-h", "/www",
            ],
        )
        .expect("docker runs");
    assert!(
        out.status.success(),
        "docker run on {node}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn wait_until(what: &str, check: impl FnMut() -> bool) {
    let mut check = check;
    eventually(Duration::from_secs(10), what, || check().then_some(()))
        .unwrap_or_else(|e| panic!("{e}"));
}

#[test]
fn two_nodes_run_containers_on_their_own_engines_and_reach_each_other() {
    if !docker_available() {
        return;
    }
    let image = test_image();
    let tb = start("reach", &["a", "b"]);
    let loading = std::time::Instant::now();
    tb.load_image(&image)
        .expect("image loaded into both engines");
    eprintln!("testbed reach: image loaded in {:?}", loading.elapsed());
    for node in ["a", "b"] {
        run_web(&tb, node, &image);
        let running = tb
            .docker(node, &["inspect", "-f", "{{.State.Running}}", "web"])
            .expect("docker inspect runs");
        assert_eq!(String::from_utf8_lossy(&running.stdout).trim(), "true");
    }
    // Each engine sees only its own container: they really are separate hosts.
    let on_a = tb.docker("a", &["ps", "-q"]).expect("docker ps runs");
    assert_eq!(String::from_utf8_lossy(&on_a.stdout).lines().count(), 1);

    wait_until("a pings b", || pings(&tb, "a", "b"));
    wait_until("b pings a", || pings(&tb, "b", "a"));
    let page = fetch(&tb, "a", "b").expect("a reaches b's published port");
    assert_eq!(page.trim(), "swarm test image");

    let took = tb.teardown().expect("teardown");
    eprintln!("testbed reach: torn down in {took:?}");
}

#[test]
fn a_partition_stops_traffic_and_healing_restores_it() {
    if !docker_available() {
        return;
    }
    let image = test_image();
    let tb = start("partition", &["a", "b", "c"]);
    tb.load_image(&image).expect("image loaded");
    run_web(&tb, "b", &image);
    wait_until("a reaches b's published port", || {
        fetch(&tb, "a", "b").is_some()
    });

    tb.partition("b").expect("cut b off");
    assert!(!pings(&tb, "a", "b"), "a still pings b across the cut");
    assert!(!pings(&tb, "c", "b"), "c still pings b across the cut");
    assert!(
        fetch(&tb, "a", "b").is_none(),
        "a still reaches b's published port (DNAT) across the cut"
    );
    assert!(pings(&tb, "a", "c"), "the cut of b broke a <-> c");
    assert!(pings(&tb, "b", "b"), "b no longer reaches its own address");

    tb.heal("b").expect("heal b");
    wait_until("a pings b after the heal", || pings(&tb, "a", "b"));
    wait_until("a reaches b's port after the heal", || {
        fetch(&tb, "a", "b").is_some()
    });

    tb.partition_between("a", "b").expect("cut a <-> b");
    assert!(!pings(&tb, "a", "b"), "a still pings b");
    assert!(!pings(&tb, "b", "a"), "b still pings a");
    assert!(
        pings(&tb, "a", "c") && pings(&tb, "c", "b"),
        "the a <-> b cut cut more"
    );
    tb.heal_all().expect("heal all");
    wait_until("a pings b after heal_all", || pings(&tb, "a", "b"));
}
