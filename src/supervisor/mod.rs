//! `tta up`: the foreground supervisor. It starts the selection as `tta start` does (the
//! same scheduler, probes and events), then stays: it streams every component's output
//! through one printer, watches each running component through the driver (an exit, a
//! container that dies or turns unhealthy), runs liveness probes, restarts by each
//! component's restart policy with exponential backoff, restarts dependents that say
//! `restart: true`, reloads the configuration when it changes, restarts processes whose
//! `watch:` files change, writes what it knows to the state directory for `tta status`,
//! and on Ctrl-C stops what it started.
//!
//! - [`core`]: the loop that owns every component's state.
//! - [`act`]: what a worker does to one component (start, recover, restart, replace,
//!   stop) under the run lock, which `up` holds only while it changes the stack.
//! - [`policy`]: restart policies, backoff with jitter, `max_restarts`.
//! - [`printer`]: whole lines, coloured names, drop-and-count for a slow terminal, JSON.
//! - [`files`]: the kernel's file notifications: local logs, config files, `watch:`.
//! - [`glob`]: `watch:` patterns.
//! - [`world`]: one loaded configuration and what a reload compares.

mod act;
mod core;
mod files;
mod glob;
mod policy;
mod printer;
mod world;

pub(crate) use core::{Finish, Options, supervise};
pub(crate) use printer::{Printer, Style};
pub(crate) use world::World;
