//! The library's front door, mirroring the specification's `TTAOrchestrator` and
//! `Component`: load a configuration, then start, stop, restart and inspect components.
//!
//! Every lifecycle operation takes the state directory's run lock, so two programs (or two
//! `tta` runs) never start a component twice.

use std::path::Path;
use std::time::Duration;

use indexmap::IndexMap;
use serde::Serialize;

use crate::config::model::{Kind, ProbeCheck};
use crate::driver::compose::{ComposeRun, Mode, Passthrough};
use crate::driver::probe::uses_engine_host;
use crate::driver::{Driver, Health, Observation, Scope, Stack, Status, StopOutcome};
use crate::error::{Error, LockHolder, Result};
use crate::graph::{Graph, NodeId, Selection};
use crate::runner::{
    self, Action, Cancel, ComponentPolicy, EnvironmentProblem, Leftover, NullReporter, Outcome,
    Reporter, RunReport, StartOptions, StopOptions,
};
use crate::settings::Settings;
use crate::state::{RunLock, StateDir};

/// How long a run waits for another run's lock by default.
pub const LOCK_WAIT: Duration = Duration::from_secs(300);

/// One component's status, read from the running system.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ComponentStatus {
    /// Its name.
    pub name: String,
    /// Its kind.
    pub kind: Kind,
    /// Lifecycle status.
    pub status: Status,
    /// Health from its probe or container healthcheck, when it has one and is running.
    pub health: Option<Health>,
    /// When it started (or last failed to), seconds since the epoch; RFC 3339 in JSON.
    #[serde(serialize_with = "rfc3339")]
    pub since: Option<f64>,
    /// Where it can be reached: its probe's address or URL, a service's published ports.
    pub endpoints: Vec<String>,
    /// A short explanation.
    pub detail: Option<String>,
    /// What it depends on.
    pub depends_on: Vec<String>,
    /// Running (and healthy where it has a check), or completed.
    pub up: bool,
    /// It runs as configured before: its configuration changed since it started (`tta start`
    /// restarts it).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub changed: bool,
    /// What a running `tta up` knows of it (restarts, last exit code, a planned restart).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub supervisor: Option<crate::state::Supervised>,
}

/// Seconds since the epoch as RFC 3339 (UTC, to the second).
#[expect(
    clippy::ref_option,
    reason = "serde's serialize_with passes a reference to the field"
)]
fn rfc3339<S: serde::Serializer>(
    since: &Option<f64>,
    s: S,
) -> std::result::Result<S::Ok, S::Error> {
    match since {
        Some(t) if t.is_finite() && *t >= 0.0 => {
            let at = std::time::UNIX_EPOCH + Duration::from_secs_f64(*t);
            s.serialize_str(&humantime::format_rfc3339_seconds(at).to_string())
        }
        _ => s.serialize_none(),
    }
}

/// A URL without its user and password.
fn without_userinfo(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    match rest[..end].rfind('@') {
        Some(at) => format!("{scheme}://{}", &rest[at + 1..]),
        None => url.to_owned(),
    }
}

/// How `Orchestrator::run_task` went.
#[derive(Debug)]
pub struct TaskRun {
    /// The start of its dependencies (with `deps`), if there was one.
    pub dependencies: Option<RunReport>,
    /// The task's exit code; `None` when it did not run to an exit code (a dependency
    /// failed, a signal ended it, or it was interrupted).
    pub exit: Option<i32>,
}

/// Options of a lifecycle run, beyond what the configuration says.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Components in flight at most (default: `defaults.jobs`).
    pub jobs: Option<usize>,
    /// The whole run's time limit.
    pub timeout: Option<Duration>,
    /// Cancel everything on the first failure (start only).
    pub fail_fast: bool,
    /// Leave out dependencies (start) or dependents (stop).
    pub no_deps: bool,
    /// Build compose services' images before starting them (start only).
    pub build: bool,
    /// Pull compose services' images before starting them (start only).
    pub pull: bool,
}

/// One component of a stack, as the specification's `Component` class: start (with its
/// dependencies), stop (after its running dependents), restart and status.
///
/// ```
/// # let dir = tempfile::tempdir()?;
/// let text = "components:\n  hello: { kind: task, command: [\"true\"] }\n".to_owned();
/// let settings = tta::Settings::from_text(text, Some(dir.path().join("tta.yaml")), dir.path(), [])?;
/// let orch = tta::Orchestrator::new(settings);
/// let hello = orch.component("hello")?;
/// assert!(hello.start()?);
/// assert_eq!(hello.get_status()?.status, tta::driver::Status::Completed);
/// assert!(hello.stop()?);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Component<'o> {
    orch: &'o Orchestrator,
    name: String,
}

impl Component<'_> {
    /// Its name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Starts it and what it depends on; true when it is up.
    pub fn start(&self) -> Result<bool> {
        self.orch.start_component(&self.name)
    }

    /// Stops it, after its running dependents; true when it is stopped.
    pub fn stop(&self) -> Result<bool> {
        self.orch.stop_component(&self.name)
    }

    /// Restarts it (and its running dependents); true when it is up again.
    pub fn restart(&self) -> Result<bool> {
        self.orch.restart_component(&self.name)
    }

    /// Its status, read from the running system.
    pub fn get_status(&self) -> Result<ComponentStatus> {
        self.orch.get_component_status(&self.name)
    }
}

/// Runs a stack.
pub struct Orchestrator {
    settings: Settings,
    nodes: Vec<ComponentPolicy>,
    driver: Box<dyn Driver>,
    cancel: Cancel,
}

impl Orchestrator {
    /// Loads the configuration (`None`: `./tta.yaml`, then `./config/tta.yaml`, then an
    /// empty stack) and validates it.
    pub fn load(config: Option<&Path>) -> Result<Self> {
        Ok(Self::new(Settings::load(config)?))
    }

    /// An orchestrator for loaded settings, with the real drivers. Warns of probes that
    /// cannot work as written (a loopback probe of a component on another host's engine).
    pub fn new(settings: Settings) -> Self {
        let stack = Stack::new(settings.config(), settings.graph(), settings.path());
        for w in stack.warnings(settings.graph()) {
            tracing::warn!("{w}");
        }
        Self::with_driver(settings, Box::new(stack))
    }

    /// An orchestrator with another driver (tests, embedding). Probes written with
    /// `{engine_host}` aim at the host the driver says each component's engine is on.
    pub fn with_driver(settings: Settings, driver: Box<dyn Driver>) -> Self {
        let mut nodes = ComponentPolicy::for_graph(settings.config(), settings.graph());
        for (id, n) in nodes.iter_mut().enumerate() {
            if let Some(p) = n.probe.as_mut().filter(|p| uses_engine_host(&p.check)) {
                let host = driver.engine_host(id).unwrap_or_else(|| "127.0.0.1".into());
                p.check = p.check.with_engine_host(&host);
            }
        }
        Self {
            settings,
            nodes,
            driver,
            cancel: Cancel::new(),
        }
    }

    /// The configuration.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// Each component's start timeout, by node id.
    pub fn start_timeouts(&self) -> Vec<Duration> {
        self.nodes.iter().map(|n| n.start_timeout).collect()
    }

    /// The dependency graph.
    pub fn graph(&self) -> &Graph {
        self.settings.graph()
    }

    /// How many changes the engines' events told of so far (see
    /// [`Orchestrator::wait_for_change`]).
    pub(crate) fn change_count(&self) -> u64 {
        self.driver.change_count()
    }

    /// Waits until an engine event after `seen`, `until`, or a cancel: what `tta status
    /// --watch` redraws on. True when an event came.
    pub(crate) fn wait_for_change(
        &self,
        seen: u64,
        until: std::time::Instant,
        cancel: &Cancel,
    ) -> bool {
        self.driver.wait_for_change(seen, until, cancel)
    }

    /// The cancellation token of this orchestrator's runs (Ctrl-C handlers cancel it).
    pub fn cancel_token(&self) -> &Cancel {
        &self.cancel
    }

    /// Takes the run lock, telling `waiting` once if another run holds it.
    pub fn lock(&self, wait: Duration, waiting: impl FnOnce(LockHolder)) -> Result<RunLock> {
        StateDir::new(&self.settings.config().state_dir).lock(wait, &self.cancel, waiting)
    }

    fn lock_for_run(&self, opts: &RunOptions) -> Result<RunLock> {
        let state = self.settings.config().state_dir.display().to_string();
        self.lock(opts.timeout.unwrap_or(LOCK_WAIT), |holder| {
            tracing::warn!(
                "waiting for another tta run ({holder}) working on this stack ({state}/lock)"
            );
        })
    }

    /// Compose components need their repository folders and an engine that answers:
    /// checked before a run, so a broken environment is one error (exit 3), not a failure
    /// per component. `names` as given (none or `all`: every repository counts).
    fn preflight(&self, names: &[String], sel: &Selection) -> Result<()> {
        let ids: Vec<NodeId> = (0..sel.len()).filter(|&i| sel[i]).collect();
        self.driver.preflight(&ids, Self::scope(names))
    }

    /// What names as given cover: the whole stack (none, or `all`), or what they name.
    fn scope(names: &[String]) -> Scope {
        if names.is_empty() || names.iter().any(|n| n == "all") {
            Scope::Everything
        } else {
            Scope::Selected
        }
    }

    /// Bounds the checks before a run by its `--timeout` too (the run bounds the rest).
    fn bound_by(&self, opts: &RunOptions) {
        self.driver.set_deadline(
            opts.timeout
                .and_then(|t| std::time::Instant::now().checked_add(t)),
        );
    }

    /// The library's operations that answer with results alone (`start_all`, ...) treat a
    /// run that met a broken environment (no compose command, a repository gone) as an
    /// environment error (exit code 3), whatever else it did.
    fn or_environment_error(report: RunReport) -> Result<RunReport> {
        match report.environment_error() {
            Some(e) => Err(e),
            None => Ok(report),
        }
    }

    fn jobs(&self, opts: &RunOptions) -> usize {
        opts.jobs
            .unwrap_or(self.settings.config().defaults.jobs)
            .max(1)
    }

    /// What `start` would start: the selection, plus its dependencies unless `no_deps`.
    pub fn start_selection(&self, names: &[String], no_deps: bool) -> Result<Selection> {
        let sel = self.graph().select(names)?;
        Ok(if no_deps {
            sel
        } else {
            self.graph().with_dependencies(&sel)
        })
    }

    /// Starts components (none or `all`: every one) and what they depend on.
    pub fn start(
        &self,
        names: &[String],
        opts: &RunOptions,
        reporter: &dyn Reporter,
    ) -> Result<RunReport> {
        let sel = self.start_selection(names, opts.no_deps)?;
        self.bound_by(opts);
        self.driver.set_up_options(crate::driver::UpOptions {
            build: opts.build,
            pull: opts.pull,
        });
        self.preflight(names, &sel)?;
        let _lock = self.lock_for_run(opts)?;
        Ok(self.start_locked(&sel, opts, reporter))
    }

    fn start_locked(
        &self,
        sel: &Selection,
        opts: &RunOptions,
        reporter: &dyn Reporter,
    ) -> RunReport {
        runner::start(
            self.graph(),
            &self.nodes,
            self.driver.as_ref(),
            sel,
            &StartOptions {
                jobs: self.jobs(opts),
                timeout: opts.timeout,
                fail_fast: opts.fail_fast,
            },
            &self.cancel,
            reporter,
        )
    }

    /// Stops components (none or `all`: every one), after the running components that
    /// depend on them unless `no_deps`.
    pub fn stop(
        &self,
        names: &[String],
        opts: &RunOptions,
        reporter: &dyn Reporter,
    ) -> Result<RunReport> {
        let sel = self.graph().select(names)?;
        self.bound_by(opts);
        // A broken part of the stack never keeps stop from stopping the rest: its problem is
        // reported with the results (and the run ends with exit code 3).
        let broken = self
            .preflight(names, &self.graph().with_dependents(&sel))
            .err();
        let _lock = self.lock_for_run(opts)?;
        let mut report = self.stop_locked(&sel, !opts.no_deps, opts, reporter);
        if Self::scope(names) == Scope::Everything && !self.cancel.is_cancelled() {
            // What earlier runs started that no component names any more.
            let grace = self.settings.config().defaults.stop_timeout;
            report.leftovers = self
                .driver
                .stop_leftovers(grace, &self.cancel)
                .into_iter()
                .map(|(name, r)| match r {
                    Ok(StopOutcome::Stopped) => Leftover {
                        name,
                        outcome: Outcome::Stopped,
                        reason: None,
                    },
                    Ok(StopOutcome::AlreadyStopped) => Leftover {
                        name,
                        outcome: Outcome::AlreadyStopped,
                        reason: None,
                    },
                    Err(e) => Leftover {
                        name,
                        outcome: Outcome::Failed,
                        reason: Some(e.failure.message),
                    },
                })
                .collect();
        }
        if let Some(e) = broken {
            report.environment.push(EnvironmentProblem {
                message: e.to_string(),
                hint: e.hint(),
            });
        }
        Ok(report)
    }

    fn stop_locked(
        &self,
        sel: &Selection,
        dependents: bool,
        opts: &RunOptions,
        reporter: &dyn Reporter,
    ) -> RunReport {
        runner::stop(
            self.graph(),
            &self.nodes,
            self.driver.as_ref(),
            sel,
            &StopOptions {
                jobs: self.jobs(opts),
                timeout: opts.timeout,
                include_dependents: dependents,
            },
            &self.cancel,
            reporter,
        )
    }

    /// Stops components and their running dependents (unless `no_deps`), starts the
    /// components again, then starts again the dependents that were running.
    pub fn restart(
        &self,
        names: &[String],
        opts: &RunOptions,
        reporter: &dyn Reporter,
    ) -> Result<RunReport> {
        let g = self.graph();
        let targets = g.select(names)?;
        self.bound_by(opts);
        self.preflight(names, &g.with_dependencies(&g.with_dependents(&targets)))?;
        let _lock = self.lock_for_run(opts)?;
        let wide = if opts.no_deps {
            targets.clone()
        } else {
            g.with_dependents(&targets)
        };
        let others: Vec<NodeId> = (0..g.len()).filter(|&i| wide[i] && !targets[i]).collect();
        let mut again = targets.clone();
        for (id, o) in others.iter().zip(self.driver.observe(&others)) {
            if o.status() != Status::Stopped {
                again[*id] = true;
            }
        }
        let stopped = self.stop_locked(&again, false, opts, reporter);
        if self.cancel.is_cancelled() {
            return Ok(RunReport {
                action: Action::Restart,
                ..stopped
            });
        }
        let started = self.start_locked(&g.with_dependencies(&again), opts, reporter);
        let mut results = started.results;
        for r in stopped.results.iter().filter(|r| !r.outcome.success()) {
            results.retain(|x| x.id != r.id);
            results.push(r.clone());
        }
        Ok(RunReport {
            action: Action::Restart,
            results,
            elapsed: stopped.elapsed + started.elapsed,
            interrupted: started.interrupted || stopped.interrupted,
            environment: [stopped.environment, started.environment].concat(),
            leftovers: Vec::new(),
            stopped: stopped.results,
        })
    }

    /// Runs a task in the foreground (its output streamed), after bringing up what it
    /// depends on when `deps`; never touches what depends on it.
    pub fn run_task(
        &self,
        name: &str,
        deps: bool,
        opts: &RunOptions,
        reporter: &dyn Reporter,
    ) -> Result<TaskRun> {
        let g = self.graph();
        let id = g.resolve(name)?;
        if g.kind(id) != Kind::Task {
            return Err(Error::usage(
                format!(
                    "`{}` is a {} component: `tta run` runs tasks",
                    g.name(id),
                    g.kind(id).as_str()
                ),
                Some(format!("`tta start {}` starts it", g.name(id))),
            ));
        }
        let mut sel = vec![false; g.len()];
        sel[id] = true;
        let mut with = g.with_dependencies(&sel);
        with[id] = false;
        if deps {
            self.preflight(&[], &with)?;
        }
        let _lock = self.lock_for_run(opts)?;
        let mut dependencies = None;
        if deps && with.iter().any(|&s| s) {
            let report = self.start_locked(&with, opts, reporter);
            let ok = report.success();
            dependencies = Some(report);
            if !ok {
                return Ok(TaskRun {
                    dependencies,
                    exit: None,
                });
            }
        }
        let exit = self.driver.run(id, &self.cancel).map_err(|e| {
            Error::usage(
                format!("cannot run {}: {}", g.name(id), e.failure.message),
                None,
            )
        })?;
        Ok(TaskRun { dependencies, exit })
    }

    /// The status of components (none: all), read from reality: records, process table,
    /// engine, and one run of each running component's probe.
    pub fn status(&self, names: &[String]) -> Result<Vec<ComponentStatus>> {
        let g = self.graph();
        let ids: Vec<NodeId> = if names.is_empty() {
            (0..g.len()).collect()
        } else {
            names.iter().map(|n| g.resolve(n)).collect::<Result<_>>()?
        };
        let mut sel = vec![false; g.len()];
        for &id in &ids {
            sel[id] = true;
        }
        let selected: Vec<NodeId> = (0..sel.len()).filter(|&i| sel[i]).collect();
        self.driver.preflight_read(&selected, Self::scope(names))?;
        let seen = self.driver.status(&ids);
        let up = StateDir::new(&self.settings.config().state_dir).read_up();
        Ok(ids
            .iter()
            .zip(seen)
            .map(|(&id, o)| {
                let mut row = self.status_row(id, o);
                if let Some(up) = &up
                    && let Some(s) = up.components.get(&row.name)
                {
                    let line = s.describe(up.pid, crate::state::now_epoch());
                    row.detail = Some(match row.detail.take() {
                        Some(d) if !d.is_empty() => format!("{d}; {line}"),
                        _ => line,
                    });
                    row.supervisor = Some(s.clone());
                }
                row
            })
            .collect())
    }

    fn status_row(&self, id: NodeId, o: Observation) -> ComponentStatus {
        let g = self.graph();
        let probe = self
            .settings
            .config()
            .components
            .get(g.name(id))
            .and_then(|s| s.probe.as_ref())
            .map(|p| match self.nodes[id].probe.as_ref() {
                Some(resolved) if uses_engine_host(&p.check) => resolved.check.clone(),
                _ => p.check.clone(),
            })
            .and_then(|check| match &check {
                ProbeCheck::Tcp(a) => Some(a.clone()),
                ProbeCheck::Http { url, .. } => Some(without_userinfo(url)),
                ProbeCheck::Exec(_) => None,
            });
        let mut endpoints = o.endpoints.clone();
        endpoints.extend(probe.filter(|p| !endpoints.contains(p)));
        ComponentStatus {
            endpoints,
            name: g.name(id).to_owned(),
            kind: g.kind(id),
            status: o.status(),
            health: o.health,
            since: o.since,
            up: o.up(),
            changed: o.changed,
            supervisor: None,
            detail: o.detail,
            depends_on: g.deps(id).iter().map(|e| g.name(e.to).to_owned()).collect(),
        }
    }

    /// Starts every component; name → success.
    pub fn start_all(&self) -> Result<IndexMap<String, bool>> {
        let r = self
            .start(&[], &RunOptions::default(), &NullReporter)
            .and_then(Self::or_environment_error)?;
        Ok(self.results(&r))
    }

    /// Starts one component and its dependencies; true when it is up.
    pub fn start_component(&self, name: &str) -> Result<bool> {
        let id = self.graph().resolve(name)?;
        let r = self
            .start(&[name.to_owned()], &RunOptions::default(), &NullReporter)
            .and_then(Self::or_environment_error)?;
        Ok(r.get(id).is_some_and(|c| c.outcome.success()))
    }

    /// Stops every component, in reverse dependency order; name → success.
    pub fn stop_all(&self) -> Result<IndexMap<String, bool>> {
        let r = self
            .stop(&[], &RunOptions::default(), &NullReporter)
            .and_then(Self::or_environment_error)?;
        Ok(self.results(&r))
    }

    /// Stops one component, after its running dependents; true when it is stopped.
    pub fn stop_component(&self, name: &str) -> Result<bool> {
        let id = self.graph().resolve(name)?;
        let r = self
            .stop(&[name.to_owned()], &RunOptions::default(), &NullReporter)
            .and_then(Self::or_environment_error)?;
        Ok(r.get(id).is_some_and(|c| c.outcome.success()))
    }

    /// Restarts one component (and its running dependents); true when it is up again.
    pub fn restart_component(&self, name: &str) -> Result<bool> {
        let id = self.graph().resolve(name)?;
        let r = self
            .restart(&[name.to_owned()], &RunOptions::default(), &NullReporter)
            .and_then(Self::or_environment_error)?;
        Ok(r.get(id).is_some_and(|c| c.outcome.success()))
    }

    /// The status of one component.
    pub fn get_component_status(&self, name: &str) -> Result<ComponentStatus> {
        self.status(&[name.to_owned()])?
            .pop()
            .ok_or_else(|| Error::UnknownComponent {
                name: name.to_owned(),
                suggestion: None,
            })
    }

    /// The status of every component, by name.
    pub fn get_all_statuses(&self) -> Result<IndexMap<String, ComponentStatus>> {
        Ok(self
            .status(&[])?
            .into_iter()
            .map(|s| (s.name.clone(), s))
            .collect())
    }

    /// Runs `docker compose ARGS` (or the detected compose command) in a repository
    /// (`all` or `both`: every one, one after another in config order), with its project
    /// name, compose files and profiles; repository → result (the spec's
    /// `dict[str, CompletedProcess]`). Transient engine errors are retried.
    pub fn run_docker_compose_command(
        &self,
        args: &[String],
        repository: &str,
    ) -> Result<IndexMap<String, ComposeRun>> {
        let selected = [repository.to_owned()];
        Passthrough::new(self.settings.config()).run(&selected, args, Mode::Capture, None)
    }

    /// The last `n` lines of a component's log (a local log file, or the container's log).
    pub fn log_tail(&self, id: NodeId, n: usize) -> Vec<String> {
        self.driver.log_tail(id, n)
    }

    /// Where a component's logs are read from (see [`crate::driver::LogSource`]).
    pub fn log_sources(
        &self,
        id: NodeId,
        query: &crate::driver::LogQuery,
    ) -> Vec<crate::driver::LogSource<'_>> {
        self.driver.log_sources(id, query)
    }

    /// A handle on one component (the spec's `Component`).
    pub fn component(&self, name: &str) -> Result<Component<'_>> {
        let id = self.graph().resolve(name)?;
        Ok(Component {
            orch: self,
            name: self.graph().name(id).to_owned(),
        })
    }

    fn results(&self, r: &RunReport) -> IndexMap<String, bool> {
        r.results
            .iter()
            .map(|c| (self.graph().name(c.id).to_owned(), c.outcome.success()))
            .collect()
    }
}
