//! Variables in the configuration, resolved at load time by Compose's rules
//! ([`crate::compose_file`]'s `interpolate` and `parse_dotenv`, so both follow one set):
//!
//! - `$VAR`, `${VAR}`, `${VAR:-default}`, `${VAR-default}`, `${VAR:?error}`,
//!   `${VAR?error}`, `${VAR:+alt}`, `${VAR+alt}` and `$$` (a literal `$`) in every string
//!   value of the file (not in keys), from the process environment, then the `.env` file in
//!   the config file's folder;
//! - an unset variable without a default becomes empty, with a warning naming it and the
//!   key, as Compose does; in a `shell:` line it is left as written instead, for the shell
//!   to expand at run time (`for i in 1 2; do echo $i; done` works);
//! - a required variable that is missing (`${DB_URL:?set DB_URL}`) and a malformed template
//!   are problems of the key that holds them;
//! - `env_file:` of a process or task is read as a dotenv file (relative to the config
//!   file's folder), later files winning over earlier ones and `env:` over all; a missing
//!   required file is a problem of its entry.

use std::collections::HashMap;
use std::path::Path;

use yaml_serde::Value;

use crate::compose_file::{Vars, interpolate_reporting, parse_dotenv};
use crate::config::Config;
use crate::config::keypath::KeyPath;
use crate::config::parse::check_env_name;
use crate::config::problem::Problem;
use crate::error::{Error, Result};

/// The variables of the `.env` file in `dir`, if there is one.
pub(super) fn dotenv(
    dir: &Path,
    process: &HashMap<String, String>,
) -> Result<HashMap<String, String>> {
    let path = dir.join(".env");
    let text = match read(&path) {
        Ok(Some(t)) => t,
        Ok(None) => return Ok(HashMap::new()),
        Err(message) => {
            return Err(Error::ConfigSyntax {
                location: path.display().to_string(),
                message,
            });
        }
    };
    Ok(parse_dotenv(&text, process))
}

/// A dotenv file's text; `None` when it does not exist; `Err` says why it cannot be read.
fn read(path: &Path) -> std::result::Result<Option<String>, String> {
    match std::fs::read(path) {
        Ok(bytes) => String::from_utf8(bytes)
            .map(Some)
            .map_err(|e| format!("not valid UTF-8 (byte {})", e.utf8_error().valid_up_to())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e.to_string()),
    }
}

/// `tree` with every template in its string values replaced, and the problems met.
pub(super) fn interpolate(tree: &Value, vars: &Vars) -> (Value, Vec<Problem>) {
    let mut problems = Vec::new();
    let mut out = tree.clone();
    walk(&mut out, &KeyPath::root(), vars, &mut problems);
    (out, problems)
}

fn is_shell(path: &KeyPath) -> bool {
    matches!(path.segments(), [c, _, s] if c == "components" && s == "shell")
}

fn walk(v: &mut Value, at: &KeyPath, vars: &Vars, problems: &mut Vec<Problem>) {
    match v {
        Value::String(s) if s.contains('$') => {
            let lookup = |name: &str| vars.get(name).map(str::to_owned);
            match interpolate_reporting(s, &lookup, is_shell(at)) {
                Ok((new, unset)) => {
                    for name in unset.iter().filter(|_| !is_shell(at)) {
                        tracing::warn!(
                            "variable {name} is not set; `{at}` gets an empty string in its place (set it, give a default with ${{{name}:-...}}, or write $${name} for a literal $)"
                        );
                    }
                    *s = new;
                }
                Err(e) => problems.push(Problem::new(at.clone(), e).help(
                    "set the variable in the environment or in the .env file beside the config, or write $$ for a literal $",
                )),
            }
        }
        Value::Mapping(m) => {
            for (k, x) in m.iter_mut() {
                let key = match k {
                    Value::String(s) => s.clone(),
                    other => crate::config::value::to_inline(other),
                };
                walk(x, &at.join(key), vars, problems);
            }
        }
        Value::Sequence(items) => {
            for (i, x) in items.iter_mut().enumerate() {
                walk(x, &at.join(i.to_string()), vars, problems);
            }
        }
        _ => {}
    }
}

/// Reads every component's `env_file` into its `env` (which wins), and the problems met.
pub(super) fn env_files(config: &mut Config, process: &HashMap<String, String>) -> Vec<Problem> {
    let mut problems = Vec::new();
    for (name, spec) in &mut config.components {
        if spec.env_file.is_empty() {
            continue;
        }
        let at = KeyPath::root()
            .join("components")
            .join(name.clone())
            .join("env_file");
        let many = spec.env_file.len() > 1;
        let mut merged: indexmap::IndexMap<String, String> = indexmap::IndexMap::new();
        for (i, file) in spec.env_file.iter().enumerate() {
            let here = if many {
                at.join(i.to_string())
            } else {
                at.clone()
            };
            match read(&file.path) {
                Ok(Some(text)) => {
                    let mut vars: Vec<(String, String)> =
                        parse_dotenv(&text, process).into_iter().collect();
                    vars.sort();
                    for (k, v) in vars {
                        if let Err(why) = check_env_name(&k).and_then(|()| {
                            if v.contains('\0') {
                                Err(format!("the value of {k} contains a NUL byte"))
                            } else {
                                Ok(())
                            }
                        }) {
                            problems.push(Problem::new(
                                here.clone(),
                                format!("{}: {why}", file.path.display()),
                            ));
                            continue;
                        }
                        merged.insert(k, v);
                    }
                }
                Ok(None) if !file.required => {}
                Ok(None) => problems.push(
                    Problem::new(here, format!("{} does not exist", file.path.display())).help(
                        "create it, fix the path (relative to the config file's folder), or write `{ path: ..., required: false }`",
                    ),
                ),
                Err(why) => problems.push(Problem::new(
                    here,
                    format!("cannot read {}: {why}", file.path.display()),
                )),
            }
        }
        for (k, v) in std::mem::take(&mut spec.env) {
            merged.insert(k, v);
        }
        spec.env = merged;
    }
    problems
}
