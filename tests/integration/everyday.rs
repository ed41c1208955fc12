use std::net::TcpListener;
use std::path::Path;

use crate::harness::{Stack, free_port};

#[test]
fn the_shipped_tta_stack_validates() {
    let s = Stack::empty();
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/tta.yaml");
    let f = file.to_str().unwrap();
    s.tta(&["-c", f, "config", "validate"])
        .ok()
        .stderr_has("is valid: 5 components, 2 repositories");
    let g = s.tta(&["-c", f, "--json", "graph"]).ok().json();
    let kinds: Vec<(String, String)> = g["components"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["name"].as_str().unwrap().to_owned(),
                c["kind"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert!(kinds.contains(&("docker".into(), "external".into())));
    assert!(kinds.contains(&("llm".into(), "external".into())));
    assert!(kinds.contains(&("app".into(), "compose".into())));
    // The LLM endpoint's address is overridable without editing the file.
    let r = s.tta(&["-c", f, "config", "get", "components.llm.probe.http"]);
    assert_eq!(r.ok().stdout, "http://localhost:1234/v1/models\n");
}

#[test]
fn an_external_component_is_up_when_its_probe_passes() {
    let port = free_port();
    let s = Stack::new(&format!(
        "components:\n  api:\n    kind: external\n    probe: {{ tcp: \"127.0.0.1:{port}\", interval: 20ms }}\n    start_timeout: 500ms\n  app:\n    kind: task\n    command: [\"true\"]\n    depends_on: [api]\n"
    ));
    // Not there: waiting on it times out, and what depends on it is blocked.
    let j = s.tta(&["--json", "start"]).code(1).json();
    assert_eq!(j["components"][0]["outcome"], "timed_out");
    assert_eq!(j["components"][1]["outcome"], "blocked");
    s.tta(&["status", "api"])
        .code(1)
        .stdout_has("stopped")
        .stdout_has("unhealthy");
    // There: it is up, and tta neither starts nor stops it.
    let listener = TcpListener::bind(("127.0.0.1", port)).unwrap();
    s.tta(&["start"]).ok();
    s.tta(&["status", "api"])
        .ok()
        .stdout_has("running")
        .stdout_has("healthy");
    s.tta(&["stop"]).ok();
    s.tta(&["status", "api"]).ok();
    drop(listener);
    s.tta(&["logs", "api"]).code(2).stderr_has("is external");
    let bad = Stack::new("components:\n  x: { kind: external, command: [a] }\n");
    bad.tta(&["config", "validate"])
        .code(2)
        .stderr_has("an external component needs a `probe`")
        .stderr_has("`command` does not apply to an external component");
}

#[test]
fn doctor_reports_each_check_with_a_fix() {
    let port = free_port();
    let s = Stack::new(&format!(
        "components:\n  web:\n    command: [sleep, \"300\"]\n    probe: {{ tcp: \"127.0.0.1:{port}\" }}\n"
    ));
    let r = s.tta(&["doctor"]);
    r.ok()
        .stdout_has("✓ config")
        .stdout_has("- docker")
        .stdout_has("✓ state dir")
        .stdout_has("✓ ports");
    // Something else holds the port web's probe checks, while web is not running.
    let listener = TcpListener::bind(("127.0.0.1", port)).unwrap();
    let j = s.tta(&["--json", "doctor"]).code(1).json();
    let ports = j["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["check"] == "ports")
        .unwrap()
        .clone();
    assert_eq!(ports["status"], "failed");
    assert!(ports["detail"].as_str().unwrap().contains("web"), "{ports}");
    assert!(ports["fix"].as_str().unwrap().contains(&port.to_string()));
    drop(listener);
    // A repository that is not there.
    let s = Stack::new("repositories:\n  tta.dev: { path: ../nowhere }\n");
    s.tta(&["doctor"])
        .code(1)
        .stdout_has("✗ repository tta.dev")
        .stdout_has("not found at")
        .stdout_has("fix: clone it there");
    // An invalid config is a failed check, not a crash.
    let s = Stack::new("defaults: { jobs: 0 }\n");
    s.tta(&["doctor"]).code(1).stdout_has("✗ config");
}
