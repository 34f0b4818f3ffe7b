//! The multi-host testbed cleans up after itself: an explicit teardown, a test that panics and
//! a run that crashed leave no namespace, veth, bridge, FORWARD rule, process or file behind.

#[path = "docker_support/mod.rs"]
mod docker_support;

use std::path::PathBuf;
use std::process::Command;

use docker_support::docker_available;
use testbed::Testbed;

/// Set in the child process that plays a crashed run.
const CRASH_CHILD: &str = "SWARM_TESTBED_CRASH_CHILD";

/// The names and processes a testbed owns, to look for after it is gone.
#[derive(Debug)]
struct Footprint {
    netns: Vec<String>,
    links: Vec<String>,
    dir: PathBuf,
    pids: Vec<u32>,
}

impl Footprint {
    fn of(tb: &Testbed) -> Footprint {
        let links = tb
            .nodes()
            .iter()
            .map(|n| n.veth().to_owned())
            .chain([tb.bridge()])
            .collect();
        let pids = tb
            .nodes()
            .iter()
            .map(|n| {
                let pid = std::fs::read_to_string(n.socket().with_file_name("dockerd.pid"))
                    .expect("the engine wrote its pidfile");
                pid.trim().parse().expect("a pid")
            })
            .collect();
        Footprint {
            netns: tb.nodes().iter().map(|n| n.netns().to_owned()).collect(),
            links,
            dir: tb.dir(),
            pids,
        }
    }

    /// Everything of this footprint still on the machine.
    fn remains(&self) -> Vec<String> {
        let text = |cmd: &mut Command| {
            String::from_utf8_lossy(&cmd.output().expect("command runs").stdout).into_owned()
        };
        let netns = text(Command::new("ip").args(["netns", "list"]));
        let links = text(Command::new("ip").args(["-o", "link", "show"]));
        let forward = text(Command::new("iptables").args(["-w", "-S", "FORWARD"]));
        let mounts = std::fs::read_to_string("/proc/self/mounts").expect("mounts");
        let mut left = Vec::new();
        left.extend(
            self.netns
                .iter()
                .filter(|n| netns.split_whitespace().any(|w| w == n.as_str()))
                .map(|n| format!("namespace {n}")),
        );
        for link in &self.links {
            if links.contains(&format!(": {link}:")) || links.contains(&format!(": {link}@")) {
                left.push(format!("link {link}"));
            }
            if forward.split_whitespace().any(|w| w == link) {
                left.push(format!("FORWARD rule for {link}"));
            }
        }
        left.extend(
            self.pids
                .iter()
                .filter(|p| alive(**p))
                .map(|p| format!("process {p}")),
        );
        if self.dir.exists() {
            left.push(format!("directory {}", self.dir.display()));
        }
        let dir = format!("{} ", self.dir.display());
        left.extend(
            mounts
                .lines()
                .filter(|l| l.contains(&dir) || l.contains(&format!("{}/", self.dir.display())))
                .map(|l| format!("mount {l}")),
        );
        left
    }
}

/// Whether process `pid` runs (a zombie waiting for its parent to reap it does not).
fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
        stat.rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().next())
            .is_some_and(|state| state != "Z" && state != "X")
    })
}

#[test]
fn teardown_leaves_nothing_behind() {
    if !docker_available() {
        return;
    }
    let tb = Testbed::start("teardown", &["a", "b"]).expect("testbed starts");
    let mut server = tb
        .spawn(
            "a",
            "httpd",
            Command::new("/bin/busybox").args(["httpd", "-f", "-p", "8081", "-h", "/"]),
        )
        .expect("httpd starts on a");
    let mut footprint = Footprint::of(&tb);
    footprint.pids.push(server.pid());
    assert!(footprint.remains().len() >= 5, "{:?}", footprint.remains());

    let took = tb.teardown().expect("teardown");
    eprintln!("testbed teardown: 2 nodes torn down in {took:?}");
    assert_eq!(footprint.remains(), Vec::<String>::new());
    assert!(
        server.exit_status().is_some(),
        "the process started on a survived the teardown"
    );
}

#[test]
fn a_panicking_test_still_tears_its_testbed_down() {
    if !docker_available() {
        return;
    }
    let footprint = std::sync::Mutex::new(None);
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let tb = Testbed::start("panics", &["a"]).expect("testbed starts");
        *footprint.lock().expect("footprint") = Some(Footprint::of(&tb));
        panic!("deliberate: the test fails with the testbed up");
    }));
    assert!(result.is_err());
    let footprint = footprint
        .into_inner()
        .expect("footprint")
        .expect("the testbed started");
    assert_eq!(footprint.remains(), Vec::<String>::new());
}

/// What the child process of `leftovers_of_a_crashed_run_are_removed_by_the_next_start` does
/// (the same test, run again with CRASH_CHILD set): a run that dies with its testbed up.
fn crash_with_a_testbed_up() -> ! {
    let tb = Testbed::start("crashed", &["crashed"]).expect("testbed starts");
    println!(
        "FOOTPRINT {}",
        serde_json::json!({
            "netns": tb.nodes()[0].netns(),
            "bridge": tb.bridge(),
        "veth": tb.nodes()[0].veth(),
            "dir": tb.dir(),
            "pidfile": tb.nodes()[0].socket().with_file_name("dockerd.pid"),
        })
    );
    // Dies the way a killed test does: no unwinding, no Drop.
    std::process::abort();
}

#[test]
fn leftovers_of_a_crashed_run_are_removed_by_the_next_start() {
    if std::env::var(CRASH_CHILD).is_ok() {
        crash_with_a_testbed_up();
    }
    if !docker_available() {
        return;
    }
    let child = Command::new(std::env::current_exe().expect("test binary"))
        .args([
            "leftovers_of_a_crashed_run_are_removed_by_the_next_start",
            "--exact",
            "--nocapture",
        ])
        .env(CRASH_CHILD, "1")
        .output()
        .expect("the crashing run starts");
    assert!(!child.status.success(), "the crashing run did not crash");
    let stdout = String::from_utf8_lossy(&child.stdout);
    let line = stdout
        .lines()
        .find_map(|l| l.strip_prefix("FOOTPRINT "))
        .unwrap_or_else(|| {
            panic!(
                "the crashing run printed no footprint: {stdout}\n{}",
                String::from_utf8_lossy(&child.stderr)
            )
        });
    let seen: serde_json::Value = serde_json::from_str(line).expect("footprint JSON");
    let bridge = seen["bridge"].as_str().expect("bridge").to_owned();
    let pid = std::fs::read_to_string(seen["pidfile"].as_str().expect("pidfile"))
        .expect("the crashed run's engine pidfile")
        .trim()
        .parse()
        .expect("a pid");
    let footprint = Footprint {
        netns: vec![seen["netns"].as_str().expect("netns").to_owned()],
        links: vec![seen["veth"].as_str().expect("veth").to_owned(), bridge],
        dir: PathBuf::from(seen["dir"].as_str().expect("dir")),
        pids: vec![pid],
    };
    // A parallel start may clean it first; either way it must be there now or gone later.
    let left = footprint.remains();
    eprintln!("left by the crashed run: {left:?}");
    assert!(
        left.iter().any(|l| l.starts_with("namespace")) || left.is_empty(),
        "half-cleaned leftovers: {left:?}"
    );

    let tb = Testbed::start("after-crash", &["a"]).expect("testbed starts over leftovers");
    assert_eq!(footprint.remains(), Vec::<String>::new());
    drop(tb);
}
