//! One problem found in a configuration, and where it is.
//!
//! Problems are collected, never thrown one at a time, so that a user sees every mistake
//! of a file in one run. Each carries the key path it is about; the loader turns paths into
//! `file:line:column` (or the name of the environment variable that set the value) when it
//! renders them.

use std::fmt;

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

/// A problem with its location resolved for display.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Located {
    /// `file:line:column`, an environment variable, or the key path.
    pub location: String,
    /// The key path.
    pub key: String,
    /// What is wrong.
    pub message: String,
    /// What to do about it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
}

impl fmt::Display for Located {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: ", self.location)?;
        if !self.key.is_empty() && !self.location.ends_with(&self.key) {
            write!(f, "`{}`: ", self.key)?;
        }
        f.write_str(&self.message)?;
        if let Some(h) = &self.help {
            write!(f, " ({h})")?;
        }
        Ok(())
    }
}

/// "did you mean `x`?" for the closest of `candidates`, if one is close enough.
pub fn did_you_mean<'a>(
    input: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<String> {
    let lower = input.to_ascii_lowercase();
    candidates
        .into_iter()
        .map(|c| (strsim::jaro_winkler(&lower, &c.to_ascii_lowercase()), c))
        .filter(|(score, _)| *score >= 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| format!("did you mean `{c}`?"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_close_names_only() {
        assert_eq!(
            did_you_mean("depend_on", ["depends_on", "kind"]),
            Some("did you mean `depends_on`?".into())
        );
        assert_eq!(did_you_mean("zzz", ["depends_on", "kind"]), None);
    }
}
