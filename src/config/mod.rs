//! Configuration: finding the file, parsing and validating it, environment overrides, and
//! editing it in place (the spec's `TTAConfig`).

pub mod cache;
pub mod duration;
pub mod edit;
pub mod env;
pub mod keypath;
mod load;
pub mod model;
pub mod parse;
pub mod problem;
pub mod schema;
pub mod secrets;
pub mod source;
pub mod validate;
pub mod value;

pub use load::{Settings, locate, write_atomic};
pub use model::Config;
