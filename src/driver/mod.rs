//! The seam between the runner and the outside world.
//!
//! A [`Driver`] knows how to start, stop, observe and poll components of some kinds; the
//! runner knows nothing of processes or containers. [`Stack`] dispatches to the real
//! drivers by component kind; tests give the runner a scripted driver instead.

pub mod compose;
pub mod local;
pub mod probe;
mod stack;
mod types;

pub use stack::Stack;
pub use types::{ActionError, Driver, Failure, Health, Observation, Poll, Status, StopOutcome};
