//! One container engine (a docker context, a `DOCKER_HOST`, or the default one), found as
//! the docker CLI finds it ([`super::endpoint`]) and spoken to through the Engine API
//! ([`super::api`]) where the client can speak its address, else through the docker CLI
//! (`ssh://`, TLS without verification, a Podman connection: said once at `-v`, and by
//! `tta doctor`).
//!
//! - One list of every compose container of the projects it serves (`GET
//!   /containers/json`, or `docker ps -a`), plus one inspect of the containers that
//!   started moments ago (their restart count tells a crash loop from a service that
//!   runs), shared for up to [`PS_MAX_AGE`] between concurrent callers (one call in flight
//!   at a time), and never older than the last event seen.
//! - Its one event stream ([`super::events`]: the API's, or `docker events` where the
//!   engine is read through the CLI): every container event of a compose project it
//!   serves drops the shared list and rings the driver's [`Changes`], so a readiness wait
//!   wakes when something happened instead of polling ([`Engine::watch`]: the API's
//!   stream; an engine read through the CLI is polled by readiness waits), and reaches the
//!   subscribers of its service ([`Engine::subscribe`]: `tta up`'s watchers and log
//!   followers, on either stream).
//! - Container logs, read and followed ([`super::logs`]); stopping containers by id
//!   (`docker stop`: what `compose stop` does, without compose's start-up, and possible
//!   when the compose files no longer load).
//!
//! Every call ends by [`ENGINE_DEADLINE`] (a stop: its grace period and more) or the run's
//! `--timeout`, whichever comes first, and calls are capped per engine (one at a time for
//! `ssh://` engines, which fail under parallel operations: docker/compose#8856). Failures
//! are worded for the user with a next step.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, OnceLock};
use std::time::{Duration, Instant};

use super::api::{Api, ApiError};
use super::cli::EngineCli;
use super::command::{self, engine_unreachable};
use super::endpoint::{self, Endpoint};
use super::events::{Events, Hooks, Source, Subscription};
use super::lock;
use super::ps::{
    self, Container, INSPECT_TEMPLATE, State as ContainerState, TEMPLATE, apply_inspect,
};
use crate::cancel::{Bell, Cancel, Level};
use crate::driver::LogQuery;
use crate::process::{RunError, Spec};

/// How long a container list is shared between callers.
pub(crate) const PS_MAX_AGE: Duration = Duration::from_millis(100);
/// How long a list, an inspect or a log may take.
pub(crate) const ENGINE_DEADLINE: Duration = Duration::from_secs(30);
/// How many calls may go to one engine at once (`ssh://` engines: one).
const MAX_CALLS: usize = 16;

/// Why the engine gave no list, worded for the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PsError {
    /// What went wrong.
    pub message: String,
    /// What to do.
    pub hint: String,
    /// The engine could not be reached at all (rather than refusing or failing a call).
    pub unreachable: bool,
}

/// The containers of an engine, or why they could not be listed.
pub(crate) type Snapshot = Arc<Result<Vec<Container>, PsError>>;

struct Cached {
    /// When the call that produced it began.
    taken: Instant,
    result: Snapshot,
}

/// A container's restart count and start time, as an inspect gave them.
type Inspected = (Option<u32>, Option<f64>);

/// Something changed on an engine: rung by every engine's event stream, waited on by
/// readiness waits and `status --watch`. Shared by the engines of one driver.
#[derive(Debug, Default)]
pub(crate) struct Changes {
    bell: Arc<Bell>,
    generation: AtomicU64,
}

impl Changes {
    /// How many changes were seen so far.
    pub(crate) fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }

    fn ring(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
        self.bell.ring();
    }

    /// Waits until a change after `seen`, `until`, or a cancel; true when a change came.
    pub(crate) fn wait(&self, seen: u64, until: Instant, cancel: &Cancel) -> bool {
        let _watch = cancel.watch(&self.bell);
        self.bell.wait_until(Some(until), || {
            cancel.is_cancelled() || self.generation() != seen
        }) && self.generation() != seen
    }
}

/// How the engine is read.
enum Access {
    /// Through the Engine API (shared with its event stream's thread).
    Api(Arc<Api>),
    /// Through the CLI, and why.
    Cli(String),
    /// Not at all: its address cannot be found or used.
    Broken(ApiError),
}

/// A counting semaphore: the cap on calls to one engine.
struct Permits {
    max: usize,
    used: Mutex<usize>,
    freed: Condvar,
}

struct Permit<'p>(&'p Permits);

impl Permits {
    fn take(&self) -> Permit<'_> {
        let mut used = lock(&self.used);
        while *used >= self.max {
            used = self
                .freed
                .wait(used)
                .unwrap_or_else(std::sync::PoisonError::into_inner);
        }
        *used += 1;
        Permit(self)
    }
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        *lock(&self.0.used) -= 1;
        self.0.freed.notify_one();
    }
}

/// What the event stream shares with the engine.
#[derive(Default)]
struct Shared {
    cache: Mutex<Option<Cached>>,
    /// When the last event of a served project arrived: no list taken before it is used.
    last_event: Mutex<Option<Instant>>,
}

/// One engine and what is cached about it.
pub(crate) struct Engine {
    cli: EngineCli,
    context: Option<String>,
    /// `DOCKER_HOST` for this engine's CLI calls, when a repository's `.env` names one.
    host: Option<String>,
    /// Where it is, or why that cannot be told.
    endpoint: Result<Endpoint, String>,
    access: OnceLock<Access>,
    /// The run's deadline: no call outlives it.
    deadline: Mutex<Option<Instant>>,
    projects: Vec<String>,
    shared: Arc<Shared>,
    /// Its one event stream.
    events: Arc<Events>,
    fetching: Mutex<()>,
    permits: Permits,
    changes: Arc<Changes>,
    /// Held by `up` calls of repositories on a shared (external) network, and by every
    /// `up` on an engine that takes one call at a time.
    pub(super) shared_up: Mutex<()>,
    /// What an inspect said of a container: its restart count and start time, reused
    /// while the list shows the same run (so each run is inspected once, not on every
    /// snapshot: at 200 starting services that is most of the engine's work).
    inspected: Mutex<HashMap<String, Inspected>>,
}

/// `TTA_ENGINE=cli` reads every engine through the CLI (for a fake `docker` in tests, or
/// an engine the client mishandles).
fn cli_forced() -> bool {
    std::env::var("TTA_ENGINE").is_ok_and(|v| v.eq_ignore_ascii_case("cli"))
}

impl Engine {
    /// The engine of a docker `context` (`None`: the default one) or of a `.env`'s
    /// `DOCKER_HOST`; reads the context store, connects to nothing.
    pub(crate) fn new(
        cli: EngineCli,
        context: Option<String>,
        host: Option<String>,
        changes: Arc<Changes>,
    ) -> Self {
        let endpoint = endpoint::resolve(
            cli,
            context.as_deref(),
            host.as_deref(),
            &endpoint::process_env,
        );
        let serial = endpoint.as_ref().is_ok_and(Endpoint::serial);
        Self {
            cli,
            context,
            host,
            endpoint,
            access: OnceLock::new(),
            deadline: Mutex::new(None),
            projects: Vec::new(),
            shared: Arc::new(Shared::default()),
            events: Arc::new(Events::default()),
            fetching: Mutex::new(()),
            permits: Permits {
                max: if serial { 1 } else { MAX_CALLS },
                used: Mutex::new(0),
                freed: Condvar::new(),
            },
            changes,
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

    /// Where it is, or why that cannot be told (a context that is not in the store).
    pub(crate) fn endpoint(&self) -> Result<&Endpoint, &str> {
        self.endpoint.as_ref().map_err(String::as_str)
    }

    /// What `{engine_host}` stands for in probes of its components.
    pub(crate) fn engine_host(&self) -> String {
        self.endpoint
            .as_ref()
            .map_or_else(|_| "127.0.0.1".to_owned(), Endpoint::engine_host)
    }

    /// Whether calls go one at a time (`ssh://`).
    pub(crate) fn serial(&self) -> bool {
        self.permits.max == 1
    }

    /// How it is read: `Ok(())` through the API, else why through the CLI (or not at all).
    pub(crate) fn through_api(&self) -> Result<(), String> {
        match self.access() {
            Access::Api(_) => Ok(()),
            Access::Cli(why) => Err(why.clone()),
            Access::Broken(e) => Err(e.to_string()),
        }
    }

    fn access(&self) -> &Access {
        self.access.get_or_init(|| {
            let access = match &self.endpoint {
                Err(e) => Access::Broken(ApiError::Unreachable(e.clone())),
                Ok(_) if cli_forced() => Access::Cli("TTA_ENGINE=cli".into()),
                Ok(ep) => match ep.api() {
                    Ok(()) => {
                        Api::new(ep).map_or_else(Access::Broken, |a| Access::Api(Arc::new(a)))
                    }
                    Err(why) => Access::Cli(why),
                },
            };
            let at = self
                .endpoint
                .as_ref()
                .map_or_else(Clone::clone, Endpoint::describe);
            match &access {
                Access::Api(_) => tracing::info!("engine {at}: through the Engine API"),
                Access::Cli(why) => tracing::info!(
                    "engine {at}: through the {} CLI ({why})",
                    self.cli.program()
                ),
                Access::Broken(e) => tracing::info!("engine {at}: cannot be used: {e}"),
            }
            access
        })
    }

    /// Bounds every later call by the run's deadline.
    pub(crate) fn set_deadline(&self, deadline: Option<Instant>) {
        *lock(&self.deadline) = deadline;
    }

    fn limit(&self) -> Duration {
        bounded(ENGINE_DEADLINE, *lock(&self.deadline))
    }

    /// A CLI call of this engine, bounded by [`ENGINE_DEADLINE`] and the run's deadline.
    fn spec(&self, argv: Vec<String>) -> Spec {
        let mut spec = Spec::new(argv).deadline(self.limit());
        if let Some(h) = &self.host {
            spec = spec.envs([("DOCKER_HOST", h.as_str())]);
        }
        spec
    }

    /// Its API client, where it is read through the API.
    pub(super) fn api(&self) -> Option<&Api> {
        match self.access() {
            Access::Api(api) => Some(api.as_ref()),
            _ => None,
        }
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

    /// The projects it serves.
    pub(crate) fn projects(&self) -> &[String] {
        &self.projects
    }

    /// `docker [--context X] ps -a --filter ... --format ...`.
    pub(crate) fn ps_argv(&self, projects: &[String]) -> Vec<String> {
        let filter = match projects {
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

    fn hint(&self) -> String {
        command::engine_hint(self.context())
    }

    /// The compose containers of `projects`, through the API or the CLI.
    fn list_any(&self, projects: &[String]) -> Result<Vec<Container>, PsError> {
        let _permit = self.permits.take();
        let mut all = match self.access() {
            Access::Api(api) => {
                let one = match projects {
                    [p] => Some(p.as_str()),
                    _ => None,
                };
                let values = api
                    .list(one, self.limit())
                    .map_err(|e| self.api_error(&e))?;
                values.iter().filter_map(ps::container).collect()
            }
            Access::Broken(e) => return Err(self.api_error(e)),
            Access::Cli(_) => self.list_cli(projects)?,
        };
        all.retain(|c| !c.oneoff && projects.contains(&c.project));
        Ok(all)
    }

    fn api_error(&self, e: &ApiError) -> PsError {
        let at = self
            .endpoint
            .as_ref()
            .map_or_else(Clone::clone, |ep| ep.host.clone());
        match e {
            ApiError::Unreachable(m) => PsError {
                message: format!("the container engine is not answering: {m}"),
                hint: self.hint(),
                unreachable: true,
            },
            ApiError::TimedOut(_) => PsError {
                message: format!("the engine at {at} did not answer: the container list {e}"),
                hint: self.hint(),
                unreachable: true,
            },
            ApiError::Failed(m) => PsError {
                message: format!("the engine at {at} refused to list containers: {m}"),
                hint: self.hint(),
                unreachable: false,
            },
        }
    }

    fn list_cli(&self, projects: &[String]) -> Result<Vec<Container>, PsError> {
        let program = self.cli.program();
        let out = self
            .spec(self.ps_argv(projects))
            .capture()
            .run()
            .map_err(|e| match e {
                RunError::NotFound(p) => PsError {
                    message: format!(
                        "`{p}` is not installed (not found on PATH); tta reads container status with `{p} ps`"
                    ),
                    hint: format!("install the {p} CLI, or put it on PATH"),
                    unreachable: false,
                },
                other => PsError {
                    message: format!("the engine did not answer `{program} ps`: {other}"),
                    hint: self.hint(),
                    unreachable: true,
                },
            })?;
        if !out.success() {
            let text = command::output_text(&out);
            let line = command::error_line(&text);
            let unreachable = engine_unreachable(&text);
            return Err(PsError {
                message: if unreachable {
                    format!("the container engine is not answering: {line}")
                } else {
                    format!("`{program} ps` failed: {line}")
                },
                hint: self.hint(),
                unreachable,
            });
        }
        ps::parse(&out.stdout_text()).map_err(|m| PsError {
            message: m,
            hint: "report this with the output of the same `docker ps` command".into(),
            unreachable: false,
        })
    }

    fn fetch(&self) -> Result<Vec<Container>, PsError> {
        let mut all = self.list_any(&self.projects)?;
        self.inspect_young(&mut all);
        Ok(all)
    }

    /// Restart counts and start times of the containers that started moments ago (one
    /// inspect); a container that cannot be inspected keeps what the list said.
    fn inspect_young(&self, all: &mut [Container]) {
        let now = crate::state::now_epoch();
        let known = lock(&self.inspected);
        let mut ids: Vec<String> = Vec::new();
        for c in all.iter_mut().filter(|c| c.young() && !c.id.is_empty()) {
            // The same run as when inspected: its start time matches what the list says.
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
        drop(known);
        if ids.is_empty() {
            return;
        }
        let _permit = self.permits.take();
        let text = match self.access() {
            Access::Api(api) => api.inspect(&ids, self.limit()).ok().map(|found| {
                found.iter().fold(String::new(), |mut text, (id, n, t)| {
                    let (n, t) = (n.unwrap_or_default(), t.as_deref().unwrap_or("-"));
                    text.push_str(&format!("{id} {n} {t}\n"));
                    text
                })
            }),
            Access::Broken(_) => None,
            Access::Cli(_) => {
                let mut args = vec!["inspect", "--format", INSPECT_TEMPLATE, "--"];
                args.extend(ids.iter().map(String::as_str));
                let argv = self.cli.argv(self.context(), &args);
                self.spec(argv)
                    .capture()
                    .run()
                    .ok()
                    .map(|o| o.stdout_text())
            }
        };
        if let Some(text) = text {
            apply_inspect(&text, all);
            let mut known = lock(&self.inspected);
            for c in all.iter().filter(|c| ids.contains(&c.id)) {
                known.insert(c.id.clone(), (c.restart_count, c.started_at));
            }
        }
    }

    /// The engine's containers, from a call that began after `not_before` (and after the
    /// last event seen) and at most [`PS_MAX_AGE`] ago; concurrent callers share one call.
    pub(crate) fn snapshot(&self, not_before: Option<Instant>) -> Snapshot {
        let fresh = |c: &Option<Cached>| {
            let event = *lock(&self.shared.last_event);
            c.as_ref()
                .filter(|c| {
                    c.taken.elapsed() <= PS_MAX_AGE
                        && not_before.is_none_or(|t| c.taken >= t)
                        && event.is_none_or(|t| c.taken >= t)
                })
                .map(|c| c.result.clone())
        };
        if let Some(s) = fresh(&lock(&self.shared.cache)) {
            return s;
        }
        let _one_at_a_time = lock(&self.fetching);
        if let Some(s) = fresh(&lock(&self.shared.cache)) {
            return s;
        }
        let taken = Instant::now();
        let result = Arc::new(self.fetch());
        *lock(&self.shared.cache) = Some(Cached {
            taken,
            result: result.clone(),
        });
        result
    }

    /// The compose containers of `projects` (not necessarily served), uncached.
    pub(crate) fn list(&self, projects: &[String]) -> Result<Vec<Container>, PsError> {
        self.list_any(projects)
    }

    /// Starts its event stream from `since` unless it runs already (`source` is asked for
    /// only then).
    fn start_events(&self, source: impl FnOnce() -> Source, since: f64) {
        let (shared, changes, end) = (
            self.shared.clone(),
            self.changes.clone(),
            self.changes.clone(),
        );
        let projects = self.projects.clone();
        let hooks = Hooks {
            on_event: Box::new(move |e| {
                if projects.contains(&e.project) {
                    *lock(&shared.last_event) = Some(Instant::now());
                    *lock(&shared.cache) = None;
                    changes.ring();
                }
            }),
            // Waits look again at whether events come.
            on_end: Box::new(move || end.ring()),
        };
        self.events.start(source, since, hooks);
    }

    /// For readiness waits and `status --watch`: starts its event stream (once) where the
    /// engine is read through the API; events from `since` on are replayed, so none
    /// between the call and the stream's start is missed. Returns whether events wake the
    /// waits (an engine read through the CLI: no, it is polled).
    pub(crate) fn watch(&self, since: f64) -> bool {
        if let Access::Api(api) = self.access() {
            self.start_events(|| Source::Api(Arc::clone(api)), since);
        }
        self.events_live()
    }

    /// Whether its API event stream is being read (what readiness waits rely on).
    pub(crate) fn events_live(&self) -> bool {
        matches!(self.access(), Access::Api(_)) && self.events.live()
    }

    /// Subscribes to the events of one service from now on, starting its event stream if
    /// it is not read yet: the API's, or `docker events` where the engine is read through
    /// the CLI (`tta up` watches services on either).
    pub(crate) fn subscribe(&self, project: &str, service: &str) -> Arc<Subscription> {
        let sub = self.events.subscribe(project, service);
        let source = || match self.access() {
            Access::Api(api) => Source::Api(Arc::clone(api)),
            Access::Cli(_) | Access::Broken(_) => {
                Source::Cli(self.streaming(&super::event::CLI_ARGS))
            }
        };
        self.start_events(source, crate::state::now_epoch());
        sub
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
        let _permit = self.permits.take();
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

    /// Forgets the cached list (after a change this run made).
    pub(crate) fn invalidate(&self) {
        *lock(&self.shared.cache) = None;
    }

    /// The last `n` lines of a container's log (both streams), or none when it cannot be
    /// read.
    pub(crate) fn logs(&self, container: &str, n: usize) -> Vec<String> {
        let _permit = self.permits.take();
        let query = LogQuery {
            tail: Some(n),
            since: None,
            follow: false,
        };
        let mut lines = Vec::new();
        let read = self.read_logs(
            container,
            &query,
            Some(self.limit()),
            &mut |l| {
                let text = String::from_utf8_lossy(&l.bytes);
                lines.push(text.trim_end_matches('\r').to_owned());
                true
            },
            &Cancel::new(),
        );
        if read.is_err() {
            return Vec::new();
        }
        lines.drain(..lines.len().saturating_sub(n));
        lines
    }

    /// The engine's version and API version, through the API (`None`: read through the
    /// CLI, or no answer; `Err` says why not).
    pub(crate) fn version(&self) -> Result<(String, String), String> {
        match self.access() {
            Access::Api(api) => api
                .version(self.limit().min(Duration::from_secs(10)))
                .map_err(|e| e.to_string()),
            Access::Cli(why) => Err(why.clone()),
            Access::Broken(e) => Err(e.to_string()),
        }
    }
}

impl Drop for Engine {
    fn drop(&mut self) {
        // Its event stream ends with it.
        self.events.stop();
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
