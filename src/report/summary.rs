//! The closing summary of a run, for people: counts, the critical chain, and for every
//! failure why it failed and where to look next.

use std::fmt::Write as _;

use crate::duration::seconds;
use crate::graph::Graph;
use crate::output::Output;
use crate::runner::{Outcome, RunReport};

/// The summary text (for stderr).
pub(crate) fn summary(report: &RunReport, graph: &Graph, out: &Output) -> String {
    let mut s = String::new();
    // What each result counts as: a task that had run to completion was not "running".
    let label = |r: &crate::runner::ComponentResult| match r.outcome {
        Outcome::AlreadyRunning if r.completed => "already completed",
        Outcome::Started if r.restarted => "restarted",
        o => o.as_str(),
    };
    let mut counts: Vec<(u8, &str, usize)> = Vec::new();
    let stops = report
        .stopped
        .iter()
        .filter(|r| r.outcome == Outcome::Stopped);
    for (order, what) in stops.map(|_| (0, "stopped")).chain(
        report
            .results
            .iter()
            .map(|r| (r.outcome as u8 + 1, label(r))),
    ) {
        match counts.iter_mut().find(|(_, w, _)| *w == what) {
            Some((_, _, n)) => *n += 1,
            None => counts.push((order, what, 1)),
        }
    }
    counts.sort_by_key(|(o, _, _)| *o);
    let parts: Vec<String> = counts
        .iter()
        .map(|(_, what, n)| format!("{n} {}", what.replace('_', " ")))
        .collect();
    let head = if parts.is_empty() {
        "nothing to do".to_owned()
    } else {
        parts.join(", ")
    };
    let _ = writeln!(s, "{head} in {}", seconds(report.elapsed));

    let chain = report.critical_chain(graph);
    if chain.len() > 1 {
        let steps: Vec<String> = chain
            .iter()
            .filter_map(|&id| {
                report
                    .get(id)
                    .map(|r| format!("{} @{}", graph.name(id), seconds(r.ended)))
            })
            .collect();
        let _ = writeln!(s, "critical chain: {}", steps.join(" → "));
    }
    for l in &report.leftovers {
        let what = match l.outcome {
            Outcome::Stopped => "stopped",
            Outcome::AlreadyStopped => "was not running",
            _ => "could not be stopped",
        };
        let _ = writeln!(
            s,
            "{} (no longer in the configuration): {what}{}",
            l.name,
            l.reason
                .as_deref()
                .map(|r| format!(" — {r}"))
                .unwrap_or_default()
        );
    }
    s.push_str(&problems(report, graph, out));
    s
}

/// The failures of a run, each with why and where to look next (empty when there are none).
pub(crate) fn problems(report: &RunReport, graph: &Graph, out: &Output) -> String {
    let mut s = String::new();
    let failures: Vec<_> = report
        .results
        .iter()
        .filter(|r| !r.outcome.success())
        .collect();
    if !failures.is_empty() {
        let _ = writeln!(s, "{}", out.style("problems:", |x| x.red().bold()));
    }
    for r in failures {
        let name = graph.name(r.id);
        let _ = writeln!(
            s,
            "  {name}: {} — {}",
            r.outcome.as_str().replace('_', " "),
            r.reason.as_deref().unwrap_or("no reason given")
        );
        if let Some(f) = &r.failure {
            if let Some(code) = f.exit_code {
                let _ = writeln!(s, "    exit code {code}");
            }
            if !f.log_tail.is_empty() {
                let _ = writeln!(s, "    last log lines:");
                for line in &f.log_tail {
                    let _ = writeln!(s, "    │ {line}");
                }
            }
        }
        if matches!(r.outcome, Outcome::Failed | Outcome::TimedOut) {
            // An external component has no log of ours: its probe is all there is.
            if graph.kind(r.id) == crate::config::model::Kind::External {
                let _ = writeln!(s, "    see `tta status {name}`");
            } else {
                let _ = writeln!(s, "    see `tta logs {name}` and `tta status {name}`");
            }
        }
    }
    s
}
