//! The supervisor's loop: one thread owns every component's state and sleeps until a
//! message (an instance ended, a liveness probe gave up, a worker finished, a file
//! changed, a signal) or its next due time (a restart after its backoff, a debounced
//! reload or `watch:` restart). Workers act on components ([`super::act`]); watcher
//! threads wait on the driver ([`crate::driver::Driver::watch`]) and run liveness probes.
//!
//! Per component: `waiting` (for its dependencies) → `busy` (a worker acts) → `running` /
//! `completed`; when it goes down, its restart policy decides: `backoff` → `busy` again, or
//! `failed` (given up) / `completed`; a restart of a component restarts its dependents
//! that say `restart: true`, once it is ready again.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant};

use serde_json::json;

use super::act::{Act, Done, Marks, SharedLock, name_arc, perform};
use super::files::{Files, Tail};
use super::glob::Glob;
use super::policy::{Down, Verdict};
use super::printer::Printer;
use super::world::{World, same_run};
use crate::cancel::{Cancel, CancelReason, Level};
use crate::config::model::{Condition, Kind};
use crate::driver::{Driver as _, Ended, probe};
use crate::duration::Human;
use crate::graph::NodeId;
use crate::runner::{self, Outcome, StartOptions, StopOptions};
use crate::state::{Supervised, UpFile, now_epoch};

/// How long files must be quiet before a reload or a `watch:` restart.
const DEBOUNCE: Duration = Duration::from_millis(300);

/// What `tta up` was asked.
#[derive(Debug, Clone, Default)]
pub(crate) struct Options {
    /// Components (none: all) and what they depend on.
    pub names: Vec<String>,
    /// Not what they depend on.
    pub no_deps: bool,
    /// The initial start's time limit.
    pub timeout: Option<Duration>,
    /// Operations at once in the initial start.
    pub jobs: Option<usize>,
    /// Exit (non-zero) as soon as a component fails for good, stopping the rest.
    pub exit_on_failure: bool,
    /// At the end, stop every selected component, also those that ran before `up`.
    pub stop_all: bool,
}

/// Where a component is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Waiting,
    Busy,
    Running,
    Backoff,
    Completed,
    Failed,
    Stopped,
}

impl Phase {
    fn as_str(self) -> &'static str {
        match self {
            Phase::Waiting => "waiting",
            Phase::Busy => "starting",
            Phase::Running => "running",
            Phase::Backoff => "restarting",
            Phase::Completed => "completed",
            Phase::Failed => "failed",
            Phase::Stopped => "stopped",
        }
    }
}

struct Unit {
    /// Which instance the threads about it speak for; raised by every action.
    token: u64,
    phase: Phase,
    restarts: u32,
    /// Restarts in a row, for the backoff and `max_restarts`.
    streak: u32,
    ready_at: Option<Instant>,
    last_exit: Option<i32>,
    /// Started (or restarted) by this `up`, so stopped at its end.
    ours: bool,
    reason: Option<String>,
    /// The planned restart: when, and how.
    due: Option<(Instant, f64, Act)>,
    /// Ends this instance's watch and liveness threads.
    instance: Cancel,
    /// Ends the following of a compose service's logs.
    follow: Option<Cancel>,
}

impl Unit {
    fn new() -> Self {
        Self {
            token: 0,
            phase: Phase::Waiting,
            restarts: 0,
            streak: 0,
            ready_at: None,
            last_exit: None,
            ours: false,
            reason: None,
            due: None,
            instance: Cancel::new(),
            follow: None,
        }
    }
}

enum Msg {
    Ended {
        name: String,
        token: u64,
        how: Ended,
    },
    NotAlive {
        name: String,
        token: u64,
        why: String,
    },
    Done {
        name: String,
        token: u64,
        act: Act,
        done: Done,
    },
    Changed(PathBuf),
    Interrupted,
}

/// How `up` ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Finish {
    /// Ctrl-C, SIGTERM or SIGHUP.
    Interrupted,
    /// A component failed for good under `--exit-on-failure`.
    Failed,
    /// Nothing is left to supervise: all completed (or were left stopped).
    AllDone,
    /// Nothing is left to supervise, and something failed.
    SomeFailed,
}

pub(super) struct Sup<'o> {
    world: Arc<World>,
    opts: &'o Options,
    units: BTreeMap<String, Unit>,
    tx: Sender<Msg>,
    printer: Printer,
    lock: Arc<SharedLock>,
    run: Cancel,
    busy: usize,
    tail: Sender<Tail>,
    files: Files,
    since: f64,
    reload_due: Option<Instant>,
    watch_due: HashMap<String, (Instant, PathBuf)>,
    globs: Vec<(String, Glob)>,
    config_files: Vec<PathBuf>,
    finish: Option<Finish>,
    up_file: UpFile,
}

fn exit_text(code: Option<i32>, signal: Option<i32>) -> String {
    match (code, signal) {
        (Some(c), _) => format!("exited with code {c}"),
        (None, Some(s)) => format!("was killed by signal {s}"),
        (None, None) => "stopped running".to_owned(),
    }
}

/// The one line a reload prints: what it restarts, starts and stops.
fn reload_line(restarted: &[String], started: &[String], stopped: &[String]) -> String {
    let parts: Vec<String> = [
        ("restarting", restarted),
        ("starting", started),
        ("stopping", stopped),
    ]
    .iter()
    .filter(|(_, list)| !list.is_empty())
    .map(|(what, list)| format!("{what} {}", list.join(", ")))
    .collect();
    if parts.is_empty() {
        "configuration reloaded: no component changed".to_owned()
    } else {
        format!("configuration reloaded: {}", parts.join("; "))
    }
}

/// Runs `up` on a loaded world until it ends; returns how.
pub(crate) fn supervise(world: World, opts: &Options, printer: &Printer, run: &Cancel) -> Finish {
    let (tx, rx) = mpsc::channel::<Msg>();
    let (tail, tail_rx) = super::files::tail_channel();
    let logs = world.state.root().join("logs");
    let _ = world.state.ensure();
    let (changed_tx, changed_rx) = mpsc::channel::<PathBuf>();
    let files = Files::start(&logs, tail.clone(), changed_tx);
    {
        let p = printer.clone();
        std::thread::Builder::new()
            .name("logs".into())
            .spawn(move || super::files::follow_logs(tail_rx, &p))
            .ok();
        let changes = tx.clone();
        std::thread::spawn(move || {
            for p in changed_rx {
                if changes.send(Msg::Changed(p)).is_err() {
                    return;
                }
            }
        });
        let (signal, run) = (tx.clone(), run.clone());
        std::thread::spawn(move || {
            let far = Instant::now() + Duration::from_secs(100 * 365 * 86_400);
            if run.sleep_until(far, Level::Graceful) {
                let _ = signal.send(Msg::Interrupted);
            }
        });
    }
    let lock = Arc::new(SharedLock::new(world.state.clone()));
    let up_file = UpFile {
        pid: std::process::id(),
        start_ticks: crate::process::stat::start_ticks(std::process::id()),
        config: world
            .settings
            .path()
            .map(|p| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf())),
        started_at: now_epoch(),
        components: BTreeMap::new(),
    };
    let mut sup = Sup {
        world: Arc::new(world),
        opts,
        units: BTreeMap::new(),
        tx,
        printer: printer.clone(),
        lock,
        run: run.clone(),
        busy: 0,
        tail,
        files,
        since: now_epoch(),
        reload_due: None,
        watch_due: HashMap::new(),
        globs: Vec::new(),
        config_files: Vec::new(),
        finish: None,
        up_file,
    };
    sup.begin();
    sup.run_loop(&rx);
    sup.end(&rx)
}

impl Sup<'_> {
    fn say(&self, name: &str, event: &'static str, text: &str, fields: serde_json::Value) {
        self.printer.event(name, event, text, fields);
    }

    /// Follows every selected component's output, watches the files, and runs the initial
    /// start as `tta start` would.
    fn begin(&mut self) {
        let world = Arc::clone(&self.world);
        for id in world.selected() {
            let name = world.graph().name(id).to_owned();
            self.units.insert(name.clone(), Unit::new());
            self.follow(&world, id);
        }
        self.watch_files();
        self.write_up();
        let sel = world.selection.clone();
        let opts = StartOptions {
            jobs: self
                .opts
                .jobs
                .unwrap_or(world.settings.config().defaults.jobs)
                .max(1),
            timeout: self.opts.timeout,
            fail_fast: false,
        };
        let report = {
            let held = self.lock.acquire(&self.run, &self.printer);
            if let Err(e) = &held {
                if !self.run.is_cancelled() {
                    let text = crate::error::render(e);
                    self.say("tta", "error", &text, json!({"error": e.to_string()}));
                }
                self.finish = Some(if self.run.is_cancelled() {
                    Finish::Interrupted
                } else {
                    Finish::Failed
                });
                return;
            }
            let marks = Marks {
                world: &world,
                printer: &self.printer,
            };
            runner::start(
                world.graph(),
                &world.policies,
                &world.driver,
                &sel,
                &opts,
                &self.run,
                &marks,
            )
        };
        if self.run.is_cancelled() && self.run.reason() == Some(CancelReason::Interrupted) {
            self.finish = Some(Finish::Interrupted);
        }
        for r in &report.results {
            let name = world.graph().name(r.id).to_owned();
            match r.outcome {
                Outcome::Started | Outcome::AlreadyRunning => {
                    let ours = r.outcome == Outcome::Started;
                    self.ready(&name, r.completed, ours);
                }
                Outcome::Failed | Outcome::TimedOut => {
                    let f = r.failure.clone().unwrap_or_default();
                    self.start_failed(&name, &f);
                }
                Outcome::Cancelled | Outcome::Stopped | Outcome::AlreadyStopped => {
                    if let Some(u) = self.units.get_mut(&name) {
                        u.phase = Phase::Stopped;
                    }
                }
                Outcome::Blocked => {}
            }
        }
        self.start_waiting();
        self.write_up();
    }

    /// Starts following a compose service's logs (local logs: the log follower).
    fn follow(&mut self, world: &Arc<World>, id: NodeId) {
        let name = world.graph().name(id).to_owned();
        let arc = name_arc(&name);
        if matches!(world.graph().kind(id), Kind::Process | Kind::Task) {
            let _ = self.tail.send(Tail::Add(arc, world.state.log_path(&name)));
            return;
        }
        if world.graph().kind(id) != Kind::Compose {
            return;
        }
        let cancel = Cancel::new();
        if let Some(u) = self.units.get_mut(&name)
            && let Some(old) = u.follow.replace(cancel.clone())
        {
            old.cancel(CancelReason::Interrupted);
        }
        let (w, printer, since) = (Arc::clone(world), self.printer.clone(), self.since);
        std::thread::Builder::new()
            .name(format!("follow {name}"))
            .stack_size(256 * 1024)
            .spawn(move || {
                let line = |bytes: Vec<u8>| printer.line(&arc, bytes);
                w.driver.follow(id, since, &line, &cancel);
            })
            .ok();
    }

    /// The files whose change means a reload, and the `watch:` globs.
    fn watch_files(&mut self) {
        let world = Arc::clone(&self.world);
        let config = world.settings.config();
        let mut files: Vec<PathBuf> = Vec::new();
        if let Some(p) = world.settings.path() {
            let p = std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
            files.push(p.with_file_name(".env"));
            files.push(p);
        }
        for spec in config.components.values() {
            files.extend(spec.env_file.iter().map(|f| f.path.clone()));
        }
        for repo in config.repositories.values() {
            files.push(repo.path.join(".env"));
            match crate::compose_file::compose_files(repo) {
                Ok(names) => files.extend(names.into_iter().map(|f| repo.path.join(f))),
                Err(_) => files.push(repo.path.join("compose.yaml")),
            }
        }
        for f in &files {
            if let Some(dir) = f.parent().filter(|d| d.is_dir()) {
                self.files.watch(dir, false);
            }
        }
        self.config_files = files;
        self.globs.clear();
        for id in world.selected() {
            let cwd = world.policies[id].cwd.clone();
            for pattern in &world.supervision[id].watch {
                let glob = Glob::new(pattern, &cwd);
                if glob.base.is_dir() {
                    self.files.watch(&glob.base, true);
                } else {
                    self.say(
                        world.graph().name(id),
                        "watch",
                        &format!(
                            "`watch: {pattern}`: {} is not a folder; nothing to watch there",
                            glob.base.display()
                        ),
                        json!({}),
                    );
                }
                self.globs.push((world.graph().name(id).to_owned(), glob));
            }
        }
    }

    fn run_loop(&mut self, rx: &Receiver<Msg>) {
        while self.finish.is_none() {
            self.fire_due();
            if self.finish.is_some() {
                break;
            }
            self.check_done();
            if self.finish.is_some() {
                break;
            }
            let msg = match self.next_due() {
                Some(at) => match rx.recv_timeout(at.saturating_duration_since(Instant::now())) {
                    Ok(m) => m,
                    Err(RecvTimeoutError::Timeout) => continue,
                    Err(RecvTimeoutError::Disconnected) => return,
                },
                None => match rx.recv() {
                    Ok(m) => m,
                    Err(_) => return,
                },
            };
            self.handle(msg);
        }
    }

    fn next_due(&self) -> Option<Instant> {
        self.units
            .values()
            .filter_map(|u| u.due.map(|d| d.0))
            .chain(self.reload_due)
            .chain(self.watch_due.values().map(|d| d.0))
            .min()
    }

    fn fire_due(&mut self) {
        let now = Instant::now();
        if self.reload_due.is_some_and(|t| t <= now) {
            self.reload_due = None;
            self.reload();
        }
        let hits: Vec<(String, PathBuf)> = self
            .watch_due
            .iter()
            .filter(|(_, d)| d.0 <= now)
            .map(|(n, d)| (n.clone(), d.1.clone()))
            .collect();
        for (name, path) in hits {
            self.watch_due.remove(&name);
            if self
                .units
                .get(&name)
                .is_some_and(|u| u.phase == Phase::Running)
            {
                self.say(
                    &name,
                    "changed",
                    &format!("{} changed; restarting", path.display()),
                    json!({"path": path}),
                );
                self.act(&name, Act::Restart);
            }
        }
        let due: Vec<(String, Act)> = self
            .units
            .iter()
            .filter_map(|(n, u)| u.due.filter(|d| d.0 <= now).map(|d| (n.clone(), d.2)))
            .collect();
        for (name, act) in due {
            if let Some(u) = self.units.get_mut(&name) {
                u.due = None;
            }
            self.act(&name, act);
        }
    }

    fn handle(&mut self, msg: Msg) {
        match msg {
            Msg::Ended { name, token, how } => self.on_ended(&name, token, how),
            Msg::NotAlive { name, token, why } => {
                if self
                    .units
                    .get(&name)
                    .is_some_and(|u| u.token == token && u.phase == Phase::Running)
                {
                    self.down(&name, &Down::Failed, &why, None, Act::Restart);
                }
            }
            Msg::Done {
                name,
                token,
                act,
                done,
            } => {
                self.busy = self.busy.saturating_sub(1);
                self.on_done(&name, token, act, done);
            }
            Msg::Changed(path) => self.on_changed(&path),
            Msg::Interrupted => {
                self.finish = Some(if self.run.reason() == Some(CancelReason::FailFast) {
                    Finish::Failed
                } else {
                    Finish::Interrupted
                });
            }
        }
        self.write_up();
    }

    fn on_changed(&mut self, path: &PathBuf) {
        if path.starts_with(self.world.state.root()) {
            return;
        }
        if self.config_files.contains(path) {
            self.reload_due = Some(Instant::now() + DEBOUNCE);
        }
        let hits: Vec<String> = self
            .globs
            .iter()
            .filter(|(_, g)| g.matches(path))
            .map(|(n, _)| n.clone())
            .collect();
        for name in hits {
            self.watch_due
                .insert(name, (Instant::now() + DEBOUNCE, path.clone()));
        }
    }

    fn on_ended(&mut self, name: &str, token: u64, how: Ended) {
        if !self
            .units
            .get(name)
            .is_some_and(|u| u.token == token && u.phase == Phase::Running)
        {
            return;
        }
        match how {
            Ended::Cancelled => {}
            Ended::Unhealthy => self.down(
                name,
                &Down::Failed,
                "unhealthy: its healthcheck fails",
                None,
                Act::Restart,
            ),
            Ended::NotRunning => {
                self.down(
                    name,
                    &Down::Failed,
                    &exit_text(None, None),
                    None,
                    Act::Recover,
                );
            }
            Ended::Exited { code, signal } => {
                let why = if code == Some(0) {
                    Down::Clean
                } else {
                    Down::Failed
                };
                self.down(name, &why, &exit_text(code, signal), code, Act::Recover);
            }
        }
    }

    /// A component stopped running (or is not alive): its restart policy decides.
    fn down(&mut self, name: &str, why: &Down, text: &str, code: Option<i32>, act: Act) {
        let Some(id) = self.world.id(name) else {
            return;
        };
        let policy = self.world.supervision[id].clone();
        let Some(u) = self.units.get_mut(name) else {
            return;
        };
        u.last_exit = code.or(u.last_exit);
        if u.ready_at
            .is_some_and(|t| t.elapsed() >= policy.reset_after)
        {
            u.streak = 0;
        }
        u.ready_at = None;
        u.reason = Some(text.to_owned());
        let fields = json!({"exit_code": code, "restarts": u.restarts});
        match policy.verdict(why, u.streak) {
            Verdict::Restart { delay, streak } => {
                u.streak = streak;
                u.phase = Phase::Backoff;
                let epoch = now_epoch() + delay.as_secs_f64();
                u.due = Some((Instant::now() + delay, epoch, act));
                let n = u.restarts + 1;
                let mut f = fields;
                f["delay_ms"] = json!(delay.as_millis());
                f["restart"] = json!(n);
                // The state file first: whoever sees the event finds it there.
                self.write_up();
                self.say(
                    name,
                    "restarting",
                    &format!("{text}; restarting in {} (restart {n})", Human(delay)),
                    f,
                );
            }
            Verdict::Leave if act == Act::Restart => {
                // Not alive, but its policy does not restart it: it runs on.
                u.phase = Phase::Running;
                self.say(
                    name,
                    "not_restarted",
                    &format!(
                        "{text}; not restarted (restart: {})",
                        policy.restart.as_str()
                    ),
                    fields,
                );
            }
            Verdict::Leave => {
                let clean = *why == Down::Clean;
                u.phase = if clean {
                    Phase::Completed
                } else {
                    Phase::Failed
                };
                self.write_up();
                self.say(
                    name,
                    "exited",
                    &format!(
                        "{text}; not restarted (restart: {})",
                        policy.restart.as_str()
                    ),
                    fields,
                );
                if !clean {
                    self.failed(name, id);
                }
            }
            Verdict::GiveUp { after } => {
                u.phase = Phase::Failed;
                let restarts = if after == 1 { "restart" } else { "restarts" };
                let message =
                    format!("{text}; gave up after {after} {restarts} in a row (max_restarts)");
                u.reason = Some(message.clone());
                self.give_up(name, id, &message, fields);
            }
        }
    }

    /// Its restarts in a row reached `max_restarts`: it has failed for good; its last lines
    /// are shown.
    fn give_up(&mut self, name: &str, id: NodeId, message: &str, fields: serde_json::Value) {
        self.write_up();
        self.say(name, "given_up", message, fields);
        for line in self.world.driver.log_tail(id, crate::driver::TAIL_LINES) {
            self.say(
                name,
                "log_tail",
                &format!("  {line}"),
                json!({"line": line}),
            );
        }
        self.failed(name, id);
    }

    /// A component failed for good: what waits for it is blocked; `--exit-on-failure` ends
    /// `up`.
    fn failed(&mut self, name: &str, id: NodeId) {
        let g = self.world.graph();
        let blocked: Vec<String> = g
            .dependents(id)
            .iter()
            .map(|&d| g.name(d).to_owned())
            .filter(|d| self.units.get(d).is_some_and(|u| u.phase == Phase::Waiting))
            .collect();
        for d in blocked {
            self.say(
                &d,
                "blocked",
                &format!("blocked: dependency {name} failed"),
                json!({"blocked_by": name}),
            );
        }
        if self.opts.exit_on_failure && self.finish.is_none() {
            self.say(
                "tta",
                "exit_on_failure",
                &format!("{name} failed for good: stopping (--exit-on-failure)"),
                json!({"failed": name}),
            );
            self.run.cancel(CancelReason::FailFast);
            self.finish = Some(Finish::Failed);
        }
    }

    /// Hands `act` on `name` to a worker.
    fn act(&mut self, name: &str, act: Act) {
        let world = Arc::clone(&self.world);
        self.act_in(world, name, act);
    }

    fn act_in(&mut self, world: Arc<World>, name: &str, act: Act) {
        let Some(u) = self.units.get_mut(name) else {
            return;
        };
        u.token += 1;
        u.instance.cancel(CancelReason::Interrupted);
        u.instance = Cancel::new();
        u.phase = Phase::Busy;
        u.due = None;
        if matches!(act, Act::Recover | Act::Restart) {
            u.restarts += 1;
        }
        let token = u.token;
        self.busy += 1;
        let (tx, lock, run, printer) = (
            self.tx.clone(),
            Arc::clone(&self.lock),
            self.run.clone(),
            self.printer.clone(),
        );
        let name = name.to_owned();
        std::thread::Builder::new()
            .name(format!("act {name}"))
            .spawn(move || {
                let done = perform(&world, &name, act, &lock, &run, &printer);
                let _ = tx.send(Msg::Done {
                    name,
                    token,
                    act,
                    done,
                });
            })
            .ok();
    }

    fn on_done(&mut self, name: &str, token: u64, act: Act, done: Done) {
        if self.units.get(name).is_none_or(|u| u.token != token) {
            return;
        }
        match done {
            Done::Ready { completed } => {
                self.ready(name, completed, true);
                if matches!(act, Act::Recover | Act::Restart | Act::Replace) {
                    self.cascade(name);
                }
                self.start_waiting();
            }
            Done::Adopted(detail) => {
                if let Some(u) = self.units.get_mut(name) {
                    u.phase = Phase::Running;
                }
                self.write_up();
                self.say(
                    name,
                    "adopted",
                    &format!("another tta run started it ({detail}); watching it"),
                    json!({}),
                );
                if let Some(u) = self.units.get_mut(name) {
                    u.restarts = u.restarts.saturating_sub(1);
                }
                self.ready(name, false, false);
                self.start_waiting();
            }
            Done::StoppedElsewhere => {
                self.say(
                    name,
                    "stopped",
                    "another tta run stopped it; left stopped",
                    json!({}),
                );
                if let Some(u) = self.units.get_mut(name) {
                    u.phase = Phase::Stopped;
                    u.ours = false;
                    u.restarts = u.restarts.saturating_sub(1);
                }
            }
            Done::Stopped | Done::Cancelled => {
                if act == Act::Stop {
                    self.units.remove(name);
                } else if let Some(u) = self.units.get_mut(name) {
                    u.phase = Phase::Stopped;
                }
            }
            Done::Failed(f) => {
                if act == Act::Stop {
                    self.say(
                        name,
                        "failed",
                        &format!("cannot stop it: {}", f.message),
                        json!({}),
                    );
                    return;
                }
                self.start_failed(name, &f);
            }
        }
    }

    /// A start failed (why was printed just before): the restart policy decides, as for
    /// a crash.
    fn start_failed(&mut self, name: &str, f: &crate::driver::Failure) {
        if let Some(u) = self.units.get_mut(name) {
            u.phase = Phase::Running;
            u.ours = true;
        }
        self.down(
            name,
            &Down::Failed,
            "failed to start",
            f.exit_code,
            Act::Recover,
        );
        if let Some(u) = self.units.get_mut(name) {
            u.reason = Some(format!("failed to start: {}", f.message));
        }
    }

    /// A component is up (or completed): watch it, check its liveness, and start what
    /// waited for it.
    fn ready(&mut self, name: &str, completed: bool, ours: bool) {
        let Some(id) = self.world.id(name) else {
            return;
        };
        let Some(u) = self.units.get_mut(name) else {
            return;
        };
        u.ours |= ours;
        u.phase = if completed {
            Phase::Completed
        } else {
            Phase::Running
        };
        u.ready_at = Some(Instant::now());
        u.restart_reason_clear();
        if !completed {
            let (token, cancel) = (u.token, u.instance.clone());
            let world = Arc::clone(&self.world);
            let tx = self.tx.clone();
            let n = name.to_owned();
            let c = cancel.clone();
            std::thread::Builder::new()
                .name(format!("watch {name}"))
                .stack_size(256 * 1024)
                .spawn(move || {
                    let how = world.driver.watch(id, &c);
                    if how != Ended::Cancelled {
                        let _ = tx.send(Msg::Ended {
                            name: n,
                            token,
                            how,
                        });
                    }
                })
                .ok();
            if let Some(l) = self.world.supervision[id].liveness.clone() {
                let (tx, n, cwd) = (
                    self.tx.clone(),
                    name.to_owned(),
                    self.world.policies[id].cwd.clone(),
                );
                std::thread::Builder::new()
                    .name(format!("liveness {name}"))
                    .stack_size(256 * 1024)
                    .spawn(move || {
                        let began = Instant::now();
                        let mut fails = 0;
                        while !cancel.sleep(l.probe.interval) {
                            match probe::check(&l.probe.check, l.probe.timeout, &cwd) {
                                Ok(()) => fails = 0,
                                Err(_) if began.elapsed() < l.probe.start_period => {}
                                Err(e) => {
                                    fails += 1;
                                    if fails >= l.failure_threshold {
                                        let why = format!(
                                            "liveness probe failed {fails} times in a row ({e})"
                                        );
                                        let _ = tx.send(Msg::NotAlive {
                                            name: n,
                                            token,
                                            why,
                                        });
                                        return;
                                    }
                                }
                            }
                        }
                    })
                    .ok();
            }
        }
    }

    /// Restarts the running dependents of `name` that say `restart: true` for it.
    fn cascade(&mut self, name: &str) {
        let Some(id) = self.world.id(name) else {
            return;
        };
        let g = self.world.graph();
        let dependents: Vec<String> = g
            .dependents(id)
            .iter()
            .filter(|&&d| g.deps(d).iter().any(|e| e.to == id && e.restart))
            .map(|&d| g.name(d).to_owned())
            .filter(|d| self.units.get(d).is_some_and(|u| u.phase == Phase::Running))
            .collect();
        for d in dependents {
            self.say(
                &d,
                "cascade",
                &format!(
                    "{name} restarted and is ready again: restarting (depends_on restart: true)"
                ),
                json!({"because": name}),
            );
            self.act(&d, Act::Restart);
        }
    }

    /// Starts waiting components whose dependencies are now satisfied.
    fn start_waiting(&mut self) {
        let world = Arc::clone(&self.world);
        let g = world.graph();
        let phase = |n: &str| self.units.get(n).map(|u| u.phase);
        let mut go = Vec::new();
        for id in world.selected() {
            let name = g.name(id);
            if phase(name) != Some(Phase::Waiting) {
                continue;
            }
            let ok = g.deps(id).iter().all(|e| {
                if !world.selection[e.to] {
                    return true;
                }
                let p = phase(g.name(e.to));
                match e.condition {
                    Condition::CompletedSuccessfully => p == Some(Phase::Completed),
                    _ => matches!(p, Some(Phase::Running | Phase::Completed)),
                }
            });
            if ok {
                go.push(name.to_owned());
            }
        }
        for name in go {
            self.act(&name, Act::Start);
        }
    }

    /// Ends `up` when nothing is left to supervise.
    fn check_done(&mut self) {
        if self.busy > 0 || self.finish.is_some() {
            return;
        }
        let alive = self
            .units
            .values()
            .any(|u| matches!(u.phase, Phase::Running | Phase::Backoff | Phase::Busy));
        if alive || self.reload_due.is_some() {
            return;
        }
        let failed = self.units.values().any(|u| u.phase == Phase::Failed);
        self.say(
            "tta",
            "done",
            "nothing left running to supervise",
            json!({"failed": failed}),
        );
        self.finish = Some(if failed {
            Finish::SomeFailed
        } else {
            Finish::AllDone
        });
    }

    /// Reloads the configuration and reconciles: only what changed is restarted, what is
    /// new is started, what was removed is stopped.
    fn reload(&mut self) {
        let path = self.world.settings.path().map(std::path::Path::to_path_buf);
        let new = match World::load(path.as_deref(), &self.opts.names, self.opts.no_deps) {
            Ok(w) => Arc::new(w),
            Err(e) => {
                self.say(
                    "tta",
                    "reload_failed",
                    &format!(
                        "the configuration changed but does not load; the running stack stays as it is:\n{}",
                        crate::error::render(&e)
                    ),
                    json!({"error": e.to_string()}),
                );
                return;
            }
        };
        let old = std::mem::replace(&mut self.world, Arc::clone(&new));
        let (mut restarted, mut started, mut stopped) = (Vec::new(), Vec::new(), Vec::new());
        let names: Vec<String> = self.units.keys().cloned().collect();
        for name in names {
            let Some(new_id) = new.id(&name).filter(|&i| new.selection[i]) else {
                stopped.push(name.clone());
                if let Some(c) = self.units.get(&name).and_then(|u| u.follow.clone()) {
                    c.cancel(CancelReason::Interrupted);
                }
                self.act_in(Arc::clone(&old), &name, Act::Stop);
                continue;
            };
            let Some(old_id) = old.id(&name) else {
                continue;
            };
            if same_run(old.spec(old_id), new.spec(new_id)) {
                continue;
            }
            let phase = self.units.get(&name).map(|u| u.phase);
            if let Some(u) = self.units.get_mut(&name) {
                u.streak = 0;
            }
            self.follow(&new, new_id);
            match phase {
                Some(Phase::Waiting) => {}
                Some(Phase::Running | Phase::Backoff | Phase::Busy) => {
                    restarted.push(name.clone());
                    self.act(&name, Act::Replace);
                }
                _ => {
                    restarted.push(name.clone());
                    self.act(&name, Act::Replace);
                }
            }
        }
        for id in new.selected() {
            let name = new.graph().name(id).to_owned();
            if let std::collections::btree_map::Entry::Vacant(e) = self.units.entry(name.clone()) {
                e.insert(Unit::new());
                started.push(name);
                self.follow(&new, id);
            }
        }
        let text = reload_line(&restarted, &started, &stopped);
        self.say(
            "tta",
            "reload",
            &text,
            json!({"restarted": restarted, "started": started, "stopped": stopped}),
        );
        self.watch_files();
        self.start_waiting();
    }

    /// What `up` knows, for `tta status` (best effort).
    fn write_up(&mut self) {
        self.up_file.components = self
            .units
            .iter()
            .map(|(n, u)| {
                (
                    n.clone(),
                    Supervised {
                        state: u.phase.as_str().to_owned(),
                        restarts: u.restarts,
                        last_exit_code: u.last_exit,
                        restart_at: u.due.map(|d| d.1),
                        reason: u.reason.clone(),
                    },
                )
            })
            .collect();
        if let Err(e) = self.world.state.write_up(&self.up_file) {
            tracing::debug!("cannot write up.json: {}", crate::error::render(&e));
        }
    }

    /// Stops what this `up` started (everything selected with `--stop-all`), in reverse
    /// dependency order, with the usual grace (a second Ctrl-C ends it at once).
    fn end(mut self, rx: &Receiver<Msg>) -> Finish {
        let finish = self.finish.unwrap_or(Finish::Interrupted);
        if !self.run.is_cancelled() {
            self.run.cancel(CancelReason::Interrupted);
        }
        for u in self.units.values() {
            u.instance.cancel(CancelReason::Interrupted);
            if let Some(f) = &u.follow {
                f.cancel(CancelReason::Interrupted);
            }
        }
        self.drain(rx);
        self.stop_ours();
        let left: Vec<&str> = self
            .units
            .iter()
            .filter(|(_, u)| !u.ours && !self.opts.stop_all && u.phase == Phase::Running)
            .map(|(n, _)| n.as_str())
            .collect();
        if !left.is_empty() {
            self.say(
                "tta",
                "left_running",
                &format!(
                    "left running as they were before `up`: {} (`tta up --stop-all` stops them too)",
                    left.join(", ")
                ),
                json!({"left_running": left}),
            );
        }
        self.world.state.remove_up();
        finish
    }
}

impl Sup<'_> {
    /// Waits for the workers, which end on the cancel (what they were starting is stopped
    /// by the scheduler); what they brought up is `up`'s to stop.
    fn drain(&mut self, rx: &Receiver<Msg>) {
        while self.busy > 0 {
            match rx.recv() {
                Ok(Msg::Done {
                    name,
                    token,
                    act,
                    done,
                }) => {
                    self.busy -= 1;
                    if let (Done::Ready { .. }, Some(u)) = (&done, self.units.get_mut(&name)) {
                        u.ours |= u.token == token && act != Act::Stop;
                    }
                }
                Ok(_) => {}
                Err(_) => break,
            }
        }
    }

    /// Stops what `up` started (with `--stop-all`, every selected component) in reverse
    /// dependency order; a second Ctrl-C ends the grace periods.
    fn stop_ours(&self) {
        let stop = Cancel::new();
        {
            let (run, stop) = (self.run.clone(), stop.clone());
            std::thread::spawn(move || {
                let far = Instant::now() + Duration::from_secs(100 * 365 * 86_400);
                if run.sleep_until(far, Level::Forced) {
                    stop.force();
                }
            });
        }
        let world = Arc::clone(&self.world);
        let g = world.graph();
        let mut set = vec![false; g.len()];
        for (name, u) in &self.units {
            if let Some(id) = world.id(name)
                && (u.ours || self.opts.stop_all)
                && !matches!(u.phase, Phase::Stopped | Phase::Failed)
            {
                set[id] = true;
            }
        }
        if !set.contains(&true) {
            return;
        }
        let Ok(_held) = self.lock.acquire(&stop, &self.printer) else {
            return;
        };
        let marks = Marks {
            world: &world,
            printer: &self.printer,
        };
        let opts = StopOptions {
            jobs: world.settings.config().defaults.jobs.max(1),
            timeout: None,
            include_dependents: false,
        };
        runner::stop(
            g,
            &world.policies,
            &world.driver,
            &set,
            &opts,
            &stop,
            &marks,
        );
    }
}

impl Unit {
    fn restart_reason_clear(&mut self) {
        self.reason = None;
        self.due = None;
    }
}
