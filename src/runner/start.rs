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
use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::time::{Duration, Instant};

use super::events::{Event, Reporter};
use super::outcome::{Action, ComponentResult, Outcome, RunReport};
use super::policy::ComponentPolicy;
use crate::cancel::{Cancel, CancelReason};
use crate::config::model::Condition;
use crate::driver::{BatchKey, Driver, Failure, Health, Poll, Status, probe};
use crate::duration::Human;
use crate::graph::{Graph, NodeId, Selection};
use crate::process::retry::{Attempt, GaveUp, retry};

/// Options of a start run.
#[derive(Debug, Clone, Copy)]
pub struct StartOptions {
    /// Components in flight at most.
    pub jobs: usize,
    /// The whole run's time limit.
    pub timeout: Option<Duration>,
    /// Cancel everything on the first failure.
    pub fail_fast: bool,
}

enum Msg {
    Event(Event),
    Started(NodeId),
    Done(ComponentResult),
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum St {
    Waiting,
    InFlight,
    Done,
}

struct Ctx<'a> {
    settings: &'a [ComponentPolicy],
    driver: &'a dyn Driver,
    cancel: &'a Cancel,
    t0: Instant,
    run_deadline: Option<Instant>,
}

impl Ctx<'_> {
    fn at(&self) -> Duration {
        self.t0.elapsed()
    }

    fn cancelled_result(&self, id: NodeId, began: Option<Duration>) -> ComponentResult {
        let mut r = ComponentResult::new(id, Outcome::Cancelled, self.at());
        r.began = began;
        match self.cancel.reason() {
            Some(CancelReason::Timeout) => {
                r.outcome = Outcome::TimedOut;
                r.reason = Some("the run's --timeout passed".into());
            }
            Some(CancelReason::FailFast) => {
                r.reason = Some("cancelled by --fail-fast after a failure".into());
            }
            _ => r.reason = Some("interrupted".into()),
        }
        r
    }
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
    already: Vec<bool>,
    results: Vec<ComponentResult>,
}

/// What a waiting component can do now.
enum Next {
    Go,
    Wait(Vec<NodeId>),
    Blocked(NodeId, String),
}

impl Board<'_> {
    fn finish(&mut self, r: ComponentResult) {
        let id = r.id;
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
                Status::Completed => Some(true),
                Status::Running if healthy && ctx.settings[id].probe.is_none() => Some(false),
                Status::Running | Status::Starting => {
                    self.already[id] = true;
                    None
                }
                _ => None,
            };
            if let Some(completed) = done {
                let mut r = ComponentResult::new(id, Outcome::AlreadyRunning, ctx.at());
                r.completed = completed;
                self.finish(r);
            }
        }
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
                    let key = if self.already[id] {
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
pub fn start(
    graph: &Graph,
    settings: &[ComponentPolicy],
    driver: &dyn Driver,
    selection: &Selection,
    opts: &StartOptions,
    cancel: &Cancel,
    reporter: &dyn Reporter,
) -> RunReport {
    let t0 = Instant::now();
    let ctx = Ctx {
        settings,
        driver,
        cancel,
        t0,
        run_deadline: opts.timeout.map(|t| t0 + t),
    };
    let n = graph.len();
    let mut b = Board {
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
        already: vec![false; n],
        results: Vec::new(),
    };
    b.take_stock(&ctx, driver);
    let (tx, rx) = mpsc::channel::<Msg>();
    std::thread::scope(|scope| {
        let mut inflight = 0usize;
        let mut group_of = vec![0usize; n];
        let mut groups_left: Vec<usize> = Vec::new();
        loop {
            // One job is one operation: a batch (one compose call) counts once.
            for group in b.pass(&ctx, driver, opts.jobs.saturating_sub(inflight)) {
                inflight += 1;
                for &id in &group {
                    b.st[id] = St::InFlight;
                    group_of[id] = groups_left.len();
                }
                groups_left.push(group.len());
                let tx = tx.clone();
                let (ctx, already) = (&ctx, b.already.clone());
                scope.spawn(move || worker(ctx, &group, &already, &tx));
            }
            if inflight == 0 && (b.all_done() || !b.ids.iter().any(|&i| b.st[i] == St::Waiting)) {
                break;
            }
            let wait = ctx.run_deadline.map_or(Duration::from_millis(50), |d| {
                d.saturating_duration_since(Instant::now())
                    .min(Duration::from_millis(50))
            });
            match rx.recv_timeout(wait) {
                Ok(Msg::Event(e)) => reporter.event(&e),
                Ok(Msg::Started(id)) => b.started[id] = true,
                Ok(Msg::Done(r)) => {
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
                Err(RecvTimeoutError::Timeout) => {
                    if ctx.run_deadline.is_some_and(|d| Instant::now() >= d) {
                        cancel.cancel(CancelReason::Timeout);
                    }
                }
                Err(RecvTimeoutError::Disconnected) => unreachable!("the scheduler holds a sender"),
            }
        }
    });
    RunReport {
        action: Action::Start,
        results: b.results,
        elapsed: t0.elapsed(),
        interrupted: cancel.reason() == Some(CancelReason::Interrupted),
    }
}

fn failed_word(o: Outcome) -> &'static str {
    match o {
        Outcome::TimedOut => "timed out",
        Outcome::Cancelled => "was cancelled",
        _ => "failed",
    }
}

/// Starts a group (one driver call), then waits for each member to become ready.
fn worker(ctx: &Ctx<'_>, group: &[NodeId], already: &[bool], tx: &Sender<Msg>) {
    let began = ctx.at();
    let send = |m: Msg| {
        let _ = tx.send(m);
    };
    let failed = |id: NodeId, failure: Failure| {
        let mut r = ComponentResult::new(id, Outcome::Failed, ctx.at());
        r.began = Some(began);
        r.reason = Some(failure.message.clone());
        r.failure = Some(failure);
        send(Msg::Done(r));
    };
    let mut to_wait: Vec<NodeId> = group.iter().copied().filter(|&i| already[i]).collect();
    let mut pending: Vec<NodeId> = group.iter().copied().filter(|&i| !already[i]).collect();
    let policy = pending.first().map(|&id| ctx.settings[id].retry.policy());
    let attempts = |attempt: u32| {
        if pending.is_empty() {
            return Attempt::Done(());
        }
        for &id in &pending {
            send(Msg::Event(Event::Starting { id, attempt }));
        }
        let outcomes = if pending.len() == 1 {
            vec![ctx.driver.start(pending[0], ctx.cancel)]
        } else {
            ctx.driver.start_batch(&pending, ctx.cancel)
        };
        let mut again: Vec<(NodeId, Failure)> = Vec::new();
        for (&id, res) in pending.iter().zip(outcomes) {
            match res {
                Ok(()) => {
                    send(Msg::Started(id));
                    to_wait.push(id);
                }
                Err(e) if e.transient && !ctx.cancel.is_cancelled() => again.push((id, e.failure)),
                Err(e) => failed(id, e.failure),
            }
        }
        pending = again.iter().map(|(id, _)| *id).collect();
        if again.is_empty() {
            Attempt::Done(())
        } else {
            Attempt::Retry(again)
        }
    };
    let announce = |attempt: u32, delay: Duration, again: &Vec<(NodeId, Failure)>| {
        for (id, failure) in again {
            send(Msg::Event(Event::Retrying {
                id: *id,
                attempt,
                delay,
                failure: failure.clone(),
            }));
        }
    };
    if let Some(policy) = policy {
        match retry(policy, Some(ctx.cancel), attempts, announce) {
            Ok(()) => {}
            Err(GaveUp::Failed(again)) => {
                for (id, failure) in again {
                    failed(id, failure);
                }
            }
            Err(GaveUp::Cancelled(again)) => {
                for (id, _) in again {
                    send(Msg::Done(ctx.cancelled_result(id, Some(began))));
                }
                return;
            }
        }
    }
    if to_wait.len() == 1 {
        send(Msg::Done(readiness(
            ctx,
            to_wait[0],
            already[to_wait[0]],
            began,
            tx,
        )));
    } else {
        std::thread::scope(|s| {
            for &id in &to_wait {
                s.spawn(move || send(Msg::Done(readiness(ctx, id, already[id], began, tx))));
            }
        });
    }
}

/// Waits for a started component to be ready: the driver's own check, then the probe.
#[expect(
    clippy::too_many_lines,
    reason = "one loop with the readiness rules in order"
)]
fn readiness(
    ctx: &Ctx<'_>,
    id: NodeId,
    already: bool,
    began: Duration,
    tx: &Sender<Msg>,
) -> ComponentResult {
    let s = &ctx.settings[id];
    let t = Instant::now();
    let deadline = ctx
        .run_deadline
        .map_or(t + s.start_timeout, |d| d.min(t + s.start_timeout));
    let interval = ctx.driver.poll_interval(id);
    let success = if already {
        Outcome::AlreadyRunning
    } else {
        Outcome::Started
    };
    let mut last_error: Option<String> = None;
    let mut last_detail: Option<String> = None;
    let mut probe_failures = 0u32;
    let mut next_probe = t;
    let result = |outcome: Outcome, reason: Option<String>, failure: Option<Failure>| {
        let mut r = ComponentResult::new(id, outcome, ctx.at());
        r.began = Some(began);
        r.reason = reason;
        r.failure = failure;
        r
    };
    let give_up = |r: ComponentResult| {
        if !already {
            // Leave nothing half-started behind.
            let _ = ctx.driver.stop(id, s.stop_timeout, ctx.cancel);
        }
        r
    };
    loop {
        if ctx.cancel.is_cancelled() {
            return give_up(ctx.cancelled_result(id, Some(began)));
        }
        let now = Instant::now();
        if now >= deadline {
            let why = last_error
                .as_deref()
                .or(last_detail.as_deref())
                .map(|e| format!(" (last: {e})"))
                .unwrap_or_default();
            let msg = if ctx.run_deadline.is_some_and(|d| now >= d) && t + s.start_timeout > now {
                format!("not ready when the run's --timeout passed{why}")
            } else {
                format!(
                    "not ready within its start_timeout of {}{why}",
                    Human(s.start_timeout)
                )
            };
            let failure = Failure {
                message: msg.clone(),
                exit_code: None,
                log_tail: ctx.driver.log_tail(id, crate::driver::TAIL_LINES),
                environment: None,
            };
            return give_up(result(Outcome::TimedOut, Some(msg), Some(failure)));
        }
        let mut sleep_until = now + interval;
        match ctx.driver.poll(id) {
            Poll::Failed(f) => {
                // It is down already; its record stays, so `tta status` shows the error.
                return result(Outcome::Failed, Some(f.message.clone()), Some(f));
            }
            Poll::Completed => {
                let mut r = result(success, None, None);
                r.completed = true;
                return r;
            }
            Poll::Pending(detail) => {
                if detail.is_some() && detail != last_detail {
                    let _ = tx.send(Msg::Event(Event::Probing {
                        id,
                        what: detail.clone().unwrap_or_default(),
                    }));
                    last_detail = detail;
                }
            }
            Poll::Running => {
                let Some(p) = &s.probe else {
                    return result(success, None, None);
                };
                if probe_failures == 0 && last_error.is_none() && next_probe == t {
                    let _ = tx.send(Msg::Event(Event::Probing {
                        id,
                        what: probe::describe(&p.check),
                    }));
                }
                if now >= next_probe {
                    let budget = p.timeout.min(deadline.saturating_duration_since(now));
                    match probe::check(&p.check, budget, &s.cwd) {
                        Ok(()) => return result(success, None, None),
                        Err(e) => {
                            if t.elapsed() >= p.start_period {
                                probe_failures += 1;
                            }
                            if p.retries.is_some_and(|r| probe_failures > r) {
                                let msg = format!("probe failed {probe_failures} times: {e}");
                                let failure = Failure {
                                    message: msg.clone(),
                                    exit_code: None,
                                    log_tail: ctx.driver.log_tail(id, crate::driver::TAIL_LINES),
                                    environment: None,
                                };
                                return give_up(result(Outcome::Failed, Some(msg), Some(failure)));
                            }
                            last_error = Some(e.to_string());
                            next_probe = Instant::now() + p.interval;
                        }
                    }
                }
                sleep_until = sleep_until
                    .min(next_probe)
                    .max(now + Duration::from_millis(1));
            }
        }
        let until = sleep_until.min(deadline);
        ctx.cancel
            .sleep(until.saturating_duration_since(Instant::now()));
    }
}
