//! The driver of compose components: it starts services with `up`, stops them with
//! `stop`, and judges them from the engine's snapshot.
//!
//! - Start: `<compose> -p P -f ... [--profile ..] up -d --no-deps -- s1 s2 ...` in the
//!   repository's folder ([`super::project`]). Dependencies are `tta`'s job, so
//!   `--no-deps`; services of one repository that become ready to start together go in one
//!   call. Independent repositories start in parallel. The project is recorded in the
//!   state directory ([`super::registry`]).
//! - Ready ([`super::observe`]): every container of the service runs, is healthy when it
//!   has a compose healthcheck, and is not in a crash loop (the runner's host probe, if
//!   any, comes after). The wait is woken by the engine's event stream (start, health
//!   status, die: [`super::engine::Engine::watch`]), not by a timer: a look every
//!   [`EVENTS_SAFETY_POLL`] only guards against a stream that went quiet, and an engine
//!   read through the CLI is polled every [`POLL_INTERVAL`]. A one-shot is ready when every container exited 0, however long
//!   that takes; one that exits non-zero, turns unhealthy or keeps restarting has failed,
//!   with its exit code and last log lines. No timer decides what a service is.
//! - Stop: `docker stop -t <grace> -- ID...` of the running containers the engine labels
//!   as the services', one call per repository for the services free to stop together
//!   (what `compose stop` does, without its start-up; it works when the compose files no
//!   longer load); a forced cancel kills instead. A small marker in the state directory remembers which
//!   containers `tta` stopped ([`super::markers`]). A stop of everything then stops what
//!   earlier runs started that no component names any more ([`Compose::stop_leftovers`]).
//! - Status: one container list per engine for every compose component of every
//!   repository ([`super::engine`]), all engines at once, never `compose ps`. No compose
//!   command runs for status.
//!
//! The compose command is detected once per run, and only when one is actually needed.
//! Failures of the environment (no compose, a repository folder gone) are returned as such
//! ([`Failure::environment`]), so the run ends with exit code 3.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use indexmap::IndexMap;

use super::cli::EngineCli;
use super::command::{self, ComposeCommand, Target, Unavailable, is_transient, output_text};
use super::engine::{Changes, Engine, bounded};
use super::project::{Project, STOP_SLACK};
use super::ps::{Container, State as ContainerState};
use super::registry::{Registry, Started};
use super::{lock, markers};
use crate::cancel::Cancel;
use crate::config::model::{Config, Kind, Lifetime};
use crate::driver::types::{ActionError, BatchKey, Failure, Observation, Poll, Scope, StopOutcome};
use crate::error::Error;
use crate::graph::{Graph, NodeId};
use crate::process::RunError;
use crate::state::StateDir;

/// How often a starting service is polled when its engine gives no events.
pub(crate) const POLL_INTERVAL: Duration = Duration::from_millis(100);
/// How often a starting service is looked at when its engine's events wake the wait.
pub(crate) const EVENTS_SAFETY_POLL: Duration = Duration::from_secs(1);
/// How far back the event stream starts: events are hints (the list is the truth), and an
/// engine on another host may keep another time.
const EVENTS_REPLAY: f64 = 30.0;
/// How many log lines a failure carries.
pub(super) const TAIL_LINES: usize = 10;

/// A compose component.
pub(super) struct Node {
    pub(super) name: String,
    pub(super) repo: usize,
    pub(super) service: String,
    start_timeout: Duration,
    /// Whether it runs once or runs on, as its compose files and dependents say.
    pub(super) lifetime: Lifetime,
}

/// How the compose command is chosen: `TTA_COMPOSE`, else `compose.command`, else detected.
#[derive(Debug, Clone, Default)]
pub(super) struct CommandChoice {
    env: Option<String>,
    configured: Option<Vec<String>>,
    detected: OnceLock<Result<Arc<ComposeCommand>, Unavailable>>,
}

impl CommandChoice {
    pub(super) fn new(env: Option<String>, config: &Config) -> Self {
        Self {
            env,
            configured: config.compose.command.clone(),
            detected: OnceLock::new(),
        }
    }

    /// The engine CLI that goes with the chosen command.
    pub(super) fn engine_cli(&self) -> EngineCli {
        let given = self
            .env
            .clone()
            .or_else(|| self.configured.as_ref().map(|c| c.join(" ")));
        given.map_or(EngineCli::Docker, |c| EngineCli::for_compose(&c))
    }

    /// The compose command, detected on first use.
    pub(super) fn get(&self) -> Result<Arc<ComposeCommand>, Unavailable> {
        self.detected
            .get_or_init(|| {
                ComposeCommand::detect(self.env.as_deref(), self.configured.as_deref())
                    .map(Arc::new)
            })
            .clone()
    }
}

/// The driver of compose components.
pub(crate) struct Compose {
    pub(super) nodes: Vec<Option<Node>>,
    pub(super) projects: Vec<Project>,
    pub(super) engines: Vec<Engine>,
    pub(super) state: StateDir,
    command: CommandChoice,
    started: Mutex<HashMap<NodeId, Instant>>,
    /// Restart counts of containers when a start's wait first saw them.
    restarts: Mutex<HashMap<String, u32>>,
    /// The run's deadline, if it has one.
    deadline: Mutex<Option<Instant>>,
    /// `--build`, `--pull` of the run.
    up_options: Mutex<crate::driver::UpOptions>,
    /// Rung by every engine's event stream.
    pub(super) changes: Arc<Changes>,
    /// The change count when each waiting component was last polled.
    seen: Mutex<HashMap<NodeId, u64>>,
}

/// The projects of every configured repository and the engines that serve them (one per
/// docker context and `.env` `DOCKER_HOST`). Project names recorded in `state` keep a moved
/// repository's project.
pub(super) fn projects_and_engines(
    config: &Config,
    cli: EngineCli,
    state: &StateDir,
    changes: &Arc<Changes>,
) -> (Vec<Project>, Vec<Engine>) {
    let registry = Registry::load(state);
    let mut engines: Vec<Engine> = Vec::new();
    let mut projects = Vec::with_capacity(config.repositories.len());
    for (name, repo) in &config.repositories {
        let env = crate::compose_file::project_env(repo);
        let host = env.docker_host.clone();
        let engine = if let Some(i) = engines
            .iter()
            .position(|e| e.context() == repo.context.as_deref() && e.host() == host.as_deref())
        {
            i
        } else {
            engines.push(Engine::new(
                cli,
                repo.context.clone(),
                host,
                changes.clone(),
            ));
            engines.len() - 1
        };
        let recorded = registry.project_of(name, &repo.path);
        let mut project = Project::new(name, repo, &env, recorded, engine);
        if let Ok(t) = &mut project.target {
            engines[engine].serve(t.project.clone());
            if t.context.is_some() {
                t.endpoint_env = engines[engine].endpoint().ok().map(|e| e.compose_env());
            }
        }
        projects.push(project);
    }
    (projects, engines)
}

impl Compose {
    /// The driver for the compose components of `graph` (and every configured repository).
    /// Reads `TTA_COMPOSE`; runs nothing.
    pub(crate) fn new(config: &Config, graph: &Graph) -> Self {
        Self::with_env(config, graph, std::env::var("TTA_COMPOSE").ok())
    }

    /// [`Compose::new`] with an explicit `TTA_COMPOSE`.
    pub(crate) fn with_env(config: &Config, graph: &Graph, env_command: Option<String>) -> Self {
        let command = CommandChoice::new(env_command, config);
        let state = StateDir::new(&config.state_dir);
        let changes = Arc::new(Changes::default());
        let (projects, engines) =
            projects_and_engines(config, command.engine_cli(), &state, &changes);
        let nodes = graph
            .names()
            .iter()
            .map(|n| {
                let spec = config.components.get(n)?;
                if spec.kind != Kind::Compose {
                    return None;
                }
                let repo = projects
                    .iter()
                    .position(|r| Some(&r.name) == spec.repository.as_ref())?;
                Some(Node {
                    name: n.clone(),
                    repo,
                    service: spec.service.clone().unwrap_or_else(|| n.clone()),
                    start_timeout: spec.start_timeout.unwrap_or(config.defaults.start_timeout),
                    lifetime: spec.lifetime,
                })
            })
            .collect();
        Self {
            nodes,
            projects,
            engines,
            state,
            command,
            started: Mutex::new(HashMap::new()),
            restarts: Mutex::new(HashMap::new()),
            deadline: Mutex::new(None),
            up_options: Mutex::new(crate::driver::UpOptions::default()),
            changes,
            seen: Mutex::new(HashMap::new()),
        }
    }

    /// The engine of a compose component.
    pub(crate) fn engine_of_id(&self, id: NodeId) -> Option<&Engine> {
        self.node(id).map(|n| self.engine_of(n))
    }

    /// What `{engine_host}` stands for in a component's probe: the host of the engine its
    /// repository runs on (`None`: not a compose component).
    pub(crate) fn engine_host(&self, id: NodeId) -> Option<String> {
        self.node(id).map(|n| self.engine_of(n).engine_host())
    }

    /// The host of the engine that components outside any repository see: the default
    /// one (`DOCKER_HOST`, `DOCKER_CONTEXT`, the current context).
    pub(crate) fn default_engine_host(&self) -> String {
        super::endpoint::resolve(self.engine_cli(), None, None, &super::endpoint::process_env)
            .map_or_else(|_| "127.0.0.1".to_owned(), |e| e.engine_host())
    }

    /// The engines, for `tta doctor` and warnings: each with the repositories it serves.
    pub(crate) fn engines(&self) -> Vec<(&Engine, Vec<&str>)> {
        self.engines
            .iter()
            .enumerate()
            .map(|(i, e)| {
                let repos = self
                    .projects
                    .iter()
                    .filter(|p| p.engine == i)
                    .map(|p| p.name.as_str())
                    .collect();
                (e, repos)
            })
            .collect()
    }

    /// How often a starting component is looked at: rarely when its engine's events wake
    /// the wait, else every [`POLL_INTERVAL`].
    pub(crate) fn poll_interval(&self, id: NodeId) -> Duration {
        match self.node(id) {
            Some(n) if self.engine_of(n).events_live() => EVENTS_SAFETY_POLL,
            _ => POLL_INTERVAL,
        }
    }

    /// Sleeps until something happens on the component's engine (an event after its last
    /// poll), `until`, or a cancel.
    pub(crate) fn wait(&self, id: NodeId, until: Instant, cancel: &Cancel) {
        match lock(&self.seen).get(&id).copied() {
            Some(seen)
                if self
                    .node(id)
                    .is_some_and(|n| self.engine_of(n).events_live()) =>
            {
                self.changes.wait(seen, until, cancel);
            }
            _ => {
                cancel.sleep(until.saturating_duration_since(Instant::now()));
            }
        }
    }

    /// The number of engine events seen so far (see [`Compose::wait_for_change`]).
    pub(crate) fn change_count(&self) -> u64 {
        self.changes.generation()
    }

    /// Waits for an engine event after `seen` (reading every engine's event stream),
    /// `until`, or a cancel; true when one came.
    pub(crate) fn wait_for_change(&self, seen: u64, until: Instant, cancel: &Cancel) -> bool {
        let since = crate::state::now_epoch();
        let mut live = false;
        for e in self.engines.iter().filter(|e| !e.projects().is_empty()) {
            live |= e.watch(since);
        }
        if !live {
            cancel.sleep(until.saturating_duration_since(Instant::now()));
            return false;
        }
        self.changes.wait(seen, until, cancel)
    }

    /// Bounds every later engine and compose call by the run's deadline.
    pub(crate) fn set_deadline(&self, deadline: Option<Instant>) {
        *lock(&self.deadline) = deadline;
        for e in &self.engines {
            e.set_deadline(deadline);
        }
    }

    /// `limit`, or less when the run's deadline comes first.
    pub(super) fn bound(&self, limit: Duration) -> Duration {
        bounded(limit, *lock(&self.deadline))
    }

    /// Whether the engine restarted a container since a start's wait first saw it.
    pub(super) fn restarted_since_seen(&self, c: &Container) -> bool {
        let now = c.restart_count.unwrap_or(0);
        let mut seen = lock(&self.restarts);
        let first = *seen.entry(c.id.clone()).or_insert(now);
        now > first
    }

    pub(super) fn node(&self, id: NodeId) -> Option<&Node> {
        self.nodes.get(id).and_then(Option::as_ref)
    }

    /// The engine that serves a component's repository.
    pub(super) fn engine_of(&self, node: &Node) -> &Engine {
        &self.engines[self.projects[node.repo].engine]
    }

    /// The engine CLI that goes with the compose command.
    pub(super) fn engine_cli(&self) -> EngineCli {
        self.command.engine_cli()
    }

    /// The compose command, detected on first use.
    pub(crate) fn command(&self) -> Result<Arc<ComposeCommand>, Unavailable> {
        self.command.get()
    }

    /// Checks what the components `ids` need before a command touches them: their
    /// repositories' folders (all repositories whose services are discovered, too, for
    /// [`Scope::Everything`]) and engines that answer (all asked at once). Stops at the
    /// first problem; for a command that only `reads`, an engine that cannot be reached
    /// is a problem only when none can (its components are then `unknown`).
    pub(crate) fn preflight(&self, ids: &[NodeId], scope: Scope, reads: bool) -> Result<(), Error> {
        let mut repos: Vec<usize> = ids
            .iter()
            .filter_map(|&i| self.node(i))
            .map(|n| n.repo)
            .collect();
        if scope == Scope::Everything {
            repos.extend((0..self.projects.len()).filter(|&i| self.projects[i].config.discover));
        }
        repos.sort_unstable();
        repos.dedup();
        if let Some(r) = repos.iter().find(|&&r| !self.projects[r].present()) {
            return Err(self.projects[*r].missing());
        }
        let snaps = self.snapshots(&self.engines_of(ids));
        let failed: Vec<&super::engine::PsError> = snaps
            .values()
            .filter_map(|s| s.as_ref().as_ref().err())
            .collect();
        let tolerated = reads && failed.len() < snaps.len() && failed.iter().all(|e| e.unreachable);
        match failed.first() {
            Some(err) if !tolerated => {
                Err(Error::environment(err.message.clone(), err.hint.clone()))
            }
            _ => Ok(()),
        }
    }

    /// One list of each of these engines, all asked at once.
    fn snapshots(&self, engines: &[usize]) -> HashMap<usize, super::engine::Snapshot> {
        if engines.len() < 2 {
            return engines
                .iter()
                .map(|&e| (e, self.engines[e].snapshot(None)))
                .collect();
        }
        std::thread::scope(|s| {
            let hs: Vec<_> = engines
                .iter()
                .map(|&e| (e, s.spawn(move || self.engines[e].snapshot(None))))
                .collect();
            hs.into_iter()
                .filter_map(|(e, h)| h.join().ok().map(|snap| (e, snap)))
                .collect()
        })
    }

    /// The engines (distinct, sorted) that serve these components.
    pub(super) fn engines_of(&self, ids: &[NodeId]) -> Vec<usize> {
        let mut engines: Vec<usize> = ids
            .iter()
            .filter_map(|&i| self.node(i))
            .map(|n| self.projects[n.repo].engine)
            .collect();
        engines.sort_unstable();
        engines.dedup();
        engines
    }

    // ---- actions ------------------------------------------------------------------

    /// Which components may be started together: those of one repository.
    pub(crate) fn batch_key(&self, id: NodeId) -> Option<BatchKey> {
        self.node(id).map(|n| BatchKey(n.repo))
    }

    /// Starts services: one `up -d --no-deps` per repository for all of its `ids`.
    pub(crate) fn start_batch(
        &self,
        ids: &[NodeId],
        cancel: &Cancel,
    ) -> Vec<Result<(), ActionError>> {
        let mut out: Vec<Option<Result<(), ActionError>>> = vec![None; ids.len()];
        let mut groups: IndexMap<usize, Vec<usize>> = IndexMap::new();
        for (i, &id) in ids.iter().enumerate() {
            match self.node(id) {
                Some(n) => groups.entry(n.repo).or_default().push(i),
                None => {
                    out[i] = Some(Err(ActionError::permanent(Failure::new(
                        "not a compose component",
                    ))));
                }
            }
        }
        for (repo, positions) in groups {
            let group: Vec<NodeId> = positions.iter().map(|&i| ids[i]).collect();
            for (pos, r) in positions.into_iter().zip(self.up(repo, &group, cancel)) {
                out[pos] = Some(r);
            }
        }
        out.into_iter()
            .map(|r| r.unwrap_or_else(|| Err(ActionError::permanent(Failure::new("not started")))))
            .collect()
    }

    /// What a compose call in a project needs: its folder, its target and the command.
    /// What is missing is a failure of the environment.
    pub(super) fn prepare<'p>(
        &self,
        project: &'p Project,
    ) -> Result<(&'p Target, Arc<ComposeCommand>), ActionError> {
        if !project.present() {
            let e = project.missing();
            let hint = e.hint().unwrap_or_default();
            return Err(ActionError::permanent(Failure::environment(
                e.to_string(),
                hint,
            )));
        }
        let target = project
            .target
            .as_ref()
            .map_err(|e| ActionError::permanent(Failure::new(e.clone())))?;
        let cmd = self
            .command()
            .map_err(|u| ActionError::permanent(Failure::environment(u.message, u.hint)))?;
        Ok((target, cmd))
    }

    fn up(&self, repo: usize, ids: &[NodeId], cancel: &Cancel) -> Vec<Result<(), ActionError>> {
        let all = |r: Result<(), ActionError>| vec![r; ids.len()];
        let project = &self.projects[repo];
        let (target, cmd) = match self.prepare(project) {
            Ok(p) => p,
            Err(e) => return all(Err(e)),
        };
        let nodes: Vec<&Node> = ids.iter().filter_map(|&i| self.node(i)).collect();
        for n in &nodes {
            markers::clear(&self.state, &n.name);
            self.state.clear_failure(&n.name);
        }
        let services: Vec<String> = nodes.iter().map(|n| n.service.clone()).collect();
        let deadline = self.bound(
            nodes
                .iter()
                .map(|n| n.start_timeout)
                .max()
                .unwrap_or_default(),
        );
        let engine = &self.engines[project.engine];
        // Events from before the call on are read, so none of its services' is missed.
        engine.watch(crate::state::now_epoch() - EVENTS_REPLAY);
        let options = *lock(&self.up_options);
        let result = project.up(&cmd, target, &services, options, deadline, cancel, engine);
        let shown = format!(
            "{} {}up -d --no-deps{} -- {}",
            cmd.argv.join(" "),
            if options.pull { "pull, then " } else { "" },
            if options.build { " --build" } else { "" },
            services.join(" ")
        );
        match result {
            Ok(c) if c.success() => {
                for &id in ids {
                    self.mark_started(id);
                }
                self.record(project, target);
                all(Ok(()))
            }
            Ok(c) => {
                let text = output_text(&c);
                let transient = is_transient(&text);
                if !transient && ids.len() > 1 {
                    // Find out which service it was: one call each.
                    return ids
                        .iter()
                        .flat_map(|&id| self.up(repo, &[id], cancel))
                        .collect();
                }
                let code = c
                    .code()
                    .map_or_else(|| "a signal".to_owned(), |n| format!("code {n}"));
                all(Err(ActionError {
                    failure: Failure {
                        message: format!(
                            "`{shown}` exited with {code}: {}",
                            command::error_line(&text)
                        ),
                        exit_code: c.code(),
                        log_tail: last_lines(&text, TAIL_LINES),
                        environment: None,
                    },
                    transient,
                }))
            }
            // A command that hung until its start_timeout is not retried: each retry
            // would wait as long again.
            Err(e) => all(Err(ActionError::permanent(match e {
                RunError::NotFound(_) => Failure::environment(
                    command::run_error(&cmd.argv[..1], &e),
                    "install it, or set TTA_COMPOSE",
                ),
                _ => Failure::new(command::run_error(&cmd.argv[..cmd.argv.len().min(2)], &e)),
            }))),
        }
    }

    /// Notes that `id` was started (or restarted) now: its readiness is judged from
    /// snapshots taken after this.
    pub(super) fn mark_started(&self, id: NodeId) {
        lock(&self.started).insert(id, Instant::now());
    }

    /// Records that this run started containers in a repository's project.
    fn record(&self, project: &Project, target: &Target) {
        let engine = &self.engines[project.engine];
        Registry::record(
            &self.state,
            &project.name,
            &project.config.path,
            Started {
                project: target.project.clone(),
                context: engine.context().map(str::to_owned),
                host: engine.host().map(str::to_owned),
            },
        );
    }

    /// How far a started service is towards ready.
    pub(crate) fn poll(&self, id: NodeId) -> Poll {
        let Some(node) = self.node(id) else {
            return Poll::Failed(Failure::new("not a compose component"));
        };
        let started = lock(&self.started).get(&id).copied();
        let engine = self.engine_of(node);
        engine.watch(crate::state::now_epoch() - EVENTS_REPLAY);
        lock(&self.seen).insert(id, self.changes.generation());
        let snap = engine.snapshot(started);
        let snap = match &*snap {
            Ok(s) => s,
            Err(e) => return Poll::Pending(Some(format!("engine: {}", e.message))),
        };
        let cs = self.containers(node, snap);
        if cs.is_empty() {
            if started.is_none_or(|t| t.elapsed() < Duration::from_secs(5)) {
                return Poll::Pending(Some("waiting for its container".into()));
            }
            let repo = &self.projects[node.repo].name;
            return Poll::Failed(Failure::new(format!(
                "service {} has no container after `up`; see `tta compose --repo {repo} ps`",
                node.service
            )));
        }
        self.readiness(node, &cs)
    }

    /// Stops a service: `stop -t <grace>`, or `kill` on a forced cancel.
    pub(crate) fn stop(
        &self,
        id: NodeId,
        grace: Duration,
        cancel: &Cancel,
    ) -> Result<StopOutcome, ActionError> {
        self.stop_batch(&[id], grace, cancel)
            .pop()
            .unwrap_or(Ok(StopOutcome::AlreadyStopped))
    }

    /// Stops services: one `stop` call per repository for those of `ids` that run.
    pub(crate) fn stop_batch(
        &self,
        ids: &[NodeId],
        grace: Duration,
        cancel: &Cancel,
    ) -> Vec<Result<StopOutcome, ActionError>> {
        let mut out: Vec<Result<StopOutcome, ActionError>> = ids
            .iter()
            .map(|_| {
                Err(ActionError::permanent(Failure::new(
                    "not a compose component",
                )))
            })
            .collect();
        let mut groups: IndexMap<usize, Vec<usize>> = IndexMap::new();
        for (i, &id) in ids.iter().enumerate() {
            if let Some(n) = self.node(id) {
                groups.entry(n.repo).or_default().push(i);
            }
        }
        for (repo, positions) in groups {
            let group: Vec<NodeId> = positions.iter().map(|&i| ids[i]).collect();
            for (pos, r) in positions
                .into_iter()
                .zip(self.stop_repo(repo, &group, grace, cancel))
            {
                out[pos] = r;
            }
        }
        out
    }

    fn stop_repo(
        &self,
        repo: usize,
        ids: &[NodeId],
        grace: Duration,
        cancel: &Cancel,
    ) -> Vec<Result<StopOutcome, ActionError>> {
        let project = &self.projects[repo];
        let engine = &self.engines[project.engine];
        let nodes: Vec<&Node> = ids.iter().filter_map(|&i| self.node(i)).collect();
        let per_node: Vec<Vec<Container>> = match &*engine.snapshot(Some(Instant::now())) {
            Ok(s) => nodes
                .iter()
                .map(|n| self.containers(n, s).into_iter().cloned().collect())
                .collect(),
            Err(e) => {
                let err = ActionError {
                    failure: Failure::new(e.message.clone()),
                    transient: true,
                };
                return vec![Err(err); ids.len()];
            }
        };
        let running = |cs: &[Container]| {
            cs.iter().any(|c| {
                matches!(
                    c.state,
                    ContainerState::Running | ContainerState::Restarting | ContainerState::Paused
                )
            })
        };
        let services: Vec<String> = nodes
            .iter()
            .zip(&per_node)
            .filter(|(_, cs)| running(cs))
            .map(|(n, _)| n.service.clone())
            .collect();
        let mut result = Ok(());
        if !services.is_empty() {
            let live: Vec<&Container> = per_node
                .iter()
                .flatten()
                .filter(|c| running(std::slice::from_ref(*c)))
                .collect();
            result = self.compose_stop(project, &services, &live, grace, cancel);
        }
        engine.invalidate();
        let mut started = lock(&self.started);
        nodes
            .iter()
            .zip(&per_node)
            .map(|(n, cs)| {
                if cs.is_empty() {
                    return Ok(StopOutcome::AlreadyStopped);
                }
                let was_running = running(cs);
                if was_running {
                    result.clone()?;
                }
                if let Some(id) = ids
                    .iter()
                    .find(|&&i| self.node(i).is_some_and(|x| x.name == n.name))
                {
                    started.remove(id);
                }
                let cids: Vec<&str> = cs.iter().map(|c| c.id.as_str()).collect();
                markers::write(&self.state, &n.name, &cids);
                self.state.clear_failure(&n.name);
                Ok(if was_running {
                    StopOutcome::Stopped
                } else {
                    StopOutcome::AlreadyStopped
                })
            })
            .collect()
    }

    /// Stops the running containers of services: `docker stop -t GRACE` by container id,
    /// which is what `compose stop` does, without compose's start-up and file parsing (at
    /// 40 services per repository, most of its time), and possible when the compose files
    /// no longer load.
    fn compose_stop(
        &self,
        project: &Project,
        services: &[String],
        live: &[&Container],
        grace: Duration,
        cancel: &Cancel,
    ) -> Result<(), ActionError> {
        let ids: Vec<&str> = live.iter().map(|c| c.id.as_str()).collect();
        let engine = &self.engines[project.engine];
        let limit = self.bound(grace + STOP_SLACK);
        engine
            .stop_containers(&ids, grace, limit, Some(cancel))
            .map_err(|why| ActionError {
                transient: is_transient(&why),
                failure: Failure::new(format!(
                    "cannot stop {} of repository {}: {why}",
                    services.join(", "),
                    project.name
                )),
            })
    }

    /// The last lines of a service's container log.
    pub(crate) fn log_tail(&self, id: NodeId, n: usize) -> Vec<String> {
        let Some(node) = self.node(id) else {
            return Vec::new();
        };
        let engine = self.engine_of(node);
        match &*engine.snapshot(None) {
            Ok(s) => self
                .containers(node, s)
                .first()
                .map(|c| engine.logs(&c.id, n))
                .unwrap_or_default(),
            Err(_) => Vec::new(),
        }
    }

    /// Observes compose components: one container list per engine for all of them, every
    /// engine at once.
    pub(crate) fn observe(&self, ids: &[NodeId]) -> Vec<Observation> {
        let snaps = self.snapshots(&self.engines_of(ids));
        ids.iter()
            .map(|&id| {
                match self
                    .node(id)
                    .and_then(|n| snaps.get(&self.projects[n.repo].engine))
                {
                    Some(snap) => {
                        let mut o = self.observe_node(id, snap);
                        let options = *lock(&self.up_options);
                        o.refresh = options.build || options.pull;
                        o
                    }
                    None => Observation::new(
                        crate::driver::Status::Error,
                        Some("not a compose component".to_owned()),
                    ),
                }
            })
            .collect()
    }
}

/// The last `n` non-empty lines of a text.
pub(super) fn last_lines(text: &str, n: usize) -> Vec<String> {
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    lines[lines.len().saturating_sub(n)..]
        .iter()
        .map(|l| (*l).to_owned())
        .collect()
}

impl crate::driver::Driver for Compose {
    fn preflight(&self, ids: &[NodeId], scope: Scope) -> Result<(), Error> {
        Compose::preflight(self, ids, scope, false)
    }

    fn preflight_read(&self, ids: &[NodeId], scope: Scope) -> Result<(), Error> {
        Compose::preflight(self, ids, scope, true)
    }

    fn observe(&self, ids: &[NodeId]) -> Vec<Observation> {
        Compose::observe(self, ids)
    }

    fn start_batch(&self, ids: &[NodeId], cancel: &Cancel) -> Vec<Result<(), ActionError>> {
        Compose::start_batch(self, ids, cancel)
    }

    fn start(&self, id: NodeId, cancel: &Cancel) -> Result<(), ActionError> {
        Compose::start_batch(self, &[id], cancel)
            .pop()
            .unwrap_or(Ok(()))
    }

    fn poll(&self, id: NodeId) -> Poll {
        Compose::poll(self, id)
    }

    fn poll_interval(&self, id: NodeId) -> Duration {
        Compose::poll_interval(self, id)
    }

    fn wait(&self, id: NodeId, until: Instant, cancel: &Cancel) {
        Compose::wait(self, id, until, cancel);
    }

    fn change_count(&self) -> u64 {
        Compose::change_count(self)
    }

    fn wait_for_change(&self, seen: u64, until: Instant, cancel: &Cancel) -> bool {
        Compose::wait_for_change(self, seen, until, cancel)
    }

    fn batch_key(&self, id: NodeId) -> Option<BatchKey> {
        Compose::batch_key(self, id)
    }

    fn stop(
        &self,
        id: NodeId,
        grace: Duration,
        cancel: &Cancel,
    ) -> Result<StopOutcome, ActionError> {
        Compose::stop(self, id, grace, cancel)
    }

    fn stop_batch(
        &self,
        ids: &[NodeId],
        grace: Duration,
        cancel: &Cancel,
    ) -> Vec<Result<StopOutcome, ActionError>> {
        Compose::stop_batch(self, ids, grace, cancel)
    }

    fn set_deadline(&self, deadline: Option<Instant>) {
        Compose::set_deadline(self, deadline);
    }

    fn stop_leftovers(
        &self,
        grace: Duration,
        cancel: &Cancel,
    ) -> Vec<(String, Result<StopOutcome, ActionError>)> {
        Compose::stop_leftovers(self, grace, cancel)
    }

    fn log_tail(&self, id: NodeId, n: usize) -> Vec<String> {
        Compose::log_tail(self, id, n)
    }

    fn set_up_options(&self, options: crate::driver::UpOptions) {
        *lock(&self.up_options) = options;
    }

    /// The log of each of the service's containers (one per replica), oldest first, read
    /// through its engine.
    fn log_sources(
        &self,
        id: NodeId,
        query: &crate::driver::LogQuery,
    ) -> Vec<crate::driver::LogSource<'_>> {
        let Some(node) = self.node(id) else {
            return Vec::new();
        };
        let engine = self.engine_of(node);
        let Ok(snap) = &*engine.snapshot(None) else {
            return Vec::new();
        };
        let mut cs = self.containers(node, snap);
        cs.sort_by(|a, b| a.name.cmp(&b.name));
        let several = cs.len() > 1;
        cs.iter()
            .enumerate()
            .map(|(i, c)| crate::driver::LogSource::Container {
                label: if several {
                    format!("{}-{}", node.name, i + 1)
                } else {
                    node.name.clone()
                },
                log: crate::driver::ContainerLog::new(engine, c.id.clone(), query.clone()),
            })
            .collect()
    }

    fn watch(&self, id: NodeId, cancel: &Cancel) -> crate::driver::Ended {
        Compose::watch(self, id, cancel)
    }

    fn follow(
        &self,
        id: NodeId,
        since: f64,
        line: &(dyn Fn(Vec<u8>) + Sync),
        cancel: &Cancel,
    ) -> bool {
        Compose::follow(self, id, since, line, cancel)
    }

    fn restart(&self, id: NodeId, grace: Duration, cancel: &Cancel) -> Result<(), ActionError> {
        Compose::restart(self, id, grace, cancel)
    }

    fn note_failure(&self, id: NodeId, failure: &Failure) {
        if let Some(node) = self.node(id) {
            self.state.note_failure(
                &node.name,
                &crate::state::LastFailure::now(&failure.message, failure.exit_code),
            );
        }
    }
}
