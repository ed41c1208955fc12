//! The library's front door, mirroring the specification's `TTAOrchestrator` and
//! `Component`: load a configuration, then start, stop, restart and inspect components.
//!
//! Every lifecycle operation takes the state directory's run lock, so two programs (or two
//! `tta` runs) never start a component twice.

use std::path::Path;
use std::time::Duration;

use indexmap::IndexMap;
use serde::Serialize;

use crate::config::model::Kind;
use crate::driver::compose::{ComposeRun, Mode, Passthrough};
use crate::driver::{Driver, Health, Observation, Scope, Stack, Status};
use crate::error::{Error, LockHolder, Result};
use crate::graph::{Graph, NodeId, Selection};
use crate::runner::{
    self, Action, Cancel, ComponentPolicy, NullReporter, Reporter, RunReport, StartOptions,
    StopOptions,
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
    /// When it started, seconds since the epoch.
    pub since: Option<f64>,
    /// A short explanation.
    pub detail: Option<String>,
    /// What it depends on.
    pub depends_on: Vec<String>,
    /// Running (and healthy where it has a check), or completed.
    pub up: bool,
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

    /// An orchestrator for loaded settings, with the real drivers.
    pub fn new(settings: Settings) -> Self {
        let stack = Stack::new(settings.config(), settings.graph());
        Self::with_driver(settings, Box::new(stack))
    }

    /// An orchestrator with another driver (tests, embedding).
    pub fn with_driver(settings: Settings, driver: Box<dyn Driver>) -> Self {
        let nodes = ComponentPolicy::for_graph(settings.config(), settings.graph());
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

    /// The dependency graph.
    pub fn graph(&self) -> &Graph {
        self.settings.graph()
    }

    /// The cancellation token of this orchestrator's runs (Ctrl-C handlers cancel it).
    pub fn cancel_token(&self) -> &Cancel {
        &self.cancel
    }

    /// Takes the run lock, telling `waiting` once if another run holds it.
    pub fn lock(&self, wait: Duration, waiting: impl FnOnce(LockHolder)) -> Result<RunLock> {
        StateDir::new(&self.settings.config().state_dir).lock(wait, waiting)
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

    /// A run that met a broken environment (no compose command, a repository gone) is an
    /// environment error (exit code 3), whatever else it did.
    fn after_run(report: RunReport) -> Result<RunReport> {
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
        self.preflight(names, &sel)?;
        let _lock = self.lock_for_run(opts)?;
        Self::after_run(self.start_locked(&sel, opts, reporter))
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
        self.preflight(names, &self.graph().with_dependents(&sel))?;
        let _lock = self.lock_for_run(opts)?;
        let report = self.stop_locked(&sel, !opts.no_deps, opts, reporter);
        if Self::scope(names) == Scope::Everything && !self.cancel.is_cancelled() {
            // What earlier runs started that no component names any more.
            let grace = self.settings.config().defaults.stop_timeout;
            for line in self.driver.stop_leftovers(grace, &self.cancel) {
                tracing::warn!("{line}");
            }
        }
        Self::after_run(report)
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

    /// Stops components and their running dependents, starts the components again, then
    /// starts again the dependents that were running.
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
        let wide = g.with_dependents(&targets);
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
        for r in stopped.results.into_iter().filter(|r| !r.outcome.success()) {
            results.retain(|x| x.id != r.id);
            results.push(r);
        }
        Self::after_run(RunReport {
            action: Action::Restart,
            results,
            elapsed: stopped.elapsed + started.elapsed,
            interrupted: started.interrupted || stopped.interrupted,
        })
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
        self.preflight(names, &sel)?;
        let seen = self.driver.status(&ids);
        Ok(ids
            .iter()
            .zip(seen)
            .map(|(&id, o)| self.status_row(id, o))
            .collect())
    }

    fn status_row(&self, id: NodeId, o: Observation) -> ComponentStatus {
        let g = self.graph();
        ComponentStatus {
            name: g.name(id).to_owned(),
            kind: g.kind(id),
            status: o.status(),
            health: o.health,
            since: o.since,
            up: o.up(),
            detail: o.detail,
            depends_on: g.deps(id).iter().map(|e| g.name(e.to).to_owned()).collect(),
        }
    }

    /// Starts every component; name → success.
    pub fn start_all(&self) -> Result<IndexMap<String, bool>> {
        let r = self.start(&[], &RunOptions::default(), &NullReporter)?;
        Ok(self.results(&r))
    }

    /// Starts one component and its dependencies; true when it is up.
    pub fn start_component(&self, name: &str) -> Result<bool> {
        let id = self.graph().resolve(name)?;
        let r = self.start(&[name.to_owned()], &RunOptions::default(), &NullReporter)?;
        Ok(r.get(id).is_some_and(|c| c.outcome.success()))
    }

    /// Stops every component, in reverse dependency order; name → success.
    pub fn stop_all(&self) -> Result<IndexMap<String, bool>> {
        let r = self.stop(&[], &RunOptions::default(), &NullReporter)?;
        Ok(self.results(&r))
    }

    /// Stops one component, after its running dependents; true when it is stopped.
    pub fn stop_component(&self, name: &str) -> Result<bool> {
        let id = self.graph().resolve(name)?;
        let r = self.stop(&[name.to_owned()], &RunOptions::default(), &NullReporter)?;
        Ok(r.get(id).is_some_and(|c| c.outcome.success()))
    }

    /// Restarts one component (and its running dependents); true when it is up again.
    pub fn restart_component(&self, name: &str) -> Result<bool> {
        let id = self.graph().resolve(name)?;
        let r = self.restart(&[name.to_owned()], &RunOptions::default(), &NullReporter)?;
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
