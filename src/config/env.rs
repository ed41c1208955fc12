//! Environment overrides: `TTA__SECTION__KEY=value` sets `section.key`.
//!
//! Levels are separated by a double underscore, so keys that contain `_` (`start_timeout`)
//! work. Segments match existing keys case-insensitively, with `.` and `-` in a key matching
//! `_` in the variable (`TTA__REPOSITORIES__TTA_DEV__PATH` sets `repositories."tta.dev".path`).
//! The value is parsed as YAML, so `true`, `7688`, `5s` and `[a, b]` keep their types. A
//! variable that matches no schema field is an error naming it; a stray variable is never
//! silently injected. Overrides change the effective configuration only, never the file.

use yaml_serde::{Mapping, Value};

use super::keypath::KeyPath;
use super::parse::{SchemaKeys, schema_keys};
use crate::diagnostics::{Located, did_you_mean};

/// The prefix of override variables.
pub const PREFIX: &str = "TTA__";

/// One applied override.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Override {
    /// The variable's name.
    pub var: String,
    /// The key it set.
    pub path: KeyPath,
}

fn normalize(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '.' | '-' => '_',
            c => c.to_ascii_lowercase(),
        })
        .collect()
}

/// The process environment as strings. `std::env::vars` panics on a variable that is not
/// UTF-8 (any variable, not only ours); here its bytes become U+FFFD instead, so an
/// unrelated variable is harmless and a bad override is reported by name.
pub(crate) fn process_vars() -> impl Iterator<Item = (String, String)> {
    std::env::vars_os().map(|(k, v)| {
        (
            k.to_string_lossy().into_owned(),
            v.to_string_lossy().into_owned(),
        )
    })
}

/// Applies every `TTA__` variable of `vars` to `root`, in name order.
pub fn apply(
    root: &mut Value,
    vars: impl IntoIterator<Item = (String, String)>,
) -> Result<Vec<Override>, Vec<Located>> {
    let mut vars: Vec<(String, String)> = vars
        .into_iter()
        .filter(|(k, _)| k.starts_with(PREFIX))
        .collect();
    vars.sort();
    let mut applied = Vec::new();
    let mut problems = Vec::new();
    for (var, raw) in vars {
        match apply_one(root, &var, &raw) {
            Ok(path) => applied.push(Override { var, path }),
            Err((key, message, help)) => problems.push(Located {
                location: format!("{var} (environment)"),
                key,
                message,
                help,
            }),
        }
    }
    if problems.is_empty() {
        Ok(applied)
    } else {
        Err(problems)
    }
}

type Fail = (String, String, Option<String>);

/// An override's value, parsed as YAML.
fn parse_value(raw: &str) -> Result<Value, Fail> {
    if let Err(e) = super::source::check_depth(raw) {
        return Err((
            String::new(),
            format!("the value is not valid YAML: {}", e.message),
            None,
        ));
    }
    yaml_serde::from_str(raw).map_err(|e| {
        (
            String::new(),
            format!("the value is not valid YAML: {e}"),
            Some("quote strings that contain `:` or `#`".into()),
        )
    })
}

/// The key of `map` (under `path`) that a variable's segment names: an existing key that
/// matches it, or a key the schema allows there. A segment that matches two existing keys
/// (`my-api` and `my_api`) names neither unless it spells one of them exactly.
fn resolve_key(map: &Mapping, path: &KeyPath, seg: &str) -> Result<String, Fail> {
    let wanted = normalize(seg);
    let existing: Vec<&str> = map
        .keys()
        .filter_map(Value::as_str)
        .filter(|k| normalize(k) == wanted)
        .collect();
    match existing.as_slice() {
        [one] => return Ok((*one).to_owned()),
        [] => {}
        many => {
            if let Some(exact) = many.iter().find(|k| **k == seg) {
                return Ok((*exact).to_owned());
            }
            let names: Vec<String> = many.iter().map(|k| format!("`{k}`")).collect();
            return Err((
                path.to_string(),
                format!("`{seg}` matches {}", names.join(" and ")),
                Some(format!(
                    "spell the segment exactly as the key (e.g. `TTA__...__{}__...`, set with `env`), or rename one of them",
                    many[0]
                )),
            ));
        }
    }
    match schema_keys(path.segments()) {
        SchemaKeys::Fixed(keys) => {
            if let Some(k) = keys.iter().find(|k| normalize(k) == wanted) {
                return Ok((*k).to_owned());
            }
            let help = did_you_mean(&wanted, keys.iter().copied())
                .unwrap_or_else(|| format!("keys here: {}", keys.join(", ")));
            let under = if path.is_root() {
                "the top level".into()
            } else {
                format!("`{path}`")
            };
            Err((
                path.to_string(),
                format!("`{seg}` matches no configuration key under {under}"),
                Some(help),
            ))
        }
        SchemaKeys::Named => {
            let names: Vec<&str> = map.keys().filter_map(Value::as_str).collect();
            let help = did_you_mean(&wanted, names.iter().copied()).unwrap_or_else(|| {
                "overrides can change existing entries only; add new ones to the file".into()
            });
            Err((
                path.to_string(),
                format!("nothing under `{path}` is named like `{seg}`"),
                Some(help),
            ))
        }
        SchemaKeys::Free => Ok(seg.to_owned()),
        SchemaKeys::Leaf => Err((
            path.to_string(),
            format!("`{path}` takes a value, not keys"),
            None,
        )),
    }
}

/// What an override's value does at its key: set it, or merge into the section there.
enum Action {
    Set(Value),
    Merge(Mapping),
}

/// Checks an override's value against what stands at `path`: an empty value never erases
/// anything, a section is merged into rather than replaced, and a list of named entries
/// (`components`, `repositories`) is never replaced as a whole.
fn action(path: &KeyPath, var: &str, raw: &str, value: Value) -> Result<Action, Fail> {
    let segments = path.segments();
    let parent_is_free = path
        .parent()
        .is_some_and(|p| matches!(schema_keys(p.segments()), SchemaKeys::Free));
    let is_depends_on = matches!(segments, [c, _, d] if c == "components" && d == "depends_on");
    let schema = if is_depends_on {
        SchemaKeys::Leaf
    } else {
        schema_keys(segments)
    };
    if raw.trim().is_empty() {
        if parent_is_free {
            return Ok(Action::Set(Value::String(String::new())));
        }
        return Err((
            path.to_string(),
            format!("{var} is empty, which would erase `{path}`"),
            Some(format!(
                "unset it (`unset {var}`), or give a value; `''` is an empty string"
            )),
        ));
    }
    match (schema, value) {
        (SchemaKeys::Named, _) => Err((
            path.to_string(),
            format!("`{path}` holds entries by name; an override cannot replace them all"),
            Some(format!(
                "set a key of one entry instead, e.g. {var}__<NAME>__ENABLED=false"
            )),
        )),
        (SchemaKeys::Fixed(_) | SchemaKeys::Free, Value::Mapping(m)) => Ok(Action::Merge(m)),
        (SchemaKeys::Fixed(keys), other) => Err((
            path.to_string(),
            format!(
                "`{path}` is a section; {} would replace all of it",
                describe(&other)
            ),
            Some(format!(
                "set one key inside it, e.g. {var}__{}=...; or give a mapping (`{{...}}`) to merge into it",
                keys[0].to_ascii_uppercase()
            )),
        )),
        (SchemaKeys::Free, other) => Err((
            path.to_string(),
            format!(
                "`{path}` is a mapping of names to values; {} would replace all of it",
                describe(&other)
            ),
            Some(format!(
                "set one entry, e.g. {var}__NAME=value; or give a mapping (`{{...}}`) to merge into it"
            )),
        )),
        (SchemaKeys::Leaf, v) => Ok(Action::Set(v)),
    }
}

fn describe(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Sequence(_) => "a list",
        _ => "a single value",
    }
}

/// Merges `from` into `into`, key by key, deeply: nothing in `into` that `from` does not
/// name is lost.
fn merge(into: &mut Mapping, from: Mapping) {
    for (k, v) in from {
        match (into.get_mut(&k), v) {
            (Some(Value::Mapping(old)), Value::Mapping(new)) => merge(old, new),
            (_, v) => {
                into.insert(k, v);
            }
        }
    }
}

fn apply_one(root: &mut Value, var: &str, raw: &str) -> Result<KeyPath, Fail> {
    let segments: Vec<&str> = var[PREFIX.len()..].split("__").collect();
    if segments.iter().any(|s| s.is_empty()) {
        return Err((
            String::new(),
            "the variable has an empty segment".into(),
            Some("separate levels with exactly two underscores: TTA__DEFAULTS__JOBS".into()),
        ));
    }
    let value = parse_value(raw)?;
    if matches!(root, Value::Null) {
        *root = Value::Mapping(Mapping::new());
    }
    let mut path = KeyPath::root();
    let mut cur = root;
    for (i, seg) in segments.iter().enumerate() {
        let Value::Mapping(map) = cur else {
            return Err((
                path.to_string(),
                format!("`{path}` is not a mapping, so it has no key `{seg}`"),
                None,
            ));
        };
        let key = resolve_key(map, &path, seg)?;
        path = path.join(key.clone());
        let k = Value::String(key);
        if i + 1 == segments.len() {
            match action(&path, var, raw, value)? {
                Action::Set(v) => {
                    map.insert(k, v);
                }
                Action::Merge(m) => {
                    let slot = map.entry(k).or_insert(Value::Null);
                    if let Value::Mapping(old) = slot {
                        merge(old, m);
                    } else {
                        *slot = Value::Mapping(m);
                    }
                }
            }
            return Ok(path);
        }
        cur = map
            .entry(k)
            .or_insert_with(|| Value::Mapping(Mapping::new()));
        if matches!(cur, Value::Null) {
            *cur = Value::Mapping(Mapping::new());
        }
    }
    unreachable!("the loop returns at the last segment")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(doc: &str, vars: &[(&str, &str)]) -> Result<Value, Vec<Located>> {
        let mut v: Value = yaml_serde::from_str(doc).unwrap();
        apply(
            &mut v,
            vars.iter().map(|(a, b)| ((*a).to_owned(), (*b).to_owned())),
        )?;
        Ok(v)
    }

    #[test]
    fn keys_with_underscores_and_dots_and_types() {
        let v = run(
            "repositories:\n  tta.dev: { path: x }\ncomponents:\n  db: { kind: task, command: [x] }\n",
            &[
                ("TTA__DEFAULTS__START_TIMEOUT", "5s"),
                ("TTA__DEFAULTS__JOBS", "3"),
                ("TTA__REPOSITORIES__TTA_DEV__PATH", "/elsewhere"),
                ("TTA__COMPONENTS__DB__ENABLED", "false"),
                ("TTA__COMPONENTS__DB__ENV__USE_GPU", "1"),
                ("TTA_CONFIG", "ignored: single underscore"),
            ],
        )
        .unwrap();
        assert_eq!(v["defaults"]["start_timeout"], Value::from("5s"));
        assert_eq!(v["defaults"]["jobs"], Value::from(3));
        assert_eq!(
            v["repositories"]["tta.dev"]["path"],
            Value::from("/elsewhere")
        );
        assert_eq!(v["components"]["db"]["enabled"], Value::from(false));
        assert_eq!(v["components"]["db"]["env"]["USE_GPU"], Value::from(1));
    }

    #[test]
    fn unmatched_variables_are_errors_naming_them() {
        let e = run(
            "{}",
            &[
                ("TTA__DEFAULTS__JOB", "3"),
                ("TTA__COMPONENTS__NOPE__KIND", "task"),
            ],
        )
        .unwrap_err();
        assert_eq!(e.len(), 2);
        assert_eq!(e[0].location, "TTA__COMPONENTS__NOPE__KIND (environment)");
        assert_eq!(e[1].location, "TTA__DEFAULTS__JOB (environment)");
        assert_eq!(e[1].help.as_deref(), Some("did you mean `jobs`?"));
    }

    #[test]
    fn an_override_never_erases_a_section() {
        let doc = "defaults: { jobs: 2, start_timeout: 5s }\ncomponents:\n  db: { kind: task, command: [x], env: { A: 1 } }\n";
        for (var, raw, says) in [
            (
                "TTA__COMPONENTS",
                "",
                "TTA__COMPONENTS is empty, which would erase `components`",
            ),
            (
                "TTA__COMPONENTS",
                "{}",
                "`components` holds entries by name",
            ),
            ("TTA__COMPONENTS", "~", "`components` holds entries by name"),
            (
                "TTA__DEFAULTS",
                "  ",
                "is empty, which would erase `defaults`",
            ),
            (
                "TTA__DEFAULTS",
                "null",
                "`defaults` is a section; null would replace all of it",
            ),
            (
                "TTA__COMPONENTS__DB",
                "5",
                "`components.db` is a section; a single value",
            ),
            (
                "TTA__COMPONENTS__DB__ENV",
                "[a]",
                "`components.db.env` is a mapping of names to values; a list",
            ),
            (
                "TTA__COMPONENTS__DB__KIND",
                "",
                "is empty, which would erase `components.db.kind`",
            ),
        ] {
            let e = run(doc, &[(var, raw)]).unwrap_err();
            assert!(e[0].message.contains(says), "{var}={raw:?}: {:?}", e[0]);
        }
        // A mapping merges into a section; an empty value under `env` is an empty string.
        let v = run(
            doc,
            &[
                ("TTA__DEFAULTS", "{ jobs: 3 }"),
                ("TTA__COMPONENTS__DB__ENV", "{ B: 2 }"),
                ("TTA__COMPONENTS__DB__ENV__C", ""),
                ("TTA__COMPONENTS__DB__DEPENDS_ON", "[]"),
            ],
        )
        .unwrap();
        assert_eq!(v["defaults"]["jobs"], Value::from(3));
        assert_eq!(v["defaults"]["start_timeout"], Value::from("5s"));
        assert_eq!(v["components"]["db"]["env"]["A"], Value::from(1));
        assert_eq!(v["components"]["db"]["env"]["B"], Value::from(2));
        assert_eq!(v["components"]["db"]["env"]["C"], Value::from(""));
    }

    #[test]
    fn a_segment_matching_two_keys_names_neither_unless_exact() {
        let doc = "components:\n  my-api: { kind: task, command: [x] }\n  my_api: { kind: task, command: [x] }\n";
        let e = run(doc, &[("TTA__COMPONENTS__MY_API__ENABLED", "false")]).unwrap_err();
        assert_eq!(e[0].message, "`MY_API` matches `my-api` and `my_api`");
        let v = run(doc, &[("TTA__COMPONENTS__my_api__ENABLED", "false")]).unwrap();
        assert_eq!(v["components"]["my_api"]["enabled"], Value::from(false));
        assert_eq!(v["components"]["my-api"].get("enabled"), None);
        let v = run(doc, &[("TTA__COMPONENTS__my-api__ENABLED", "false")]).unwrap();
        assert_eq!(v["components"]["my-api"]["enabled"], Value::from(false));
    }
}
