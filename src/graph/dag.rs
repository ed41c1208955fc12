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
    /// Under `tta up`, a restart of `to` restarts this component once `to` is ready again.
    #[serde(default)]
    pub restart: bool,
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
    /// `repository/service` of each compose component, whatever its own name.
    aliases: Vec<(String, NodeId)>,
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
                    restart: d.restart,
                });
                dependents[to].push(from);
            }
        }
        let Some(order) = stable_order(&deps, &dependents) else {
            return Err(cycles(&names, &deps));
        };
        let aliases = config
            .components
            .iter()
            .filter_map(|(name, spec)| {
                let id = *ids.get(name)?;
                let (repo, service) = (spec.repository.as_ref()?, spec.service.as_ref()?);
                (spec.kind == Kind::Compose).then(|| (format!("{repo}/{service}"), id))
            })
            .collect();
        Ok(Self {
            names,
            kinds,
            ids,
            deps,
            dependents,
            order,
            aliases,
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

    /// The id of a component by the name a user typed: its name, its compose
    /// `repository/service` (a declared component takes its service's place), or a bare
    /// service name (`neo4j` for `tta.dev/neo4j`) when only one repository has it.
    pub fn resolve(&self, name: &str) -> Result<NodeId, Error> {
        if let Some(id) = self.id(name) {
            return Ok(id);
        }
        if let Some(&(_, id)) = self.aliases.iter().find(|(a, _)| a == name) {
            return Ok(id);
        }
        let suffix = format!("/{name}");
        let mut hits: Vec<NodeId> = self
            .names
            .iter()
            .enumerate()
            .filter(|(_, n)| n.ends_with(&suffix))
            .map(|(id, _)| id)
            .chain(
                self.aliases
                    .iter()
                    .filter(|(a, _)| a.ends_with(&suffix))
                    .map(|&(_, id)| id),
            )
            .collect();
        hits.sort_unstable();
        hits.dedup();
        match hits.as_slice() {
            [id] => Ok(*id),
            [] => Err(Error::UnknownComponent {
                name: name.to_owned(),
                suggestion: self.suggest(name),
            }),
            many => Err(Error::usage(
                format!(
                    "`{name}` is ambiguous: it names {}",
                    many.iter()
                        .map(|&i| format!("`{}`", self.names[i]))
                        .collect::<Vec<_>>()
                        .join(" and ")
                ),
                Some("use the full `repository/service` name".into()),
            )),
        }
    }

    /// The component a mistyped name most likely meant. A `repository/service` name is
    /// compared part by part, so that `tta.dev/neo4j` suggests `tta.prototype/neo4j` rather
    /// than `tta.dev/tools`.
    fn suggest(&self, typed: &str) -> Option<String> {
        let score = |candidate: &str| match (typed.split_once('/'), candidate.split_once('/')) {
            (Some((tr, ts)), Some((cr, cs))) => {
                let sim = |a: &str, b: &str| {
                    strsim::jaro_winkler(&a.to_ascii_lowercase(), &b.to_ascii_lowercase())
                };
                f64::midpoint(sim(tr, cr), sim(ts, cs))
            }
            _ => strsim::jaro_winkler(&typed.to_ascii_lowercase(), &candidate.to_ascii_lowercase()),
        };
        let candidates = self
            .names
            .iter()
            .enumerate()
            .map(|(id, n)| (n.as_str(), id))
            .chain(self.aliases.iter().map(|(a, id)| (a.as_str(), *id)));
        candidates
            .map(|(c, id)| (score(c), id))
            .filter(|(s, _)| *s >= 0.8)
            .max_by(|a, b| a.0.total_cmp(&b.0))
            .map(|(_, id)| self.names[id].clone())
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
            let also: Vec<&str> = scc
                .iter()
                .filter(|i| !path.contains(i))
                .map(|&i| names[i].as_str())
                .collect();
            let message = if also.is_empty() {
                format!("dependency cycle: {text}")
            } else {
                format!(
                    "dependency cycle: {text}; caught in the same tangle of cycles: {}",
                    also.join(", ")
                )
            };
            Problem::new(
                KeyPath::root().join("components").join(names[scc[0]].clone()).join("depends_on"),
                message,
            )
            .help("remove one of these dependencies; a soft one (`required: false`) still orders its components, so it does not break the cycle")
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

#[cfg(test)]
mod names {
    use super::*;
    use crate::config::parse::parse;
    use std::path::Path;

    fn graph(yaml: &str) -> Result<Graph, Vec<Problem>> {
        let v: yaml_serde::Value = yaml_serde::from_str(yaml).unwrap();
        Graph::build(&parse(&v, Path::new("/x")).unwrap())
    }

    #[test]
    fn a_tangle_of_cycles_names_every_component_caught_in_it() {
        let problems = graph(
            "components:\n  a: { command: [x], depends_on: [b] }\n  b: { command: [x], depends_on: [a, c] }\n  c: { command: [x], depends_on: [d] }\n  d: { command: [x], depends_on: { b: { required: false } } }\n  e: { command: [x], depends_on: [a] }\n",
        )
        .unwrap_err();
        assert_eq!(problems.len(), 1, "{problems:?}");
        let m = &problems[0].message;
        assert!(m.starts_with("dependency cycle: a -> b -> a"), "{m}");
        assert!(
            m.ends_with("caught in the same tangle of cycles: c, d"),
            "{m}"
        );
        assert!(
            !m.contains(" e"),
            "e depends on the tangle but is not in it: {m}"
        );
        assert!(
            problems[0]
                .help
                .as_deref()
                .unwrap()
                .contains("does not break the cycle")
        );
    }

    fn compose_graph() -> Graph {
        let mut c = parse(
            &yaml_serde::from_str("components:\n  dev-neo4j: { repository: tta.dev, service: neo4j }\n  tools: { repository: tta.dev, service: tools }\n  proto-neo4j: { repository: tta.prototype, service: neo4j }\n  web-a: { repository: a, service: web }\n  web-b: { repository: b, service: web }\n  web-c: { repository: c, service: web }\n").unwrap(),
            Path::new("/x"),
        )
        .unwrap();
        c.repositories.clear();
        Graph::build(&c).unwrap()
    }

    #[test]
    fn a_service_resolves_by_its_repository_name_and_typos_get_the_closest_by_what_was_typed() {
        let g = compose_graph();
        assert_eq!(g.name(g.resolve("tta.dev/neo4j").unwrap()), "dev-neo4j");
        match g.resolve("tta.dev/neo4k") {
            Err(Error::UnknownComponent { suggestion, .. }) => {
                assert_eq!(suggestion.as_deref(), Some("dev-neo4j"));
            }
            other => panic!("{other:?}"),
        }
        match g.resolve("tta.staging/neo4j") {
            Err(Error::UnknownComponent { suggestion, .. }) => {
                assert_ne!(
                    suggestion.as_deref(),
                    Some("tools"),
                    "not the same repository's other service"
                );
            }
            other => panic!("{other:?}"),
        }
        let Err(Error::Usage { message, .. }) = g.resolve("web") else {
            panic!("ambiguous")
        };
        assert_eq!(
            message,
            "`web` is ambiguous: it names `web-a` and `web-b` and `web-c`"
        );
    }
}
