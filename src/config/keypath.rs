//! Dotted key paths such as `components."tta.dev_neo4j".depends_on`.
//!
//! A path is a list of segments separated by `.`. A segment that itself contains a dot (a
//! repository called `tta.dev`) is written in double or single quotes; inside double quotes
//! `\"` and `\\` escape. Paths are used by `tta config get/set`, by error locations and by
//! the source index that maps a path to its line and column.

use std::fmt;

/// A parsed key path.
#[derive(
    Debug,
    Clone,
    PartialEq,
    Eq,
    Hash,
    Default,
    PartialOrd,
    Ord,
    serde::Serialize,
    serde::Deserialize,
)]
pub struct KeyPath(Vec<String>);

/// Why a key path could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid key path `{input}`: {reason}")]
pub struct KeyPathError {
    /// The text given.
    pub input: String,
    /// What is wrong with it.
    pub reason: &'static str,
}

impl KeyPath {
    /// The empty path (the document root).
    pub fn root() -> Self {
        Self(Vec::new())
    }

    /// Parses a dotted path.
    pub fn parse(input: &str) -> Result<Self, KeyPathError> {
        let err = |reason| KeyPathError {
            input: input.to_owned(),
            reason,
        };
        if input.trim().is_empty() {
            return Err(err("it is empty; write e.g. `defaults.jobs`"));
        }
        let mut segments = Vec::new();
        let mut chars = input.chars().peekable();
        loop {
            let mut segment = String::new();
            match chars.peek() {
                Some(&q @ ('"' | '\'')) => {
                    chars.next();
                    let mut closed = false;
                    while let Some(c) = chars.next() {
                        if c == q {
                            closed = true;
                            break;
                        }
                        if c == '\\' && q == '"' {
                            match chars.next() {
                                Some(e @ ('"' | '\\')) => segment.push(e),
                                _ => return Err(err("`\\` in quotes escapes only `\"` or `\\`")),
                            }
                        } else {
                            segment.push(c);
                        }
                    }
                    if !closed {
                        return Err(err("a quote is not closed"));
                    }
                    if !matches!(chars.peek(), None | Some('.')) {
                        return Err(err("a quoted segment must be followed by `.` or the end"));
                    }
                }
                _ => {
                    while let Some(&c) = chars.peek() {
                        if c == '.' {
                            break;
                        }
                        if c == '"' || c == '\'' {
                            return Err(err("quote a whole segment, e.g. `components.\"a.b\"`"));
                        }
                        segment.push(c);
                        chars.next();
                    }
                }
            }
            if segment.is_empty() {
                return Err(err(
                    "it has an empty segment (two dots, or a dot at an end)",
                ));
            }
            segments.push(segment);
            match chars.next() {
                None => break,
                Some('.') => {}
                Some(_) => unreachable!("segments end at a dot or the end"),
            }
        }
        Ok(Self(segments))
    }

    /// The segments.
    pub fn segments(&self) -> &[String] {
        &self.0
    }

    /// True for the root path.
    pub fn is_root(&self) -> bool {
        self.0.is_empty()
    }

    /// A new path with one more segment.
    #[must_use]
    pub fn join(&self, segment: impl Into<String>) -> Self {
        let mut v = self.0.clone();
        v.push(segment.into());
        Self(v)
    }

    /// The parent path, or `None` at the root.
    pub fn parent(&self) -> Option<Self> {
        (!self.0.is_empty()).then(|| Self(self.0[..self.0.len() - 1].to_vec()))
    }

    /// The last segment.
    pub fn last(&self) -> Option<&str> {
        self.0.last().map(String::as_str)
    }
}

impl From<Vec<String>> for KeyPath {
    fn from(v: Vec<String>) -> Self {
        Self(v)
    }
}

impl fmt::Display for KeyPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, s) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(".")?;
            }
            // Whitespace too: a bare segment of only whitespace would parse as empty.
            if s.is_empty() || s.contains(['.', '"', '\'', '\\']) || s.contains(char::is_whitespace)
            {
                write!(f, "\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))?;
            } else {
                f.write_str(s)?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Vec<String> {
        KeyPath::parse(s).unwrap().0
    }

    #[test]
    fn plain_and_quoted_segments() {
        assert_eq!(p("defaults.jobs"), ["defaults", "jobs"]);
        assert_eq!(
            p(r#"components."tta.dev_neo4j".depends_on"#),
            ["components", "tta.dev_neo4j", "depends_on"]
        );
        assert_eq!(
            p("repositories.'tta.dev'.path"),
            ["repositories", "tta.dev", "path"]
        );
        assert_eq!(p(r#""a\"b""#), ["a\"b"]);
    }

    #[test]
    fn bad_paths_say_why() {
        for bad in ["", "a..b", ".a", "a.", "\"a", "a\"b\"", "\"a\"b", r#""\x""#] {
            assert!(KeyPath::parse(bad).is_err(), "{bad} should fail");
        }
    }

    #[test]
    fn display_round_trips() {
        for s in [
            r#"components."tta.dev".x"#,
            "a.b.c",
            r#""a\"b".c"#,
            "\"\n\"",
            "\"\t\".x",
        ] {
            let k = KeyPath::parse(s).unwrap();
            assert_eq!(KeyPath::parse(&k.to_string()).unwrap(), k);
        }
    }
}
