//! One module per subcommand: each resolves its arguments against the configuration,
//! calls into the library, and renders the result.

pub(crate) mod compose;
pub(crate) mod config;
pub(crate) mod doctor;
pub(crate) mod down;
pub(crate) mod generate;
pub(crate) mod graph;
pub(crate) mod init;
pub(crate) mod keep;
pub(crate) mod lifecycle;
pub(crate) mod logs;
pub(crate) mod run;
pub(crate) mod status;
pub(crate) mod up;
