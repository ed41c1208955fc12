use std::time::{Duration, Instant};

use serde_json::Value;

use crate::harness::{Stack, alive, eventually, free_port};

/// setup (task) → api (server with an HTTP probe) → web (server with a TCP probe),
/// plus an independent worker.
fn web_stack() -> (Stack, u16, u16) {
    let (p1, p2) = (free_port(), free_port());
    let s = Stack::new(&format!(
        r#"
defaults: {{ start_timeout: 10s, stop_timeout: 2s }}
components:
  setup:
    kind: task
    shell: "echo prepared > prepared.txt"
  api:
    command: [$SERVER, --port, "{p1}", --ready-after, 200ms]
    depends_on: {{ setup: completed_successfully }}
    probe: {{ http: "http://127.0.0.1:{p1}/", interval: 50ms }}
  web:
    command: [$SERVER, --port, "{p2}"]
    depends_on: [api]
    probe: {{ tcp: "127.0.0.1:{p2}", interval: 50ms }}
  worker:
    command: [sleep, "300"]
"#
    ));
    (s, p1, p2)
}

fn outcomes(j: &Value) -> Vec<(String, String)> {
    j["components"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["name"].as_str().unwrap().to_owned(),
                c["outcome"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn outcome(j: &Value, name: &str) -> String {
    outcomes(j)
        .into_iter()
        .find(|(n, _)| n == name)
        .map(|(_, o)| o)
        .unwrap_or_default()
}

fn pid_of(s: &Stack, name: &str) -> u32 {
    let j: Value = serde_json::from_str(&s.read(&format!(".tta/run/{name}.json"))).unwrap();
    u32::try_from(j["pid"].as_u64().unwrap()).unwrap()
}

#[test]
fn start_all_brings_the_stack_up_in_order_and_status_reads_reality() {
    let (s, p1, _) = web_stack();
    let j = s.tta(&["--json", "start", "all"]).ok().json();
    assert_eq!(j["schema_version"], 1);
    assert_eq!(
        j["results"],
        serde_json::json!({"setup": true, "worker": true, "api": true, "web": true})
    );
    assert_eq!(outcome(&j, "web"), "started");
    assert_eq!(
        j["critical_chain"],
        serde_json::json!(["setup", "api", "web"])
    );
    assert_eq!(s.read("prepared.txt"), "prepared\n");
    // api answers for real.
    assert!(std::net::TcpStream::connect(("127.0.0.1", p1)).is_ok());

    let st = s.tta(&["--json", "status"]).ok().json();
    let by: std::collections::HashMap<&str, &Value> = st["components"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["name"].as_str().unwrap(), c))
        .collect();
    assert_eq!(by["setup"]["status"], "completed");
    assert_eq!(by["api"]["status"], "running");
    assert_eq!(by["api"]["health"], "healthy");
    assert_eq!(by["worker"]["health"], Value::Null);
    assert_eq!(by["web"]["depends_on"], serde_json::json!(["api"]));
    s.tta(&["status"])
        .ok()
        .stdout_has("NAME")
        .stdout_has("running");
}

#[test]
fn starting_what_is_up_is_a_fast_no_op_and_stop_is_idempotent() {
    let (s, ..) = web_stack();
    s.tta(&["start"]).ok();
    let pid = pid_of(&s, "api");
    let t = Instant::now();
    let j = s.tta(&["--json", "start"]).ok().json();
    assert!(t.elapsed() < Duration::from_secs(2));
    assert!(
        outcomes(&j).iter().all(|(_, o)| o == "already_running"),
        "{j}"
    );
    assert_eq!(pid_of(&s, "api"), pid, "not started twice");

    let j = s.tta(&["--json", "stop"]).ok().json();
    assert_eq!(outcome(&j, "api"), "stopped");
    assert!(eventually(Duration::from_secs(2), || !alive(pid)));
    let j = s.tta(&["--json", "stop"]).ok().json();
    assert!(
        outcomes(&j).iter().all(|(_, o)| o == "already_stopped"),
        "{j}"
    );
    s.tta(&["status"]).code(1);
}

#[test]
fn stopping_a_component_stops_its_running_dependents_first() {
    let (s, ..) = web_stack();
    s.tta(&["start"]).ok();
    let (api, web, worker) = (pid_of(&s, "api"), pid_of(&s, "web"), pid_of(&s, "worker"));
    let j = s.tta(&["--json", "stop", "api"]).ok().json();
    let names: Vec<String> = outcomes(&j).into_iter().map(|(n, _)| n).collect();
    assert_eq!(names, ["api", "web"], "{j}");
    assert!(eventually(Duration::from_secs(2), || !alive(api) && !alive(web)));
    assert!(alive(worker), "an unrelated component is left alone");
    // --no-deps leaves dependents running.
    s.tta(&["start"]).ok();
    let web = pid_of(&s, "web");
    s.tta(&["stop", "--no-deps", "api"]).ok();
    assert!(alive(web));
}

#[test]
fn restart_restarts_the_running_dependents_too() {
    let (s, ..) = web_stack();
    s.tta(&["start"]).ok();
    let (api, web, worker) = (pid_of(&s, "api"), pid_of(&s, "web"), pid_of(&s, "worker"));
    let j = s.tta(&["--json", "restart", "api"]).ok().json();
    assert_eq!(j["action"], "restart");
    assert_ne!(pid_of(&s, "api"), api);
    assert_ne!(
        pid_of(&s, "web"),
        web,
        "web depended on api and was running: restarted"
    );
    assert_eq!(pid_of(&s, "worker"), worker);
    s.tta(&["status"]).ok();
}

#[test]
fn a_failure_blocks_only_its_dependents() {
    let s = Stack::new(
        r#"
components:
  migrate: { kind: task, shell: "echo 'relation missing' >&2; exit 3" }
  app: { kind: task, command: ["true"], depends_on: [migrate] }
  ui: { kind: task, command: ["true"], depends_on: [app] }
  docs: { kind: task, command: ["true"] }
"#,
    );
    let r = s.tta(&["--json", "start"]);
    let j = r.code(1).json();
    assert_eq!(outcome(&j, "migrate"), "failed");
    assert_eq!(outcome(&j, "app"), "blocked");
    assert_eq!(outcome(&j, "ui"), "blocked");
    assert_eq!(outcome(&j, "docs"), "started");
    let ui = j["components"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "ui")
        .unwrap();
    assert_eq!(ui["blocked_by"], "migrate");
    let m = j["components"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "migrate")
        .unwrap();
    assert_eq!(m["failure"]["exit_code"], 3);
    assert_eq!(
        m["failure"]["log_tail"],
        serde_json::json!(["relation missing"])
    );
    // The human summary says why and where to look.
    s.tta(&["start"])
        .code(1)
        .stderr_has("migrate: failed — exited with code 3")
        .stderr_has("│ relation missing")
        .stderr_has("see `tta logs migrate`");
    // status keeps the failure visible.
    s.tta(&["status", "migrate"])
        .code(1)
        .stdout_has("error")
        .stdout_has("exited with code 3");
}

#[test]
fn fail_fast_cancels_the_rest() {
    let s = Stack::new(
        r#"
components:
  bad: { kind: task, command: ["false"] }
  slow: { kind: task, command: [sleep, "20"] }
"#,
    );
    let t = Instant::now();
    let j = s.tta(&["--json", "start", "--fail-fast"]).code(1).json();
    assert!(t.elapsed() < Duration::from_secs(10));
    assert_eq!(outcome(&j, "slow"), "cancelled");
}

#[test]
fn waits_time_out_and_leave_nothing_half_started() {
    let port = free_port();
    let s = Stack::new(&format!(
        r#"
components:
  slow:
    command: [$SERVER, --port, "{port}", --ready-after, 30s]
    start_timeout: 400ms
    probe: {{ tcp: "127.0.0.1:{port}", interval: 50ms }}
"#
    ));
    let t = Instant::now();
    let j = s.tta(&["--json", "start"]).code(1).json();
    assert!(t.elapsed() < Duration::from_secs(5), "{:?}", t.elapsed());
    assert_eq!(outcome(&j, "slow"), "timed_out");
    let reason = j["components"][0]["reason"].as_str().unwrap();
    assert!(
        reason.contains("start_timeout of 400ms") && reason.contains("connect to"),
        "{reason}"
    );
    // Stopped, and `tta status` says why until it starts again.
    s.tta(&["status"])
        .code(1)
        .stdout_has("error")
        .stdout_has("failed to start: not ready within its start_timeout of 400ms");
}

#[test]
fn the_run_timeout_bounds_the_whole_run() {
    let s = Stack::new("components:\n  hang: { kind: task, command: [sleep, \"60\"] }\n");
    let t = Instant::now();
    let j = s
        .tta(&["--json", "start", "--timeout", "300ms"])
        .code(1)
        .json();
    assert!(t.elapsed() < Duration::from_secs(5));
    assert_eq!(outcome(&j, "hang"), "timed_out");
}

#[test]
fn a_probe_that_keeps_failing_is_a_readiness_failure() {
    let port = free_port();
    let s = Stack::new(&format!(
        "components:\n  p:\n    command: [sleep, \"30\"]\n    probe: {{ tcp: \"127.0.0.1:{port}\", interval: 20ms, retries: 2 }}\n"
    ));
    let j = s.tta(&["--json", "start"]).code(1).json();
    assert_eq!(outcome(&j, "p"), "failed");
    assert!(
        j["components"][0]["reason"]
            .as_str()
            .unwrap()
            .starts_with("probe failed 3 times"),
        "{j}"
    );
}

#[test]
fn a_process_that_crashes_at_start_fails_with_its_log() {
    let s = Stack::new(
        "components:\n  c: { command: [$SERVER, --fail-at-start, --exit-code, \"4\"] }\n  d: { command: [no-such-command-tta] }\n",
    );
    let j = s.tta(&["--json", "start"]).code(1).json();
    let c = &j["components"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["name"] == "c")
        .unwrap()["failure"];
    assert_eq!(c["exit_code"], 4);
    assert_eq!(
        c["log_tail"][0],
        "tta-demo-server: failing at start as asked"
    );
    let d = j["components"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["name"] == "d")
        .unwrap();
    assert_eq!(d["reason"], "command `no-such-command-tta` not found");
}

#[test]
fn a_crash_after_ready_shows_as_error_with_its_log() {
    let port = free_port();
    let s = Stack::new(&format!(
        "components:\n  c: {{ command: [$SERVER, --port, \"{port}\", --exit-after, 500ms] }}\n"
    ));
    s.tta(&["start"]).ok();
    s.tta(&["status"]).ok();
    assert!(eventually(Duration::from_secs(5), || s
        .tta(&["status"])
        .code
        == 1));
    s.tta(&["status"])
        .code(1)
        .stdout_has("error")
        .stdout_has("exited with code 1; see `tta logs c`");
    s.tta(&["logs", "c"]).ok().stdout_has("crashing after");
}

#[test]
fn a_process_ignoring_sigterm_is_killed_after_stop_timeout_with_its_whole_group() {
    let port = free_port();
    let s = Stack::new(&format!(
        "components:\n  stubborn:\n    shell: \"sleep 300 & exec $SERVER --port {port} --ignore-term\"\n    stop_timeout: 500ms\n    probe: {{ tcp: \"127.0.0.1:{port}\", interval: 20ms }}\n"
    ));
    s.tta(&["start"]).ok();
    let pgid = pid_of(&s, "stubborn");
    let members = || -> Vec<u32> {
        std::fs::read_dir("/proc")
            .unwrap()
            .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
            .filter(|p| {
                std::fs::read_to_string(format!("/proc/{p}/stat"))
                    .ok()
                    .is_some_and(|st| {
                        let rest = &st[st.rfind(')').unwrap() + 2..];
                        let f: Vec<&str> = rest.split(' ').collect();
                        f[2] == pgid.to_string() && f[0] != "Z"
                    })
            })
            .collect()
    };
    assert_eq!(members().len(), 2, "the server and its background sleep");
    let t = Instant::now();
    s.tta(&["stop"]).ok();
    assert!(
        t.elapsed() >= Duration::from_millis(450),
        "it waited the grace period"
    );
    assert!(members().is_empty(), "nothing remains in the process group");
}

#[test]
fn a_stale_record_never_signals_an_unrelated_process() {
    let s = Stack::new("components:\n  svc: { command: [sleep, \"300\"] }\n");
    let mut bystander = std::process::Command::new("sleep")
        .arg("300")
        .spawn()
        .unwrap();
    std::fs::create_dir_all(s.path().join(".tta/run")).unwrap();
    s.write(
        ".tta/run/svc.json",
        &format!(
            "{{\"pid\":{},\"start_ticks\":1,\"started_at\":1.0,\"command\":[\"sleep\",\"300\"]}}",
            bystander.id()
        ),
    );
    s.tta(&["status"]).code(1).stdout_has("error");
    s.tta(&["stop"]).ok();
    assert!(
        bystander.try_wait().unwrap().is_none(),
        "the bystander was not signalled"
    );
    s.tta(&["start"]).ok();
    bystander.kill().unwrap();
    let _ = bystander.wait();
}

#[test]
fn garbage_state_is_reported_then_recovered_from() {
    let s = Stack::new("components:\n  svc: { command: [sleep, \"300\"] }\n");
    std::fs::create_dir_all(s.path().join(".tta/run")).unwrap();
    s.write(".tta/run/svc.json", "{\"pid\": 12");
    s.tta(&["status"])
        .code(1)
        .stdout_has("unreadable state file");
    s.tta(&["start"]).ok();
    s.tta(&["status"]).ok();
}

#[test]
fn logs_show_the_latest_lines_and_interleave_names() {
    let s = Stack::new(
        "components:\n  a: { kind: task, shell: \"echo one; echo two\" }\n  b: { kind: task, shell: \"echo three\" }\n",
    );
    s.tta(&["start"]).ok();
    assert_eq!(s.tta(&["logs", "a", "-n", "1"]).ok().stdout, "two\n");
    s.tta(&["logs", "a", "b"])
        .ok()
        .stdout_has("a | one")
        .stdout_has("b | three");
    s.tta(&["stop"]).ok();
    s.tta(&["logs", "zz"]).code(2);
}

#[test]
fn no_deps_starts_only_what_is_named() {
    let (s, ..) = web_stack();
    let j = s
        .tta(&["--json", "start", "--no-deps", "worker"])
        .ok()
        .json();
    assert_eq!(outcomes(&j).len(), 1);
    s.tta(&["status", "api"]).code(1);
}

#[test]
fn logs_follow_prints_new_lines_until_ctrl_c() {
    let s = Stack::new(
        "components:\n  ticker: { shell: \"i=0; while true; do echo tick-$i; i=$((i+1)); sleep 0.1; done\" }\n",
    );
    s.tta(&["start"]).ok();
    let child = s
        .command(&["logs", "-f", "-n", "0", "ticker"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(800));
    let _ = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status();
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(130),
        "Ctrl-C ends a follow with 130"
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.lines().filter(|l| l.starts_with("tick-")).count() >= 3,
        "{text}"
    );
    assert!(
        text.lines().all(|l| l.starts_with("tick-")),
        "whole lines only: {text}"
    );
}
