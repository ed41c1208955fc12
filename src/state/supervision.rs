//! What a running `tta up` knows of the components it supervises, for other commands to
//! read: `state_dir/up.json`, written atomically by `up` at every change (a start, an exit,
//! a restart planned, a restart done, a component given up) and removed when it ends.
//! It names the `up` process (pid and the kernel's start time), so a file left by an `up`
//! that was killed is never taken for the truth.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::dir::StateDir;
use crate::config::write_atomic;
use crate::error::Result;

/// What `tta up` knows of one component.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Supervised {
    /// `waiting` (for its dependencies), `starting`, `running`, `restarting` (a restart is
    /// planned or under way), `completed`, `failed` (given up), `stopped`.
    pub state: String,
    /// How many times `up` restarted it.
    pub restarts: u32,
    /// The exit code of its last exit, when it exited with one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_exit_code: Option<i32>,
    /// When the planned restart happens, seconds since the epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restart_at: Option<f64>,
    /// Why it is in this state (what it exited with, why it was given up).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// The whole file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct UpFile {
    /// The `tta up` process.
    pub pid: u32,
    /// The kernel's start time of that process, where known.
    pub start_ticks: Option<u64>,
    /// The config file it runs (absolute), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config: Option<PathBuf>,
    /// When it began, seconds since the epoch.
    pub started_at: f64,
    /// Each supervised component.
    pub components: BTreeMap<String, Supervised>,
}

impl StateDir {
    fn up_path(&self) -> PathBuf {
        self.root().join("up.json")
    }

    /// Writes what `up` knows, atomically.
    pub(crate) fn write_up(&self, file: &UpFile) -> Result<()> {
        self.ensure()?;
        let bytes = serde_json::to_vec_pretty(file).expect("the up file serializes");
        write_atomic(&self.up_path(), &bytes)
    }

    /// What a running `up` knows, if one runs for this state directory.
    pub(crate) fn read_up(&self) -> Option<UpFile> {
        let bytes = std::fs::read(self.up_path()).ok()?;
        let file: UpFile = serde_json::from_slice(&bytes).ok()?;
        crate::process::group::is_ours(file.pid, file.start_ticks).then_some(file)
    }

    /// Removes the file of this process's `up` (not another's).
    pub(crate) fn remove_up(&self) {
        if let Ok(bytes) = std::fs::read(self.up_path())
            && let Ok(file) = serde_json::from_slice::<UpFile>(&bytes)
            && file.pid != std::process::id()
        {
            return;
        }
        let _ = std::fs::remove_file(self.up_path());
    }
}

impl Supervised {
    /// A line for `tta status`: what `up` (pid `pid`) is doing about the component.
    pub(crate) fn describe(&self, pid: u32, now: f64) -> String {
        let exit = self
            .last_exit_code
            .map(|c| format!(", last exit code {c}"))
            .unwrap_or_default();
        let times = match self.restarts {
            0 => String::new(),
            1 => "restarted once".to_owned(),
            n => format!("restarted {n} times"),
        };
        match self.state.as_str() {
            "restarting" => {
                let when = self.restart_at.map_or_else(
                    || "now".to_owned(),
                    |at| {
                        let left = std::time::Duration::from_secs_f64((at - now).max(0.0));
                        format!("in {}", crate::duration::Human(left))
                    },
                );
                format!(
                    "tta up (pid {pid}) restarts it {when} (restart {}{exit})",
                    self.restarts + 1
                )
            }
            "failed" => format!(
                "tta up (pid {pid}) gave up on it: {}",
                self.reason.as_deref().unwrap_or("it failed")
            ),
            _ if times.is_empty() => format!("supervised by tta up (pid {pid})"),
            _ => format!("supervised by tta up (pid {pid}); {times}{exit}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_file_of_a_live_up_is_read_and_a_dead_ones_is_not() {
        let dir = tempfile::tempdir().unwrap();
        let s = StateDir::new(dir.path());
        let mut file = UpFile {
            pid: std::process::id(),
            start_ticks: crate::process::stat::start_ticks(std::process::id()),
            config: None,
            started_at: 1.0,
            components: BTreeMap::from([(
                "api".to_owned(),
                Supervised {
                    state: "restarting".into(),
                    restarts: 2,
                    last_exit_code: Some(3),
                    restart_at: Some(12.0),
                    reason: None,
                },
            )]),
        };
        s.write_up(&file).unwrap();
        let read = s.read_up().unwrap();
        assert_eq!(read, file);
        assert_eq!(
            read.components["api"].describe(7, 10.0),
            "tta up (pid 7) restarts it in 2s (restart 3, last exit code 3)"
        );
        file.start_ticks = Some(1);
        s.write_up(&file).unwrap();
        assert_eq!(s.read_up(), None, "another process with this pid");
        s.remove_up();
        assert!(!dir.path().join("up.json").exists());
    }
}
