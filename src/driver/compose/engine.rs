//! One container engine (a docker context, a `DOCKER_HOST` a repository's `.env` names, or
//! the default one): one `docker ps -a` for every compose container of the projects it
//! serves, plus one `docker inspect` of the containers that started moments ago (their
//! restart count tells a crash loop from a service that runs), shared for up to
//! [`PS_MAX_AGE`] between concurrent callers (one call in flight at a time), and container
//! logs, and stopping containers by id (`docker stop`: what `compose stop` does, without
//! compose's start-up cost, and possible when the compose files no longer load). Every
//! call ends by [`ENGINE_DEADLINE`] (a stop: its grace period and more) or the run's
//! `--timeout`, whichever comes first. Failures are worded for the user with a next step.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::ps::{INSPECT_TEMPLATE, apply_inspect};

use super::cli::EngineCli;
use super::command::{self, engine_unreachable};
use super::lock;
use super::ps::{self, Container, State as ContainerState, TEMPLATE};
use crate::cancel::{Cancel, Level};
use crate::process::{RunError, Sink, Spec};

/// How long a `docker ps` result is shared between callers.
pub(crate) const PS_MAX_AGE: Duration = Duration::from_millis(100);
/// How long `docker ps` and `docker logs` may take.
pub(crate) const ENGINE_DEADLINE: Duration = Duration::from_secs(30);

/// Why `docker ps` gave no answer, worded for the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PsError {
    /// What went wrong.
    pub message: String,
    /// What to do.
    pub hint: String,
}

/// The containers of an engine, or why they could not be listed.
pub(crate) type Snapshot = Arc<Result<Vec<Container>, PsError>>;

struct Cached {
    /// When the call that produced it began.
    taken: Instant,
    result: Snapshot,
}

/// A container's restart count and start time, as `docker inspect` gave them.
type Inspected = (Option<u32>, Option<f64>);

/// One engine and what is cached about it.
pub(crate) struct Engine {
    cli: EngineCli,
    context: Option<String>,
    /// `DOCKER_HOST` for this engine's calls, when a repository's `.env` names one.
    host: Option<String>,
    /// The run's deadline: no call outlives it.
    deadline: Mutex<Option<Instant>>,
    projects: Vec<String>,
    cache: Mutex<Option<Cached>>,
    fetching: Mutex<()>,
    /// Held by `up` calls of repositories on a shared (external) network.
    pub(super) shared_up: Mutex<()>,
    /// What `docker inspect` said of a container: its restart count and start time, reused
    /// while `docker ps` shows the same run (so each run is inspected once, not on every
    /// snapshot: at 200 starting services that is most of the engine's work).
    inspected: Mutex<HashMap<String, Inspected>>,
}

impl Engine {
    /// The engine of a docker `context` (`None`: the default one).
    pub(crate) fn new(cli: EngineCli, context: Option<String>, host: Option<String>) -> Self {
        Self {
            cli,
            context,
            host,
            deadline: Mutex::new(None),
            projects: Vec::new(),
            cache: Mutex::new(None),
            fetching: Mutex::new(()),
            shared_up: Mutex::new(()),
            inspected: Mutex::new(HashMap::new()),
        }
    }

    /// Its docker context.
    pub(crate) fn context(&self) -> Option<&str> {
        self.context.as_deref()
    }

    /// Its `DOCKER_HOST`, when a repository's `.env` names one.
    pub(crate) fn host(&self) -> Option<&str> {
        self.host.as_deref()
    }

    /// Bounds every later call by the run's deadline.
    pub(crate) fn set_deadline(&self, deadline: Option<Instant>) {
        *lock(&self.deadline) = deadline;
    }

    /// A docker call of this engine, bounded by [`ENGINE_DEADLINE`] and the run's deadline.
    fn spec(&self, argv: Vec<String>) -> Spec {
        let mut spec = Spec::new(argv).deadline(bounded(ENGINE_DEADLINE, *lock(&self.deadline)));
        if let Some(h) = &self.host {
            spec = spec.envs([("DOCKER_HOST", h.as_str())]);
        }
        spec
    }

    /// A long-running call of this engine (`events`, `logs --follow`): no deadline; the
    /// caller ends it with a cancel.
    pub(crate) fn streaming(&self, args: &[&str]) -> Spec {
        let spec = Spec::new(self.cli.argv(self.context(), args));
        match &self.host {
            Some(h) => spec.envs([("DOCKER_HOST", h.as_str())]),
            None => spec,
        }
    }

    /// Adds a compose project whose containers this engine reports.
    pub(crate) fn serve(&mut self, project: String) {
        self.projects.push(project);
    }

    /// `docker [--context X] ps -a --filter ... --format ...`.
    pub(crate) fn ps_argv(&self) -> Vec<String> {
        let filter = match self.projects.as_slice() {
            [one] => format!("label=com.docker.compose.project={one}"),
            _ => "label=com.docker.compose.project".to_owned(),
        };
        let format = match self.cli {
            EngineCli::Podman => "json",
            EngineCli::Docker => TEMPLATE,
        };
        self.cli.argv(
            self.context(),
            &["ps", "-a", "--filter", &filter, "--format", format],
        )
    }

    fn fetch(&self) -> Result<Vec<Container>, PsError> {
        let program = self.cli.program();
        let hint = || command::engine_hint(self.context());
        let out = self
            .spec(self.ps_argv())
            .capture()
            .run()
            .map_err(|e| match e {
                RunError::NotFound(p) => PsError {
                    message: format!(
                        "`{p}` is not installed (not found on PATH); tta reads container status with `{p} ps`"
                    ),
                    hint: format!("install the {p} CLI, or put it on PATH"),
                },
                other => PsError {
                    message: format!("the engine did not answer `{program} ps`: {other}"),
                    hint: hint(),
                },
            })?;
        if !out.success() {
            let text = command::output_text(&out);
            let line = command::error_line(&text);
            return Err(PsError {
                message: if engine_unreachable(&text) {
                    format!("the container engine is not answering: {line}")
                } else {
                    format!("`{program} ps` failed: {line}")
                },
                hint: hint(),
            });
        }
        let mut all = ps::parse(&out.stdout_text()).map_err(|m| PsError {
            message: m,
            hint: "report this with the output of the same `docker ps` command".into(),
        })?;
        all.retain(|c| !c.oneoff && self.projects.contains(&c.project));
        self.inspect_young(&mut all);
        Ok(all)
    }

    /// Restart counts and start times of the containers that started moments ago (one
    /// `docker inspect`); a container that cannot be inspected keeps what `ps` said.
    fn inspect_young(&self, all: &mut [Container]) {
        let now = crate::state::now_epoch();
        let known = lock(&self.inspected);
        let mut ids: Vec<String> = Vec::new();
        for c in all.iter_mut().filter(|c| c.young() && !c.id.is_empty()) {
            // The same run as when inspected: its start time matches what `ps` says.
            let same_run = |started: f64| {
                c.state == ContainerState::Running
                    && c.age
                        .is_some_and(|a| ((now - started) - a).abs() <= c.age_precision + 1.5)
            };
            match known.get(&c.id) {
                Some(&(count, Some(started))) if same_run(started) => {
                    c.restart_count = count;
                    c.started_at = Some(started);
                }
                _ => ids.push(c.id.clone()),
            }
        }
        if ids.is_empty() {
            return;
        }
        let mut args = vec!["inspect", "--format", INSPECT_TEMPLATE, "--"];
        args.extend(ids.iter().map(String::as_str));
        let argv = self.cli.argv(self.context(), &args);
        drop(known);
        if let Ok(out) = self.spec(argv).capture().run() {
            apply_inspect(&out.stdout_text(), all);
            let mut known = lock(&self.inspected);
            for c in all.iter().filter(|c| ids.contains(&c.id)) {
                known.insert(c.id.clone(), (c.restart_count, c.started_at));
            }
        }
    }

    /// The engine's containers, from a call that began after `not_before` and at most
    /// [`PS_MAX_AGE`] ago; concurrent callers share one call.
    pub(crate) fn snapshot(&self, not_before: Option<Instant>) -> Snapshot {
        let fresh = |c: &Option<Cached>| {
            c.as_ref()
                .filter(|c| {
                    c.taken.elapsed() <= PS_MAX_AGE && not_before.is_none_or(|t| c.taken >= t)
                })
                .map(|c| c.result.clone())
        };
        if let Some(s) = fresh(&lock(&self.cache)) {
            return s;
        }
        let _one_at_a_time = lock(&self.fetching);
        if let Some(s) = fresh(&lock(&self.cache)) {
            return s;
        }
        let taken = Instant::now();
        let result = Arc::new(self.fetch());
        *lock(&self.cache) = Some(Cached {
            taken,
            result: result.clone(),
        });
        result
    }

    /// The compose containers of `projects` (not necessarily served), uncached.
    pub(crate) fn list(&self, projects: &[String]) -> Result<Vec<Container>, PsError> {
        let argv = self.cli.argv(
            self.context(),
            &[
                "ps",
                "-a",
                "--filter",
                "label=com.docker.compose.project",
                "--format",
                match self.cli {
                    EngineCli::Podman => "json",
                    EngineCli::Docker => TEMPLATE,
                },
            ],
        );
        let out = self.spec(argv).capture().run().map_err(|e| PsError {
            message: format!("the engine did not answer `{} ps`: {e}", self.cli.program()),
            hint: command::engine_hint(self.context()),
        })?;
        if !out.success() {
            return Err(PsError {
                message: command::error_line(&command::output_text(&out)),
                hint: command::engine_hint(self.context()),
            });
        }
        let mut all = ps::parse(&out.stdout_text()).map_err(|m| PsError {
            message: m,
            hint: String::new(),
        })?;
        all.retain(|c| !c.oneoff && projects.contains(&c.project));
        Ok(all)
    }

    /// `docker stop -t GRACE -- IDS` (each container with the stop signal compose gave
    /// it), ended by `limit`; on a forced `cancel` (a second Ctrl-C), `docker kill -- IDS`.
    pub(crate) fn stop_containers(
        &self,
        ids: &[&str],
        grace: Duration,
        limit: Duration,
        cancel: Option<&Cancel>,
    ) -> Result<(), String> {
        if ids.is_empty() {
            return Ok(());
        }
        let secs = (grace.as_secs() + u64::from(grace.subsec_nanos() > 0)).to_string();
        let mut args = vec!["stop", "-t", secs.as_str(), "--"];
        args.extend(ids);
        let mut spec = self
            .spec(self.cli.argv(self.context(), &args))
            .deadline(bounded(limit, *lock(&self.deadline)))
            .capture();
        if let Some(c) = cancel {
            spec = spec.cancel(c, Level::Forced);
        }
        let out = match spec.run() {
            Err(RunError::Cancelled) => {
                let mut kill = vec!["kill", "--"];
                kill.extend(ids);
                self.spec(self.cli.argv(self.context(), &kill))
                    .capture()
                    .run()
            }
            other => other,
        }
        .map_err(|e| e.to_string());
        self.invalidate();
        let out = out?;
        if out.success() {
            Ok(())
        } else {
            Err(command::error_line(&command::output_text(&out)))
        }
    }

    /// Forgets the cached snapshot (after a change this run made).
    pub(crate) fn invalidate(&self) {
        *lock(&self.cache) = None;
    }

    /// The last `n` lines of a container's log (both streams), or none when it cannot be
    /// read.
    pub(crate) fn logs(&self, container: &str, n: usize) -> Vec<String> {
        let tail = n.to_string();
        let argv = self
            .cli
            .argv(self.context(), &["logs", "--tail", &tail, "--", container]);
        self.spec(argv)
            .merged(Sink::Capture)
            .run()
            .map(|o| {
                let lines: Vec<String> = o.stdout_text().lines().map(str::to_owned).collect();
                lines[lines.len().saturating_sub(n)..].to_vec()
            })
            .unwrap_or_default()
    }
}

/// `limit`, or less when the run's `deadline` comes first (never zero: a call that cannot
/// run in time still gets a moment to fail).
pub(crate) fn bounded(limit: Duration, deadline: Option<Instant>) -> Duration {
    deadline.map_or(limit, |d| {
        limit.min(
            d.saturating_duration_since(Instant::now())
                .max(Duration::from_millis(10)),
        )
    })
}
