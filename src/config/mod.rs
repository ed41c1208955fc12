//! The configuration file: finding it, parsing it against the schema, environment
//! overrides, cross-checks, and editing it in place. Pure: no processes, no compose files
//! (discovery and the graph come on top, in the `settings` module).

pub(crate) mod edit;
pub(crate) mod effective;
pub(crate) mod env;
pub(crate) mod file;
pub(crate) mod keypath;
pub mod model;
pub(crate) mod parse;
pub(crate) mod problem;
pub(crate) mod schema;
pub(crate) mod secrets;
pub(crate) mod size;
pub(crate) mod source;
pub(crate) mod store;
pub(crate) mod validate;
pub(crate) mod value;

pub(crate) use file::{locate, write_atomic};
pub use model::Config;
