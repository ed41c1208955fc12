//! `tta compose ARGS`: one compose command, repository by repository.
//!
//! Repositories run one after another, in config order (concurrent `up -d` on a shared
//! network deadlocks for real users). A run that fails with a transient engine error on
//! stderr is tried again with the configured backoff (not `exec` or `run`, whose result is
//! the user's command's); a repository that succeeded is never run again.
//! Each run's output goes, line by line, to a [`Sink`] as it comes, and is kept whole for
//! the result (the spec's `dict[str, CompletedProcess]`).

use std::time::Duration;

use indexmap::IndexMap;
use serde::Serialize;

use super::command::{ComposeCommand, Target, is_transient};
use super::driver::{CommandChoice, projects_and_engines};
use super::project::Project;
use crate::config::model::{Config, Retry};
use crate::error::Error;
use crate::process::retry::{Attempt, GaveUp};
use crate::process::{self, Group, Line, LineTx, RunError, Spec, Stream};

/// The result of compose in one repository.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ComposeRun {
    /// Compose's exit code (-1 when a signal ended it, 127 when it could not run).
    pub exit_code: i32,
    /// Everything it printed on stdout.
    pub stdout: String,
    /// Everything it printed on stderr.
    pub stderr: String,
}

impl ComposeRun {
    /// Exit code 0.
    pub fn success(&self) -> bool {
        self.exit_code == 0
    }
}

/// Where `tta compose` output goes as it comes.
pub(crate) trait Sink: Sync {
    /// One whole line of a repository's output.
    fn line(&self, repo: &str, stream: Stream, line: &str);
    /// A transient failure; the same command runs again after `delay`.
    fn retrying(&self, repo: &str, attempt: u32, delay: Duration, why: &str);
}

/// The repositories named with `--repo` (each may be a comma-separated list), in config
/// order: none, `all` or `both` select every one.
pub(crate) fn select_repositories(
    known: &[String],
    selected: &[String],
) -> Result<Vec<String>, Error> {
    if known.is_empty() {
        return Err(Error::usage(
            "no repositories are configured",
            Some("add them under `repositories:` with their `path`".into()),
        ));
    }
    let wanted: Vec<&str> = selected
        .iter()
        .flat_map(|s| s.split(','))
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    if wanted.is_empty() || wanted.iter().any(|w| *w == "all" || *w == "both") {
        return Ok(known.to_vec());
    }
    for w in &wanted {
        if !known.iter().any(|k| k == w) {
            return Err(Error::UnknownRepository {
                name: (*w).to_owned(),
                known: known.to_vec(),
            });
        }
    }
    Ok(known
        .iter()
        .filter(|k| wanted.contains(&k.as_str()))
        .cloned()
        .collect())
}

/// Runs `args` in each target in turn.
fn run_all(
    cmd: &ComposeCommand,
    targets: &[Target],
    args: &[String],
    retry: Retry,
    sink: Option<&dyn Sink>,
) -> IndexMap<String, ComposeRun> {
    // `exec` and `run` report the exit code and output of the user's own command: not
    // the engine's, so never retried.
    let retryable = !matches!(
        args.iter()
            .find(|a| !a.starts_with('-'))
            .map(String::as_str),
        Some("exec" | "run")
    );
    let mut results = IndexMap::new();
    for t in targets {
        let (argv, env) = cmd.invocation(t, args);
        // `logs -f` and `up` without `-d` run until Ctrl-C: no deadline.
        let spec = Spec::new(argv.clone()).cwd(&t.path).envs(env);
        let once = || {
            let outcome = match sink {
                Some(s) => stream(&spec, &|stream, line| s.line(&t.name, stream, line)),
                None => spec.clone().capture().run().map(|f| ComposeRun {
                    exit_code: f.code().unwrap_or(-1),
                    stdout: f.stdout_text(),
                    stderr: f.stderr_text(),
                }),
            };
            outcome.unwrap_or_else(|e| {
                let message = format!("cannot run `{}`: {e}\n", argv.join(" "));
                if let Some(s) = sink {
                    s.line(&t.name, Stream::Stderr, message.trim_end());
                }
                ComposeRun {
                    exit_code: if matches!(e, RunError::NotFound(_)) {
                        127
                    } else {
                        -1
                    },
                    stdout: String::new(),
                    stderr: message,
                }
            })
        };
        let attempt = |_| {
            let run = once();
            // Engine errors are on stderr; stdout may be a container's own output.
            if run.success() || !retryable || !is_transient(&run.stderr) {
                Attempt::Done(run)
            } else {
                Attempt::Retry(run)
            }
        };
        let waiting = |next: u32, delay, run: &ComposeRun| {
            if let Some(s) = sink {
                s.retrying(
                    &t.name,
                    next,
                    delay,
                    &super::command::error_line(&run.stderr),
                );
            }
        };
        let run = match process::retry::retry(retry.policy(), None, attempt, waiting) {
            Ok(run) | Err(GaveUp::Failed(run) | GaveUp::Cancelled(run)) => run,
        };
        results.insert(t.name.clone(), run);
    }
    results
}

/// Runs `spec` in the terminal's process group (so Ctrl-C reaches compose as it would by
/// hand), handing each whole line to `on_line` as it comes, and returns all of it.
fn stream(spec: &Spec, on_line: &dyn Fn(Stream, &str)) -> Result<ComposeRun, RunError> {
    let (tx, rx) = std::sync::mpsc::channel::<Line>();
    let mut child = spec
        .clone()
        .group(Group::Inherit)
        .stdout(process::Sink::Lines(LineTx::new(tx.clone(), 0)))
        .stderr(process::Sink::Lines(LineTx::new(tx, 0)))
        .spawn()?;
    let (mut stdout, mut stderr) = (String::new(), String::new());
    for l in rx {
        let line = String::from_utf8_lossy(&l.bytes);
        on_line(l.stream, &line);
        let all = match l.stream {
            Stream::Stdout => &mut stdout,
            Stream::Stderr => &mut stderr,
        };
        all.push_str(&line);
        all.push('\n');
    }
    let f = child.finish();
    Ok(ComposeRun {
        exit_code: f.code().unwrap_or(-1),
        stdout,
        stderr,
    })
}

/// `tta compose`: the configured repositories as compose projects, and the compose command.
pub(crate) struct Passthrough {
    projects: Vec<Project>,
    command: CommandChoice,
    retry: Retry,
}

impl Passthrough {
    /// The pass-through of a configuration's repositories. Reads `TTA_COMPOSE`; runs nothing.
    pub(crate) fn new(config: &Config) -> Self {
        let command = CommandChoice::new(std::env::var("TTA_COMPOSE").ok(), config);
        let (projects, _) = projects_and_engines(config, command.engine_cli());
        Self {
            projects,
            command,
            retry: config.defaults.retry,
        }
    }

    /// The names of the repositories, in config order.
    pub(crate) fn repositories(&self) -> Vec<String> {
        self.projects.iter().map(|r| r.name.clone()).collect()
    }

    /// Runs compose with `args` in each of `selected` repositories (names as given to
    /// `--repo`; none, `all` or `both`: every one), one after another in config order.
    /// Transient engine errors are retried with the configured backoff; a repository that
    /// succeeded is never run again. `sink` sees every line as it comes.
    pub(crate) fn run(
        &self,
        selected: &[String],
        args: &[String],
        sink: Option<&dyn Sink>,
    ) -> Result<IndexMap<String, ComposeRun>, Error> {
        let chosen = select_repositories(&self.repositories(), selected)?;
        let mut targets = Vec::with_capacity(chosen.len());
        for name in &chosen {
            let Some(r) = self.projects.iter().find(|r| &r.name == name) else {
                continue;
            };
            if !r.present() {
                return Err(r.missing());
            }
            match &r.target {
                Ok(t) => targets.push(t.clone()),
                Err(e) => {
                    return Err(Error::usage(
                        format!("repository {name}: {e}"),
                        Some(format!("set `repositories.\"{name}\".compose_files`")),
                    ));
                }
            }
        }
        let cmd = self.command.get().map_err(|u| u.to_error())?;
        Ok(run_all(&cmd, &targets, args, self.retry, sink))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repositories_are_selected_in_config_order() {
        let known: Vec<String> = ["tta.dev", "prototype", "x"].map(str::to_owned).to_vec();
        let sel = |s: &[&str]| {
            select_repositories(
                &known,
                &s.iter().map(|x| (*x).to_owned()).collect::<Vec<_>>(),
            )
        };
        assert_eq!(sel(&[]).unwrap(), known);
        assert_eq!(sel(&["both"]).unwrap(), known);
        assert_eq!(sel(&["x", "tta.dev"]).unwrap(), ["tta.dev", "x"]);
        assert_eq!(sel(&["x,prototype"]).unwrap(), ["prototype", "x"]);
        assert!(matches!(
            sel(&["nope"]),
            Err(Error::UnknownRepository { .. })
        ));
        assert!(select_repositories(&[], &[]).is_err());
    }
}
