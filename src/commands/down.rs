//! `tta down [NAME...] [--volumes]`: `tta stop` (dependents first, the same summary), then
//! the containers the stop left go too — compose's `down` in each repository the run takes
//! whole (its networks too, and with `--volumes` its volumes), `rm -f` of the chosen
//! services of a repository taken in part. Local processes and tasks are stopped; their
//! logs are kept (`tta logs` still shows why something ended).

use std::path::Path;

use indexmap::IndexMap;
use serde::Serialize;

use crate::cli::DownArgs;
use crate::config::model::Kind;
use crate::driver::compose::{Mode, Passthrough};
use crate::error::{Result, exit};
use crate::orchestrator::{Orchestrator, RunOptions};
use crate::output::Output;
use crate::report::{Progress, problems, run_json, summary};
use crate::runner::signals;
use crate::settings::Settings;

/// What was removed in one repository.
#[derive(Debug, Serialize)]
struct Removal {
    repository: String,
    /// The compose command run (`down --remove-orphans`, `rm -f -- api`).
    command: String,
    success: bool,
    /// What compose said when it failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

/// `tta down`.
pub(crate) fn run(config: Option<&Path>, args: &DownArgs, out: &Output) -> Result<u8> {
    let settings = Settings::load_tolerant(config)?;
    let orch = Orchestrator::new(settings);
    signals::install(orch.cancel_token());
    let opts = RunOptions {
        timeout: args.timeout,
        no_deps: args.no_deps,
        ..RunOptions::default()
    };
    let progress = Progress::new(orch.graph(), out);
    let report = orch.stop(&args.names, &opts, &progress)?;
    progress.finish();
    let removals = if report.interrupted {
        Vec::new()
    } else {
        remove(&orch, args)
    };
    let removed_ok = removals.iter().all(|r| r.success);
    if out.json {
        let mut doc = run_json(&report, orch.graph());
        doc["action"] = "down".into();
        doc["success"] = (report.success() && removed_ok).into();
        doc["removed"] = serde_json::to_value(&removals).unwrap_or_default();
        out.json_line(&doc);
    } else {
        if out.quiet && !report.success() {
            out.error(problems(&report, orch.graph(), out).trim_end());
        } else {
            out.info(summary(&report, orch.graph(), out).trim_end());
        }
        for r in &removals {
            show(r, out);
        }
    }
    if let Some(e) = report.environment_error() {
        out.error(&crate::error::render(&e));
        return Ok(exit::ENVIRONMENT);
    }
    Ok(if report.interrupted {
        exit::INTERRUPTED
    } else if report.success() && removed_ok {
        exit::OK
    } else {
        exit::FAILED
    })
}

fn show(r: &Removal, out: &Output) {
    match &r.error {
        None => out.info(&format!(
            "{}: removed (compose {})",
            r.repository, r.command
        )),
        Some(e) => out.error(&format!(
            "error: {}: compose {} failed: {e}",
            r.repository, r.command
        )),
    }
}

/// The services of each repository the stop covered, and whether it covered all of them.
fn chosen(orch: &Orchestrator, args: &DownArgs) -> Result<IndexMap<String, (Vec<String>, bool)>> {
    let g = orch.graph();
    let sel = g.select(&args.names)?;
    let sel = if args.no_deps {
        sel
    } else {
        g.with_dependents(&sel)
    };
    let config = orch.settings().config();
    let mut by_repo: IndexMap<String, (Vec<String>, bool)> = IndexMap::new();
    for (id, &chosen) in sel.iter().enumerate() {
        if g.kind(id) != Kind::Compose {
            continue;
        }
        let spec = &config.components[g.name(id)];
        let (Some(repo), Some(service)) = (&spec.repository, &spec.service) else {
            continue;
        };
        let entry = by_repo.entry(repo.clone()).or_insert((Vec::new(), true));
        if chosen {
            entry.0.push(service.clone());
        } else {
            entry.1 = false;
        }
    }
    by_repo.retain(|_, (services, _)| !services.is_empty());
    Ok(by_repo)
}

/// Removes what the stop left of the chosen services, repository by repository.
fn remove(orch: &Orchestrator, args: &DownArgs) -> Vec<Removal> {
    let Ok(by_repo) = chosen(orch, args) else {
        return Vec::new();
    };
    let pass = Passthrough::new(orch.settings().config());
    let mut out = Vec::new();
    for (repo, (services, whole)) in by_repo {
        let mut cmd: Vec<String> = if whole {
            vec!["down".into(), "--remove-orphans".into()]
        } else {
            vec!["rm".into(), "-f".into()]
        };
        if args.volumes {
            cmd.push("-v".into());
        }
        if !whole {
            cmd.push("--".into());
            cmd.extend(services);
        }
        let result = pass.run(
            std::slice::from_ref(&repo),
            &cmd,
            Mode::Capture,
            Some(orch.cancel_token()),
        );
        let error = match result {
            Ok(runs) => runs
                .get(&repo)
                .filter(|r| !r.success())
                .map(|r| last_line(&r.stderr, r.exit_code)),
            Err(e) => Some(crate::error::render(&e)),
        };
        out.push(Removal {
            repository: repo,
            command: cmd.join(" "),
            success: error.is_none(),
            error,
        });
    }
    out
}

/// The last line compose wrote, or its exit code when it wrote nothing.
fn last_line(stderr: &str, code: i32) -> String {
    stderr
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .map_or_else(|| format!("exit code {code}"), |l| l.trim().to_owned())
}
