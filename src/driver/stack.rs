//! The real driver: dispatches each component to the driver of its kind.

use std::time::Duration;

use super::process::Local;
use super::types::{ActionError, Driver, Failure, Observation, Poll, Status, StopOutcome};
use crate::config::model::{Config, Kind};
use crate::graph::{Graph, NodeId};
use crate::runner::Cancel;

/// Every component of a stack, whatever its kind.
pub struct Stack {
    kinds: Vec<Kind>,
    local: Local,
}

impl Stack {
    /// The driver for `graph`'s components.
    pub fn new(config: &Config, graph: &Graph) -> Self {
        Self {
            kinds: (0..graph.len()).map(|i| graph.kind(i)).collect(),
            local: Local::new(config, graph),
        }
    }

    fn compose_unsupported() -> Failure {
        Failure::new("compose components are not supported by this build")
    }
}

impl Driver for Stack {
    fn observe(&self, ids: &[NodeId]) -> Vec<Observation> {
        ids.iter()
            .map(|&id| match self.kinds[id] {
                Kind::Compose => {
                    Observation::new(Status::Error, Some(Self::compose_unsupported().message))
                }
                _ => self.local.observe(&[id]).pop().unwrap_or_default(),
            })
            .collect()
    }

    fn start(&self, id: NodeId, _cancel: &Cancel) -> Result<(), ActionError> {
        match self.kinds[id] {
            Kind::Compose => Err(ActionError::permanent(Self::compose_unsupported())),
            _ => self.local.start(id),
        }
    }

    fn poll(&self, id: NodeId) -> Poll {
        match self.kinds[id] {
            Kind::Compose => Poll::Failed(Self::compose_unsupported()),
            _ => self.local.poll(id),
        }
    }

    fn poll_interval(&self, id: NodeId) -> Duration {
        match self.kinds[id] {
            Kind::Compose => Duration::from_millis(250),
            _ => Duration::from_millis(10),
        }
    }

    fn stop(
        &self,
        id: NodeId,
        grace: Duration,
        cancel: &Cancel,
    ) -> Result<StopOutcome, ActionError> {
        match self.kinds[id] {
            Kind::Compose => Err(ActionError::permanent(Self::compose_unsupported())),
            _ => self.local.stop(id, grace, cancel),
        }
    }

    fn log_tail(&self, id: NodeId, n: usize) -> Vec<String> {
        match self.kinds[id] {
            Kind::Compose => Vec::new(),
            _ => self.local.log_tail(id, n),
        }
    }
}
