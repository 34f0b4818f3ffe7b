//! When the runner passes next: shortly after a burst of commits, at the controllers' own
//! deadline (a restart delay ending...), soon again after a pass that could not be written, and
//! otherwise only at the slow resync. Pure over instants, so its timing is unit-tested.

use std::time::Duration;

use tokio::time::Instant;

use super::runner::RunnerConfig;

/// How a pass ended, as far as scheduling the next one goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ended {
    /// Decided (and wrote, or had nothing to write).
    Done,
    /// The store refused a stale decision: decide again after the debounce.
    Rejected,
    /// Not the leader, or nothing could be written: try again after the retry period.
    Retry,
}

/// The runner's timers.
#[derive(Clone, Debug)]
pub struct Schedule {
    config: RunnerConfig,
    /// Debounce after a commit: never less than the last pass took.
    gap: Duration,
    /// A pass asked for by commits or a failure.
    due: Option<Instant>,
    /// The controllers' next deadline.
    requeue: Option<Instant>,
    resync: Instant,
}

impl Schedule {
    /// A schedule whose first pass is due at once (the store may hold work from before a
    /// restart).
    pub fn new(config: RunnerConfig, now: Instant) -> Schedule {
        Schedule {
            gap: config.debounce,
            due: Some(now),
            requeue: None,
            resync: now + config.resync,
            config,
        }
    }

    /// A commit happened at `now`: pass after the debounce. Not sliding, so a steady stream of
    /// commits still gets regular passes.
    pub fn committed(&mut self, now: Instant) {
        self.due.get_or_insert(now + self.gap);
    }

    /// When the next pass is due.
    pub fn wake(&self) -> Instant {
        [self.due, self.requeue]
            .into_iter()
            .flatten()
            .fold(self.resync, Instant::min)
    }

    /// A pass ran from `started` to `finished`; the controllers want another `requeue_after`
    /// after `started` (the instant their clock was read).
    pub fn passed(
        &mut self,
        started: Instant,
        finished: Instant,
        ended: Ended,
        requeue_after: Option<Duration>,
    ) {
        self.gap = self.config.debounce.max(finished - started);
        self.due = match ended {
            Ended::Done => None,
            Ended::Rejected => Some(finished + self.gap),
            Ended::Retry => Some(finished + self.config.retry),
        };
        // At least a millisecond: timestamps are in milliseconds, so a deadline never repeats
        // the pass that computed it.
        self.requeue = requeue_after.map(|d| started + d.max(Duration::from_millis(1)));
        self.resync = finished + self.config.resync;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> RunnerConfig {
        RunnerConfig {
            debounce: Duration::from_millis(10),
            retry: Duration::from_secs(1),
            resync: Duration::from_secs(30),
            settings: controllers::Settings::default(),
        }
    }

    const MS: Duration = Duration::from_millis(1);

    #[test]
    fn the_first_pass_is_due_at_once_and_an_idle_runner_waits_for_the_resync() {
        let t0 = Instant::now();
        let mut s = Schedule::new(config(), t0);
        assert_eq!(s.wake(), t0);
        s.passed(t0, t0 + MS, Ended::Done, None);
        assert_eq!(
            s.wake(),
            t0 + MS + Duration::from_secs(30),
            "no polling tick"
        );
    }

    #[test]
    fn a_deadline_wakes_the_runner_exactly_then() {
        let t0 = Instant::now();
        let mut s = Schedule::new(config(), t0);
        // A restart delayed 5 s, decided by a pass that took 40 ms.
        s.passed(
            t0,
            t0 + 40 * MS,
            Ended::Done,
            Some(Duration::from_millis(5000)),
        );
        assert_eq!(s.wake(), t0 + Duration::from_millis(5000));
        // A commit meanwhile passes after the debounce (the last pass's length) first...
        s.committed(t0 + Duration::from_secs(1));
        assert_eq!(s.wake(), t0 + Duration::from_millis(1040));
        // ...and that pass, which sees the same held task, keeps the same deadline.
        let t1 = t0 + Duration::from_millis(1040);
        s.passed(t1, t1 + MS, Ended::Done, Some(Duration::from_millis(3960)));
        assert_eq!(s.wake(), t0 + Duration::from_millis(5000));
    }

    #[test]
    fn commits_are_debounced_without_sliding() {
        let t0 = Instant::now();
        let mut s = Schedule::new(config(), t0);
        s.passed(t0, t0 + MS, Ended::Done, None);
        let t1 = t0 + Duration::from_secs(2);
        s.committed(t1);
        s.committed(t1 + 5 * MS);
        assert_eq!(s.wake(), t1 + 10 * MS);
    }

    #[test]
    fn refused_and_failed_passes_are_retried() {
        let t0 = Instant::now();
        let mut s = Schedule::new(config(), t0);
        s.passed(t0, t0 + 20 * MS, Ended::Rejected, None);
        assert_eq!(s.wake(), t0 + 40 * MS, "again after the pass's own length");
        s.passed(t0, t0 + MS, Ended::Retry, Some(Duration::from_secs(5)));
        assert_eq!(s.wake(), t0 + MS + Duration::from_secs(1));
    }

    #[test]
    fn a_past_deadline_passes_again_after_a_millisecond_not_in_a_spin() {
        let t0 = Instant::now();
        let mut s = Schedule::new(config(), t0);
        s.passed(t0, t0 + MS, Ended::Done, Some(Duration::ZERO));
        assert_eq!(s.wake(), t0 + MS);
    }
}
