//! Cancellation shared by the scheduler, its workers and the signal handler.
//!
//! Two levels: a graceful cancel (first Ctrl-C, `--timeout`, `--fail-fast`) stops scheduling
//! and lets in-flight work stop what it started with the usual grace; a forced cancel
//! (second Ctrl-C) ends every grace period at once. Sleeps wake as soon as either happens.

use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

/// Why a run was cancelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CancelReason {
    /// Ctrl-C or SIGTERM.
    Interrupted,
    /// The run's `--timeout` passed.
    Timeout,
    /// `--fail-fast` after a failure.
    FailFast,
}

#[derive(Debug, Default)]
struct State {
    level: u8,
    reason: Option<CancelReason>,
}

/// A cancellation token; clones share it.
#[derive(Debug, Clone, Default)]
pub struct Cancel(Arc<(Mutex<State>, Condvar)>);

impl Cancel {
    /// A token that is not cancelled.
    pub fn new() -> Self {
        Self::default()
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.0
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Cancels gracefully; the first reason given is kept.
    pub fn cancel(&self, reason: CancelReason) {
        let mut s = self.state();
        s.level = s.level.max(1);
        s.reason.get_or_insert(reason);
        self.0.1.notify_all();
    }

    /// Cancels at once: no more grace periods.
    pub fn force(&self) {
        let mut s = self.state();
        s.level = 2;
        s.reason.get_or_insert(CancelReason::Interrupted);
        self.0.1.notify_all();
    }

    /// Whether cancelled at all.
    pub fn is_cancelled(&self) -> bool {
        self.state().level > 0
    }

    /// Whether force-cancelled.
    pub fn is_forced(&self) -> bool {
        self.state().level > 1
    }

    /// Why, if cancelled.
    pub fn reason(&self) -> Option<CancelReason> {
        self.state().reason
    }

    /// Sleeps for `d` or until cancelled; returns true when cancelled.
    pub fn sleep(&self, d: Duration) -> bool {
        let s = self.state();
        if s.level > 0 {
            return true;
        }
        let (s, _) = self
            .0
            .1
            .wait_timeout_while(s, d, |s| s.level == 0)
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        s.level > 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    #[test]
    fn sleep_wakes_on_cancel_and_keeps_the_first_reason() {
        let c = Cancel::new();
        assert!(!c.sleep(Duration::from_millis(1)));
        let c2 = c.clone();
        let t = Instant::now();
        let h = std::thread::spawn(move || c2.sleep(Duration::from_secs(10)));
        std::thread::sleep(Duration::from_millis(20));
        c.cancel(CancelReason::Timeout);
        c.cancel(CancelReason::Interrupted);
        assert!(h.join().unwrap());
        assert!(t.elapsed() < Duration::from_secs(5));
        assert_eq!(c.reason(), Some(CancelReason::Timeout));
        assert!(!c.is_forced());
        c.force();
        assert!(c.is_forced());
    }
}
