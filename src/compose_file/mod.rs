//! Reading compose files the way Compose does: which files a repository has, their YAML
//! (anchors, merge keys, `extends`, `include`, `!reset`/`!override`), interpolation with
//! the project's `.env`, and the services they define.
//!
//! It only reads files (no `docker` call) and never panics on bad input: every problem is a
//! message naming the file (and `line:column` for YAML errors). Discovery
//! ([`crate::settings`]) turns the services into components; the compose driver uses the
//! file list for its `-f` options.

mod files;
mod interpolate;
mod loader;
mod read;
mod services;

pub(crate) use files::{ProjectEnv, compose_files, project_env, uses_external_network};
pub(crate) use interpolate::{Vars, interpolate_reporting};
pub use interpolate::{interpolate, parse_dotenv};
pub(crate) use read::read_small;
pub use services::{Service, ServiceDep, load_services};
