//! Cluster benchmark (issue 10 §9): writes per second through one manager against three (sent
//! to the leader and to a follower, which forwards), single-object and batched, and the time
//! from `kill -9` of the leader to the first write a survivor accepts.
//!
//! `cargo bench --bench cluster` — starts real `swarmd` processes (`--runtime none`) on
//! 127.0.0.1:0 in temp dirs and prints Markdown tables for BENCHMARKS.md. Throughput is
//! measured in interleaved rounds (1 manager, 3 via leader, 3 via follower, then again) so
//! that load from other work on the machine falls on every configuration alike; rates are
//! reported as ratios against the 1-manager rate of the same run.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use model::Kind;
use swarm::client::{ApplyParams, Client};
use wire::DataBody;

/// Interleaved throughput rounds per configuration.
const ROUNDS: usize = 3;
/// Sequential single-object creates per configuration and round.
const SINGLE_WRITES: usize = 100;
/// Stack applies per configuration and round, and the objects (configs) in each.
const APPLIES: usize = 10;
const OBJECTS_PER_APPLY: usize = 100;
/// Leader kills, each on a fresh three-manager cluster.
const FAILOVER_ROUNDS: usize = 5;
/// How long one write attempt may take while failing over before it counts as refused.
const ATTEMPT_TIMEOUT: Duration = Duration::from_millis(500);
/// Pause between refused write attempts, so that polling does not spin a core.
const RETRY_PAUSE: Duration = Duration::from_millis(20);
/// How long a daemon may take to start, and a cluster to agree on its voters.
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// One `swarmd` process, killed when dropped (a panicking bench leaves nothing running).
struct Manager {
    child: Child,
    data_dir: PathBuf,
    client: Client,
}

impl Manager {
    /// Starts `swarmd COMMAND` (`init` or `join`) with `--runtime none` on free ports and
    /// waits until its API address is written.
    async fn start(command: &str, data_dir: PathBuf, extra: &[&str]) -> Manager {
        std::fs::create_dir_all(&data_dir).expect("data dir");
        let log = std::fs::File::create(data_dir.with_extension("log")).expect("log file");
        let child = Command::new(env!("CARGO_BIN_EXE_swarmd"))
            .arg(command)
            .args(["--api-addr", "127.0.0.1:0", "--listen-addr", "127.0.0.1:0"])
            .args(["--runtime", "none", "--data-dir"])
            .arg(&data_dir)
            .args(extra)
            // Warnings and errors only: info logs would put log formatting into the figures.
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("swarmd starts");
        let mut starting = Starting { child: Some(child) };
        let host = wait_for_file(&data_dir, "api.addr", &mut starting).await;
        Manager {
            child: starting.child.take().expect("child"),
            client: Client::new(&host).expect("client"),
            data_dir,
        }
    }

    /// The node-to-node address `swarmd join` takes.
    fn listen_addr(&self) -> String {
        std::fs::read_to_string(self.data_dir.join("listen.addr"))
            .expect("listen.addr")
            .trim()
            .to_owned()
    }

    /// SIGKILL, as a crash would; returns once the process is gone.
    fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Manager {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// A process still starting, killed if the bench panics before it becomes a [`Manager`].
struct Starting {
    child: Option<Child>,
}

impl Drop for Starting {
    fn drop(&mut self) {
        if let Some(child) = self.child.as_mut() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

async fn wait_for_file(data_dir: &Path, name: &str, starting: &mut Starting) -> String {
    let deadline = Instant::now() + START_TIMEOUT;
    let path = data_dir.join(name);
    loop {
        if let Ok(text) = std::fs::read_to_string(&path)
            && !text.trim().is_empty()
        {
            return text.trim().to_owned();
        }
        let child = starting.child.as_mut().expect("child");
        if let Ok(Some(status)) = child.try_wait() {
            panic!("swarmd exited early ({status}):\n{}", log(data_dir));
        }
        assert!(
            Instant::now() < deadline,
            "swarmd did not start:\n{}",
            log(data_dir)
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn log(data_dir: &Path) -> String {
    std::fs::read_to_string(data_dir.with_extension("log")).unwrap_or_default()
}

/// Managers of one cluster, in their own temp dir (removed on drop, after the processes).
struct Cluster {
    managers: Vec<Manager>,
    _dir: tempfile::TempDir,
}

impl Cluster {
    /// `size` managers: m1 runs `swarmd init`, the others join it as managers; returns once
    /// every manager counts `size` voters.
    async fn start(size: usize) -> Cluster {
        let dir = tempfile::tempdir().expect("tempdir");
        let first = Manager::start("init", dir.path().join("m1"), &["--node-name", "m1"]).await;
        let token = first
            .client
            .join_tokens()
            .await
            .expect("join tokens")
            .manager;
        let seed = first.listen_addr();
        let mut managers = vec![first];
        for n in 2..=size {
            let name = format!("m{n}");
            let args = ["--node-name", &name, "--token", &token, &seed];
            managers.push(Manager::start("join", dir.path().join(&name), &args).await);
        }
        for manager in &managers {
            poll(
                START_TIMEOUT,
                "every manager to count its voters",
                || async {
                    let info = manager.client.cluster().await.ok()?;
                    (info.voters.len() == size).then_some(())
                },
            )
            .await;
        }
        Cluster {
            managers,
            _dir: dir,
        }
    }

    /// Index of the manager that says it leads (asked again each time: an election may have
    /// moved it).
    async fn leader(&self) -> usize {
        poll(START_TIMEOUT, "a leader", || async {
            for (at, manager) in self.managers.iter().enumerate() {
                if manager.client.cluster().await.ok()?.is_leader {
                    return Some(at);
                }
            }
            None
        })
        .await
    }

    /// Index of a manager that is not the leader.
    async fn follower(&self) -> usize {
        let leader = self.leader().await;
        (leader + 1) % self.managers.len()
    }
}

/// Polls `check` until it returns `Some`; panics after `timeout` naming `what`.
async fn poll<T, F, Fut>(timeout: Duration, what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn config(name: String) -> DataBody {
    DataBody {
        content: format!("bench value of {name}"),
        name,
        labels: Default::default(),
    }
}

/// A stack file of `count` configs with inline content: one apply is one Raft command.
fn stack_yaml(prefix: &str, count: usize) -> String {
    let mut text = String::from("configs:\n");
    for i in 0..count {
        text.push_str(&format!(
            "  {prefix}-{i}:\n    content: \"bench value {prefix} {i}\"\n"
        ));
    }
    text
}

/// Objects written and the time they took, summed over rounds.
#[derive(Default)]
struct Tally {
    requests: usize,
    objects: usize,
    elapsed: Duration,
}

impl Tally {
    fn rate(&self) -> f64 {
        self.objects as f64 / self.elapsed.as_secs_f64()
    }
}

/// `SINGLE_WRITES` sequential config creates through `client`.
async fn single_writes(client: &Client, prefix: &str, tally: &mut Tally) {
    let started = Instant::now();
    for i in 0..SINGLE_WRITES {
        client
            .create_data(Kind::Config, &config(format!("{prefix}-{i}")))
            .await
            .unwrap_or_else(|e| panic!("create {prefix}-{i} via {}: {e}", client.host()));
    }
    tally.elapsed += started.elapsed();
    tally.requests += SINGLE_WRITES;
    tally.objects += SINGLE_WRITES;
}

/// `APPLIES` sequential stack applies of `OBJECTS_PER_APPLY` configs each through `client`.
async fn batched_writes(client: &Client, prefix: &str, tally: &mut Tally) {
    let texts: Vec<(String, String)> = (0..APPLIES)
        .map(|a| {
            let stack = format!("{prefix}-{a}");
            let text = stack_yaml(&stack, OBJECTS_PER_APPLY);
            (stack, text)
        })
        .collect();
    let started = Instant::now();
    for (stack, text) in texts {
        let params = ApplyParams {
            stack: Some(stack.clone()),
            ..ApplyParams::default()
        };
        client
            .apply_yaml(text, &params)
            .await
            .unwrap_or_else(|e| panic!("apply {stack} via {}: {e}", client.host()));
    }
    tally.elapsed += started.elapsed();
    tally.requests += APPLIES;
    tally.objects += APPLIES * OBJECTS_PER_APPLY;
}

/// Where a throughput row sends its writes.
#[derive(Clone, Copy)]
enum Target {
    Single,
    Leader,
    Follower,
}

impl Target {
    const ALL: [Target; 3] = [Target::Single, Target::Leader, Target::Follower];

    fn label(self) -> &'static str {
        match self {
            Target::Single => "1 manager (baseline)",
            Target::Leader => "3 managers, sent to the leader",
            Target::Follower => "3 managers, sent to a follower",
        }
    }
}

/// Throughput rows: single-object and batched tallies per target.
async fn throughput() -> Vec<(Target, Tally, Tally)> {
    let one = Cluster::start(1).await;
    let three = Cluster::start(3).await;
    let mut rows: Vec<(Target, Tally, Tally)> = Target::ALL
        .iter()
        .map(|t| (*t, Tally::default(), Tally::default()))
        .collect();
    for round in 0..ROUNDS {
        for (target, single, batched) in rows.iter_mut() {
            let client = match target {
                Target::Single => &one.managers[0].client,
                Target::Leader => &three.managers[three.leader().await].client,
                Target::Follower => &three.managers[three.follower().await].client,
            };
            let prefix = format!("r{round}-{}", *target as u8);
            // One write first, so connection setup is not in the figures.
            client
                .create_data(Kind::Config, &config(format!("warm-{prefix}")))
                .await
                .expect("warm-up write");
            single_writes(client, &format!("s-{prefix}"), single).await;
            batched_writes(client, &format!("b-{prefix}"), batched).await;
        }
        eprintln!("throughput round {} of {ROUNDS} done", round + 1);
    }
    rows
}

/// One failover on a fresh three-manager cluster, timed from `kill -9` of the leader.
struct Failover {
    /// Until a survivor names a new leader.
    elected: Option<Duration>,
    /// Until the first write a survivor accepts.
    accepted: Duration,
    /// Write attempts refused (or unanswered within [`ATTEMPT_TIMEOUT`]) before it.
    refused: usize,
}

async fn failover(round: usize) -> Failover {
    let mut cluster = Cluster::start(3).await;
    for (at, manager) in cluster.managers.iter().enumerate() {
        manager
            .client
            .create_data(Kind::Config, &config(format!("before-{at}")))
            .await
            .expect("write before the kill");
    }
    let leader = cluster.leader().await;
    let old_leader = cluster.managers[leader]
        .client
        .cluster()
        .await
        .expect("cluster info")
        .node_id;
    // Alternate which survivor is asked: the one that wins the election, or the other one.
    let survivor = (leader + 1 + round % 2) % 3;
    let survivors: Vec<Client> = (0..3)
        .filter(|at| *at != leader)
        .map(|at| cluster.managers[at].client.clone())
        .collect();
    cluster.managers[leader].kill9();
    let killed = Instant::now();
    let election = tokio::spawn(async move {
        while killed.elapsed() < Duration::from_secs(60) {
            for client in &survivors {
                if let Ok(Ok(info)) = tokio::time::timeout(ATTEMPT_TIMEOUT, client.cluster()).await
                    && !info.leader.is_null()
                    && info.leader != old_leader
                {
                    return Some(killed.elapsed());
                }
            }
            tokio::time::sleep(RETRY_PAUSE).await;
        }
        None
    });
    let client = &cluster.managers[survivor].client;
    let mut refused = 0;
    let mut last_refusal = String::new();
    let accepted = loop {
        assert!(
            killed.elapsed() < Duration::from_secs(60),
            "no write accepted within 60 s of the kill; last refusal: {last_refusal}"
        );
        let body = config(format!("after-{refused}"));
        match tokio::time::timeout(ATTEMPT_TIMEOUT, client.create_data(Kind::Config, &body)).await {
            Ok(Ok(_)) => break killed.elapsed(),
            Ok(Err(e)) => last_refusal = e.to_string(),
            Err(_) => last_refusal = format!("no answer within {ATTEMPT_TIMEOUT:?}"),
        }
        refused += 1;
        tokio::time::sleep(RETRY_PAUSE).await;
    };
    eprintln!("  last refusal before the accepted write: {last_refusal}");
    Failover {
        elected: election.await.expect("election poll"),
        accepted,
        refused,
    }
}

fn secs(d: Duration) -> String {
    format!("{:.2} s", d.as_secs_f64())
}

fn print_throughput(rows: &[(Target, Tally, Tally)]) {
    println!(
        "| sent through | single: writes | single: time | single: writes/s | single: vs 1 manager | batched: applies x objects | batched: time | batched: objects/s | batched: vs 1 manager |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    let (single_base, batched_base) = (rows[0].1.rate(), rows[0].2.rate());
    for (target, single, batched) in rows {
        println!(
            "| {} | {} | {} | {:.0} | {:.2}x | {} x {} | {} | {:.0} | {:.2}x |",
            target.label(),
            single.objects,
            secs(single.elapsed),
            single.rate(),
            single.rate() / single_base,
            batched.requests,
            OBJECTS_PER_APPLY,
            secs(batched.elapsed),
            batched.rate(),
            batched.rate() / batched_base,
        );
    }
}

fn print_failover(rounds: &[Failover]) {
    let mut sorted: Vec<Duration> = rounds.iter().map(|f| f.accepted).collect();
    sorted.sort();
    let median = sorted[sorted.len() / 2];
    let max = sorted[sorted.len() - 1];
    println!(
        "| round | kill -9 → a survivor names a new leader | kill -9 → first accepted write | refused attempts before it |"
    );
    println!("|---|---|---|---|");
    for (round, f) in rounds.iter().enumerate() {
        let elected = f.elected.map_or("(not seen)".to_owned(), secs);
        println!(
            "| {} | {elected} | {} | {} |",
            round + 1,
            secs(f.accepted),
            f.refused
        );
    }
    let verdict = if max <= Duration::from_secs(2) {
        "met"
    } else {
        "not met"
    };
    println!(
        "| median / max | | {} / {} (target ≤ 2 s: {verdict}) | |",
        secs(median),
        secs(max)
    );
}

#[tokio::main]
async fn main() {
    let rows = throughput().await;
    let mut times = Vec::with_capacity(FAILOVER_ROUNDS);
    for round in 0..FAILOVER_ROUNDS {
        let result = failover(round).await;
        eprintln!(
            "failover round {}: elected {:?}, accepted {:?}",
            round + 1,
            result.elected,
            result.accepted
        );
        times.push(result);
    }
    println!();
    print_throughput(&rows);
    println!();
    print_failover(&times);
}
