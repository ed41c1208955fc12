//! `tta init`: a starter `tta.yaml` for the folder it runs in.
//!
//! It looks for compose projects where a developer keeps them: this folder, its
//! subfolders, and the folders beside it (`../tta.dev` beside `./tta`). Each becomes a
//! repository (its services are discovered from its compose files, and listed in a
//! comment); commented examples show a process, a task and a probe. It never overwrites a
//! config: one that exists is an error. The file is validated before it is written.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::compose_file::{compose_files, load_services};
use crate::config::model::{Repository, valid_name};
use crate::config::{file::DEFAULT_FILES, write_atomic};
use crate::error::{Error, Result, exit};
use crate::output::Output;
use crate::settings::Settings;

/// A compose project found, with its name in the new config and its path from the folder.
struct Found {
    name: String,
    path: String,
    services: Vec<String>,
}

fn repository(path: &Path) -> Repository {
    Repository {
        path: path.to_path_buf(),
        compose_files: Vec::new(),
        project_name: None,
        profiles: Vec::new(),
        discover: true,
        context: None,
    }
}

/// A repository name from a folder name: letters, digits, `.`, `_`, `-`.
fn name_of(folder: &Path) -> Option<String> {
    let raw = folder.file_name()?.to_string_lossy();
    let name: String = raw
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '-'
            }
        })
        .collect();
    valid_name(&name).then_some(name)
}

/// The compose projects in `cwd`, its subfolders and the folders beside it.
fn find(cwd: &Path) -> Vec<Found> {
    let mut places: Vec<(PathBuf, String)> = vec![(cwd.to_path_buf(), ".".to_owned())];
    let subfolders = |dir: &Path, prefix: &str| -> Vec<(PathBuf, String)> {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return Vec::new();
        };
        let mut v: Vec<(PathBuf, String)> = entries
            .filter_map(Result::ok)
            .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
            .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
            .map(|e| {
                let shown = format!("{prefix}{}", e.file_name().to_string_lossy());
                (e.path(), shown)
            })
            .collect();
        v.sort_by(|a, b| a.1.cmp(&b.1));
        v
    };
    places.extend(subfolders(cwd, "./"));
    if let Some(parent) = cwd.parent() {
        places.extend(
            subfolders(parent, "../")
                .into_iter()
                .filter(|(p, _)| p != cwd),
        );
    }
    let mut found: Vec<Found> = Vec::new();
    for (path, shown) in places {
        let repo = repository(&path);
        if compose_files(&repo).is_err() {
            continue;
        }
        let folder = if shown == "." { cwd } else { path.as_path() };
        let Some(mut name) = name_of(folder) else {
            continue;
        };
        while found.iter().any(|f| f.name == name) {
            name.push('2');
        }
        let env: std::collections::HashMap<String, String> = std::env::vars().collect();
        let services = load_services(&repo, &env, &|p: &Path| p.display().to_string())
            .map(|s| s.into_iter().map(|s| s.name).collect())
            .unwrap_or_default();
        found.push(Found {
            name,
            path: shown,
            services,
        });
    }
    found
}

/// The text of the starter config.
fn text(found: &[Found]) -> String {
    let mut s = String::from(
        "# tta: the stack of this folder, in dependency order. `tta start` brings it up,\n\
         # `tta status` shows it, `tta stop` takes it down; every key: docs/configuration.md.\n\n",
    );
    if found.is_empty() {
        s.push_str("# No compose project was found here, beside or below this folder.\n");
    } else {
        s.push_str("repositories:\n");
        for f in found {
            let _ = writeln!(s, "  {}:", f.name);
            let _ = writeln!(s, "    path: {}", f.path);
            if !f.services.is_empty() {
                let _ = writeln!(
                    s,
                    "    # its services become components {}/<service>: {}",
                    f.name,
                    f.services.join(", ")
                );
            }
        }
        s.push('\n');
    }
    s.push_str(
        "components: {}\n\
         # Examples to adapt:\n\
         #   migrate:                       # a one-shot task: success is exit 0\n\
         #     kind: task\n\
         #     command: [./scripts/migrate.sh]\n\
         #   api:                           # a long-running local process\n\
         #     command: [python3, -m, http.server, \"8000\"]\n\
         #     depends_on: { migrate: completed_successfully }\n\
         #     probe: { http: \"http://127.0.0.1:8000/\", interval: 250ms }   # ready when it answers\n",
    );
    s
}

/// Runs `tta init`.
pub(crate) fn run(out: &Output) -> Result<u8> {
    let cwd = std::env::current_dir().map_err(|e| Error::io("read", ".", e))?;
    if let Some(existing) = DEFAULT_FILES
        .iter()
        .map(|f| cwd.join(f))
        .find(|p| p.exists())
    {
        return Err(Error::usage(
            format!(
                "{} already exists; tta init never overwrites a config",
                existing.display()
            ),
            Some("edit it, or `tta config validate` to check it".into()),
        ));
    }
    let found = find(&cwd);
    let body = text(&found);
    let target = cwd.join(DEFAULT_FILES[0]);
    Settings::from_text(body.clone(), Some(target.clone()), &cwd, std::iter::empty())?;
    write_atomic(&target, body.as_bytes())?;
    if out.json {
        out.json_doc(serde_json::json!({
            "written": target,
            "repositories": found.iter().map(|f| serde_json::json!({"name": f.name, "path": f.path, "services": f.services})).collect::<Vec<_>>(),
        }));
    } else {
        out.info(&format!(
            "wrote {} with {} repositor{}{}; next: `tta start --dry-run`",
            DEFAULT_FILES[0],
            found.len(),
            if found.len() == 1 { "y" } else { "ies" },
            if found.is_empty() {
                String::new()
            } else {
                format!(
                    " ({})",
                    found
                        .iter()
                        .map(|f| format!("{} at {}", f.name, f.path))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            }
        ));
    }
    Ok(exit::OK)
}
