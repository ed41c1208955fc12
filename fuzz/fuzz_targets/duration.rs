//! Duration parsing (`500ms`, `1m30s`). Property: a parsed duration is at most
//! `duration::MAX`, and printing it the way config files write it parses back to it.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tta::fuzzing::duration::{Human, MAX, parse};

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    match parse(s) {
        Ok(d) => {
            assert!(d <= MAX, "{s:?} gave {d:?}, over the maximum");
            let printed = Human(d).to_string();
            assert_eq!(parse(&printed), Ok(d), "{s:?} printed as {printed:?}");
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }
});
