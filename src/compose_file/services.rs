//! A repository's services as Compose reads them: names, `depends_on` (short and long
//! form, conditions, `required: false`), the other orderings Compose honours
//! (`network_mode`/`ipc`/`pid: service:X`, `volumes_from`, `links`), healthchecks,
//! profiles, and what says whether a service runs on (a restart policy, a healthcheck,
//! published ports, a terminal, a service that shares its namespaces).

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
    /// Something says it runs on: `restart: always|unless-stopped`, a healthcheck,
    /// published ports, `stdin_open` with `tty`, or another service in its network, IPC or
    /// PID namespace.
    pub runs_on: bool,
    /// `restart: "no"` is written out.
    pub restart_no: bool,
    /// Its `image:`, when it names one.
    pub image: Option<String>,
    /// It has a `build:` (its image is built here, not pulled).
    pub build: bool,
    /// The TCP ports it publishes on the engine's host, with the address when one is given
    /// (`127.0.0.1:8080:80` → `(Some("127.0.0.1"), 8080)`); random host ports are not.
    pub published: Vec<(Option<String>, u16)>,
    /// A fingerprint of its merged definition (what compose would run), to tell when it
    /// changed.
    pub definition: String,
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
    /// `restart: true`: a restart of the service depended on restarts this one.
    pub restart: bool,
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
    // Compose reads `.env` in the project folder: the folder of the first file.
    let project_dir = files
        .first()
        .and_then(|f| f.parent())
        .map_or_else(|| repo.path.clone(), Path::to_path_buf);
    let vars = loader.vars(&project_dir, &[]);
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
        let mut deps = depends_on(&name, m, &mut errors);
        for d in implicit_deps(m) {
            if !deps.iter().any(|x| x.service == d.service) {
                deps.push(d);
            }
        }
        let restart = m.get("restart");
        services.push(Service {
            depends_on: deps,
            healthcheck: has_healthcheck(m),
            enabled: profile_enabled(m, &profiles),
            runs_on: runs_on(m),
            restart_no: matches!(restart, Some(Value::String(r)) if r == "no")
                || matches!(restart, Some(Value::Bool(false))),
            image: m.get("image").and_then(Value::as_str).map(str::to_owned),
            build: m.get("build").is_some_and(|b| !b.is_null()),
            published: published(m),
            definition: fingerprint(v),
            name,
        });
    }
    // A service whose namespaces another service joins must keep running.
    let shared: HashSet<String> = merged
        .values()
        .filter_map(Value::as_mapping)
        .flat_map(|m| {
            ["network_mode", "ipc", "pid"]
                .into_iter()
                .filter_map(|k| namespace_of(m, k))
                .collect::<Vec<_>>()
        })
        .collect();
    for s in &mut services {
        s.runs_on |= shared.contains(&s.name);
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
        let restart = matches!(v.get("restart"), Some(Value::Bool(true)));
        out.push(ServiceDep {
            service,
            condition,
            required,
            restart,
        });
    }
    out
}

/// A fingerprint of a service's merged definition (FNV-1a of its YAML text).
fn fingerprint(v: &Value) -> String {
    let text = yaml_serde::to_string(v).unwrap_or_default();
    crate::hash::fingerprint(&text)
}

/// The service `X` of `key: service:X` (`network_mode`, `ipc`, `pid`).
fn namespace_of(svc: &Mapping, key: &str) -> Option<String> {
    svc.get(key)
        .and_then(Value::as_str)
        .and_then(|v| v.strip_prefix("service:"))
        .map(|x| x.trim().to_owned())
        .filter(|x| !x.is_empty())
}

/// The orderings Compose honours besides `depends_on`: a service joining another's network,
/// IPC or PID namespace, mounting its volumes (`volumes_from`), or linking to it (`links`)
/// starts after it.
fn implicit_deps(svc: &Mapping) -> Vec<ServiceDep> {
    let mut names: Vec<String> = ["network_mode", "ipc", "pid"]
        .into_iter()
        .filter_map(|k| namespace_of(svc, k))
        .collect();
    let list = |key: &str| -> Vec<String> {
        match svc.get(key) {
            Some(Value::Sequence(items)) => items
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect(),
            _ => Vec::new(),
        }
    };
    for v in list("volumes_from") {
        // `service`, `service:ro`; `container:name` is not a service.
        if !v.starts_with("container:") {
            names.push(v.split(':').next().unwrap_or_default().to_owned());
        }
    }
    for l in list("links") {
        names.push(l.split(':').next().unwrap_or_default().to_owned());
    }
    let mut out: Vec<ServiceDep> = Vec::new();
    for n in names {
        if !n.is_empty() && !out.iter().any(|d| d.service == n) {
            out.push(ServiceDep {
                service: n,
                condition: Condition::Started,
                required: true,
                restart: false,
            });
        }
    }
    out
}

/// The TCP host ports a service publishes: `"8080:80"`, `"127.0.0.1:8080:80"`, `8080:80`
/// as a number pair, and the long form (`published: 8080`); `"80"` alone (a random host
/// port), UDP and ranges are left out.
fn published(svc: &Mapping) -> Vec<(Option<String>, u16)> {
    let Some(Value::Sequence(items)) = svc.get("ports") else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for item in items {
        match item {
            Value::String(s) => {
                let (spec, proto) = s.split_once('/').unwrap_or((s, "tcp"));
                if proto != "tcp" {
                    continue;
                }
                // The container port is last; the host port before it; an address before that
                // (which may itself hold colons: `[::1]:8080:80`).
                let Some((front, _container)) = spec.rsplit_once(':') else {
                    continue;
                };
                let (ip, host) = match front.rsplit_once(':') {
                    Some((ip, host)) => (Some(ip.trim_matches(['[', ']']).to_owned()), host),
                    None => (None, front),
                };
                if let Ok(port) = host.parse::<u16>() {
                    out.push((ip.filter(|i| !i.is_empty()), port));
                }
            }
            Value::Mapping(m) => {
                let proto = m.get("protocol").and_then(Value::as_str).unwrap_or("tcp");
                let port = match m.get("published") {
                    Some(Value::Number(n)) => n.as_u64().and_then(|p| u16::try_from(p).ok()),
                    Some(Value::String(s)) => s.parse().ok(),
                    _ => None,
                };
                if let (Some(port), "tcp") = (port, proto) {
                    let ip = m.get("host_ip").and_then(Value::as_str).map(str::to_owned);
                    out.push((ip, port));
                }
            }
            _ => {}
        }
    }
    out
}

/// What in a service's own definition says it runs on.
fn runs_on(svc: &Mapping) -> bool {
    let restart_always = matches!(
        svc.get("restart").and_then(Value::as_str),
        Some("always" | "unless-stopped")
    ) || matches!(
        svc.get("deploy")
            .and_then(|d| d.get("restart_policy"))
            .and_then(|r| r.get("condition"))
            .and_then(Value::as_str),
        Some("any")
    );
    let ports = matches!(svc.get("ports"), Some(Value::Sequence(p)) if !p.is_empty());
    let terminal = matches!(svc.get("stdin_open"), Some(Value::Bool(true)))
        && matches!(svc.get("tty"), Some(Value::Bool(true)));
    restart_always || ports || terminal || has_healthcheck(svc)
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
