//! Paused time for tests on a real store: tokio's clock moves only when the test advances it.
//!
//! Plain paused time auto-advances whenever the runtime is idle, and a runtime waiting for
//! SQLite's worker threads is idle: the store's own timeouts would fire at once and timestamps
//! would leap. A running blocking task keeps tokio from auto-advancing (see "Preventing
//! auto-advance" in `tokio::time::pause`), so [`freeze`] holds one for the test's life.

use std::sync::mpsc;
use std::time::Duration;

use swarm::store::Store;
use tokio::sync::broadcast::error::RecvError;

/// Real time a frozen test may take before time thaws: a stuck test then runs on (and fails
/// on its assertions or its waits' timeouts) instead of hanging.
const THAW_AFTER: Duration = Duration::from_secs(20);

/// Frozen time; dropping it thaws the clock.
pub struct Frozen {
    _hold: mpsc::Sender<()>,
}

/// Pauses tokio's clock (the test must run on the current-thread runtime, `#[tokio::test]`)
/// and stops it from auto-advancing: only [`advance_past`] (or `tokio::time::advance`) moves it.
pub fn freeze() -> Frozen {
    tokio::time::pause();
    let (hold, held) = mpsc::channel::<()>();
    tokio::task::spawn_blocking(move || {
        // Ends when the test drops its `Frozen` (a disconnect) or after THAW_AFTER.
        let _ = held.recv_timeout(THAW_AFTER);
    });
    Frozen { _hold: hold }
}

/// Moves frozen time `by`, and one millisecond more: tokio fires a timer on the first
/// millisecond tick at or after its deadline, and a paused clock sits between ticks. Tasks
/// already woken (by a commit, a spawn) run first, so their timers start from the old time.
pub async fn advance_past(by: Duration) {
    tokio::task::yield_now().await;
    tokio::time::advance(by + Duration::from_millis(1)).await;
}

/// Waits for the store to commit until `check` finds what it looks for. No polling: time is
/// frozen, so only commits can change what `check` sees.
pub async fn until_commit<T>(store: &Store, what: &str, mut check: impl FnMut() -> Option<T>) -> T {
    let mut events = store.subscribe();
    loop {
        if let Some(found) = check() {
            return found;
        }
        // An hour of frozen time never passes; once thawed (a stuck test), it passes at once.
        match tokio::time::timeout(Duration::from_secs(3_600), events.recv()).await {
            Err(_) => panic!("timed out waiting for {what}"),
            Ok(Err(RecvError::Closed)) => panic!("the store closed while waiting for {what}"),
            Ok(_) => {}
        }
    }
}
