//! The seam between the runner and the outside world.
//!
//! A [`Driver`] knows how to check, start, stop, observe and poll components of some kinds;
//! the runner knows nothing of processes or containers. One driver per kind: [`Local`]
//! (processes and tasks), [`compose::Compose`] (compose services) and [`External`] (things
//! only probed); [`Stack`] dispatches to them by kind and runs host probes for status.
//! Tests give the runner a scripted driver instead.

pub mod compose;
mod external;
mod local;
pub mod probe;
mod stack;
mod types;

pub use external::External;
pub use local::{Local, SETTLE, TAIL_LINES};
pub use stack::Stack;
pub use types::{
    ActionError, BatchKey, Driver, Failure, Health, Observation, Poll, Scope, Status, StopOutcome,
};
