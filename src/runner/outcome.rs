//! Results of a run, per component, and the run as a whole.

use std::time::Duration;

use serde::Serialize;

use crate::driver::Failure;
use crate::graph::{Graph, NodeId};

/// What a run did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// `tta start`.
    Start,
    /// `tta stop`.
    Stop,
    /// `tta restart`.
    Restart,
}

/// How one component came out of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Started and ready (or a task that completed).
    Started,
    /// Was already up: nothing done.
    AlreadyRunning,
    /// Was running, now stopped.
    Stopped,
    /// Was not running: nothing done.
    AlreadyStopped,
    /// Its action or readiness failed.
    Failed,
    /// Not attempted: a required dependency failed.
    Blocked,
    /// Not ready (or not stopped) in time.
    TimedOut,
    /// Not attempted or abandoned: Ctrl-C or `--fail-fast`.
    Cancelled,
}

impl Outcome {
    /// Whether it counts as success (`results[name] == true`).
    pub fn success(self) -> bool {
        matches!(
            self,
            Outcome::Started | Outcome::AlreadyRunning | Outcome::Stopped | Outcome::AlreadyStopped
        )
    }

    /// The name used in output.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Started => "started",
            Outcome::AlreadyRunning => "already_running",
            Outcome::Stopped => "stopped",
            Outcome::AlreadyStopped => "already_stopped",
            Outcome::Failed => "failed",
            Outcome::Blocked => "blocked",
            Outcome::TimedOut => "timed_out",
            Outcome::Cancelled => "cancelled",
        }
    }
}

/// One component's result.
#[derive(Debug, Clone, PartialEq)]
pub struct ComponentResult {
    /// The component.
    pub id: NodeId,
    /// How it came out.
    pub outcome: Outcome,
    /// Why, in a line (for anything but plain success).
    pub reason: Option<String>,
    /// The failure, with exit code and log lines.
    pub failure: Option<Failure>,
    /// For `blocked`: the failed dependency that caused it.
    pub blocked_by: Option<NodeId>,
    /// When its action began, from the start of the run.
    pub began: Option<Duration>,
    /// When it finished, from the start of the run.
    pub ended: Duration,
    /// A task (or one-shot service) that ran to completion.
    pub completed: bool,
    /// It was running as configured before, and was restarted to run as configured now.
    pub restarted: bool,
}

impl ComponentResult {
    /// A result with no timing.
    pub fn new(id: NodeId, outcome: Outcome, ended: Duration) -> Self {
        Self {
            id,
            outcome,
            reason: None,
            failure: None,
            blocked_by: None,
            began: None,
            ended,
            completed: false,
            restarted: false,
        }
    }

    /// Seconds from its action's start to its end (0 when nothing was done).
    pub fn seconds(&self) -> f64 {
        self.began
            .map_or(0.0, |b| self.ended.saturating_sub(b).as_secs_f64())
    }
}

/// A broken part of the environment a run met but worked around (a repository folder gone,
/// an engine that does not answer): the run stopped what it could, and ends with exit code 3.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvironmentProblem {
    /// What is broken.
    pub message: String,
    /// What to do about it.
    pub hint: Option<String>,
}

/// A whole run.
#[derive(Debug, Clone)]
pub struct RunReport {
    /// What was done.
    pub action: Action,
    /// One result per component, in the order they finished.
    pub results: Vec<ComponentResult>,
    /// Wall time.
    pub elapsed: Duration,
    /// Ctrl-C.
    pub interrupted: bool,
    /// What of the environment was broken, beyond the components' own failures.
    pub environment: Vec<EnvironmentProblem>,
    /// What earlier runs started for components the configuration no longer has, and was
    /// stopped now (name, outcome, why).
    pub leftovers: Vec<Leftover>,
    /// For a restart: how the stop that came first went, per component.
    pub stopped: Vec<ComponentResult>,
}

/// Something an earlier run started for a component the configuration no longer has.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Leftover {
    /// Its name when it was started.
    pub name: String,
    /// How its stop went.
    pub outcome: Outcome,
    /// Why it failed, if it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl RunReport {
    /// Whether every component succeeded.
    pub fn success(&self) -> bool {
        !self.interrupted
            && self.results.iter().all(|r| r.outcome.success())
            && self.leftovers.iter().all(|l| l.outcome.success())
    }

    /// The first failure of the environment a run met (no compose command, a repository
    /// folder gone), as the crate's error (exit code 3).
    pub fn environment_error(&self) -> Option<crate::error::Error> {
        let problem = self
            .environment
            .first()
            .map(|p| crate::error::Error::Environment {
                message: p.message.clone(),
                hint: p.hint.clone(),
            });
        problem.or_else(|| {
            self.results
                .iter()
                .filter_map(|r| r.failure.as_ref())
                .find_map(crate::driver::Failure::to_environment_error)
        })
    }

    /// The result of a component, if it took part.
    pub fn get(&self, id: NodeId) -> Option<&ComponentResult> {
        self.results.iter().find(|r| r.id == id)
    }

    /// The chain of dependencies that decided when the last component was ready: from the
    /// last one to finish, follow the dependency that finished last, back to the start.
    pub fn critical_chain(&self, graph: &Graph) -> Vec<NodeId> {
        let mut ended: Vec<Option<Duration>> = vec![None; graph.len()];
        for r in &self.results {
            if r.outcome == Outcome::Started {
                ended[r.id] = Some(r.ended);
            }
        }
        let Some(mut cur) = (0..graph.len())
            .filter(|&i| ended[i].is_some())
            .max_by_key(|&i| ended[i])
        else {
            return Vec::new();
        };
        let mut chain = vec![cur];
        while let Some(next) = graph
            .deps(cur)
            .iter()
            .filter(|e| ended[e.to].is_some())
            .max_by_key(|e| ended[e.to])
            .map(|e| e.to)
        {
            chain.push(next);
            cur = next;
        }
        chain.reverse();
        chain
    }
}
