//! `tta config set`'s text edit (`config::edit::set`).
//!
//! Input: the file's text, NUL, a dotted key, NUL, the new value as YAML. Property: when the
//! edit succeeds, the edited text loads (merge keys applied, as `tta` loads a file) to the
//! old configuration with exactly that key changed (computed here independently of the edit
//! code), so `config set` can never silently change another key or lose one.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tta::fuzzing::edit;
use tta::fuzzing::KeyPath;
use yaml_serde::{Mapping, Value};

/// Sets `path` in `root`, creating mappings; `None` where a non-mapping is in the way
/// (sequence items are addressed by index, as `config set` does).
fn expected(mut root: Value, path: &[String], new: Value) -> Option<Value> {
    fn walk(cur: &mut Value, path: &[String], new: Value) -> Option<()> {
        let Some((first, rest)) = path.split_first() else {
            *cur = new;
            return Some(());
        };
        if cur.is_null() {
            *cur = Value::Mapping(Mapping::new());
        }
        let next = match cur {
            Value::Mapping(m) => m.entry(Value::String(first.clone())).or_insert(Value::Null),
            Value::Sequence(s) => s.get_mut(first.parse::<usize>().ok()?)?,
            _ => return None,
        };
        walk(next, rest, new)
    }
    walk(&mut root, path, new)?;
    Some(root)
}

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    let mut parts = s.splitn(3, '\0');
    let (Some(text), Some(key), Some(raw)) = (parts.next(), parts.next(), parts.next()) else {
        return;
    };
    let Ok(path) = KeyPath::parse(key) else {
        return;
    };
    let Ok(new) = yaml_serde::from_str::<Value>(raw) else {
        return;
    };
    let Ok(edited) = edit::set(text, &path, &new) else {
        return;
    };
    let mut old: Value = if text.trim().is_empty() {
        Value::Null
    } else {
        yaml_serde::from_str(text).expect("an edit succeeded, so the old text parsed")
    };
    old.apply_merge().expect("an edit succeeded, so the old text loaded");
    let mut got: Value = yaml_serde::from_str(&edited)
        .unwrap_or_else(|e| panic!("the edited text does not parse ({e}):\n{edited}"));
    got.apply_merge()
        .unwrap_or_else(|e| panic!("the edited text does not load ({e}):\n{edited}"));
    let want = expected(old, path.segments(), new)
        .unwrap_or_else(|| panic!("an edit succeeded under a non-mapping:\n{edited}"));
    assert_eq!(got, want, "the edit changed more than `{path}`:\n{edited}");
});
