//! Every child process `tta` runs is spawned here, and every signal `tta` sends to a process
//! group goes through here.
//!
//! A [`Spec`] says what to run and how: stdin, where each output stream goes (nothing, the
//! terminal, a file, a capture, or line by line to a callback), whether the child leads its
//! own process group (so a kill reaches everything it started) or stays in the terminal's
//! (so Ctrl-C reaches it as it would by hand), a deadline, the cancellation that ends it,
//! and how it is ended (at once, or TERM, a grace period, then KILL). A [`Child`]'s exit is
//! seen without polling: a waiter thread reaps it and rings a bell that waits sleep on.
//!
//! Also here: reading the kernel's view of a process ([`stat`], Linux `/proc`; elsewhere
//! nothing is known and callers fall back), signalling and stopping a process group that
//! an earlier `tta` run started ([`group`]), waiting for such a process to exit
//! ([`exit`]: a pidfd on Linux), and the one cancellable retry helper ([`retry`]).

mod child;
pub(crate) mod exit;
pub(crate) mod group;
pub(crate) mod retry;
mod spec;
pub(crate) mod stat;
pub(crate) mod tree;

pub(crate) use child::{Child, Finished, RunError, Splitter, Waited};
pub use spec::Stream;
pub(crate) use spec::{Group, Kill, Line, LineTx, Sink, Spec, Stdin};

/// Where `program` would be found on `PATH` (or the path itself when it has a `/`), if it
/// is an executable file.
pub(crate) fn which(program: &str) -> Option<std::path::PathBuf> {
    use std::os::unix::fs::PermissionsExt as _;
    let executable = |p: &std::path::Path| {
        std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    };
    if program.contains('/') {
        let p = std::path::PathBuf::from(program);
        return executable(&p).then_some(p);
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(program))
        .find(|p| executable(p))
}
