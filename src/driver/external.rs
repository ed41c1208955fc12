//! The driver of `external` components: things `tta` neither starts nor stops (the Docker
//! engine, an API on another host). Starting one only waits for its probe (the runner's
//! readiness wait); stopping one leaves it alone; its status is what its probe says now.

use std::path::PathBuf;
use std::time::Duration;

use super::probe;
use super::types::{ActionError, Driver, Health, Observation, Poll, Status, StopOutcome};
use crate::cancel::Cancel;
use crate::config::model::{Config, Kind, Probe};
use crate::graph::{Graph, NodeId};

/// How long a status probe may take, at most (a status must stay quick).
pub(super) const STATUS_PROBE_LIMIT: Duration = Duration::from_secs(2);

/// External components and their probes.
pub(super) struct External {
    probes: Vec<Option<(Probe, PathBuf)>>,
}

impl External {
    /// The driver of `graph`'s external components.
    pub(super) fn new(config: &Config, graph: &Graph) -> Self {
        let probes = graph
            .names()
            .iter()
            .map(|n| {
                let spec = config.components.get(n)?;
                (spec.kind == Kind::External).then_some(())?;
                let cwd = spec.cwd.clone().unwrap_or_else(|| config.base_dir.clone());
                Some((spec.probe.clone()?, cwd))
            })
            .collect();
        Self { probes }
    }

    fn judge(&self, id: NodeId) -> Observation {
        let Some((p, cwd)) = self.probes.get(id).and_then(Option::as_ref) else {
            return Observation::new(Status::Stopped, Some("not an external component".into()));
        };
        match probe::check(&p.check, p.timeout.min(STATUS_PROBE_LIMIT), cwd) {
            Ok(()) => Observation {
                health: Some(Health::Healthy),
                ..Observation::new(Status::Running, None)
            },
            Err(e) => Observation {
                health: Some(Health::Unhealthy),
                ..Observation::new(Status::Stopped, Some(e.to_string()))
            },
        }
    }
}

impl Driver for External {
    /// Cheap and probe-free: an external component is never "already running" for the
    /// runner, which always waits for its probe.
    fn observe(&self, ids: &[NodeId]) -> Vec<Observation> {
        ids.iter()
            .map(|_| Observation::new(Status::Stopped, None))
            .collect()
    }

    /// Running exactly when its probe answers now (all probes at once).
    fn status(&self, ids: &[NodeId]) -> Vec<Observation> {
        std::thread::scope(|s| {
            let hs: Vec<_> = ids
                .iter()
                .map(|&id| s.spawn(move || self.judge(id)))
                .collect();
            hs.into_iter()
                .map(|h| {
                    h.join().unwrap_or_else(|_| {
                        Observation::new(Status::Error, Some("probe panicked".into()))
                    })
                })
                .collect()
        })
    }

    fn start(&self, _: NodeId, _: &Cancel) -> Result<(), ActionError> {
        Ok(())
    }

    fn poll(&self, _: NodeId) -> Poll {
        Poll::Running
    }

    fn poll_interval(&self, _: NodeId) -> Duration {
        Duration::from_millis(10)
    }

    fn stop(&self, _: NodeId, _: Duration, _: &Cancel) -> Result<StopOutcome, ActionError> {
        Ok(StopOutcome::AlreadyStopped)
    }

    fn log_tail(&self, _: NodeId, _: usize) -> Vec<String> {
        Vec::new()
    }
}
