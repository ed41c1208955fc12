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
/// matches it, or a key the schema allows there.
fn resolve_key(map: &Mapping, path: &KeyPath, seg: &str) -> Result<String, Fail> {
    let wanted = normalize(seg);
    let existing = map
        .keys()
        .filter_map(Value::as_str)
        .find(|k| normalize(k) == wanted);
    if let Some(k) = existing {
        return Ok(k.to_owned());
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
            map.insert(k, value);
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
}
