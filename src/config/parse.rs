//! Turns a YAML value tree into a validated [`Config`], collecting every problem.
//!
//! Parsing is hand-written over `yaml_serde::Value` rather than derived with serde: a derive
//! stops at the first error and cannot say "did you mean" for an unknown key, while users of
//! a config file want every mistake at once, each pointing at its key. The key lists below
//! are the schema; [`schema_keys`] exposes them to the environment-override parser.

use std::path::{Path, PathBuf};
use std::time::Duration;

use indexmap::IndexMap;
use yaml_serde::Value;

use super::keypath::KeyPath;
use super::model::{
    CommandSpec, ComponentSpec, ComposeSettings, Condition, Config, Defaults, Dependency, EnvFile,
    Kind, Liveness, Logs, Probe, ProbeCheck, RESERVED_NAMES, Repository, RestartPolicy, Retry,
    valid_name,
};
use super::problem::Problem;
use super::size;
use crate::diagnostics::did_you_mean;
use crate::duration;

/// A component being read: what its keys said, before its kind decides what they mean.
struct Draft {
    kind: Option<Kind>,
    c: ComponentSpec,
    argv: Option<Vec<String>>,
    shell: Option<String>,
}

/// A key path under construction, borrowed from the stack: extending it costs nothing, and
/// it becomes a [`KeyPath`] only when a problem is reported.
#[derive(Clone, Copy)]
pub(crate) struct At<'a> {
    parent: Option<&'a At<'a>>,
    seg: Seg<'a>,
}

#[derive(Clone, Copy)]
enum Seg<'a> {
    Root,
    Key(&'a str),
    Index(usize),
}

impl<'a> At<'a> {
    /// The document root.
    pub(crate) const ROOT: At<'static> = At {
        parent: None,
        seg: Seg::Root,
    };

    /// A key under this path.
    #[must_use]
    pub(crate) fn key(&'a self, key: &'a str) -> At<'a> {
        At {
            parent: Some(self),
            seg: Seg::Key(key),
        }
    }

    /// A list item under this path.
    #[must_use]
    pub(crate) fn index(&'a self, i: usize) -> At<'a> {
        At {
            parent: Some(self),
            seg: Seg::Index(i),
        }
    }

    /// The owned path.
    pub(crate) fn path(&self) -> KeyPath {
        let mut segs = Vec::new();
        let mut cur = Some(self);
        while let Some(a) = cur {
            match a.seg {
                Seg::Root => {}
                Seg::Key(k) => segs.push(k.to_owned()),
                Seg::Index(i) => segs.push(i.to_string()),
            }
            cur = a.parent;
        }
        segs.reverse();
        KeyPath::from(segs)
    }
}

/// Keys of the top level.
pub(crate) const ROOT_KEYS: &[&str] = &[
    "defaults",
    "state_dir",
    "compose",
    "repositories",
    "components",
    "logs",
];
/// Keys of `logs`.
pub(crate) const LOGS_KEYS: &[&str] = &["max_size", "keep"];
/// Keys of `defaults`.
pub(crate) const DEFAULTS_KEYS: &[&str] = &["start_timeout", "stop_timeout", "jobs", "retry"];
/// Keys of `defaults.retry`.
pub(crate) const RETRY_KEYS: &[&str] = &["attempts", "backoff", "max_backoff"];
/// Keys of `compose`.
pub(crate) const COMPOSE_KEYS: &[&str] = &["command"];
/// Keys of a repository.
pub(crate) const REPOSITORY_KEYS: &[&str] = &[
    "path",
    "compose_files",
    "project_name",
    "profiles",
    "discover",
    "context",
];
/// Keys of a component.
pub(crate) const COMPONENT_KEYS: &[&str] = &[
    "kind",
    "repository",
    "service",
    "command",
    "shell",
    "cwd",
    "env",
    "env_file",
    "depends_on",
    "probe",
    "start_timeout",
    "stop_timeout",
    "enabled",
    "description",
    "restart",
    "max_restarts",
    "backoff",
    "max_backoff",
    "reset_after",
    "liveness",
    "watch",
];
/// Keys of a probe.
pub(crate) const PROBE_KEYS: &[&str] = &[
    "tcp",
    "http",
    "exec",
    "status",
    "interval",
    "timeout",
    "retries",
    "start_period",
];
/// Keys of a liveness probe: a probe's, with `failure_threshold` for `retries`.
pub(crate) const LIVENESS_KEYS: &[&str] = &[
    "tcp",
    "http",
    "exec",
    "status",
    "interval",
    "timeout",
    "start_period",
    "failure_threshold",
];
/// Keys of a long-form `env_file` entry.
pub(crate) const ENV_FILE_KEYS: &[&str] = &["path", "required"];
/// Keys of a long-form dependency.
pub(crate) const DEPENDENCY_KEYS: &[&str] = &["condition", "required", "restart"];

/// What may stand at a key path, for environment overrides.
pub(crate) enum SchemaKeys {
    /// A fixed set of keys.
    Fixed(&'static [&'static str]),
    /// Names the user chooses (components, repositories): only existing ones match.
    Named,
    /// Free keys (an `env` map): any key may be added.
    Free,
    /// A value, not a mapping.
    Leaf,
}

/// The keys allowed under `path`.
pub(crate) fn schema_keys(path: &[String]) -> SchemaKeys {
    let p: Vec<&str> = path.iter().map(String::as_str).collect();
    match p.as_slice() {
        [] => SchemaKeys::Fixed(ROOT_KEYS),
        ["defaults"] => SchemaKeys::Fixed(DEFAULTS_KEYS),
        ["defaults", "retry"] => SchemaKeys::Fixed(RETRY_KEYS),
        ["compose"] => SchemaKeys::Fixed(COMPOSE_KEYS),
        ["logs"] => SchemaKeys::Fixed(LOGS_KEYS),
        ["repositories" | "components"] => SchemaKeys::Named,
        ["repositories", _] => SchemaKeys::Fixed(REPOSITORY_KEYS),
        ["components", _] => SchemaKeys::Fixed(COMPONENT_KEYS),
        ["components", _, "probe"] => SchemaKeys::Fixed(PROBE_KEYS),
        ["components", _, "liveness"] => SchemaKeys::Fixed(LIVENESS_KEYS),
        ["components", _, "env"] => SchemaKeys::Free,
        ["components", _, "env_file", _] => SchemaKeys::Fixed(ENV_FILE_KEYS),
        ["components", _, "depends_on"] => SchemaKeys::Named,
        ["components", _, "depends_on", _] => SchemaKeys::Fixed(DEPENDENCY_KEYS),
        _ => SchemaKeys::Leaf,
    }
}

/// Parses a whole document. `base_dir` resolves relative paths.
#[cfg(test)]
pub(crate) fn parse(root: &Value, base_dir: &Path) -> Result<Config, Vec<Problem>> {
    let (config, problems) = parse_partial(root, base_dir);
    if problems.is_empty() {
        Ok(config)
    } else {
        Err(problems)
    }
}

/// Parses as much as is valid and returns it with the problems: components and
/// repositories with problems are left out, so checks across components can still run on
/// the rest and report everything at once.
pub(crate) fn parse_partial(root: &Value, base_dir: &Path) -> (Config, Vec<Problem>) {
    let mut p = Parser {
        base_dir,
        problems: Vec::new(),
    };
    let config = p.config(root);
    (config, p.problems)
}

struct Parser<'a> {
    base_dir: &'a Path,
    problems: Vec<Problem>,
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "nothing (null)",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Sequence(_) => "a list",
        Value::Mapping(_) => "a mapping",
        Value::Tagged(_) => "a tagged value",
    }
}

impl Parser<'_> {
    fn problem(&mut self, p: Problem) {
        self.problems.push(p);
    }

    fn wrong_type(&mut self, path: &At<'_>, expected: &str, v: &Value) {
        self.problem(Problem::new(
            path.path(),
            format!("expected {expected}, found {}", type_name(v)),
        ));
    }

    /// The entries of a mapping, reporting unknown keys when `allowed` is given.
    fn entries<'v>(
        &mut self,
        v: &'v Value,
        path: &At<'_>,
        allowed: Option<&[&str]>,
    ) -> Vec<(String, &'v Value)> {
        let map = match v {
            Value::Null => return Vec::new(),
            Value::Mapping(m) => m,
            other => {
                self.wrong_type(path, "a mapping", other);
                return Vec::new();
            }
        };
        let mut out = Vec::with_capacity(map.len());
        for (k, val) in map {
            let key = match k {
                Value::String(s) => s.clone(),
                Value::Number(n) => n.to_string(),
                Value::Bool(b) => b.to_string(),
                other => {
                    self.problem(Problem::new(
                        path.path(),
                        format!("keys must be strings, found {}", type_name(other)),
                    ));
                    continue;
                }
            };
            if let Some(allowed) = allowed
                && !allowed.contains(&key.as_str())
            {
                let help = did_you_mean(&key, allowed.iter().copied())
                    .unwrap_or_else(|| format!("expected one of: {}", allowed.join(", ")));
                self.problem(
                    Problem::new(path.key(&key).path(), format!("unknown key `{key}`")).help(help),
                );
                continue;
            }
            out.push((key, val));
        }
        out
    }

    /// Refuses a NUL byte: no argument, path or environment variable can carry one, so the
    /// value could only fail when the component starts.
    fn no_nul(&mut self, s: &str, path: &At<'_>) -> bool {
        if s.contains('\0') {
            self.problem(
                Problem::new(path.path(), "the value contains a NUL byte (`\\0`), which no command, path or environment variable can carry")
                    .help("remove the `\\0` from the value"),
            );
            return false;
        }
        true
    }

    fn string(&mut self, v: &Value, path: &At<'_>) -> Option<String> {
        match v {
            Value::String(s) => self.no_nul(s, path).then(|| s.clone()),
            other => {
                self.wrong_type(path, "a string", other);
                None
            }
        }
    }

    /// A string that must not be empty (a name, a profile, a context).
    fn non_empty(&mut self, v: &Value, path: &At<'_>, what: &str) -> Option<String> {
        let s = self.string(v, path)?;
        if s.trim().is_empty() {
            self.problem(
                Problem::new(path.path(), format!("{what} is empty"))
                    .help("give a value, or remove the key"),
            );
            return None;
        }
        Some(s)
    }

    fn scalar_string(&mut self, v: &Value, path: &At<'_>) -> Option<String> {
        match v {
            Value::String(s) => self.no_nul(s, path).then(|| s.clone()),
            Value::Number(n) => Some(n.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            other => {
                self.wrong_type(path, "a string, number or boolean", other);
                None
            }
        }
    }

    fn bool(&mut self, v: &Value, path: &At<'_>) -> Option<bool> {
        match v {
            Value::Bool(b) => Some(*b),
            other => {
                self.wrong_type(path, "true or false", other);
                None
            }
        }
    }

    fn integer(&mut self, v: &Value, path: &At<'_>, min: u64, max: u64) -> Option<u64> {
        let n = match v {
            Value::Number(n) => n.as_u64(),
            other => {
                self.wrong_type(path, "a whole number", other);
                return None;
            }
        };
        match n {
            Some(n) if (min..=max).contains(&n) => Some(n),
            _ => {
                self.problem(Problem::new(
                    path.path(),
                    format!("expected a whole number from {min} to {max}, found {v:?}")
                        .replace("Number(", "")
                        .replace(')', ""),
                ));
                None
            }
        }
    }

    fn duration(&mut self, v: &Value, path: &At<'_>) -> Option<Duration> {
        match v {
            Value::String(s) => match duration::parse(s) {
                Ok(d) => Some(d),
                Err(e) => {
                    self.problem(Problem::new(path.path(), e.to_string()));
                    None
                }
            },
            Value::Number(n) => {
                self.problem(
                    Problem::new(path.path(), format!("`{n}` has no unit")).help(format!(
                        "write `{n}s` for seconds or `{n}ms` for milliseconds"
                    )),
                );
                None
            }
            other => {
                self.wrong_type(path, "a duration such as `30s`", other);
                None
            }
        }
    }

    /// A start timeout: more than zero, or every start would time out at once.
    fn start_timeout(&mut self, v: &Value, path: &At<'_>) -> Option<Duration> {
        let d = self.duration(v, path)?;
        if d.is_zero() {
            self.problem(
                Problem::new(
                    path.path(),
                    "a start timeout of 0s times out every start at once",
                )
                .help("give the time a start may take, e.g. `30s`"),
            );
            return None;
        }
        Some(d)
    }

    fn string_list(&mut self, v: &Value, path: &At<'_>) -> Option<Vec<String>> {
        match v {
            Value::Sequence(items) => {
                let mut out = Vec::with_capacity(items.len());
                for (i, item) in items.iter().enumerate() {
                    out.push(self.scalar_string(item, &path.index(i))?);
                }
                Some(out)
            }
            other => {
                self.wrong_type(path, "a list of strings", other);
                None
            }
        }
    }

    fn path(&self, s: &str) -> PathBuf {
        normalize(&self.base_dir.join(s))
    }

    fn name(&mut self, name: &str, path: &At<'_>, what: &str) {
        if !valid_name(name) {
            self.problem(
                Problem::new(path.path(), format!("`{name}` is not a valid {what} name"))
                    .help(if name.starts_with('-') {
                        "a name cannot start with `-`: on the command line it would read as an option"
                    } else {
                        "use letters, digits, `.`, `_` and `-` only"
                    }),
            );
        } else if RESERVED_NAMES.contains(&name) {
            self.problem(
                Problem::new(
                    path.path(),
                    format!("`{name}` is reserved and cannot name a {what}"),
                )
                .help("`all` and `both` select every component or repository"),
            );
        }
    }

    fn config(&mut self, root: &Value) -> Config {
        let r = At::ROOT;
        let mut config = Config {
            base_dir: self.base_dir.to_path_buf(),
            defaults: Defaults::default(),
            state_dir: self.base_dir.join(".tta"),
            compose: ComposeSettings::default(),
            repositories: IndexMap::new(),
            components: IndexMap::new(),
            logs: Logs::default(),
        };
        for (key, v) in self.entries(root, &r, Some(ROOT_KEYS)) {
            let path = r.key(&key);
            match key.as_str() {
                "defaults" => self.defaults(v, &path, &mut config.defaults),
                "state_dir" => {
                    if let Some(s) = self.string(v, &path) {
                        config.state_dir = self.path(&s);
                    }
                }
                "compose" => config.compose = self.compose(v, &path),
                "logs" => self.logs(v, &path, &mut config.logs),
                "repositories" => {
                    for (name, rv) in self.entries(v, &path, None) {
                        let rpath = path.key(&name);
                        self.name(&name, &rpath, "repository");
                        if let Some(repo) = self.repository(rv, &rpath) {
                            config.repositories.insert(name, repo);
                        }
                    }
                }
                "components" => {
                    for (name, cv) in self.entries(v, &path, None) {
                        let cpath = path.key(&name);
                        self.name(&name, &cpath, "component");
                        if let Some(c) = self.component(&name, cv, &cpath) {
                            config.components.insert(name, c);
                        }
                    }
                }
                _ => unreachable!("entries() filters unknown keys"),
            }
        }
        config
    }

    fn defaults(&mut self, v: &Value, path: &At<'_>, d: &mut Defaults) {
        for (key, v) in self.entries(v, path, Some(DEFAULTS_KEYS)) {
            let p = path.key(&key);
            match key.as_str() {
                "start_timeout" => {
                    d.start_timeout = self.start_timeout(v, &p).unwrap_or(d.start_timeout);
                }
                "stop_timeout" => d.stop_timeout = self.duration(v, &p).unwrap_or(d.stop_timeout),
                "jobs" => {
                    d.jobs = self
                        .integer(v, &p, 1, 1024)
                        .map_or(d.jobs, |n| usize::try_from(n).unwrap_or(1024));
                }
                "retry" => self.retry(v, &p, &mut d.retry),
                _ => unreachable!(),
            }
        }
    }

    fn retry(&mut self, v: &Value, path: &At<'_>, r: &mut Retry) {
        for (key, v) in self.entries(v, path, Some(RETRY_KEYS)) {
            let p = path.key(&key);
            match key.as_str() {
                "attempts" => {
                    r.attempts = self
                        .integer(v, &p, 1, 100)
                        .map_or(r.attempts, |n| u32::try_from(n).unwrap_or(100));
                }
                "backoff" => r.backoff = self.duration(v, &p).unwrap_or(r.backoff),
                "max_backoff" => r.max_backoff = self.duration(v, &p).unwrap_or(r.max_backoff),
                _ => unreachable!(),
            }
        }
    }

    fn logs(&mut self, v: &Value, path: &At<'_>, logs: &mut Logs) {
        for (key, v) in self.entries(v, path, Some(LOGS_KEYS)) {
            let p = path.key(&key);
            match key.as_str() {
                "max_size" => logs.max_size = self.size(v, &p).unwrap_or(logs.max_size),
                "keep" => {
                    logs.keep = self
                        .integer(v, &p, 0, u64::from(Logs::MAX_KEEP))
                        .and_then(|n| u32::try_from(n).ok())
                        .unwrap_or(logs.keep);
                }
                _ => unreachable!(),
            }
        }
    }

    /// A size such as `10MiB`, at least [`Logs::MIN_SIZE`].
    fn size(&mut self, v: &Value, path: &At<'_>) -> Option<u64> {
        let parsed = match v {
            Value::String(s) => size::parse(s).map_err(|e| e.to_string()),
            Value::Number(n) => Err(size::SizeError::MissingUnit(n.to_string()).to_string()),
            other => {
                self.wrong_type(path, "a size such as `10MiB`", other);
                return None;
            }
        };
        match parsed {
            Ok(n) if n >= Logs::MIN_SIZE => Some(n),
            Ok(n) => {
                self.problem(
                    Problem::new(
                        path.path(),
                        format!(
                            "{} is too small: a log would rotate at almost every line",
                            size::Human(n)
                        ),
                    )
                    .help("use at least `1KiB`, e.g. `10MiB`"),
                );
                None
            }
            Err(e) => {
                self.problem(
                    Problem::new(path.path(), e)
                        .help("KiB, MiB, GiB count in 1024s; KB, MB, GB in 1000s"),
                );
                None
            }
        }
    }

    fn compose(&mut self, v: &Value, path: &At<'_>) -> ComposeSettings {
        let mut c = ComposeSettings::default();
        for (key, v) in self.entries(v, path, Some(COMPOSE_KEYS)) {
            let p = path.key(&key);
            c.command = match v {
                Value::String(s) => self
                    .no_nul(s, &p)
                    .then(|| s.split_whitespace().map(str::to_owned).collect()),
                other => self.string_list(other, &p),
            };
            if c.command.as_ref().is_some_and(Vec::is_empty) {
                self.problem(Problem::new(p.path(), "the compose command is empty").help(
                    "write e.g. `docker compose` or `docker-compose`, or remove the key to detect it",
                ));
                c.command = None;
            }
        }
        c
    }

    fn repository(&mut self, v: &Value, path: &At<'_>) -> Option<Repository> {
        let mut repo = Repository {
            path: PathBuf::new(),
            compose_files: Vec::new(),
            project_name: None,
            profiles: Vec::new(),
            discover: true,
            context: None,
        };
        let mut has_path = false;
        let before = self.problems.len();
        if !matches!(v, Value::Mapping(_)) {
            self.wrong_type(path, "a mapping with at least `path`", v);
            return None;
        }
        for (key, v) in self.entries(v, path, Some(REPOSITORY_KEYS)) {
            let p = path.key(&key);
            match key.as_str() {
                "path" => {
                    if let Some(s) = self.string(v, &p) {
                        repo.path = self.path(&s);
                        has_path = true;
                    }
                }
                "compose_files" => {
                    let files = match v {
                        Value::String(s) => Some(vec![s.clone()]),
                        other => self.string_list(other, &p),
                    };
                    repo.compose_files = files
                        .unwrap_or_default()
                        .into_iter()
                        .map(PathBuf::from)
                        .collect();
                }
                "project_name" => {
                    if let Some(s) = self.string(v, &p) {
                        if valid_project_name(&s) {
                            repo.project_name = Some(s);
                        } else {
                            self.problem(Problem::new(p.path(), format!("`{s}` is not a valid compose project name")).help(
                                "compose project names use lowercase letters, digits, `_` and `-`, and start with a letter or digit",
                            ));
                        }
                    }
                }
                "profiles" => {
                    repo.profiles = self.string_list(v, &p).unwrap_or_default();
                    if let Some(i) = repo.profiles.iter().position(|x| x.trim().is_empty()) {
                        self.problem(
                            Problem::new(p.index(i).path(), "a profile name is empty")
                                .help("remove it, or name a profile of the compose files"),
                        );
                    }
                }
                "discover" => repo.discover = self.bool(v, &p).unwrap_or(true),
                "context" => repo.context = self.non_empty(v, &p, "the docker context"),
                _ => unreachable!(),
            }
        }
        if !has_path && self.problems.len() == before {
            self.problem(
                Problem::new(path.path(), "a repository needs a `path`")
                    .help("add `path: ../the-checkout`, relative to this file"),
            );
        }
        (self.problems.len() == before).then_some(repo)
    }

    fn component(&mut self, name: &str, v: &Value, path: &At<'_>) -> Option<ComponentSpec> {
        let before = self.problems.len();
        if !matches!(v, Value::Mapping(_)) {
            self.wrong_type(path, "a mapping", v);
            return None;
        }
        let mut d = Draft {
            kind: None,
            c: ComponentSpec::new(Kind::Process),
            argv: None,
            shell: None,
        };
        for (key, v) in self.entries(v, path, Some(COMPONENT_KEYS)) {
            self.component_key(name, &key, v, path, &mut d);
        }
        d.c.kind = match d.kind {
            Some(k) => k,
            None if d.c.repository.is_some() => Kind::Compose,
            None if d.argv.is_some() || d.shell.is_some() => Kind::Process,
            None if self.problems.len() > before => return None,
            None => {
                self.problem(Problem::new(path.path(), "the component has no `kind`").help(
                    "add `kind: process` (with `command`), `kind: task`, or `kind: compose` (with `repository`)",
                ));
                return None;
            }
        };
        match d.c.kind {
            Kind::External => self.external_keys(&d, path, before),
            Kind::Compose => self.compose_keys(name, &mut d, path),
            Kind::Process | Kind::Task => self.local_keys(&mut d, path),
        }
        (self.problems.len() == before).then_some(d.c)
    }

    /// One key of a component, into the draft.
    fn component_key(&mut self, name: &str, key: &str, v: &Value, path: &At<'_>, d: &mut Draft) {
        let p = path.key(key);
        let c = &mut d.c;
        match key {
            "kind" => d.kind = self.string(v, &p).and_then(|k| self.kind(&k, &p)),
            "repository" => c.repository = self.string(v, &p),
            "service" => c.service = self.non_empty(v, &p, "the service name"),
            "command" => d.argv = self.command(v, &p),
            "shell" => d.shell = self.non_empty(v, &p, "`shell`"),
            "cwd" => c.cwd = self.string(v, &p).map(|s| self.path(&s)),
            "env" => {
                for (k, ev) in self.entries(v, &p, None) {
                    let kp = p.key(&k);
                    if let Err(why) = check_env_name(&k) {
                        self.problem(Problem::new(kp.path(), why).help(
                            "environment variable names are letters, digits and `_`, without `=`",
                        ));
                        continue;
                    }
                    if let Some(s) = self.scalar_string(ev, &kp) {
                        c.env.insert(k, s);
                    }
                }
            }
            "depends_on" => {
                c.depends_on = self.depends_on(v, &p);
                if let Some(i) = c.depends_on.iter().position(|d| d.name == name) {
                    let at = if matches!(v, Value::Sequence(_)) {
                        p.index(i).path()
                    } else {
                        p.key(name).path()
                    };
                    self.problem(
                        Problem::new(at, format!("`{name}` depends on itself"))
                            .help("remove this dependency"),
                    );
                    c.depends_on.retain(|d| d.name != name);
                }
            }
            "env_file" => c.env_file = self.env_file(v, &p),
            "probe" => c.probe = self.probe(v, &p),
            "start_timeout" => c.start_timeout = self.start_timeout(v, &p),
            "stop_timeout" => c.stop_timeout = self.duration(v, &p),
            "enabled" => c.enabled = self.bool(v, &p).unwrap_or(true),
            "description" => c.description = self.scalar_string(v, &p),
            _ => self.supervision_key(key, v, &p, c),
        }
    }

    /// A key of how `tta up` supervises a component (`restart`, `backoff`, `liveness`, ...).
    fn supervision_key(&mut self, key: &str, v: &Value, p: &At<'_>, c: &mut ComponentSpec) {
        let s = &mut c.supervision;
        match key {
            "restart" => s.restart = self.restart_policy(v, p),
            "max_restarts" => {
                s.max_restarts = self
                    .integer(v, p, 0, 1_000_000)
                    .and_then(|n| u32::try_from(n).ok());
            }
            "backoff" => s.backoff = self.duration(v, p).unwrap_or(s.backoff),
            "max_backoff" => s.max_backoff = self.duration(v, p).unwrap_or(s.max_backoff),
            "reset_after" => s.reset_after = self.duration(v, p).unwrap_or(s.reset_after),
            "liveness" => s.liveness = self.liveness(v, p),
            "watch" => {
                let globs = match v {
                    Value::String(one) => self.no_nul(one, p).then(|| vec![one.clone()]),
                    other => self.string_list(other, p),
                };
                s.watch = globs.unwrap_or_default();
                if let Some(i) = s.watch.iter().position(|g| g.trim().is_empty()) {
                    self.problem(
                        Problem::new(p.index(i).path(), "a `watch` glob is empty")
                            .help("write a path or a glob relative to the component's `cwd`, e.g. `src/**/*.py`"),
                    );
                }
            }
            _ => unreachable!("entries() keeps only component keys"),
        }
    }

    /// `restart: no | on-failure | always` (YAML 1.1's `no`, a boolean false, is `no`).
    fn restart_policy(&mut self, v: &Value, p: &At<'_>) -> Option<RestartPolicy> {
        let text = match v {
            Value::Bool(false) => return Some(RestartPolicy::No),
            Value::String(s) => s.clone(),
            other => {
                self.wrong_type(p, "`no`, `on-failure` or `always`", other);
                return None;
            }
        };
        RestartPolicy::parse(&text).or_else(|| {
            let names = ["no", "on-failure", "always"];
            let help = did_you_mean(&text, names)
                .unwrap_or_else(|| format!("expected one of: {}", names.join(", ")));
            self.problem(
                Problem::new(p.path(), format!("unknown restart policy `{text}`")).help(help),
            );
            None
        })
    }

    /// `liveness:`: a probe (default interval 5s) with `failure_threshold` (default 3).
    fn liveness(&mut self, v: &Value, path: &At<'_>) -> Option<Liveness> {
        let before = self.problems.len();
        let mut threshold = Liveness::DEFAULT_THRESHOLD;
        let mut probe_keys = yaml_serde::Mapping::new();
        let mut interval_given = false;
        for (key, x) in self.entries(v, path, Some(LIVENESS_KEYS)) {
            if key == "failure_threshold" {
                threshold = self
                    .integer(x, &path.key(&key), 1, 1_000_000)
                    .and_then(|n| u32::try_from(n).ok())
                    .unwrap_or(threshold);
                continue;
            }
            interval_given |= key == "interval";
            probe_keys.insert(Value::String(key), x.clone());
        }
        if self.problems.len() > before {
            return None;
        }
        let mut probe = self.probe(&Value::Mapping(probe_keys), path)?;
        if !interval_given {
            probe.interval = Liveness::DEFAULT_INTERVAL;
        }
        Some(Liveness {
            probe,
            failure_threshold: threshold,
        })
    }

    /// `env_file:` as Compose takes it: a path, a list of paths, or a list of
    /// `{ path, required }`.
    fn env_file(&mut self, v: &Value, p: &At<'_>) -> Vec<EnvFile> {
        let one = |this: &mut Self, item: &Value, at: &At<'_>| -> Option<EnvFile> {
            match item {
                Value::String(_) => {
                    this.non_empty(item, at, "the env file's path")
                        .map(|s| EnvFile {
                            path: this.path(&s),
                            required: true,
                        })
                }
                Value::Mapping(_) => {
                    let mut file = EnvFile {
                        path: PathBuf::new(),
                        required: true,
                    };
                    let mut has_path = false;
                    for (key, x) in this.entries(item, at, Some(ENV_FILE_KEYS)) {
                        let kp = at.key(&key);
                        if key == "path" {
                            if let Some(s) = this.non_empty(x, &kp, "the env file's path") {
                                file.path = this.path(&s);
                                has_path = true;
                            }
                        } else {
                            file.required = this.bool(x, &kp).unwrap_or(true);
                        }
                    }
                    if !has_path {
                        this.problem(
                            Problem::new(at.path(), "an `env_file` entry needs a `path`")
                                .help("write `{ path: .env.local, required: false }`"),
                        );
                    }
                    has_path.then_some(file)
                }
                other => {
                    this.wrong_type(at, "a path or `{ path, required }`", other);
                    None
                }
            }
        };
        match v {
            Value::Sequence(items) => items
                .iter()
                .enumerate()
                .filter_map(|(i, item)| one(self, item, &p.index(i)))
                .collect(),
            other => one(self, other, p).into_iter().collect(),
        }
    }

    fn kind(&mut self, s: &str, p: &At<'_>) -> Option<Kind> {
        match s {
            "compose" => Some(Kind::Compose),
            "process" => Some(Kind::Process),
            "task" => Some(Kind::Task),
            "external" => Some(Kind::External),
            other => {
                let help = did_you_mean(other, ["compose", "process", "task", "external"])
                    .unwrap_or_else(|| "expected compose, process, task or external".into());
                self.problem(Problem::new(p.path(), format!("unknown kind `{other}`")).help(help));
                None
            }
        }
    }

    /// `command:`: an argv list (a string is a mistake with a suggestion).
    fn command(&mut self, v: &Value, p: &At<'_>) -> Option<Vec<String>> {
        let argv = match v {
            Value::String(s) => {
                self.problem(
                    Problem::new(p.path(), "`command` is an argv list, run without a shell").help(
                        format!(
                            "write `command: [{}]`, or `shell: \"{s}\"` to run it with sh -c",
                            s.split_whitespace().collect::<Vec<_>>().join(", ")
                        ),
                    ),
                );
                None
            }
            other => self.string_list(other, p),
        };
        if argv.as_ref().is_some_and(Vec::is_empty) {
            self.problem(Problem::new(p.path(), "`command` is empty"));
        } else if argv.as_ref().is_some_and(|a| a[0].trim().is_empty()) {
            self.empty_program(p);
        }
        argv
    }

    /// An argv whose program is an empty string: nothing could ever run.
    fn empty_program(&mut self, p: &At<'_>) {
        self.problem(
            Problem::new(p.index(0).path(), "the program to run is an empty string")
                .help("name the program first, e.g. `[python3, app.py]`"),
        );
    }

    fn external_keys(&mut self, d: &Draft, path: &At<'_>, before: usize) {
        let c = &d.c;
        if c.probe.is_none() && self.problems.len() == before {
            self.problem(Problem::new(path.path(), "an external component needs a `probe`").help(
                "it is up when its probe passes, e.g. `probe: { http: \"http://localhost:1234/v1/models\" }`",
            ));
        }
        self.misplaced(
            path,
            &[
                ("command", d.argv.is_some()),
                ("shell", d.shell.is_some()),
                ("cwd", c.cwd.is_some()),
                ("env", !c.env.is_empty()),
                ("env_file", !c.env_file.is_empty()),
                ("repository", c.repository.is_some()),
                ("service", c.service.is_some()),
                ("restart", c.supervision.restart.is_some()),
                ("liveness", c.supervision.liveness.is_some()),
                ("watch", !c.supervision.watch.is_empty()),
            ],
            |key| format!("`{key}` does not apply to an external component"),
            "tta does not start external components; it only probes them",
        );
    }

    fn compose_keys(&mut self, name: &str, d: &mut Draft, path: &At<'_>) {
        if d.c.repository.is_none() {
            self.problem(Problem::new(
                path.path(),
                "a compose component needs a `repository`",
            ));
        }
        self.misplaced(
            path,
            &[
                ("command", d.argv.is_some()),
                ("shell", d.shell.is_some()),
                ("cwd", d.c.cwd.is_some()),
                ("env", !d.c.env.is_empty()),
                ("env_file", !d.c.env_file.is_empty()),
            ],
            |key| format!("`{key}` does not apply to a compose component"),
            "compose services take their command and environment from the compose file",
        );
        self.misplaced(
            path,
            &[("watch", !d.c.supervision.watch.is_empty())],
            |key| format!("`{key}` applies to process components only"),
            "a compose service is rebuilt by compose; `tta up` reloads when its compose files change",
        );
        if d.c.service.is_none() {
            d.c.service = Some(name.to_owned());
        }
    }

    fn local_keys(&mut self, d: &mut Draft, path: &At<'_>) {
        d.c.command = match (d.argv.take(), d.shell.take()) {
            (Some(a), None) => Some(CommandSpec::Argv(a)),
            (None, Some(s)) => Some(CommandSpec::Shell(s)),
            (Some(_), Some(_)) => {
                self.problem(Problem::new(
                    path.key("shell").path(),
                    "give either `command` or `shell`, not both",
                ));
                None
            }
            (None, None) => {
                self.problem(
                    Problem::new(
                        path.path(),
                        format!(
                            "a {} component needs a `command` or `shell`",
                            d.c.kind.as_str()
                        ),
                    )
                    .help("add e.g. `command: [python3, -m, http.server, \"8000\"]`"),
                );
                None
            }
        };
        self.misplaced(
            path,
            &[
                ("repository", d.c.repository.is_some()),
                ("service", d.c.service.is_some()),
            ],
            |key| format!("`{key}` applies only to compose components"),
            "set `kind: compose`, or remove the key",
        );
        if d.c.kind == Kind::Task {
            self.misplaced(
                path,
                &[("watch", !d.c.supervision.watch.is_empty())],
                |key| format!("`{key}` applies to process components only"),
                "a task runs once; `watch` restarts long-running processes",
            );
        }
    }

    /// One problem for each key that is set but does not belong to this kind.
    fn misplaced(
        &mut self,
        path: &At<'_>,
        keys: &[(&str, bool)],
        message: impl Fn(&str) -> String,
        help: &str,
    ) {
        for &(key, set) in keys {
            if set {
                self.problem(Problem::new(path.key(key).path(), message(key)).help(help));
            }
        }
    }

    fn depends_on(&mut self, v: &Value, path: &At<'_>) -> Vec<Dependency> {
        let mut out = Vec::new();
        match v {
            Value::Null => {}
            Value::Sequence(items) => {
                for (i, item) in items.iter().enumerate() {
                    if let Some(name) = self.string(item, &path.index(i)) {
                        out.push(Dependency {
                            name,
                            condition: Condition::Healthy,
                            required: true,
                            restart: false,
                        });
                    }
                }
            }
            Value::Mapping(_) => {
                for (name, dv) in self.entries(v, path, None) {
                    let p = path.key(&name);
                    let mut dep = Dependency {
                        name: name.clone(),
                        condition: Condition::Healthy,
                        required: true,
                        restart: false,
                    };
                    match dv {
                        Value::Null => {}
                        Value::String(s) => dep.condition = self.condition(s, &p),
                        Value::Mapping(_) => {
                            for (key, x) in self.entries(dv, &p, Some(DEPENDENCY_KEYS)) {
                                let kp = p.key(&key);
                                match key.as_str() {
                                    "condition" => {
                                        if let Some(s) = self.string(x, &kp) {
                                            dep.condition = self.condition(&s, &kp);
                                        }
                                    }
                                    "required" => dep.required = self.bool(x, &kp).unwrap_or(true),
                                    "restart" => dep.restart = self.bool(x, &kp).unwrap_or(false),
                                    _ => unreachable!(),
                                }
                            }
                        }
                        other => self.wrong_type(
                            &p,
                            "a condition or a mapping with `condition` and `required`",
                            other,
                        ),
                    }
                    out.push(dep);
                }
            }
            other => self.wrong_type(
                path,
                "a list of component names or a mapping of name to condition",
                other,
            ),
        }
        out
    }

    fn condition(&mut self, s: &str, path: &At<'_>) -> Condition {
        Condition::parse(s).unwrap_or_else(|| {
            let names = ["started", "healthy", "completed_successfully"];
            let help = did_you_mean(s, names)
                .unwrap_or_else(|| format!("expected one of: {}", names.join(", ")));
            self.problem(Problem::new(path.path(), format!("unknown condition `{s}`")).help(help));
            Condition::Healthy
        })
    }

    /// The check of a `tcp`, `http` or `exec` key, if it is valid.
    fn probe_check(&mut self, key: &str, x: &Value, p: &At<'_>) -> Option<ProbeCheck> {
        match key {
            "tcp" => {
                let s = self.scalar_string(x, p)?;
                match check_host_port(&s) {
                    Ok(()) => Some(ProbeCheck::Tcp(s)),
                    Err(e) => {
                        self.problem(
                            Problem::new(p.path(), e)
                                .help("write `host:port`, e.g. `127.0.0.1:7687`"),
                        );
                        None
                    }
                }
            }
            "http" => {
                let s = self.string(x, p)?;
                match check_url(&s) {
                    Ok(()) => Some(ProbeCheck::Http {
                        url: s,
                        status: None,
                    }),
                    Err(e) => {
                        self.problem(Problem::new(p.path(), e));
                        None
                    }
                }
            }
            _ => {
                let a = self.string_list(x, p)?;
                if a.is_empty() {
                    self.problem(Problem::new(p.path(), "`exec` is empty"));
                    return None;
                }
                if a[0].trim().is_empty() {
                    self.empty_program(p);
                    return None;
                }
                Some(ProbeCheck::Exec(a))
            }
        }
    }

    /// What holds across a probe's keys: positive durations, one check, `status` on http.
    fn probe_rules(
        &mut self,
        probe: &mut Probe,
        mut checks: Vec<ProbeCheck>,
        status: Option<u16>,
        path: &At<'_>,
        before: usize,
    ) {
        if probe.interval.is_zero() {
            self.problem(Problem::new(
                path.key("interval").path(),
                "the probe interval must be more than 0s",
            ));
        }
        if probe.timeout.is_zero() {
            self.problem(Problem::new(
                path.key("timeout").path(),
                "the probe timeout must be more than 0s",
            ));
        }
        match checks.len() {
            1 => probe.check = checks.pop().expect("one check"),
            0 if self.problems.len() == before => {
                self.problem(
                    Problem::new(path.path(), "the probe has no check")
                        .help("add one of `tcp`, `http` or `exec`"),
                );
            }
            0 => {}
            _ => self.problem(Problem::new(
                path.path(),
                "a probe has one check: `tcp`, `http` or `exec`, not several",
            )),
        }
        match (&mut probe.check, status) {
            (ProbeCheck::Http { status: s, .. }, Some(code)) => *s = Some(code),
            (_, Some(_)) => self.problem(Problem::new(
                path.key("status").path(),
                "`status` applies only to `http` probes",
            )),
            _ => {}
        }
    }

    /// Whether an HTTP probe can ever see `status` as its answer: never a 1xx (not a final
    /// answer), nor a redirect, which the probe follows.
    fn reachable_status(&mut self, status: u16, p: &At<'_>) -> bool {
        let why = match status {
            100..=199 => "is not a final answer, so a probe never sees it",
            301 | 302 | 303 | 307 | 308 => {
                "is a redirect, which the probe follows, so it sees the status of the page it leads to"
            }
            _ => return true,
        };
        self.problem(
            Problem::new(p.path(), format!("status {status} {why}"))
                .help("expect the status of the final answer, e.g. `200`, or remove `status` to accept any 2xx"),
        );
        false
    }

    fn probe(&mut self, v: &Value, path: &At<'_>) -> Option<Probe> {
        let before = self.problems.len();
        let mut checks = Vec::new();
        let mut status = None;
        let mut probe = Probe {
            check: ProbeCheck::Exec(Vec::new()),
            interval: Probe::DEFAULT_INTERVAL,
            timeout: Probe::DEFAULT_TIMEOUT,
            retries: None,
            start_period: Duration::ZERO,
        };
        for (key, x) in self.entries(v, path, Some(PROBE_KEYS)) {
            let p = path.key(&key);
            match key.as_str() {
                "tcp" | "http" | "exec" => checks.extend(self.probe_check(&key, x, &p)),
                "status" => {
                    status = self
                        .integer(x, &p, 100, 599)
                        .and_then(|n| u16::try_from(n).ok())
                        .filter(|n| self.reachable_status(*n, &p));
                }
                "interval" => probe.interval = self.duration(x, &p).unwrap_or(probe.interval),
                "timeout" => probe.timeout = self.duration(x, &p).unwrap_or(probe.timeout),
                "retries" => {
                    probe.retries = self
                        .integer(x, &p, 0, 1_000_000)
                        .and_then(|n| u32::try_from(n).ok());
                }
                "start_period" => probe.start_period = self.duration(x, &p).unwrap_or_default(),
                _ => unreachable!(),
            }
        }
        self.probe_rules(&mut probe, checks, status, path, before);
        (self.problems.len() == before).then_some(probe)
    }
}

/// Removes `.` and resolves `..` lexically (`/a/config/../b` → `/a/b`), so that paths read
/// well in messages; symbolic links are left alone, as the file system will follow them.
pub(crate) fn normalize(p: &Path) -> PathBuf {
    use std::path::Component;
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir
                if matches!(out.components().next_back(), Some(Component::Normal(_))) =>
            {
                out.pop();
            }
            other => out.push(other),
        }
    }
    if out.as_os_str().is_empty() {
        PathBuf::from(".")
    } else {
        out
    }
}

/// Checks `host:port` (with `[v6]:port`).
pub(crate) fn check_host_port(s: &str) -> Result<(), String> {
    // `{engine_host}` is the host of the component's engine, known when it runs.
    let s = &s.replace(super::model::ENGINE_HOST, "engine-host");
    let Some((host, port)) = s.rsplit_once(':') else {
        return Err(format!("`{s}` has no port"));
    };
    if host.is_empty() {
        return Err(format!("`{s}` has no host"));
    }
    match port.parse::<u16>() {
        Ok(p) if p > 0 => {}
        _ => return Err(format!("`{port}` is not a port (1 to 65535)")),
    }
    if let Some(v6) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        return v6
            .parse::<std::net::Ipv6Addr>()
            .map(drop)
            .map_err(|_| format!("`{host}` is not an IPv6 address"));
    }
    if host.contains(':') {
        return Err(format!(
            "`{s}` is ambiguous: write an IPv6 address in brackets, e.g. `[::1]:{port}`"
        ));
    }
    if !host
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'))
    {
        return Err(format!(
            "`{host}` is not a host name or address (letters, digits, `.`, `-`)"
        ));
    }
    Ok(())
}

/// Checks an environment variable's name: `execve` takes `NAME=value`, so a name with `=`
/// (or a NUL byte, or none at all) cannot be passed.
pub(crate) fn check_env_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        Err("an environment variable has an empty name".into())
    } else if name.contains('=') {
        Err(format!(
            "`{name}` cannot name an environment variable: it contains `=`"
        ))
    } else if name.contains('\0') {
        Err("an environment variable's name contains a NUL byte".into())
    } else {
        Ok(())
    }
}

fn check_url(s: &str) -> Result<(), String> {
    let s = &s.replace(super::model::ENGINE_HOST, "engine-host");
    let Some(rest) = s.strip_prefix("http://") else {
        return Err(if s.starts_with("https://") {
            format!(
                "`{s}`: https probes are not supported; probe the plain-HTTP port, or use an `exec` probe"
            )
        } else {
            format!("`{s}` is not an http:// URL")
        });
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    if host_port.is_empty() {
        return Err(format!("`{s}` has no host"));
    }
    if s.parse::<ureq::http::Uri>().is_err() {
        return Err(format!(
            "`{s}` is not a valid URL (spaces and other special characters must be %-encoded)"
        ));
    }
    let authority = host_port;
    if let Some((_, port)) = authority.rsplit_once(':')
        && !port.ends_with(']')
        && !matches!(port.parse::<u16>(), Ok(p) if p > 0)
    {
        return Err(format!("`{port}` in `{s}` is not a port (1 to 65535)"));
    }
    Ok(())
}

/// Compose's rule for project names.
pub(crate) fn valid_project_name(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && (b[0].is_ascii_lowercase() || b[0].is_ascii_digit())
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'_' || *c == b'-')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_str(s: &str) -> Result<Config, Vec<Problem>> {
        let v: Value = yaml_serde::from_str(s).unwrap();
        parse(&v, Path::new("/base"))
    }

    fn messages(s: &str) -> Vec<String> {
        parse_str(s)
            .unwrap_err()
            .into_iter()
            .map(|p| {
                format!(
                    "{}: {}{}",
                    p.path,
                    p.message,
                    p.help.map(|h| format!(" ({h})")).unwrap_or_default()
                )
            })
            .collect()
    }

    #[test]
    fn empty_document_is_an_empty_stack() {
        let c = parse_str("{}").unwrap();
        assert!(c.components.is_empty());
        assert_eq!(c.defaults, Defaults::default());
        assert_eq!(c.state_dir, Path::new("/base/.tta"));
    }

    #[test]
    fn full_component_parses() {
        let c = parse_str(
            r#"
defaults: { start_timeout: 5s, jobs: 2, retry: { attempts: 1 } }
repositories:
  tta.dev: { path: ../dev, profiles: [gpu] }
components:
  db: { repository: tta.dev, service: neo4j, probe: { tcp: "127.0.0.1:7687" } }
  api:
    command: [python3, app.py]
    env: { PORT: 8000, DEBUG: true }
    depends_on: { db: healthy, seed: { condition: completed_successfully, required: false } }
    probe: { http: "http://127.0.0.1:8000/health", status: 204, interval: 100ms }
  seed: { kind: task, shell: "echo hi" }
"#,
        )
        .unwrap();
        assert_eq!(c.defaults.jobs, 2);
        assert_eq!(
            c.repositories["tta.dev"].path,
            Path::new("/dev"),
            "normalised: /base/../dev"
        );
        assert_eq!(c.components["db"].kind, Kind::Compose);
        let api = &c.components["api"];
        assert_eq!(api.kind, Kind::Process);
        assert_eq!(api.env["PORT"], "8000");
        assert_eq!(
            api.depends_on[1].condition,
            Condition::CompletedSuccessfully
        );
        assert!(!api.depends_on[1].required);
        assert!(matches!(
            api.probe.as_ref().unwrap().check,
            ProbeCheck::Http {
                status: Some(204),
                ..
            }
        ));
        assert_eq!(
            c.components["seed"].command.as_ref().unwrap().argv()[0],
            "sh"
        );
    }

    #[test]
    fn a_name_that_would_read_as_an_option_is_refused_with_why() {
        let m = messages(
            "repositories:\n  -r: { path: r }\ncomponents:\n  -x: { command: [sleep, '1'] }\n  ok-x.y_z: { command: [sleep, '1'] }\n",
        );
        assert_eq!(m.len(), 2, "{m:#?}");
        for (key, name) in [("repositories.-r", "-r"), ("components.-x", "-x")] {
            assert!(
                m.iter().any(|l| l.starts_with(key)
                    && l.contains(&format!("`{name}` is not a valid"))
                    && l.contains("cannot start with `-`")),
                "{key}: {m:#?}"
            );
        }
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let m = messages(
            r"
defaults: { start_timout: 5s, jobs: 0, stop_timeout: 30 }
components:
  a: { kind: proces, command: [x] }
  b: { command: 'echo hi', depend_on: [a] }
  all: { kind: task, command: [true] }
  c: { kind: task, command: [x], probe: { tcp: nohost } }
",
        );
        let joined = m.join("\n");
        assert!(
            joined.contains(
                "defaults.start_timout: unknown key `start_timout` (did you mean `start_timeout`?)"
            ),
            "{joined}"
        );
        assert!(
            joined.contains("defaults.jobs: expected a whole number from 1 to 1024"),
            "{joined}"
        );
        assert!(
            joined.contains("defaults.stop_timeout: `30` has no unit"),
            "{joined}"
        );
        assert!(
            joined.contains("unknown kind `proces` (did you mean `process`?)"),
            "{joined}"
        );
        assert!(
            joined.contains(
                "components.b.depend_on: unknown key `depend_on` (did you mean `depends_on`?)"
            ),
            "{joined}"
        );
        assert!(
            joined.contains("components.b.command: `command` is an argv list"),
            "{joined}"
        );
        assert!(
            joined.contains("components.all: `all` is reserved"),
            "{joined}"
        );
        assert!(joined.contains("`nohost` has no port"), "{joined}");
        assert_eq!(m.len(), 8, "{joined}");
    }

    #[test]
    fn the_logs_section_has_defaults_sizes_and_limits() {
        let c = parse_str("{}").unwrap();
        assert_eq!(
            c.logs,
            Logs {
                max_size: 10 << 20,
                keep: 1
            }
        );
        let c = parse_str("logs: { max_size: 512KiB, keep: 0 }").unwrap();
        assert_eq!(
            c.logs,
            Logs {
                max_size: 512 << 10,
                keep: 0
            }
        );
        let m = messages("logs: { max_size: 10, keep: 101 }\n").join("\n");
        assert!(
            m.contains("logs.max_size: `10` has no unit; write `10MiB`"),
            "{m}"
        );
        assert!(
            m.contains("logs.keep: expected a whole number from 0 to 100"),
            "{m}"
        );
        let m = messages("logs: { max_size: 10mb, kep: 1 }\n").join("\n");
        assert!(m.contains("unknown unit `mb`"), "{m}");
        assert!(m.contains("did you mean `keep`?"), "{m}");
        let m = messages("logs: { max_size: 10B }\n").join("\n");
        assert!(m.contains("10B is too small"), "{m}");
    }

    #[test]
    fn supervision_keys_parse_with_defaults_and_every_mistake_is_named() {
        let c = parse_str(
            r#"
components:
  db: { command: [x], restart: always, max_restarts: 5, backoff: 0s, max_backoff: 2s, reset_after: 1m }
  api:
    command: [x]
    depends_on: { db: { condition: healthy, restart: true } }
    liveness: { http: "http://127.0.0.1:1/", failure_threshold: 2 }
    watch: ["src/**/*.py", Cargo.toml]
  t: { kind: task, command: [x], restart: no }
"#,
        )
        .unwrap();
        let db = &c.components["db"].supervision;
        assert_eq!(db.policy(Kind::Process), RestartPolicy::Always);
        assert_eq!((db.max_restarts, db.backoff), (Some(5), Duration::ZERO));
        let api = &c.components["api"];
        assert!(api.depends_on[0].restart);
        let l = api.supervision.liveness.as_ref().unwrap();
        assert_eq!(
            (l.failure_threshold, l.probe.interval),
            (2, Liveness::DEFAULT_INTERVAL)
        );
        assert_eq!(api.supervision.policy(api.kind), RestartPolicy::OnFailure);
        assert_eq!(api.supervision.watch.len(), 2);
        assert_eq!(
            c.components["t"].supervision.restart,
            Some(RestartPolicy::No)
        );
        let m = messages(
            r#"
components:
  a: { command: [x], restart: sometimes, liveness: { tcp: "h:1", retries: 3 } }
  b: { kind: task, command: [x], watch: [src] }
  c: { kind: external, probe: { tcp: "h:1" }, restart: always }
"#,
        )
        .join("\n");
        assert!(m.contains("unknown restart policy `sometimes`"), "{m}");
        assert!(
            m.contains("components.a.liveness.retries: unknown key"),
            "{m}"
        );
        assert!(
            m.contains("components.b.watch: `watch` applies to process components only"),
            "{m}"
        );
        assert!(
            m.contains("components.c.restart: `restart` does not apply to an external"),
            "{m}"
        );
    }

    #[test]
    fn ports_and_urls_are_checked() {
        assert!(check_host_port("127.0.0.1:7687").is_ok());
        assert!(check_host_port("[::1]:80").is_ok());
        assert!(check_host_port("h:0").is_err());
        assert!(check_host_port("h:70000").is_err());
        assert!(check_url("http://localhost:1234/v1/models").is_ok());
        assert!(check_url("https://x").is_err());
        assert!(check_url("http://x:99999/").is_err());
    }
}
