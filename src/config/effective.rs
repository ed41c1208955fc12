//! `tta config get`: the value `tta` uses for any key, and where it comes from.
//!
//! A key the file (or an override) sets answers with that value, as written. Any other key
//! of the schema answers with what `tta` uses when nothing is written: a default
//! (`defaults.jobs` → `8`), a value inherited from `defaults` (a component's
//! `start_timeout`), one inferred (a component's `kind`, a compose `service`), a discovered
//! compose service's, or `null` for an optional key that is not set. A key the schema does
//! not have is an error with "did you mean", as `config set` gives.

use std::path::Path;

use yaml_serde::{Mapping, Value};

use super::env::Override;
use super::keypath::KeyPath;
use super::model::{CommandSpec, ComponentSpec, Config, Kind, Probe, ProbeCheck, Repository};
use super::parse::{SchemaKeys, schema_keys};
use super::source::SourceIndex;
use super::{size, value};
use crate::diagnostics::did_you_mean;
use crate::duration::Human;
use crate::error::{Error, Result};

/// Where a value comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Origin {
    /// The config file, at `file:line:column`.
    File(String),
    /// A `TTA__` variable.
    Environment(String),
    /// `tta`'s default.
    Default,
    /// Inherited from another key (`defaults.start_timeout`).
    Inherited(String),
    /// Worked out from other keys (a component's kind from its `command`).
    Inferred(String),
    /// A compose service found in a repository's compose files.
    Discovered(String),
    /// An optional key that nothing sets.
    Unset,
}

impl Origin {
    /// The kind of origin, for `--json`.
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            Origin::File(_) => "file",
            Origin::Environment(_) => "environment",
            Origin::Default => "default",
            Origin::Inherited(_) => "inherited",
            Origin::Inferred(_) => "inferred",
            Origin::Discovered(_) => "discovered",
            Origin::Unset => "unset",
        }
    }
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Origin::File(at) => f.write_str(at),
            Origin::Environment(var) => write!(f, "{var} (environment)"),
            Origin::Default => f.write_str("default"),
            Origin::Inherited(from) => write!(f, "inherited from {from}"),
            Origin::Inferred(how) => write!(f, "inferred {how}"),
            Origin::Discovered(repo) => write!(f, "discovered in repository {repo}"),
            Origin::Unset => f.write_str("not set (no default)"),
        }
    }
}

/// What the loaded configuration has, for answering.
pub(crate) struct Sources<'a> {
    /// The file plus overrides, as written.
    pub written: &'a Value,
    /// The file's text, for positions.
    pub text: &'a str,
    /// The file's name as shown.
    pub display: &'a str,
    /// The overrides applied.
    pub overrides: &'a [Override],
    /// The validated configuration.
    pub config: &'a Config,
}

/// The value of `key` and where it comes from.
pub(crate) fn lookup(
    s: &Sources<'_>,
    key: &KeyPath,
    project_name: &dyn Fn(&str, &Path) -> String,
) -> Result<(Value, Origin)> {
    if let Some(v) = value::get(s.written, key) {
        return Ok((v.clone(), written_origin(s, key)));
    }
    let (tree, origins) = effective(s.config, project_name);
    if let Some(v) = value::get(&tree, key) {
        let origin = origins
            .iter()
            .rev()
            .find(|(p, _)| key.segments().starts_with(p.segments()))
            .map_or(Origin::Default, |(_, o)| o.clone());
        let origin = if v.is_null() { Origin::Unset } else { origin };
        return Ok((v.clone(), origin));
    }
    check_key(&tree, key)?;
    Ok((Value::Null, Origin::Unset))
}

/// The origin of a written value: the override that set it, or its place in the file.
fn written_origin(s: &Sources<'_>, key: &KeyPath) -> Origin {
    if let Some(o) = s
        .overrides
        .iter()
        .find(|o| key.segments().starts_with(o.path.segments()))
    {
        return Origin::Environment(o.var.clone());
    }
    let at = SourceIndex::build(s.text)
        .ok()
        .and_then(|i| i.position(key))
        .map_or_else(
            || s.display.to_owned(),
            |p| format!("{}:{}:{}", s.display, p.line, p.column),
        );
    Origin::File(at)
}

/// Walks `key` through the schema: an error for the first segment that names nothing.
fn check_key(tree: &Value, key: &KeyPath) -> Result<()> {
    let mut at = KeyPath::root();
    for seg in key.segments() {
        let here = value::get(tree, &at);
        let unknown = |msg: String, help: Option<String>| {
            Error::usage(
                msg,
                Some(help.unwrap_or_else(|| {
                    "`tta config show` prints the configuration; docs/configuration.md lists every key".into()
                })),
            )
        };
        match schema_keys(at.segments()) {
            SchemaKeys::Fixed(keys) => {
                if !keys.contains(&seg.as_str()) {
                    let under = if at.is_root() {
                        "the top level".to_owned()
                    } else {
                        format!("`{at}`")
                    };
                    return Err(unknown(
                        format!("`{key}`: there is no key `{seg}` under {under}"),
                        did_you_mean(seg, keys.iter().copied())
                            .or_else(|| Some(format!("keys there: {}", keys.join(", ")))),
                    ));
                }
            }
            SchemaKeys::Named => {
                let names: Vec<&str> = here
                    .and_then(Value::as_mapping)
                    .map(|m| m.keys().filter_map(Value::as_str).collect())
                    .unwrap_or_default();
                if !names.contains(&seg.as_str()) {
                    return Err(unknown(
                        format!("`{key}`: nothing under `{at}` is named `{seg}`"),
                        did_you_mean(seg, names.iter().copied()),
                    ));
                }
            }
            SchemaKeys::Free => {
                return Err(Error::KeyNotFound {
                    key: key.to_string(),
                });
            }
            SchemaKeys::Leaf => {
                return Err(unknown(
                    format!("`{key}`: `{at}` is a single value, with no keys under it"),
                    Some(format!("`tta config get {at}` prints it")),
                ));
            }
        }
        at = at.join(seg.clone());
    }
    Ok(())
}

type Origins = Vec<(KeyPath, Origin)>;

fn duration(d: std::time::Duration) -> Value {
    Value::from(Human(d).to_string())
}

fn map(entries: impl IntoIterator<Item = (&'static str, Value)>) -> Value {
    let mut m = Mapping::new();
    for (k, v) in entries {
        m.insert(Value::from(k), v);
    }
    Value::Mapping(m)
}

fn path_value(p: &Path) -> Value {
    Value::from(p.display().to_string())
}

/// Every key of the schema with the value `tta` uses, in the file's shape, and the origin
/// of each value that is not a plain default (later entries are more specific).
fn effective(config: &Config, project_name: &dyn Fn(&str, &Path) -> String) -> (Value, Origins) {
    let mut origins = Origins::new();
    let d = &config.defaults;
    let defaults = map([
        ("start_timeout", duration(d.start_timeout)),
        ("stop_timeout", duration(d.stop_timeout)),
        ("jobs", Value::from(d.jobs)),
        (
            "retry",
            map([
                ("attempts", Value::from(d.retry.attempts)),
                ("backoff", duration(d.retry.backoff)),
                ("max_backoff", duration(d.retry.max_backoff)),
            ]),
        ),
    ]);
    let compose = map([(
        "command",
        config.compose.command.as_ref().map_or(Value::Null, |c| {
            Value::Sequence(c.iter().map(|s| Value::from(s.as_str())).collect())
        }),
    )]);
    let logs = map([
        (
            "max_size",
            Value::from(size::Human(config.logs.max_size).to_string()),
        ),
        ("keep", Value::from(config.logs.keep)),
    ]);
    let mut repositories = Mapping::new();
    for (name, r) in &config.repositories {
        let at = KeyPath::root().join("repositories").join(name.clone());
        repositories.insert(
            Value::from(name.as_str()),
            repository(name, r, &at, &mut origins, project_name),
        );
    }
    let mut components = Mapping::new();
    for (name, c) in &config.components {
        let at = KeyPath::root().join("components").join(name.clone());
        components.insert(
            Value::from(name.as_str()),
            component(name, c, config, &at, &mut origins),
        );
    }
    let tree = map([
        ("defaults", defaults),
        ("state_dir", path_value(&config.state_dir)),
        ("compose", compose),
        ("repositories", Value::Mapping(repositories)),
        ("components", Value::Mapping(components)),
        ("logs", logs),
    ]);
    (tree, origins)
}

fn repository(
    name: &str,
    r: &Repository,
    at: &KeyPath,
    origins: &mut Origins,
    project_name: &dyn Fn(&str, &Path) -> String,
) -> Value {
    let project = r
        .project_name
        .clone()
        .unwrap_or_else(|| project_name(name, &r.path));
    if r.project_name.is_none() {
        origins.push((
            at.join("project_name"),
            Origin::Inferred("from the repository's name and a hash of its folder".into()),
        ));
    }
    map([
        ("path", path_value(&r.path)),
        (
            "compose_files",
            Value::Sequence(r.compose_files.iter().map(|p| path_value(p)).collect()),
        ),
        ("project_name", Value::from(project)),
        (
            "profiles",
            Value::Sequence(r.profiles.iter().map(|p| Value::from(p.as_str())).collect()),
        ),
        ("discover", Value::from(r.discover)),
        (
            "context",
            r.context.as_deref().map_or(Value::Null, Value::from),
        ),
    ])
}

/// Where the values of a component that nothing writes come from.
fn component_origins(name: &str, c: &ComponentSpec, at: &KeyPath, origins: &mut Origins) {
    if c.discovered {
        origins.push((
            at.clone(),
            Origin::Discovered(c.repository.clone().unwrap_or_default()),
        ));
    }
    let from = match (&c.command, c.kind) {
        (_, Kind::Compose) => "from its `repository`",
        (Some(CommandSpec::Shell(_)), _) => "from its `shell`",
        _ => "from its `command`",
    };
    origins.push((at.join("kind"), Origin::Inferred(from.into())));
    if c.service.as_deref() == Some(name) {
        origins.push((
            at.join("service"),
            Origin::Inferred("from the component's name".into()),
        ));
    }
    if c.supervision.restart.is_none() {
        origins.push((
            at.join("restart"),
            Origin::Inferred(format!("for a {} component", c.kind.as_str())),
        ));
    }
    for (key, own) in [
        ("start_timeout", c.start_timeout),
        ("stop_timeout", c.stop_timeout),
    ] {
        if own.is_none() {
            origins.push((at.join(key), Origin::Inherited(format!("defaults.{key}"))));
        }
    }
}

fn strings<'a>(items: impl IntoIterator<Item = &'a String>) -> Value {
    Value::Sequence(items.into_iter().map(|s| Value::from(s.as_str())).collect())
}

fn optional(s: Option<&str>) -> Value {
    s.map_or(Value::Null, Value::from)
}

fn component(
    name: &str,
    c: &ComponentSpec,
    config: &Config,
    at: &KeyPath,
    origins: &mut Origins,
) -> Value {
    component_origins(name, c, at, origins);
    let (command, shell) = match &c.command {
        Some(CommandSpec::Argv(a)) => (strings(a), Value::Null),
        Some(CommandSpec::Shell(s)) => (Value::Null, Value::from(s.as_str())),
        None => (Value::Null, Value::Null),
    };
    let cwd = if matches!(c.kind, Kind::Process | Kind::Task) {
        path_value(c.cwd.as_deref().unwrap_or(&config.base_dir))
    } else {
        Value::Null
    };
    let mut env = Mapping::new();
    for (k, v) in &c.env {
        env.insert(Value::from(k.as_str()), Value::from(v.as_str()));
    }
    let mut deps = Mapping::new();
    for dep in &c.depends_on {
        deps.insert(
            Value::from(dep.name.as_str()),
            map([
                ("condition", Value::from(dep.condition.as_str())),
                ("required", Value::from(dep.required)),
                ("restart", Value::from(dep.restart)),
            ]),
        );
    }
    let d = &config.defaults;
    let sup = &c.supervision;
    map([
        ("kind", Value::from(c.kind.as_str())),
        ("repository", optional(c.repository.as_deref())),
        ("service", optional(c.service.as_deref())),
        ("command", command),
        ("shell", shell),
        ("cwd", cwd),
        ("env", Value::Mapping(env)),
        (
            "env_file",
            Value::Sequence(c.env_file.iter().map(|f| path_value(&f.path)).collect()),
        ),
        ("depends_on", Value::Mapping(deps)),
        ("probe", c.probe.as_ref().map_or(Value::Null, probe)),
        (
            "start_timeout",
            duration(c.start_timeout.unwrap_or(d.start_timeout)),
        ),
        (
            "stop_timeout",
            duration(c.stop_timeout.unwrap_or(d.stop_timeout)),
        ),
        ("enabled", Value::from(c.enabled)),
        ("description", optional(c.description.as_deref())),
        ("restart", Value::from(sup.policy(c.kind).as_str())),
        (
            "max_restarts",
            sup.max_restarts.map_or(Value::Null, Value::from),
        ),
        ("backoff", duration(sup.backoff)),
        ("max_backoff", duration(sup.max_backoff)),
        ("reset_after", duration(sup.reset_after)),
        (
            "liveness",
            sup.liveness.as_ref().map_or(Value::Null, |l| {
                let Value::Mapping(mut m) = probe(&l.probe) else {
                    unreachable!("a probe is a mapping")
                };
                m.remove("retries");
                m.insert(
                    Value::from("failure_threshold"),
                    Value::from(l.failure_threshold),
                );
                Value::Mapping(m)
            }),
        ),
        ("watch", strings(&sup.watch)),
    ])
}

fn probe(p: &Probe) -> Value {
    let (tcp, http, exec, status) = match &p.check {
        ProbeCheck::Tcp(a) => (
            Value::from(a.as_str()),
            Value::Null,
            Value::Null,
            Value::Null,
        ),
        ProbeCheck::Http { url, status } => (
            Value::Null,
            Value::from(url.as_str()),
            Value::Null,
            status.map_or(Value::Null, Value::from),
        ),
        ProbeCheck::Exec(argv) => (
            Value::Null,
            Value::Null,
            Value::Sequence(argv.iter().map(|s| Value::from(s.as_str())).collect()),
            Value::Null,
        ),
    };
    map([
        ("tcp", tcp),
        ("http", http),
        ("exec", exec),
        ("status", status),
        ("interval", duration(p.interval)),
        ("timeout", duration(p.timeout)),
        ("retries", p.retries.map_or(Value::Null, Value::from)),
        ("start_period", duration(p.start_period)),
    ])
}
