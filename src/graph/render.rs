//! `tta graph`: the dependency graph as a tree, Graphviz dot, Mermaid or JSON.

use std::fmt::Write as _;

use serde::Serialize;

use super::dag::{Graph, NodeId};
use crate::config::model::Condition;

/// Output formats of `tta graph`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Each component with what it depends on beneath it.
    Tree,
    /// Graphviz: `tta graph --format dot | dot -Tsvg`.
    Dot,
    /// A Mermaid flowchart, for Markdown.
    Mermaid,
    /// Machine-readable.
    Json,
}

/// Renders the graph. Edges read "depends on".
pub fn render(g: &Graph, format: Format) -> String {
    match format {
        Format::Tree => tree(g),
        Format::Dot => dot(g),
        Format::Mermaid => mermaid(g),
        Format::Json => json(g),
    }
}

/// When a dependency counts for the component that waits for it: "once healthy", never
/// a word that could be read as the dependency's state.
fn edge_label(c: Condition, required: bool) -> String {
    let when = match c {
        Condition::Started => "once started",
        Condition::Healthy => "once healthy",
        Condition::CompletedSuccessfully => "once completed successfully",
    };
    if required {
        when.to_owned()
    } else {
        format!("{when}, optional")
    }
}

fn tree(g: &Graph) -> String {
    let mut out = String::new();
    if g.is_empty() {
        out.push_str("(no components)\n");
        return out;
    }
    let mut shown = vec![false; g.len()];
    // Top level: what nothing depends on, in configuration order.
    for id in (0..g.len()).filter(|&i| g.dependents(i).is_empty()) {
        let _ = writeln!(out, "{} ({})", g.name(id), g.kind(id).as_str());
        shown[id] = true;
        branch(g, id, "", &mut shown, &mut out);
    }
    out
}

fn branch(g: &Graph, id: NodeId, prefix: &str, shown: &mut [bool], out: &mut String) {
    let deps = g.deps(id);
    for (i, e) in deps.iter().enumerate() {
        let last = i + 1 == deps.len();
        let (arm, next) = if last {
            ("└── ", "    ")
        } else {
            ("├── ", "│   ")
        };
        let seen = shown[e.to];
        let _ = writeln!(
            out,
            "{prefix}{arm}{} ({}) {}{}",
            g.name(e.to),
            g.kind(e.to).as_str(),
            edge_label(e.condition, e.required),
            if seen && !g.deps(e.to).is_empty() {
                " (*)"
            } else {
                ""
            }
        );
        if !seen {
            shown[e.to] = true;
            branch(g, e.to, &format!("{prefix}{next}"), shown, out);
        }
    }
}

fn escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

fn quote(s: &str) -> String {
    format!("\"{}\"", escape(s))
}

fn dot(g: &Graph) -> String {
    let mut out = String::from("digraph tta {\n  rankdir=LR;\n  node [shape=box];\n");
    for id in 0..g.len() {
        // `\n` is dot's line break inside a label: escaped parts, joined unescaped.
        let _ = writeln!(
            out,
            "  {} [label=\"{}\\n{}\"];",
            quote(g.name(id)),
            escape(g.name(id)),
            escape(g.kind(id).as_str())
        );
    }
    for id in 0..g.len() {
        for e in g.deps(id) {
            let style = if e.required { "" } else { ", style=dashed" };
            let _ = writeln!(
                out,
                "  {} -> {} [label={}{style}];",
                quote(g.name(id)),
                quote(g.name(e.to)),
                quote(e.condition.as_str())
            );
        }
    }
    out.push_str("}\n");
    out
}

fn mermaid(g: &Graph) -> String {
    let mut out = String::from("flowchart LR\n");
    for id in 0..g.len() {
        let _ = writeln!(out, "  n{id}[\"{}\"]", g.name(id).replace('"', "#quot;"));
    }
    for id in 0..g.len() {
        for e in g.deps(id) {
            let arrow = if e.required { "-->" } else { "-.->" };
            let _ = writeln!(out, "  n{id} {arrow}|{}| n{}", e.condition.as_str(), e.to);
        }
    }
    out
}

#[derive(Serialize)]
struct JsonGraph<'a> {
    components: Vec<JsonNode<'a>>,
    start_order: Vec<&'a str>,
}

#[derive(Serialize)]
struct JsonNode<'a> {
    name: &'a str,
    kind: &'static str,
    depends_on: Vec<JsonEdge<'a>>,
}

#[derive(Serialize)]
struct JsonEdge<'a> {
    name: &'a str,
    condition: &'static str,
    required: bool,
}

fn json(g: &Graph) -> String {
    let doc = JsonGraph {
        components: (0..g.len())
            .map(|id| JsonNode {
                name: g.name(id),
                kind: g.kind(id).as_str(),
                depends_on: g
                    .deps(id)
                    .iter()
                    .map(|e| JsonEdge {
                        name: g.name(e.to),
                        condition: e.condition.as_str(),
                        required: e.required,
                    })
                    .collect(),
            })
            .collect(),
        start_order: g.start_order().iter().map(|&i| g.name(i)).collect(),
    };
    let mut s =
        serde_json::to_string(&crate::output::envelope(doc)).expect("graph JSON serializes");
    s.push('\n');
    s
}
