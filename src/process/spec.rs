//! What to run, and how: the one description every spawn in `tta` is made from.

use std::fs::File;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::mpsc::Sender;
use std::time::Duration;

use crate::cancel::{Cancel, Level};

/// What the child reads.
#[cfg_attr(
    not(test),
    expect(
        dead_code,
        reason = "the terminal's stdin and fed bytes come with `tta run` and `tta compose exec`"
    )
)]
#[derive(Debug, Clone, Default)]
pub(crate) enum Stdin {
    /// Nothing (`/dev/null`): a child never waits for input that will not come.
    #[default]
    Null,
    /// `tta`'s own standard input.
    Inherit,
    /// These bytes, then end of file.
    Bytes(Vec<u8>),
}

/// Which stream a line came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Stream {
    /// Standard output.
    Stdout,
    /// Standard error.
    Stderr,
}

/// One whole line of a child's output (without its line break).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Line {
    /// The tag the receiver gave this child's stream (one channel may serve many children).
    pub source: usize,
    /// Which stream.
    pub stream: Stream,
    /// The bytes, as written (not decoded), without the line break and a `\r` before it.
    pub bytes: Vec<u8>,
    /// It ended with a line break (a partial line, at the end or cut at the length limit,
    /// did not).
    pub newline: bool,
    /// Its line break was `\r\n`.
    pub crlf: bool,
}

impl Line {
    /// The bytes as written, with the `\r` of a `\r\n` line break (without the `\n`).
    pub(crate) fn into_written(self) -> Vec<u8> {
        let mut bytes = self.bytes;
        if self.crlf {
            bytes.push(b'\r');
        }
        bytes
    }
}

/// Where a [`Sink::Lines`] stream sends its lines.
#[derive(Debug, Clone)]
pub(crate) struct LineTx {
    pub(super) tx: Sender<Line>,
    pub(super) source: usize,
}

impl LineTx {
    /// Lines tagged `source` go to `tx`.
    pub(crate) fn new(tx: Sender<Line>, source: usize) -> Self {
        Self { tx, source }
    }
}

/// Where an output stream goes.
#[derive(Clone, Default)]
pub(crate) enum Sink {
    /// Discarded.
    #[default]
    Null,
    /// `tta`'s own stream.
    Inherit,
    /// Appended to a file (a component's log).
    File(Arc<File>),
    /// Kept for [`super::Finished`]: written to an unnamed temporary file, so a chatty child
    /// can never block on a full pipe.
    Capture,
    /// Sent line by line as it comes (never a partial line) to a channel, from a reader
    /// thread; the channel closes when every stream sending to it has ended.
    Lines(LineTx),
}

impl std::fmt::Debug for Sink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Sink::Null => "Null",
            Sink::Inherit => "Inherit",
            Sink::File(_) => "File",
            Sink::Capture => "Capture",
            Sink::Lines(_) => "Lines",
        })
    }
}

/// Which process group the child belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum Group {
    /// It leads a group of its own: signals to the group reach everything it started, and a
    /// Ctrl-C in the terminal does not (tta decides what to stop).
    #[default]
    Own,
    /// It stays in `tta`'s group, so a Ctrl-C typed in the terminal reaches it as it would
    /// reach the command run by hand (`tta compose logs -f`).
    Inherit,
}

/// How a child is ended when its deadline passes or it is cancelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kill {
    /// SIGKILL to its group at once.
    Now,
    /// SIGTERM to its group, up to this long for it to go, then SIGKILL.
    Graceful(Duration),
}

/// Everything about one child process.
#[derive(Debug, Clone)]
pub(crate) struct Spec {
    pub(super) argv: Vec<String>,
    pub(super) cwd: Option<PathBuf>,
    pub(super) env: Vec<(String, String)>,
    pub(super) stdin: Stdin,
    pub(super) stdout: Sink,
    pub(super) stderr: Sink,
    /// Stderr goes where stdout goes, in order (one file or capture for both).
    pub(super) merge: bool,
    pub(super) group: Group,
    pub(super) deadline: Option<Duration>,
    pub(super) cancel: Option<(Cancel, Level)>,
    pub(super) kill: Kill,
}

impl Spec {
    /// Runs `argv` (never through a shell) with stdin closed, output discarded, in a process
    /// group of its own, with no deadline.
    pub(crate) fn new(argv: impl IntoIterator<Item = impl Into<String>>) -> Self {
        Self {
            argv: argv.into_iter().map(Into::into).collect(),
            cwd: None,
            env: Vec::new(),
            stdin: Stdin::Null,
            stdout: Sink::Null,
            stderr: Sink::Null,
            merge: false,
            group: Group::Own,
            deadline: None,
            cancel: None,
            kill: Kill::Now,
        }
    }

    /// More arguments, after those it has.
    #[must_use]
    pub(crate) fn args(mut self, more: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.argv.extend(more.into_iter().map(Into::into));
        self
    }

    /// The working directory.
    #[must_use]
    pub(crate) fn cwd(mut self, dir: impl Into<PathBuf>) -> Self {
        self.cwd = Some(dir.into());
        self
    }

    /// Extra environment variables.
    #[must_use]
    pub(crate) fn envs<K: Into<String>, V: Into<String>>(
        mut self,
        vars: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        self.env
            .extend(vars.into_iter().map(|(k, v)| (k.into(), v.into())));
        self
    }

    /// What it reads.
    #[must_use]
    pub(crate) fn stdin(mut self, stdin: Stdin) -> Self {
        self.stdin = stdin;
        self
    }

    /// Where stdout goes.
    #[must_use]
    pub(crate) fn stdout(mut self, sink: Sink) -> Self {
        self.stdout = sink;
        self
    }

    /// Where stderr goes.
    #[must_use]
    pub(crate) fn stderr(mut self, sink: Sink) -> Self {
        self.stderr = sink;
        self
    }

    /// Both streams to one place, in the order they were written.
    #[must_use]
    pub(crate) fn merged(mut self, sink: Sink) -> Self {
        self.stdout = sink;
        self.merge = true;
        self
    }

    /// Both streams captured separately.
    #[must_use]
    pub(crate) fn capture(self) -> Self {
        self.stdout(Sink::Capture).stderr(Sink::Capture)
    }

    /// Which process group it joins.
    #[must_use]
    pub(crate) fn group(mut self, group: Group) -> Self {
        self.group = group;
        self
    }

    /// The longest it may run before it is ended (see [`Spec::kill`]).
    #[must_use]
    pub(crate) fn deadline(mut self, d: Duration) -> Self {
        self.deadline = Some(d);
        self
    }

    /// Ends it when `cancel` reaches `level`.
    #[must_use]
    pub(crate) fn cancel(mut self, cancel: &Cancel, level: Level) -> Self {
        self.cancel = Some((cancel.clone(), level));
        self
    }

    /// How it is ended at its deadline or on a cancel.
    #[cfg_attr(
        not(test),
        expect(dead_code, reason = "graceful ends come with supervised children")
    )]
    #[must_use]
    pub(crate) fn kill(mut self, kill: Kill) -> Self {
        self.kill = kill;
        self
    }
}
