//! Reading a repository's compose files into one set of services, the way Compose does:
//! YAML anchors and merge keys, interpolation (with the project's `.env`), `include`,
//! `extends` (in the same file or another), several `-f` files merged in order, and the
//! `!reset` / `!override` tags. Only what discovery needs is interpreted (service names,
//! `depends_on`, `healthcheck`, `profiles`); everything else is carried along untouched.
//!
//! Every problem is a message that names the file (with `line:column` for YAML errors);
//! nothing here panics on bad input.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use yaml_serde::{Mapping, Value};

use super::interpolate::{Vars, interpolate, parse_dotenv};
use super::read::{MAX_COMPOSE_BYTES, MAX_ENV_BYTES, ReadError, read_text};

/// How deep `include` and `extends` may nest before it is called a cycle.
const MAX_DEPTH: usize = 32;

/// Reads compose files into their merged `services` mapping.
pub(super) struct Loader<'a> {
    process: HashMap<String, String>,
    display: &'a dyn Fn(&Path) -> String,
    /// Problems so far, each a complete message.
    pub errors: Vec<String>,
    /// Files read so far (path, interpolated content), so `extends` does not re-read them.
    cache: HashMap<PathBuf, Option<Value>>,
    /// Files being included, outermost first (cycle detection).
    including: Vec<PathBuf>,
}

impl<'a> Loader<'a> {
    /// A loader that reads variables from `process` (and each project's `.env`) and shows
    /// paths with `display`.
    pub(super) fn new(
        process: HashMap<String, String>,
        display: &'a dyn Fn(&Path) -> String,
    ) -> Self {
        Self {
            process,
            display,
            errors: Vec::new(),
            cache: HashMap::new(),
            including: Vec::new(),
        }
    }

    /// The variables of a project directory: the process environment, then `env_files`
    /// (or the directory's `.env` when none are given).
    pub(super) fn vars(&mut self, dir: &Path, env_files: &[PathBuf]) -> Vars {
        let mut dotenv = HashMap::new();
        let default = [dir.join(".env")];
        let (files, required) = if env_files.is_empty() {
            (&default[..], false)
        } else {
            (env_files, true)
        };
        for f in files {
            match read_text(f, MAX_ENV_BYTES) {
                Ok(text) => dotenv.extend(parse_dotenv(&text, &self.process)),
                Err(ReadError::NotFound) if !required => {}
                Err(ReadError::NotFound) => self.errors.push(format!(
                    "cannot read env file {}: it does not exist",
                    (self.display)(f)
                )),
                Err(ReadError::Other(e)) => {
                    self.errors
                        .push(format!("cannot read env file {}: {e}", (self.display)(f)));
                }
            }
        }
        Vars::new(self.process.clone()).with_dotenv(dotenv)
    }

    /// The merged services of a project made of `files` (absolute paths), in order.
    pub(super) fn project(&mut self, files: &[PathBuf], vars: &Vars) -> Mapping {
        let mut services = Value::Mapping(Mapping::new());
        for f in files {
            let s = self.file_services(f, vars, 0);
            services = merge(services, Value::Mapping(s));
        }
        match strip_tags(services) {
            Some(Value::Mapping(m)) => m,
            _ => Mapping::new(),
        }
    }

    /// Reads, parses and interpolates one file (cached). `None` after an error.
    fn read(&mut self, path: &Path, vars: &Vars) -> Option<Value> {
        if let Some(v) = self.cache.get(path) {
            return v.clone();
        }
        let value = self.read_uncached(path, vars);
        self.cache.insert(path.to_path_buf(), value.clone());
        value
    }

    fn read_uncached(&mut self, path: &Path, vars: &Vars) -> Option<Value> {
        let shown = (self.display)(path);
        let text = match read_text(path, MAX_COMPOSE_BYTES) {
            Ok(t) => t,
            Err(ReadError::NotFound) => {
                self.errors
                    .push(format!("compose file {shown} does not exist"));
                return None;
            }
            Err(ReadError::Other(e)) => {
                self.errors
                    .push(format!("cannot read compose file {shown}: {e}"));
                return None;
            }
        };
        if text.trim().is_empty() {
            return Some(Value::Mapping(Mapping::new()));
        }
        if let Err(e) = crate::config::source::check_depth(&text) {
            self.errors.push(format!(
                "{shown}:{}:{}: {}",
                e.pos.line, e.pos.column, e.message
            ));
            return None;
        }
        let mut value: Value = match yaml_serde::from_str(&text) {
            Ok(v) => v,
            Err(e) => {
                self.errors.push(yaml_error(&shown, &e));
                return None;
            }
        };
        if let Err(e) = value.apply_merge() {
            self.errors.push(yaml_error(&shown, &e));
            return None;
        }
        let lookup = |n: &str| vars.get(n).map(str::to_owned);
        let mut problems = Vec::new();
        interpolate_tree(&mut value, &mut String::new(), &lookup, &mut problems);
        if !problems.is_empty() {
            self.errors
                .extend(problems.into_iter().map(|p| format!("{shown}: {p}")));
            return None;
        }
        match value {
            Value::Mapping(_) => Some(value),
            Value::Null => Some(Value::Mapping(Mapping::new())),
            _ => {
                self.errors.push(format!(
                    "{shown}: a compose file must be a mapping with `services:`"
                ));
                None
            }
        }
    }

    /// The services of one file, with its `include`s added and `extends` resolved.
    fn file_services(&mut self, path: &Path, vars: &Vars, depth: usize) -> Mapping {
        let Some(doc) = self.read(path, vars) else {
            return Mapping::new();
        };
        let shown = (self.display)(path);
        let dir = path.parent().unwrap_or(Path::new("/")).to_path_buf();
        let raw = match doc.get("services") {
            None | Some(Value::Null) => Mapping::new(),
            Some(Value::Mapping(m)) => m.clone(),
            Some(_) => {
                self.errors.push(format!(
                    "{shown}: `services` must be a mapping of service names"
                ));
                return Mapping::new();
            }
        };
        let mut out = Mapping::new();
        for (key, _) in &raw {
            let Some(name) = key_string(key) else {
                self.errors
                    .push(format!("{shown}: service names must be strings"));
                continue;
            };
            let mut stack = Vec::new();
            if let Some(svc) = self.resolve(path, &raw, &name, vars, &mut stack) {
                out.insert(Value::String(name), Value::Mapping(svc));
            }
        }
        if let Some(inc) = doc.get("include") {
            self.include(inc, &dir, &shown, depth, &mut out);
        }
        out
    }

    /// Adds the services of `include:` entries to `out`.
    fn include(&mut self, inc: &Value, dir: &Path, shown: &str, depth: usize, out: &mut Mapping) {
        let Value::Sequence(items) = inc else {
            self.errors
                .push(format!("{shown}: `include` must be a list"));
            return;
        };
        for item in items {
            let (paths, project_dir, env_files) = match item {
                Value::String(p) => (vec![dir.join(p)], None, Vec::new()),
                Value::Mapping(m) => {
                    let paths = string_or_list(m.get("path"))
                        .into_iter()
                        .map(|p| dir.join(p))
                        .collect::<Vec<_>>();
                    let pd = m
                        .get("project_directory")
                        .and_then(Value::as_str)
                        .map(|p| dir.join(p));
                    let envs = string_or_list(m.get("env_file"))
                        .into_iter()
                        .map(|p| dir.join(p))
                        .collect();
                    (paths, pd, envs)
                }
                _ => (Vec::new(), None, Vec::new()),
            };
            if paths.is_empty() {
                self.errors.push(format!(
                    "{shown}: an `include` entry needs a path (a string, or a mapping with `path`)"
                ));
                continue;
            }
            if depth >= MAX_DEPTH || paths.iter().any(|p| self.including.contains(p)) {
                self.errors.push(format!(
                    "{shown}: `include` of {} goes round in a cycle",
                    (self.display)(&paths[0])
                ));
                continue;
            }
            let project_dir = project_dir.unwrap_or_else(|| {
                paths[0]
                    .parent()
                    .map_or_else(|| dir.to_path_buf(), Path::to_path_buf)
            });
            let vars = self.vars(&project_dir, &env_files);
            self.including.extend(paths.iter().cloned());
            let mut included = Value::Mapping(Mapping::new());
            for p in &paths {
                let s = self.file_services(p, &vars, depth + 1);
                included = merge(included, Value::Mapping(s));
            }
            self.including.truncate(self.including.len() - paths.len());
            if let Value::Mapping(m) = included {
                for (k, v) in m {
                    if out.contains_key(&k) {
                        self.errors.push(format!(
                            "{shown}: service `{}` is defined both here and in included {}",
                            key_string(&k).unwrap_or_default(),
                            (self.display)(&paths[0])
                        ));
                    } else {
                        out.insert(k, v);
                    }
                }
            }
        }
    }

    /// One service of a file with its `extends` chain applied and `depends_on` normalised.
    fn resolve(
        &mut self,
        path: &Path,
        raw: &Mapping,
        name: &str,
        vars: &Vars,
        stack: &mut Vec<(PathBuf, String)>,
    ) -> Option<Mapping> {
        let shown = (self.display)(path);
        let mut svc = match raw.get(name) {
            Some(Value::Mapping(m)) => m.clone(),
            Some(Value::Null) => Mapping::new(),
            Some(_) => {
                self.errors
                    .push(format!("{shown}: service `{name}` must be a mapping"));
                return None;
            }
            None => {
                self.errors.push(format!(
                    "{shown}: `extends` names service `{name}`, which is not defined there"
                ));
                return None;
            }
        };
        normalize_depends_on(&mut svc);
        let Some(ext) = svc.remove("extends") else {
            return Some(svc);
        };
        let (base_name, base_file) = match &ext {
            Value::String(s) => (s.clone(), None),
            Value::Mapping(m) => {
                if let Some(s) = m.get("service").and_then(Value::as_str) {
                    (
                        s.to_owned(),
                        m.get("file").and_then(Value::as_str).map(str::to_owned),
                    )
                } else {
                    self.errors.push(format!(
                        "{shown}: `services.{name}.extends` needs a `service`"
                    ));
                    return None;
                }
            }
            _ => {
                self.errors.push(format!(
                    "{shown}: `services.{name}.extends` must be a service name or a mapping"
                ));
                return None;
            }
        };
        let base_path = match &base_file {
            Some(f) => path.parent().unwrap_or(Path::new("/")).join(f),
            None => path.to_path_buf(),
        };
        let key = (base_path.clone(), base_name.clone());
        if stack.len() >= MAX_DEPTH || stack.contains(&key) {
            self.errors.push(format!(
                "{shown}: `services.{name}.extends` goes round in a cycle"
            ));
            return None;
        }
        let base_raw = if base_file.is_some() {
            let doc = self.read(&base_path, vars)?;
            match doc.get("services") {
                Some(Value::Mapping(m)) => m.clone(),
                _ => Mapping::new(),
            }
        } else {
            raw.clone()
        };
        stack.push(key);
        let base = self.resolve(&base_path, &base_raw, &base_name, vars, stack);
        stack.pop();
        let base = base?;
        match merge(Value::Mapping(base), Value::Mapping(svc)) {
            Value::Mapping(m) => Some(m),
            _ => None,
        }
    }
}

/// `file:line:column: message` for a YAML error.
fn yaml_error(shown: &str, e: &yaml_serde::Error) -> String {
    let message = e.to_string();
    let message = message.split(" at line ").next().unwrap_or(&message);
    match e.location() {
        Some(l) => format!("{shown}:{}:{}: {message}", l.line(), l.column()),
        None => format!("{shown}: {message}"),
    }
}

/// A mapping key as a string (numbers and booleans too).
pub(super) fn key_string(k: &Value) -> Option<String> {
    match k {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn string_or_list(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Sequence(items)) => items
            .iter()
            .filter_map(|i| i.as_str().map(str::to_owned))
            .collect(),
        _ => Vec::new(),
    }
}

/// Interpolates every string value (not keys), collecting errors with their key path.
fn interpolate_tree(
    v: &mut Value,
    at: &mut String,
    vars: &dyn Fn(&str) -> Option<String>,
    problems: &mut Vec<String>,
) {
    match v {
        Value::String(s) => match interpolate(s, vars) {
            Ok(new) => *s = new,
            Err(e) => problems.push(format!("`{at}`: {e}")),
        },
        Value::Sequence(items) => {
            for (i, item) in items.iter_mut().enumerate() {
                let len = at.len();
                at.push_str(&format!(".{i}"));
                interpolate_tree(item, at, vars, problems);
                at.truncate(len);
            }
        }
        Value::Mapping(m) => {
            for (k, item) in m.iter_mut() {
                let len = at.len();
                if !at.is_empty() {
                    at.push('.');
                }
                at.push_str(&key_string(k).unwrap_or_else(|| "?".into()));
                interpolate_tree(item, at, vars, problems);
                at.truncate(len);
            }
        }
        Value::Tagged(t) => interpolate_tree(&mut t.value, at, vars, problems),
        Value::Null | Value::Bool(_) | Value::Number(_) => {}
    }
}

/// Rewrites `depends_on` to its long form: `{name: {condition: service_started}}`.
fn normalize_depends_on(svc: &mut Mapping) {
    let Some(dep) = svc.get_mut("depends_on") else {
        return;
    };
    let started = || {
        let mut m = Mapping::new();
        m.insert("condition".into(), "service_started".into());
        Value::Mapping(m)
    };
    match dep {
        Value::Sequence(items) => {
            let mut m = Mapping::new();
            for i in items.iter() {
                if let Some(name) = key_string(i) {
                    m.insert(Value::String(name), started());
                }
            }
            *dep = Value::Mapping(m);
        }
        Value::Mapping(m) => {
            for (_, v) in m.iter_mut() {
                if v.is_null() {
                    *v = started();
                }
            }
        }
        _ => {}
    }
}

fn tag_name(t: &yaml_serde::value::TaggedValue) -> String {
    t.tag.to_string().trim_start_matches('!').to_owned()
}

/// Compose's override merge: mappings merge key by key, anything else is replaced. A
/// `!reset` value removes the key; `!override` replaces instead of merging.
pub(super) fn merge(base: Value, over: Value) -> Value {
    match (base, over) {
        (Value::Mapping(mut b), Value::Mapping(o)) => {
            for (k, v) in o {
                if let Value::Tagged(t) = &v {
                    match tag_name(t).as_str() {
                        "reset" => {
                            b.shift_remove(&k);
                            continue;
                        }
                        "override" => {
                            b.insert(k, t.value.clone());
                            continue;
                        }
                        _ => {}
                    }
                }
                let merged = match b.get_mut(&k) {
                    Some(slot) => merge(std::mem::take(slot), v),
                    None => v,
                };
                b.insert(k, merged);
            }
            Value::Mapping(b)
        }
        (_, o) => o,
    }
}

/// Removes `!reset` entries and unwraps other tags, after merging.
fn strip_tags(v: Value) -> Option<Value> {
    match v {
        Value::Tagged(t) if tag_name(&t) == "reset" => None,
        Value::Tagged(t) => strip_tags(t.value),
        Value::Mapping(m) => Some(Value::Mapping(
            m.into_iter()
                .filter_map(|(k, v)| strip_tags(v).map(|v| (k, v)))
                .collect(),
        )),
        Value::Sequence(s) => Some(Value::Sequence(
            s.into_iter().filter_map(strip_tags).collect(),
        )),
        other => Some(other),
    }
}
