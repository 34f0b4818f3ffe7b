//! The one clock: wall time is read here and nowhere else, and passed in as a [`Clock`].
//!
//! A manager's clock travels with its [`Store`](crate::store::Store) (the proposer stamps each
//! command, DESIGN §2; replicas never read theirs); the agent is handed its own; the CLI reads
//! the system's. Timers (restart delays, update delays and monitors, heartbeats, debounces) run
//! on tokio's clock, so a test on paused time moves timers and timestamps together with
//! [`Clock::tokio`]. In production the two clocks are read separately, as before: timestamps
//! follow the wall clock (which every node of a cluster must agree on), timers the monotonic
//! one; a deadline is turned into a timer as "how long from now" (see the runner).

use model::Timestamp;
use tokio::time::Instant;

/// Where timestamps come from; cheap to copy. The default is the system's clock.
#[derive(Clone, Copy, Debug, Default)]
pub struct Clock {
    /// `None`: the system's wall clock. `Some((origin, start))`: `origin` plus how far tokio's
    /// clock moved since `start`.
    anchor: Option<(Timestamp, Instant)>,
}

impl Clock {
    /// The system's wall clock, read at every call: a clock that NTP sets after start-up is
    /// followed, as every node of a cluster must agree on what "now" is.
    pub fn system() -> Clock {
        Clock { anchor: None }
    }

    /// A clock that reads `origin` now and moves with tokio's clock: on paused time
    /// (`#[tokio::test(start_paused = true)]`), `tokio::time::advance` and the auto-advance of
    /// an idle runtime move timers and timestamps together.
    pub fn tokio(origin: Timestamp) -> Clock {
        Clock {
            anchor: Some((origin, Instant::now())),
        }
    }

    /// The current time, in milliseconds since the Unix epoch.
    pub fn now(&self) -> Timestamp {
        match self.anchor {
            None => wall(),
            Some((origin, start)) => {
                let moved = i64::try_from(start.elapsed().as_millis()).unwrap_or(i64::MAX);
                Timestamp(origin.0.saturating_add(moved))
            }
        }
    }
}

/// The system's wall clock: the only read of it in the workspace.
fn wall() -> Timestamp {
    let millis = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or_default();
    Timestamp(i64::try_from(millis).unwrap_or(i64::MAX))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_tokio_clock_moves_with_paused_time_only() {
        let clock = Clock::tokio(Timestamp(1_000));
        assert_eq!(clock.now(), Timestamp(1_000));
        tokio::time::advance(Duration::from_millis(1_500)).await;
        assert_eq!(clock.now(), Timestamp(2_500));
        tokio::time::sleep(Duration::from_secs(60)).await;
        assert_eq!(clock.now(), Timestamp(62_500), "a sleep moves it too");
    }

    #[test]
    fn the_system_clock_reads_the_wall_clock() {
        // 2020-01-01: any machine running this is later than that.
        assert!(Clock::system().now().0 > 1_577_836_800_000);
    }
}
