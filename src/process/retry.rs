//! The one retry loop: attempts with capped exponential backoff and jitter, whose waits a
//! cancel cuts short.

use std::time::Duration;

use crate::cancel::Cancel;

/// What one attempt came to.
#[cfg_attr(
    not(test),
    expect(dead_code, reason = "no caller fails for good yet; the tests do")
)]
#[derive(Debug)]
pub(crate) enum Attempt<T, E> {
    /// Done: no more attempts.
    Done(T),
    /// Failed in a way worth another attempt (an engine hiccup).
    Retry(E),
    /// Failed for good.
    Fail(E),
}

/// Why the attempts ended without success.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum GaveUp<E> {
    /// The last attempt failed for good, or it was the last one allowed.
    Failed(E),
    /// A cancel came while waiting for the next attempt; the last failure.
    Cancelled(E),
}

/// How many attempts, and how long to wait before each one after the first.
#[derive(Debug, Clone, Copy)]
pub struct Policy {
    /// Attempts in all (1: no retry).
    pub attempts: u32,
    /// The wait before the second attempt; doubled for each one after.
    pub first: Duration,
    /// The longest wait.
    pub max: Duration,
}

impl Policy {
    /// The wait before attempt `n` (2, 3, ...), before jitter.
    pub fn delay(&self, attempt: u32) -> Duration {
        let doublings = attempt.saturating_sub(2).min(30);
        self.first.saturating_mul(1u32 << doublings).min(self.max)
    }

    /// The wait before attempt `n` with ±20 % jitter, so that several retrying callers do
    /// not hit an engine at the same instant.
    pub fn jittered(&self, attempt: u32) -> Duration {
        self.delay(attempt)
            .mul_f64(fastrand::f64().mul_add(0.4, 0.8))
    }
}

/// Runs `attempt(n)` for n = 1, 2, ... until it is done, fails for good, or the policy's
/// attempts are used. Before each retry, `waiting(next, delay, &failure)` is told, then the
/// delay is slept (cut short by a cancel, which ends the loop).
pub(crate) fn retry<T, E>(
    policy: Policy,
    cancel: Option<&Cancel>,
    mut attempt: impl FnMut(u32) -> Attempt<T, E>,
    mut waiting: impl FnMut(u32, Duration, &E),
) -> Result<T, GaveUp<E>> {
    let mut n = 1;
    loop {
        match attempt(n) {
            Attempt::Done(t) => return Ok(t),
            Attempt::Fail(e) => return Err(GaveUp::Failed(e)),
            Attempt::Retry(e) if n >= policy.attempts => return Err(GaveUp::Failed(e)),
            Attempt::Retry(e) => {
                if cancel.is_some_and(Cancel::is_cancelled) {
                    return Err(GaveUp::Cancelled(e));
                }
                n += 1;
                let delay = policy.jittered(n);
                waiting(n, delay, &e);
                let cancelled = if let Some(c) = cancel {
                    c.sleep(delay)
                } else {
                    std::thread::sleep(delay);
                    false
                };
                if cancelled {
                    return Err(GaveUp::Cancelled(e));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cancel::CancelReason;

    const QUICK: Policy = Policy {
        attempts: 3,
        first: Duration::from_millis(1),
        max: Duration::from_millis(2),
    };

    #[test]
    fn retries_transient_failures_up_to_the_attempts() {
        let mut waits = Vec::new();
        let r: Result<u32, _> = retry(
            QUICK,
            None,
            |n| {
                if n < 3 {
                    Attempt::Retry(n)
                } else {
                    Attempt::Done(n)
                }
            },
            |next, _, _| waits.push(next),
        );
        assert_eq!(r, Ok(3));
        assert_eq!(waits, [2, 3]);
        let r: Result<(), _> = retry(QUICK, None, Attempt::Retry, |_, _, _| {});
        assert_eq!(r, Err(GaveUp::Failed(3)));
        let r: Result<(), _> = retry(QUICK, None, Attempt::Fail, |_, _, _| {});
        assert_eq!(r, Err(GaveUp::Failed(1)));
    }

    #[test]
    fn a_cancel_ends_the_wait() {
        let c = Cancel::new();
        c.cancel(CancelReason::Interrupted);
        let slow = Policy {
            attempts: 5,
            first: Duration::from_secs(60),
            max: Duration::from_secs(60),
        };
        let r: Result<(), _> = retry(slow, Some(&c), Attempt::Retry, |_, _, _| {});
        assert_eq!(r, Err(GaveUp::Cancelled(1)));
        assert_eq!(slow.delay(2), Duration::from_secs(60));
        assert_eq!(QUICK.delay(30), Duration::from_millis(2));
    }
}
