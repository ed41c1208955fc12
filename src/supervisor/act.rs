//! What `up` does to one component, in a worker thread: start it, recover it after it went
//! down, restart it in place, replace it (its configuration changed) or stop it, each
//! while holding the run lock (shared by `up`'s workers, so they run side by side while
//! another `tta` run waits for all of them), then wait for it to be ready with the start
//! scheduler and its probes, reporting each step.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use serde_json::json;

use super::printer::Printer;
use super::world::World;
use crate::cancel::Cancel;
use crate::driver::{Driver as _, Failure, Status, TAIL_LINES};
use crate::duration::{Human, seconds};
use crate::error::Error;
use crate::runner::{self, Event, Outcome, Reporter, StartOptions};
use crate::state::{RunLock, StateDir};

/// How long a worker waits for another run's lock.
const LOCK_WAIT: Duration = Duration::from_secs(300);

/// The run lock, held while any of `up`'s workers changes the stack and let go as soon as
/// none does, so `tta restart` in another shell gets its turn.
pub(super) struct SharedLock {
    state: StateDir,
    held: Mutex<(usize, Option<RunLock>)>,
}

/// One worker's share of the lock.
pub(super) struct Held<'l>(&'l SharedLock);

impl Drop for Held<'_> {
    fn drop(&mut self) {
        let mut h = self.0.held.lock().unwrap_or_else(PoisonError::into_inner);
        h.0 -= 1;
        if h.0 == 0 {
            h.1 = None;
        }
    }
}

impl SharedLock {
    pub(super) fn new(state: StateDir) -> Self {
        Self {
            state,
            held: Mutex::new((0, None)),
        }
    }

    /// Takes a share, waiting for another run to let go of the lock (a cancel ends the
    /// wait).
    pub(super) fn acquire(&self, cancel: &Cancel, printer: &Printer) -> Result<Held<'_>, Error> {
        let mut h = self.held.lock().unwrap_or_else(PoisonError::into_inner);
        if h.0 == 0 {
            let lock = self.state.lock(LOCK_WAIT, cancel, |holder| {
                printer.event(
                    "tta",
                    "waiting",
                    &format!("waiting for another tta run ({holder}) to finish with this stack"),
                    json!({}),
                );
            })?;
            h.1 = Some(lock);
        }
        h.0 += 1;
        Ok(Held(self))
    }
}

/// What a worker does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Act {
    /// Start it (it does not run).
    Start,
    /// It went down: clean up what is left, then start it (unless another run restarted
    /// or stopped it meanwhile).
    Recover,
    /// It runs: restart it in place (compose: `compose restart`).
    Restart,
    /// Its configuration changed: stop it, then start it as configured now.
    Replace,
    /// Stop it.
    Stop,
}

/// How a worker's action ended.
#[derive(Debug, Clone)]
pub(super) enum Done {
    /// Up and ready (a task: completed).
    Ready { completed: bool },
    /// Another `tta` run started it meanwhile: it runs, not by `up`'s hand.
    Adopted(String),
    /// Another `tta` run stopped it meanwhile.
    StoppedElsewhere,
    /// Stopped.
    Stopped,
    /// It failed.
    Failed(Failure),
    /// A cancel ended the action.
    Cancelled,
}

/// Runner events as `up`'s marked lines.
pub(super) struct Marks<'w> {
    pub(super) world: &'w World,
    pub(super) printer: &'w Printer,
}

impl Marks<'_> {
    fn say(&self, id: usize, event: &'static str, text: &str, fields: serde_json::Value) {
        self.printer
            .event(self.world.graph().name(id), event, text, fields);
    }

    fn finished(&self, r: &runner::ComponentResult) {
        let took = seconds(Duration::from_secs_f64(r.seconds()));
        let reason = r.reason.clone().unwrap_or_default();
        let (event, text) = match r.outcome {
            Outcome::Started if r.completed => ("completed", format!("completed in {took}")),
            Outcome::Started => ("ready", format!("ready in {took}")),
            Outcome::AlreadyRunning if r.completed => ("completed", "already completed".into()),
            Outcome::AlreadyRunning => ("ready", "already running".into()),
            Outcome::Stopped => ("stopped", format!("stopped in {took}")),
            Outcome::AlreadyStopped => ("stopped", "already stopped".into()),
            Outcome::Failed => ("failed", format!("failed: {reason}")),
            Outcome::TimedOut => ("timed_out", format!("timed out: {reason}")),
            Outcome::Blocked => ("blocked", format!("blocked: {reason}")),
            Outcome::Cancelled => ("cancelled", format!("cancelled: {reason}")),
        };
        self.say(
            r.id,
            event,
            &text,
            json!({"outcome": r.outcome, "seconds": r.seconds()}),
        );
        if let Some(f) = &r.failure {
            for line in f.log_tail.iter().rev().take(TAIL_LINES).rev() {
                self.say(
                    r.id,
                    "log_tail",
                    &format!("  {line}"),
                    json!({"line": line}),
                );
            }
        }
    }
}

impl Reporter for Marks<'_> {
    fn event(&self, event: &Event) {
        match event {
            Event::Waiting { id, on } => {
                let g = self.world.graph();
                let names: Vec<&str> = on.iter().map(|&d| g.name(d)).collect();
                self.say(
                    *id,
                    "waiting",
                    &format!("waiting on {}", names.join(", ")),
                    json!({"on": names}),
                );
            }
            Event::Starting { id, attempt } => {
                let text = if *attempt > 1 {
                    format!("starting (attempt {attempt})")
                } else {
                    "starting".to_owned()
                };
                self.say(*id, "starting", &text, json!({"attempt": attempt}));
            }
            Event::Retrying {
                id, delay, failure, ..
            } => self.say(
                *id,
                "retrying",
                &format!("retrying in {}: {}", Human(*delay), failure.message),
                json!({"delay_ms": delay.as_millis()}),
            ),
            Event::Probing { id, what } => {
                self.say(
                    *id,
                    "probing",
                    &format!("waiting for {what}"),
                    json!({"probe": what}),
                );
            }
            Event::Replacing { id } => {
                self.say(
                    *id,
                    "replacing",
                    "stopping: changed since it started",
                    json!({}),
                );
            }
            Event::Stopping { id } => self.say(*id, "stopping", "stopping", json!({})),
            Event::Finished(r) => self.finished(r),
        }
    }
}

/// Does `act` to `name` in `world`: holds the lock, acts, and (but for a stop) waits for
/// it to be ready with the start scheduler.
pub(super) fn perform(
    world: &World,
    name: &str,
    act: Act,
    lock: &SharedLock,
    cancel: &Cancel,
    printer: &Printer,
) -> Done {
    let Some(id) = world.id(name) else {
        return Done::Failed(Failure::new("it is no longer in the configuration"));
    };
    let _held = match lock.acquire(cancel, printer) {
        Ok(h) => h,
        Err(_) if cancel.is_cancelled() => return Done::Cancelled,
        Err(e) => return Done::Failed(Failure::new(crate::error::render(&e))),
    };
    let driver = &world.driver;
    let grace = world.policies[id].stop_timeout;
    match act {
        Act::Stop => {
            printer.event(name, "stopping", "stopping", json!({}));
            return match driver.stop(id, grace, cancel) {
                Ok(_) => {
                    printer.event(name, "stopped", "stopped", json!({}));
                    Done::Stopped
                }
                Err(e) => Done::Failed(e.failure),
            };
        }
        Act::Recover => {
            let seen = driver.observe(&[id]).pop().unwrap_or_default();
            let local = matches!(
                world.graph().kind(id),
                crate::config::model::Kind::Process | crate::config::model::Kind::Task
            );
            match seen.status() {
                Status::Running | Status::Starting => {
                    return Done::Adopted(seen.detail.unwrap_or_default());
                }
                Status::Stopped if local => return Done::StoppedElsewhere,
                _ => {
                    let _ = driver.stop(id, grace, cancel);
                }
            }
        }
        Act::Replace => {
            if let Err(e) = driver.stop(id, grace, cancel) {
                return Done::Failed(e.failure);
            }
        }
        Act::Restart => {
            printer.event(name, "restarting", "restarting now", json!({}));
            if let Err(e) = driver.restart(id, grace, cancel) {
                return Done::Failed(e.failure);
            }
        }
        Act::Start => {}
    }
    let g = world.graph();
    let mut sel = vec![false; g.len()];
    sel[id] = true;
    let opts = StartOptions {
        jobs: 1,
        timeout: None,
        fail_fast: false,
    };
    let marks = Marks { world, printer };
    let report = runner::start(g, &world.policies, driver, &sel, &opts, cancel, &marks);
    match report.results.iter().find(|r| r.id == id) {
        Some(r) if r.outcome.success() => Done::Ready {
            completed: r.completed,
        },
        Some(r) if r.outcome == Outcome::Cancelled => Done::Cancelled,
        Some(r) => Done::Failed(
            r.failure
                .clone()
                .unwrap_or_else(|| Failure::new(r.reason.clone().unwrap_or_default())),
        ),
        None => Done::Cancelled,
    }
}

/// What a supervised component's output prefix is: its name, shared between threads.
pub(super) fn name_arc(name: &str) -> Arc<str> {
    Arc::from(name)
}
