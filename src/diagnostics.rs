//! What every layer uses to tell a user about a mistake: a problem located for display
//! ([`Located`]) and the closest known name to a typo ([`closest`]).
//!
//! This is a leaf: it imports nothing of the crate, so the configuration, the graph and the
//! error type can all use it without an import running back up.

use std::fmt;

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

/// The candidate closest to `input`, if one is close enough to be what the user meant
/// (Jaro-Winkler similarity of at least 0.8, ignoring case).
pub(crate) fn closest<'a>(
    input: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let lower = input.to_ascii_lowercase();
    candidates
        .into_iter()
        .map(|c| (strsim::jaro_winkler(&lower, &c.to_ascii_lowercase()), c))
        .filter(|(score, _)| *score >= 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

/// "did you mean `x`?" for the [`closest`] candidate, as the help of a problem.
pub(crate) fn did_you_mean<'a>(
    input: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<String> {
    closest(input, candidates).map(|c| format!("did you mean `{c}`?"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_close_names_only() {
        assert_eq!(
            closest("depend_on", ["depends_on", "kind"]),
            Some("depends_on")
        );
        assert_eq!(
            did_you_mean("depend_on", ["depends_on", "kind"]),
            Some("did you mean `depends_on`?".into())
        );
        assert_eq!(closest("zzz", ["depends_on", "kind"]), None);
    }
}
