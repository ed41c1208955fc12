//! The dependency graph, built once from a validated configuration.
//!
//! Nodes are the enabled components, numbered in configuration order; an edge runs from a
//! component to each component it depends on. The start order is a stable topological sort
//! (configuration order wherever the graph allows); when there is none, petgraph's strongly
//! connected components give each cycle, reported with its full path. The plain
//! adjacency lists kept beside it make the runner's hot lookups (dependencies, dependents)
//! simple slices.

use std::collections::HashMap;

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use petgraph::algo::tarjan_scc;
use petgraph::graph::{DiGraph, NodeIndex};

use crate::config::keypath::KeyPath;
use crate::config::model::{Condition, Config, Kind};
use crate::config::problem::Problem;
use crate::diagnostics::closest;
use crate::error::Error;

/// A component's index in the graph.
pub type NodeId = usize;

/// A dependency edge.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Edge {
    /// The component depended on.
    pub to: NodeId,
    /// When it counts as satisfied.
    pub condition: Condition,
    /// False for a soft edge.
    pub required: bool,
}

/// A set of components, as flags by node id.
pub type Selection = Vec<bool>;

/// The graph of enabled components.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Graph {
    names: Vec<String>,
    kinds: Vec<Kind>,
    #[serde(skip)]
    ids: HashMap<String, NodeId>,
    deps: Vec<Vec<Edge>>,
    dependents: Vec<Vec<NodeId>>,
    order: Vec<NodeId>,
}

impl Graph {
    /// Builds the graph. Edges to unknown or disabled components must have been reported
    /// by validation; here they are skipped. Cycles are problems, one per cycle.
    pub fn build(config: &Config) -> Result<Self, Vec<Problem>> {
        let mut names = Vec::new();
        let mut kinds = Vec::new();
        let mut ids = HashMap::with_capacity(config.components.len());
        for (name, spec) in &config.components {
            if spec.enabled {
                ids.insert(name.clone(), names.len());
                names.push(name.clone());
                kinds.push(spec.kind);
            }
        }
        let n = names.len();
        let mut deps = vec![Vec::new(); n];
        let mut dependents = vec![Vec::new(); n];
        for (name, spec) in &config.components {
            let Some(&from) = ids.get(name) else { continue };
            for d in &spec.depends_on {
                let Some(&to) = ids.get(&d.name) else {
                    continue;
                };
                if to == from || deps[from].iter().any(|e: &Edge| e.to == to) {
                    continue;
                }
                deps[from].push(Edge {
                    to,
                    condition: d.condition,
                    required: d.required,
                });
                dependents[to].push(from);
            }
        }
        let Some(order) = stable_order(&deps, &dependents) else {
            return Err(cycles(&names, &deps));
        };
        Ok(Self {
            names,
            kinds,
            ids,
            deps,
            dependents,
            order,
        })
    }

    /// Rebuilds the name index after deserialization (it is not stored).
    pub(crate) fn reindex(&mut self) {
        self.ids = self
            .names
            .iter()
            .enumerate()
            .map(|(i, n)| (n.clone(), i))
            .collect();
    }

    /// Number of components.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// True when there are no components.
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// A component's name.
    pub fn name(&self, id: NodeId) -> &str {
        &self.names[id]
    }

    /// A component's kind.
    pub fn kind(&self, id: NodeId) -> Kind {
        self.kinds[id]
    }

    /// All names, in configuration order.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// The id of a component by exact name.
    pub fn id(&self, name: &str) -> Option<NodeId> {
        self.ids.get(name).copied()
    }

    /// The id of a component by the name a user typed: the exact name, or a bare compose
    /// service name (`neo4j` for `tta.dev/neo4j`) when only one repository has it.
    pub fn resolve(&self, name: &str) -> Result<NodeId, Error> {
        if let Some(id) = self.id(name) {
            return Ok(id);
        }
        let suffix = format!("/{name}");
        let mut hits = self
            .names
            .iter()
            .enumerate()
            .filter(|(_, n)| n.ends_with(&suffix));
        match (hits.next(), hits.next()) {
            (Some((id, _)), None) => Ok(id),
            (Some((_, a)), Some((_, b))) => Err(Error::usage(
                format!("`{name}` is ambiguous: it names `{a}` and `{b}`"),
                Some("use the full `repository/service` name".into()),
            )),
            _ => Err(Error::UnknownComponent {
                name: name.to_owned(),
                suggestion: closest(name, self.names.iter().map(String::as_str)).map(str::to_owned),
            }),
        }
    }

    /// Resolves names (`all` or none = every component) into a selection.
    pub fn select(&self, names: &[String]) -> Result<Selection, Error> {
        if names.is_empty() || names.iter().any(|n| n == "all") {
            return Ok(vec![true; self.len()]);
        }
        let mut sel = vec![false; self.len()];
        for n in names {
            sel[self.resolve(n)?] = true;
        }
        Ok(sel)
    }

    /// What `id` depends on.
    pub fn deps(&self, id: NodeId) -> &[Edge] {
        &self.deps[id]
    }

    /// What depends on `id`.
    pub fn dependents(&self, id: NodeId) -> &[NodeId] {
        &self.dependents[id]
    }

    /// Every component in an order where dependencies come first.
    pub fn start_order(&self) -> &[NodeId] {
        &self.order
    }

    /// The selection plus everything it depends on, transitively.
    pub fn with_dependencies(&self, sel: &Selection) -> Selection {
        let mut out = sel.clone();
        for &id in self.order.iter().rev() {
            if out[id] {
                for e in &self.deps[id] {
                    out[e.to] = true;
                }
            }
        }
        out
    }

    /// The selection plus everything that depends on it, transitively.
    pub fn with_dependents(&self, sel: &Selection) -> Selection {
        let mut out = sel.clone();
        for &id in &self.order {
            if !out[id] && self.deps[id].iter().any(|e| out[e.to]) {
                out[id] = true;
            }
        }
        out
    }

    /// Parallel waves of a selection: wave k holds the components whose selected
    /// dependencies are all in earlier waves. (The runner does not run in waves; this is for
    /// showing a plan.)
    pub fn waves(&self, sel: &Selection) -> Vec<Vec<NodeId>> {
        let mut level = vec![0usize; self.len()];
        let mut waves: Vec<Vec<NodeId>> = Vec::new();
        for &id in &self.order {
            if !sel[id] {
                continue;
            }
            let l = self.deps[id]
                .iter()
                .filter(|e| sel[e.to])
                .map(|e| level[e.to] + 1)
                .max()
                .unwrap_or(0);
            level[id] = l;
            if waves.len() <= l {
                waves.resize_with(l + 1, Vec::new);
            }
            waves[l].push(id);
        }
        for w in &mut waves {
            w.sort_unstable();
        }
        waves
    }
}

/// A topological order that keeps configuration order wherever the graph allows (Kahn's
/// algorithm taking the lowest ready id first), so plans and outputs are stable. `None`
/// when there is a cycle.
fn stable_order(deps: &[Vec<Edge>], dependents: &[Vec<NodeId>]) -> Option<Vec<NodeId>> {
    let mut missing: Vec<usize> = deps.iter().map(Vec::len).collect();
    let mut ready: BinaryHeap<Reverse<NodeId>> = (0..deps.len())
        .filter(|&i| missing[i] == 0)
        .map(Reverse)
        .collect();
    let mut order = Vec::with_capacity(deps.len());
    while let Some(Reverse(id)) = ready.pop() {
        order.push(id);
        for &d in &dependents[id] {
            missing[d] -= 1;
            if missing[d] == 0 {
                ready.push(Reverse(d));
            }
        }
    }
    (order.len() == deps.len()).then_some(order)
}

/// One problem per cycle, each with its full path (`a -> b -> c -> a`, read "depends on").
fn cycles(names: &[String], deps: &[Vec<Edge>]) -> Vec<Problem> {
    let mut g: DiGraph<(), ()> = DiGraph::with_capacity(names.len(), names.len() * 2);
    for _ in names {
        g.add_node(());
    }
    for (from, edges) in deps.iter().enumerate() {
        for e in edges {
            g.add_edge(NodeIndex::new(e.to), NodeIndex::new(from), ());
        }
    }
    let mut sccs: Vec<Vec<NodeId>> = tarjan_scc(&g)
        .into_iter()
        .filter(|c| c.len() > 1)
        .map(|c| {
            let mut v: Vec<NodeId> = c.into_iter().map(NodeIndex::index).collect();
            v.sort_unstable();
            v
        })
        .collect();
    sccs.sort();
    sccs.into_iter()
        .map(|scc| {
            let path = cycle_path(&scc, deps);
            let text = path.iter().map(|&i| names[i].as_str()).collect::<Vec<_>>().join(" -> ");
            Problem::new(
                KeyPath::root().join("components").join(names[scc[0]].clone()).join("depends_on"),
                format!("dependency cycle: {text}"),
            )
            .help("remove one of these dependencies, or make it soft with `required: false` elsewhere in the chain")
        })
        .collect()
}

/// A cycle through the smallest node of a strongly connected component.
fn cycle_path(scc: &[NodeId], deps: &[Vec<Edge>]) -> Vec<NodeId> {
    let start = scc[0];
    let inside = |n: NodeId| scc.binary_search(&n).is_ok();
    // Breadth-first from start's dependencies back to start gives a shortest cycle.
    let mut prev: HashMap<NodeId, NodeId> = HashMap::new();
    let mut queue = std::collections::VecDeque::from([start]);
    while let Some(n) = queue.pop_front() {
        for e in &deps[n] {
            if !inside(e.to) {
                continue;
            }
            if e.to == start {
                let mut chain = Vec::new();
                let mut cur = n;
                while cur != start {
                    chain.push(cur);
                    cur = prev[&cur];
                }
                chain.reverse();
                let mut path = vec![start];
                path.extend(chain);
                path.push(start);
                return path;
            }
            if let std::collections::hash_map::Entry::Vacant(v) = prev.entry(e.to) {
                v.insert(n);
                queue.push_back(e.to);
            }
        }
    }
    vec![start, start]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::parse::parse;
    use std::path::Path;

    fn graph(yaml: &str) -> Result<Graph, Vec<Problem>> {
        let v: yaml_serde::Value = yaml_serde::from_str(yaml).unwrap();
        Graph::build(&parse(&v, Path::new("/")).unwrap())
    }

    fn task(name: &str, deps: &[&str]) -> String {
        format!(
            "  {name}: {{ kind: task, command: [true], depends_on: [{}] }}\n",
            deps.join(", ")
        )
    }

    fn doc(parts: &[(&str, &[&str])]) -> String {
        let mut s = "components:\n".to_owned();
        for (n, d) in parts {
            s.push_str(&task(n, d));
        }
        s
    }

    #[test]
    fn diamond_orders_and_waves() {
        let g = graph(&doc(&[
            ("d", &["b", "c"]),
            ("b", &["a"]),
            ("c", &["a"]),
            ("a", &[]),
        ]))
        .unwrap();
        let pos = |n: &str| {
            g.start_order()
                .iter()
                .position(|&i| g.name(i) == n)
                .unwrap()
        };
        assert!(pos("a") < pos("b") && pos("b") < pos("d") && pos("c") < pos("d"));
        let waves: Vec<Vec<&str>> = g
            .waves(&vec![true; 4])
            .into_iter()
            .map(|w| w.into_iter().map(|i| g.name(i)).collect())
            .collect();
        assert_eq!(waves, vec![vec!["a"], vec!["b", "c"], vec!["d"]]);
    }

    #[test]
    fn closures() {
        let g = graph(&doc(&[
            ("a", &[]),
            ("b", &["a"]),
            ("c", &["b"]),
            ("x", &[]),
        ]))
        .unwrap();
        let b = g.select(&["b".into()]).unwrap();
        let names =
            |s: Selection| -> Vec<&str> { (0..4).filter(|&i| s[i]).map(|i| g.name(i)).collect() };
        assert_eq!(names(g.with_dependencies(&b)), ["a", "b"]);
        assert_eq!(names(g.with_dependents(&b)), ["b", "c"]);
    }

    #[test]
    fn every_cycle_is_reported_with_its_path() {
        let e = graph(&doc(&[
            ("a", &["b"]),
            ("b", &["c"]),
            ("c", &["a"]),
            ("x", &["y"]),
            ("y", &["x"]),
            ("z", &[]),
        ]))
        .unwrap_err();
        let msgs: Vec<&str> = e.iter().map(|p| p.message.as_str()).collect();
        assert_eq!(
            msgs,
            [
                "dependency cycle: a -> b -> c -> a",
                "dependency cycle: x -> y -> x"
            ]
        );
    }

    #[test]
    fn unknown_names_suggest() {
        let g = graph(&doc(&[("postgres", &[])])).unwrap();
        match g.resolve("postgre") {
            Err(Error::UnknownComponent { suggestion, .. }) => {
                assert_eq!(suggestion.as_deref(), Some("postgres"));
            }
            other => panic!("{other:?}"),
        }
    }
}
