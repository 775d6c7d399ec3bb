//! The clock of `seam demo`: workflow time that the demo moves forward step by step while it replays its month,
//! then real time from where the replay stopped.
//!
//! Stepping, rather than running faster than real time, is what makes the demo tell the same story every time: the
//! demo moves the clock to the next instant something is due, waits until the engine has done everything due by
//! then, and only then moves on, so no result depends on how fast the machine is. Once the month is replayed the
//! clock runs at real speed (one second per second) from the replayed instant, with no jump, so the decisions a
//! person makes while exploring are stamped as far apart as they really are. Leases and signature windows never use
//! this clock; they keep using real time.

use std::sync::{Arc, Mutex, PoisonError};

use seam_flow::{Clock, Timestamp};

/// Workflow time set by the demo while it replays, then real time from there. See the module docs.
pub struct ReplayClock {
    /// The real clock the live phase follows (`SystemClock`; a `ManualClock` in tests).
    real: Arc<dyn Clock>,
    /// Guarded so that `now` sees either the replayed instant or the live phase, never a mix.
    phase: Mutex<Phase>,
}

#[derive(Debug, Clone, Copy)]
enum Phase {
    /// Time stands at this instant until the demo moves it.
    Replaying(Timestamp),
    /// Time is `from` plus however much real time passed since `real_from`.
    Live { from: Timestamp, real_from: Timestamp },
}

impl ReplayClock {
    /// A clock standing at `start`, replaying. `real` is the clock the live phase follows.
    pub fn new(start: Timestamp, real: Arc<dyn Clock>) -> ReplayClock {
        ReplayClock { real, phase: Mutex::new(Phase::Replaying(start)) }
    }

    /// Moves replayed time forward to `at`. Time never goes back, and once live the clock is no longer moved.
    pub fn advance_to(&self, at: Timestamp) {
        let mut phase = self.phase.lock().unwrap_or_else(PoisonError::into_inner);
        if let Phase::Replaying(now) = *phase
            && at > now
        {
            *phase = Phase::Replaying(at);
        }
    }

    /// Ends the replay: from now on time runs at real speed from the instant the replay reached.
    pub fn go_live(&self) {
        let mut phase = self.phase.lock().unwrap_or_else(PoisonError::into_inner);
        if let Phase::Replaying(from) = *phase {
            *phase = Phase::Live { from, real_from: self.real.now() };
        }
    }

    /// Whether the replay is over.
    pub fn is_live(&self) -> bool {
        matches!(*self.phase.lock().unwrap_or_else(PoisonError::into_inner), Phase::Live { .. })
    }
}

impl Clock for ReplayClock {
    fn now(&self) -> Timestamp {
        match *self.phase.lock().unwrap_or_else(PoisonError::into_inner) {
            Phase::Replaying(at) => at,
            Phase::Live { from, real_from } => {
                // A real clock set back (by NTP, say) never takes workflow time before the end of the replay.
                let elapsed = (self.real.now().unix_seconds() - real_from.unix_seconds()).max(0);
                Timestamp::from_unix_seconds(from.unix_seconds().saturating_add(elapsed))
            }
        }
    }
}

impl std::fmt::Debug for ReplayClock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReplayClock").field("phase", &self.phase).finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use seam_flow::{Duration, ManualClock};

    const START: i64 = 1_772_442_000;

    fn clocks() -> (Arc<ManualClock>, ReplayClock) {
        let real = Arc::new(ManualClock::new(Timestamp::from_unix_seconds(1_700_000_000)));
        let clock = ReplayClock::new(Timestamp::from_unix_seconds(START), real.clone());
        (real, clock)
    }

    #[test]
    fn while_replaying_time_stands_still_until_the_demo_moves_it() {
        let (real, clock) = clocks();
        real.advance(Duration::parse("1h").unwrap());
        assert_eq!(clock.now().unix_seconds(), START, "real time passing does not move replayed time");
        clock.advance_to(Timestamp::from_unix_seconds(START + 86_400));
        assert_eq!(clock.now().unix_seconds(), START + 86_400);
        clock.advance_to(Timestamp::from_unix_seconds(START));
        assert_eq!(clock.now().unix_seconds(), START + 86_400, "time never goes back");
    }

    #[test]
    fn once_live_time_runs_at_real_speed_from_where_the_replay_stopped() {
        let (real, clock) = clocks();
        let end = START + 46 * 86_400;
        clock.advance_to(Timestamp::from_unix_seconds(end));
        clock.go_live();
        assert!(clock.is_live());
        assert_eq!(clock.now().unix_seconds(), end, "no jump when the replay ends");
        real.advance(Duration::parse("90s").unwrap());
        assert_eq!(clock.now().unix_seconds(), end + 90, "one second per second, no acceleration");
        clock.advance_to(Timestamp::from_unix_seconds(end + 86_400));
        assert_eq!(clock.now().unix_seconds(), end + 90, "a live clock is not moved by the demo");
        real.set(Timestamp::from_unix_seconds(1_600_000_000));
        assert_eq!(clock.now().unix_seconds(), end, "never before the end of the replay");
    }
}
