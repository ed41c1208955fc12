//! The dotted key path parser (`components."tta.dev".path`) and its `Display`.
//!
//! Properties: a parsed path prints to text that parses back to the same path; and any
//! list of non-empty segments (the input split at NUL bytes), printed, parses back to that
//! list, because error messages and `config set` print paths that users type back in.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tta::fuzzing::KeyPath;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(k) = KeyPath::parse(s) {
        let printed = k.to_string();
        assert_eq!(
            KeyPath::parse(&printed).as_ref(),
            Ok(&k),
            "{s:?} printed as {printed:?}"
        );
    }
    let segments: Vec<String> = s.split('\0').map(str::to_owned).collect();
    if segments.iter().all(|x| !x.is_empty()) {
        let k = KeyPath::from(segments);
        let printed = k.to_string();
        assert_eq!(
            KeyPath::parse(&printed).as_ref(),
            Ok(&k),
            "segments printed as {printed:?}"
        );
    }
});
