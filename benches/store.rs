//! Store benchmark: objects committed per second through Raft on one manager (SQLite file,
//! WAL, `synchronous=FULL`), by command size, and the latency of one small write.
//!
//! `cargo bench --bench store` — prints a Markdown table for BENCHMARKS.md. Rates are reported
//! as ratios against the batch-of-1 rate measured in the same run; each row uses a fresh store.

use std::time::{Duration, Instant};

use futures_util::future::join_all;
use model::{Kind, ObjectMeta, Timestamp};
use serde_json::json;
use swarm::store::{Command, Executed, Op, Store, StoreConfig};

/// A small object, about the size of a task status or a short service spec.
fn create(name: String) -> Op {
    Op::Create {
        kind: Kind::Task,
        metadata: ObjectMeta {
            name,
            labels: Default::default(),
            stack: Some("bench".into()),
        },
        spec: json!({"service_id": "000000000001", "slot": 1, "image": "busybox:latest"}),
        status: json!({"state": "pending"}),
    }
}

fn command(prefix: &str, first: usize, count: usize) -> Command {
    Command {
        at: Timestamp(1_700_000_000_000),
        ops: (first..first + count)
            .map(|i| create(format!("{prefix}-{i}")))
            .collect(),
    }
}

async fn fresh_store(dir: &tempfile::TempDir) -> Store {
    let store = Store::open(StoreConfig {
        data_dir: dir.path().to_path_buf(),
        node_id: 1,
        advertise_addr: "127.0.0.1:1".into(),
        clock: swarm::clock::Clock::system(),
        peer_http: None,
    })
    .await
    .expect("open");
    store.initialize_single().await.expect("initialize");
    store
        .wait_leader(Duration::from_secs(10))
        .await
        .expect("leader");
    store
}

async fn propose(store: &Store, command: Command) {
    match store.propose(command).await.expect("propose") {
        Executed::Ok { .. } => {}
        Executed::Rejected(r) => panic!("rejected: {r}"),
    }
}

struct Row {
    name: String,
    commands: usize,
    objects: usize,
    elapsed: Duration,
}

impl Row {
    fn rate(&self) -> f64 {
        self.objects as f64 / self.elapsed.as_secs_f64()
    }
}

/// `commands` sequential proposals of `batch` objects each; returns the row and per-command
/// latencies.
async fn sequential(batch: usize, commands: usize) -> (Row, Vec<Duration>) {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = fresh_store(&dir).await;
    let mut latencies = Vec::with_capacity(commands);
    let start = Instant::now();
    for c in 0..commands {
        let sent = Instant::now();
        propose(&store, command("obj", c * batch, batch)).await;
        latencies.push(sent.elapsed());
    }
    let elapsed = start.elapsed();
    store.shutdown().await.expect("shutdown");
    let row = Row {
        name: format!("batch of {batch}, 1 proposer"),
        commands,
        objects: batch * commands,
        elapsed,
    };
    (row, latencies)
}

/// `proposers` concurrent clients each proposing `each` single-object commands: openraft
/// groups concurrent entries into one append and one apply transaction.
async fn concurrent(proposers: usize, each: usize) -> Row {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = fresh_store(&dir).await;
    let start = Instant::now();
    join_all((0..proposers).map(|p| {
        let store = store.clone();
        async move {
            for i in 0..each {
                propose(&store, command(&format!("p{p}"), i, 1)).await;
            }
        }
    }))
    .await;
    let elapsed = start.elapsed();
    store.shutdown().await.expect("shutdown");
    Row {
        name: format!("batch of 1, {proposers} concurrent proposers"),
        commands: proposers * each,
        objects: proposers * each,
        elapsed,
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let rank = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[rank]
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1e3)
}

#[tokio::main]
async fn main() {
    let (single, mut latencies) = sequential(1, 2_000).await;
    let (hundred, _) = sequential(100, 200).await;
    let (ten_thousand, _) = sequential(10_000, 10).await;
    let pipelined = concurrent(64, 50).await;

    let baseline = single.rate();
    println!("| workload | commands | objects | time | objects/s | vs batch of 1 |");
    println!("|---|---|---|---|---|---|");
    for row in [&single, &hundred, &ten_thousand, &pipelined] {
        println!(
            "| {} | {} | {} | {:.2} s | {:.0} | {:.1}x |",
            row.name,
            row.commands,
            row.objects,
            row.elapsed.as_secs_f64(),
            row.rate(),
            row.rate() / baseline
        );
    }

    latencies.sort();
    let p50 = percentile(&latencies, 0.50);
    let p99 = percentile(&latencies, 0.99);
    println!();
    println!("| single small write (1 object, 1 proposer) | latency |");
    println!("|---|---|");
    println!("| p50 | {} |", ms(p50));
    println!("| p99 | {} |", ms(p99));
    println!("| max | {} |", ms(latencies[latencies.len() - 1]));
}
