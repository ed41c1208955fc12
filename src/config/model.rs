//! The validated configuration: what every other part of `tta` works from.
//!
//! These types are produced only by the config parser, after every check has passed, so the
//! rest of the program never re-validates: a `Config` always has resolved paths, parsed
//! durations and known component kinds.

use std::path::PathBuf;
use std::time::Duration;

use indexmap::IndexMap;

/// The whole configuration.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Config {
    /// The folder relative paths resolve against: the config file's folder.
    pub base_dir: PathBuf,
    /// Defaults that components inherit.
    pub defaults: Defaults,
    /// Where local process state, task results and logs live.
    pub state_dir: PathBuf,
    /// How to run Docker Compose.
    pub compose: ComposeSettings,
    /// Repositories with compose files, in file order.
    pub repositories: IndexMap<String, Repository>,
    /// Components, in file order (discovered compose services are appended).
    pub components: IndexMap<String, ComponentSpec>,
    /// How component logs are kept.
    pub logs: Logs,
}

/// `logs:`: how the log of a process or task is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Logs {
    /// The size in bytes at which a log is rotated.
    pub max_size: u64,
    /// How many rotated files are kept (0 to 100).
    pub keep: u32,
}

impl Logs {
    /// The most rotated files `keep` may ask for.
    pub const MAX_KEEP: u32 = 100;
    /// The smallest `max_size`: below it, a log would rotate at almost every line.
    pub const MIN_SIZE: u64 = 1024;
}

impl Default for Logs {
    fn default() -> Self {
        Self {
            max_size: 10 << 20,
            keep: 1,
        }
    }
}

/// `defaults:`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Defaults {
    /// How long a component may take to become ready.
    pub start_timeout: Duration,
    /// How long a component may take to stop before it is killed.
    pub stop_timeout: Duration,
    /// How many start or stop operations run at once.
    pub jobs: usize,
    /// Retries of transient start failures.
    pub retry: Retry,
}

impl Default for Defaults {
    fn default() -> Self {
        Self {
            start_timeout: Duration::from_secs(60),
            stop_timeout: Duration::from_secs(10),
            jobs: 8,
            retry: Retry::default(),
        }
    }
}

/// `defaults.retry:` capped exponential backoff with jitter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Retry {
    /// Attempts in all (1 = no retry).
    pub attempts: u32,
    /// Wait before the second attempt; doubles each time.
    pub backoff: Duration,
    /// The longest wait between attempts.
    pub max_backoff: Duration,
}

impl Default for Retry {
    fn default() -> Self {
        Self {
            attempts: 3,
            backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(10),
        }
    }
}

impl Retry {
    /// The retry loop's policy.
    pub fn policy(&self) -> crate::process::retry::Policy {
        crate::process::retry::Policy {
            attempts: self.attempts,
            first: self.backoff,
            max: self.max_backoff,
        }
    }

    /// The wait before attempt `n` (2, 3, ...), before jitter.
    pub fn delay(&self, attempt: u32) -> Duration {
        self.policy().delay(attempt)
    }
}

/// `compose:`.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ComposeSettings {
    /// The compose command as argv (`["docker", "compose"]`), or `None` to detect it.
    pub command: Option<Vec<String>>,
}

/// `repositories.<name>:`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Repository {
    /// The repository's folder, resolved against the config file's folder.
    pub path: PathBuf,
    /// Compose files, relative to `path`; empty means the compose default file names.
    pub compose_files: Vec<PathBuf>,
    /// The compose project name (`-p`); `None` derives one from the repository name.
    pub project_name: Option<String>,
    /// Compose profiles, passed before the subcommand.
    pub profiles: Vec<String>,
    /// Whether compose services become components automatically.
    pub discover: bool,
    /// A docker context (remote engine) for this repository.
    pub context: Option<String>,
}

/// What kind of thing a component is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// A service of a compose project.
    Compose,
    /// A long-running local command.
    Process,
    /// A one-shot local command.
    Task,
    /// Something `tta` does not start or stop (an API on another host, the Docker engine):
    /// it is up when its probe passes, and others can depend on it.
    External,
}

impl Kind {
    /// The name used in config files and output.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Compose => "compose",
            Kind::Process => "process",
            Kind::Task => "task",
            Kind::External => "external",
        }
    }
}

/// How a local command is given.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum CommandSpec {
    /// An argv list, run without a shell.
    Argv(Vec<String>),
    /// A line run with `sh -c` (the explicit `shell:` field).
    Shell(String),
}

impl CommandSpec {
    /// The argv to execute.
    pub fn argv(&self) -> Vec<String> {
        match self {
            CommandSpec::Argv(v) => v.clone(),
            CommandSpec::Shell(s) => vec!["sh".into(), "-c".into(), s.clone()],
        }
    }
}

/// One `env_file:` entry: a dotenv file whose variables a process or task gets.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct EnvFile {
    /// The file, resolved against the config file's folder.
    pub path: PathBuf,
    /// A missing file is an error (the default), or is skipped (`required: false`).
    pub required: bool,
}

/// When a dependency counts as satisfied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Condition {
    /// Its start action succeeded.
    Started,
    /// It is ready: probe passed (if any), container healthy (if it has a healthcheck), a
    /// task completed. The default.
    Healthy,
    /// It ran to completion with exit code 0 (tasks and one-shot compose services).
    CompletedSuccessfully,
}

impl Condition {
    /// The name used in config files.
    pub fn as_str(self) -> &'static str {
        match self {
            Condition::Started => "started",
            Condition::Healthy => "healthy",
            Condition::CompletedSuccessfully => "completed_successfully",
        }
    }

    /// Parses a condition, accepting Compose's `service_` prefix.
    pub fn parse(s: &str) -> Option<Self> {
        match s.strip_prefix("service_").unwrap_or(s) {
            "started" => Some(Condition::Started),
            "healthy" => Some(Condition::Healthy),
            "completed_successfully" => Some(Condition::CompletedSuccessfully),
            _ => None,
        }
    }
}

/// One edge: this component depends on `name`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Dependency {
    /// The component depended on.
    pub name: String,
    /// When it counts as satisfied.
    pub condition: Condition,
    /// A soft edge (`required: false`) waits but does not block on failure.
    pub required: bool,
    /// Under `tta up`: when the dependency restarts, this component is restarted once the
    /// dependency is ready again (Compose's `restart: true`).
    pub restart: bool,
}

/// What a probe checks.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum ProbeCheck {
    /// A TCP connect to `host:port`.
    Tcp(String),
    /// An HTTP GET; `status` is the expected code, or any 2xx.
    Http {
        /// The URL.
        url: String,
        /// The expected status, or `None` for any 2xx.
        status: Option<u16>,
    },
    /// A command that must exit 0.
    Exec(Vec<String>),
}

/// What `{engine_host}` in a probe's address stands for: the host of the engine the
/// component runs on.
pub const ENGINE_HOST: &str = "{engine_host}";

impl ProbeCheck {
    /// The check with `{engine_host}` replaced by `host` (an IPv6 address in brackets).
    #[must_use]
    pub fn with_engine_host(&self, host: &str) -> ProbeCheck {
        let host = if host.contains(':') && !host.starts_with('[') {
            format!("[{host}]")
        } else {
            host.to_owned()
        };
        match self {
            ProbeCheck::Tcp(a) => ProbeCheck::Tcp(a.replace(ENGINE_HOST, &host)),
            ProbeCheck::Http { url, status } => ProbeCheck::Http {
                url: url.replace(ENGINE_HOST, &host),
                status: *status,
            },
            ProbeCheck::Exec(a) => ProbeCheck::Exec(a.clone()),
        }
    }

    /// The `host:port` a `tcp` or `http` probe connects to (`None`: an `exec` probe).
    pub fn address(&self) -> Option<String> {
        match self {
            ProbeCheck::Tcp(a) => Some(a.clone()),
            ProbeCheck::Http { url, .. } => {
                let authority = url
                    .trim_start_matches("http://")
                    .split(['/', '?', '#'])
                    .next()
                    .unwrap_or_default();
                let authority = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
                Some(if authority.contains(':') && !authority.ends_with(']') {
                    authority.to_owned()
                } else {
                    format!("{authority}:80")
                })
            }
            ProbeCheck::Exec(_) => None,
        }
    }
}

/// A host-side readiness probe.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Probe {
    /// What to check.
    pub check: ProbeCheck,
    /// Time between attempts.
    pub interval: Duration,
    /// Time one attempt may take.
    pub timeout: Duration,
    /// Failures (after `start_period`) before the component is declared failed; `None`:
    /// keep trying until the start timeout.
    pub retries: Option<u32>,
    /// Failures during this period do not count towards `retries`.
    pub start_period: Duration,
}

impl Probe {
    /// Default interval between attempts: short, because the first success ends the wait.
    pub const DEFAULT_INTERVAL: Duration = Duration::from_millis(250);
    /// Default time one attempt may take.
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(2);
}

/// `restart:` what `tta up` does when a component stops running.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RestartPolicy {
    /// Never: a component that stops stays stopped (the default for tasks).
    No,
    /// When it exits with a code other than 0, is killed by a signal, or fails its
    /// liveness probe (the default for processes and compose services).
    OnFailure,
    /// Whenever it stops, whatever its exit code.
    Always,
}

impl RestartPolicy {
    /// The name used in config files.
    pub fn as_str(self) -> &'static str {
        match self {
            RestartPolicy::No => "no",
            RestartPolicy::OnFailure => "on-failure",
            RestartPolicy::Always => "always",
        }
    }

    /// Parses a policy (`on_failure` is accepted for `on-failure`).
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "no" => Some(RestartPolicy::No),
            "on-failure" | "on_failure" => Some(RestartPolicy::OnFailure),
            "always" => Some(RestartPolicy::Always),
            _ => None,
        }
    }

    /// The policy of a component of `kind` that does not say: `no` for tasks (and
    /// external components, which `tta` does not run), `on-failure` for the rest.
    pub fn default_for(kind: Kind) -> Self {
        match kind {
            Kind::Task | Kind::External => RestartPolicy::No,
            Kind::Process | Kind::Compose => RestartPolicy::OnFailure,
        }
    }
}

/// How `tta up` supervises a component: its restart policy, backoff and liveness probe.
/// Only `tta up` reads these; `tta start` leaves components unsupervised.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Supervision {
    /// `restart:`; `None`: the default of the component's kind.
    pub restart: Option<RestartPolicy>,
    /// `max_restarts:`: restarts in a row (the count resets after `reset_after` of being
    /// ready) before the component is failed for good; `None`: no limit.
    pub max_restarts: Option<u32>,
    /// `backoff:`: the wait before the first restart; doubled for each restart in a row.
    pub backoff: Duration,
    /// `max_backoff:`: the longest wait before a restart.
    pub max_backoff: Duration,
    /// `reset_after:`: after it has been ready this long, the next crash starts again from
    /// `backoff` (and `max_restarts` counts from zero).
    pub reset_after: Duration,
    /// `liveness:`: a probe checked while it runs; failing it `failure_threshold` times in a
    /// row restarts it by its restart policy.
    pub liveness: Option<Liveness>,
    /// `watch:`: globs (relative to its `cwd`) whose change restarts it.
    pub watch: Vec<String>,
}

impl Supervision {
    /// The default wait before the first restart.
    pub const DEFAULT_BACKOFF: Duration = Duration::from_secs(1);
    /// The default longest wait.
    pub const DEFAULT_MAX_BACKOFF: Duration = Duration::from_secs(30);
    /// The default time ready after which the backoff starts over.
    pub const DEFAULT_RESET_AFTER: Duration = Duration::from_secs(10);

    /// The policy that applies to a component of `kind`.
    pub fn policy(&self, kind: Kind) -> RestartPolicy {
        self.restart
            .unwrap_or_else(|| RestartPolicy::default_for(kind))
    }
}

impl Default for Supervision {
    fn default() -> Self {
        Self {
            restart: None,
            max_restarts: None,
            backoff: Self::DEFAULT_BACKOFF,
            max_backoff: Self::DEFAULT_MAX_BACKOFF,
            reset_after: Self::DEFAULT_RESET_AFTER,
            liveness: None,
            watch: Vec::new(),
        }
    }
}

/// A liveness probe: the probe syntax, plus how many failures in a row mean "not alive".
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Liveness {
    /// What to check, how often (default 5s) and with what timeout; `start_period` counts
    /// from when the component became ready.
    pub probe: Probe,
    /// Failures in a row before the component is restarted.
    pub failure_threshold: u32,
}

impl Liveness {
    /// The default interval of a liveness probe: it runs for as long as the component does.
    pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(5);
    /// The default failures in a row.
    pub const DEFAULT_THRESHOLD: u32 = 3;
}

/// Whether a compose service runs once (a migration, an init job) or runs on (a database),
/// as its compose files and its dependents say; never guessed from how long it ran.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Lifetime {
    /// Nothing says: ready when running, completed when it exited 0.
    #[default]
    Unknown,
    /// A one-shot: a dependent waits for its successful exit, or `restart: "no"` with
    /// nothing that says it runs on. Ready when every container exited 0.
    OneShot,
    /// It runs on: a `restart: always|unless-stopped` policy, a healthcheck, published
    /// ports, a terminal, or another service sharing its namespaces. An exit is a stop or a
    /// crash, never a completion.
    LongRunning,
}

/// `components.<name>:`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ComponentSpec {
    /// The kind.
    pub kind: Kind,
    /// For compose: the repository.
    pub repository: Option<String>,
    /// For compose: the service (defaults to the component name).
    pub service: Option<String>,
    /// For process/task: what to run.
    pub command: Option<CommandSpec>,
    /// For process/task: the working directory (resolved against the config file's folder).
    pub cwd: Option<PathBuf>,
    /// For process/task: extra environment (with the variables of `env_file` merged in at
    /// load time; `env` wins).
    pub env: IndexMap<String, String>,
    /// For process/task: dotenv files read into `env` at load time, in order.
    pub env_file: Vec<EnvFile>,
    /// Dependencies.
    pub depends_on: Vec<Dependency>,
    /// A host-side readiness probe.
    pub probe: Option<Probe>,
    /// Overrides `defaults.start_timeout`.
    pub start_timeout: Option<Duration>,
    /// Overrides `defaults.stop_timeout`.
    pub stop_timeout: Option<Duration>,
    /// Disabled components are left out of the graph.
    pub enabled: bool,
    /// A line of text for `tta status` and `tta graph`.
    pub description: Option<String>,
    /// For compose: the service has a compose healthcheck (known from discovery).
    pub healthcheck: bool,
    /// For compose: whether the service runs once or runs on (known from discovery).
    pub lifetime: Lifetime,
    /// True when the component came from a compose file rather than `components:`.
    pub discovered: bool,
    /// For compose: a fingerprint of the service's definition in its compose files (known
    /// from discovery), so a reload under `tta up` sees which services changed.
    pub definition: Option<String>,
    /// How `tta up` supervises it.
    pub supervision: Supervision,
}

impl ComponentSpec {
    /// An empty spec of a kind; the parser and discovery fill it in.
    pub fn new(kind: Kind) -> Self {
        Self {
            kind,
            repository: None,
            service: None,
            command: None,
            cwd: None,
            env: IndexMap::new(),
            env_file: Vec::new(),
            depends_on: Vec::new(),
            probe: None,
            start_timeout: None,
            stop_timeout: None,
            enabled: true,
            description: None,
            healthcheck: false,
            lifetime: Lifetime::Unknown,
            discovered: false,
            definition: None,
            supervision: Supervision::default(),
        }
    }
}

/// Names of components and repositories that have a meaning of their own.
pub const RESERVED_NAMES: [&str; 2] = ["all", "both"];

/// Whether `name` is a valid component or repository name: letters, digits, `.`, `_`, `-`,
/// and not `-` first (on a command line, `tta logs -x` would read it as an option).
pub fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with('-')
        && name.len() <= 128
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}
