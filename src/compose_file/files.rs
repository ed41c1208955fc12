//! Which compose files a repository has, as Compose picks them, and what a quick look at
//! them tells (whether they share an external network).

use std::path::PathBuf;

use yaml_serde::Value;

use crate::config::model::Repository;

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
/// folder unless absolute): the configured ones, or the first default file name found
/// plus the first override file found, as Compose itself would pick them.
pub(crate) fn compose_files(repo: &Repository) -> Result<Vec<PathBuf>, String> {
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
pub(crate) fn uses_external_network(repo: &Repository) -> bool {
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
