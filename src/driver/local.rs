//! The driver of local components: `process` (long-running, left running in the
//! background) and `task` (one-shot; success is exit 0).
//!
//! A started process outlives the `tta` run that started it: it leads its own process group
//! with stdin closed and output appended to its log (spawned through [`crate::process`]),
//! and its record in the state directory lets a later run find it, check it is still the
//! same process (pid and kernel start time), and stop the whole group.

use std::collections::HashMap;
use std::io::Write as _;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::types::{ActionError, Driver, Failure, Observation, Poll, Status, StopOutcome};
use crate::cancel::Cancel;
use crate::config::model::{ComponentSpec, Config, Kind};
use crate::graph::{Graph, NodeId};
use crate::process::group::{self, is_ours};
use crate::process::{Child, Kill, RunError, Sink, Spec};
use crate::state::{Record, StateDir, now_epoch};

/// A process without a probe counts as running once it has stayed up this long, so that a
/// command that fails at once (a typo, a missing file) is reported as failed, not started.
/// With a probe, the probe decides (and a crash is still seen at every poll).
pub(super) const SETTLE: Duration = Duration::from_millis(100);

/// How many log lines a failure report carries.
pub(crate) const TAIL_LINES: usize = 10;

struct Spawned {
    child: Child,
    at: Instant,
}

/// Runs local processes and tasks.
pub(super) struct Local {
    state: StateDir,
    base_dir: PathBuf,
    names: Vec<String>,
    specs: Vec<Option<ComponentSpec>>,
    children: Mutex<HashMap<NodeId, Spawned>>,
}

impl Local {
    /// A driver for the local components of `graph`.
    pub(super) fn new(config: &Config, graph: &Graph) -> Self {
        let specs = graph
            .names()
            .iter()
            .map(|n| {
                config
                    .components
                    .get(n)
                    .filter(|s| matches!(s.kind, Kind::Process | Kind::Task))
                    .cloned()
            })
            .collect();
        Self {
            state: StateDir::new(&config.state_dir),
            base_dir: config.base_dir.clone(),
            names: graph.names().to_vec(),
            specs,
            children: Mutex::new(HashMap::new()),
        }
    }

    fn spec(&self, id: NodeId) -> &ComponentSpec {
        self.specs[id]
            .as_ref()
            .expect("the local driver is given local components only")
    }

    fn failure(&self, id: NodeId, message: String, exit_code: Option<i32>) -> Failure {
        Failure {
            message,
            exit_code,
            log_tail: self.state.log_tail(&self.names[id], TAIL_LINES),
            environment: None,
        }
    }

    /// Observes one component from its record.
    fn observe_one(&self, id: NodeId) -> Observation {
        let name = &self.names[id];
        let task = self.spec(id).kind == Kind::Task;
        let record = match self.state.read(name) {
            Ok(Some(r)) => r,
            Ok(None) => return Observation::new(Status::Stopped, None),
            Err(e) => return Observation::new(Status::Error, Some(e)),
        };
        let alive = is_ours(record.pid, record.start_ticks);
        let mut o = match (task, record.exit_code, alive) {
            (true, Some(0), _) => Observation::new(Status::Completed, Some("exited 0".to_owned())),
            (true, Some(code), _) => {
                Observation::new(Status::Error, Some(format!("exited with code {code}")))
            }
            (false, _, true) | (true, None, true) => Observation::new(
                if task {
                    Status::Starting
                } else {
                    Status::Running
                },
                Some(format!("pid {}", record.pid)),
            ),
            (true, None, false) => Observation::new(
                Status::Error,
                Some("did not finish (interrupted)".to_owned()),
            ),
            (false, _, false) => Observation::new(
                Status::Error,
                Some(format!("exited unexpectedly; see `tta logs {name}`")),
            ),
        };
        o.since = Some(record.started_at);
        o
    }

    fn finish_task(&self, id: NodeId, code: i32) {
        let name = &self.names[id];
        if let Ok(Some(mut r)) = self.state.read(name) {
            r.exit_code = Some(code);
            r.finished_at = Some(now_epoch());
            if let Err(e) = self.state.write(name, &r) {
                tracing::warn!(
                    "cannot record the result of {name}: {}",
                    crate::error::render(&e)
                );
            }
        }
    }
}

impl Driver for Local {
    fn poll_interval(&self, _: NodeId) -> Duration {
        Duration::from_millis(10)
    }

    /// Observes components.
    fn observe(&self, ids: &[NodeId]) -> Vec<Observation> {
        ids.iter().map(|&id| self.observe_one(id)).collect()
    }

    /// Spawns a component.
    fn start(&self, id: NodeId, _: &Cancel) -> Result<(), ActionError> {
        let name = &self.names[id];
        let spec = self.spec(id);
        let argv = spec.command.as_ref().map(|c| c.argv()).unwrap_or_default();
        let cwd = spec.cwd.clone().unwrap_or_else(|| self.base_dir.clone());
        let fail = |m: String| ActionError::permanent(self.failure(id, m, None));
        if !cwd.is_dir() {
            return Err(fail(format!(
                "working directory {} does not exist",
                cwd.display()
            )));
        }
        let mut log = self
            .state
            .open_log(name)
            .map_err(|e| fail(crate::error::render(&e)))?;
        let _ = writeln!(
            log,
            "=== tta: {} {name} at {:.3}: {} ===",
            spec.kind.as_str(),
            now_epoch(),
            argv.join(" ")
        );
        let child = Spec::new(argv.clone())
            .cwd(&cwd)
            .envs(spec.env.iter().map(|(k, v)| (k.clone(), v.clone())))
            .merged(Sink::File(Arc::new(log)))
            .spawn()
            .map_err(|e| {
                fail(match e {
                    RunError::NotFound(_) => format!("command `{}` not found", argv[0]),
                    other => other.to_string(),
                })
            })?;
        let record = Record {
            pid: child.pid(),
            start_ticks: child.start_ticks(),
            started_at: now_epoch(),
            command: argv,
            exit_code: None,
            finished_at: None,
        };
        if let Err(e) = self.state.write(name, &record) {
            // Untracked, it could never be stopped: take it down again.
            child.end(Kill::Now, None);
            return Err(fail(format!(
                "cannot record the process: {}",
                crate::error::render(&e)
            )));
        }
        self.children.lock().expect("children lock").insert(
            id,
            Spawned {
                child,
                at: Instant::now(),
            },
        );
        Ok(())
    }

    /// How far a started component is.
    fn poll(&self, id: NodeId) -> Poll {
        let task = self.spec(id).kind == Kind::Task;
        let mut children = self.children.lock().expect("children lock");
        let Some(sp) = children.get_mut(&id) else {
            drop(children);
            // Started by an earlier run: trust the record.
            return match self.observe_one(id).status() {
                Status::Running => Poll::Running,
                Status::Completed => Poll::Completed,
                Status::Starting => Poll::Pending(None),
                _ => Poll::Failed(self.failure(id, "is not running".into(), None)),
            };
        };
        match sp.child.status() {
            None if task => Poll::Pending(None),
            None if sp.at.elapsed() < SETTLE && self.spec(id).probe.is_none() => {
                Poll::Pending(None)
            }
            None => Poll::Running,
            Some(status) => {
                children.remove(&id);
                drop(children);
                let code = status.code();
                let how = match code {
                    Some(c) => format!("exited with code {c}"),
                    None => format!("was killed ({status})"),
                };
                if task {
                    self.finish_task(id, code.unwrap_or(-1));
                    if code == Some(0) {
                        return Poll::Completed;
                    }
                    return Poll::Failed(self.failure(id, how, code));
                }
                Poll::Failed(self.failure(id, format!("{how} before it was ready"), code))
            }
        }
    }

    /// Stops a component and forgets its record.
    fn stop(
        &self,
        id: NodeId,
        grace: Duration,
        cancel: &Cancel,
    ) -> Result<StopOutcome, ActionError> {
        let name = &self.names[id];
        let mine = self.children.lock().expect("children lock").remove(&id);
        let outcome = if let Some(sp) = mine {
            let pid = sp.child.pid();
            if !sp.child.end(Kill::Graceful(grace), Some(cancel)) {
                return Err(ActionError::permanent(Failure::new(format!(
                    "process group {pid} survived SIGKILL"
                ))));
            }
            StopOutcome::Stopped
        } else {
            match self.state.read(name) {
                Ok(Some(r)) if r.exit_code.is_none() && is_ours(r.pid, r.start_ticks) => {
                    if !group::terminate(r.pid, grace, cancel) {
                        return Err(ActionError::permanent(Failure::new(format!(
                            "process group {} survived SIGKILL",
                            r.pid
                        ))));
                    }
                    StopOutcome::Stopped
                }
                Ok(_) => StopOutcome::AlreadyStopped,
                Err(e) => {
                    tracing::warn!("{e}; removing it");
                    StopOutcome::AlreadyStopped
                }
            }
        };
        self.state
            .remove(name)
            .map_err(|e| ActionError::permanent(Failure::new(crate::error::render(&e))))?;
        Ok(outcome)
    }

    /// The last lines of a component's log.
    fn log_tail(&self, id: NodeId, n: usize) -> Vec<String> {
        self.state.log_tail(&self.names[id], n)
    }
}
