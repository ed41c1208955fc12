//! Which compose projects `tta` started, kept in the state directory
//! (`compose/projects.json`), so that what `tta` started stays `tta`'s to find and stop:
//!
//! - a repository whose folder moved or was renamed keeps its project name (the default
//!   name hashes the folder's path): the recorded name is used again while the recorded
//!   folder is gone; a copy (both folders there) gets a name of its own;
//! - every project ever started, with its engine, so `tta stop` finds containers of
//!   services that were renamed or removed, and of repositories whose compose files no
//!   longer load (the engine knows them by their labels).
//!
//! A registry that cannot be read is treated as empty (and rewritten at the next start);
//! one that cannot be written costs only this memory, with a warning.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::state::StateDir;

/// One repository's project as last started.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Recorded {
    /// The compose project name used.
    pub project: String,
    /// The repository's folder then (canonical).
    pub path: PathBuf,
}

/// A project `tta` started, and the engine it lives on.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub(crate) struct Started {
    /// The compose project name.
    pub project: String,
    /// The docker context, if any.
    pub context: Option<String>,
    /// The `DOCKER_HOST` from the repository's `.env`, if any.
    pub host: Option<String>,
}

/// The registry.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Registry {
    /// Repository name → its project as last started.
    #[serde(default)]
    pub repositories: BTreeMap<String, Recorded>,
    /// Every project started, on its engine.
    #[serde(default)]
    pub projects: Vec<Started>,
}

fn path(state: &StateDir) -> PathBuf {
    state.root().join("compose").join("projects.json")
}

impl Registry {
    /// Reads the registry (empty when there is none or it is damaged).
    pub(crate) fn load(state: &StateDir) -> Self {
        crate::compose_file::read_small(&path(state))
            .ok()
            .and_then(|t| serde_json::from_str(&t).ok())
            .unwrap_or_default()
    }

    /// The recorded project of a repository now at `folder`, when it is still its own: the
    /// same folder, or a folder that is gone (moved or renamed). A copy whose original is
    /// still there gets none.
    pub(crate) fn project_of(&self, repo: &str, folder: &Path) -> Option<&str> {
        let r = self.repositories.get(repo)?;
        let here = canonical(folder);
        (r.path == here || !r.path.exists()).then_some(r.project.as_str())
    }

    /// Records that a repository's project was started.
    pub(crate) fn record(state: &StateDir, repo: &str, folder: &Path, started: Started) {
        let mut reg = Self::load(state);
        let rec = Recorded {
            project: started.project.clone(),
            path: canonical(folder),
        };
        let same = reg.repositories.get(repo) == Some(&rec) && reg.projects.contains(&started);
        if same {
            return;
        }
        reg.repositories.insert(repo.to_owned(), rec);
        let project = started.project.clone();
        if !reg.projects.contains(&started) {
            reg.projects.push(started);
            reg.projects.sort();
        }
        let file = path(state);
        let text = serde_json::to_vec_pretty(&reg).expect("the registry serializes");
        let written = file
            .parent()
            .map_or(Ok(()), std::fs::create_dir_all)
            .map_err(|e| crate::error::Error::io("create", file.clone(), e))
            .and_then(|()| crate::config::write_atomic(&file, &text));
        if let Err(e) = written {
            tracing::warn!(
                "cannot record compose project {}: {}",
                project,
                crate::error::render(&e)
            );
        }
    }
}

fn canonical(p: &Path) -> PathBuf {
    std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_moved_folder_keeps_its_project_and_a_copy_does_not() {
        let dir = tempfile::tempdir().unwrap();
        let state = StateDir::new(dir.path().join(".tta"));
        let a = dir.path().join("a");
        std::fs::create_dir_all(&a).unwrap();
        let started = Started {
            project: "a-123456".into(),
            context: None,
            host: None,
        };
        Registry::record(&state, "a", &a, started.clone());
        let reg = Registry::load(&state);
        assert_eq!(reg.project_of("a", &a), Some("a-123456"));
        assert_eq!(reg.projects, [started]);
        let b = dir.path().join("b");
        std::fs::create_dir_all(&b).unwrap();
        assert_eq!(
            reg.project_of("a", &b),
            None,
            "a copy: the original is there"
        );
        std::fs::remove_dir(&a).unwrap();
        assert_eq!(reg.project_of("a", &b), Some("a-123456"), "moved");
        assert_eq!(reg.project_of("other", &b), None);
    }
}
