//! Which compose files a repository has, as Compose picks them (`compose_files`, else
//! `COMPOSE_FILE` from the environment or the repository's `.env`, else the default names),
//! what else Compose reads from that `.env` (the project name, the engine), and what a
//! quick look at the files tells (whether they share an external network).

use std::path::PathBuf;

use yaml_serde::Value;

use super::interpolate::parse_dotenv;
use super::read::{MAX_ENV_BYTES, read_text};
use crate::config::model::Repository;

/// What Compose reads from a repository's `.env` (and the process environment) besides
/// interpolation, so that `tta` and compose look at the same files and the same engine.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct ProjectEnv {
    /// `COMPOSE_FILE`, split on `COMPOSE_PATH_SEPARATOR` (default `:`).
    pub files: Option<Vec<PathBuf>>,
    /// `COMPOSE_PROJECT_NAME` of the `.env` (the process's is not per repository).
    pub project_name: Option<String>,
    /// `DOCKER_HOST` of the `.env`, when the process has none (the process's wins, and
    /// every child inherits it anyway).
    pub docker_host: Option<String>,
}

/// Reads what Compose takes from a repository's `.env` and the process environment. An
/// unreadable `.env` gives nothing here (discovery reports it).
pub(crate) fn project_env(repo: &Repository) -> ProjectEnv {
    let process = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    let dotenv = read_text(&repo.path.join(".env"), MAX_ENV_BYTES)
        .map(|t| parse_dotenv(&t, &std::collections::HashMap::new()))
        .unwrap_or_default();
    let from_file = |k: &str| dotenv.get(k).filter(|v| !v.is_empty()).cloned();
    let sep = process("COMPOSE_PATH_SEPARATOR")
        .or_else(|| from_file("COMPOSE_PATH_SEPARATOR"))
        .unwrap_or_else(|| ":".to_owned());
    let files = process("COMPOSE_FILE")
        .or_else(|| from_file("COMPOSE_FILE"))
        .map(|f| {
            f.split(sep.as_str())
                .map(str::trim)
                .filter(|x| !x.is_empty())
                .map(PathBuf::from)
                .collect::<Vec<_>>()
        })
        .filter(|f| !f.is_empty());
    ProjectEnv {
        files,
        project_name: from_file("COMPOSE_PROJECT_NAME"),
        docker_host: if process("DOCKER_HOST").is_some() {
            None
        } else {
            from_file("DOCKER_HOST")
        },
    }
}

/// The compose file names looked for, in order, when a repository names none.
pub(crate) const DEFAULT_FILES: [&str; 4] = [
    "compose.yaml",
    "compose.yml",
    "docker-compose.yml",
    "docker-compose.yaml",
];

/// Override files Compose adds to the default file, the first one found.
pub(crate) const OVERRIDE_FILES: [&str; 4] = [
    "compose.override.yaml",
    "compose.override.yml",
    "docker-compose.override.yml",
    "docker-compose.override.yaml",
];

/// The compose files of a repository as they are passed with `-f` (relative to its
/// folder unless absolute): the configured ones, or `COMPOSE_FILE` (the process's, else
/// the repository's `.env`), or the first default file name found plus the first override
/// file found, as Compose itself would pick them.
pub(crate) fn compose_files(repo: &Repository) -> Result<Vec<PathBuf>, String> {
    if !repo.compose_files.is_empty() {
        return Ok(repo.compose_files.clone());
    }
    if let Some(files) = project_env(repo).files {
        return Ok(files);
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
pub(crate) fn uses_external_network(repo: &Repository) -> bool {
    let Ok(files) = compose_files(repo) else {
        return true;
    };
    files.iter().any(|f| {
        let Ok(text) = read_text(&repo.path.join(f), super::read::MAX_COMPOSE_BYTES) else {
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
