//! An accelerated clock for `seam demo`: workflow time runs `factor` times faster than real time from a chosen
//! start, so a month of retries plays out in half a minute. Leases and signature windows keep using real time.

use std::time::Instant;

use seam_flow::{Clock, Timestamp};

#[derive(Debug)]
pub struct AcceleratedClock {
    start: Timestamp,
    real_start: Instant,
    factor: f64,
}

impl AcceleratedClock {
    /// Workflow time starts at `start` now and advances `factor` seconds per real second.
    pub fn new(start: Timestamp, factor: f64) -> AcceleratedClock {
        AcceleratedClock { start, real_start: Instant::now(), factor: factor.max(0.0) }
    }
}

impl Clock for AcceleratedClock {
    fn now(&self) -> Timestamp {
        let elapsed = self.real_start.elapsed().as_secs_f64() * self.factor;
        // Saturating: an absurd factor stops the clock at the far future instead of wrapping.
        let seconds = (elapsed.min(i64::MAX as f64 / 2.0)) as i64;
        Timestamp::from_unix_seconds(self.start.unix_seconds().saturating_add(seconds))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_faster_than_real_time_and_never_goes_back() {
        let start = Timestamp::from_unix_seconds(1_700_000_000);
        let clock = AcceleratedClock::new(start, 86_400.0);
        let first = clock.now();
        std::thread::sleep(std::time::Duration::from_millis(20));
        let second = clock.now();
        assert!(first >= start);
        assert!(second > first, "20 ms real is about half an hour of workflow time");
    }
}
