//! The state directory: the run lock, records of started processes and tasks, and logs.
//!
//! Layout under `state_dir`:
//! - `lock`: held (flock) by the run that starts or stops components, so two `tta` runs on
//!   one stack never start a component twice; it holds the holder's pid for messages.
//! - `run/<name>.json`: what a later `tta` needs to find a process or a task's result: pid,
//!   process group, the kernel's start time of the pid (so a reused pid is never mistaken
//!   for ours), when it started, and for tasks the exit code.
//! - `logs/<name>.log`: the component's stdout and stderr, appended.
//! - `up.json`: while `tta up` runs, what it knows of each component it supervises
//!   (restart counts, last exit code, a planned restart, given up), for `tta status`.
//!
//! Records are written atomically; a record that is unreadable (truncated, garbage) is
//! treated as absent and reported, never trusted.

mod dir;
pub(crate) mod journal;
pub(crate) mod log;
mod supervision;

pub(crate) use dir::{LastFailure, Record, RunLock, StateDir, now_epoch};
pub use supervision::Supervised;
pub(crate) use supervision::UpFile;
