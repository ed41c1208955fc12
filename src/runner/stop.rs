//! The stop scheduler: reverse dependency order, in parallel where the graph allows.
//!
//! A component stops once every component in the stop set that depends on it has stopped.
//! Components found stopped cost nothing (`already_stopped`). With `include_dependents`,
//! the running components that depend on a target are stopped first and reported too.

use std::sync::mpsc;
use std::time::{Duration, Instant};

use super::events::{Event, Reporter};
use super::outcome::{Action, ComponentResult, Outcome, RunReport};
use super::policy::ComponentPolicy;
use crate::cancel::{Cancel, CancelReason};
use crate::driver::{Driver, Status, StopOutcome};
use crate::graph::{Graph, NodeId, Selection};

/// Options of a stop run.
#[derive(Debug, Clone, Copy)]
pub struct StopOptions {
    /// Components stopping at once, at most.
    pub jobs: usize,
    /// The whole run's time limit.
    pub timeout: Option<Duration>,
    /// Also stop the running components that depend on the targets.
    pub include_dependents: bool,
}

/// Stops the targets (and their running dependents).
#[expect(
    clippy::too_many_lines,
    reason = "one scheduling loop, read top to bottom"
)]
pub fn stop(
    graph: &Graph,
    settings: &[ComponentPolicy],
    driver: &dyn Driver,
    targets: &Selection,
    opts: &StopOptions,
    cancel: &Cancel,
    reporter: &dyn Reporter,
) -> RunReport {
    let t0 = Instant::now();
    let n = graph.len();
    let wide = if opts.include_dependents {
        graph.with_dependents(targets)
    } else {
        targets.clone()
    };
    let candidates: Vec<NodeId> = graph
        .start_order()
        .iter()
        .rev()
        .copied()
        .filter(|&i| wide[i])
        .collect();
    let observed = driver.observe(&candidates);
    let mut in_set = vec![false; n];
    let mut done = vec![true; n];
    let mut results = Vec::new();
    let mut waiting = Vec::new();
    for (&id, o) in candidates.iter().zip(&observed) {
        let stopped = o.status() == Status::Stopped;
        if stopped && !targets[id] {
            continue; // a dependent that is not running: not part of this stop
        }
        in_set[id] = true;
        if stopped {
            let r = ComponentResult::new(id, Outcome::AlreadyStopped, t0.elapsed());
            reporter.event(&Event::Finished(r.clone()));
            results.push(r);
        } else {
            done[id] = false;
            waiting.push(id);
        }
    }
    let deadline = opts.timeout.map(|t| t0 + t);
    let (tx, rx) = mpsc::channel::<ComponentResult>();
    std::thread::scope(|scope| {
        let mut inflight = 0usize;
        let mut launched = vec![false; n];
        loop {
            let mut i = 0;
            while i < waiting.len() {
                let id = waiting[i];
                if cancel.is_cancelled() {
                    let mut r = ComponentResult::new(id, Outcome::Cancelled, t0.elapsed());
                    if cancel.reason() == Some(CancelReason::Timeout) {
                        r.outcome = Outcome::TimedOut;
                        r.reason = Some("the run's --timeout passed".into());
                    } else {
                        r.reason = Some("interrupted".into());
                    }
                    done[id] = true;
                    reporter.event(&Event::Finished(r.clone()));
                    results.push(r);
                    waiting.remove(i);
                    continue;
                }
                let free = graph.dependents(id).iter().all(|&d| !in_set[d] || done[d]);
                if free && inflight < opts.jobs && !launched[id] {
                    launched[id] = true;
                    inflight += 1;
                    waiting.remove(i);
                    reporter.event(&Event::Stopping { id });
                    let tx = tx.clone();
                    let grace = settings[id].stop_timeout;
                    scope.spawn(move || {
                        let began = t0.elapsed();
                        let mut r = match driver.stop(id, grace, cancel) {
                            Ok(StopOutcome::Stopped) => {
                                ComponentResult::new(id, Outcome::Stopped, t0.elapsed())
                            }
                            Ok(StopOutcome::AlreadyStopped) => {
                                ComponentResult::new(id, Outcome::AlreadyStopped, t0.elapsed())
                            }
                            Err(e) => {
                                let mut r = ComponentResult::new(id, Outcome::Failed, t0.elapsed());
                                r.reason = Some(e.failure.message.clone());
                                r.failure = Some(e.failure);
                                r
                            }
                        };
                        r.began = Some(began);
                        let _ = tx.send(r);
                    });
                    continue;
                }
                i += 1;
            }
            if inflight == 0 && waiting.is_empty() {
                break;
            }
            let wait = deadline.map_or(Duration::from_millis(50), |d| {
                d.saturating_duration_since(Instant::now())
                    .min(Duration::from_millis(50))
            });
            match rx.recv_timeout(wait) {
                Ok(r) => {
                    inflight -= 1;
                    done[r.id] = true;
                    reporter.event(&Event::Finished(r.clone()));
                    results.push(r);
                }
                Err(_) => {
                    if deadline.is_some_and(|d| Instant::now() >= d) {
                        cancel.cancel(CancelReason::Timeout);
                    }
                }
            }
        }
    });
    RunReport {
        action: Action::Stop,
        results,
        elapsed: t0.elapsed(),
        interrupted: cancel.reason() == Some(CancelReason::Interrupted),
    }
}
