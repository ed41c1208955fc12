//! Everything a started component left running: its main process, the members of its
//! process group, and (where the kernel shows environments, Linux) processes that left the
//! group — a command that daemonized — found by the marker every child inherits.
//!
//! `tta` starts each component as the leader of its own process group with a marker in its
//! environment, `TTA_INSTANCE=<name>@<token>`, where the token is random and recorded. A
//! process counts as the component's only when that is provable: the leader by its pid and
//! the kernel's start time, any other process by carrying the exact marker (on Linux) or, where
//! environments cannot be read (macOS), by being in the recorded group while the leader's pid
//! is not someone else's. Nothing else is ever signalled.

use std::time::{Duration, Instant};

use rustix::process::Signal;

use super::group::{self, is_ours};
use super::stat;
use crate::cancel::{Cancel, Level};

/// The environment variable that marks a component's processes.
pub(crate) const MARKER: &str = "TTA_INSTANCE";

/// How often a stopping tree is looked at again (its processes are not our children).
const CHECK_EVERY: Duration = Duration::from_millis(10);

/// A started component's processes, as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Tree {
    /// The main process (also the process group id).
    pub(crate) pid: u32,
    /// The kernel's start time of the main process, where known.
    pub(crate) start_ticks: Option<u64>,
    /// The marker's value (`name@token`), when the record has one.
    pub(crate) marker: Option<String>,
}

/// What of a tree still runs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Remains {
    /// The main process runs.
    pub(crate) leader: bool,
    /// Other processes of its group, ours.
    pub(crate) group: Vec<u32>,
    /// Processes outside the group that carry the marker.
    pub(crate) escaped: Vec<u32>,
}

impl Remains {
    /// Nothing runs.
    pub(crate) fn is_empty(&self) -> bool {
        !self.leader && self.group.is_empty() && self.escaped.is_empty()
    }

    /// Processes other than the main one.
    pub(crate) fn others(&self) -> Vec<u32> {
        self.group.iter().chain(&self.escaped).copied().collect()
    }
}

/// What a process's environment says of its marker.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(
    not(target_os = "linux"),
    expect(dead_code, reason = "only Linux shows other processes' environments")
)]
enum Marked {
    /// Its environment cannot be read (another user's process, or no `/proc`).
    Unreadable,
    /// It carries no marker.
    No,
    /// It carries this one.
    Yes(String),
}

/// What `pid`'s environment says of its marker.
#[cfg(target_os = "linux")]
fn marker_of(pid: u32) -> Marked {
    let Ok(env) = std::fs::read(format!("/proc/{pid}/environ")) else {
        return Marked::Unreadable;
    };
    let prefix = format!("{MARKER}=");
    env.split(|&b| b == 0)
        .find_map(|e| e.strip_prefix(prefix.as_bytes()))
        .map_or(Marked::No, |v| {
            Marked::Yes(String::from_utf8_lossy(v).into_owned())
        })
}

#[cfg(not(target_os = "linux"))]
fn marker_of(_pid: u32) -> Marked {
    Marked::Unreadable
}

/// The process table, read once to look at many trees (a status of many components): each
/// process's state, and its marker read at most once.
pub(crate) struct Table {
    procs: Option<Vec<(u32, stat::Stat)>>,
    markers: std::sync::Mutex<std::collections::HashMap<u32, Marked>>,
}

impl Table {
    /// The kernel's process table now.
    pub(crate) fn read() -> Self {
        Self {
            procs: stat::all(),
            markers: std::sync::Mutex::default(),
        }
    }

    /// Whether `pid` carries exactly the marker `value`; `None` when it cannot be told.
    fn carries(&self, pid: u32, value: &str) -> Option<bool> {
        let mut markers = self.markers.lock().expect("markers lock");
        match markers.entry(pid).or_insert_with(|| marker_of(pid)) {
            Marked::Unreadable => None,
            Marked::No => Some(false),
            Marked::Yes(m) => Some(m == value),
        }
    }
}

impl Tree {
    /// Whether the record can be trusted at all: a real pid (not 0, init or `tta` itself)
    /// and, where the kernel tells start times, the start time of its main process (a record
    /// without one was not written by `tta`).
    fn trustworthy(&self) -> bool {
        self.pid > 1
            && self.pid != std::process::id()
            && (self.start_ticks.is_some() || !cfg!(target_os = "linux"))
    }

    /// Looks at what of the tree runs now.
    pub(crate) fn remains(&self) -> Remains {
        self.remains_in(&Table::read())
    }

    /// What of the tree runs in `table` (read once for many trees).
    pub(crate) fn remains_in(&self, table: &Table) -> Remains {
        if !self.trustworthy() {
            return Remains::default();
        }
        let leader = is_ours(self.pid, self.start_ticks);
        // The leader's pid belongs to another process now: so may its group id.
        let reused = !leader && stat::stat(self.pid).is_some_and(|s| !s.is_gone());
        let Some(all) = &table.procs else {
            // No process list: the kernel's answer for the group decides.
            let group = !reused && group::alive(self.pid) && !leader;
            return Remains {
                leader,
                group: if group { vec![self.pid] } else { Vec::new() },
                escaped: Vec::new(),
            };
        };
        let mut r = Remains {
            leader,
            ..Remains::default()
        };
        let born = self.start_ticks.unwrap_or(0);
        for &(pid, s) in all {
            // Only what started after the main process can be something it started.
            if pid == self.pid || s.is_gone() || pid == std::process::id() || s.start_ticks < born {
                continue;
            }
            let marked =
                || self.marker.as_deref().and_then(|m| table.carries(pid, m)) == Some(true);
            if s.pgrp == self.pid {
                // In the group: ours, unless the group id was reused by another process (then
                // only the marker proves it).
                if !reused || marked() {
                    r.group.push(pid);
                }
            } else if marked() {
                r.escaped.push(pid);
            }
        }
        r
    }

    /// Sends `sig` to everything of the tree that runs.
    fn signal(&self, r: &Remains, sig: Signal) {
        // A component run in the foreground stays in tta's process group: it is signalled
        // alone, never its group.
        let leads = stat::stat(self.pid).is_none_or(|s| s.pgrp == self.pid);
        if r.leader && !leads {
            group::signal(self.pid, sig);
        } else if r.leader || !r.group.is_empty() {
            group::signal_group(self.pid, sig);
        }
        for &p in &r.escaped {
            group::signal(p, sig);
        }
    }

    /// Waits until nothing of the tree runs, up to `deadline` or a forced `cancel`.
    fn wait_gone(&self, deadline: Instant, cancel: &Cancel) -> bool {
        loop {
            if self.remains().is_empty() {
                return true;
            }
            let next = (Instant::now() + CHECK_EVERY).min(deadline);
            if cancel.sleep_until(next, Level::Forced) || Instant::now() >= deadline {
                return self.remains().is_empty();
            }
        }
    }

    /// TERM to everything of the tree, up to `grace` for it to go (a forced cancel ends the
    /// grace at once), then KILL. Returns what was running, and whether all of it is gone.
    pub(crate) fn terminate(&self, grace: Duration, cancel: &Cancel) -> (Remains, bool) {
        let before = self.remains();
        if before.is_empty() {
            return (before, true);
        }
        self.signal(&before, Signal::TERM);
        if !cancel.is_forced()
            && let Some(deadline) = Instant::now().checked_add(grace)
            && self.wait_gone(deadline, cancel)
        {
            return (before, true);
        }
        let left = self.remains();
        self.signal(&left, Signal::KILL);
        let gone = self.wait_gone(Instant::now() + Duration::from_secs(2), &Cancel::new());
        (before, gone)
    }
}

/// A new marker value for a component: its name and a random token.
pub(crate) fn new_marker(name: &str) -> String {
    format!(
        "{name}@{:016x}{:016x}",
        fastrand::u64(..),
        fastrand::u64(..)
    )
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;
    use crate::process::Spec;

    #[test]
    fn a_tree_holds_its_group_and_the_processes_that_left_it() {
        let marker = new_marker("t");
        let dir = tempfile::tempdir().unwrap();
        let pidfile = dir.path().join("escaped.pid");
        // The leader backgrounds a sleeper in its group and one in a session of its own,
        // then exits: only the marker finds the second.
        let script = format!(
            "sleep 30 & setsid sh -c 'echo $$ > {}; exec sleep 30' & sleep 0.2",
            pidfile.display()
        );
        let child = Spec::new(["sh", "-c", &script])
            .envs([(MARKER, marker.as_str())])
            .spawn()
            .unwrap();
        let tree = Tree {
            pid: child.pid(),
            start_ticks: child.start_ticks(),
            marker: Some(marker),
        };
        let t = Instant::now();
        while !pidfile.exists() && t.elapsed() < Duration::from_secs(5) {
            std::thread::sleep(Duration::from_millis(10));
        }
        std::thread::sleep(Duration::from_millis(400));
        let r = tree.remains();
        assert!(!r.leader, "the leader exited: {r:?}");
        assert_eq!(r.group.len(), 1, "{r:?}");
        let escaped: u32 = std::fs::read_to_string(&pidfile)
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        assert_eq!(r.escaped, [escaped]);
        let (before, gone) = tree.terminate(Duration::from_secs(2), &Cancel::new());
        assert_eq!(before, r);
        assert!(gone && tree.remains().is_empty());
        // A tree whose marker nobody carries, with a dead leader, has nothing.
        let none = Tree {
            pid: tree.pid,
            start_ticks: tree.start_ticks,
            marker: Some(new_marker("other")),
        };
        assert!(none.remains().is_empty());
    }
}
