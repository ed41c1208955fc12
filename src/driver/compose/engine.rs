//! One container engine (a docker context, or the default one): one `docker ps -a` for
//! every compose container of the projects it serves, shared for up to [`PS_MAX_AGE`]
//! between concurrent callers (one call in flight at a time), and container logs. Failures
//! are worded for the user with a next step.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::cli::EngineCli;
use super::command::{self, engine_unreachable};
use super::lock;
use super::ps::{self, Container, TEMPLATE};
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

/// One engine and what is cached about it.
pub(crate) struct Engine {
    cli: EngineCli,
    context: Option<String>,
    projects: Vec<String>,
    cache: Mutex<Option<Cached>>,
    fetching: Mutex<()>,
    /// Held by `up` calls of repositories on a shared (external) network.
    pub(super) shared_up: Mutex<()>,
}

impl Engine {
    /// The engine of a docker `context` (`None`: the default one).
    pub(crate) fn new(cli: EngineCli, context: Option<String>) -> Self {
        Self {
            cli,
            context,
            projects: Vec::new(),
            cache: Mutex::new(None),
            fetching: Mutex::new(()),
            shared_up: Mutex::new(()),
        }
    }

    /// Its docker context.
    pub(crate) fn context(&self) -> Option<&str> {
        self.context.as_deref()
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
        let out = Spec::new(self.ps_argv())
            .capture()
            .deadline(ENGINE_DEADLINE)
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
        Ok(all)
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
            .argv(self.context(), &["logs", "--tail", &tail, container]);
        Spec::new(argv)
            .merged(Sink::Capture)
            .deadline(ENGINE_DEADLINE)
            .run()
            .map(|o| {
                let lines: Vec<String> = o.stdout_text().lines().map(str::to_owned).collect();
                lines[lines.len().saturating_sub(n)..].to_vec()
            })
            .unwrap_or_default()
    }
}
