//! A stable hash: FNV-1a, 64 bits. Unlike `DefaultHasher` it is the same on every run, Rust
//! version and platform, so what it derives (spec fingerprints, default compose project
//! names, a component's colour) stays the same from one `tta` to the next.

/// FNV-1a of `bytes`.
pub(crate) fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// A fingerprint of `text`: its hash in 16 hex digits.
pub(crate) fn fingerprint(text: &str) -> String {
    format!("{:016x}", fnv1a(text.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_values() {
        // The FNV-1a test vectors.
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fingerprint("foobar"), "85944171f73967e8");
    }
}
