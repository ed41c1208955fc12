//! The start scheduler.
//!
//! A component starts the moment its own dependencies satisfy their edge conditions (not in
//! waves), with at most `jobs` components in flight. Components that become ready to start
//! together and share a batch key (one compose project) go to the driver in one call.
//! A failure blocks only its transitive dependents; a failed component is attempted once,
//! whatever depends on it. Every wait is bounded by the component's `start_timeout` and by
//! the run's `--timeout`; cancellation stops what this run was starting.
//!
//! The main thread owns all scheduling state; workers report back over a channel.

use std::collections::BTreeMap;
use std::sync::mpsc;
use std::time::Duration;

use super::clock::RunClock;
use super::events::{Event, Reporter};
use super::outcome::{Action, ComponentResult, Outcome, RunReport};
use super::policy::ComponentPolicy;
use super::shared::{Ctx, Found, Msg};
use super::worker::worker;
use crate::cancel::{Cancel, CancelReason};
use crate::config::model::Condition;
use crate::driver::{BatchKey, Driver, Health, Status};
use crate::graph::{Graph, NodeId, Selection};

/// Options of a start run.
#[derive(Debug, Clone, Copy)]
pub(crate) struct StartOptions {
    /// Components in flight at most.
    pub jobs: usize,
    /// The whole run's time limit.
    pub timeout: Option<Duration>,
    /// Cancel everything on the first failure.
    pub fail_fast: bool,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum St {
    Waiting,
    InFlight,
    Done,
}

/// The scheduler's state; only the main thread touches it.
struct Board<'r> {
    graph: &'r Graph,
    selection: &'r Selection,
    reporter: &'r dyn Reporter,
    ids: Vec<NodeId>,
    st: Vec<St>,
    started: Vec<bool>,
    ready: Vec<bool>,
    completed: Vec<bool>,
    /// Terminal outcome and, for `blocked`, the root cause.
    outcome: Vec<Option<(Outcome, Option<NodeId>)>>,
    announced: Vec<bool>,
    found: Found,
    results: Vec<ComponentResult>,
}

/// What a waiting component can do now.
enum Next {
    Go,
    Wait(Vec<NodeId>),
    Blocked(NodeId, String),
}

impl<'r> Board<'r> {
    fn new(graph: &'r Graph, selection: &'r Selection, reporter: &'r dyn Reporter) -> Self {
        let n = graph.len();
        Self {
            graph,
            selection,
            reporter,
            ids: graph
                .start_order()
                .iter()
                .copied()
                .filter(|&i| selection[i])
                .collect(),
            st: vec![St::Done; n],
            started: vec![false; n],
            ready: vec![false; n],
            completed: vec![false; n],
            outcome: vec![None; n],
            announced: vec![false; n],
            found: Found {
                already: vec![false; n],
                changed: vec![false; n],
            },
            results: Vec::new(),
        }
    }

    fn finish(&mut self, r: ComponentResult) {
        let id = r.id;
        let name = self.graph.name(id);
        match (r.outcome, r.reason.as_deref()) {
            (Outcome::AlreadyRunning, _) => tracing::info!("{name}: already up; nothing to do"),
            (Outcome::Blocked, Some(why)) => tracing::info!("{name}: not started: {why}"),
            (o, why) => tracing::debug!(
                "{name}: {}{}",
                o.as_str(),
                why.map(|w| format!(" ({w})")).unwrap_or_default()
            ),
        }
        self.st[id] = St::Done;
        self.outcome[id] = Some((r.outcome, r.blocked_by));
        if r.outcome.success() {
            (self.started[id], self.ready[id], self.completed[id]) = (true, true, r.completed);
        }
        self.reporter.event(&Event::Finished(r.clone()));
        self.results.push(r);
    }

    /// Marks what is up already: no start action needed (a probe may still need to pass).
    fn take_stock(&mut self, ctx: &Ctx<'_>, driver: &dyn Driver) {
        let observed = driver.observe(&self.ids);
        for (i, o) in observed.iter().enumerate() {
            let id = self.ids[i];
            self.st[id] = St::Waiting;
            let healthy = matches!(o.health, None | Some(Health::Healthy));
            let done = match o.status() {
                // Its start action runs again (and decides what to change).
                Status::Running | Status::Starting if o.refresh => None,
                Status::Running | Status::Starting if o.changed => {
                    self.found.changed[id] = true;
                    None
                }
                Status::Completed => Some(true),
                Status::Running if healthy && ctx.policies[id].probe.is_none() => Some(false),
                Status::Running | Status::Starting => {
                    self.found.already[id] = true;
                    None
                }
                _ => None,
            };
            if let Some(completed) = done {
                let mut r = ComponentResult::new(id, Outcome::AlreadyRunning, ctx.at());
                r.completed = completed;
                self.finish(r);
            } else if self.found.changed[id] {
                tracing::info!(
                    "{}: changed since it started; it will be restarted",
                    self.graph.name(id)
                );
            }
        }
        let order: Vec<&str> = self.ids.iter().map(|&i| self.graph.name(i)).collect();
        tracing::info!(
            "plan: start {} component(s) in this order where the graph allows: {}",
            order.len(),
            order.join(", ")
        );
    }

    /// Whether a waiting component can go, must wait, or is blocked.
    fn next(&self, id: NodeId) -> Next {
        let g = self.graph;
        let mut waiting_on = Vec::new();
        for e in g.deps(id) {
            if !self.selection[e.to] {
                continue;
            }
            if let Some((o, by)) = self.outcome[e.to]
                && !o.success()
            {
                if !e.required {
                    continue;
                }
                let root = by.unwrap_or(e.to);
                let root_outcome = self.outcome[root].map_or(o, |(ro, _)| ro);
                return Next::Blocked(
                    root,
                    format!("dependency {} {}", g.name(root), failed_word(root_outcome)),
                );
            }
            let ok = match e.condition {
                Condition::Started => self.started[e.to],
                Condition::Healthy => self.ready[e.to],
                Condition::CompletedSuccessfully => self.completed[e.to],
            };
            if ok {
                continue;
            }
            if self.outcome[e.to].is_some() {
                // Up, but it can never satisfy this edge (a service that runs on).
                if !e.required {
                    continue;
                }
                return Next::Blocked(
                    e.to,
                    format!(
                        "{} is up but does not complete, and {} waits for it to complete",
                        g.name(e.to),
                        g.name(id)
                    ),
                );
            }
            waiting_on.push(e.to);
        }
        if waiting_on.is_empty() {
            Next::Go
        } else {
            Next::Wait(waiting_on)
        }
    }

    /// Settles what can be settled and returns the operations that may be launched (up to
    /// `room`): components that share a driver batch key go together, as one operation.
    fn pass(&mut self, ctx: &Ctx<'_>, driver: &dyn Driver, room: usize) -> Vec<Vec<NodeId>> {
        let mut launch: Vec<Vec<NodeId>> = Vec::new();
        let mut batches: BTreeMap<BatchKey, usize> = BTreeMap::new();
        for i in 0..self.ids.len() {
            let id = self.ids[i];
            if self.st[id] != St::Waiting {
                continue;
            }
            if ctx.cancel.is_cancelled() {
                self.finish(ctx.cancelled_result(id, None));
                continue;
            }
            match self.next(id) {
                Next::Blocked(root, reason) => {
                    let mut r = ComponentResult::new(id, Outcome::Blocked, ctx.at());
                    r.reason = Some(reason);
                    r.blocked_by = Some(root);
                    self.finish(r);
                }
                Next::Go => {
                    let key = if self.found.already[id] {
                        None
                    } else {
                        driver.batch_key(id)
                    };
                    match key.as_ref().and_then(|k| batches.get(k)) {
                        Some(&group) => launch[group].push(id),
                        None if launch.len() < room => {
                            if let Some(k) = key {
                                batches.insert(k, launch.len());
                            }
                            launch.push(vec![id]);
                        }
                        None => {}
                    }
                }
                Next::Wait(on) => {
                    if !self.announced[id] {
                        self.announced[id] = true;
                        self.reporter.event(&Event::Waiting { id, on });
                    }
                }
            }
        }
        launch
    }

    fn all_done(&self) -> bool {
        self.ids.iter().all(|&i| self.st[i] == St::Done)
    }
}

/// Starts the selected components. Dependencies outside the selection count as satisfied
/// (that is `--no-deps`).
pub(crate) fn start(
    graph: &Graph,
    policies: &[ComponentPolicy],
    driver: &dyn Driver,
    selection: &Selection,
    opts: &StartOptions,
    cancel: &Cancel,
    reporter: &dyn Reporter,
) -> RunReport {
    let ctx = Ctx {
        graph,
        policies,
        driver,
        cancel,
        clock: RunClock::start(opts.timeout),
    };
    let n = graph.len();
    driver.set_deadline(ctx.clock.deadline());
    let mut b = Board::new(graph, selection, reporter);
    b.take_stock(&ctx, driver);
    let (tx, rx) = mpsc::channel::<Msg>();
    std::thread::scope(|scope| {
        let mut inflight = 0usize;
        let mut group_of = vec![0usize; n];
        let mut groups_left: Vec<usize> = Vec::new();
        loop {
            // One job is one operation: a batch (one compose call) counts once.
            for group in b.pass(&ctx, driver, opts.jobs.saturating_sub(inflight)) {
                if group.len() > 1 {
                    let names: Vec<&str> = group.iter().map(|&i| graph.name(i)).collect();
                    tracing::info!("starting {} together, in one call", names.join(", "));
                }
                inflight += 1;
                for &id in &group {
                    b.st[id] = St::InFlight;
                    group_of[id] = groups_left.len();
                }
                groups_left.push(group.len());
                let tx = tx.clone();
                let (ctx, found) = (&ctx, b.found.clone());
                scope.spawn(move || worker(ctx, &group, &found, &tx));
            }
            if inflight == 0 && (b.all_done() || !b.ids.iter().any(|&i| b.st[i] == St::Waiting)) {
                break;
            }
            match ctx.clock.recv(&rx, cancel) {
                None => {}
                Some(Msg::Event(e)) => {
                    tracing::trace!("event: {e:?}");
                    reporter.event(&e);
                }
                Some(Msg::Started(id)) => b.started[id] = true,
                Some(Msg::Done(r)) => {
                    let g = group_of[r.id];
                    groups_left[g] -= 1;
                    if groups_left[g] == 0 {
                        inflight -= 1;
                    }
                    if !r.outcome.success() && opts.fail_fast {
                        cancel.cancel(CancelReason::FailFast);
                    }
                    b.finish(r);
                }
            }
        }
    });
    RunReport {
        action: Action::Start,
        results: b.results,
        elapsed: ctx.clock.at(),
        interrupted: cancel.reason() == Some(CancelReason::Interrupted),
        environment: Vec::new(),
        leftovers: Vec::new(),
        stopped: Vec::new(),
    }
}

fn failed_word(o: Outcome) -> &'static str {
    match o {
        Outcome::TimedOut => "timed out",
        Outcome::Cancelled => "was cancelled",
        _ => "failed",
    }
}
