//! Spawning a [`Spec`], waiting for the child without polling, ending it, and collecting
//! what it printed.

use std::io::{self, BufRead as _, BufReader, Read as _, Seek as _, Write as _};
use std::os::unix::process::{CommandExt as _, ExitStatusExt as _};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::{Arc, OnceLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rustix::process::Signal;

use super::spec::{Group, Kill, Line, LineTx, Sink, Spec, Stdin, Stream};
use super::{group, stat};
use crate::cancel::{Bell, Cancel, Level};

/// Why a child could not run to completion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum RunError {
    /// The program is not on `PATH`.
    NotFound(String),
    /// It could not be started for another reason (not executable, no such folder, ...).
    Spawn(String),
    /// It did not finish within its deadline and was ended.
    TimedOut(Duration),
    /// A cancel ended it.
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
                crate::duration::Human(*d)
            ),
            RunError::Cancelled => f.write_str("cancelled"),
        }
    }
}

impl RunError {
    fn spawn(program: &str, e: &io::Error) -> Self {
        match e.kind() {
            io::ErrorKind::NotFound => RunError::NotFound(program.to_owned()),
            io::ErrorKind::PermissionDenied => {
                RunError::Spawn(format!("`{program}` is not executable"))
            }
            _ => RunError::Spawn(format!("cannot run `{program}`: {e}")),
        }
    }
}

/// What a wait came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Waited {
    /// The child exited.
    Exited(ExitStatus),
    /// The deadline passed first.
    TimedOut,
    /// The cancel reached the level waited for first.
    Cancelled,
}

/// A finished child and what it printed (for captured streams).
#[derive(Debug, Clone)]
pub(crate) struct Finished {
    /// How it ended.
    pub status: ExitStatus,
    /// Captured stdout (both streams, in order, when merged).
    pub stdout: Vec<u8>,
    /// Captured stderr.
    pub stderr: Vec<u8>,
}

impl Finished {
    /// The exit code; `None` when a signal ended it.
    pub(crate) fn code(&self) -> Option<i32> {
        self.status.code()
    }

    /// Exit code 0.
    pub(crate) fn success(&self) -> bool {
        self.status.success()
    }

    /// Captured stdout as text (invalid UTF-8 replaced).
    pub(crate) fn stdout_text(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }

    /// Captured stderr as text (invalid UTF-8 replaced).
    pub(crate) fn stderr_text(&self) -> String {
        String::from_utf8_lossy(&self.stderr).into_owned()
    }
}

/// The exit of a child, set once by its waiter thread.
#[derive(Debug, Default)]
struct Exit {
    status: OnceLock<ExitStatus>,
    bell: Arc<Bell>,
}

/// Where a stream's output is collected.
enum Collect {
    None,
    File(std::fs::File),
    Reader(JoinHandle<()>),
}

/// A running (or finished) child.
pub(crate) struct Child {
    pid: u32,
    start_ticks: Option<u64>,
    own_group: bool,
    program: String,
    exit: Arc<Exit>,
    stdout: Collect,
    stderr: Collect,
    spec_deadline: Option<Duration>,
    spec_cancel: Option<(Cancel, Level)>,
    kill: Kill,
}

impl std::fmt::Debug for Child {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Child")
            .field("pid", &self.pid)
            .field("program", &self.program)
            .field("exited", &self.status())
            .finish_non_exhaustive()
    }
}

fn stdio_for(
    sink: &Sink,
    io_err: &dyn Fn(io::Error) -> RunError,
) -> Result<(Stdio, Collect), RunError> {
    Ok(match sink {
        Sink::Null => (Stdio::null(), Collect::None),
        Sink::Inherit => (Stdio::inherit(), Collect::None),
        Sink::File(f) => (f.try_clone().map_err(io_err)?.into(), Collect::None),
        Sink::Capture => {
            let f = tempfile::tempfile().map_err(io_err)?;
            (f.try_clone().map_err(io_err)?.into(), Collect::File(f))
        }
        // The reader thread is started once the pipe exists.
        Sink::Lines(_) => (Stdio::piped(), Collect::None),
    })
}

/// The longest line handed over whole; a longer one is handed over in pieces of this size
/// (each marked as having no line break), so an endless line never exhausts memory.
const MAX_LINE: usize = 1024 * 1024;

/// Cuts one output stream into [`Line`]s as the bytes come, in whatever pieces they come
/// (a pipe's reads, an engine's frames): at each `\n` (a `\r` before it noted), in pieces
/// of [`MAX_LINE`] when no line break comes, and what is left at the end.
#[derive(Debug)]
pub(crate) struct Splitter {
    source: usize,
    stream: Stream,
    buf: Vec<u8>,
}

impl Splitter {
    /// A splitter of `stream`'s bytes, its lines tagged `source`.
    pub(crate) fn new(source: usize, stream: Stream) -> Self {
        Self {
            source,
            stream,
            buf: Vec::new(),
        }
    }

    fn line(&mut self, newline: bool) -> Line {
        let crlf = newline && self.buf.last() == Some(&b'\r');
        if crlf {
            self.buf.pop();
        }
        Line {
            source: self.source,
            stream: self.stream,
            bytes: std::mem::take(&mut self.buf),
            newline,
            crlf,
        }
    }

    /// Takes more bytes; hands each line they complete to `each`. False when `each` said
    /// to stop (it is not called again).
    pub(crate) fn push(&mut self, mut bytes: &[u8], each: &mut dyn FnMut(Line) -> bool) -> bool {
        while !bytes.is_empty() {
            let (done, used) = if let Some(i) = bytes.iter().position(|&b| b == b'\n') {
                self.buf.extend_from_slice(&bytes[..i]);
                (true, i + 1)
            } else {
                self.buf.extend_from_slice(bytes);
                (false, bytes.len())
            };
            bytes = &bytes[used..];
            if (done || self.buf.len() >= MAX_LINE) && !each(self.line(done)) {
                return false;
            }
        }
        true
    }

    /// What is left after the last line break: a last line without one.
    pub(crate) fn finish(mut self) -> Option<Line> {
        (!self.buf.is_empty()).then(|| self.line(false))
    }
}

fn pump(pipe: impl io::Read + Send + 'static, to: LineTx, stream: Stream) -> JoinHandle<()> {
    std::thread::spawn(move || {
        let mut reader = BufReader::new(pipe);
        let mut split = Splitter::new(to.source, stream);
        // Nobody listening any more ends the reading.
        let mut send = |line: Line| to.tx.send(line).is_ok();
        loop {
            let used = match reader.fill_buf() {
                Ok([]) | Err(_) => break,
                Ok(avail) => {
                    if !split.push(avail, &mut send) {
                        return;
                    }
                    avail.len()
                }
            };
            reader.consume(used);
        }
        if let Some(last) = split.finish() {
            send(last);
        }
    })
}

/// Starts the thread that reaps `child` and rings its bell when it exits.
fn reap(mut child: std::process::Child) -> io::Result<Arc<Exit>> {
    let exit = Arc::new(Exit::default());
    let reaper = Arc::clone(&exit);
    std::thread::Builder::new()
        .name(format!("wait-{}", child.id()))
        .stack_size(64 * 1024)
        .spawn(move || {
            let status = child
                .wait()
                .unwrap_or_else(|_| ExitStatus::from_raw(0x7f00));
            let _ = reaper.status.set(status);
            reaper.bell.ring();
        })?;
    Ok(exit)
}

impl Spec {
    /// The command line, folder, environment, stdin and group of the child.
    fn command(&self, program: &str, args: &[String]) -> Command {
        let mut cmd = Command::new(program);
        cmd.args(args);
        if let Some(d) = &self.cwd {
            cmd.current_dir(d);
        }
        cmd.envs(self.env.iter().map(|(k, v)| (k, v)));
        cmd.stdin(match self.stdin {
            Stdin::Null => Stdio::null(),
            Stdin::Inherit => Stdio::inherit(),
            Stdin::Bytes(_) => Stdio::piped(),
        });
        if self.group == Group::Own {
            cmd.process_group(0);
        }
        cmd
    }

    /// Points the child's output where the spec says; returns where it is collected.
    fn wire_output(
        &self,
        cmd: &mut Command,
        io_err: &dyn Fn(io::Error) -> RunError,
    ) -> Result<(Collect, Collect), RunError> {
        let (out, stdout) = stdio_for(&self.stdout, io_err)?;
        cmd.stdout(out);
        if !self.merge {
            let (err, stderr) = stdio_for(&self.stderr, io_err)?;
            cmd.stderr(err);
            return Ok((stdout, stderr));
        }
        let err: Stdio = match (&self.stdout, &stdout) {
            (Sink::Capture, Collect::File(f)) => f.try_clone().map_err(io_err)?.into(),
            (Sink::File(f), _) => f.try_clone().map_err(io_err)?.into(),
            (Sink::Inherit, _) => Stdio::inherit(),
            // Two pipes to one channel: lines stay whole, in the order they arrive.
            (Sink::Lines(_), _) => Stdio::piped(),
            _ => Stdio::null(),
        };
        cmd.stderr(err);
        Ok((stdout, Collect::None))
    }

    /// Starts the child. Its exit is reaped by a waiter thread; see [`Child::wait`].
    pub(crate) fn spawn(&self) -> Result<Child, RunError> {
        let (program, args) = self
            .argv
            .split_first()
            .ok_or_else(|| RunError::Spawn("empty command".into()))?;
        let io_err =
            |e: io::Error| RunError::Spawn(format!("cannot set up the output of `{program}`: {e}"));
        let mut cmd = self.command(program, args);
        let (mut stdout, mut stderr) = self.wire_output(&mut cmd, &io_err)?;
        let mut child = cmd.spawn().map_err(|e| RunError::spawn(program, &e))?;
        let pid = child.id();
        let start_ticks = stat::start_ticks(pid);
        if let (Some(pipe), Stdin::Bytes(bytes)) = (child.stdin.take(), &self.stdin) {
            let bytes = bytes.clone();
            std::thread::spawn(move || {
                let mut pipe = pipe;
                let _ = pipe.write_all(&bytes);
            });
        }
        if let (Some(pipe), Sink::Lines(tx)) = (child.stdout.take(), &self.stdout) {
            stdout = Collect::Reader(pump(pipe, tx.clone(), Stream::Stdout));
        }
        let err_lines = if self.merge {
            &self.stdout
        } else {
            &self.stderr
        };
        if let (Some(pipe), Sink::Lines(tx)) = (child.stderr.take(), err_lines) {
            stderr = Collect::Reader(pump(pipe, tx.clone(), Stream::Stderr));
        }
        tracing::trace!("spawned pid {pid}: {}", self.argv.join(" "));
        let exit = reap(child).map_err(|e| {
            // Without a waiter the child could never be reaped: take it down again.
            group::signal(pid, Signal::KILL);
            RunError::Spawn(format!("cannot wait for `{program}`: {e}"))
        })?;
        Ok(Child {
            pid,
            start_ticks,
            own_group: self.group == Group::Own,
            program: program.clone(),
            exit,
            stdout,
            stderr,
            spec_deadline: self.deadline,
            spec_cancel: self.cancel.clone(),
            kill: self.kill,
        })
    }

    /// Runs the child to completion, its deadline, or its cancel (then ends it as its
    /// [`Kill`] says), and returns what it printed.
    pub(crate) fn run(&self) -> Result<Finished, RunError> {
        let t0 = Instant::now();
        let shown = self.argv.join(" ");
        let mut child = self.spawn().inspect_err(|e| {
            tracing::debug!("`{shown}` could not run: {e}");
        })?;
        let result = match child.wait_spec(t0) {
            Waited::Exited(_) => Ok(child.finish()),
            how => {
                child.end(child.kill, self.cancel.as_ref().map(|(c, _)| c));
                Err(if how == Waited::TimedOut {
                    RunError::TimedOut(self.deadline.unwrap_or_default())
                } else {
                    RunError::Cancelled
                })
            }
        };
        let took = crate::duration::seconds(t0.elapsed());
        match &result {
            Ok(f) => tracing::debug!("`{shown}` exited with {} in {took}", f.status),
            Err(e) => tracing::debug!("`{shown}` {e} after {took}"),
        }
        result
    }

    /// Runs the child as [`Spec::run`] does (its deadline and cancel end it as its
    /// [`Kill`] says), handing each line of both its streams to `each` on this thread as
    /// it comes; `each` returning false ends the child at once. Returns how it exited.
    pub(crate) fn each_line(
        &self,
        each: &mut dyn FnMut(Line) -> bool,
    ) -> Result<ExitStatus, RunError> {
        let t0 = Instant::now();
        let (tx, rx) = std::sync::mpsc::channel();
        let child = self
            .clone()
            .stdout(Sink::Lines(LineTx::new(tx.clone(), 0)))
            .stderr(Sink::Lines(LineTx::new(tx, 0)))
            .spawn()?;
        // The child's readers hold the only senders now: the lines end with its output.
        let cancel = self.cancel.as_ref().map(|(c, _)| c);
        std::thread::scope(|s| {
            let waiter = s.spawn(|| {
                let how = child.wait_spec(t0);
                if !matches!(how, Waited::Exited(_)) {
                    child.end(child.kill, cancel);
                }
                how
            });
            for line in rx {
                if !each(line) {
                    child.end(Kill::Now, None);
                    break;
                }
            }
            match waiter.join().unwrap_or(Waited::Cancelled) {
                Waited::Exited(status) => Ok(status),
                Waited::TimedOut => Err(RunError::TimedOut(self.deadline.unwrap_or_default())),
                Waited::Cancelled => Err(RunError::Cancelled),
            }
        })
    }
}

impl Child {
    /// Its pid (also its process group id when it leads its own group).
    pub(crate) fn pid(&self) -> u32 {
        self.pid
    }

    /// The kernel's start time of its pid, where known.
    pub(crate) fn start_ticks(&self) -> Option<u64> {
        self.start_ticks
    }

    /// How it exited, if it has.
    pub(crate) fn status(&self) -> Option<ExitStatus> {
        self.exit.status.get().copied()
    }

    /// Waits for it to exit, up to `deadline`, or until `cancel` reaches `level`.
    pub(crate) fn wait(
        &self,
        deadline: Option<Instant>,
        cancel: Option<(&Cancel, Level)>,
    ) -> Waited {
        let _watch = cancel.map(|(c, _)| c.watch(&self.exit.bell));
        let cancelled = || cancel.is_some_and(|(c, level)| c.level() >= level);
        let mut how = Waited::TimedOut;
        self.exit.bell.wait_until(deadline, || {
            if let Some(s) = self.exit.status.get() {
                how = Waited::Exited(*s);
                true
            } else if cancelled() {
                how = Waited::Cancelled;
                true
            } else {
                false
            }
        });
        how
    }

    fn wait_spec(&self, t0: Instant) -> Waited {
        let deadline = self.spec_deadline.and_then(|d| t0.checked_add(d));
        let cancel = self.spec_cancel.as_ref().map(|(c, l)| (c, *l));
        self.wait(deadline, cancel)
    }

    /// Sends `sig` to it (to its whole group when it leads one), unless it has exited and
    /// nothing of its group is left.
    pub(crate) fn signal(&self, sig: Signal) -> bool {
        if self.own_group {
            group::signal_group(self.pid, sig)
        } else if self.status().is_none() {
            group::signal(self.pid, sig)
        } else {
            false
        }
    }

    /// Whether anything of it is still running: itself, or (when it leads a group) any
    /// member of its group.
    pub(crate) fn alive(&self) -> bool {
        self.status().is_none() || (self.own_group && group::alive(self.pid))
    }

    /// Ends it as `kill` says: KILL at once, or TERM, up to the grace period (cut short by
    /// a forced `cancel`), then KILL. Returns true when nothing of it is left.
    pub(crate) fn end(&self, kill: Kill, cancel: Option<&Cancel>) -> bool {
        if let Kill::Graceful(grace) = kill
            && cancel.is_none_or(|c| !c.is_forced())
        {
            self.signal(Signal::TERM);
            let deadline = Instant::now().checked_add(grace);
            if self.wait(deadline, cancel.map(|c| (c, Level::Forced))) != Waited::TimedOut
                && self.gone_by(deadline, cancel)
            {
                return true;
            }
        }
        self.signal(Signal::KILL);
        let deadline = Instant::now() + Duration::from_secs(2);
        matches!(self.wait(Some(deadline), None), Waited::Exited(_))
            && self.gone_by(Some(deadline), None)
    }

    /// After the leader exited: whether the rest of its group is gone by `deadline`.
    fn gone_by(&self, deadline: Option<Instant>, cancel: Option<&Cancel>) -> bool {
        if !self.own_group {
            return true;
        }
        let none = Cancel::new();
        group::wait_gone(self.pid, deadline, cancel.unwrap_or(&none))
    }

    /// Waits for it to exit (it must be about to), then collects its captured output.
    pub(crate) fn finish(&mut self) -> Finished {
        let Waited::Exited(status) = self.wait(None, None) else {
            unreachable!("a wait without deadline or cancel ends in an exit")
        };
        let take = |c: &mut Collect| -> Vec<u8> {
            match std::mem::replace(c, Collect::None) {
                Collect::None => Vec::new(),
                Collect::Reader(h) => {
                    let _ = h.join();
                    Vec::new()
                }
                Collect::File(mut f) => {
                    let mut buf = Vec::new();
                    if f.rewind().is_ok() {
                        let _ = f.read_to_end(&mut buf);
                    }
                    buf
                }
            }
        };
        Finished {
            status,
            stdout: take(&mut self.stdout),
            stderr: take(&mut self.stderr),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cancel::CancelReason;

    fn sh(script: &str) -> Spec {
        Spec::new(["sh", "-c", script])
    }

    #[test]
    fn run_captures_both_streams_and_the_code() {
        let f = sh("echo out; echo err >&2; exit 3")
            .capture()
            .run()
            .unwrap();
        assert_eq!(
            (f.code(), f.stdout_text().as_str(), f.stderr_text().as_str()),
            (Some(3), "out\n", "err\n")
        );
        let merged = sh("echo out; echo err >&2")
            .merged(Sink::Capture)
            .run()
            .unwrap();
        assert_eq!(merged.stdout_text(), "out\nerr\n");
        let fed = Spec::new(["cat"])
            .stdin(Stdin::Bytes(b"fed\n".to_vec()))
            .capture()
            .run()
            .unwrap();
        assert_eq!(fed.stdout_text(), "fed\n");
        let more = Spec::new(["echo", "a"])
            .args(["b", "c"])
            .capture()
            .run()
            .unwrap();
        assert_eq!(more.stdout_text(), "a b c\n");
    }

    #[test]
    fn the_deadline_kills_and_missing_programs_are_named() {
        let t = Instant::now();
        let e = Spec::new(["sleep", "5"])
            .deadline(Duration::from_millis(100))
            .run()
            .unwrap_err();
        assert_eq!(e, RunError::TimedOut(Duration::from_millis(100)));
        assert!(t.elapsed() < Duration::from_secs(2));
        assert_eq!(
            Spec::new(["tta-no-such-program"]).run().unwrap_err(),
            RunError::NotFound("tta-no-such-program".into())
        );
        assert!(super::super::which("sh").is_some());
        assert!(super::super::which("tta-no-such-program").is_none());
    }

    #[test]
    fn a_graceful_kill_at_the_deadline_lets_the_child_clean_up() {
        let dir = tempfile::tempdir().unwrap();
        let mark = dir.path().join("cleaned");
        let script = format!(
            "trap 'touch {}; exit 0' TERM; sleep 30 & wait",
            mark.display()
        );
        let e = sh(&script)
            .stdin(Stdin::Inherit)
            .stdout(Sink::Inherit)
            .deadline(Duration::from_millis(200))
            .kill(Kill::Graceful(Duration::from_secs(5)))
            .run()
            .unwrap_err();
        assert_eq!(e, RunError::TimedOut(Duration::from_millis(200)));
        assert!(mark.exists(), "TERM came first and the child cleaned up");
    }

    #[test]
    fn an_exit_is_seen_at_once_not_at_the_next_poll() {
        let child = Spec::new(["true"]).spawn().unwrap();
        let t = Instant::now();
        let w = child.wait(Some(t + Duration::from_secs(5)), None);
        assert!(matches!(w, Waited::Exited(s) if s.success()));
        assert!(t.elapsed() < Duration::from_secs(1));
    }

    #[test]
    fn a_cancel_ends_the_child_at_its_level() {
        let cancel = Cancel::new();
        let spec = Spec::new(["sleep", "5"]).cancel(&cancel, Level::Forced);
        let c2 = cancel.clone();
        let t = Instant::now();
        let h = std::thread::spawn(move || spec.run());
        std::thread::sleep(Duration::from_millis(50));
        c2.cancel(CancelReason::Interrupted);
        std::thread::sleep(Duration::from_millis(50));
        assert!(!h.is_finished(), "a graceful cancel does not end it");
        c2.force();
        assert_eq!(h.join().unwrap().unwrap_err(), RunError::Cancelled);
        assert!(t.elapsed() < Duration::from_secs(3));
    }

    #[test]
    fn a_graceful_end_reaches_the_whole_group() {
        // The leader exits on TERM; its background child ignores TERM and must be killed.
        let child = sh("trap '' TERM; sleep 30 & trap 'exit 0' TERM; wait")
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(100));
        let t = Instant::now();
        assert!(child.end(Kill::Graceful(Duration::from_millis(200)), None));
        assert!(!child.alive());
        assert!(t.elapsed() < Duration::from_secs(3));
    }

    #[test]
    fn lines_are_cut_alike_however_the_bytes_come() {
        let text = b"a\r\nb\n\ncaf\xe9 no newline";
        let cut = |pieces: &[&[u8]]| {
            let mut split = Splitter::new(3, Stream::Stderr);
            let mut got = Vec::new();
            for p in pieces {
                assert!(split.push(p, &mut |l| {
                    got.push(l);
                    true
                }));
            }
            got.extend(split.finish());
            got
        };
        let whole = cut(&[text]);
        let bytes: Vec<&[u8]> = text.chunks(1).collect();
        assert_eq!(cut(&bytes), whole, "byte by byte");
        let shown: Vec<(Vec<u8>, bool, bool)> = whole
            .iter()
            .map(|l| (l.bytes.clone(), l.newline, l.crlf))
            .collect();
        assert_eq!(
            shown,
            [
                (b"a".to_vec(), true, true),
                (b"b".to_vec(), true, false),
                (Vec::new(), true, false),
                (b"caf\xe9 no newline".to_vec(), false, false),
            ]
        );
        assert!(
            whole
                .iter()
                .all(|l| l.source == 3 && l.stream == Stream::Stderr)
        );
        assert_eq!(whole[0].clone().into_written(), b"a\r");
        // A line longer than the limit comes in pieces; a stop is heeded at once.
        let mut split = Splitter::new(0, Stream::Stdout);
        let mut n = 0;
        assert!(!split.push(&vec![b'x'; MAX_LINE * 2 + 1], &mut |l| {
            n += 1;
            assert!(!l.newline && l.bytes.len() >= MAX_LINE);
            false
        }));
        assert_eq!(n, 1);
    }

    #[test]
    fn each_line_comes_on_this_thread_and_a_stop_ends_the_child() {
        let mut seen = Vec::new();
        let status = sh("echo out; echo err >&2; printf last")
            .each_line(&mut |l| {
                seen.push((l.stream, String::from_utf8_lossy(&l.bytes).into_owned()));
                true
            })
            .unwrap();
        assert!(status.success());
        seen.sort();
        assert_eq!(
            seen,
            [
                (Stream::Stdout, "last".to_owned()),
                (Stream::Stdout, "out".to_owned()),
                (Stream::Stderr, "err".to_owned()),
            ]
        );
        let t = Instant::now();
        let mut n = 0;
        let status = sh("while true; do echo y; sleep 0.01; done")
            .each_line(&mut |_| {
                n += 1;
                n < 3
            })
            .unwrap();
        assert!(!status.success() && n == 3);
        assert!(t.elapsed() < Duration::from_secs(3));
        // A cancel ends it too.
        let cancel = Cancel::new();
        let c2 = cancel.clone();
        let spec = Spec::new(["sleep", "30"]).cancel(&cancel, Level::Graceful);
        let h = std::thread::spawn(move || spec.each_line(&mut |_| true));
        std::thread::sleep(Duration::from_millis(50));
        c2.cancel(CancelReason::Interrupted);
        assert_eq!(h.join().unwrap().unwrap_err(), RunError::Cancelled);
    }

    #[test]
    fn lines_arrive_whole_and_tagged() {
        let (tx, rx) = std::sync::mpsc::channel();
        let f = sh("printf 'a\\nb'; echo c >&2")
            .merged(Sink::Lines(LineTx::new(tx, 7)))
            .run()
            .unwrap();
        assert!(f.success());
        let mut seen: Vec<(usize, Stream, String)> = rx
            .iter()
            .map(|l| {
                (
                    l.source,
                    l.stream,
                    String::from_utf8_lossy(&l.bytes).into_owned(),
                )
            })
            .collect();
        seen.sort_by(|a, b| a.2.cmp(&b.2));
        assert_eq!(
            seen,
            [
                (7, Stream::Stdout, "a".to_owned()),
                (7, Stream::Stdout, "b".to_owned()),
                (7, Stream::Stderr, "c".to_owned())
            ]
        );
    }
}
