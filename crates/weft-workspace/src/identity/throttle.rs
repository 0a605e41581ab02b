//! Failed sign-ins per client address, in memory: a sliding window of failure times. An
//! address with `limit` failures in the last `window` is refused (429 with the seconds
//! until its oldest failure leaves the window) before any password is checked.
//!
//! Single node: each node counts its own. Successful sign-ins do not clear the count (an
//! attacker with one valid account must not be able to reset it).

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::Duration;

use time::OffsetDateTime;

use crate::{Error, Result};

/// More addresses than this and expired entries are swept on the next failure.
const SWEEP_ABOVE: usize = 10_000;

#[derive(Debug)]
pub struct Throttle {
    limit: u32,
    window: time::Duration,
    failures: Mutex<HashMap<String, VecDeque<OffsetDateTime>>>,
}

impl Throttle {
    pub fn new(limit: u32, window: Duration) -> Throttle {
        Throttle { limit, window: super::std_duration(window), failures: Mutex::default() }
    }

    /// `RateLimited` when `ip` has used up its failures.
    pub fn check(&self, ip: &str, now: OffsetDateTime) -> Result<()> {
        let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        let Some(times) = failures.get_mut(ip) else { return Ok(()) };
        let cutoff = now - self.window;
        while times.front().is_some_and(|t| *t <= cutoff) {
            times.pop_front();
        }
        if times.is_empty() {
            failures.remove(ip);
            return Ok(());
        }
        if times.len() < self.limit as usize {
            return Ok(());
        }
        let oldest = times.front().copied().unwrap_or(now);
        let wait = (oldest + self.window - now).whole_seconds() + 1;
        let retry_after_secs = u64::try_from(wait.max(1)).unwrap_or(1);
        Err(Error::RateLimited {
            message: format!("too many failed sign-ins from this address; try again in {retry_after_secs} s"),
            retry_after_secs,
        })
    }

    pub fn record_failure(&self, ip: &str, now: OffsetDateTime) {
        let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        if failures.len() > SWEEP_ABOVE {
            let cutoff = now - self.window;
            failures.retain(|_, times| times.back().is_some_and(|t| *t > cutoff));
        }
        let times = failures.entry(ip.to_owned()).or_default();
        times.push_back(now);
        // Only the newest `limit` failures matter.
        while times.len() > self.limit as usize {
            times.pop_front();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_after_the_limit_until_the_oldest_failure_leaves_the_window() {
        let throttle = Throttle::new(3, Duration::from_secs(600));
        let t0 = weft_store::now();
        for i in 0..3 {
            throttle.check("10.0.0.1", t0).unwrap();
            throttle.record_failure("10.0.0.1", t0 + time::Duration::seconds(i * 10));
        }
        let at = t0 + time::Duration::seconds(30);
        match throttle.check("10.0.0.1", at) {
            Err(Error::RateLimited { retry_after_secs, .. }) => assert!((570..=571).contains(&retry_after_secs)),
            other => panic!("expected RateLimited, got {other:?}"),
        }
        throttle.check("10.0.0.2", at).unwrap();
        // The first failure leaves the window after 600 s: one more attempt is allowed.
        throttle.check("10.0.0.1", t0 + time::Duration::seconds(601)).unwrap();
    }
}
