//! Durations as written in configuration files and on the command line.
//!
//! A duration is a sequence of `<integer><unit>` parts, such as `500ms`, `30s`, `2m` or
//! `1m30s`. Units: `ms`, `s`, `m`, `h`. A bare number is rejected on purpose, because `30`
//! could mean seconds or milliseconds; the error says how to write it.

use std::fmt;
use std::time::Duration;

/// Why a duration string could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DurationError {
    /// The string was empty.
    #[error("empty duration; write e.g. `30s`, `500ms` or `2m`")]
    Empty,
    /// A number without a unit.
    #[error("`{0}` has no unit; write `{0}s` for seconds or `{0}ms` for milliseconds")]
    MissingUnit(String),
    /// Something that is not `<number><unit>`.
    #[error("`{0}` is not a duration; write e.g. `30s`, `500ms`, `2m` or `1m30s`")]
    Invalid(String),
    /// A unit other than ms, s, m, h.
    #[error("unknown unit `{unit}` in `{input}`; use ms, s, m or h")]
    UnknownUnit {
        /// The whole input.
        input: String,
        /// The unit found.
        unit: String,
    },
    /// The value does not fit.
    #[error("`{0}` is too long; the largest duration is 10000h")]
    Overflow(String),
}

/// The largest duration accepted anywhere (a little over a year): larger values are typos.
pub const MAX: Duration = Duration::from_secs(10_000 * 3600);

/// Parses `500ms`, `30s`, `2m`, `1h`, `1m30s`.
pub fn parse(input: &str) -> Result<Duration, DurationError> {
    let s = input.trim();
    if s.is_empty() {
        return Err(DurationError::Empty);
    }
    if s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(DurationError::MissingUnit(s.to_owned()));
    }
    let mut total = Duration::ZERO;
    let mut rest = s;
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return Err(DurationError::Invalid(s.to_owned()));
        }
        let (number, tail) = rest.split_at(digits);
        let unit_len = tail.bytes().take_while(u8::is_ascii_alphabetic).count();
        if unit_len == 0 {
            return Err(if tail.is_empty() {
                DurationError::MissingUnit(s.to_owned())
            } else {
                DurationError::Invalid(s.to_owned())
            });
        }
        let (unit, tail) = tail.split_at(unit_len);
        let n: u64 = number
            .parse()
            .map_err(|_| DurationError::Overflow(s.to_owned()))?;
        let millis_per = match unit {
            "ms" => 1,
            "s" => 1_000,
            "m" => 60_000,
            "h" => 3_600_000,
            _ => {
                return Err(DurationError::UnknownUnit {
                    input: s.to_owned(),
                    unit: unit.to_owned(),
                });
            }
        };
        let part = n
            .checked_mul(millis_per)
            .ok_or_else(|| DurationError::Overflow(s.to_owned()))?;
        total = total
            .checked_add(Duration::from_millis(part))
            .ok_or_else(|| DurationError::Overflow(s.to_owned()))?;
        if total > MAX {
            return Err(DurationError::Overflow(s.to_owned()));
        }
        rest = tail;
    }
    Ok(total)
}

/// A duration printed the way it is written in config files (`1m30s`, `500ms`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Human(pub Duration);

impl fmt::Display for Human {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ms = self.0.as_millis();
        if ms == 0 {
            return f.write_str("0s");
        }
        let (h, m, s, rest) = (
            ms / 3_600_000,
            ms / 60_000 % 60,
            ms / 1_000 % 60,
            ms % 1_000,
        );
        if h > 0 {
            write!(f, "{h}h")?;
        }
        if m > 0 {
            write!(f, "{m}m")?;
        }
        if s > 0 {
            write!(f, "{s}s")?;
        }
        if rest > 0 {
            write!(f, "{rest}ms")?;
        }
        Ok(())
    }
}

/// Seconds with one decimal, for progress and summaries (`1.2 s`).
pub(crate) fn seconds(d: Duration) -> String {
    format!("{:.1} s", d.as_secs_f64())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_units_and_compounds() {
        assert_eq!(parse("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse("1h"), Ok(Duration::from_secs(3600)));
        assert_eq!(parse("1m30s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse(" 0s "), Ok(Duration::ZERO));
    }

    #[test]
    fn rejects_bad_input_with_a_reason() {
        assert_eq!(parse(""), Err(DurationError::Empty));
        assert_eq!(parse("30"), Err(DurationError::MissingUnit("30".into())));
        assert!(matches!(
            parse("5x"),
            Err(DurationError::UnknownUnit { .. })
        ));
        assert!(matches!(parse("s"), Err(DurationError::Invalid(_))));
        assert!(matches!(parse("1.5s"), Err(DurationError::Invalid(_))));
        assert!(matches!(parse("-1s"), Err(DurationError::Invalid(_))));
        assert!(matches!(
            parse("99999999999999999999s"),
            Err(DurationError::Overflow(_))
        ));
        assert!(matches!(
            parse("18446744073709551615h"),
            Err(DurationError::Overflow(_))
        ));
        assert!(matches!(parse("10001h"), Err(DurationError::Overflow(_))));
    }

    #[test]
    fn prints_the_way_it_is_written() {
        for s in ["500ms", "30s", "2m", "1h", "1m30s", "1h2m3s4ms"] {
            assert_eq!(Human(parse(s).unwrap()).to_string(), s);
        }
    }
}
