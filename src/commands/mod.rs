//! One module per subcommand: each resolves its arguments against the configuration,
//! calls into the library, and renders the result.

pub mod compose;
pub mod config;
pub mod doctor;
pub mod generate;
pub mod graph;
pub mod lifecycle;
pub mod logs;
pub mod status;
