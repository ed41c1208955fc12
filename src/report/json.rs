//! The `--json` document of start, stop and restart.

use serde::Serialize;

use crate::driver::Failure;
use crate::graph::Graph;
use crate::runner::{Action, RunReport};

#[derive(Serialize)]
struct Doc<'a> {
    action: Action,
    success: bool,
    interrupted: bool,
    seconds: f64,
    results: indexmap::IndexMap<&'a str, bool>,
    components: Vec<Component<'a>>,
    critical_chain: Vec<&'a str>,
    /// For a restart: the components its first step stopped.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    stopped: Vec<&'a str>,
    /// What earlier runs started for components the configuration no longer has.
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    leftovers: &'a [crate::runner::Leftover],
    /// A broken environment the run met (the run ends with exit code 3).
    #[serde(skip_serializing_if = "Option::is_none")]
    environment_error: Option<serde_json::Value>,
}

#[derive(Serialize)]
struct Component<'a> {
    name: &'a str,
    outcome: &'static str,
    reason: Option<&'a str>,
    seconds: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    blocked_by: Option<&'a str>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    completed: bool,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    restarted: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    failure: Option<&'a Failure>,
}

fn round(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// The JSON document of a run: `results` (name → success) and `components` in start order.
pub(crate) fn run_json(report: &RunReport, graph: &Graph) -> serde_json::Value {
    let mut rs: Vec<_> = report.results.iter().collect();
    let pos: Vec<usize> = {
        let mut p = vec![0; graph.len()];
        for (i, &id) in graph.start_order().iter().enumerate() {
            p[id] = i;
        }
        p
    };
    rs.sort_by_key(|r| pos[r.id]);
    let doc = Doc {
        action: report.action,
        success: report.success(),
        interrupted: report.interrupted,
        seconds: round(report.elapsed.as_secs_f64()),
        results: rs
            .iter()
            .map(|r| (graph.name(r.id), r.outcome.success()))
            .collect(),
        components: rs
            .iter()
            .map(|r| Component {
                name: graph.name(r.id),
                outcome: r.outcome.as_str(),
                reason: r.reason.as_deref(),
                seconds: round(r.seconds()),
                blocked_by: r.blocked_by.map(|b| graph.name(b)),
                completed: r.completed,
                restarted: r.restarted,
                failure: r.failure.as_ref(),
            })
            .collect(),
        critical_chain: report
            .critical_chain(graph)
            .into_iter()
            .map(|i| graph.name(i))
            .collect(),
        leftovers: &report.leftovers,
        stopped: report
            .stopped
            .iter()
            .filter(|r| r.outcome == crate::runner::Outcome::Stopped)
            .map(|r| graph.name(r.id))
            .collect(),
        environment_error: report.environment_error().map(|e| {
            serde_json::json!({"message": e.to_string(), "hint": e.hint(), "exit_code": e.exit_code()})
        }),
    };
    serde_json::to_value(crate::output::envelope(doc)).expect("report serializes")
}
