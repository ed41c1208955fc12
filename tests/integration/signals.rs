use std::time::{Duration, Instant};

use crate::harness::{Stack, alive, eventually, free_port};

fn sigint(pid: u32) {
    let _ = std::process::Command::new("kill")
        .args(["-INT", &pid.to_string()])
        .status();
}

#[test]
fn ctrl_c_stops_what_was_starting_exits_130_and_leaves_no_orphans() {
    let port = free_port();
    let s = Stack::new(&format!(
        "components:\n  quick: {{ kind: task, command: [\"true\"] }}\n  slow:\n    command: [$SERVER, --port, \"{port}\", --ready-after, 60s]\n    depends_on: [quick]\n    probe: {{ tcp: \"127.0.0.1:{port}\", interval: 50ms }}\n  after: {{ kind: task, command: [\"true\"], depends_on: [slow] }}\n"
    ));
    let child = s
        .command(&["--json", "start"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let record = s.path().join(".tta/run/slow.json");
    assert!(
        eventually(Duration::from_secs(10), || record.exists()),
        "slow was started"
    );
    let j: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&record).unwrap()).unwrap();
    let slow_pid = u32::try_from(j["pid"].as_u64().unwrap()).unwrap();
    assert!(alive(slow_pid));
    let t = Instant::now();
    sigint(child.id());
    let out = child.wait_with_output().unwrap();
    assert!(t.elapsed() < Duration::from_secs(10));
    assert_eq!(
        out.status.code(),
        Some(130),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let j: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(j["interrupted"], true);
    let outcome = |n: &str| {
        j["components"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == n)
            .unwrap()["outcome"]
            .clone()
    };
    assert_eq!(outcome("slow"), "cancelled");
    assert_eq!(outcome("after"), "cancelled");
    assert!(
        eventually(Duration::from_secs(3), || !alive(slow_pid)),
        "no orphan left"
    );
    // No lock is left behind: the next run goes straight through.
    s.tta(&["--json", "stop"]).ok();
}

#[test]
fn concurrent_runs_start_each_component_exactly_once() {
    let s = Stack::new(
        "components:\n  a: { command: [sleep, \"300\"] }\n  b: { command: [sleep, \"300\"], depends_on: [a] }\n  t: { kind: task, shell: \"sleep 0.2\" }\n",
    );
    let children: Vec<_> = (0..5)
        .map(|_| s.command(&["-q", "start"]).spawn().unwrap())
        .collect();
    for mut c in children {
        assert_eq!(c.wait().unwrap().code(), Some(0));
    }
    for name in ["a", "b", "t"] {
        let log = s.read(&format!(".tta/logs/{name}.log"));
        assert_eq!(
            log.matches("=== tta:").count(),
            1,
            "{name} started once:\n{log}"
        );
    }
}

#[test]
fn a_second_ctrl_c_kills_at_once() {
    let port = free_port();
    let s = Stack::new(&format!(
        "components:\n  stubborn:\n    command: [$SERVER, --port, \"{port}\", --ready-after, 60s, --ignore-term]\n    stop_timeout: 60s\n    probe: {{ tcp: \"127.0.0.1:{port}\", interval: 50ms }}\n"
    ));
    let child = s
        .command(&["start"])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let record = s.path().join(".tta/run/stubborn.json");
    assert!(eventually(Duration::from_secs(10), || record.exists()));
    let j: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&record).unwrap()).unwrap();
    let pid = u32::try_from(j["pid"].as_u64().unwrap()).unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let t = Instant::now();
    sigint(child.id());
    std::thread::sleep(Duration::from_millis(500));
    assert!(
        alive(pid),
        "the first Ctrl-C waits for the grace period (SIGTERM is ignored)"
    );
    sigint(child.id());
    let out = child.wait_with_output().unwrap();
    assert!(
        t.elapsed() < Duration::from_secs(10),
        "the second Ctrl-C does not wait 60 s: {:?}",
        t.elapsed()
    );
    assert_eq!(out.status.code(), Some(130));
    assert!(
        eventually(Duration::from_secs(3), || !alive(pid)),
        "killed, not orphaned"
    );
}
