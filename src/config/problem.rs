//! One problem found in a configuration, and where it is.
//!
//! Problems are collected, never thrown one at a time, so that a user sees every mistake
//! of a file in one run. Each carries the key path it is about; the loader turns paths into
//! `file:line:column` (or the name of the environment variable that set the value) when it
//! renders them into [`crate::diagnostics::Located`].

use super::keypath::KeyPath;

/// A problem with a configuration value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The key it is about.
    pub path: KeyPath,
    /// What is wrong, as a lowercase fragment.
    pub message: String,
    /// What to do about it, when there is something to say.
    pub help: Option<String>,
}

impl Problem {
    /// A problem without help.
    pub fn new(path: KeyPath, message: impl Into<String>) -> Self {
        Self {
            path,
            message: message.into(),
            help: None,
        }
    }

    /// Adds help.
    #[must_use]
    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }
}
