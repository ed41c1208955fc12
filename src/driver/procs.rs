//! Every child process `tta` runs goes through here: its own process group, stdin closed,
//! output to a file (so a full pipe can never block it), and group-wide signals to stop it.
//!
//! Identity: a pid alone can be reused after a process dies, so records keep the kernel's
//! start time of the pid (Linux `/proc/<pid>/stat`, field 22) and a pid only counts as ours
//! when both match. Elsewhere the start time is unknown and the pid alone is trusted.

use std::io;
use std::os::unix::process::CommandExt as _;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use indexmap::IndexMap;
use rustix::process::{
    Pid, Signal, kill_process_group, test_kill_process, test_kill_process_group,
};

use crate::cancel::Cancel;

/// A process started in its own group.
#[derive(Debug)]
pub struct Spawned {
    /// The child handle (for reaping while this run lives).
    pub child: Child,
    /// Its pid, which is also its process group id.
    pub pid: u32,
    /// The kernel's start time of the pid.
    pub start_ticks: Option<u64>,
}

/// Spawns `argv` in a new process group with stdin closed and output to `log`.
pub fn spawn_in_group(
    argv: &[String],
    cwd: &Path,
    env: &IndexMap<String, String>,
    log: &std::fs::File,
) -> io::Result<Spawned> {
    let (program, args) = argv
        .split_first()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "empty command"))?;
    let mut cmd = Command::new(program);
    cmd.args(args)
        .current_dir(cwd)
        .envs(env)
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log.try_clone()?)
        .process_group(0);
    let child = cmd.spawn()?;
    let pid = child.id();
    Ok(Spawned {
        child,
        pid,
        start_ticks: start_ticks(pid),
    })
}

fn pid(p: u32) -> Option<Pid> {
    i32::try_from(p).ok().and_then(Pid::from_raw)
}

/// The kernel's start time of a pid (Linux), or `None` where it cannot be read.
pub fn start_ticks(p: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{p}/stat")).ok()?;
    // The command name (field 2) is in parentheses and may contain spaces.
    let after = &stat[stat.rfind(')')? + 2..];
    after.split(' ').nth(19)?.parse().ok()
}

fn is_zombie(p: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{p}/stat"))
        .ok()
        .and_then(|s| s.rfind(')').and_then(|i| s[i + 2..].chars().next()))
        .is_some_and(|state| state == 'Z' || state == 'X')
}

/// Whether the process `p` is alive and is the one recorded (same start time).
pub fn is_ours(p: u32, recorded_ticks: Option<u64>) -> bool {
    let Some(id) = pid(p) else { return false };
    if test_kill_process(id).is_err() || is_zombie(p) {
        return false;
    }
    match (recorded_ticks, start_ticks(p)) {
        (Some(a), Some(b)) => a == b,
        // The kernel tells when this pid started but the record does not say: tta records
        // the start time wherever it can read it, so the record is not of this process
        // (hand-written or damaged). Signalling on its word could hit anything, even pid 1.
        (None, Some(_)) => false,
        _ => true,
    }
}

/// Whether any process of group `pgid` is still running. Zombies do not count: a process
/// that exited stays a zombie until its parent (possibly a container's init that reaps
/// lazily) collects it, but it holds nothing and needs no signal.
pub fn group_alive(pgid: u32) -> bool {
    if pid(pgid).is_none_or(|g| test_kill_process_group(g).is_err()) {
        return false;
    }
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return true; // no /proc: trust the kernel's answer above
    };
    dir.filter_map(Result::ok)
        .filter(|e| {
            e.file_name()
                .to_str()
                .is_some_and(|n| n.bytes().all(|b| b.is_ascii_digit()))
        })
        .filter_map(|e| std::fs::read_to_string(e.path().join("stat")).ok())
        .any(|stat| {
            let Some(i) = stat.rfind(')') else {
                return false;
            };
            let mut fields = stat[i + 2..].split(' ');
            let state = fields.next().unwrap_or("Z");
            let pgrp = fields.nth(1).and_then(|f| f.parse::<u32>().ok());
            pgrp == Some(pgid) && state != "Z" && state != "X"
        })
}

/// Sends `sig` to every process of group `pgid`.
pub fn kill_group(pgid: u32, sig: Signal) -> bool {
    pid(pgid).is_some_and(|g| kill_process_group(g, sig).is_ok())
}

/// TERM to the group, up to `grace` for it to go, then KILL. Reaps `child` when it is ours.
/// A force-cancel ends the grace period at once. Returns true when the group is gone.
pub fn terminate_group(
    pgid: u32,
    grace: Duration,
    cancel: &Cancel,
    mut child: Option<&mut Child>,
) -> bool {
    let reap = |child: &mut Option<&mut Child>| {
        if let Some(c) = child.as_deref_mut() {
            let _ = c.try_wait();
        }
    };
    if !kill_group(pgid, Signal::TERM) {
        reap(&mut child);
        return true;
    }
    let deadline = Instant::now() + grace;
    while Instant::now() < deadline && !cancel.is_forced() {
        reap(&mut child);
        if !group_alive(pgid) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    kill_group(pgid, Signal::KILL);
    let deadline = Instant::now() + Duration::from_secs(2);
    while Instant::now() < deadline {
        reap(&mut child);
        if !group_alive(pgid) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    false
}
