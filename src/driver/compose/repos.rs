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

use super::Compose;
use super::command::{ComposeCommand, Target, is_transient};
use super::exec::{self, Job, RunError, Stream};
use crate::config::model::Retry;
use crate::error::Error;

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
pub trait Sink: Sync {
    /// One whole line of a repository's output.
    fn line(&self, repo: &str, stream: Stream, line: &str);
    /// A transient failure; the same command runs again after `delay`.
    fn retrying(&self, repo: &str, attempt: u32, delay: Duration, why: &str);
}

/// The repositories named with `--repo` (each may be a comma-separated list), in config
/// order: none, `all` or `both` select every one.
pub fn select_repositories(known: &[String], selected: &[String]) -> Result<Vec<String>, Error> {
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
pub fn run_all(
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
        let job = Job {
            cwd: Some(&t.path),
            env: &env,
            // `logs -f` and `up` without `-d` run until Ctrl-C.
            ..Job::new(&argv, Duration::MAX)
        };
        let mut attempt = 1u32;
        let run = loop {
            let outcome = match sink {
                Some(s) => exec::stream(&job, &|stream, line| s.line(&t.name, stream, line)),
                None => exec::run(&job, None),
            };
            let run = match outcome {
                Ok(c) => ComposeRun {
                    exit_code: c.code.unwrap_or(-1),
                    stdout: c.stdout,
                    stderr: c.stderr,
                },
                Err(e) => {
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
                }
            };
            // Engine errors are on stderr; stdout may be a container's own output.
            if run.success()
                || !retryable
                || attempt >= retry.attempts
                || !is_transient(&run.stderr)
            {
                break run;
            }
            attempt += 1;
            let delay = retry
                .delay(attempt)
                .mul_f64(fastrand::f64().mul_add(0.4, 0.8));
            if let Some(s) = sink {
                s.retrying(
                    &t.name,
                    attempt,
                    delay,
                    &super::command::error_line(&run.stderr),
                );
            }
            std::thread::sleep(delay);
        };
        results.insert(t.name.clone(), run);
    }
    results
}

impl Compose {
    /// Runs compose with `args` in each of `selected` repositories (names as given to
    /// `--repo`; none, `all` or `both`: every one), one after another in config order.
    /// Transient engine errors are retried with the configured backoff; a repository that
    /// succeeded is never run again. `sink` sees every line as it comes.
    pub fn run_in_repositories(
        &self,
        selected: &[String],
        args: &[String],
        sink: Option<&dyn Sink>,
    ) -> Result<IndexMap<String, ComposeRun>, Error> {
        let names: Vec<String> = self.repos.iter().map(|r| r.name.clone()).collect();
        let chosen = select_repositories(&names, selected)?;
        let mut targets = Vec::with_capacity(chosen.len());
        for name in &chosen {
            let Some(r) = self.repos.iter().find(|r| &r.name == name) else {
                continue;
            };
            if !r.config.path.is_dir() {
                return Err(Self::missing(r));
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
        let cmd = self.command().map_err(|u| u.to_error())?;
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
