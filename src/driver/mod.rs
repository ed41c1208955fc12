//! The seam between the runner and the outside world.
//!
//! A [`Driver`] knows how to check, start, stop, observe and poll components of some kinds;
//! the runner knows nothing of processes or containers. One driver per kind: `Local`
//! (processes and tasks), `Compose` (compose services) and `External` (things only
//! probed); `Stack` dispatches to them by kind and runs host probes for status.
//! Tests give the runner a scripted driver instead.

pub(crate) mod compose;
mod external;
mod local;
pub(crate) mod probe;
mod stack;
mod types;

pub use compose::ComposeRun;
pub(crate) use local::{TAIL_LINES, use_keeper};
pub(crate) use stack::Stack;
pub use types::{
    ActionError, BatchKey, ContainerLog, Driver, Ended, Failure, Health, LogLine, LogQuery,
    LogSource, Observation, Poll, Scope, Status, StopOutcome, Stream, UpOptions,
};
