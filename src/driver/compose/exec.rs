//! Running `docker` and compose: always an argv (never a shell), stdin closed, a deadline,
//! and kill on timeout or a forced cancel.
//!
//! [`run`] captures output into temporary files, so a chatty child can never block on a
//! full pipe and no reader threads are needed; the child leads its own process group so a
//! kill reaches everything it started. [`stream`] is for `tta compose`: output is read line
//! by line as it comes and handed to a callback, and the child stays in the terminal's
//! process group so Ctrl-C reaches it as it would reach compose run by hand.

use std::io::{self, BufRead as _, BufReader, Read as _, Seek as _};
use std::os::unix::fs::PermissionsExt as _;
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::cancel::Cancel;

/// The output of a finished command.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Captured {
    /// The exit code; `None` when a signal ended it.
    pub code: Option<i32>,
    /// Standard output (with `merge`: both streams, in order).
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

impl Captured {
    /// Exit code 0.
    pub fn success(&self) -> bool {
        self.code == Some(0)
    }

    /// Both streams, stderr first (where compose and docker put their errors).
    pub fn text(&self) -> String {
        format!("{}\n{}", self.stderr, self.stdout)
    }
}

/// Why a command could not run to completion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunError {
    /// The program is not on `PATH` (or not executable).
    NotFound(String),
    /// It could not be started for another reason.
    Spawn(String),
    /// It did not finish within its deadline and was killed.
    TimedOut(Duration),
    /// A forced cancel (second Ctrl-C) killed it.
    Cancelled,
}

impl std::fmt::Display for RunError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RunError::NotFound(p) => write!(f, "`{p}` is not installed (not found on PATH)"),
            RunError::Spawn(e) => f.write_str(e),
            RunError::TimedOut(d) => write!(
                f,
                "did not finish within {} and was killed",
                crate::config::duration::Human(*d)
            ),
            RunError::Cancelled => f.write_str("cancelled"),
        }
    }
}

/// What to run.
#[derive(Debug, Clone, Copy)]
pub struct Job<'a> {
    /// The command line.
    pub argv: &'a [String],
    /// The working directory (`None`: inherit).
    pub cwd: Option<&'a Path>,
    /// Extra environment.
    pub env: &'a [(String, String)],
    /// The longest it may take.
    pub deadline: Duration,
    /// Send stderr to the same place as stdout, keeping their order.
    pub merge: bool,
}

impl<'a> Job<'a> {
    /// A job with no extra environment, in the current folder, with separate streams.
    pub fn new(argv: &'a [String], deadline: Duration) -> Self {
        Self {
            argv,
            cwd: None,
            env: &[],
            deadline,
            merge: false,
        }
    }

    fn command(&self) -> Result<Command, RunError> {
        let (program, args) = self
            .argv
            .split_first()
            .ok_or_else(|| RunError::Spawn("empty command".into()))?;
        let mut cmd = Command::new(program);
        cmd.args(args).stdin(Stdio::null());
        if let Some(d) = self.cwd {
            cmd.current_dir(d);
        }
        cmd.envs(self.env.iter().map(|(k, v)| (k, v)));
        Ok(cmd)
    }
}

fn spawn_error(program: &str, e: &io::Error) -> RunError {
    match e.kind() {
        io::ErrorKind::NotFound => RunError::NotFound(program.to_owned()),
        io::ErrorKind::PermissionDenied => {
            RunError::Spawn(format!("`{program}` is not executable"))
        }
        _ => RunError::Spawn(format!("cannot run `{program}`: {e}")),
    }
}

fn read_all(f: &mut std::fs::File) -> String {
    let mut buf = Vec::new();
    if f.rewind().is_ok() {
        let _ = f.read_to_end(&mut buf);
    }
    String::from_utf8_lossy(&buf).into_owned()
}

/// Runs a job to completion (or its deadline, or a forced `cancel`).
pub fn run(job: &Job<'_>, cancel: Option<&Cancel>) -> Result<Captured, RunError> {
    let program = job.argv.first().map_or("", String::as_str);
    let io_err =
        |e: io::Error| RunError::Spawn(format!("cannot capture the output of `{program}`: {e}"));
    let mut out = tempfile::tempfile().map_err(io_err)?;
    let mut err = if job.merge {
        out.try_clone().map_err(io_err)?
    } else {
        tempfile::tempfile().map_err(io_err)?
    };
    let mut cmd = job.command()?;
    cmd.stdout(out.try_clone().map_err(io_err)?)
        .stderr(err.try_clone().map_err(io_err)?)
        .process_group(0);
    let mut child = cmd.spawn().map_err(|e| spawn_error(program, &e))?;
    let t0 = Instant::now();
    let mut pause = Duration::from_millis(1);
    let status = loop {
        match child.try_wait() {
            Ok(Some(s)) => break s,
            Ok(None) => {}
            Err(e) => return Err(RunError::Spawn(format!("waiting for `{program}`: {e}"))),
        }
        let forced = cancel.is_some_and(Cancel::is_forced);
        if forced || t0.elapsed() >= job.deadline {
            crate::driver::kill_group(child.id(), rustix::process::Signal::KILL);
            let _ = child.wait();
            return Err(if forced {
                RunError::Cancelled
            } else {
                RunError::TimedOut(job.deadline)
            });
        }
        std::thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(10));
    };
    Ok(Captured {
        code: status.code(),
        stdout: read_all(&mut out),
        stderr: if job.merge {
            String::new()
        } else {
            read_all(&mut err)
        },
    })
}

/// Which stream a line came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    /// Standard output.
    Stdout,
    /// Standard error.
    Stderr,
}

/// Runs a job, handing each line of output to `on_line` as it comes (never a partial
/// line), and returns all of it. The deadline does not apply: `compose logs -f` runs until
/// Ctrl-C.
pub fn stream(
    job: &Job<'_>,
    on_line: &(dyn Fn(Stream, &str) + Sync),
) -> Result<Captured, RunError> {
    let program = job.argv.first().map_or("", String::as_str);
    let mut cmd = job.command()?;
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().map_err(|e| spawn_error(program, &e))?;
    let stdout = child.stdout.take();
    let stderr = child.stderr.take();
    let pump = |pipe: Option<Box<dyn io::Read + Send>>, which: Stream| {
        let mut all = String::new();
        let Some(pipe) = pipe else { return all };
        let mut reader = BufReader::new(pipe);
        let mut buf = Vec::new();
        loop {
            buf.clear();
            match reader.read_until(b'\n', &mut buf) {
                Ok(0) | Err(_) => break,
                Ok(_) => {
                    let line = String::from_utf8_lossy(&buf);
                    all.push_str(&line);
                    on_line(which, line.trim_end_matches(['\n', '\r']));
                }
            }
        }
        all
    };
    let (out, err) = std::thread::scope(|s| {
        let o = s.spawn(|| {
            pump(
                stdout.map(|p| Box::new(p) as Box<dyn io::Read + Send>),
                Stream::Stdout,
            )
        });
        let e = s.spawn(|| {
            pump(
                stderr.map(|p| Box::new(p) as Box<dyn io::Read + Send>),
                Stream::Stderr,
            )
        });
        (o.join().unwrap_or_default(), e.join().unwrap_or_default())
    });
    let status = child
        .wait()
        .map_err(|e| RunError::Spawn(format!("waiting for `{program}`: {e}")))?;
    Ok(Captured {
        code: status.code(),
        stdout: out,
        stderr: err,
    })
}

/// Where `program` would be found on `PATH` (or the path itself when it has a `/`), if it
/// is an executable file.
pub fn which(program: &str) -> Option<PathBuf> {
    let executable = |p: &Path| {
        std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    };
    if program.contains('/') {
        let p = PathBuf::from(program);
        return executable(&p).then_some(p);
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(program))
        .find(|p| executable(p))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn run_captures_both_streams_and_the_code() {
        let a = argv(&["sh", "-c", "echo out; echo err >&2; exit 3"]);
        let c = run(&Job::new(&a, Duration::from_secs(5)), None).unwrap();
        assert_eq!(
            (c.code, c.stdout.as_str(), c.stderr.as_str()),
            (Some(3), "out\n", "err\n")
        );
        let merged = run(
            &Job {
                merge: true,
                ..Job::new(&a, Duration::from_secs(5))
            },
            None,
        )
        .unwrap();
        assert_eq!(merged.stdout, "out\nerr\n");
    }

    #[test]
    fn run_kills_at_the_deadline_and_reports_missing_programs() {
        let a = argv(&["sleep", "5"]);
        let t = Instant::now();
        let e = run(&Job::new(&a, Duration::from_millis(100)), None).unwrap_err();
        assert!(matches!(e, RunError::TimedOut(_)));
        assert!(t.elapsed() < Duration::from_secs(2));
        let a = argv(&["tta-no-such-program"]);
        assert_eq!(
            run(&Job::new(&a, Duration::from_secs(1)), None).unwrap_err(),
            RunError::NotFound("tta-no-such-program".into())
        );
        assert!(which("sh").is_some());
        assert!(which("tta-no-such-program").is_none());
    }

    #[test]
    fn stream_hands_over_whole_lines() {
        let a = argv(&["sh", "-c", "printf 'a\\nb'; echo c >&2"]);
        let seen = std::sync::Mutex::new(Vec::new());
        let c = stream(&Job::new(&a, Duration::ZERO), &|s, l| {
            seen.lock().unwrap().push(format!("{s:?}:{l}"));
        })
        .unwrap();
        let mut seen = seen.into_inner().unwrap();
        seen.sort();
        assert_eq!(seen, ["Stderr:c", "Stdout:a", "Stdout:b"]);
        assert_eq!(c.stdout, "a\nb");
    }
}
