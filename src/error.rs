//! The user-facing error type, its exit codes, and the one place errors are rendered.
//!
//! Every failure a user can cause or meet (bad input, a broken environment) is a variant of
//! [`Error`] with structured fields; bugs may panic, nothing else does. [`Error::exit_code`]
//! maps each to one of the documented [`exit`] codes, and [`render`] prints it once, walking
//! the `source()` chain, with the next thing to try.

use std::fmt::Write as _;
use std::io;
use std::path::PathBuf;

use crate::diagnostics::Located;

/// Documented exit codes.
pub mod exit {
    /// Everything asked for succeeded (and, for `status`, everything is up).
    pub const OK: u8 = 0;
    /// An operation failed, or a component is not up.
    pub const FAILED: u8 = 1;
    /// Usage or configuration error: bad flag, invalid config, unknown component, cycle.
    pub const USAGE: u8 = 2;
    /// Environment error: docker, compose, the engine or a repository path is missing.
    pub const ENVIRONMENT: u8 = 3;
    /// Interrupted by Ctrl-C.
    pub const INTERRUPTED: u8 = 130;
}

/// The run that holds a stack's lock, as its lock file says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LockHolder {
    /// Its pid, when the file holds one.
    pub pid: Option<u32>,
}

impl LockHolder {
    /// The holder a lock file's text names.
    pub fn parse(text: &str) -> Self {
        Self {
            pid: text.trim().parse().ok(),
        }
    }
}

impl std::fmt::Display for LockHolder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.pid {
            Some(p) => write!(f, "pid {p}"),
            None => f.write_str("pid unknown"),
        }
    }
}

/// A failure to show the user.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// No config file was named, and none is in the folder.
    #[error("no config file here: tta looked for ./tta.yaml and ./config/tta.yaml")]
    NoConfig,
    /// A config file named explicitly does not exist.
    #[error("config file {} not found", path.display())]
    ConfigNotFound {
        /// The path given.
        path: PathBuf,
    },
    /// Reading or writing a file failed.
    #[error("cannot {action} {}", path.display())]
    Io {
        /// What was being done ("read", "write", "create").
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// The config file cannot be changed as asked: read-only, changed since it was loaded,
    /// or another edit holds its folder.
    #[error("cannot change {}: {message}", path.display())]
    ConfigWrite {
        /// The file, as named.
        path: PathBuf,
        /// Why.
        message: String,
        /// What to do.
        hint: String,
    },
    /// The config file is not valid YAML.
    #[error("{location}: {message}")]
    ConfigSyntax {
        /// `file:line:column`.
        location: String,
        /// The parser's message.
        message: String,
    },
    /// The configuration has problems.
    #[error("invalid configuration in {source_name} ({} problem{})", problems.len(), if problems.len() == 1 { "" } else { "s" })]
    InvalidConfig {
        /// The file (or "the environment").
        source_name: String,
        /// Every problem, located.
        problems: Vec<Located>,
    },
    /// A component name that is not in the configuration.
    #[error("unknown component `{name}`")]
    UnknownComponent {
        /// The name given.
        name: String,
        /// A close name, if there is one.
        suggestion: Option<String>,
    },
    /// A repository name that is not in the configuration.
    #[error("unknown repository `{name}`")]
    UnknownRepository {
        /// The name given.
        name: String,
        /// The configured names.
        known: Vec<String>,
    },
    /// `config get` of a key that is not set.
    #[error("key `{key}` is not set in the configuration")]
    KeyNotFound {
        /// The key.
        key: String,
    },
    /// A bad key path, value or other usage error.
    #[error("{message}")]
    Usage {
        /// What is wrong.
        message: String,
        /// What to do.
        hint: Option<String>,
    },
    /// A repository folder that does not exist.
    #[error("repository {name} not found at {}", path.display())]
    RepositoryMissing {
        /// The repository.
        name: String,
        /// Where it should be.
        path: PathBuf,
    },
    /// A tool or service the command needs is missing or not answering.
    #[error("{message}")]
    Environment {
        /// What is missing.
        message: String,
        /// What to do.
        hint: Option<String>,
    },
    /// The state directory cannot be used.
    #[error("state directory {}: {message}", path.display())]
    State {
        /// The folder.
        path: PathBuf,
        /// What is wrong.
        message: String,
        /// Why, when an I/O error says.
        #[source]
        source: Option<io::Error>,
    },
    /// Another run holds the state lock and did not let go in time.
    #[error(
        "another tta run ({holder}) is working on this stack and did not finish within {}",
        crate::duration::Human(*waited)
    )]
    Locked {
        /// Who holds it, as its lock file says.
        holder: LockHolder,
        /// How long this run waited.
        waited: std::time::Duration,
    },
    /// Ctrl-C.
    #[error("interrupted")]
    Interrupted,
}

impl Error {
    /// A usage error with a hint.
    pub fn usage(message: impl Into<String>, hint: Option<String>) -> Self {
        Self::Usage {
            message: message.into(),
            hint,
        }
    }

    /// An environment error with a hint.
    pub fn environment(message: impl Into<String>, hint: impl Into<String>) -> Self {
        Self::Environment {
            message: message.into(),
            hint: Some(hint.into()),
        }
    }

    /// An I/O error on a file.
    pub fn io(action: &'static str, path: impl Into<PathBuf>, source: io::Error) -> Self {
        Self::Io {
            action,
            path: path.into(),
            source,
        }
    }

    /// The process exit code for this error.
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::ConfigNotFound { .. }
            | Error::NoConfig
            | Error::ConfigSyntax { .. }
            | Error::InvalidConfig { .. }
            | Error::UnknownComponent { .. }
            | Error::UnknownRepository { .. }
            | Error::KeyNotFound { .. }
            | Error::Usage { .. } => exit::USAGE,
            Error::RepositoryMissing { .. } | Error::Environment { .. } | Error::State { .. } => {
                exit::ENVIRONMENT
            }
            Error::Io { .. } | Error::Locked { .. } | Error::ConfigWrite { .. } => exit::FAILED,
            Error::Interrupted => exit::INTERRUPTED,
        }
    }

    /// The next thing to try, if there is one.
    pub fn hint(&self) -> Option<String> {
        match self {
            Error::NoConfig => Some(
                "`tta init` writes one for the compose projects here, or name one with `-c FILE` (or TTA_CONFIG)".into(),
            ),
            Error::ConfigNotFound { .. } => Some(
                "check the path given with --config or TTA_CONFIG; without either, tta looks for ./tta.yaml then ./config/tta.yaml"
                    .into(),
            ),
            Error::ConfigSyntax { .. } => Some("fix the YAML at that line; `tta config validate` checks it again".into()),
            Error::InvalidConfig { .. } => Some("fix the problems above; `tta config validate` checks again".into()),
            Error::UnknownComponent { suggestion, .. } => Some(match suggestion {
                Some(s) => format!("did you mean `{s}`? `tta status` lists every component"),
                None => "`tta status` lists every component".into(),
            }),
            Error::UnknownRepository { known, .. } => Some(if known.is_empty() {
                "no repositories are configured; add them under `repositories:`".into()
            } else {
                format!("configured: {} (or `all`)", known.join(", "))
            }),
            Error::KeyNotFound { .. } => Some("`tta config show` prints the whole configuration".into()),
            Error::RepositoryMissing { name, .. } => Some(format!(
                "clone it there, or set `repositories.\"{name}\".path` (`tta config set`)"
            )),
            Error::Usage { hint, .. } | Error::Environment { hint, .. } => hint.clone(),
            Error::ConfigWrite { hint, .. } => Some(hint.clone()),
            Error::State { .. } => Some("check the folder's permissions, or set `state_dir` in the config".into()),
            Error::Locked { .. } => Some("wait for it to finish, or raise --timeout".into()),
            Error::Io { .. } | Error::Interrupted => None,
        }
    }
}

/// The result type of the library.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Renders an error for stderr: the message, its causes, every located problem, and a hint.
pub fn render(err: &Error) -> String {
    let mut out = format!("error: {err}");
    let mut source = std::error::Error::source(err);
    while let Some(s) = source {
        let _ = write!(out, "\n  caused by: {s}");
        source = s.source();
    }
    if let Error::InvalidConfig { problems, .. } = err {
        for p in problems {
            let _ = write!(out, "\n  {p}");
        }
    }
    if let Some(h) = err.hint() {
        let _ = write!(out, "\n  hint: {h}");
    }
    out
}

/// The error as JSON, for `--json` runs.
pub fn to_json(err: &Error) -> serde_json::Value {
    let mut v = serde_json::json!({
        "error": {
            "message": err.to_string(),
            "exit_code": err.exit_code(),
        }
    });
    if let Some(h) = err.hint() {
        v["error"]["hint"] = h.into();
    }
    if let Error::InvalidConfig { problems, .. } = err {
        v["error"]["problems"] = serde_json::to_value(problems).unwrap_or_default();
    }
    serde_json::to_value(crate::output::envelope(v)).unwrap_or_default()
}
