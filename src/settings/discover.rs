//! Discovery: compose services become components.
//!
//! Each repository with `discover: true` (the default) whose folder exists contributes its
//! compose services as components named `<repo>/<service>`, with the compose file's
//! `depends_on` (short and long form, conditions, `required: false`) and Compose's other
//! orderings (`network_mode: service:X` and the like) as edges, whether the service has a
//! healthcheck, and its [`Lifetime`]: a one-shot when anything waits for its successful
//! exit (in a compose file or in `tta.yaml`), else long-running when its definition says
//! it runs on, else a one-shot when it says `restart: "no"`, else unknown. A component declared under `components:` for the same
//! repository and service takes the discovered one's place and keeps its own name: edges
//! the compose file gives to or from that service are moved onto it. A bare service name in
//! a `depends_on` list is rewritten to its full name when exactly one compose component
//! has that service.
//!
//! Files are read the way Compose reads them ([`crate::compose_file`]); services whose `profiles` are
//! not enabled by the repository's `profiles` (or `COMPOSE_PROFILES` when it has none) are
//! left out. Discovery runs on every command that loads the configuration, so it only
//! reads files: no `docker` call. A repository whose folder is missing is skipped here (the
//! commands that need it stop with "repository NAME not found at PATH"); every other
//! problem becomes a [`Problem`] of the repository, naming the compose file and, for YAML
//! errors, its line and column. Nothing here aborts loading or panics.

use std::collections::HashMap;
use std::collections::HashSet;
use std::path::Path;

use indexmap::IndexMap;

use crate::compose_file::{Service, load_services};
use crate::config::Config;
use crate::config::keypath::KeyPath;
use crate::config::model::{ComponentSpec, Condition, Dependency, Kind, Lifetime, Repository};
use crate::config::problem::Problem;
use crate::diagnostics::did_you_mean;

/// A path relative to the config file's folder when it is inside it.
fn display_path(p: &Path, base: &Path) -> String {
    p.strip_prefix(base).unwrap_or(p).display().to_string()
}

/// Adds discovered components to `config` and returns the problems found.
pub(crate) fn apply(config: &mut Config) -> Vec<Problem> {
    let env: HashMap<String, String> = crate::config::env::process_vars().collect();
    apply_with_env(config, &env)
}

/// [`apply`] for a command that must work with a repository whose compose files do not
/// load (`tta stop`): such a repository contributes no components, and its problems are
/// returned apart (the second list) rather than failing the load. Its running containers
/// are still found by their labels.
pub(crate) fn apply_tolerant(config: &mut Config) -> (Vec<Problem>, Vec<Problem>) {
    let env: HashMap<String, String> = crate::config::env::process_vars().collect();
    let declared = declared_services(config);
    let (found, broken) = read_repositories(config, &env);
    let mut problems = check_declared(config, &found);
    for (rname, services) in &found {
        add_services(config, &declared, rname, services);
    }
    problems.extend(rewrite_bare_names(config));
    one_shots_by_dependents(config);
    (problems, broken)
}

/// [`apply`] with an explicit environment for interpolation.
pub(crate) fn apply_with_env<S: std::hash::BuildHasher>(
    config: &mut Config,
    env: &HashMap<String, String, S>,
) -> Vec<Problem> {
    let declared = declared_services(config);
    let (found, mut problems) = read_repositories(config, env);
    problems.extend(check_declared(config, &found));
    for (rname, services) in &found {
        add_services(config, &declared, rname, services);
    }
    problems.extend(rewrite_bare_names(config));
    one_shots_by_dependents(config);
    problems
}

/// What a service's own definition says about its lifetime.
fn own_lifetime(svc: &Service) -> Lifetime {
    if svc.runs_on {
        Lifetime::LongRunning
    } else if svc.restart_no {
        Lifetime::OneShot
    } else {
        Lifetime::Unknown
    }
}

/// A compose component that something waits for to complete successfully is a one-shot,
/// whatever else it says: Compose itself waits for its exit.
fn one_shots_by_dependents(config: &mut Config) {
    let awaited: HashSet<String> = config
        .components
        .values()
        .flat_map(|c| c.depends_on.iter())
        .filter(|d| d.condition == Condition::CompletedSuccessfully)
        .map(|d| d.name.clone())
        .collect();
    for name in awaited {
        if let Some(spec) = config.components.get_mut(&name)
            && spec.kind == Kind::Compose
        {
            spec.lifetime = Lifetime::OneShot;
        }
    }
}

/// (repository, service) → the declared component that takes that service's place.
type Declared = HashMap<(String, String), String>;

fn declared_services(config: &Config) -> Declared {
    let mut declared = Declared::new();
    for (name, spec) in &config.components {
        if spec.kind == Kind::Compose
            && let (Some(r), Some(s)) = (&spec.repository, &spec.service)
        {
            declared
                .entry((r.clone(), s.clone()))
                .or_insert_with(|| name.clone());
        }
    }
    declared
}

/// The services of every repository that discovers and is there, and the problems met.
fn read_repositories<S: std::hash::BuildHasher>(
    config: &Config,
    env: &HashMap<String, String, S>,
) -> (IndexMap<String, Vec<Service>>, Vec<Problem>) {
    let display = |p: &Path| display_path(p, &config.base_dir);
    let mut found = IndexMap::new();
    let mut problems = Vec::new();
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
    (found, problems)
}

/// Adds a repository's enabled services as components (or their edges to the declared
/// components that take their place).
fn add_services(config: &mut Config, declared: &Declared, rname: &str, services: &[Service]) {
    let key = |s: &str| (rname.to_owned(), s.to_owned());
    let target = |s: &str| {
        declared
            .get(&key(s))
            .cloned()
            .unwrap_or_else(|| format!("{rname}/{s}"))
    };
    let exists = |s: &str| {
        declared.contains_key(&key(s)) || services.iter().any(|x| x.name == s && x.enabled)
    };
    for svc in services {
        let is_declared = declared.get(&key(&svc.name));
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
                restart: d.restart,
            });
        if let Some(spec) = is_declared.and_then(|n| config.components.get_mut(n)) {
            spec.healthcheck = svc.healthcheck;
            spec.lifetime = own_lifetime(svc);
            spec.definition = Some(svc.definition.clone());
            for d in deps {
                if !spec.depends_on.iter().any(|x| x.name == d.name) {
                    spec.depends_on.push(d);
                }
            }
        } else {
            let mut spec = ComponentSpec::new(Kind::Compose);
            spec.repository = Some(rname.to_owned());
            spec.service = Some(svc.name.clone());
            spec.healthcheck = svc.healthcheck;
            spec.lifetime = own_lifetime(svc);
            spec.definition = Some(svc.definition.clone());
            spec.discovered = true;
            spec.depends_on = deps.collect();
            config
                .components
                .insert(format!("{rname}/{}", svc.name), spec);
        }
    }
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
