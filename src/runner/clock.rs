//! What start and stop share about time and cancellation: when the run began, its
//! `--timeout`, waiting for the next worker message without missing that deadline, and the
//! result of a component that a cancel caught.

use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use super::outcome::{ComponentResult, Outcome};
use crate::cancel::{Cancel, CancelReason};
use crate::graph::NodeId;

/// How often a scheduler with nothing to receive looks at the cancel again.
const TICK: Duration = Duration::from_millis(50);

/// A run's clock: its start and its deadline (`--timeout`).
#[derive(Debug, Clone, Copy)]
pub(super) struct RunClock {
    t0: Instant,
    deadline: Option<Instant>,
}

impl RunClock {
    /// A run starting now, limited to `timeout`.
    pub(super) fn start(timeout: Option<Duration>) -> Self {
        let t0 = Instant::now();
        Self {
            t0,
            deadline: timeout.and_then(|t| t0.checked_add(t)),
        }
    }

    /// Time since the run began.
    pub(super) fn at(&self) -> Duration {
        self.t0.elapsed()
    }

    /// The run's deadline, if it has one.
    pub(super) fn deadline(&self) -> Option<Instant> {
        self.deadline
    }

    /// The next message from a worker, or `None` after a short tick (so the scheduler looks
    /// at the cancel again). When the run's deadline passes, the run is cancelled with
    /// [`CancelReason::Timeout`].
    pub(super) fn recv<T>(&self, rx: &Receiver<T>, cancel: &Cancel) -> Option<T> {
        let wait = self.deadline.map_or(TICK, |d| {
            d.saturating_duration_since(Instant::now()).min(TICK)
        });
        match rx.recv_timeout(wait) {
            Ok(m) => Some(m),
            Err(RecvTimeoutError::Timeout) => {
                if self.deadline.is_some_and(|d| Instant::now() >= d) {
                    cancel.cancel(CancelReason::Timeout);
                }
                None
            }
            Err(RecvTimeoutError::Disconnected) => unreachable!("the scheduler holds a sender"),
        }
    }

    /// The result of a component that a cancel caught (not started, or abandoned): timed out
    /// when the run's `--timeout` passed, else cancelled, with why.
    pub(super) fn cancelled(
        &self,
        id: NodeId,
        cancel: &Cancel,
        began: Option<Duration>,
    ) -> ComponentResult {
        let mut r = ComponentResult::new(id, Outcome::Cancelled, self.at());
        r.began = began;
        r.reason = Some(match cancel.reason() {
            Some(CancelReason::Timeout) => {
                r.outcome = Outcome::TimedOut;
                "the run's --timeout passed".into()
            }
            Some(CancelReason::FailFast) => "cancelled by --fail-fast after a failure".into(),
            _ => "interrupted".into(),
        });
        r
    }
}
