//! `tta compose ARGS... [--repo NAME|both|all]`: one compose command in each repository,
//! one after another in config order, with each repository's project name, compose files
//! and profiles.
//!
//! `--repo NAME` / `--repo=NAME` may stand anywhere before `--` (repeat it, or give a
//! comma-separated list); the first `--` ends `tta`'s part and everything after it goes to
//! compose untouched.
//!
//! With one repository, `tta compose` is compose: piped stdin reaches it, a terminal stays
//! its terminal, stdout bytes pass untouched (no prefix, no decoding), and compose's exit
//! code is `tta`'s. With several, output is streamed as it comes, each line prefixed with
//! its repository (stdout lines on stdout, stderr lines on stderr, never split mid-line),
//! and followed by a per-repository summary on stderr; exit code 0 when every repository
//! succeeded, 3 when the engine did not answer, else 1. `--json` prints
//! `{"schema_version":1,"repositories":{NAME:{exit_code,stdout,stderr}}}` instead. Ctrl-C
//! and SIGTERM reach compose; a second one kills it.

use std::io::IsTerminal as _;
use std::io::Write as _;
use std::path::Path;
use std::time::Duration;

use indexmap::IndexMap;

use crate::cli::ComposeArgs;
use crate::driver::compose::{
    ComposeRun, Mode, Passthrough, Sink, engine_unreachable, select_repositories,
};
use crate::duration::Human;
use crate::error::{Error, Result, exit};
use crate::output::Output;
use crate::process::Stream;
use crate::runner::{Cancel, signals};
use crate::settings::Settings;

/// Splits `tta compose` arguments into the `--repo` values and compose's arguments.
pub(crate) fn split_args(args: &[String]) -> Result<(Vec<String>, Vec<String>)> {
    let mut repos = Vec::new();
    let mut rest = Vec::with_capacity(args.len());
    let mut it = args.iter();
    while let Some(a) = it.next() {
        if a == "--" {
            rest.extend(it.cloned());
            break;
        }
        if a == "--repo" {
            match it.next() {
                Some(v) if v != "--" => repos.push(v.clone()),
                _ => {
                    return Err(Error::usage(
                        "`--repo` needs a repository name",
                        Some("write e.g. `--repo tta.dev`, or `--repo both`".into()),
                    ));
                }
            }
        } else if let Some(v) = a.strip_prefix("--repo=") {
            repos.push(v.to_owned());
        } else {
            rest.push(a.clone());
        }
    }
    Ok((repos, rest))
}

/// Prints lines as they come, prefixed with the repository.
struct Printer<'o> {
    out: &'o Output,
    width: usize,
    attempts: u32,
}

impl Sink for Printer<'_> {
    fn line(&self, repo: &str, stream: Stream, line: &str) {
        let prefix = format!("{repo:<w$} |", w = self.width);
        let prefix = self.out.style(&prefix, |s| s.cyan());
        let stripped;
        let line = if self.out.color {
            line
        } else {
            // compose v1 colours `logs` even into a pipe.
            stripped = strip_ansi(line);
            &stripped
        };
        let text = if line.is_empty() {
            format!("{prefix}\n")
        } else {
            format!("{prefix} {line}\n")
        };
        // One write per whole line, under the stream's lock: lines never interleave.
        let _ = match stream {
            Stream::Stdout => {
                let mut o = std::io::stdout().lock();
                o.write_all(text.as_bytes()).and_then(|()| o.flush())
            }
            Stream::Stderr => std::io::stderr().lock().write_all(text.as_bytes()),
        };
    }

    fn retrying(&self, repo: &str, attempt: u32, delay: Duration, why: &str) {
        self.out.info(&format!(
            "{repo}: transient engine error ({why}); trying again in {} (attempt {attempt} of {})",
            Human(delay),
            self.attempts
        ));
    }
}

/// `text` without ANSI escape sequences (`ESC [ ... letter`).
pub(crate) fn strip_ansi(text: &str) -> String {
    if !text.contains('\x1b') {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '\x1b' {
            out.push(c);
            continue;
        }
        if chars.clone().next() == Some('[') {
            chars.next();
            for c in chars.by_ref() {
                if ('@'..='~').contains(&c) {
                    break;
                }
            }
        }
    }
    out
}

/// Runs `tta compose`.
pub(crate) fn run(config: Option<&Path>, args: &ComposeArgs, out: &Output) -> Result<u8> {
    let (repos, compose_args) = split_args(&args.args)?;
    if compose_args.is_empty() {
        return Err(Error::usage(
            "`tta compose` needs a compose command",
            Some("e.g. `tta compose ps`, `tta compose up -d --repo both`, `tta compose logs --tail 5`".into()),
        ));
    }
    let settings = Settings::load(config)?;
    passthrough(&settings, &repos, &compose_args, out)
}

/// Runs compose with `args` in the `repos` (none: all), printing each line as it comes, then
/// the summary; returns the exit code.
pub(crate) fn passthrough(
    settings: &Settings,
    repos: &[String],
    args: &[String],
    out: &Output,
) -> Result<u8> {
    let config = settings.config();
    let compose = Passthrough::new(config);
    let width = config
        .repositories
        .keys()
        .map(String::len)
        .max()
        .unwrap_or(0);
    let printer = Printer {
        out,
        width,
        attempts: config.defaults.retry.attempts,
    };
    let one = select_repositories(&compose.repositories(), repos)?.len() == 1;
    let mode = if out.json {
        Mode::Capture
    } else if one {
        Mode::Direct
    } else {
        Mode::Lines(&printer)
    };
    let terminal = matches!(mode, Mode::Direct) && std::io::stdin().is_terminal();
    let args = &without_tty_unless(terminal, args);
    let cancel = Cancel::new();
    signals::install(&cancel);
    hangup_cancels(&cancel);
    let results = compose.run(repos, args, mode, Some(&cancel))?;
    if out.json {
        out.json_doc(serde_json::json!({"repositories": results}));
    }
    if let (Mode::Direct, Some(r)) = (mode, results.values().next()) {
        // Compose said what went wrong; its exit code is ours.
        if engine_unreachable(&r.stderr) {
            out.error(&format!(
                "  hint: {}",
                crate::driver::compose::engine_hint(None)
            ));
        }
        return Ok(u8::try_from(r.exit_code).unwrap_or(exit::FAILED));
    }
    if cancel.is_cancelled() {
        // Ctrl-C, SIGTERM or SIGHUP ended it (compose says "Aborting." and exits 1): not a
        // failure of compose, and not a success either.
        let what = args.first().map_or("compose", String::as_str);
        let ran: Vec<&str> = results.keys().map(String::as_str).collect();
        let skipped: Vec<String> = select_repositories(&compose.repositories(), repos)?
            .into_iter()
            .filter(|r| !results.contains_key(r))
            .collect();
        let mut parts = Vec::new();
        if !ran.is_empty() {
            parts.push(format!("ended in {}", ran.join(", ")));
        }
        if !skipped.is_empty() {
            parts.push(format!("not run in {}", skipped.join(", ")));
        }
        if !out.json {
            out.error(&format!("interrupted: compose {what} {}", parts.join("; ")));
        }
        return Ok(exit::INTERRUPTED);
    }
    Ok(summarize(&results, args, width, out))
}

/// `exec` and `run` get a terminal only when there is one to give them: without one (a
/// script, CI, several repositories) `-T` is added, as compose v2 does by itself, so
/// `tta compose exec db ls` works there instead of failing with "the input device is not a
/// TTY". A `-T`, `--no-TTY`, `-t` or `--tty` the user wrote is left to decide.
fn without_tty_unless(terminal: bool, args: &[String]) -> Vec<String> {
    let mut out = args.to_vec();
    let Some(sub) = args.first().map(String::as_str) else {
        return out;
    };
    if terminal || !matches!(sub, "exec" | "run") {
        return out;
    }
    // The options before the service (those that take a value skip it).
    let takes_value = |o: &str| {
        matches!(
            o,
            "-e" | "--env"
                | "-u"
                | "--user"
                | "-w"
                | "--workdir"
                | "--index"
                | "-l"
                | "--label"
                | "-p"
                | "--publish"
                | "-v"
                | "--volume"
                | "--name"
                | "--entrypoint"
        )
    };
    let mut i = 1;
    while let Some(a) = args.get(i) {
        if a == "--" || !a.starts_with('-') {
            break;
        }
        let short_t = !a.starts_with("--") && (a.contains('T') || a.contains('t'));
        if short_t || matches!(a.as_str(), "--no-TTY" | "--tty") {
            return out;
        }
        i += if takes_value(a) { 2 } else { 1 };
    }
    out.insert(1, "-T".to_owned());
    out
}

/// A SIGHUP (a closed terminal, `kill -HUP`) ends compose too, as Ctrl-C does: compose may
/// run in a process group of its own, which the hangup would not reach.
fn hangup_cancels(cancel: &Cancel) {
    let Ok(mut signals) = signal_hook::iterator::Signals::new([signal_hook::consts::SIGHUP]) else {
        return;
    };
    let cancel = cancel.clone();
    std::thread::spawn(move || {
        for _ in signals.forever() {
            cancel.cancel(crate::runner::CancelReason::Interrupted);
        }
    });
}

/// Prints the per-repository summary on stderr and returns the exit code.
fn summarize(
    results: &IndexMap<String, ComposeRun>,
    args: &[String],
    width: usize,
    out: &Output,
) -> u8 {
    let what = args.first().map_or("compose", String::as_str);
    let mut failed = Vec::new();
    let mut unreachable = false;
    let mut lines = Vec::with_capacity(results.len() + 1);
    for (name, r) in results {
        if r.success() {
            lines.push(format!(
                "  {} {name:<width$}  {what}: ok",
                out.style("✓", |s| s.green())
            ));
        } else {
            let text = format!("{}\n{}", r.stderr, r.stdout);
            unreachable |= engine_unreachable(&r.stderr);
            let why = crate::driver::compose::error_line(&text);
            lines.push(format!(
                "  {} {name:<width$}  {what}: exit code {} — {why}",
                out.style("✗", |s| s.red().bold()),
                r.exit_code
            ));
            failed.push(name.as_str());
        }
    }
    if failed.is_empty() {
        out.info(&lines.join("\n"));
        return exit::OK;
    }
    out.error(&format!(
        "error: compose {what} failed in {} of {} repositor{}: {}\n{}",
        failed.len(),
        results.len(),
        if results.len() == 1 { "y" } else { "ies" },
        failed.join(", "),
        lines.join("\n")
    ));
    if unreachable {
        out.error(&format!(
            "  hint: {}",
            crate::driver::compose::engine_hint(None)
        ));
        exit::ENVIRONMENT
    } else {
        exit::FAILED
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser as _;

    use super::*;
    use crate::cli::{Cli, Command};

    fn parse(line: &str) -> (Vec<String>, Vec<String>) {
        let cli = Cli::try_parse_from(line.split_whitespace()).unwrap();
        let Command::Compose(a) = cli.command else {
            panic!("not compose: {line}")
        };
        split_args(&a.args).unwrap()
    }

    #[test]
    fn exec_and_run_get_no_tty_without_a_terminal() {
        let v = |s: &str| s.split_whitespace().map(str::to_owned).collect::<Vec<_>>();
        let t = |terminal: bool, s: &str| without_tty_unless(terminal, &v(s)).join(" ");
        assert_eq!(t(false, "exec db ls -la"), "exec -T db ls -la");
        assert_eq!(
            t(false, "run --rm -e A=t db sh"),
            "run -T --rm -e A=t db sh"
        );
        assert_eq!(
            t(true, "exec db sh"),
            "exec db sh",
            "a terminal: compose allocates one"
        );
        // The user's own choice stands.
        assert_eq!(t(false, "exec -T db ls"), "exec -T db ls");
        assert_eq!(t(false, "exec -it db sh"), "exec -it db sh");
        assert_eq!(t(false, "run --no-TTY db ls"), "run --no-TTY db ls");
        // Options after the service are the command's, not compose's.
        assert_eq!(t(false, "exec db ls -t"), "exec -T db ls -t");
        assert_eq!(t(false, "up -d"), "up -d");
    }

    #[test]
    fn repo_flags_are_found_anywhere_before_the_separator() {
        assert_eq!(
            parse("tta compose up -d --repo both"),
            (vec!["both".into()], vec!["up".into(), "-d".into()])
        );
        assert_eq!(
            parse("tta compose --repo tta.dev ps"),
            (vec!["tta.dev".into()], vec!["ps".into()])
        );
        assert_eq!(
            parse("tta compose logs --tail 5 --repo both"),
            (
                vec!["both".into()],
                ["logs", "--tail", "5"].map(String::from).to_vec()
            )
        );
        assert_eq!(
            parse("tta compose --repo=a,b exec -T db -- ls --repo x"),
            (
                vec!["a,b".into()],
                ["exec", "-T", "db", "ls", "--repo", "x"]
                    .map(String::from)
                    .to_vec()
            )
        );
        assert_eq!(
            parse("tta compose ps -q"),
            (vec![], vec!["ps".into(), "-q".into()])
        );
        assert_eq!(parse("tta --json compose ps").1, ["ps"]);
        assert!(split_args(&["ps".into(), "--repo".into()]).is_err());
    }

    #[test]
    fn colours_are_stripped() {
        assert_eq!(
            strip_ansi("\x1b[36minit_1  |\x1b[0m initialised"),
            "init_1  | initialised"
        );
        assert_eq!(strip_ansi("plain"), "plain");
    }
}
