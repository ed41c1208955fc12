//! The readiness wait of one started component: the driver's own check (process alive,
//! container running and healthy, task exited), then the host probe, until ready, failed,
//! out of time (its `start_timeout` or the run's `--timeout`) or cancelled. What it gives
//! up on, it stops again, so nothing is left half-started.

use std::sync::mpsc::Sender;
use std::time::{Duration, Instant};

use super::events::Event;
use super::outcome::{ComponentResult, Outcome};
use super::shared::{Ctx, Found, Msg};
use crate::config::model::Probe;
use crate::driver::{Failure, Poll, TAIL_LINES, probe};
use crate::duration::Human;
use crate::graph::NodeId;

/// What one step of a wait came to.
enum Step {
    /// Look again at this instant.
    Again(Instant),
    /// The wait is over.
    Done(ComponentResult),
}

/// One component's wait, step by step.
struct Wait<'c, 'a> {
    ctx: &'c Ctx<'a>,
    id: NodeId,
    already: bool,
    /// It ran as configured before, and was stopped to start as now.
    restarted: bool,
    began: Duration,
    tx: &'c Sender<Msg>,
    /// When the wait began.
    t: Instant,
    deadline: Instant,
    last_error: Option<String>,
    last_detail: Option<String>,
    probe_failures: u32,
    next_probe: Instant,
}

impl Wait<'_, '_> {
    fn result(&self, outcome: Outcome, failure: Option<Failure>) -> ComponentResult {
        let mut r = ComponentResult::new(self.id, outcome, self.ctx.at());
        r.began = Some(self.began);
        r.reason = failure.as_ref().map(|f| f.message.clone());
        r.failure = failure;
        r
    }

    fn success(&self) -> ComponentResult {
        let mut r = self.result(
            if self.already {
                Outcome::AlreadyRunning
            } else {
                Outcome::Started
            },
            None,
        );
        r.restarted = self.restarted;
        r
    }

    /// Leaves nothing half-started behind, and keeps why it failed: a component whose start
    /// failed is stopped, whatever made it fail.
    fn give_up(&self, r: ComponentResult) -> ComponentResult {
        if !self.already {
            let grace = self.ctx.policies[self.id].stop_timeout;
            let _ = self.ctx.driver.stop(self.id, grace, self.ctx.cancel);
        }
        if let Some(f) = r
            .failure
            .as_ref()
            .filter(|_| r.outcome != Outcome::Cancelled)
        {
            self.ctx.driver.note_failure(self.id, f);
        }
        r
    }

    /// A probe passed: it counts only if the component itself still runs (something else
    /// may answer on its port).
    fn confirmed(&self) -> ComponentResult {
        match self.ctx.driver.poll(self.id) {
            Poll::Failed(f) => self.give_up(self.result(Outcome::Failed, Some(f))),
            _ => self.success(),
        }
    }

    fn failure(&self, message: String) -> Failure {
        Failure {
            log_tail: self.ctx.driver.log_tail(self.id, TAIL_LINES),
            ..Failure::new(message)
        }
    }

    fn tell(&self, what: String) {
        let _ = self
            .tx
            .send(Msg::Event(Event::Probing { id: self.id, what }));
    }

    fn timed_out(&self, now: Instant) -> ComponentResult {
        let start_timeout = self.ctx.policies[self.id].start_timeout;
        let why = self
            .last_error
            .as_deref()
            .or(self.last_detail.as_deref())
            .map(|e| format!(" (last: {e})"))
            .unwrap_or_default();
        let by_run = self.ctx.clock.deadline().is_some_and(|d| now >= d);
        let message = if by_run && self.t + start_timeout > now {
            format!("not ready when the run's --timeout passed{why}")
        } else {
            format!(
                "not ready within its start_timeout of {}{why}",
                Human(start_timeout)
            )
        };
        self.give_up(self.result(Outcome::TimedOut, Some(self.failure(message))))
    }

    /// One attempt of the probe when it is due. `Some` ends the wait.
    fn probe(&mut self, p: &Probe, now: Instant) -> Option<ComponentResult> {
        if self.probe_failures == 0 && self.last_error.is_none() && self.next_probe == self.t {
            self.tell(probe::describe(&p.check));
        }
        if now < self.next_probe {
            return None;
        }
        let budget = p.timeout.min(self.deadline.saturating_duration_since(now));
        let cwd = &self.ctx.policies[self.id].cwd;
        let what = probe::describe(&p.check);
        let e = match probe::check(&p.check, budget, cwd) {
            Ok(()) => {
                tracing::debug!("{}: probe {what}: ok", self.ctx.graph.name(self.id));
                return Some(self.confirmed());
            }
            Err(e) => e,
        };
        tracing::debug!("{}: probe {what}: {e}", self.ctx.graph.name(self.id));
        if self.t.elapsed() >= p.start_period {
            self.probe_failures += 1;
        }
        if p.retries.is_some_and(|r| self.probe_failures > r) {
            let message = format!("probe failed {} times: {e}", self.probe_failures);
            return Some(self.give_up(self.result(Outcome::Failed, Some(self.failure(message)))));
        }
        self.last_error = Some(e.to_string());
        self.next_probe = Instant::now() + p.interval;
        None
    }

    /// Polls the driver once (and probes when it is running).
    fn step(&mut self, now: Instant) -> Step {
        let next = now + self.ctx.driver.poll_interval(self.id);
        match self.ctx.driver.poll(self.id) {
            // It is down already: stop what it may have left behind, keep why.
            Poll::Failed(f) => Step::Done(self.give_up(self.result(Outcome::Failed, Some(f)))),
            Poll::Completed => {
                let mut r = self.success();
                r.completed = true;
                Step::Done(r)
            }
            Poll::Pending(detail) => {
                if detail.is_some() && detail != self.last_detail {
                    self.tell(detail.clone().unwrap_or_default());
                    self.last_detail = detail;
                }
                Step::Again(next)
            }
            Poll::Running => {
                let Some(p) = &self.ctx.policies[self.id].probe else {
                    return Step::Done(self.success());
                };
                if let Some(r) = self.probe(p, now) {
                    return Step::Done(r);
                }
                Step::Again(
                    next.min(self.next_probe)
                        .max(now + Duration::from_millis(1)),
                )
            }
        }
    }
}

/// Waits for a started component to be ready: the driver's own check, then the probe.
pub(super) fn readiness(
    ctx: &Ctx<'_>,
    id: NodeId,
    found: &Found,
    began: Duration,
    tx: &Sender<Msg>,
) -> ComponentResult {
    let t = Instant::now();
    let own = t + ctx.policies[id].start_timeout;
    let mut w = Wait {
        ctx,
        id,
        already: found.already[id],
        restarted: found.changed[id],
        began,
        tx,
        t,
        deadline: ctx.clock.deadline().map_or(own, |d| d.min(own)),
        last_error: None,
        last_detail: None,
        probe_failures: 0,
        next_probe: t,
    };
    loop {
        if ctx.cancel.is_cancelled() {
            return w.give_up(ctx.cancelled_result(id, Some(began)));
        }
        let now = Instant::now();
        if now >= w.deadline {
            return w.timed_out(now);
        }
        match w.step(now) {
            Step::Done(r) => return r,
            Step::Again(next) => {
                // The driver sleeps: an engine wakes the wait on its events.
                ctx.driver.wait(id, next.min(w.deadline), ctx.cancel);
            }
        }
    }
}
