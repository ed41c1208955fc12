//! The real driver: dispatches each component to the driver of its kind.

use std::sync::Arc;
use std::time::Duration;

use super::compose::{Compose, POLL_INTERVAL};
use super::local::Local;
use super::types::{ActionError, Driver, Observation, Poll, Status, StopOutcome};
use crate::cancel::Cancel;
use crate::config::model::{Config, Kind};
use crate::graph::{Graph, NodeId};

/// Every component of a stack, whatever its kind.
pub struct Stack {
    kinds: Vec<Kind>,
    local: Local,
    compose: Arc<Compose>,
}

impl Stack {
    /// The driver for `graph`'s components.
    pub fn new(config: &Config, graph: &Graph) -> Self {
        Self {
            kinds: (0..graph.len()).map(|i| graph.kind(i)).collect(),
            local: Local::new(config, graph),
            compose: Arc::new(Compose::new(config, graph)),
        }
    }

    /// The compose driver, for what the runner does not do: pre-flight checks, reporting
    /// environment errors, and `tta compose`.
    pub fn compose(&self) -> Arc<Compose> {
        Arc::clone(&self.compose)
    }
}

impl Driver for Stack {
    fn observe(&self, ids: &[NodeId]) -> Vec<Observation> {
        // One engine call for every compose component, whatever else is asked.
        let compose_ids: Vec<NodeId> = ids
            .iter()
            .copied()
            .filter(|&id| self.kinds[id] == Kind::Compose)
            .collect();
        let mut compose = if compose_ids.is_empty() {
            Vec::new()
        } else {
            self.compose.observe(&compose_ids)
        }
        .into_iter();
        ids.iter()
            .map(|&id| match self.kinds[id] {
                Kind::Compose => compose.next().unwrap_or_default(),
                // Not ours to run: a start only waits for its probe, a stop leaves it alone,
                // and status asks the probe.
                Kind::External => Observation::new(Status::Stopped, None),
                Kind::Process | Kind::Task => self.local.observe(&[id]).pop().unwrap_or_default(),
            })
            .collect()
    }

    fn start_batch(&self, ids: &[NodeId], cancel: &Cancel) -> Vec<Result<(), ActionError>> {
        if ids.iter().all(|&id| self.kinds[id] == Kind::Compose) {
            return self.compose.start_batch(ids, cancel);
        }
        ids.iter().map(|&id| self.start(id, cancel)).collect()
    }

    fn start(&self, id: NodeId, cancel: &Cancel) -> Result<(), ActionError> {
        match self.kinds[id] {
            Kind::Compose => self
                .compose
                .start_batch(&[id], cancel)
                .pop()
                .unwrap_or(Ok(())),
            Kind::External => Ok(()),
            Kind::Process | Kind::Task => self.local.start(id),
        }
    }

    fn poll(&self, id: NodeId) -> Poll {
        match self.kinds[id] {
            Kind::Compose => self.compose.poll(id),
            Kind::External => Poll::Running,
            Kind::Process | Kind::Task => self.local.poll(id),
        }
    }

    fn poll_interval(&self, id: NodeId) -> Duration {
        match self.kinds[id] {
            Kind::Compose => POLL_INTERVAL,
            _ => Duration::from_millis(10),
        }
    }

    fn batch_key(&self, id: NodeId) -> Option<String> {
        match self.kinds[id] {
            Kind::Compose => self.compose.batch_key(id),
            _ => None,
        }
    }

    fn stop(
        &self,
        id: NodeId,
        grace: Duration,
        cancel: &Cancel,
    ) -> Result<StopOutcome, ActionError> {
        match self.kinds[id] {
            Kind::Compose => self.compose.stop(id, grace, cancel),
            Kind::External => Ok(StopOutcome::AlreadyStopped),
            Kind::Process | Kind::Task => self.local.stop(id, grace, cancel),
        }
    }

    fn log_tail(&self, id: NodeId, n: usize) -> Vec<String> {
        match self.kinds[id] {
            Kind::Compose => self.compose.log_tail(id, n),
            Kind::External => Vec::new(),
            Kind::Process | Kind::Task => self.local.log_tail(id, n),
        }
    }
}
