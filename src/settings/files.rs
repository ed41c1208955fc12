//! What only the file system can say about a configuration: a working directory that is a
//! file (every start of that component would fail). A folder that does not exist yet is
//! not a problem here, since a task that runs first may create it.

use crate::config::Config;
use crate::config::keypath::KeyPath;
use crate::config::problem::Problem;

/// Problems with the paths `config` names.
pub(crate) fn problems(config: &Config) -> Vec<Problem> {
    let mut problems = Vec::new();
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
