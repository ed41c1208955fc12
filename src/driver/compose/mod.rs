//! The `compose` component kind: services of Docker Compose projects, one project per
//! repository, and `tta compose`.
//!
//! - [`cli`]: the engine CLI (`docker` or `podman`) and how it spells its options.
//! - [`command`]: which compose command runs (detected once, or chosen), and the exact
//!   command line for a repository.
//! - [`engine`]: one engine: `docker ps` snapshots shared between callers, container logs.
//! - [`project`]: one repository's project: its `up` and `stop` calls.
//! - [`driver`]: the [`Compose`] driver that the runner and `tta status` use.
//! - [`observe`] and [`markers`]: a service's status read from a snapshot.
//! - [`passthrough`]: `tta compose ARGS`, repository by repository.
//! - [`ps`]: the parser of `docker ps` output in every shape it comes in.

pub mod cli;
pub mod command;
mod driver;
pub mod engine;
mod markers;
mod observe;
pub mod passthrough;
pub mod project;
pub mod ps;

pub use cli::EngineCli;
pub use command::{
    ComposeCommand, Flavor, Source, Target, Unavailable, default_project_name, engine_hint,
    engine_unreachable, error_line, is_transient, output_text,
};
pub use driver::{Compose, POLL_INTERVAL, SETTLE};
pub use passthrough::{ComposeRun, Passthrough, Sink, select_repositories};
pub use ps::{Container, State as ContainerState, TEMPLATE, parse as parse_ps};

fn lock<T>(m: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}
