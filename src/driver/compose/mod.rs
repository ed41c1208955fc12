//! The `compose` component kind: services of Docker Compose projects, one project per
//! repository, and `tta compose`.
//!
//! - [`cli`]: the engine CLI (`docker` or `podman`) and how it spells its options.
//! - [`endpoint`]: where an engine is, found as the docker CLI finds it.
//! - [`api`]: the Engine API client (the only async code, in a runtime of its own).
//! - [`command`]: which compose command runs (detected once, or chosen), and the exact
//!   command line for a repository.
//! - [`engine`]: one engine: container lists shared between callers, its event stream,
//!   container logs; through the API, or the CLI where the client cannot speak it.
//! - [`events`]: an engine's one event stream (the API's, or `docker events`) and its
//!   subscribers: readiness waits, `status --watch`, `tta up`'s watchers.
//! - [`logs`]: container logs, read and followed one way (the API's, or `docker logs`),
//!   each line with its time and stream.
//! - [`project`]: one repository's project: its `up` call.
//! - [`driver`]: the [`Compose`] driver that the runner and `tta status` use.
//! - [`observe`] and [`markers`]: a service's status and readiness read from a snapshot.
//! - [`monitor`]: for `tta up`, a service's containers watched on its engine's event
//!   stream (started, died, turned unhealthy) and their logs followed with its log
//!   reader; `compose restart` of one service.
//! - [`registry`] and [`leftovers`]: which projects `tta` started, so a moved checkout keeps
//!   its project and `tta stop` finds what no component names any more.
//! - [`passthrough`]: `tta compose ARGS`, repository by repository.
//! - [`ps`]: the parser of `docker ps` output in every shape it comes in.

mod api;
pub(crate) mod cli;
pub(crate) mod command;
mod driver;
pub(crate) mod endpoint;
pub(crate) mod engine;
mod event;
mod events;
mod leftovers;
mod logs;
mod markers;
mod monitor;
mod observe;
pub(crate) mod passthrough;
pub(crate) mod project;
pub(crate) mod ps;
mod registry;

pub(crate) use command::{
    ComposeCommand, engine_hint, engine_unreachable, error_line, output_text,
};
pub(crate) use driver::Compose;
pub use passthrough::ComposeRun;
pub(crate) use passthrough::{Mode, Passthrough, Sink, select_repositories};

fn lock<T>(m: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}
