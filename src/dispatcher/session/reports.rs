//! One writer of task reports for every session of a manager: batches that arrive within a
//! window are folded into one command (DESIGN §2: never one entry per task), and each poster
//! is answered once its reports are written, so an agent resends what a failed manager lost.

use std::time::Duration;

use tokio::sync::{mpsc, oneshot};
use tokio::time::{Instant, timeout_at};
use wire::TaskReport;

use super::SessionError;
use crate::dispatcher::status::{self, ReportBatch};
use crate::store::Store;

/// Batches that may wait for the writer before posters are held back.
pub const QUEUE: usize = 1024;

/// Attempts at writing one window (a refused attempt is folded again on the newer index).
const ATTEMPTS: usize = 3;

/// A posted batch and who waits for it to be written.
pub struct Job {
    reports: Vec<TaskReport>,
    done: oneshot::Sender<bool>,
}

/// Hands `reports` to the writer; returns once they are written.
pub async fn submit(
    queue: &mpsc::Sender<Job>,
    reports: Vec<TaskReport>,
) -> Result<(), SessionError> {
    let (done, written) = oneshot::channel();
    queue
        .send(Job { reports, done })
        .await
        .map_err(|_| SessionError::ReportsNotWritten)?;
    match written.await {
        Ok(true) => Ok(()),
        _ => Err(SessionError::ReportsNotWritten),
    }
}

/// Runs until every [`Job`] sender is gone.
pub async fn run(store: Store, mut queue: mpsc::Receiver<Job>, window: Duration) {
    while let Some(first) = queue.recv().await {
        let mut pending = ReportBatch::default();
        let mut waiting = Vec::new();
        let window_end = Instant::now() + window;
        let mut next = Some(first);
        while let Some(job) = next {
            pending.add(job.reports);
            waiting.push(job.done);
            // The window's end (Err) or the last sender gone (None) closes the batch.
            next = timeout_at(window_end, queue.recv())
                .await
                .unwrap_or_default();
        }
        let mut written = false;
        for _ in 0..ATTEMPTS {
            if status::write(&store, &mut pending).await {
                written = true;
                break;
            }
        }
        for done in waiting {
            let _ = done.send(written);
        }
    }
}
