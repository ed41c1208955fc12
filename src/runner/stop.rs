//! The stop scheduler: reverse dependency order, in parallel where the graph allows.
//!
//! A component stops once every component in the stop set that depends on it has stopped.
//! Components that become free to stop together and share a driver batch key (one compose
//! project) stop in one driver call, as start does. Components found stopped cost nothing
//! (`already_stopped`). With `include_dependents`,
//! the running components that depend on a target are stopped first and reported too.

use std::sync::mpsc::{self, Sender};
use std::time::Duration;

use super::clock::RunClock;
use super::events::{Event, Reporter};
use super::outcome::{Action, ComponentResult, Outcome, RunReport};
use super::policy::ComponentPolicy;
use crate::cancel::{Cancel, CancelReason};
use crate::driver::{Driver, Status, StopOutcome};
use crate::graph::{Graph, NodeId, Selection};

/// Options of a stop run.
#[derive(Debug, Clone, Copy)]
pub(crate) struct StopOptions {
    /// Components stopping at once, at most.
    pub jobs: usize,
    /// The whole run's time limit.
    pub timeout: Option<Duration>,
    /// Also stop the running components that depend on the targets.
    pub include_dependents: bool,
}

/// The stop set and what is left of it; only the scheduling thread touches it.
struct Board<'r> {
    graph: &'r Graph,
    reporter: &'r dyn Reporter,
    in_set: Vec<bool>,
    done: Vec<bool>,
    /// In the set, not yet launched, in reverse start order.
    waiting: Vec<NodeId>,
    inflight: usize,
    results: Vec<ComponentResult>,
}

impl Board<'_> {
    fn finish(&mut self, r: ComponentResult) {
        self.done[r.id] = true;
        self.reporter.event(&Event::Finished(r.clone()));
        self.results.push(r);
    }

    /// Observes the candidates: what is stopped already is done (and reported when it is a
    /// target); the rest waits for its turn.
    fn take_stock(
        &mut self,
        driver: &dyn Driver,
        targets: &Selection,
        wide: &Selection,
        clock: &RunClock,
    ) {
        let candidates: Vec<NodeId> = self
            .graph
            .start_order()
            .iter()
            .rev()
            .copied()
            .filter(|&i| wide[i])
            .collect();
        for (&id, o) in candidates.iter().zip(driver.observe(&candidates)) {
            let stopped = o.status() == Status::Stopped;
            if stopped && !targets[id] {
                continue; // a dependent that is not running: not part of this stop
            }
            self.in_set[id] = true;
            if stopped {
                self.finish(ComponentResult::new(
                    id,
                    Outcome::AlreadyStopped,
                    clock.at(),
                ));
            } else {
                self.done[id] = false;
                self.waiting.push(id);
            }
        }
        let order: Vec<&str> = self.waiting.iter().map(|&i| self.graph.name(i)).collect();
        tracing::info!(
            "plan: stop {} component(s), dependents first: {}",
            order.len(),
            order.join(", ")
        );
    }

    /// Whether everything in the set that depends on `id` has stopped.
    fn free(&self, id: NodeId) -> bool {
        self.graph
            .dependents(id)
            .iter()
            .all(|&d| !self.in_set[d] || self.done[d])
    }

    /// The components that may stop now, grouped by batch key (up to `jobs` groups in
    /// flight); after a cancel, what is still waiting is reported cancelled instead.
    fn launchable(
        &mut self,
        jobs: usize,
        driver: &dyn Driver,
        clock: &RunClock,
        cancel: &Cancel,
    ) -> Vec<Vec<NodeId>> {
        if cancel.is_cancelled() {
            for id in std::mem::take(&mut self.waiting) {
                let mut r = clock.cancelled(id, cancel, None);
                if cancel.reason() != Some(CancelReason::Timeout) {
                    r.reason = Some("interrupted".into());
                }
                self.finish(r);
            }
            return Vec::new();
        }
        let mut launch: Vec<Vec<NodeId>> = Vec::new();
        let mut i = 0;
        while i < self.waiting.len() {
            let id = self.waiting[i];
            let key = driver.batch_key(id);
            let group = key.and_then(|k| {
                launch
                    .iter()
                    .position(|g| driver.batch_key(g[0]) == Some(k))
            });
            if !self.free(id) {
                i += 1;
            } else if let Some(g) = group {
                launch[g].push(self.waiting.remove(i));
            } else if self.inflight + launch.len() < jobs {
                launch.push(vec![self.waiting.remove(i)]);
            } else {
                i += 1;
            }
        }
        launch
    }
}

/// Stops a group of components (in a worker, one driver call) and sends their results.
fn stop_group(
    driver: &dyn Driver,
    group: &[NodeId],
    grace: Duration,
    cancel: &Cancel,
    clock: &RunClock,
    tx: &Sender<ComponentResult>,
) {
    let began = clock.at();
    let results = if let [id] = group {
        vec![driver.stop(*id, grace, cancel)]
    } else {
        driver.stop_batch(group, grace, cancel)
    };
    for (&id, res) in group.iter().zip(results) {
        stop_result(id, res, began, clock, tx);
    }
}

fn stop_result(
    id: NodeId,
    res: Result<StopOutcome, crate::driver::ActionError>,
    began: Duration,
    clock: &RunClock,
    tx: &Sender<ComponentResult>,
) {
    let mut r = match res {
        Ok(StopOutcome::Stopped) => ComponentResult::new(id, Outcome::Stopped, clock.at()),
        Ok(StopOutcome::AlreadyStopped) => {
            ComponentResult::new(id, Outcome::AlreadyStopped, clock.at())
        }
        Err(e) => {
            let mut r = ComponentResult::new(id, Outcome::Failed, clock.at());
            r.reason = Some(e.failure.message.clone());
            r.failure = Some(e.failure);
            r
        }
    };
    r.began = Some(began);
    let _ = tx.send(r);
}

/// Stops the targets (and their running dependents).
pub(crate) fn stop(
    graph: &Graph,
    policies: &[ComponentPolicy],
    driver: &dyn Driver,
    targets: &Selection,
    opts: &StopOptions,
    cancel: &Cancel,
    reporter: &dyn Reporter,
) -> RunReport {
    let clock = RunClock::start(opts.timeout);
    let n = graph.len();
    let wide = if opts.include_dependents {
        graph.with_dependents(targets)
    } else {
        targets.clone()
    };
    let mut b = Board {
        graph,
        reporter,
        in_set: vec![false; n],
        done: vec![true; n],
        waiting: Vec::new(),
        inflight: 0,
        results: Vec::new(),
    };
    driver.set_deadline(clock.deadline());
    b.take_stock(driver, targets, &wide, &clock);
    let (tx, rx) = mpsc::channel::<ComponentResult>();
    // How many results each group in flight still owes; a group is one job.
    let mut owed: Vec<usize> = Vec::new();
    let mut group_of = vec![0usize; n];
    std::thread::scope(|scope| {
        loop {
            for group in b.launchable(opts.jobs, driver, &clock, cancel) {
                b.inflight += 1;
                for &id in &group {
                    reporter.event(&Event::Stopping { id });
                    group_of[id] = owed.len();
                }
                owed.push(group.len());
                let (tx, clock) = (tx.clone(), &clock);
                let grace = group
                    .iter()
                    .map(|&id| policies[id].stop_timeout)
                    .max()
                    .unwrap_or_default();
                scope.spawn(move || stop_group(driver, &group, grace, cancel, clock, &tx));
            }
            if b.inflight == 0 && b.waiting.is_empty() {
                break;
            }
            if let Some(r) = clock.recv(&rx, cancel) {
                let g = group_of[r.id];
                owed[g] -= 1;
                if owed[g] == 0 {
                    b.inflight -= 1;
                }
                b.finish(r);
            }
        }
    });
    RunReport {
        action: Action::Stop,
        results: b.results,
        elapsed: clock.at(),
        interrupted: cancel.reason() == Some(CancelReason::Interrupted),
        environment: Vec::new(),
        leftovers: Vec::new(),
        stopped: Vec::new(),
    }
}
