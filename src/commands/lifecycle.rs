//! `tta start`, `tta stop`, `tta restart`: progress on stderr, a summary, `--json` on
//! stdout, and the exit code (0 only when every component succeeded; 130 on Ctrl-C).

use std::path::Path;

use serde::Serialize;

use crate::cli::{RestartArgs, StartArgs, StopArgs};
use crate::config::model::Condition;
use crate::error::{Result, exit};
use crate::graph::{Graph, NodeId, Selection};
use crate::orchestrator::{Orchestrator, RunOptions};
use crate::output::Output;
use crate::report::{Progress, problems, run_json, summary};
use crate::runner::{RunReport, signals};
use crate::settings::Settings;

/// `tta start`.
pub(crate) fn start(config: Option<&Path>, args: &StartArgs, out: &Output) -> Result<u8> {
    let settings = Settings::load(config)?;
    if args.dry_run {
        let jobs = args.jobs.map_or(settings.defaults().jobs, usize::from);
        return plan(&settings, &args.names, args.no_deps, jobs, false, out);
    }
    let orch = Orchestrator::new(settings);
    let opts = RunOptions {
        jobs: args.jobs.map(usize::from),
        timeout: args.timeout,
        fail_fast: args.fail_fast,
        no_deps: args.no_deps,
        build: args.build,
        pull: args.pull,
    };
    run(&orch, out, |o, p| o.start(&args.names, &opts, p))
}

/// `tta stop`. A repository whose compose files do not load never keeps the others
/// from stopping.
pub(crate) fn stop(config: Option<&Path>, args: &StopArgs, out: &Output) -> Result<u8> {
    let settings = Settings::load_tolerant(config)?;
    if args.dry_run {
        return plan(
            &settings,
            &args.names,
            args.no_deps,
            settings.defaults().jobs,
            true,
            out,
        );
    }
    let orch = Orchestrator::new(settings);
    let opts = RunOptions {
        timeout: args.timeout,
        no_deps: args.no_deps,
        ..RunOptions::default()
    };
    run(&orch, out, |o, p| o.stop(&args.names, &opts, p))
}

/// `tta restart`.
pub(crate) fn restart(config: Option<&Path>, args: &RestartArgs, out: &Output) -> Result<u8> {
    let orch = Orchestrator::load(config)?;
    let opts = RunOptions {
        jobs: args.jobs.map(usize::from),
        timeout: args.timeout,
        no_deps: args.no_deps,
        ..RunOptions::default()
    };
    run(&orch, out, |o, p| o.restart(&args.names, &opts, p))
}

fn run(
    orch: &Orchestrator,
    out: &Output,
    f: impl FnOnce(&Orchestrator, &Progress) -> Result<RunReport>,
) -> Result<u8> {
    signals::install(orch.cancel_token());
    let progress = Progress::new(orch.graph(), out).with_timeouts(orch.start_timeouts());
    let report = f(orch, &progress)?;
    progress.finish();
    if out.json {
        out.json_line(&run_json(&report, orch.graph()));
    } else if out.quiet && !report.success() {
        // Failures reach stderr whatever the verbosity: the summary's problems.
        out.error(problems(&report, orch.graph(), out).trim_end());
    } else {
        out.info(summary(&report, orch.graph(), out).trim_end());
    }
    if let Some(e) = report.environment_error() {
        out.error(&crate::error::render(&e));
        return Ok(exit::ENVIRONMENT);
    }
    Ok(if report.interrupted {
        exit::INTERRUPTED
    } else if report.success() {
        exit::OK
    } else {
        exit::FAILED
    })
}

#[derive(Serialize)]
struct Plan<'a> {
    action: &'a str,
    dry_run: bool,
    jobs: usize,
    components: usize,
    waves: Vec<Vec<PlanStep<'a>>>,
}

#[derive(Serialize)]
struct PlanStep<'a> {
    name: &'a str,
    kind: &'static str,
    waits_for: Vec<PlanEdge<'a>>,
}

#[derive(Serialize)]
struct PlanEdge<'a> {
    name: &'a str,
    condition: Condition,
    required: bool,
}

/// The plan of a start (with dependencies) or a stop (`reverse`: with dependents), unless
/// `no_deps`; nothing is done.
fn plan(
    settings: &Settings,
    names: &[String],
    no_deps: bool,
    jobs: usize,
    reverse: bool,
    out: &Output,
) -> Result<u8> {
    let g = settings.graph();
    let sel = g.select(names)?;
    let sel = match (no_deps, reverse) {
        (true, _) => sel,
        (false, false) => g.with_dependencies(&sel),
        (false, true) => g.with_dependents(&sel),
    };
    print_plan(
        g,
        &sel,
        if reverse { "stop" } else { "start" },
        jobs,
        reverse,
        out,
    );
    Ok(exit::OK)
}

/// What a component of a plan waits for: its dependencies (start) or its dependents (stop).
fn plan_edges<'g>(g: &'g Graph, sel: &Selection, id: NodeId, reverse: bool) -> Vec<PlanEdge<'g>> {
    if reverse {
        g.dependents(id)
            .iter()
            .filter(|&&d| sel[d])
            .map(|&d| PlanEdge {
                name: g.name(d),
                condition: Condition::Started,
                required: true,
            })
            .collect()
    } else {
        g.deps(id)
            .iter()
            .filter(|e| sel[e.to])
            .map(|e| PlanEdge {
                name: g.name(e.to),
                condition: e.condition,
                required: e.required,
            })
            .collect()
    }
}

/// Prints the waves of a start (or, reversed, a stop) without doing anything.
fn print_plan(g: &Graph, sel: &Selection, action: &str, jobs: usize, reverse: bool, out: &Output) {
    let mut waves = g.waves(sel);
    if reverse {
        waves.reverse();
    }
    let count: usize = waves.iter().map(Vec::len).sum();
    if out.json {
        out.json_doc(&Plan {
            action,
            dry_run: true,
            jobs,
            components: count,
            waves: waves
                .iter()
                .map(|w| {
                    w.iter()
                        .map(|&id| PlanStep {
                            name: g.name(id),
                            kind: g.kind(id).as_str(),
                            waits_for: plan_edges(g, sel, id, reverse),
                        })
                        .collect()
                })
                .collect(),
        });
        return;
    }
    let mut s = format!(
        "would {action} {count} component{} in {} wave{} (up to {jobs} at once; each goes as soon as what it waits for is done):\n",
        if count == 1 { "" } else { "s" },
        waves.len(),
        if waves.len() == 1 { "" } else { "s" }
    );
    for (i, w) in waves.iter().enumerate() {
        s.push_str(&format!("  {}.", i + 1));
        for (j, &id) in w.iter().enumerate() {
            let waits: Vec<String> = plan_edges(g, sel, id, reverse)
                .iter()
                .map(|e| {
                    if reverse {
                        e.name.to_owned()
                    } else {
                        format!(
                            "{} ({}{})",
                            e.name,
                            e.condition.as_str(),
                            if e.required { "" } else { ", optional" }
                        )
                    }
                })
                .collect();
            if j > 0 {
                s.push_str("\n     ");
            } else {
                s.push(' ');
            }
            s.push_str(&format!("{} [{}]", g.name(id), g.kind(id).as_str()));
            if !waits.is_empty() {
                s.push_str(&format!(" after {}", waits.join(", ")));
            }
        }
        s.push('\n');
    }
    out.stdout(&s);
}
