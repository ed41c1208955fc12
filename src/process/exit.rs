//! Waiting for a process that is not our child to exit: a component another `tta` run
//! started, which `tta up` watches once it finds it running. On Linux a pidfd becomes
//! readable the moment the process exits, so the wait sleeps in `poll`; elsewhere (or on a
//! kernel without pidfds) the process is looked at once a second.

use std::time::Duration;

use super::group::is_ours;
use crate::cancel::Cancel;

/// How often a cancel is looked at while the kernel is asked to wake us on the exit, and
/// how often a process is looked at where it cannot be.
const LOOK_AGAIN: Duration = Duration::from_secs(1);

/// Waits until the process `pid` (started at `start_ticks`, as recorded) is gone. Returns
/// true when it is, false when `cancel` came first. A pid that is not (or no longer) that
/// process is gone.
pub(crate) fn wait_gone(pid: u32, start_ticks: Option<u64>, cancel: &Cancel) -> bool {
    #[cfg(target_os = "linux")]
    if let Some(gone) = linux::wait(pid, start_ticks, cancel) {
        return gone;
    }
    loop {
        if !is_ours(pid, start_ticks) {
            return true;
        }
        if cancel.sleep(LOOK_AGAIN) {
            return false;
        }
    }
}

#[cfg(target_os = "linux")]
mod linux {
    use rustix::event::{PollFd, PollFlags, Timespec, poll};
    use rustix::process::{Pid, PidfdFlags, pidfd_open};

    use super::{LOOK_AGAIN, is_ours};
    use crate::cancel::Cancel;

    /// The wait on a pidfd; `None` when no pidfd can be had (an old kernel).
    pub(super) fn wait(pid: u32, start_ticks: Option<u64>, cancel: &Cancel) -> Option<bool> {
        let id = Pid::from_raw(i32::try_from(pid).ok()?)?;
        let Ok(fd) = pidfd_open(id, PidfdFlags::empty()) else {
            // ESRCH: it is gone already; anything else: no pidfds here.
            return (!is_ours(pid, start_ticks)).then_some(true);
        };
        // The pid may have been reused between the record and the open: the fd is of
        // whatever holds the pid now, so it must still be the recorded process.
        if !is_ours(pid, start_ticks) {
            return Some(true);
        }
        let every = Timespec {
            tv_sec: i64::try_from(LOOK_AGAIN.as_secs()).unwrap_or(1),
            tv_nsec: 0,
        };
        loop {
            let mut fds = [PollFd::new(&fd, PollFlags::IN)];
            match poll(&mut fds, Some(&every)) {
                Ok(n) if n > 0 => return Some(true),
                Ok(_) | Err(rustix::io::Errno::INTR) => {}
                Err(_) => return None,
            }
            if cancel.is_cancelled() {
                return Some(false);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use super::*;
    use crate::cancel::CancelReason;
    use crate::process::{Spec, stat};

    #[test]
    fn an_exit_is_seen_at_once_and_a_cancel_ends_the_wait() {
        // A process that is not ours to wait for: the grandchild of a shell that exits.
        let out = Spec::new(["sh", "-c", "sleep 0.3 & echo $!"])
            .capture()
            .run()
            .unwrap();
        let pid: u32 = out.stdout_text().trim().parse().unwrap();
        let ticks = stat::start_ticks(pid);
        let t = Instant::now();
        assert!(wait_gone(pid, ticks, &Cancel::new()));
        let took = t.elapsed();
        assert!(took < Duration::from_millis(900), "{took:?}");
        assert!(wait_gone(pid, ticks, &Cancel::new()), "gone stays gone");

        let child = Spec::new(["sleep", "30"]).spawn().unwrap();
        let cancel = Cancel::new();
        let c2 = cancel.clone();
        let h = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(50));
            c2.cancel(CancelReason::Interrupted);
        });
        assert!(!wait_gone(child.pid(), child.start_ticks(), &cancel));
        h.join().unwrap();
        assert!(child.end(crate::process::Kill::Now, None));
    }
}
