//! The configuration file: finding it, parsing it against the schema, environment
//! overrides, cross-checks, and editing it in place. Pure: no processes, no compose files
//! (discovery and the graph come on top, in [`crate::settings`]).

pub mod edit;
pub mod env;
pub mod file;
pub mod keypath;
pub mod model;
pub mod parse;
pub mod problem;
pub mod schema;
pub mod secrets;
pub mod source;
pub mod validate;
pub mod value;

pub use file::{locate, write_atomic};
pub use model::Config;
