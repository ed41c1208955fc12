use crate::harness::Stack;

fn tasks(spec: &[(&str, &[&str])]) -> String {
    let mut s = "components:\n".to_owned();
    for (n, deps) in spec {
        s.push_str(&format!(
            "  {n}: {{ kind: task, command: [\"true\"], depends_on: [{}] }}\n",
            deps.join(", ")
        ));
    }
    s
}

fn chain() -> String {
    tasks(&[("a", &[]), ("b", &["a"]), ("c", &["b"])])
}
fn diamond() -> String {
    tasks(&[
        ("top", &["left", "right"]),
        ("left", &["base"]),
        ("right", &["base"]),
        ("base", &[]),
    ])
}
fn fan_in() -> String {
    tasks(&[
        ("x", &[]),
        ("y", &[]),
        ("z", &[]),
        ("sink", &["x", "y", "z"]),
    ])
}
fn fan_out() -> String {
    tasks(&[
        ("src", &[]),
        ("x", &["src"]),
        ("y", &["src"]),
        ("z", &["src"]),
    ])
}

fn waves(yaml: &str, args: &[&str]) -> Vec<Vec<String>> {
    let s = Stack::new(yaml);
    let mut a = vec!["--json", "start", "--dry-run"];
    a.extend_from_slice(args);
    let j = s.tta(&a).ok().json();
    assert_eq!(j["schema_version"], 1);
    j["waves"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| {
            w.as_array()
                .unwrap()
                .iter()
                .map(|c| c["name"].as_str().unwrap().to_owned())
                .collect()
        })
        .collect()
}

#[test]
fn dry_run_waves_by_shape() {
    assert_eq!(waves(&chain(), &[]), [vec!["a"], vec!["b"], vec!["c"]]);
    assert_eq!(
        waves(&diamond(), &[]),
        [vec!["base"], vec!["left", "right"], vec!["top"]]
    );
    assert_eq!(waves(&fan_in(), &[]), [vec!["x", "y", "z"], vec!["sink"]]);
    assert_eq!(waves(&fan_out(), &[]), [vec!["src"], vec!["x", "y", "z"]]);
}

#[test]
fn dry_run_of_a_selection_includes_its_dependencies_unless_no_deps() {
    assert_eq!(waves(&diamond(), &["left"]), [vec!["base"], vec!["left"]]);
    assert_eq!(waves(&diamond(), &["left", "--no-deps"]), [vec!["left"]]);
}

#[test]
fn dry_run_says_what_each_waits_for_and_starts_nothing() {
    let s = Stack::new(&diamond());
    let r = s.tta(&["start", "--dry-run"]);
    r.ok()
        .stdout_has("would start 4 components in 3 waves")
        .stdout_has("top [task] after left (healthy), right (healthy)");
    assert!(!s.path().join(".tta").exists(), "a dry run touches nothing");
    let j = s.tta(&["--json", "stop", "--dry-run"]).ok().json();
    assert_eq!(j["waves"][0][0]["name"], "top", "stop goes in reverse");
}

#[test]
fn graph_formats() {
    let s = Stack::new(&diamond());
    let tree = s.tta(&["graph"]).ok().stdout.clone();
    assert_eq!(
        tree,
        "top (task)\n├── left (task) once healthy\n│   └── base (task) once healthy\n└── right (task) once healthy\n    └── base (task) once healthy\n",
        "a dependency's condition reads as when it counts, not as its health"
    );
    s.tta(&["graph", "--format", "dot"])
        .ok()
        .stdout_has("\"top\" -> \"left\" [label=\"healthy\"];")
        .stdout_has("\"top\" [label=\"top\\ntask\"];");
    s.tta(&["graph", "--format", "mermaid"])
        .ok()
        .stdout_has("flowchart LR")
        .stdout_has("n0 -->|healthy| n1");
    let j = s.tta(&["--json", "graph"]).ok().json();
    assert_eq!(
        j["start_order"],
        serde_json::json!(["base", "left", "right", "top"])
    );
    assert_eq!(j["components"][0]["depends_on"][1]["name"], "right");
}
