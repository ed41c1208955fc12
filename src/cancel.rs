//! Cancellation shared by the scheduler, its workers, child processes and the signal
//! handler, and the [`Bell`] every wait in `tta` sleeps on.
//!
//! Two levels: a graceful cancel (first Ctrl-C, `--timeout`, `--fail-fast`) stops scheduling
//! and lets in-flight work stop what it started with the usual grace; a forced cancel
//! (second Ctrl-C) ends every grace period at once. A wait wakes as soon as either happens:
//! waits sleep on a bell, and a cancel rings every bell that is watching it, so nothing
//! polls to notice a cancel (or a child's exit, which rings its own bell). The engine
//! client's futures wait for a cancel with [`Cancel::cancelled`], which a cancel wakes.
//!
//! This is a leaf module: it imports nothing of the crate.

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError, Weak};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

/// Why a run was cancelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CancelReason {
    /// Ctrl-C, SIGTERM or SIGHUP.
    Interrupted,
    /// The run's `--timeout` passed.
    Timeout,
    /// `--fail-fast` after a failure.
    FailFast,
}

/// How far a cancel has gone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    /// Not cancelled.
    None = 0,
    /// Cancelled gracefully: finish or stop what is in flight, with grace.
    Graceful = 1,
    /// Forced: no more grace.
    Forced = 2,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Something threads wait on until it rings: a child's exit, a cancel, a new message.
/// A wait checks its condition with the bell's lock held, so a ring that follows a change
/// of state is never missed.
#[derive(Debug, Default)]
pub struct Bell {
    rings: Mutex<u64>,
    cv: Condvar,
}

impl Bell {
    /// A new bell.
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    /// Wakes every thread waiting on this bell (they check their conditions again).
    pub fn ring(&self) {
        *lock(&self.rings) += 1;
        self.cv.notify_all();
    }

    /// Waits until `done()` is true (returns true) or `deadline` passes (returns false).
    /// `done` is called with the bell's lock held: it must not ring this bell.
    pub fn wait_until(&self, deadline: Option<Instant>, mut done: impl FnMut() -> bool) -> bool {
        let mut guard = lock(&self.rings);
        loop {
            if done() {
                return true;
            }
            match deadline {
                None => guard = self.cv.wait(guard).unwrap_or_else(PoisonError::into_inner),
                Some(d) => {
                    let left = d.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        return done();
                    }
                    guard = self
                        .cv
                        .wait_timeout(guard, left)
                        .unwrap_or_else(PoisonError::into_inner)
                        .0;
                }
            }
        }
    }
}

#[derive(Debug, Default)]
struct Inner {
    level: AtomicU8,
    reason: Mutex<Option<CancelReason>>,
    /// Rung on every cancel; [`Cancel::sleep`] waits on it.
    bell: Bell,
    /// Other bells to ring on a cancel (a child's, while someone waits for it).
    watchers: Mutex<Vec<Weak<Bell>>>,
    /// The tasks of futures waiting for a cancel ([`Cancel::cancelled`]).
    wakers: Mutex<Vec<Waker>>,
}

/// A cancellation token; clones share it.
#[derive(Debug, Clone, Default)]
pub struct Cancel(Arc<Inner>);

/// Keeps a bell ringing on cancels until dropped.
#[must_use = "the bell is watched only while this lives"]
pub struct Watch<'c> {
    cancel: &'c Cancel,
    bell: Weak<Bell>,
}

impl Drop for Watch<'_> {
    fn drop(&mut self) {
        lock(&self.cancel.0.watchers).retain(|w| !w.ptr_eq(&self.bell) && w.strong_count() > 0);
    }
}

impl Cancel {
    /// A token that is not cancelled.
    pub fn new() -> Self {
        Self::default()
    }

    fn raise(&self, to: Level, reason: CancelReason) {
        {
            let mut r = lock(&self.0.reason);
            r.get_or_insert(reason);
            self.0.level.fetch_max(to as u8, Ordering::SeqCst);
        }
        self.0.bell.ring();
        let watchers: Vec<Arc<Bell>> = lock(&self.0.watchers)
            .iter()
            .filter_map(Weak::upgrade)
            .collect();
        for b in watchers {
            b.ring();
        }
        for w in std::mem::take(&mut *lock(&self.0.wakers)) {
            w.wake();
        }
    }

    /// Cancels gracefully; the first reason given is kept.
    pub fn cancel(&self, reason: CancelReason) {
        self.raise(Level::Graceful, reason);
    }

    /// Cancels at once: no more grace periods.
    pub fn force(&self) {
        self.raise(Level::Forced, CancelReason::Interrupted);
    }

    /// How far it has been cancelled.
    pub fn level(&self) -> Level {
        match self.0.level.load(Ordering::SeqCst) {
            0 => Level::None,
            1 => Level::Graceful,
            _ => Level::Forced,
        }
    }

    /// Whether cancelled at all.
    pub fn is_cancelled(&self) -> bool {
        self.level() > Level::None
    }

    /// Whether force-cancelled.
    pub fn is_forced(&self) -> bool {
        self.level() == Level::Forced
    }

    /// Why, if cancelled.
    pub fn reason(&self) -> Option<CancelReason> {
        *lock(&self.0.reason)
    }

    /// Rings `bell` on every cancel while the returned guard lives.
    pub fn watch(&self, bell: &Arc<Bell>) -> Watch<'_> {
        let weak = Arc::downgrade(bell);
        lock(&self.0.watchers).push(weak.clone());
        Watch {
            cancel: self,
            bell: weak,
        }
    }

    /// A future that completes when this is cancelled (at any level), woken by the cancel
    /// rather than polled.
    pub(crate) fn cancelled(&self) -> Cancelled<'_> {
        Cancelled {
            cancel: self,
            waker: None,
        }
    }

    /// Sleeps for `d` or until cancelled; returns true when cancelled.
    pub fn sleep(&self, d: Duration) -> bool {
        let deadline = Instant::now().checked_add(d);
        self.0.bell.wait_until(deadline, || self.is_cancelled())
    }

    /// Sleeps until `deadline` or until cancelled at `level` or beyond; returns true when
    /// cancelled.
    pub fn sleep_until(&self, deadline: Instant, level: Level) -> bool {
        self.0
            .bell
            .wait_until(Some(deadline), || self.level() >= level)
    }
}

/// See [`Cancel::cancelled`]; its task is forgotten when it is dropped.
pub(crate) struct Cancelled<'c> {
    cancel: &'c Cancel,
    waker: Option<Waker>,
}

impl std::future::Future for Cancelled<'_> {
    type Output = ();

    fn poll(mut self: std::pin::Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.waker.as_ref().is_none_or(|w| !w.will_wake(cx.waker())) {
            let mut wakers = lock(&self.cancel.0.wakers);
            if let Some(old) = &self.waker {
                wakers.retain(|w| !w.will_wake(old));
            }
            wakers.push(cx.waker().clone());
            drop(wakers);
            self.waker = Some(cx.waker().clone());
        }
        // Registered before looking: a cancel in between wakes the task.
        if self.cancel.is_cancelled() {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }
}

impl Drop for Cancelled<'_> {
    fn drop(&mut self) {
        if let Some(mine) = &self.waker {
            lock(&self.cancel.0.wakers).retain(|w| !w.will_wake(mine));
        }
    }
}

#[cfg(test)]
mod tests {
    use std::future::Future as _;

    use super::*;

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
        assert_eq!(c.level(), Level::Forced);
    }

    #[test]
    fn a_watched_bell_rings_on_cancel_and_not_after_the_watch() {
        let c = Cancel::new();
        let bell = Bell::new();
        let t = Instant::now();
        std::thread::scope(|s| {
            let watch = c.watch(&bell);
            s.spawn(|| {
                std::thread::sleep(Duration::from_millis(20));
                c.force();
            });
            let woke = bell.wait_until(Some(t + Duration::from_secs(10)), || c.is_forced());
            assert!(woke);
            drop(watch);
        });
        assert!(t.elapsed() < Duration::from_secs(5));
        assert!(c.0.watchers.lock().unwrap().is_empty());
        // A wait with a deadline and nothing to wake it ends at the deadline.
        let b = Bell::new();
        assert!(!b.wait_until(Some(Instant::now() + Duration::from_millis(10)), || false));
    }

    #[test]
    fn a_cancel_wakes_the_future_waiting_for_it_and_a_dropped_one_is_forgotten() {
        struct Unpark(std::thread::Thread);
        impl std::task::Wake for Unpark {
            fn wake(self: Arc<Self>) {
                self.0.unpark();
            }
        }
        let c = Cancel::new();
        let waker = Waker::from(Arc::new(Unpark(std::thread::current())));
        let mut cx = Context::from_waker(&waker);
        {
            let mut dropped = std::pin::pin!(c.cancelled());
            assert!(dropped.as_mut().poll(&mut cx).is_pending());
            assert!(dropped.as_mut().poll(&mut cx).is_pending());
            assert_eq!(c.0.wakers.lock().unwrap().len(), 1, "one task, once");
        }
        assert!(c.0.wakers.lock().unwrap().is_empty());
        let mut f = std::pin::pin!(c.cancelled());
        assert!(f.as_mut().poll(&mut cx).is_pending());
        let t = Instant::now();
        std::thread::scope(|s| {
            s.spawn(|| {
                std::thread::sleep(Duration::from_millis(20));
                c.cancel(CancelReason::Interrupted);
            });
            while f.as_mut().poll(&mut cx).is_pending() {
                std::thread::park_timeout(Duration::from_secs(10));
                assert!(t.elapsed() < Duration::from_secs(5), "never woken");
            }
        });
    }
}
