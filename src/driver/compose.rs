//! The `compose` component kind: services of Docker Compose projects, one project per
//! repository.
//!
//! - Start: `<compose> -p P -f ... [--profile ..] up -d --no-deps s1 s2 ...` in the
//!   repository's folder. Dependencies are `tta`'s job, so `--no-deps`; services of one
//!   repository that become ready to start together go in one call ([`Compose::start_batch`]).
//!   `up` calls run one at a time per repository (two at once race to create the project's
//!   network), and one at a time per engine for repositories whose compose files use an
//!   external network: concurrent `up` on a shared network has deadlocked for real users.
//!   Independent repositories start in parallel.
//! - Ready: the container runs and, when it has a compose healthcheck, reports healthy (the
//!   runner's host probe, if any, comes after). A one-shot service that exits 0 is
//!   `completed`; one that exits non-zero, turns unhealthy or keeps restarting has failed,
//!   with its exit code and last log lines.
//! - Stop: `<compose> ... stop -t <grace> <service>`; a forced cancel kills instead. A
//!   small marker in the state directory remembers which containers `tta` stopped, so an
//!   exited container reads as `stopped` rather than as a completed one-shot (so does one
//!   that a signal ended, or one with a healthcheck that exited 0: those are services).
//! - Status: one `docker ps -a` per engine for every compose component of every repository
//!   (the `ps` module), never `compose ps`; results are shared for up to 100 ms so that
//!   parallel pollers cost one engine call. No compose command runs for status.
//!
//! The compose command is detected once per run, and only when a compose command is
//! actually needed (the `command` module). Environment failures (no compose, engine down,
//! missing repository folder) are kept for the orchestrator to report with exit code 3.

mod command;
mod engine;
mod observe;
mod ps;
mod repos;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use indexmap::IndexMap;

pub use command::output_text;
pub use command::{
    ComposeCommand, Flavor, Source, Target, Unavailable, default_project_name, engine_hint,
    engine_unreachable, error_line, is_transient,
};
pub use ps::{Container, State as ContainerState, TEMPLATE, parse as parse_ps};
pub use repos::{ComposeRun, Sink, select_repositories};

use super::types::{ActionError, Failure, Health, Poll, StopOutcome};
use crate::cancel::Cancel;
use crate::cancel::Level;
use crate::config::model::{Config, Kind, Repository, Retry};
use crate::error::Error;
use crate::graph::{Graph, NodeId};
use crate::process::{RunError, Spec};
use crate::state::StateDir;

/// How long a `docker ps` result is shared between callers.
pub const PS_MAX_AGE: Duration = Duration::from_millis(100);
/// A started service without a healthcheck counts as running once it has stayed up this
/// long, so a container that exits at once is reported failed, not started.
pub const SETTLE: Duration = Duration::from_millis(300);
/// How often a starting service is polled.
pub const POLL_INTERVAL: Duration = Duration::from_millis(100);
/// How long `docker ps` and `docker logs` may take.
const ENGINE_DEADLINE: Duration = Duration::from_secs(30);
/// How long a `stop` may take beyond its grace period. (An `up` is bounded by the
/// `start_timeout` of the services it starts, so a hung compose is killed at that timeout.)
const MIN_UP_DEADLINE: Duration = Duration::from_secs(120);
/// How many log lines a failure carries.
const TAIL_LINES: usize = 10;

/// Why `docker ps` gave no answer, worded for the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PsError {
    /// What went wrong.
    pub message: String,
    /// What to do.
    pub hint: String,
}

type Snapshot = Arc<Result<Vec<Container>, PsError>>;

struct Cached {
    /// When the call that produced it began.
    taken: Instant,
    result: Snapshot,
}

/// One engine (a docker context, or the default one) and what is cached about it.
struct Engine {
    context: Option<String>,
    projects: Vec<String>,
    cache: Mutex<Option<Cached>>,
    fetching: Mutex<()>,
    /// Held by `up` calls of repositories on a shared (external) network.
    shared_up: Mutex<()>,
}

struct Repo {
    name: String,
    config: Repository,
    target: Result<Target, String>,
    engine: usize,
    /// Held by this repository's `up` calls.
    up: Mutex<()>,
    /// Whether it uses an external network, read from its files at the first `up`.
    shared: OnceLock<bool>,
}

struct Node {
    name: String,
    repo: usize,
    service: String,
    start_timeout: Duration,
    /// The compose file gives it a healthcheck: a long-running service, not a one-shot.
    healthcheck: bool,
}

/// The driver of compose components (and the runner of `tta compose`).
pub struct Compose {
    nodes: Vec<Option<Node>>,
    repos: Vec<Repo>,
    engines: Vec<Engine>,
    state: StateDir,
    cli: &'static str,
    env_command: Option<String>,
    config_command: Option<Vec<String>>,
    command: OnceLock<Result<Arc<ComposeCommand>, Unavailable>>,
    env_error: Mutex<Option<Error>>,
    started: Mutex<HashMap<NodeId, Instant>>,
    retry: Retry,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Compose {
    /// The driver for the compose components of `graph` (and every configured repository).
    /// Reads `TTA_COMPOSE`; runs nothing.
    pub fn new(config: &Config, graph: &Graph) -> Self {
        Self::with_env(config, graph, std::env::var("TTA_COMPOSE").ok())
    }

    /// [`Compose::new`] with an explicit `TTA_COMPOSE`.
    pub fn with_env(config: &Config, graph: &Graph, env_command: Option<String>) -> Self {
        let mut engines: Vec<Engine> = Vec::new();
        let mut repos = Vec::with_capacity(config.repositories.len());
        for (name, repo) in &config.repositories {
            let target = Target::new(name, repo);
            let engine = if let Some(i) = engines.iter().position(|e| e.context == repo.context) {
                i
            } else {
                engines.push(Engine {
                    context: repo.context.clone(),
                    projects: Vec::new(),
                    cache: Mutex::new(None),
                    fetching: Mutex::new(()),
                    shared_up: Mutex::new(()),
                });
                engines.len() - 1
            };
            if let Ok(t) = &target {
                engines[engine].projects.push(t.project.clone());
            }
            repos.push(Repo {
                name: name.clone(),
                config: repo.clone(),
                target,
                engine,
                up: Mutex::new(()),
                shared: OnceLock::new(),
            });
        }
        let nodes = graph
            .names()
            .iter()
            .map(|n| {
                let spec = config.components.get(n)?;
                if spec.kind != Kind::Compose {
                    return None;
                }
                let repo = repos
                    .iter()
                    .position(|r| Some(&r.name) == spec.repository.as_ref())?;
                Some(Node {
                    name: n.clone(),
                    repo,
                    service: spec.service.clone().unwrap_or_else(|| n.clone()),
                    start_timeout: spec.start_timeout.unwrap_or(config.defaults.start_timeout),
                    healthcheck: spec.healthcheck,
                })
            })
            .collect();
        let podman = env_command
            .as_deref()
            .map(str::to_owned)
            .or_else(|| config.compose.command.as_ref().map(|c| c.join(" ")))
            .is_some_and(|c| c.trim_start().starts_with("podman"));
        Self {
            nodes,
            repos,
            engines,
            state: StateDir::new(&config.state_dir),
            cli: if podman { "podman" } else { "docker" },
            env_command,
            config_command: config.compose.command.clone(),
            command: OnceLock::new(),
            env_error: Mutex::new(None),
            started: Mutex::new(HashMap::new()),
            retry: config.defaults.retry,
        }
    }

    fn node(&self, id: NodeId) -> Option<&Node> {
        self.nodes.get(id).and_then(Option::as_ref)
    }

    /// The compose command, detected on first use.
    pub fn command(&self) -> Result<Arc<ComposeCommand>, Unavailable> {
        self.command
            .get_or_init(|| {
                ComposeCommand::detect(self.env_command.as_deref(), self.config_command.as_deref())
                    .map(Arc::new)
            })
            .clone()
    }

    fn note_env_error(&self, e: Error) {
        lock(&self.env_error).get_or_insert(e);
    }

    /// The first environment error met by a start or stop (no compose, missing repository),
    /// for the orchestrator to report with exit code 3.
    pub fn take_env_error(&self) -> Option<Error> {
        lock(&self.env_error).take()
    }

    fn missing(repo: &Repo) -> Error {
        Error::RepositoryMissing {
            name: repo.name.clone(),
            path: repo.config.path.clone(),
        }
    }

    /// Checks what the components `ids` need before a command touches them: their
    /// repositories' folders (all repositories whose services are discovered, too, when
    /// `every_repository`) and an engine that answers. Stops at the first problem.
    pub fn preflight(&self, ids: &[NodeId], every_repository: bool) -> Result<(), Error> {
        let mut repos: Vec<usize> = ids
            .iter()
            .filter_map(|&i| self.node(i))
            .map(|n| n.repo)
            .collect();
        if every_repository {
            repos.extend((0..self.repos.len()).filter(|&i| self.repos[i].config.discover));
        }
        repos.sort_unstable();
        repos.dedup();
        for &r in &repos {
            if !self.repos[r].config.path.is_dir() {
                return Err(Self::missing(&self.repos[r]));
            }
        }
        for e in self.engines_of(ids) {
            if let Err(err) = &*self.snapshot(e, None) {
                return Err(Error::environment(err.message.clone(), err.hint.clone()));
            }
        }
        Ok(())
    }

    // ---- actions ------------------------------------------------------------------

    /// Which components may be started together: those of one repository.
    pub fn batch_key(&self, id: NodeId) -> Option<String> {
        self.node(id).map(|n| self.repos[n.repo].name.clone())
    }

    /// Starts services: one `up -d --no-deps` per repository for all of its `ids`.
    pub fn start_batch(&self, ids: &[NodeId], cancel: &Cancel) -> Vec<Result<(), ActionError>> {
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

    /// What a compose call in `repo` needs: its folder, its target and the command. An
    /// environment problem is also kept for the orchestrator (exit 3).
    fn prepare<'r>(
        &self,
        repo: &'r Repo,
    ) -> Result<(&'r Target, Arc<ComposeCommand>), ActionError> {
        let fail = |m: String| ActionError::permanent(Failure::new(m));
        if !repo.config.path.is_dir() {
            let e = Self::missing(repo);
            let m = e.to_string();
            self.note_env_error(e);
            return Err(fail(m));
        }
        let target = repo.target.as_ref().map_err(|e| fail(e.clone()))?;
        let cmd = self.command().map_err(|u| {
            self.note_env_error(u.to_error());
            fail(u.message)
        })?;
        Ok((target, cmd))
    }

    fn up(&self, repo_idx: usize, ids: &[NodeId], cancel: &Cancel) -> Vec<Result<(), ActionError>> {
        let all = |r: Result<(), ActionError>| vec![r; ids.len()];
        let repo = &self.repos[repo_idx];
        let (target, cmd) = match self.prepare(repo) {
            Ok(p) => p,
            Err(e) => return all(Err(e)),
        };
        let services: Vec<String> = ids
            .iter()
            .filter_map(|&i| self.node(i))
            .map(|n| {
                self.clear_marker(&n.name);
                n.service.clone()
            })
            .collect();
        let mut args: Vec<String> = ["up", "-d", "--no-deps"].map(str::to_owned).to_vec();
        args.extend(services.iter().cloned());
        let (argv, env) = cmd.invocation(target, &args);
        let deadline = ids
            .iter()
            .filter_map(|&i| self.node(i))
            .map(|n| n.start_timeout)
            .max()
            .unwrap_or_default();
        let spec = Spec::new(argv.clone())
            .cwd(&target.path)
            .envs(env)
            .capture()
            .deadline(deadline)
            .cancel(cancel, Level::Forced);
        let result = {
            let _one_per_repository = lock(&repo.up);
            let shared = *repo
                .shared
                .get_or_init(|| crate::compose_file::uses_external_network(&repo.config));
            let _one_per_shared_network =
                shared.then(|| lock(&self.engines[repo.engine].shared_up));
            spec.run()
        };
        let shown = format!(
            "{} up -d --no-deps {}",
            cmd.argv.join(" "),
            services.join(" ")
        );
        match result {
            Ok(c) if c.success() => {
                let now = Instant::now();
                let mut started = lock(&self.started);
                for &id in ids {
                    started.insert(id, now);
                }
                all(Ok(()))
            }
            Ok(c) => {
                let text = output_text(&c);
                let transient = is_transient(&text);
                if !transient && ids.len() > 1 {
                    // Find out which service it was: one call each.
                    return ids
                        .iter()
                        .flat_map(|&id| self.up(repo_idx, &[id], cancel))
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
                    },
                    transient,
                }))
            }
            Err(e) => {
                if let RunError::NotFound(_) = e {
                    self.note_env_error(Error::environment(
                        command::run_error(&argv[..1], &e),
                        "install it, or set TTA_COMPOSE",
                    ));
                }
                // A command that hung until its start_timeout is not retried: each retry
                // would wait as long again.
                all(Err(ActionError {
                    failure: Failure::new(command::run_error(&argv[..argv.len().min(2)], &e)),
                    transient: false,
                }))
            }
        }
    }

    /// How far a started service is towards ready.
    pub fn poll(&self, id: NodeId) -> Poll {
        let Some(node) = self.node(id) else {
            return Poll::Failed(Failure::new("not a compose component"));
        };
        let started = lock(&self.started).get(&id).copied();
        let snap = self.snapshot(self.repos[node.repo].engine, started);
        let snap = match &*snap {
            Ok(s) => s,
            Err(e) => return Poll::Pending(Some(format!("engine: {}", e.message))),
        };
        let cs = self.containers(node, snap);
        let Some(c) = cs.first() else {
            if started.is_none_or(|t| t.elapsed() < Duration::from_secs(5)) {
                return Poll::Pending(Some("waiting for its container".into()));
            }
            let repo = &self.repos[node.repo].name;
            return Poll::Failed(Failure::new(format!(
                "service {} has no container after `up`; see `tta compose --repo {repo} ps`",
                node.service
            )));
        };
        match c.state {
            ContainerState::Running => match c.health {
                Some(Health::Starting) => Poll::Pending(Some("health: starting".into())),
                Some(Health::Unhealthy) => Poll::Failed(self.failure(
                    node,
                    c,
                    "its healthcheck reports unhealthy".into(),
                    None,
                )),
                Some(Health::Healthy) => Poll::Running,
                None if started.is_some_and(|t| t.elapsed() < SETTLE) => Poll::Pending(None),
                None => Poll::Running,
            },
            ContainerState::Exited => match c.exit_code {
                Some(0) => Poll::Completed,
                code => Poll::Failed(self.failure(
                    node,
                    c,
                    format!("exited with code {}", code.unwrap_or(-1)),
                    code,
                )),
            },
            ContainerState::Restarting => Poll::Failed(self.failure(
                node,
                c,
                format!(
                    "keeps restarting (last exit code {})",
                    c.exit_code.unwrap_or(-1)
                ),
                c.exit_code,
            )),
            ContainerState::Created => Poll::Pending(Some("created".into())),
            ContainerState::Paused => {
                Poll::Failed(Failure::new("its container is paused; `docker unpause` it"))
            }
            ContainerState::Dead => Poll::Failed(self.failure(
                node,
                c,
                format!("its container is {}", c.status.to_lowercase()),
                None,
            )),
        }
    }

    /// Stops a service: `stop -t <grace>`, or `kill` on a forced cancel.
    pub fn stop(
        &self,
        id: NodeId,
        grace: Duration,
        cancel: &Cancel,
    ) -> Result<StopOutcome, ActionError> {
        let Some(node) = self.node(id) else {
            return Err(ActionError::permanent(Failure::new(
                "not a compose component",
            )));
        };
        let repo = &self.repos[node.repo];
        let snap = self.snapshot(repo.engine, Some(Instant::now()));
        let cs: Vec<Container> = match &*snap {
            Ok(s) => self.containers(node, s).into_iter().cloned().collect(),
            Err(e) => {
                return Err(ActionError {
                    failure: Failure::new(e.message.clone()),
                    transient: true,
                });
            }
        };
        if cs.is_empty() {
            return Ok(StopOutcome::AlreadyStopped);
        }
        let running = cs.iter().any(|c| {
            matches!(
                c.state,
                ContainerState::Running | ContainerState::Restarting | ContainerState::Paused
            )
        });
        if running {
            self.compose_stop(repo, node, grace, cancel)?;
        }
        lock(&self.started).remove(&id);
        let ids: Vec<&str> = cs.iter().map(|c| c.id.as_str()).collect();
        self.write_marker(&node.name, &ids);
        *lock(&self.engines[repo.engine].cache) = None;
        Ok(if running {
            StopOutcome::Stopped
        } else {
            StopOutcome::AlreadyStopped
        })
    }

    fn compose_stop(
        &self,
        repo: &Repo,
        node: &Node,
        grace: Duration,
        cancel: &Cancel,
    ) -> Result<(), ActionError> {
        let (target, cmd) = self.prepare(repo)?;
        let secs = grace.as_secs() + u64::from(grace.subsec_nanos() > 0);
        let args = vec![
            "stop".to_owned(),
            "-t".to_owned(),
            secs.to_string(),
            node.service.clone(),
        ];
        let (argv, env) = cmd.invocation(target, &args);
        let stop = Spec::new(argv.clone())
            .cwd(&target.path)
            .envs(env)
            .capture()
            .deadline(grace + MIN_UP_DEADLINE)
            .cancel(cancel, Level::Forced);
        let result = match stop.run() {
            Err(RunError::Cancelled) => {
                // A second Ctrl-C: no more grace.
                let (argv, env) =
                    cmd.invocation(target, &["kill".to_owned(), node.service.clone()]);
                Spec::new(argv)
                    .cwd(&target.path)
                    .envs(env)
                    .capture()
                    .deadline(ENGINE_DEADLINE)
                    .run()
            }
            other => other,
        };
        match result {
            Ok(c) if c.success() => Ok(()),
            Ok(c) => {
                let text = output_text(&c);
                Err(ActionError {
                    failure: Failure {
                        message: format!(
                            "`{} stop {}` failed: {}",
                            cmd.argv.join(" "),
                            node.service,
                            command::error_line(&text)
                        ),
                        exit_code: c.code(),
                        log_tail: last_lines(&text, TAIL_LINES),
                    },
                    transient: is_transient(&text),
                })
            }
            Err(e) => Err(ActionError::permanent(Failure::new(command::run_error(
                &argv[..1],
                &e,
            )))),
        }
    }

    /// The last lines of a service's container log.
    pub fn log_tail(&self, id: NodeId, n: usize) -> Vec<String> {
        let Some(node) = self.node(id) else {
            return Vec::new();
        };
        match &*self.snapshot(self.repos[node.repo].engine, None) {
            Ok(s) => self
                .containers(node, s)
                .first()
                .map(|c| self.container_logs(c, n))
                .unwrap_or_default(),
            Err(_) => Vec::new(),
        }
    }
}

/// Adds where to look next to a failure's message.
fn with_hint(mut f: Failure, repo: &str, service: &str) -> Failure {
    f.message
        .push_str(&format!("; see `tta compose --repo {repo} logs {service}`"));
    f
}

/// The last `n` non-empty lines of a text.
fn last_lines(text: &str, n: usize) -> Vec<String> {
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    lines[lines.len().saturating_sub(n)..]
        .iter()
        .map(|l| (*l).to_owned())
        .collect()
}
