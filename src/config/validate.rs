//! Checks across components, after discovery has added compose services: dependencies on
//! unknown, disabled or self components, conditions a dependency cannot meet, and compose
//! components naming an unknown repository, and timings that can only fail (a probe
//! attempt allowed longer than the whole start). Cycles are found by the graph.

use crate::config::keypath::KeyPath;
use crate::config::model::{Condition, Config, Kind};
use crate::config::problem::Problem;
use crate::diagnostics::did_you_mean;
use crate::duration::Human;

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

/// Timings that can only fail when the component starts: a probe `timeout` written longer
/// than the whole start (the start times out before such a probe could answer). The default
/// probe timeout is not held against a short start: an attempt is cut to the time left.
/// `tree` is the document as loaded, to tell a written timeout from the default.
pub(crate) fn timings(config: &Config, tree: &yaml_serde::Value) -> Vec<Problem> {
    let mut problems = Vec::new();
    for (name, spec) in &config.components {
        let Some(probe) = &spec.probe else { continue };
        let key = KeyPath::root()
            .join("components")
            .join(name.clone())
            .join("probe")
            .join("timeout");
        if crate::config::value::get(tree, &key).is_none() {
            continue;
        }
        let start = spec.start_timeout.unwrap_or(config.defaults.start_timeout);
        if probe.timeout > start {
            let whose = if spec.start_timeout.is_some() {
                format!("its `start_timeout` ({})", Human(start))
            } else {
                format!("`defaults.start_timeout` ({})", Human(start))
            };
            problems.push(
                Problem::new(
                    key,
                    format!(
                        "the probe may take {} per attempt, longer than {whose}: the start would time out before the probe answers",
                        Human(probe.timeout)
                    ),
                )
                .help(format!(
                    "lower `probe.timeout` below {}, or raise the start timeout",
                    Human(start)
                )),
            );
        }
    }
    problems
}
