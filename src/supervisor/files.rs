//! Changes on disk, as the kernel tells them (the `notify` crate: inotify on Linux,
//! `FSEvents` or kqueue on macOS), without polling: the state directory's `logs/` (a local
//! component wrote lines: its follower reads them), the config file and the files it draws
//! on (a reload), the repositories' compose files (a reload) and `watch:` globs (a restart).
//! Folders are watched rather than files, so an editor that saves by renaming a new file
//! over the old one is seen too.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc::{Receiver, Sender, channel};

use notify::{RecursiveMode, Watcher as _};

use super::printer::Printer;
use crate::state::log::{self, Follower};

/// What the log follower is told.
pub(super) enum Tail {
    /// Follow this component's log from its end now.
    Add(Arc<str>, PathBuf),
    /// This file changed.
    Changed(PathBuf),
    /// Events were lost: look at every log.
    All,
}

/// The kernel's watch on the folders `up` cares about.
pub(super) struct Files {
    watcher: Option<notify::RecommendedWatcher>,
    watched: BTreeSet<(PathBuf, bool)>,
}

impl Files {
    /// Watches `logs` (sending changes to the follower) and sends every other change to
    /// `changed`.
    pub(super) fn start(logs: &Path, tail: Sender<Tail>, changed: Sender<PathBuf>) -> Self {
        let logs_dir = logs.to_path_buf();
        let handler = move |res: notify::Result<notify::Event>| {
            let Ok(ev) = res else { return };
            // A file opened or read is no change (and `up` reads the files it watches).
            if matches!(ev.kind, notify::EventKind::Access(_)) {
                return;
            }
            if ev.need_rescan() {
                let _ = tail.send(Tail::All);
            }
            for p in ev.paths {
                if p.starts_with(&logs_dir) {
                    let _ = tail.send(Tail::Changed(p));
                } else {
                    let _ = changed.send(p);
                }
            }
        };
        let watcher = match notify::recommended_watcher(handler) {
            Ok(w) => Some(w),
            Err(e) => {
                tracing::warn!(
                    "cannot watch files ({e}); output of processes, reloads and `watch:` are off"
                );
                None
            }
        };
        let mut files = Self {
            watcher,
            watched: BTreeSet::new(),
        };
        files.watch(logs, false);
        files
    }

    /// Watches a folder (once), recursively or not.
    pub(super) fn watch(&mut self, dir: &Path, recursive: bool) {
        let Some(w) = &mut self.watcher else { return };
        if !self.watched.insert((dir.to_path_buf(), recursive)) {
            return;
        }
        let mode = if recursive {
            RecursiveMode::Recursive
        } else {
            RecursiveMode::NonRecursive
        };
        if let Err(e) = w.watch(dir, mode) {
            tracing::warn!("cannot watch {}: {e}", dir.display());
        }
    }
}

/// Follows local components' logs: on each change the kernel reports, reads the new whole
/// lines (through truncation and rotation) and prints them; `tta`'s own header lines are
/// left out.
pub(super) fn follow_logs(rx: Receiver<Tail>, printer: &Printer) {
    let mut followers: HashMap<PathBuf, (Arc<str>, Follower)> = HashMap::new();
    let read = |name: &Arc<str>, f: &mut Follower| {
        for line in f.lines() {
            if !line.starts_with(log::HEADER) {
                printer.line(name, line);
            }
        }
    };
    for msg in rx {
        match msg {
            Tail::Add(name, path) => {
                let f = Follower::new(&path);
                followers.insert(path, (name, f));
            }
            Tail::Changed(path) => {
                if let Some((name, f)) = followers.get_mut(&path) {
                    read(name, f);
                }
            }
            Tail::All => {
                for (name, f) in followers.values_mut() {
                    read(name, f);
                }
            }
        }
    }
}

/// A channel for [`Tail`] messages.
pub(super) fn tail_channel() -> (Sender<Tail>, Receiver<Tail>) {
    channel()
}
