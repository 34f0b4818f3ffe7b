//! Waiting for a condition with a deadline: the only way a testbed (and its tests) wait.

use std::time::{Duration, Instant};

use crate::error::{Error, Result};

/// How long to wait between two checks: short enough to notice a change quickly, long enough
/// not to burn one of the two shared cores.
const POLL_INTERVAL: Duration = Duration::from_millis(50);

/// Calls `check` until it returns `Some` or `within` has passed (then fails naming `what`).
pub fn eventually<T>(
    within: Duration,
    what: &str,
    mut check: impl FnMut() -> Option<T>,
) -> Result<T> {
    let deadline = Instant::now() + within;
    loop {
        if let Some(value) = check() {
            return Ok(value);
        }
        if Instant::now() >= deadline {
            return Err(Error::Timeout {
                what: what.to_owned(),
                within,
            });
        }
        std::thread::sleep(POLL_INTERVAL);
    }
}
