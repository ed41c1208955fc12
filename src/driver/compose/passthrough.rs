//! `tta compose ARGS`: one compose command, repository by repository.
//!
//! Repositories run one after another, in config order (concurrent `up -d` on a shared
//! network deadlocks for real users), except a compose that only reads until it is
//! stopped (`logs -f`, `events`): one after another, the first would never end and the
//! next repository never be read, so those run side by side. A run that fails with a transient engine error on
//! stderr is tried again with the configured backoff (not `exec` or `run`, whose result is
//! the user's command's, nor a run a signal ended); a repository that succeeded is never
//! run again.
//!
//! With one repository, compose runs as by hand ([`Mode::Direct`]): piped stdin reaches
//! it, a terminal stays its terminal, stdout bytes pass untouched and its exit code is the
//! result. With several, each line goes to a [`Sink`] as it comes ([`Mode::Lines`]). The
//! library captures each run whole ([`Mode::Capture`]: the spec's
//! `dict[str, CompletedProcess]`). A first Ctrl-C or SIGTERM reaches compose, a second
//! kills it; `tta` never returns while a compose it started runs.

use std::time::{Duration, Instant};

use indexmap::IndexMap;
use rustix::process::Signal;
use serde::Serialize;

use super::command::{ComposeCommand, Target, is_transient};
use super::driver::{CommandChoice, projects_and_engines};
use super::project::Project;
use super::registry::{Registry, Started};
use crate::cancel::{Cancel, Level};
use crate::config::model::{Config, Retry};
use crate::error::Error;
use crate::process::retry::{Attempt, GaveUp};
use crate::process::{
    self, Child, Finished, Group, Line, LineTx, RunError, Spec, Stdin, Stream, Waited,
};
use crate::state::StateDir;

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

/// How `tta compose` output is handled.
#[derive(Clone, Copy)]
pub(crate) enum Mode<'s> {
    /// Captured whole for the result (the library's `run_docker_compose_command`, `--json`).
    Capture,
    /// Several repositories: each whole line to the sink as it comes; only a bounded tail is
    /// kept for the summary, so following logs for hours keeps memory flat.
    Lines(&'s dyn Sink),
    /// One repository, as if compose ran by hand: stdin and stdout are compose's own (bytes
    /// untouched), stderr is passed on as it comes (its tail is kept for the retry rule).
    Direct,
}

/// How much of a streamed run's output is kept for the summary and the retry rule.
const TAIL_BYTES: usize = 16 * 1024;

/// Keeps the last [`TAIL_BYTES`] of a stream, on line boundaries.
#[derive(Default)]
struct Tail(String);

impl Tail {
    fn push(&mut self, line: &str) {
        self.0.push_str(line);
        self.0.push('\n');
        if self.0.len() > 2 * TAIL_BYTES {
            let cut = self.0.len() - TAIL_BYTES;
            let at = self.0[cut..].find('\n').map_or(cut, |i| cut + i + 1);
            self.0.drain(..at);
        }
    }
}

/// The compose subcommand in `args`: the first word that is not an option.
fn subcommand(args: &[String]) -> Option<&str> {
    args.iter()
        .find(|a| !a.starts_with('-'))
        .map(String::as_str)
}

/// Whether a subcommand's result is the user's own command's (`exec`, `run`): never
/// retried.
fn retryable(args: &[String]) -> bool {
    !matches!(subcommand(args), Some("exec" | "run"))
}

/// Whether compose only reads and runs until it is stopped (`logs -f`, `events`): run one
/// after another, the first repository's would never end and the next never be read.
fn follows(args: &[String]) -> bool {
    let Some(at) = args.iter().position(|a| !a.starts_with('-')) else {
        return false;
    };
    match args[at].as_str() {
        "events" => true,
        "logs" => args[at + 1..].iter().take_while(|a| *a != "--").any(|a| {
            a == "--follow" || (a.starts_with('-') && !a.starts_with("--") && a[1..].contains('f'))
        }),
        _ => false,
    }
}

/// Whether compose is an `up` that stays attached until it is stopped (no `-d`, `--wait`,
/// `--no-start`, `--abort-on-container-exit` or `--exit-code-from`): one after another, the
/// next repository's starts only when the first is stopped.
fn attached_up(args: &[String]) -> bool {
    let Some(at) = args.iter().position(|a| !a.starts_with('-')) else {
        return false;
    };
    args[at] == "up"
        && !args[at + 1..].iter().take_while(|a| *a != "--").any(|a| {
            matches!(
                a.as_str(),
                "--detach" | "--wait" | "--no-start" | "--abort-on-container-exit"
            ) || a.starts_with("--exit-code-from")
                || (a.starts_with('-') && !a.starts_with("--") && a[1..].contains('d'))
        })
}

/// Runs `args` in each target: one after another, or side by side when compose follows
/// ([`follows`]). Results are in the targets' order either way.
fn run_all(
    cmd: &ComposeCommand,
    targets: &[(Target, Vec<(String, String)>)],
    args: &[String],
    retry: Retry,
    mode: Mode<'_>,
    cancel: Option<&Cancel>,
) -> IndexMap<String, ComposeRun> {
    let one = |(t, extra_env): &(Target, Vec<(String, String)>)| {
        (
            t.name.clone(),
            run_one(cmd, t, extra_env, args, retry, mode, cancel),
        )
    };
    if targets.len() > 1 && follows(args) {
        return std::thread::scope(|s| {
            let running: Vec<_> = targets.iter().map(|t| s.spawn(move || one(t))).collect();
            running
                .into_iter()
                .map(|r| r.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
                .collect()
        });
    }
    if let [first, second, ..] = targets
        && attached_up(args)
    {
        tracing::warn!(
            "`compose up` without `-d` runs until it is stopped: {} starts only after {} has been stopped (Ctrl-C); to run them together, `tta compose up -d` then `tta logs -f`, or `tta up`",
            second.0.name,
            first.0.name
        );
    }
    let mut results = IndexMap::new();
    for target in targets {
        if cancel.is_some_and(Cancel::is_cancelled) {
            break;
        }
        let (name, run) = one(target);
        results.insert(name, run);
    }
    results
}

/// Runs `args` in one target, again after a transient engine error as `retry` says.
fn run_one(
    cmd: &ComposeCommand,
    t: &Target,
    extra_env: &[(String, String)],
    args: &[String],
    retry: Retry,
    mode: Mode<'_>,
    cancel: Option<&Cancel>,
) -> ComposeRun {
    let (argv, mut env) = cmd.invocation(t, args);
    env.extend(extra_env.iter().cloned());
    // `logs -f` and `up` without `-d` run until Ctrl-C: no deadline.
    let spec = Spec::new(argv.clone()).cwd(&t.path).envs(env);
    let reader = matches!(subcommand(args), Some("logs" | "events"));
    let once = || {
        let outcome = match mode {
            Mode::Lines(s) => stream(&spec, cancel, reader, &|stream, line| {
                s.line(&t.name, stream, line);
            }),
            Mode::Direct => direct(&spec, cancel, reader),
            Mode::Capture => captured(&spec, cancel, reader),
        };
        outcome.unwrap_or_else(|e| {
            let message = format!("cannot run `{}`: {e}\n", argv.join(" "));
            match mode {
                Mode::Lines(s) => s.line(&t.name, Stream::Stderr, message.trim_end()),
                Mode::Direct => eprint!("{message}"),
                Mode::Capture => {}
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
        // Engine errors are on stderr; stdout may be a container's own output. A run
        // that a signal ended is the user's to repeat.
        if run.success()
            || !retryable(args)
            || cancel.is_some_and(Cancel::is_cancelled)
            || !is_transient(&run.stderr)
        {
            Attempt::Done(run)
        } else {
            Attempt::Retry(run)
        }
    };
    let waiting = |next: u32, delay, run: &ComposeRun| {
        if let Mode::Lines(s) = mode {
            s.retrying(
                &t.name,
                next,
                delay,
                &super::command::error_line(&run.stderr),
            );
        } else if let Mode::Direct = mode {
            eprintln!(
                "tta: {}: transient engine error; trying again in {} (attempt {next})",
                t.name,
                crate::duration::Human(delay)
            );
        }
    };
    match process::retry::retry(retry.policy(), cancel, attempt, waiting) {
        Ok(run) | Err(GaveUp::Failed(run) | GaveUp::Cancelled(run)) => run,
    }
}

/// A shell's exit code for a finished child: its code, or 128 + the signal that ended it.
fn exit_code(f: &Finished) -> i32 {
    use std::os::unix::process::ExitStatusExt as _;
    f.code()
        .or_else(|| f.status.signal().map(|s| 128 + s))
        .unwrap_or(-1)
}

/// Waits for a compose child, passing signals on: a first Ctrl-C or SIGTERM that reached
/// `tta` reaches compose too (when compose shares the terminal's group, a Ctrl-C typed
/// there reached it already: it gets a moment to act on that first), a second one kills
/// it. `tta` never returns while compose runs, so no compose process is left behind.
fn supervise(child: &Child, own_group: bool, reader: bool, cancel: Option<&Cancel>) {
    let Some(c) = cancel else {
        return;
    };
    if child.wait(None, Some((c, Level::Graceful))) != Waited::Cancelled {
        return;
    }
    if own_group {
        child.signal(Signal::INT);
    } else if child.wait(
        Some(Instant::now() + Duration::from_secs(1)),
        Some((c, Level::Forced)),
    ) == Waited::TimedOut
    {
        child.signal(Signal::TERM);
    }
    if !reader {
        if child.wait(None, Some((c, Level::Forced))) == Waited::Cancelled {
            child.signal(Signal::KILL);
        }
        return;
    }
    // A compose that only reads (`logs -f`) and does not act on the signal (one that got
    // it while starting up) is asked again, then killed: one Ctrl-C always ends it in
    // bounded time. Compose that changes containers (`up`) is never hurried.
    for (after, sig) in [(PASS_ON_GRACE, Signal::TERM), (PASS_ON_GRACE, Signal::KILL)] {
        match child.wait(Some(Instant::now() + after), Some((c, Level::Forced))) {
            Waited::Exited(_) => return,
            Waited::Cancelled => {
                child.signal(Signal::KILL);
                return;
            }
            Waited::TimedOut => {
                child.signal(sig);
            }
        }
    }
}

/// How long compose has to end after a signal `tta` passed on, before the next one.
const PASS_ON_GRACE: Duration = Duration::from_secs(5);

/// One repository as compose by hand: stdin and stdout are the terminal's (or whatever
/// `tta` was given: a pipe, a file; bytes untouched), stderr is passed on line by line as
/// it comes and its tail kept. In the terminal's process group when stdin is a terminal
/// (so interactive commands and Ctrl-C work as by hand), else in a group of its own.
fn direct(spec: &Spec, cancel: Option<&Cancel>, reader: bool) -> Result<ComposeRun, RunError> {
    use std::io::{IsTerminal as _, Write as _};
    let terminal = std::io::stdin().is_terminal();
    let (tx, rx) = std::sync::mpsc::channel::<Line>();
    let mut child = spec
        .clone()
        .stdin(Stdin::Inherit)
        .stdout(process::Sink::Inherit)
        .stderr(process::Sink::Lines(LineTx::new(tx, 0)))
        .group(if terminal { Group::Inherit } else { Group::Own })
        .spawn()?;
    let mut tail = Tail::default();
    std::thread::scope(|s| {
        s.spawn(|| supervise(&child, !terminal, reader, cancel));
        for l in rx {
            let mut err = std::io::stderr().lock();
            let _ = err.write_all(&l.bytes).and_then(|()| err.write_all(b"\n"));
            tail.push(&String::from_utf8_lossy(&l.bytes));
        }
    });
    let f = child.finish();
    Ok(ComposeRun {
        exit_code: exit_code(&f),
        stdout: String::new(),
        stderr: tail.0,
    })
}

/// Runs `spec` to its end and returns what it printed, whole (the library, `--json`);
/// signals reach it as [`supervise`] says, so `tta --json compose logs -f` ends on Ctrl-C
/// or SIGTERM like the rest.
fn captured(spec: &Spec, cancel: Option<&Cancel>, reader: bool) -> Result<ComposeRun, RunError> {
    let mut child = spec.clone().capture().group(Group::Own).spawn()?;
    supervise(&child, true, reader, cancel);
    let f = child.finish();
    Ok(ComposeRun {
        exit_code: exit_code(&f),
        stdout: f.stdout_text(),
        stderr: f.stderr_text(),
    })
}

/// Runs `spec` handing each whole line to `on_line` as it comes, and returns the tail of
/// each stream; signals reach it as [`supervise`] says.
fn stream(
    spec: &Spec,
    cancel: Option<&Cancel>,
    reader: bool,
    on_line: &dyn Fn(Stream, &str),
) -> Result<ComposeRun, RunError> {
    let (tx, rx) = std::sync::mpsc::channel::<Line>();
    let mut child = spec
        .clone()
        .group(Group::Own)
        .stdout(process::Sink::Lines(LineTx::new(tx.clone(), 0)))
        .stderr(process::Sink::Lines(LineTx::new(tx, 0)))
        .spawn()?;
    let (mut stdout, mut stderr) = (Tail::default(), Tail::default());
    std::thread::scope(|s| {
        s.spawn(|| supervise(&child, true, reader, cancel));
        for l in rx {
            let line = String::from_utf8_lossy(&l.bytes);
            on_line(l.stream, &line);
            match l.stream {
                Stream::Stdout => stdout.push(&line),
                Stream::Stderr => stderr.push(&line),
            }
        }
    });
    let f = child.finish();
    Ok(ComposeRun {
        exit_code: exit_code(&f),
        stdout: stdout.0,
        stderr: stderr.0,
    })
}

/// `tta compose`: the configured repositories as compose projects, and the compose command.
pub(crate) struct Passthrough {
    projects: Vec<Project>,
    command: CommandChoice,
    retry: Retry,
    state: StateDir,
}

impl Passthrough {
    /// The pass-through of a configuration's repositories. Reads `TTA_COMPOSE`; runs nothing.
    pub(crate) fn new(config: &Config) -> Self {
        let command = CommandChoice::new(std::env::var("TTA_COMPOSE").ok(), config);
        let state = StateDir::new(&config.state_dir);
        let changes = std::sync::Arc::default();
        let (projects, _) = projects_and_engines(config, command.engine_cli(), &state, &changes);
        Self {
            projects,
            command,
            retry: config.defaults.retry,
            state,
        }
    }

    /// The names of the repositories, in config order.
    pub(crate) fn repositories(&self) -> Vec<String> {
        self.projects.iter().map(|r| r.name.clone()).collect()
    }

    /// Runs compose with `args` in each of `selected` repositories (names as given to
    /// `--repo`; none, `all` or `both`: every one), one after another in config order
    /// (side by side for `logs -f` and `events`).
    /// Transient engine errors are retried with the configured backoff; a repository that
    /// succeeded is never run again. `mode` says where output goes; `cancel` (Ctrl-C,
    /// SIGTERM) is passed on to compose.
    pub(crate) fn run(
        &self,
        selected: &[String],
        args: &[String],
        mode: Mode<'_>,
        cancel: Option<&Cancel>,
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
                Ok(t) => {
                    let env: Vec<(String, String)> = r
                        .host
                        .iter()
                        .map(|h| ("DOCKER_HOST".to_owned(), h.clone()))
                        .collect();
                    targets.push((t.clone(), env));
                    // Whatever it starts there is tta's to find again (a moved checkout,
                    // a service removed later).
                    Registry::record(
                        &self.state,
                        &r.name,
                        &r.config.path,
                        Started {
                            project: t.project.clone(),
                            context: r.config.context.clone(),
                            host: r.host.clone(),
                        },
                    );
                }
                Err(e) => {
                    return Err(Error::usage(
                        format!("repository {name}: {e}"),
                        Some(format!("set `repositories.\"{name}\".compose_files`")),
                    ));
                }
            }
        }
        let cmd = self.command.get().map_err(|u| u.to_error())?;
        Ok(run_all(&cmd, &targets, args, self.retry, mode, cancel))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tail_stays_bounded_however_long_it_runs() {
        let mut t = Tail::default();
        let line = "x".repeat(100);
        for _ in 0..100_000 {
            t.push(&line);
        }
        assert!(t.0.len() <= 2 * TAIL_BYTES + 101, "{}", t.0.len());
        assert!(t.0.starts_with('x') && t.0.ends_with("x\n"));
    }

    #[test]
    fn only_a_compose_that_reads_until_stopped_runs_side_by_side() {
        let args = |s: &str| s.split_whitespace().map(str::to_owned).collect::<Vec<_>>();
        for yes in [
            "logs -f",
            "logs --follow web",
            "logs -tf",
            "logs --tail 5 -f -- web",
            "events",
        ] {
            assert!(follows(&args(yes)), "{yes}");
        }
        for no in [
            "logs",
            "logs --tail 5 web",
            "logs -- -f",
            "logs --no-log-prefix",
            "up -d",
            "up",
            "ps -f",
            "",
        ] {
            assert!(!follows(&args(no)), "{no}");
        }
    }

    #[test]
    fn an_up_that_stays_attached_is_told_apart() {
        let args = |s: &str| s.split_whitespace().map(str::to_owned).collect::<Vec<_>>();
        for yes in ["up", "up --build web", "up --no-deps -- -d"] {
            assert!(attached_up(&args(yes)), "{yes}");
        }
        for no in [
            "up -d",
            "up --detach",
            "up -dV",
            "up --wait",
            "up --no-start",
            "up --abort-on-container-exit",
            "up --exit-code-from=tests",
            "logs -f",
            "",
        ] {
            assert!(!attached_up(&args(no)), "{no}");
        }
    }

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
