//! Heartbeat cost (issue 10 §9): how many agent sessions at 1 s heartbeats one manager holds
//! within one core. The manager serves on its own single-threaded runtime (one core at most);
//! simulated agents speak the session protocol (open, hold the assignments stream, heartbeat
//! every second) from another runtime; the manager thread's CPU time over a window of
//! heartbeats gives the sessions one core would hold.
//!
//! `SESSIONS=2000 cargo bench --bench sessions` (default 1000 sessions).

#[path = "../tests/session_support/mod.rs"]
mod session_support;

use std::time::Duration;

use model::NodeStatus;
use session_support::{Cut, Manager};
use tokio::sync::{mpsc, oneshot};
use wire::{OpenSession, SESSION_VERSION, SessionOpened};

const PERIOD: Duration = Duration::from_secs(1);
const WINDOW: Duration = Duration::from_secs(5);

/// CPU time the calling thread has used.
fn thread_cpu() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime only writes into the timespec we own.
    let _ = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    Duration::new(
        u64::try_from(ts.tv_sec).unwrap_or(0),
        u32::try_from(ts.tv_nsec).unwrap_or(0),
    )
}

/// Starts the manager on its own thread; returns its URL and a way to read its thread's CPU.
fn manager(
    dir: std::path::PathBuf,
) -> (
    String,
    mpsc::UnboundedSender<oneshot::Sender<Duration>>,
    std::thread::JoinHandle<()>,
) {
    let (url_tx, url_rx) = std::sync::mpsc::channel();
    let (ask, mut asks) = mpsc::unbounded_channel::<oneshot::Sender<Duration>>();
    let thread = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        runtime.block_on(async move {
            let manager = Manager::single_with(&dir, &Cut::default(), PERIOD).await;
            url_tx.send(manager.url.clone()).expect("url");
            // Answered on the manager's thread, so it reads that thread's CPU time.
            while let Some(reply) = asks.recv().await {
                let _ = reply.send(thread_cpu());
            }
            manager.kill().await;
        });
    });
    let url = url_rx.recv().expect("manager url");
    (url, ask, thread)
}

async fn read_cpu(ask: &mpsc::UnboundedSender<oneshot::Sender<Duration>>) -> Duration {
    let (tx, rx) = oneshot::channel();
    ask.send(tx).expect("ask");
    rx.await.expect("cpu reading")
}

fn main() {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(sessions_one_core_holds_at_one_second_heartbeats());
}

async fn sessions_one_core_holds_at_one_second_heartbeats() {
    let sessions: usize = std::env::var("SESSIONS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(1000);
    let dir = tempfile::tempdir().expect("tempdir");
    let (url, ask, thread) = manager(dir.path().to_path_buf());
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(sessions * 2)
        .build()
        .expect("client");

    // Each session beats once a second from its opening (opened one after another, they are
    // spread over the second).
    let opened_at = std::time::Instant::now();
    let mut streams = Vec::new();
    let mut beaters = Vec::new();
    for n in 0..sessions {
        let node = format!("id-bench-{n}");
        let open = OpenSession {
            version: SESSION_VERSION,
            node_name: format!("bench-{n}"),
            advertise_addr: None,
            description: NodeStatus::default(),
        };
        let answer: SessionOpened = http
            .post(format!("{url}/v1/session/open"))
            .header("x-test-node-id", &node)
            .json(&open)
            .send()
            .await
            .expect("open")
            .json()
            .await
            .expect("opened");
        let stream = http
            .get(format!(
                "{url}/v1/session/{}/assignments",
                answer.session_id
            ))
            .header("x-test-node-id", &node)
            .send()
            .await
            .expect("stream");
        streams.push(stream);
        let http = http.clone();
        let beat_url = format!("{url}/v1/session/{}/heartbeat", answer.session_id);
        beaters.push(tokio::spawn(async move {
            let mut every = tokio::time::interval(PERIOD);
            let mut failures = 0u64;
            loop {
                every.tick().await;
                let status = http
                    .post(&beat_url)
                    .header("x-test-node-id", &node)
                    .send()
                    .await
                    .map(|r| r.status());
                if !status.as_ref().is_ok_and(|s| s.is_success()) {
                    failures += 1;
                    if failures == 1 {
                        eprintln!("a heartbeat failed ({status:?}): the manager falls behind");
                    }
                }
            }
        }));
    }
    let open_time = opened_at.elapsed();

    // Warm up one period, then measure a window.
    tokio::time::sleep(PERIOD * 2).await;
    let before = read_cpu(&ask).await;
    let started = std::time::Instant::now();
    tokio::time::sleep(WINDOW).await;
    let cpu = read_cpu(&ask).await - before;
    let wall = started.elapsed();
    let share = cpu.as_secs_f64() / wall.as_secs_f64();
    let per_beat_us = cpu.as_secs_f64() * 1e6 / (sessions as f64 * wall.as_secs_f64());
    println!(
        "{sessions} sessions at 1 s heartbeats: manager thread {:.1}% of a core ({per_beat_us:.1} µs per heartbeat) → about {:.0} sessions per core; opening them took {open_time:?}",
        share * 100.0,
        sessions as f64 / share.max(1e-9),
    );
    for beater in beaters {
        beater.abort();
    }
    drop(streams);
    drop(ask);
    let _ = tokio::task::spawn_blocking(move || thread.join()).await;
}
