//! The state directory itself: its layout, records, the run lock.

use std::fs::{self, File, OpenOptions};
use std::io::{Read as _, Seek as _, Write as _};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::cancel::Cancel;
use crate::config::write_atomic;
use crate::error::{Error, LockHolder, Result};

/// The state directory of one stack.
#[derive(Debug, Clone)]
pub(crate) struct StateDir {
    root: PathBuf,
}

/// What is recorded about a started process or task.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Record {
    /// The pid (also the process group id: each component leads its own group).
    pub pid: u32,
    /// The kernel's start time of the pid, in clock ticks since boot (Linux), to tell our
    /// process from a later one that got the same pid.
    pub start_ticks: Option<u64>,
    /// When it was started, in seconds since the Unix epoch.
    pub started_at: f64,
    /// The argv it was started with.
    pub command: Vec<String>,
    /// For tasks: the exit code once it finished.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<i32>,
    /// For tasks: when it finished.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<f64>,
    /// The marker its processes carry in their environment (`name@token`), so that those
    /// that left its process group are found too.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub marker: Option<String>,
    /// The config file that started it (absolute); another config never touches it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config: Option<PathBuf>,
    /// A fingerprint of its spec as started (command, environment, folder, probe), to tell
    /// when the configuration changed since.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spec: Option<String>,
    /// The keeper that writes its log and record (pid, start time), when one does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keeper: Option<(u32, Option<u64>)>,
    /// The signal that ended it, when one did (then `exit_code` is 128 + the signal, as a
    /// shell reports it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signal: Option<i32>,
}

/// Why a component's last start failed, kept until it starts again or is stopped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct LastFailure {
    /// When, in seconds since the epoch.
    pub at: u64,
    /// What happened.
    pub message: String,
    /// The exit code, when a command exited.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<i32>,
}

impl LastFailure {
    /// A failure that says `message` (and the exit code, when a command exited), now.
    pub(crate) fn now(message: &str, exit_code: Option<i32>) -> Self {
        Self {
            at: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_secs()),
            message: message.to_owned(),
            exit_code,
        }
    }
}

/// Seconds since the epoch, now.
pub(crate) fn now_epoch() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

fn file_name(name: &str) -> String {
    // Component names use letters, digits, `.`, `_`, `-`; discovered ones add `/`.
    name.replace('/', "%")
}

impl StateDir {
    /// The state directory at `root` (not created until something is written).
    pub(crate) fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    /// Its path.
    pub(crate) fn root(&self) -> &Path {
        &self.root
    }

    fn err(&self, message: impl Into<String>, source: Option<std::io::Error>) -> Error {
        Error::State {
            path: self.root.clone(),
            message: message.into(),
            source,
        }
    }

    /// Creates the folders.
    pub(crate) fn ensure(&self) -> Result<()> {
        for sub in ["run", "logs"] {
            fs::create_dir_all(self.root.join(sub))
                .map_err(|e| self.err(format!("cannot create {sub}/"), Some(e)))?;
        }
        Ok(())
    }

    /// The record file of a component.
    pub(crate) fn record_path(&self, name: &str) -> PathBuf {
        self.root
            .join("run")
            .join(format!("{}.json", file_name(name)))
    }

    /// The log file of a component.
    pub(crate) fn log_path(&self, name: &str) -> PathBuf {
        self.root
            .join("logs")
            .join(format!("{}.log", file_name(name)))
    }

    /// Reads a record. `Ok(None)` when there is none; an unreadable record is an error that
    /// names the file (callers treat it as "state unknown").
    pub(crate) fn read(&self, name: &str) -> Result<Option<Record>, String> {
        let path = self.record_path(name);
        match fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map(Some)
                .map_err(|e| format!("unreadable state file {}: {e}", path.display())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(format!("cannot read {}: {e}", path.display())),
        }
    }

    /// Writes a record atomically.
    pub(crate) fn write(&self, name: &str, record: &Record) -> Result<()> {
        self.ensure()?;
        let bytes = serde_json::to_vec(record).expect("records serialize");
        write_atomic(&self.record_path(name), &bytes)
    }

    fn failure_path(&self, name: &str) -> PathBuf {
        self.root
            .join("run")
            .join(format!("{}.failed.json", file_name(name)))
    }

    /// The last failure of a component's start, if one is kept.
    pub(crate) fn last_failure(&self, name: &str) -> Option<LastFailure> {
        let bytes = fs::read(self.failure_path(name)).ok()?;
        serde_json::from_slice(&bytes).ok()
    }

    /// Keeps why a component's start failed (best effort).
    pub(crate) fn note_failure(&self, name: &str, failure: &LastFailure) {
        let bytes = serde_json::to_vec(failure).expect("failures serialize");
        if let Err(e) = self
            .ensure()
            .and_then(|()| write_atomic(&self.failure_path(name), &bytes))
        {
            tracing::warn!(
                "cannot keep the failure of {name}: {}",
                crate::error::render(&e)
            );
        }
    }

    /// Forgets a component's last failure.
    pub(crate) fn clear_failure(&self, name: &str) {
        let _ = fs::remove_file(self.failure_path(name));
    }

    /// The names of every component with a record.
    pub(crate) fn recorded(&self) -> Vec<String> {
        let Ok(dir) = fs::read_dir(self.root.join("run")) else {
            return Vec::new();
        };
        let mut names: Vec<String> = dir
            .filter_map(Result::ok)
            .filter_map(|e| {
                let f = e.file_name().into_string().ok()?;
                let stem = f.strip_suffix(".json")?;
                (!stem.ends_with(".failed")).then(|| stem.replace('%', "/"))
            })
            .collect();
        names.sort();
        names
    }

    /// Removes a record (missing is fine).
    pub(crate) fn remove(&self, name: &str) -> Result<()> {
        match fs::remove_file(self.record_path(name)) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(self.err(format!("cannot remove the record of {name}"), Some(e))),
        }
    }

    /// Opens a component's log for appending.
    pub(crate) fn open_log(&self, name: &str) -> Result<File> {
        self.ensure()?;
        let path = self.log_path(name);
        OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(|e| Error::io("open", path, e))
    }

    /// The last `n` lines of a component's log (empty when there is none), as text.
    pub(crate) fn log_tail(&self, name: &str, n: usize) -> Vec<String> {
        super::log::tail(&self.log_path(name), n)
            .iter()
            .map(|l| String::from_utf8_lossy(l).into_owned())
            .collect()
    }

    /// Takes the run lock, waiting up to `wait` for another run to let go. `on_wait` is
    /// called once if the lock is busy, with the holder's pid.
    /// A cancel (Ctrl-C, SIGTERM, SIGHUP) ends the wait at once with [`Error::Interrupted`].
    pub(crate) fn lock(
        &self,
        wait: Duration,
        cancel: &Cancel,
        on_wait: impl FnOnce(LockHolder),
    ) -> Result<RunLock> {
        self.ensure()?;
        let path = self.root.join("lock");
        let mut file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .open(&path)
            .map_err(|e| self.err("cannot open the lock file", Some(e)))?;
        let start = Instant::now();
        let mut on_wait = Some(on_wait);
        loop {
            match file.try_lock() {
                Ok(()) => break,
                Err(fs::TryLockError::WouldBlock) => {
                    let holder = {
                        let mut s = String::new();
                        let _ = (&file).read_to_string(&mut s);
                        let _ = (&file).rewind();
                        LockHolder::parse(&s)
                    };
                    if start.elapsed() >= wait {
                        return Err(Error::Locked {
                            holder,
                            waited: wait,
                        });
                    }
                    if let Some(f) = on_wait.take() {
                        f(holder);
                    }
                    if cancel.sleep(Duration::from_millis(20)) {
                        return Err(Error::Interrupted);
                    }
                }
                Err(fs::TryLockError::Error(e)) => return Err(self.err("cannot lock", Some(e))),
            }
        }
        let _ = file.set_len(0);
        let _ = file.rewind();
        let _ = write!(file, "{}", std::process::id());
        Ok(RunLock { _file: file })
    }
}

/// The held run lock; released when dropped (or when the process dies).
#[derive(Debug)]
pub struct RunLock {
    _file: File,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_round_trip_and_garbage_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        let s = StateDir::new(dir.path());
        assert_eq!(s.read("a").unwrap(), None);
        let r = Record {
            pid: 1,
            start_ticks: Some(2),
            started_at: 3.0,
            command: vec!["x".into()],
            exit_code: None,
            finished_at: None,
            marker: None,
            config: None,
            spec: None,
            keeper: None,
            signal: None,
        };
        s.write("a", &r).unwrap();
        assert_eq!(s.read("a").unwrap(), Some(r));
        fs::write(s.record_path("b"), b"{\"pid\": 1, ").unwrap();
        assert!(s.read("b").unwrap_err().contains("unreadable state file"));
    }

    #[test]
    fn a_second_lock_waits_then_fails_naming_the_holder() {
        let dir = tempfile::tempdir().unwrap();
        let s = StateDir::new(dir.path());
        let _held = s.lock(Duration::ZERO, &Cancel::new(), |_| {}).unwrap();
        let mut told = None;
        let err = s
            .lock(Duration::from_millis(50), &Cancel::new(), |h| told = h.pid)
            .unwrap_err();
        assert_eq!(told, Some(std::process::id()));
        assert!(matches!(err, Error::Locked { .. }));
    }
}
