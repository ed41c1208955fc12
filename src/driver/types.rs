//! The driver trait and the values that cross the seam.

use std::time::{Duration, Instant};

use serde::Serialize;

use crate::cancel::Cancel;
use crate::error::Error;
use crate::graph::NodeId;
pub use crate::process::Stream;

/// A component's lifecycle status, as observed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Not running.
    Stopped,
    /// Started, not yet ready (or a task still running).
    Starting,
    /// Running.
    Running,
    /// Being stopped.
    Stopping,
    /// Crashed, failed, or in an unknown state.
    Error,
    /// A task (or one-shot service) that exited 0.
    Completed,
    /// Cannot be told: the engine it runs on does not answer.
    Unknown,
}

impl Status {
    /// The name used in output.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Stopped => "stopped",
            Status::Starting => "starting",
            Status::Running => "running",
            Status::Stopping => "stopping",
            Status::Error => "error",
            Status::Completed => "completed",
            Status::Unknown => "unknown",
        }
    }
}

/// Health, separate from status: what a probe or a container healthcheck says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Health {
    /// The check passes.
    Healthy,
    /// The check fails.
    Unhealthy,
    /// Within its start period, not yet passed.
    Starting,
}

impl Health {
    /// The name used in output.
    pub fn as_str(self) -> &'static str {
        match self {
            Health::Healthy => "healthy",
            Health::Unhealthy => "unhealthy",
            Health::Starting => "starting",
        }
    }
}

/// What a driver sees of a component now.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Observation {
    /// Lifecycle status.
    pub status: Option<Status>,
    /// Health from the driver's own check (a container healthcheck), if it has one.
    pub health: Option<Health>,
    /// When it started, seconds since the epoch.
    pub since: Option<f64>,
    /// A short explanation (exit code, pid, container state).
    pub detail: Option<String>,
    /// It runs as configured before: its configuration changed since it started, so a start
    /// restarts it.
    pub changed: bool,
    /// It runs, but a start should still run its start action, which changes only what
    /// needs it (`tta start --build`: compose recreates a service whose image changed).
    pub refresh: bool,
    /// Where it can be reached, as the driver knows it (a service's published ports).
    pub endpoints: Vec<String>,
}

impl Observation {
    /// Whether this counts as up: completed, or running and healthy where it has a check.
    /// The one rule both `tta start` (is it up already?) and `tta status` use.
    pub fn up(&self) -> bool {
        match self.status() {
            Status::Completed => true,
            Status::Running => matches!(self.health, None | Some(Health::Healthy)),
            _ => false,
        }
    }

    /// An observation of a status with a detail.
    pub fn new(status: Status, detail: impl Into<Option<String>>) -> Self {
        Self {
            status: Some(status),
            detail: detail.into(),
            ..Self::default()
        }
    }

    /// The status, `stopped` when unknown.
    pub fn status(&self) -> Status {
        self.status.unwrap_or(Status::Stopped)
    }
}

/// Why a component failed, with what a user needs to look further.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct Failure {
    /// What happened, as a lowercase fragment.
    pub message: String,
    /// The exit code, when a command exited.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<i32>,
    /// The last lines of its log.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub log_tail: Vec<String>,
    /// Set when the environment failed rather than the component (no compose command, a
    /// repository folder gone): what to do about it. Such a run ends with exit code 3.
    #[serde(skip)]
    pub environment: Option<String>,
}

impl Failure {
    /// A failure with only a message.
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            ..Self::default()
        }
    }

    /// A failure of the environment, with what to do about it.
    pub fn environment(message: impl Into<String>, hint: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            environment: Some(hint.into()),
            ..Self::default()
        }
    }

    /// As the crate's error (exit code 3), when it is a failure of the environment.
    pub fn to_environment_error(&self) -> Option<Error> {
        self.environment
            .as_ref()
            .map(|hint| Error::environment(self.message.clone(), hint.clone()))
    }
}

/// Components that one driver call may start together (one compose project).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct BatchKey(pub usize);

/// What a pre-flight check covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Only what the selected components need.
    Selected,
    /// Everything the stack has (`all`, or no names): every repository, too.
    Everything,
}

/// A start or stop action that did not succeed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionError {
    /// What went wrong.
    pub failure: Failure,
    /// Worth retrying (an engine hiccup), as opposed to a permanent error (no such command).
    pub transient: bool,
}

impl ActionError {
    /// A permanent error.
    pub fn permanent(failure: Failure) -> Self {
        Self {
            failure,
            transient: false,
        }
    }
}

/// Progress of a started component towards ready.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Poll {
    /// Not there yet; the text says what it is waiting for.
    Pending(Option<String>),
    /// Running (host probes, if any, come next).
    Running,
    /// Ran to completion with exit code 0.
    Completed,
    /// Failed; waiting longer will not help.
    Failed(Failure),
}

/// The result of a stop action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopOutcome {
    /// It was running and is now stopped.
    Stopped,
    /// It was not running.
    AlreadyStopped,
}

/// How the running instance of a watched component came to an end (what
/// [`Driver::watch`] saw).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    /// Its process exited (every container of a service stopped, and the engine will not
    /// start it again): the exit code, or the signal that ended it, where known.
    Exited {
        /// The exit code.
        code: Option<i32>,
        /// The signal that ended it.
        signal: Option<i32>,
    },
    /// It still runs, but its engine's healthcheck says it is unhealthy (Docker never
    /// restarts such a container itself).
    Unhealthy,
    /// It does not run (nothing to watch), or this kind is not watched.
    NotRunning,
    /// The cancel came first.
    Cancelled,
}

/// Starts, stops, observes and polls components.
pub trait Driver: Send + Sync {
    /// Checks what the components need before a command touches them (repository folders,
    /// an engine that answers): a broken environment is one error (exit code 3) rather than
    /// a failure per component.
    fn preflight(&self, ids: &[NodeId], scope: Scope) -> Result<(), Error> {
        let _ = (ids, scope);
        Ok(())
    }

    /// The check before a command that only reads (`tta status`): a backend of several
    /// engines fails it only when none answers; the components of one that does not
    /// answer are then [`Status::Unknown`]. By default, [`Driver::preflight`].
    fn preflight_read(&self, ids: &[NodeId], scope: Scope) -> Result<(), Error> {
        self.preflight(ids, scope)
    }

    /// Observes components, all at once where the backend allows (one engine call). Cheap:
    /// no host probes.
    fn observe(&self, ids: &[NodeId]) -> Vec<Observation>;

    /// What `tta status` shows: the observation, with each running component's host probe
    /// run once (and an external component's status decided by its probe).
    fn status(&self, ids: &[NodeId]) -> Vec<Observation> {
        self.observe(ids)
    }

    /// Runs the start action of several components that became ready to start at the same
    /// moment. A backend that can start several in one call (compose) overrides this.
    fn start_batch(&self, ids: &[NodeId], cancel: &Cancel) -> Vec<Result<(), ActionError>> {
        ids.iter().map(|&id| self.start(id, cancel)).collect()
    }

    /// Runs the start action: spawns the process or task, or asks the engine to start the
    /// service. Returns once the action itself is done, not when the component is ready.
    fn start(&self, id: NodeId, cancel: &Cancel) -> Result<(), ActionError>;

    /// How far a started component is towards ready (without host probes).
    fn poll(&self, id: NodeId) -> Poll;

    /// How often to poll a component.
    fn poll_interval(&self, id: NodeId) -> Duration;

    /// Sleeps between two polls of a starting component: until `until`, a cancel, or
    /// (where the backend has events, as a container engine does) something that
    /// happened to it since its last poll.
    fn wait(&self, id: NodeId, until: Instant, cancel: &Cancel) {
        let _ = id;
        cancel.sleep(until.saturating_duration_since(Instant::now()));
    }

    /// What `{engine_host}` in a component's probe stands for: the host of the engine it
    /// runs on (`None`: this driver knows no engine; probes then aim at `127.0.0.1`).
    fn engine_host(&self, id: NodeId) -> Option<String> {
        let _ = id;
        None
    }

    /// How many changes the backend's events told of so far (none: it has no events).
    fn change_count(&self) -> u64 {
        0
    }

    /// Waits for a change after `seen` ([`Driver::change_count`]), `until`, or a cancel;
    /// true when a change came. A backend without events sleeps until `until`.
    fn wait_for_change(&self, seen: u64, until: Instant, cancel: &Cancel) -> bool {
        let _ = seen;
        cancel.sleep(until.saturating_duration_since(Instant::now()));
        false
    }

    /// Whether several components may go to [`Driver::start_batch`] together.
    fn batch_key(&self, id: NodeId) -> Option<BatchKey> {
        let _ = id;
        None
    }

    /// Stops a component: graceful signal, `grace`, then kill. A force-cancel (second
    /// Ctrl-C) ends the grace at once.
    fn stop(
        &self,
        id: NodeId,
        grace: Duration,
        cancel: &Cancel,
    ) -> Result<StopOutcome, ActionError>;

    /// The last lines of a component's log, for failure reports.
    fn log_tail(&self, id: NodeId, n: usize) -> Vec<String>;

    /// How later starts bring compose services up (`tta start --build/--pull`).
    fn set_up_options(&self, options: UpOptions) {
        let _ = options;
    }

    /// Where a component's log is read from (`tta logs`): none when it has none (yet).
    fn log_sources(&self, id: NodeId, query: &LogQuery) -> Vec<LogSource<'_>> {
        let _ = (id, query);
        Vec::new()
    }

    /// Runs a one-shot component in the foreground: stdin is `tta`'s, its output streams to
    /// `tta`'s own (and, where it is not a terminal, to its log too); a cancel ends it (TERM,
    /// its grace period, KILL). Returns its exit code (`None`: a signal ended it).
    fn run(&self, id: NodeId, cancel: &Cancel) -> Result<Option<i32>, ActionError> {
        let _ = (id, cancel);
        Err(ActionError::permanent(Failure::new(
            "only tasks run in the foreground",
        )))
    }

    /// Stops what earlier runs of this configuration started for components it no longer
    /// has (renamed or removed since); returns each one's name and how its stop went.
    fn stop_leftovers(
        &self,
        grace: Duration,
        cancel: &Cancel,
    ) -> Vec<(String, Result<StopOutcome, ActionError>)> {
        let _ = (grace, cancel);
        Vec::new()
    }

    /// Keeps why a start of `id` failed, for `tta status` to tell until it starts again or is
    /// stopped.
    fn note_failure(&self, id: NodeId, failure: &Failure) {
        let _ = (id, failure);
    }

    /// Bounds every later call to the outside world (an engine, a compose command) by the
    /// run's deadline (`--timeout`), so no call outlives it.
    fn set_deadline(&self, deadline: Option<Instant>) {
        let _ = deadline;
    }

    /// Waits, without polling where the backend allows, until the running instance of a
    /// component stops running (its process exits, its containers die) or turns unhealthy,
    /// or `cancel` comes. For `tta up`, which supervises what runs.
    fn watch(&self, id: NodeId, cancel: &Cancel) -> Ended {
        let _ = (id, cancel);
        Ended::NotRunning
    }

    /// Sends a component's output lines, as they come, to `line`, from `since` (seconds
    /// since the epoch) until `cancel`, across restarts; for backends whose output does not
    /// go to a log file `tta` can follow itself (compose services: the engine's logs).
    /// Returns false when the backend has no such stream.
    fn follow(
        &self,
        id: NodeId,
        since: f64,
        line: &(dyn Fn(Vec<u8>) + Sync),
        cancel: &Cancel,
    ) -> bool {
        let _ = (id, since, line, cancel);
        false
    }

    /// Restarts a running component in place: by default a stop, then a start action (the
    /// readiness wait is the caller's); compose restarts the service with compose.
    fn restart(&self, id: NodeId, grace: Duration, cancel: &Cancel) -> Result<(), ActionError> {
        self.stop(id, grace, cancel)?;
        self.start(id, cancel)
    }

    /// Stops several components that became free to stop at the same moment and share a
    /// [`Driver::batch_key`] (one compose call), with the longest of their grace periods.
    fn stop_batch(
        &self,
        ids: &[NodeId],
        grace: Duration,
        cancel: &Cancel,
    ) -> Vec<Result<StopOutcome, ActionError>> {
        ids.iter().map(|&id| self.stop(id, grace, cancel)).collect()
    }
}

/// Which part of a log to read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LogQuery {
    /// The last this many lines (`None`: all of them).
    pub tail: Option<usize>,
    /// Only lines written at or after this time.
    pub since: Option<std::time::SystemTime>,
    /// Keep reading what is written later.
    pub follow: bool,
}

/// Where one log of a component is read from.
#[derive(Debug, Clone)]
pub enum LogSource<'a> {
    /// A log file kept by `tta` (with an index of each line's time and stream beside it;
    /// see `state::journal`).
    File(std::path::PathBuf),
    /// A container's log, read from its engine.
    Container {
        /// Which of the component's containers (its name, with the replica's number when
        /// it has several).
        label: String,
        /// The log.
        log: ContainerLog<'a>,
    },
}

/// One line of a container's log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLine {
    /// When the engine took it (`None`: the engine gave no time).
    pub time: Option<std::time::SystemTime>,
    /// Which of the container's streams.
    pub stream: Stream,
    /// The bytes as written (not decoded), without the line break; the `\r` of a `\r\n`
    /// is kept.
    pub bytes: Vec<u8>,
}

/// What reads a container's log: the engine it runs on.
pub(crate) trait ReadLog: Sync {
    /// Reads the log of `container` as `query` says, handing each line to `each` until it
    /// returns false (a followed log: until the container stops or `cancel`).
    fn read_log(
        &self,
        container: &str,
        query: &LogQuery,
        each: &mut dyn FnMut(LogLine) -> bool,
        cancel: &Cancel,
    ) -> Result<(), String>;
}

/// A container's log as a [`LogQuery`] asks for it, read through its engine (the Engine
/// API, or the engine's CLI where the API cannot be used).
#[derive(Clone)]
pub struct ContainerLog<'a> {
    engine: &'a dyn ReadLog,
    container: String,
    query: LogQuery,
}

impl std::fmt::Debug for ContainerLog<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ContainerLog")
            .field("container", &self.container)
            .field("query", &self.query)
            .finish_non_exhaustive()
    }
}

impl<'a> ContainerLog<'a> {
    /// The log of `container` on `engine`, as `query` asks.
    pub(crate) fn new(engine: &'a dyn ReadLog, container: String, query: LogQuery) -> Self {
        Self {
            engine,
            container,
            query,
        }
    }

    /// The container's id.
    pub fn container(&self) -> &str {
        &self.container
    }

    /// Reads it, handing each line to `each` (on this thread) until `each` returns false;
    /// a followed log goes on until the container stops or `cancel`. `Err` says why the
    /// log could not be read.
    pub fn read(
        &self,
        each: &mut dyn FnMut(LogLine) -> bool,
        cancel: &Cancel,
    ) -> Result<(), String> {
        self.engine
            .read_log(&self.container, &self.query, each, cancel)
    }
}

/// How compose services are brought up (`tta start --build`, `--pull`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UpOptions {
    /// Build images before starting (`up --build`).
    pub build: bool,
    /// Pull images before starting (`pull` of the services, then `up`).
    pub pull: bool,
}
