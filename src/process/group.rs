//! Signals to processes and process groups, and stopping a group that an earlier `tta` run
//! started (not a child of this one, so its exit cannot be waited for: its members are
//! checked every few milliseconds, with waits that a forced cancel cuts short).
//!
//! Identity: a pid alone can be reused after a process dies, so records keep the kernel's
//! start time of the pid and a pid counts as ours only when both match ([`is_ours`]).

use std::time::{Duration, Instant};

use rustix::process::{
    Pid, Signal, kill_process, kill_process_group, test_kill_process, test_kill_process_group,
};

use super::stat;
use crate::cancel::{Cancel, Level};

/// How often a group that is not our child is checked while it stops.
const CHECK_EVERY: Duration = Duration::from_millis(10);

fn pid(p: u32) -> Option<Pid> {
    i32::try_from(p).ok().and_then(Pid::from_raw)
}

/// Sends `sig` to one process.
pub(crate) fn signal(p: u32, sig: Signal) -> bool {
    pid(p).is_some_and(|id| kill_process(id, sig).is_ok())
}

/// Sends `sig` to every process of group `pgid`.
pub(crate) fn signal_group(pgid: u32, sig: Signal) -> bool {
    pid(pgid).is_some_and(|g| kill_process_group(g, sig).is_ok())
}

/// Whether the process `p` is alive (not a zombie) and is the one recorded (same start
/// time). Where the kernel does not tell start times (macOS), a live pid is trusted.
pub(crate) fn is_ours(p: u32, recorded_ticks: Option<u64>) -> bool {
    let Some(id) = pid(p) else { return false };
    if test_kill_process(id).is_err() {
        return false;
    }
    let now = stat::stat(p);
    if now.is_some_and(|s| s.is_gone()) {
        return false;
    }
    match (recorded_ticks, now.map(|s| s.start_ticks)) {
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
/// lazily) collects it, but it holds nothing and needs no signal. Where processes cannot be
/// listed, the kernel's answer to a signal 0 decides (zombies then count as alive).
pub(crate) fn alive(pgid: u32) -> bool {
    if pid(pgid).is_none_or(|g| test_kill_process_group(g).is_err()) {
        return false;
    }
    match stat::all() {
        Some(all) => all.iter().any(|(_, s)| s.pgrp == pgid && !s.is_gone()),
        None => true,
    }
}

/// Waits until nothing of group `pgid` runs, up to `deadline` or a forced `cancel`.
/// Returns true when the group is gone.
pub(crate) fn wait_gone(pgid: u32, deadline: Option<Instant>, cancel: &Cancel) -> bool {
    loop {
        if !alive(pgid) {
            return true;
        }
        let next = Instant::now() + CHECK_EVERY;
        let until = deadline.map_or(next, |d| d.min(next));
        if cancel.sleep_until(until, Level::Forced) || deadline.is_some_and(|d| Instant::now() >= d)
        {
            return !alive(pgid);
        }
    }
}
