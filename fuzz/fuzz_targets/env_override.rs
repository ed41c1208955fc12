//! `TTA__SECTION__KEY=value` overrides applied to a parsed document (`config::env::apply`),
//! then the whole load with those variables (`Settings::from_text`).
//!
//! Input: a YAML document, then a NUL byte, then `NAME=value` lines. Names get the `TTA__`
//! prefix when they lack it. Property: every override reported as applied can be read back
//! at the key it names.
#![no_main]

use std::path::Path;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use tta::Settings;
use tta::fuzzing::{env, value};
use yaml_serde::Value;

fn base() -> &'static Path {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| tempfile::tempdir().expect("a temporary folder"))
        .path()
}

fuzz_target!(
    init: {
        // SAFETY: set once, before any other thread runs (disables the config cache).
        unsafe { std::env::set_var("TTA_CACHE_DIR", "") };
    },
    |data: &[u8]| {
        let Ok(text) = std::str::from_utf8(data) else {
            return;
        };
        let (doc, vars) = text.split_once('\0').unwrap_or((text, ""));
        let vars: Vec<(String, String)> = vars
            .lines()
            .map(|l| {
                let (k, v) = l.split_once('=').unwrap_or((l, ""));
                let k = if k.starts_with(env::PREFIX) {
                    k.to_owned()
                } else {
                    format!("{}{k}", env::PREFIX)
                };
                (k, v.to_owned())
            })
            .collect();
        let mut root: Value = yaml_serde::from_str(doc).unwrap_or(Value::Null);
        if let Ok(applied) = env::apply(&mut root, vars.clone()) {
            for o in &applied {
                assert!(
                    value::get(&root, &o.path).is_some(),
                    "{} was applied but `{}` is not set",
                    o.var,
                    o.path
                );
            }
        }
        let dir = base();
        if let Err(e) = Settings::from_text(doc.to_owned(), Some(dir.join("tta.yaml")), dir, vars) {
            let _ = tta::error::render(&e);
        }
    }
);
