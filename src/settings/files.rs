//! What only the file system can say about a configuration: a working directory or a
//! repository path that is a file, a compose file of a repository that does not discover
//! that is not there (every start would fail). A folder that does not exist
//! yet is not a problem here: a task that runs first may create a working directory, and a
//! repository not checked out yet is an environment error of the commands that need it.

use crate::config::Config;
use crate::config::keypath::KeyPath;
use crate::config::problem::Problem;

/// Problems with the paths `config` names.
pub(crate) fn problems(config: &Config) -> Vec<Problem> {
    let mut problems = Vec::new();
    for (name, repo) in &config.repositories {
        // Discovery reads (and checks) the compose files; without it, this does.
        if !repo.discover && repo.path.is_dir() {
            for (i, f) in repo.compose_files.iter().enumerate() {
                let file = repo.path.join(f);
                if !file.is_file() {
                    let key = KeyPath::root()
                        .join("repositories")
                        .join(name.clone())
                        .join("compose_files");
                    let key = if repo.compose_files.len() > 1 {
                        key.join(i.to_string())
                    } else {
                        key
                    };
                    problems.push(
                        Problem::new(
                            key,
                            format!("compose file {} does not exist", file.display()),
                        )
                        .help("compose files are relative to the repository's `path`"),
                    );
                }
            }
        }
        if std::fs::metadata(&repo.path).is_ok_and(|m| !m.is_dir()) {
            problems.push(
                Problem::new(
                    KeyPath::root()
                        .join("repositories")
                        .join(name.clone())
                        .join("path"),
                    format!(
                        "{} is a file, not the repository's folder",
                        repo.path.display()
                    ),
                )
                .help("name the folder the repository is checked out in"),
            );
        }
    }
    for (name, spec) in &config.components {
        let Some(cwd) = &spec.cwd else { continue };
        let Ok(meta) = std::fs::metadata(cwd) else {
            continue;
        };
        if !meta.is_dir() {
            problems.push(
                Problem::new(
                    KeyPath::root()
                        .join("components")
                        .join(name.clone())
                        .join("cwd"),
                    format!(
                        "{} is a file, not a folder, so the component cannot run in it",
                        cwd.display()
                    ),
                )
                .help("name the folder the command should run in"),
            );
        }
    }
    problems
}
