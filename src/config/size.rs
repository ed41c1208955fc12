//! Sizes as written in the configuration: `10MiB`, `512KiB`, `1GB`, `4096B`.
//!
//! Binary units (`KiB`, `MiB`, `GiB`, `TiB`) count in 1024s and decimal units (`KB`, `MB`,
//! `GB`, `TB`) in 1000s, as `ls -h --si` and disk vendors do; `B` is bytes. A bare number
//! is refused, as for durations: `10` could mean bytes or megabytes. A fraction
//! (`1.5MiB`) is accepted and rounded down to whole bytes.

use std::fmt;

/// Why a size could not be parsed. The text is a lowercase fragment with the fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum SizeError {
    /// Nothing was written.
    #[error("empty size; write e.g. `10MiB`, `512KiB` or `1GB`")]
    Empty,
    /// A number without a unit.
    #[error("`{0}` has no unit; write `{0}MiB` for mebibytes or `{0}B` for bytes")]
    MissingUnit(String),
    /// Not `<number><unit>`.
    #[error("`{0}` is not a size; write e.g. `10MiB`, `512KiB` or `1GB`")]
    Invalid(String),
    /// A unit that is not one of ours.
    #[error(
        "unknown unit `{unit}` in `{input}`; use B, KiB, MiB, GiB, TiB (1024s) or KB, MB, GB, TB (1000s)"
    )]
    UnknownUnit {
        /// The whole input.
        input: String,
        /// The unit found.
        unit: String,
    },
    /// Larger than a `u64` of bytes.
    #[error("`{0}` is too large")]
    Overflow(String),
}

const UNITS: [(&str, u64); 9] = [
    ("B", 1),
    ("KiB", 1 << 10),
    ("MiB", 1 << 20),
    ("GiB", 1 << 30),
    ("TiB", 1 << 40),
    ("KB", 1_000),
    ("MB", 1_000_000),
    ("GB", 1_000_000_000),
    ("TB", 1_000_000_000_000),
];

/// Parses a size into bytes.
pub(crate) fn parse(input: &str) -> Result<u64, SizeError> {
    let s = input.trim();
    if s.is_empty() {
        return Err(SizeError::Empty);
    }
    let number_len = s
        .bytes()
        .take_while(|b| b.is_ascii_digit() || *b == b'.')
        .count();
    let (number, unit) = s.split_at(number_len);
    let unit = unit.trim_start();
    if number.is_empty() || number.starts_with('.') || number.ends_with('.') {
        return Err(SizeError::Invalid(s.to_owned()));
    }
    if unit.is_empty() {
        return Err(SizeError::MissingUnit(s.to_owned()));
    }
    let Some(&(_, per)) = UNITS.iter().find(|(u, _)| *u == unit) else {
        return Err(if unit.bytes().all(|b| b.is_ascii_alphabetic()) {
            SizeError::UnknownUnit {
                input: s.to_owned(),
                unit: unit.to_owned(),
            }
        } else {
            SizeError::Invalid(s.to_owned())
        });
    };
    let (whole, frac) = number.split_once('.').unwrap_or((number, ""));
    if frac.contains('.') {
        return Err(SizeError::Invalid(s.to_owned()));
    }
    let overflow = || SizeError::Overflow(s.to_owned());
    let whole: u64 = whole.parse().map_err(|_| overflow())?;
    let mut bytes = whole.checked_mul(per).ok_or_else(overflow)?;
    // The fraction, digit by digit, in u128 so that no digit is lost before rounding down.
    let mut scale: u128 = 1;
    let mut numerator: u128 = 0;
    for d in frac.bytes().take(18) {
        scale *= 10;
        numerator = numerator * 10 + u128::from(d - b'0');
    }
    let extra = u64::try_from(numerator * u128::from(per) / scale).map_err(|_| overflow())?;
    bytes = bytes.checked_add(extra).ok_or_else(overflow)?;
    Ok(bytes)
}

/// A size as people read it: the largest binary unit that divides it (`10MiB`), else bytes.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Human(pub u64);

impl fmt::Display for Human {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.0;
        for (unit, per) in UNITS[1..5].iter().rev() {
            if n != 0 && n.is_multiple_of(*per) {
                return write!(f, "{}{unit}", n / per);
            }
        }
        write!(f, "{n}B")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_and_fractions() {
        assert_eq!(parse("10MiB"), Ok(10 << 20));
        assert_eq!(parse("512KiB"), Ok(512 << 10));
        assert_eq!(parse("1GB"), Ok(1_000_000_000));
        assert_eq!(parse("4096B"), Ok(4096));
        assert_eq!(parse(" 2 MiB "), Ok(2 << 20));
        assert_eq!(parse("1.5KiB"), Ok(1536));
        assert_eq!(parse("0.1B"), Ok(0));
        assert_eq!(parse(&format!("{}B", u64::MAX)), Ok(u64::MAX));
    }

    #[test]
    fn errors_say_how_to_write_it() {
        assert_eq!(parse(""), Err(SizeError::Empty));
        assert_eq!(parse("10"), Err(SizeError::MissingUnit("10".into())));
        assert!(matches!(parse("10mb"), Err(SizeError::UnknownUnit { .. })));
        assert!(matches!(parse("10 MiB/s"), Err(SizeError::Invalid(_))));
        assert!(matches!(parse("MiB"), Err(SizeError::Invalid(_))));
        assert!(matches!(parse("1.2.3MiB"), Err(SizeError::Invalid(_))));
        assert!(matches!(parse("-1MiB"), Err(SizeError::Invalid(_))));
        assert!(matches!(
            parse("99999999999TiB"),
            Err(SizeError::Overflow(_))
        ));
        assert!(matches!(
            parse("184467440737095516160B"),
            Err(SizeError::Overflow(_))
        ));
        assert!(
            parse("10mb")
                .unwrap_err()
                .to_string()
                .contains("use B, KiB, MiB")
        );
    }

    #[test]
    fn human_round_trips() {
        for n in [1u64, 1023, 1024, 10 << 20, 3 << 30, 1_000_000, u64::MAX] {
            assert_eq!(parse(&Human(n).to_string()), Ok(n), "{n}");
        }
        assert_eq!(Human(10 << 20).to_string(), "10MiB");
        assert_eq!(Human(1500).to_string(), "1500B");
    }
}
