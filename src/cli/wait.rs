//! `apply --wait`: look at the stack's services and tasks until they converge on the applied
//! spec, fail beyond recovery, or the timeout passes; print progress as it changes. A look
//! lists every task of the stack, so it is taken only after the manager committed something
//! (or once a second, for the clock-driven restart notes), not on a fixed short period.

use std::collections::HashMap;
use std::time::Duration;

use model::{Kind, Timestamp};
// tokio's clock, like every timer: a test on paused time moves the timeout too.
use tokio::time::Instant;

use super::error::Result;
use crate::client::converge::{Convergence, Progress, Verdict};
use crate::client::{Client, TaskFilter};
use crate::clock::Clock;

use super::Output;

/// How often the manager is asked whether anything committed since the last look: one small
/// read, where a look lists every task of the stack (megabytes at 10,000 tasks).
const POLL: Duration = Duration::from_millis(100);

/// Looks again at least this often even when nothing committed: restart windows and delays
/// count from the clock, so their notes change without a commit.
const REFRESH: Duration = Duration::from_secs(1);

/// Waits for every stack in `stacks`; exit status 0 when all converged, 1 otherwise.
pub async fn run(
    client: &Client,
    stacks: &[String],
    since: Timestamp,
    timeout: Duration,
    output: Output,
) -> Result<i32> {
    // Progress is for people; with -o json|yaml stdout carries only the apply result.
    let say = |line: &str| match output {
        Output::Table => outln!("{line}"),
        Output::Json | Output::Yaml => eprintln!("{line}"),
    };
    let started = Instant::now();
    let deadline = started + timeout;
    let mut code = 0;
    for stack in stacks {
        let mut convergence = Convergence::new(since);
        let mut shown: HashMap<String, String> = HashMap::new();
        let last = loop {
            // Read before the look: a commit landing during it is looked at again.
            let looked_at = client.cluster().await?.last_applied;
            let services = client.list(Kind::Service, Some(stack)).await?;
            let filter = TaskFilter {
                stack: Some(stack),
                ..TaskFilter::default()
            };
            let tasks = client.tasks(filter).await?;
            let nodes = client.list(Kind::Node, None).await?;
            let progress = convergence.observe(&services, &tasks, &nodes, Clock::system().now());
            let width = progress.iter().map(|p| p.service.len()).max().unwrap_or(0);
            for p in &progress {
                let mut text = p.line(width);
                for problem in p.problems.iter().filter(|pr| !said_in_verdict(p, pr)) {
                    text.push_str(&format!("\n{:width$}    {problem}", ""));
                }
                if shown.get(&p.service) != Some(&text) {
                    say(&text);
                    shown.insert(p.service.clone(), text);
                }
            }
            let failed = progress
                .iter()
                .any(|p| matches!(p.verdict, Verdict::Failed(_)));
            let done = progress.iter().all(|p| p.verdict == Verdict::Done);
            if failed || done || Instant::now() >= deadline {
                break progress;
            }
            next_commit(client, looked_at, (Instant::now() + REFRESH).min(deadline)).await?;
        };
        let elapsed = super::output::elapsed(started.elapsed());
        if last.iter().all(|p| p.verdict == Verdict::Done) {
            say(&format!("stack {stack} converged in {elapsed}"));
            continue;
        }
        code = super::EXIT_FAILED;
        say(&format!(
            "stack {stack} did not converge: {}",
            reasons(&last, timeout)
        ));
    }
    Ok(code)
}

/// Returns once the manager applied an entry after `looked_at`, or at `until`.
async fn next_commit(client: &Client, looked_at: u64, until: Instant) -> Result<()> {
    while Instant::now() < until {
        tokio::time::sleep(POLL.min(until.saturating_duration_since(Instant::now()))).await;
        if client.cluster().await?.last_applied != looked_at {
            break;
        }
    }
    Ok(())
}

/// True when the failure reason already carries `problem` (`web.1: <error>`), so it is not
/// printed twice.
fn said_in_verdict(progress: &Progress, problem: &str) -> bool {
    let Verdict::Failed(reason) = &progress.verdict else {
        return false;
    };
    let error = problem.split_once(": ").map_or(problem, |(_, error)| error);
    reason.contains(error)
}

/// Why the stack is not done: each failure, or what the services still wait for.
fn reasons(progress: &[Progress], timeout: Duration) -> String {
    let failures: Vec<String> = progress
        .iter()
        .filter_map(|p| match &p.verdict {
            Verdict::Failed(reason) => Some(format!("{}: {reason}", p.service)),
            _ => None,
        })
        .collect();
    if !failures.is_empty() {
        return failures.join("; ");
    }
    let waiting: Vec<String> = progress
        .iter()
        .filter(|p| p.verdict == Verdict::Converging)
        .map(|p| {
            let mut why = format!("{} {}/{} {}", p.service, p.done, p.desired, p.counted);
            if let Some(problem) = p.problems.first() {
                why.push_str(&format!(" ({problem})"));
            }
            why
        })
        .collect();
    format!(
        "timed out after {}s; still waiting for {}",
        timeout.as_secs(),
        waiting.join(", ")
    )
}
