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

pub mod app;
pub mod cancel;
pub mod cli;
pub mod commands;
pub mod compose_file;
pub mod config;
pub mod diagnostics;
pub mod driver;
pub mod duration;
pub mod error;
pub mod graph;
pub mod orchestrator;
pub mod output;
pub mod process;
pub mod report;
pub mod runner;
pub mod settings;
pub mod state;

pub use app::main;
pub use error::{Error, Result};
pub use orchestrator::{Component, ComponentStatus, Orchestrator};
pub use settings::Settings;
