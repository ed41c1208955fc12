//! Discovery of compose services as components.
//!
//! Each repository with `discover: true` (the default) whose folder exists contributes its
//! compose services as components named `<repo>/<service>`, with the compose file's
//! `depends_on` (short and long form, conditions, `required: false`) as edges and whether
//! the service has a healthcheck. A component declared under `components:` for the same
//! repository and service takes the discovered one's place and keeps its own name: edges
//! the compose file gives to or from that service are moved onto it. A bare service name in
//! a `depends_on` list is rewritten to its full name when exactly one compose component
//! has that service.
//!
//! Files are read the way Compose reads them (the `file` module); services whose `profiles` are
//! not enabled by the repository's `profiles` (or `COMPOSE_PROFILES` when it has none) are
//! left out. Discovery runs on every command that loads the configuration, so it only
//! reads files: no `docker` call. A repository whose folder is missing is skipped here (the
//! commands that need it stop with "repository NAME not found at PATH"); every other
//! problem becomes a [`Problem`] of the repository, naming the compose file and, for YAML
//! errors, its line and column. Nothing here aborts loading or panics.

mod file;
mod interpolate;

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use indexmap::IndexMap;
use yaml_serde::{Mapping, Value};

pub use interpolate::{Vars, interpolate, parse_dotenv};

use crate::config::Config;
use crate::config::keypath::KeyPath;
use crate::config::model::{ComponentSpec, Condition, Dependency, Kind, Repository};
use crate::config::problem::{Problem, did_you_mean};

/// The compose file names looked for, in order, when a repository names none.
pub const DEFAULT_FILES: [&str; 4] = [
    "compose.yaml",
    "compose.yml",
    "docker-compose.yml",
    "docker-compose.yaml",
];

/// Override files Compose adds to the default file, the first one found.
pub const OVERRIDE_FILES: [&str; 4] = [
    "compose.override.yaml",
    "compose.override.yml",
    "docker-compose.override.yml",
    "docker-compose.override.yaml",
];

/// A compose service, as far as discovery sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Service {
    /// Its name in the compose file.
    pub name: String,
    /// What it depends on, in file order.
    pub depends_on: Vec<ServiceDep>,
    /// It has a healthcheck (not disabled).
    pub healthcheck: bool,
    /// Its profiles allow it (it has none, or one of them is enabled).
    pub enabled: bool,
}

/// One `depends_on` entry of a service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceDep {
    /// The service depended on.
    pub service: String,
    /// Compose's condition (the short form means `service_started`).
    pub condition: Condition,
    /// False for `required: false`.
    pub required: bool,
}

/// The compose files of a repository as they are passed with `-f` (relative to its
/// folder unless absolute): the configured ones, or the first default file name found
/// plus the first override file found, as Compose itself would pick them.
pub fn compose_files(repo: &Repository) -> Result<Vec<PathBuf>, String> {
    if !repo.compose_files.is_empty() {
        return Ok(repo.compose_files.clone());
    }
    let first = |names: &[&str]| {
        names
            .iter()
            .find(|n| repo.path.join(n).is_file())
            .map(PathBuf::from)
    };
    let Some(main) = first(&DEFAULT_FILES) else {
        return Err(format!(
            "no compose file in {} (looked for {})",
            repo.path.display(),
            DEFAULT_FILES.join(", ")
        ));
    };
    Ok(std::iter::once(main)
        .chain(first(&OVERRIDE_FILES))
        .collect())
}

/// Whether a repository's compose files declare an external network (one shared with
/// other projects). Compose `up` calls on a shared network must not run concurrently; a
/// file that cannot be read counts as sharing, to be safe. Reads only the top-level
/// `networks:` of each file (no interpolation, no `include`).
pub fn uses_external_network(repo: &Repository) -> bool {
    let Ok(files) = compose_files(repo) else {
        return true;
    };
    files.iter().any(|f| {
        let Ok(text) = std::fs::read_to_string(repo.path.join(f)) else {
            return true;
        };
        let Ok(doc) = yaml_serde::from_str::<Value>(&text) else {
            return true;
        };
        let Some(Value::Mapping(networks)) = doc.get("networks") else {
            return false;
        };
        networks.values().any(|n| match n.get("external") {
            Some(Value::Bool(b)) => *b,
            Some(Value::Mapping(_)) => true,
            Some(Value::String(s)) => s == "true",
            _ => false,
        })
    })
}

/// The profiles enabled for a repository: its `profiles`, or else `COMPOSE_PROFILES` from
/// the environment or its `.env` file.
fn enabled_profiles(repo: &Repository, vars: &Vars) -> Vec<String> {
    if !repo.profiles.is_empty() {
        return repo.profiles.clone();
    }
    vars.get("COMPOSE_PROFILES")
        .map(|s| {
            s.split(',')
                .map(str::trim)
                .filter(|p| !p.is_empty())
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

/// Reads a repository's services (all of them, with `enabled` set from the profiles).
/// `display` shows a path to the user. `Err` holds every problem, each naming its file.
pub fn load_services<S: std::hash::BuildHasher>(
    repo: &Repository,
    env: &HashMap<String, String, S>,
    display: &dyn Fn(&Path) -> String,
) -> Result<Vec<Service>, Vec<String>> {
    let files: Vec<PathBuf> = compose_files(repo)
        .map_err(|e| vec![e])?
        .into_iter()
        .map(|f| repo.path.join(f))
        .collect();
    let process = env.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    let mut loader = file::Loader::new(process, display);
    let vars = loader.vars(&repo.path, &[]);
    let merged = loader.project(&files, &vars);
    if !loader.errors.is_empty() {
        return Err(loader.errors);
    }
    let profiles = enabled_profiles(repo, &vars);
    let shown = files
        .iter()
        .map(|f| display(f))
        .collect::<Vec<_>>()
        .join(", ");
    let mut errors = Vec::new();
    let mut services = Vec::with_capacity(merged.len());
    for (k, v) in &merged {
        let Some(name) = file::key_string(k) else {
            continue;
        };
        let empty = Mapping::new();
        let m = v.as_mapping().unwrap_or(&empty);
        services.push(Service {
            depends_on: depends_on(&name, m, &mut errors),
            healthcheck: has_healthcheck(m),
            enabled: profile_enabled(m, &profiles),
            name,
        });
    }
    let known: HashSet<&str> = services.iter().map(|s| s.name.as_str()).collect();
    for s in &services {
        for d in &s.depends_on {
            if !known.contains(d.service.as_str()) {
                errors.push(format!(
                    "{shown}: service `{}` depends on undefined service `{}`",
                    s.name, d.service
                ));
            }
        }
    }
    if errors.is_empty() {
        Ok(services)
    } else {
        Err(errors)
    }
}

fn depends_on(name: &str, svc: &Mapping, errors: &mut Vec<String>) -> Vec<ServiceDep> {
    let Some(dep) = svc.get("depends_on") else {
        return Vec::new();
    };
    let Value::Mapping(m) = dep else {
        errors.push(format!(
            "service `{name}`: `depends_on` must be a list or a mapping of service names"
        ));
        return Vec::new();
    };
    let mut out = Vec::with_capacity(m.len());
    for (k, v) in m {
        let Some(service) = file::key_string(k) else {
            continue;
        };
        let condition = match v.get("condition") {
            None => Some(Condition::Started),
            Some(Value::String(c)) if c.starts_with("service_") => Condition::parse(c),
            Some(_) => None,
        };
        let Some(condition) = condition else {
            errors.push(format!(
                "service `{name}`: unknown `depends_on` condition for `{service}` (expected service_started, service_healthy or service_completed_successfully)"
            ));
            continue;
        };
        let required = !matches!(v.get("required"), Some(Value::Bool(false)));
        out.push(ServiceDep {
            service,
            condition,
            required,
        });
    }
    out
}

fn has_healthcheck(svc: &Mapping) -> bool {
    let Some(Value::Mapping(h)) = svc.get("healthcheck") else {
        return false;
    };
    if matches!(h.get("disable"), Some(Value::Bool(true))) {
        return false;
    }
    match h.get("test") {
        Some(Value::Sequence(t)) => t.first().and_then(Value::as_str) != Some("NONE"),
        Some(Value::String(s)) => s != "NONE",
        _ => true,
    }
}

fn profile_enabled(svc: &Mapping, enabled: &[String]) -> bool {
    match svc.get("profiles") {
        Some(Value::Sequence(p)) if !p.is_empty() => p.iter().any(|x| {
            x.as_str()
                .is_some_and(|x| enabled.iter().any(|e| e == x || e == "*"))
        }),
        _ => true,
    }
}

/// A path relative to the config file's folder when it is inside it.
fn display_path(p: &Path, base: &Path) -> String {
    p.strip_prefix(base).unwrap_or(p).display().to_string()
}

/// Adds discovered components to `config` and returns the problems found.
pub fn apply(config: &mut Config) -> Vec<Problem> {
    let env: HashMap<String, String> = crate::config::env::process_vars().collect();
    apply_with_env(config, &env)
}

/// [`apply`] with an explicit environment for interpolation.
pub fn apply_with_env<S: std::hash::BuildHasher>(
    config: &mut Config,
    env: &HashMap<String, String, S>,
) -> Vec<Problem> {
    let mut problems = Vec::new();
    let mut declared: HashMap<(String, String), String> = HashMap::new();
    for (name, spec) in &config.components {
        if spec.kind == Kind::Compose
            && let (Some(r), Some(s)) = (&spec.repository, &spec.service)
        {
            declared
                .entry((r.clone(), s.clone()))
                .or_insert_with(|| name.clone());
        }
    }
    let base_dir = config.base_dir.clone();
    let display = |p: &Path| display_path(p, &base_dir);
    let mut found: IndexMap<String, Vec<Service>> = IndexMap::new();
    for (rname, repo) in &config.repositories {
        if !repo.discover || !repo.path.is_dir() {
            continue;
        }
        let at = repo_key(rname, repo);
        match load_services(repo, env, &display) {
            Ok(services) => {
                found.insert(rname.clone(), services);
            }
            Err(errors) => problems.extend(errors.into_iter().map(|e| {
                Problem::new(at.clone(), e)
                    .help("fix the compose file; `tta compose config` shows how compose reads it")
            })),
        }
    }
    problems.extend(check_declared(config, &found));
    for (rname, services) in &found {
        let target = |s: &str| {
            declared
                .get(&(rname.clone(), s.to_owned()))
                .cloned()
                .unwrap_or_else(|| format!("{rname}/{s}"))
        };
        let exists = |s: &str| {
            declared.contains_key(&(rname.clone(), s.to_owned()))
                || services.iter().any(|x| x.name == s && x.enabled)
        };
        for svc in services {
            let is_declared = declared.get(&(rname.clone(), svc.name.clone()));
            if !svc.enabled && is_declared.is_none() {
                continue;
            }
            let deps = svc
                .depends_on
                .iter()
                // An edge to a service its profiles leave out: Compose would not start it.
                .filter(|d| exists(&d.service))
                .map(|d| Dependency {
                    name: target(&d.service),
                    condition: d.condition,
                    required: d.required,
                });
            if let Some(spec) = is_declared.and_then(|n| config.components.get_mut(n)) {
                spec.healthcheck = svc.healthcheck;
                for d in deps {
                    if !spec.depends_on.iter().any(|x| x.name == d.name) {
                        spec.depends_on.push(d);
                    }
                }
            } else {
                let mut spec = ComponentSpec::new(Kind::Compose);
                spec.repository = Some(rname.clone());
                spec.service = Some(svc.name.clone());
                spec.healthcheck = svc.healthcheck;
                spec.discovered = true;
                spec.depends_on = deps.collect();
                config
                    .components
                    .insert(format!("{rname}/{}", svc.name), spec);
            }
        }
    }
    problems.extend(rewrite_bare_names(config));
    problems
}

/// Where a repository's problems point: its `compose_files` when set, else the entry.
fn repo_key(name: &str, repo: &Repository) -> KeyPath {
    let k = KeyPath::root().join("repositories").join(name.to_owned());
    if repo.compose_files.is_empty() {
        k
    } else {
        k.join("compose_files")
    }
}

/// Declared compose components must name a service their repository's files define.
fn check_declared(config: &Config, found: &IndexMap<String, Vec<Service>>) -> Vec<Problem> {
    let mut problems = Vec::new();
    for (name, spec) in &config.components {
        let (Some(r), Some(s)) = (&spec.repository, &spec.service) else {
            continue;
        };
        let Some(services) = found.get(r) else {
            continue;
        };
        if spec.kind != Kind::Compose || services.iter().any(|x| &x.name == s) {
            continue;
        }
        let help = did_you_mean(s, services.iter().map(|x| x.name.as_str())).unwrap_or_else(|| {
            let all: Vec<&str> = services.iter().map(|x| x.name.as_str()).collect();
            format!("its services: {}", all.join(", "))
        });
        let key = KeyPath::root()
            .join("components")
            .join(name.clone())
            .join("service");
        problems.push(
            Problem::new(
                key,
                format!("service `{s}` is not in the compose files of repository `{r}`"),
            )
            .help(help),
        );
    }
    problems
}

/// Rewrites `depends_on` entries that name a compose service rather than a component: a
/// bare service name unique across repositories, or a `repo/service` whose service a
/// declared component took over.
fn rewrite_bare_names(config: &mut Config) -> Vec<Problem> {
    let mut by_service: HashMap<String, Vec<String>> = HashMap::new();
    let mut by_full: HashMap<String, String> = HashMap::new();
    for (name, spec) in &config.components {
        if spec.kind != Kind::Compose {
            continue;
        }
        if let Some(s) = &spec.service {
            by_service.entry(s.clone()).or_default().push(name.clone());
            if let Some(r) = &spec.repository {
                by_full.insert(format!("{r}/{s}"), name.clone());
            }
        }
    }
    let names: HashSet<String> = config.components.keys().cloned().collect();
    let mut problems = Vec::new();
    for (name, spec) in &mut config.components {
        for (i, dep) in spec.depends_on.iter_mut().enumerate() {
            if names.contains(&dep.name) {
                continue;
            }
            if let Some(full) = by_full.get(&dep.name) {
                dep.name.clone_from(full);
                continue;
            }
            match by_service.get(&dep.name).map(Vec::as_slice) {
                Some([only]) => dep.name.clone_from(only),
                Some(many @ [_, _, ..]) => problems.push(
                    Problem::new(
                        KeyPath::root()
                            .join("components")
                            .join(name.clone())
                            .join("depends_on")
                            .join(i.to_string()),
                        format!(
                            "`{}` is ambiguous: it is a service of {}",
                            dep.name,
                            many.iter()
                                .map(|m| format!("`{m}`"))
                                .collect::<Vec<_>>()
                                .join(" and ")
                        ),
                    )
                    .help("use the full `repository/service` name"),
                ),
                _ => {}
            }
        }
    }
    problems
}

#[cfg(test)]
mod tests;
