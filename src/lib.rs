//! `tta` brings a development stack up and down in dependency order: Docker Compose services
//! across several repositories, local processes and one-shot tasks, with readiness probes,
//! retries and per-component reports.
//!
//! The binary is a thin shell over [`main`]; the library exposes the same operations for
//! programs ([`Orchestrator`], [`Settings`]).
//!
//! ```no_run
//! use tta::Orchestrator;
//!
//! let orch = Orchestrator::load(None)?;
//! let results = orch.start_all()?;
//! for (name, ok) in &results {
//!     println!("{name}: {}", if *ok { "✓" } else { "✗" });
//! }
//! # Ok::<(), tta::Error>(())
//! ```

mod app;
mod cancel;
mod cli;
mod commands;
mod compose_file;
pub mod config;
mod diagnostics;
pub mod driver;
mod duration;
pub mod error;
pub mod graph;
mod hash;
mod orchestrator;
mod output;
mod process;
mod report;
pub mod runner;
mod settings;
mod state;
mod supervisor;

pub use app::main;
pub use cancel::{Cancel, CancelReason};
pub use diagnostics::Located;
pub use error::{Error, LockHolder, Result};
pub use orchestrator::{Component, ComponentStatus, LOCK_WAIT, Orchestrator, RunOptions, TaskRun};
pub use settings::Settings;
pub use state::Supervised;

/// Entry points for the fuzz targets (`fuzz/`): not part of the library's API.
#[doc(hidden)]
pub mod fuzzing {
    pub use crate::compose_file::{Service, ServiceDep, interpolate, load_services, parse_dotenv};
    pub use crate::config::keypath::KeyPath;
    pub use crate::config::secrets::mask;
    pub use crate::graph::{Format, render};

    /// `tta config set`'s text edit.
    pub mod edit {
        pub use crate::config::edit::{EditError, set};
    }
    /// `TTA__` overrides.
    pub mod env {
        pub use crate::config::env::{Override, PREFIX, apply};
    }
    /// Reading a parsed document.
    pub mod value {
        pub use crate::config::value::get;
    }
    /// Durations.
    pub mod duration {
        pub use crate::duration::{DurationError, Human, MAX, parse};
    }
}
