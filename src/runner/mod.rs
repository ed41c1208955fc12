//! The runner: starts and stops components in dependency order, as parallel as the graph
//! and `jobs` allow, with readiness waits, retries, timeouts and cancellation.
//!
//! It is the only part of `tta` that waits on threads, timers and signals. It talks to the
//! world through a [`crate::driver::Driver`] and to the user through [`Event`]s; both are
//! replaceable, so the scheduler is tested against a scripted driver without processes.

mod clock;
mod events;
mod outcome;
mod policy;
mod readiness;
mod shared;
pub(crate) mod signals;
mod start;
mod stop;
mod worker;

pub use crate::cancel::{Cancel, CancelReason};
pub use events::{Event, NullReporter, Reporter};
pub use outcome::{Action, ComponentResult, EnvironmentProblem, Leftover, Outcome, RunReport};
pub(crate) use policy::ComponentPolicy;
pub(crate) use start::{StartOptions, start};
pub(crate) use stop::{StopOptions, stop};

#[cfg(test)]
mod tests;
