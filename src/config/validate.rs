//! Checks across components, after discovery has added compose services: dependencies on
//! unknown, disabled or self components, conditions a dependency cannot meet, and compose
//! components naming an unknown repository. Cycles are found by the graph.

use crate::config::keypath::KeyPath;
use crate::config::model::{Condition, Config, Kind};
use crate::config::problem::Problem;
use crate::diagnostics::did_you_mean;

/// Every cross-reference problem of `config`.
/// `declared` are all names under `components:` in the file, including those that had
/// problems of their own (so a dependency on them is not reported again as unknown).
pub(crate) fn references(config: &Config, declared: &[&str]) -> Vec<Problem> {
    let mut problems = Vec::new();
    let names = || config.components.keys().map(String::as_str);
    for (name, spec) in &config.components {
        let base = KeyPath::root().join("components").join(name.clone());
        if spec.kind == Kind::Compose
            && let Some(repo) = &spec.repository
            && !config.repositories.contains_key(repo)
        {
            let help = did_you_mean(repo, config.repositories.keys().map(String::as_str))
                .unwrap_or_else(|| "add it under `repositories:` with its `path`".into());
            problems.push(
                Problem::new(
                    base.join("repository"),
                    format!("unknown repository `{repo}`"),
                )
                .help(help),
            );
        }
        if !spec.enabled {
            continue;
        }
        for (i, dep) in spec.depends_on.iter().enumerate() {
            let at = base.join("depends_on").join(i.to_string());
            let Some(target) = config.components.get(&dep.name) else {
                if declared.contains(&dep.name.as_str()) {
                    continue; // it has problems of its own, reported already
                }
                let help = did_you_mean(&dep.name, names())
                    .unwrap_or_else(|| "`tta graph` lists the components".into());
                problems.push(
                    Problem::new(at, format!("depends on unknown component `{}`", dep.name))
                        .help(help),
                );
                continue;
            };
            if !target.enabled && dep.required {
                problems.push(
                    Problem::new(
                        at.clone(),
                        format!("depends on `{}`, which is disabled", dep.name),
                    )
                    .help("enable it, or make the dependency soft with `required: false`"),
                );
            }
            if dep.condition == Condition::CompletedSuccessfully
                && matches!(target.kind, Kind::Process | Kind::External)
            {
                problems.push(
                    Problem::new(
                        at,
                        format!(
                            "`{}` is a long-running process, so it never completes",
                            dep.name
                        ),
                    )
                    .help("use `healthy` or `started`, or make it `kind: task`"),
                );
            }
        }
    }
    problems
}
