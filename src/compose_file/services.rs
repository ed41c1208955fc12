//! A repository's services as Compose reads them: names, `depends_on` (short and long
//! form, conditions, `required: false`), healthchecks and profiles.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use yaml_serde::{Mapping, Value};

use super::files::compose_files;
use super::interpolate::Vars;
use super::loader;
use crate::config::model::{Condition, Repository};

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
    let mut loader = loader::Loader::new(process, display);
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
        let Some(name) = loader::key_string(k) else {
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
        let Some(service) = loader::key_string(k) else {
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
