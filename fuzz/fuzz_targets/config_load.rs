//! Config loading: YAML syntax, environment overrides, the schema walk, compose discovery,
//! cross-references and the graph. Every input must give settings or an error, never a
//! panic; settings that load must render in every graph format, and an error must render.
//!
//! Input: the text of a `tta.yaml` (inputs that are not UTF-8 are skipped: the file reader
//! rejects them before this point, which `tests/integration/hostile.rs` covers).
#![no_main]

use std::path::Path;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use tta::Settings;
use tta::fuzzing::{Format, render};

/// The folder the fuzzed file pretends to live in (relative paths resolve against it).
fn base() -> &'static Path {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| tempfile::tempdir().expect("a temporary folder"))
        .path()
}

fuzz_target!(
    init: {
        // SAFETY: set once, before any other thread runs. An empty cache dir disables the
        // cache, so every input takes the full parsing path and nothing is written.
        unsafe { std::env::set_var("TTA_CACHE_DIR", "") };
    },
    |data: &[u8]| {
        let Ok(text) = std::str::from_utf8(data) else {
            return;
        };
        let dir = base();
        match Settings::from_text(text.to_owned(), Some(dir.join("tta.yaml")), dir, []) {
            Ok(settings) => {
                let g = settings.graph();
                for f in [Format::Tree, Format::Dot, Format::Mermaid, Format::Json] {
                    let _ = render(g, f);
                }
                let all = g.select(&[]).expect("selecting everything never fails");
                let waves = g.waves(&all);
                assert_eq!(waves.iter().map(Vec::len).sum::<usize>(), g.len());
                let _ = tta::fuzzing::mask(settings.value());
            }
            Err(e) => {
                let _ = tta::error::render(&e);
                let _ = tta::error::to_json(&e);
            }
        }
    }
);
