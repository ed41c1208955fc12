//! What the runner tells the user about, as it happens. Reporters (progress lines on a
//! terminal, plain lines in CI, nothing for `--json`) consume the same events.

use std::time::Duration;

use super::outcome::ComponentResult;
use crate::driver::Failure;
use crate::graph::NodeId;

/// Something that happened during a run.
#[derive(Debug, Clone)]
pub enum Event {
    /// A component waits for these dependencies.
    Waiting {
        /// The component.
        id: NodeId,
        /// What it waits for.
        on: Vec<NodeId>,
    },
    /// Its start action begins (attempt 1, 2, ...).
    Starting {
        /// The component.
        id: NodeId,
        /// Which attempt.
        attempt: u32,
    },
    /// A transient failure; another attempt follows after `delay`.
    Retrying {
        /// The component.
        id: NodeId,
        /// The attempt that follows.
        attempt: u32,
        /// The wait before it.
        delay: Duration,
        /// What failed.
        failure: Failure,
    },
    /// Started; waiting for it to become ready.
    Probing {
        /// The component.
        id: NodeId,
        /// What it waits for.
        what: String,
    },
    /// It runs as configured before: it is stopped, to start again as configured now.
    Replacing {
        /// The component.
        id: NodeId,
    },
    /// Its stop action begins.
    Stopping {
        /// The component.
        id: NodeId,
    },
    /// The component is done, one way or another.
    Finished(ComponentResult),
}

/// Consumes events.
pub trait Reporter: Send + Sync {
    /// Called for each event, from any thread.
    fn event(&self, event: &Event);
}

/// A reporter that ignores everything.
#[derive(Debug, Default, Clone, Copy)]
pub struct NullReporter;

impl Reporter for NullReporter {
    fn event(&self, _: &Event) {}
}
