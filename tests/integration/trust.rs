//! `tta` never says "ok" while it lost an edit or left a process behind: the host side.
//! Each test is a case of one class in `docs/reliability.md` ("Trust"), run against the
//! real binary, real processes and real signals.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::harness::{Stack, alive, eventually, free_port};

fn signal(sig: &str, pid: u32) {
    let _ = Command::new("kill")
        .args([&format!("-{sig}"), &pid.to_string()])
        .status();
}

fn record_pid(s: &Stack, name: &str) -> Option<u32> {
    let text = std::fs::read_to_string(s.path().join(format!(".tta/run/{name}.json"))).ok()?;
    let j: serde_json::Value = serde_json::from_str(&text).ok()?;
    j["pid"].as_u64().and_then(|p| u32::try_from(p).ok())
}

fn outcome(j: &serde_json::Value, name: &str) -> String {
    j["components"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .map(|c| c["outcome"].as_str().unwrap_or_default().to_owned())
        .unwrap_or_default()
}

// ---- 5. Every way a run can end -----------------------------------------------------

#[test]
fn sighup_ends_a_start_like_ctrl_c_with_a_summary_and_keeps_what_finished() {
    let port = free_port();
    let s = Stack::new(&format!(
        "components:\n  quick: {{ kind: task, shell: \"echo done > done.txt\" }}\n  slow:\n    command: [$SERVER, --port, \"{port}\", --ready-after, 60s]\n    depends_on: [quick]\n    probe: {{ tcp: \"127.0.0.1:{port}\", interval: 50ms }}\n"
    ));
    let child = s
        .command(&["start"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    assert!(eventually(Duration::from_secs(10), || record_pid(
        &s, "slow"
    )
    .is_some()));
    let slow = record_pid(&s, "slow").unwrap();
    let t = Instant::now();
    signal("HUP", child.id());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(t.elapsed() < Duration::from_secs(10));
    assert_eq!(out.status.code(), Some(130), "{stderr}");
    assert!(
        stderr.contains("slow: cancelled — interrupted"),
        "a summary:\n{stderr}"
    );
    assert!(
        eventually(Duration::from_secs(3), || !alive(slow)),
        "the probing component is stopped"
    );
    // The task that finished is recorded as finished: the next start does not run it again.
    let again = s.tta(&["--json", "start", "quick"]);
    again.ok();
    assert_eq!(
        outcome(&again.json(), "quick"),
        "already_running",
        "{}",
        again.stdout
    );
}

#[test]
fn ctrl_c_ends_a_wait_for_another_runs_lock_at_once() {
    let port = free_port();
    let s = Stack::new(&format!(
        "components:\n  slow:\n    command: [$SERVER, --port, \"{port}\", --ready-after, 60s]\n    probe: {{ tcp: \"127.0.0.1:{port}\", interval: 50ms }}\n  other: {{ command: [sleep, \"60\"] }}\n"
    ));
    let holder = s
        .command(&["start", "slow"])
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    assert!(eventually(Duration::from_secs(10), || record_pid(
        &s, "slow"
    )
    .is_some()));
    let waiter = s
        .command(&["start", "other"])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(500));
    let t = Instant::now();
    signal("INT", waiter.id());
    let out = waiter.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        t.elapsed() < Duration::from_secs(3),
        "it waited {:?} after Ctrl-C:\n{stderr}",
        t.elapsed()
    );
    assert_eq!(out.status.code(), Some(130), "{stderr}");
    assert!(stderr.contains("waiting for another tta run"), "{stderr}");
    assert!(record_pid(&s, "other").is_none(), "nothing was started");
    signal("INT", holder.id());
    let _ = holder.wait_with_output();
}

#[test]
fn stop_stops_everything_else_when_a_repository_folder_is_gone() {
    let s = Stack::new(
        "repositories:\n  gone: { path: ./no-such-checkout }\ncomponents:\n  web: { command: [sleep, \"300\"] }\n  worker: { command: [sleep, \"300\"] }\n",
    );
    s.tta(&["start", "web", "worker"]).ok();
    let (web, worker) = (
        record_pid(&s, "web").unwrap(),
        record_pid(&s, "worker").unwrap(),
    );
    let r = s.tta(&["stop"]);
    r.code(3).stderr_has("repository gone not found at");
    assert!(
        eventually(Duration::from_secs(5), || !alive(web) && !alive(worker)),
        "both host processes are stopped:\n{}",
        r.stderr
    );
    r.stderr_has("2 stopped");
}

// ---- 6. Outputs say exactly what happened --------------------------------------------

#[test]
fn a_failure_reaches_stderr_even_with_quiet() {
    let s = Stack::new("components:\n  bad: { kind: task, shell: \"echo nope >&2; exit 3\" }\n");
    let r = s.tta(&["-q", "start"]);
    r.code(1)
        .stderr_has("bad: failed — exited with code 3")
        .stderr_has("nope");
    assert!(
        !r.stderr.contains("critical chain"),
        "only the problems:\n{}",
        r.stderr
    );
}

#[test]
fn logs_follow_ends_when_its_reader_goes() {
    let s = Stack::new(
        "components:\n  chatty: { shell: \"while true; do echo tick; sleep 0.05; done\" }\n",
    );
    s.tta(&["start"]).ok();
    let t = Instant::now();
    let out = Command::new("timeout")
        .args(["20", "sh", "-c"])
        .arg(format!(
            "'{}' logs -f chatty | head -n 1",
            crate::harness::tta_bin().display()
        ))
        .current_dir(s.path())
        .env("CI", "true")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(
        t.elapsed() < Duration::from_secs(10),
        "`tta logs -f | head -n1` ended after {:?}",
        t.elapsed()
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "tick");
}

// ---- 2. What tta started, tta stops ---------------------------------------------------

/// Pids of every live process whose environment carries `TTA_INSTANCE=<name>@...`.
fn marked(name: &str) -> Vec<u32> {
    let prefix = format!("TTA_INSTANCE={name}@");
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(Result::ok)
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|&pid| alive(pid))
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/environ")).is_ok_and(|env| {
                env.split(|&b| b == 0)
                    .any(|v| v.starts_with(prefix.as_bytes()))
            })
        })
        .collect()
}

#[test]
fn a_wrapper_that_backgrounds_its_server_is_running_and_stop_stops_the_server() {
    let port = free_port();
    let name = format!("wrap{port}");
    let s = Stack::new(&format!(
        "components:\n  {name}:\n    shell: \"$SERVER --port {port} & echo wrapper done\"\n    probe: {{ http: \"http://127.0.0.1:{port}/\", interval: 50ms }}\n"
    ));
    s.tta(&["start"]).ok();
    let st = s.tta(&["status"]);
    st.ok()
        .stdout_has("running")
        .stdout_has("1 process it started runs on");
    assert_eq!(marked(&name).len(), 1, "the server runs, marked");
    let r = s.tta(&["stop"]);
    r.ok().stderr_has("1 stopped");
    assert!(
        eventually(Duration::from_secs(5), || marked(&name).is_empty()),
        "nothing is left running"
    );
    s.tta(&["status"]).code(1).stdout_has("stopped");
}

#[test]
fn a_command_that_daemonizes_out_of_its_group_is_found_and_stopped() {
    let port = free_port();
    let name = format!("daemon{port}");
    let s = Stack::new(&format!(
        "components:\n  {name}:\n    shell: \"setsid $SERVER --port {port} > /dev/null 2>&1 < /dev/null &\"\n    probe: {{ tcp: \"127.0.0.1:{port}\", interval: 50ms }}\n"
    ));
    s.tta(&["start"]).ok();
    let daemon = marked(&name);
    assert_eq!(daemon.len(), 1, "the daemon runs in a session of its own");
    s.tta(&["status"]).ok().stdout_has("running");
    // However the configuration changed since the start, the record says what to stop.
    s.write("tta.yaml", "components: {}\n");
    let r = s.tta(&["stop"]);
    r.ok()
        .stderr_has(&format!("{name} (no longer in the configuration): stopped"));
    assert!(eventually(Duration::from_secs(5), || !alive(daemon[0])));
}

// ---- 3. "Already running" means this component, as configured now --------------------

#[test]
fn another_config_in_the_same_folder_never_touches_this_ones_processes() {
    let s = Stack::new("components:\n  db: { command: [sleep, \"301\"] }\n");
    s.write(
        "test.yaml",
        "components:\n  db: { command: [sleep, \"302\"] }\n",
    );
    s.tta(&["start"]).ok();
    let dev = record_pid(&s, "db").unwrap();
    s.tta(&["-c", "test.yaml", "status"])
        .code(1)
        .stdout_has("stopped")
        .stdout_has("for another config");
    s.tta(&["-c", "test.yaml", "stop"]).ok();
    assert!(alive(dev), "test.yaml's stop left dev's db alone");
    s.tta(&["-c", "test.yaml", "start"])
        .code(1)
        .stderr_has("already runs `db` for another config");
    assert!(alive(dev));
    assert_eq!(record_pid(&s, "db"), Some(dev));
    s.tta(&["status"]).ok();
}

#[test]
fn start_restarts_exactly_the_components_whose_spec_changed() {
    let s = Stack::new(
        "components:\n  api: { command: [sleep, \"301\"] }\n  worker: { command: [sleep, \"302\"] }\n",
    );
    s.tta(&["start"]).ok();
    let (api, worker) = (
        record_pid(&s, "api").unwrap(),
        record_pid(&s, "worker").unwrap(),
    );
    s.write(
        "tta.yaml",
        "components:\n  api: { command: [sleep, \"303\"], env: { MODE: fast } }\n  worker: { command: [sleep, \"302\"] }\n",
    );
    let st = s.tta(&["--json", "status"]);
    st.ok();
    let rows = st.json()["components"].clone();
    assert_eq!(rows[0]["changed"], true, "{rows}");
    assert!(rows[1].get("changed").is_none(), "{rows}");
    s.tta(&["status"]).stdout_has("changed since start");
    let j = s.tta(&["--json", "start"]).ok().json();
    assert_eq!(outcome(&j, "api"), "started");
    assert_eq!(outcome(&j, "worker"), "already_running");
    assert!(!alive(api), "the old api is stopped");
    assert_ne!(record_pid(&s, "api"), Some(api));
    assert_eq!(
        record_pid(&s, "worker"),
        Some(worker),
        "worker was left alone"
    );
    let again = s.tta(&["--json", "start"]).ok().json();
    assert_eq!(
        outcome(&again, "api"),
        "already_running",
        "now it is as configured"
    );
}

// ---- 4. Ready means ready --------------------------------------------------------------

#[test]
fn a_port_another_process_already_answers_on_is_a_failure_naming_it() {
    let port = free_port();
    let squatter = Command::new(crate::harness::demo_server())
        .args(["--port", &port.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let squatter = KillOnDrop(squatter);
    assert!(eventually(Duration::from_secs(5), || {
        std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
    }));
    let s = Stack::new(&format!(
        "components:\n  api:\n    command: [$SERVER, --port, \"{port}\"]\n    probe: {{ http: \"http://127.0.0.1:{port}/\", interval: 50ms }}\n  web: {{ command: [sleep, \"300\"], depends_on: [api] }}\n"
    ));
    let t = Instant::now();
    let r = s.tta(&["--json", "start"]);
    r.code(1);
    assert!(t.elapsed() < Duration::from_secs(5), "{:?}", t.elapsed());
    let j = r.json();
    assert_eq!(outcome(&j, "api"), "failed");
    assert_eq!(outcome(&j, "web"), "blocked");
    let reason = j["components"][0]["reason"].as_str().unwrap().to_owned();
    assert!(
        reason.contains(&format!(
            "port {port} is already in use by pid {}",
            squatter.0.id()
        )),
        "{reason}"
    );
    assert!(
        record_pid(&s, "api").is_none(),
        "nothing of api was started"
    );
}

struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

// ---- 6. A failed component is left in one documented state ------------------------------

#[test]
fn a_component_whose_probe_fails_is_stopped_and_status_says_why() {
    let port = free_port();
    let s = Stack::new(&format!(
        "components:\n  deaf:\n    shell: \"echo starting up; exec sleep 300\"\n    probe: {{ tcp: \"127.0.0.1:{port}\", interval: 20ms, retries: 2 }}\n"
    ));
    s.tta(&["start"]).code(1);
    assert!(record_pid(&s, "deaf").is_none());
    assert!(
        marked("deaf").is_empty(),
        "nothing half-started is left running"
    );
    s.tta(&["status"])
        .code(1)
        .stdout_has("error")
        .stdout_has("failed to start: probe failed 3 times");
    s.tta(&["logs", "deaf"]).ok().stdout_has("starting up");
    // A stop forgets the failure.
    s.tta(&["stop"]).ok();
    s.tta(&["status"]).code(1).stdout_has("stopped");
}

#[test]
fn a_noisy_log_is_rotated_and_logs_still_show_its_last_lines() {
    let s = Stack::new(
        "logs: { max_size: 1MiB, keep: 2 }\ncomponents:\n  noisy: { shell: \"head -c 3000000 /dev/zero | tr '\\\\0' x | fold -w 100; echo last-line; exec sleep 300\" }\n",
    );
    s.tta(&["start"]).ok();
    let log = s.path().join(".tta/logs/noisy.log");
    assert!(eventually(Duration::from_secs(20), || {
        std::fs::read_to_string(&log).is_ok_and(|t| t.contains("last-line"))
    }));
    s.tta(&["status"]).ok();
    let size = std::fs::metadata(&log).unwrap().len();
    assert!(
        size < 1024 * 1024,
        "rotated at the configured size: {size} bytes"
    );
    assert!(s.path().join(".tta/logs/noisy.log.1").exists());
}

#[test]
fn the_next_step_a_failure_names_exists_for_that_component() {
    let port = free_port();
    let s = Stack::new(&format!(
        "components:\n  llm:\n    kind: external\n    probe: {{ tcp: \"127.0.0.1:{port}\", interval: 20ms, retries: 1 }}\n    start_timeout: 2s\n"
    ));
    let r = s.tta(&["start"]);
    r.code(1).stderr_has("see `tta status llm`");
    assert!(!r.stderr.contains("tta logs llm"), "{}", r.stderr);
}

#[test]
fn a_moved_checkout_still_stops_what_it_started() {
    let root = tempfile::tempdir().unwrap();
    let before = root.path().join("checkout");
    std::fs::create_dir(&before).unwrap();
    std::fs::write(
        before.join("tta.yaml"),
        "components:\n  api: { command: [sleep, \"300\"] }\n",
    )
    .unwrap();
    let tta = |dir: &std::path::Path, args: &[&str]| {
        Command::new(crate::harness::tta_bin())
            .args(args)
            .current_dir(dir)
            .env("CI", "true")
            .env_remove("TTA_CONFIG")
            .output()
            .unwrap()
    };
    assert!(tta(&before, &["start"]).status.success());
    let text = std::fs::read_to_string(before.join(".tta/run/api.json")).unwrap();
    let pid: u32 = serde_json::from_str::<serde_json::Value>(&text).unwrap()["pid"]
        .as_u64()
        .unwrap()
        .try_into()
        .unwrap();
    let after = root.path().join("moved");
    std::fs::rename(&before, &after).unwrap();
    let st = tta(&after, &["status"]);
    assert!(
        st.status.success(),
        "{}",
        String::from_utf8_lossy(&st.stdout)
    );
    let stop = tta(&after, &["stop"]);
    assert!(
        stop.status.success(),
        "{}",
        String::from_utf8_lossy(&stop.stderr)
    );
    assert!(eventually(Duration::from_secs(5), || !alive(pid)));
}

#[test]
fn a_task_that_leaves_a_process_behind_says_so_and_stop_stops_it() {
    let s = Stack::new("components:\n  seed: { kind: task, shell: \"sleep 300 & echo seeded\" }\n");
    s.tta(&["start"]).ok();
    s.tta(&["status"])
        .ok()
        .stdout_has("completed")
        .stdout_has("1 process it started still runs");
    assert_eq!(marked("seed").len(), 1);
    s.tta(&["stop"]).ok();
    assert!(eventually(Duration::from_secs(5), || marked("seed").is_empty()));
}

#[test]
fn summaries_count_what_happened_by_its_name() {
    let s = Stack::new(
        "components:\n  seed: { kind: task, command: [\"true\"] }\n  api: { command: [sleep, \"300\"], depends_on: { seed: completed_successfully } }\n  web: { command: [sleep, \"300\"], depends_on: [api] }\n",
    );
    s.tta(&["start"]).ok();
    s.tta(&["start"])
        .ok()
        .stderr_has("2 already running")
        .stderr_has("1 already completed");
    let r = s.tta(&["restart", "api"]);
    r.ok().stderr_has("2 stopped, 2 started");
    let j = s.tta(&["--json", "restart", "api"]).ok().json();
    assert_eq!(
        j["stopped"],
        serde_json::json!(["web", "api"]),
        "in the order they stopped: {j}"
    );
}

// ---- day one: `tta run` and `restart --no-deps` ------------------------------------------

#[test]
fn run_streams_a_task_and_exits_with_its_code_never_touching_dependents() {
    let s = Stack::new(
        "components:\n  db: { command: [sleep, \"300\"] }\n  migrate: { kind: task, shell: \"echo migrating; echo oops >&2; exit 7\", depends_on: [db] }\n  app: { command: [sleep, \"301\"], depends_on: { migrate: { condition: completed_successfully, required: false } } }\n",
    );
    // Without --deps, dependencies are not looked at.
    let r = s.tta(&["run", "migrate"]);
    r.code(7).stdout_has("migrating").stderr_has("oops");
    assert!(record_pid(&s, "db").is_none(), "db was not started");
    s.tta(&["logs", "migrate"]).stdout_has("migrating");
    // With --deps, db comes up first; a running dependent is left alone.
    s.tta(&["start", "app", "--no-deps"]).ok();
    let app = record_pid(&s, "app").unwrap();
    s.tta(&["run", "--deps", "migrate"]).code(7);
    assert!(
        record_pid(&s, "db").is_some_and(alive),
        "db was started first"
    );
    assert_eq!(record_pid(&s, "app"), Some(app), "app was not restarted");
    assert!(alive(app));
    s.tta(&["run", "app"])
        .code(2)
        .stderr_has("`app` is a process component: `tta run` runs tasks");
}

#[test]
fn ctrl_c_ends_a_task_run_in_the_foreground() {
    let s = Stack::new("components:\n  long: { kind: task, command: [sleep, \"300\"] }\n");
    let child = s.command(&["run", "long"]).spawn().unwrap();
    assert!(eventually(Duration::from_secs(5), || record_pid(
        &s, "long"
    )
    .is_some()));
    let task = record_pid(&s, "long").unwrap();
    signal("INT", child.id());
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130));
    assert!(eventually(Duration::from_secs(5), || !alive(task)));
}

#[test]
fn restart_no_deps_leaves_running_dependents_alone() {
    let s = Stack::new(
        "components:\n  api: { command: [sleep, \"300\"] }\n  web: { command: [sleep, \"301\"], depends_on: [api] }\n",
    );
    s.tta(&["start"]).ok();
    let (api, web) = (
        record_pid(&s, "api").unwrap(),
        record_pid(&s, "web").unwrap(),
    );
    s.tta(&["restart", "--no-deps", "api"])
        .ok()
        .stderr_has("1 stopped, 1 started");
    assert!(!alive(api));
    assert_eq!(record_pid(&s, "web"), Some(web));
    assert!(alive(web));
}

#[test]
fn on_a_terminal_each_component_keeps_one_final_line_in_config_order() {
    // The dependents report (waiting) before what they wait for starts: their lines must
    // still stand below it, as in the config.
    let s = Stack::new(
        "components:\n  setup: { kind: task, shell: 'sleep 0.3' }\n  api: { kind: task, shell: 'true', depends_on: { setup: completed_successfully } }\n  web: { kind: task, shell: 'true', depends_on: { api: completed_successfully } }\n",
    );
    let tta = crate::harness::tta_bin().display().to_string();
    let mut pty = Command::new("script");
    pty.args(["-qec", &format!("{tta} start"), "/dev/null"])
        .current_dir(s.path())
        .stdin(Stdio::null())
        .env("TERM", "xterm")
        .env_remove("CI")
        .env_remove("NO_COLOR");
    for (k, _) in std::env::vars().filter(|(k, _)| k.starts_with("TTA")) {
        pty.env_remove(k);
    }
    let out = pty.output().expect("script(1) from util-linux");
    let raw = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{raw}");
    // The screen's last frame, without colours and cursor moves.
    let mut text = String::new();
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c == '\x1b' {
            // ESC [ params letter
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            text.push(c);
        }
    }
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let done = |name: &str| {
        text.rfind(&format!("{name} ✓ completed"))
            .unwrap_or_else(|| panic!("no final line for {name}: {text}"))
    };
    assert!(text.contains("⠋"), "no live progress on a terminal: {text}");
    let (setup, api, web) = (done("setup"), done("api"), done("web"));
    assert!(
        setup < api && api < web,
        "final lines not in config order (setup {setup}, api {api}, web {web}): {text}"
    );
}

#[test]
fn status_answers_the_next_question() {
    let port = free_port();
    let s = Stack::new(&format!(
        "components:\n  slow:\n    command: [$SERVER, --port, \"{port}\", --ready-after, 30s]\n    probe: {{ http: \"http://user:secret@127.0.0.1:{port}/health\", start_period: 20s, interval: 50ms }}\n"
    ));
    // While a start waits for it, the process runs and its probe does not pass yet.
    let child = s.command(&["start"]).stderr(Stdio::null()).spawn().unwrap();
    assert!(eventually(Duration::from_secs(5), || record_pid(
        &s, "slow"
    )
    .is_some()));
    let st = s.tta(&["--json", "status"]);
    let row = st.json()["components"][0].clone();
    assert_eq!(row["status"], "starting", "within its start period: {row}");
    assert_eq!(row["health"], "starting", "{row}");
    assert_eq!(
        row["endpoints"],
        serde_json::json!([format!("http://127.0.0.1:{port}/health")]),
        "the probe's URL, without its password: {row}"
    );
    let since = row["since"].as_str().unwrap();
    assert!(
        since.len() == 20 && since.ends_with('Z') && since.as_bytes()[10] == b'T',
        "RFC 3339: {since}"
    );
    signal("INT", child.id());
    let _ = child.wait_with_output();
}

#[test]
fn init_writes_a_starter_config_for_the_compose_projects_around_and_never_overwrites() {
    let root = tempfile::tempdir().unwrap();
    let here = root.path().join("tta");
    for (dir, file) in [
        ("tta/app", "compose.yaml"),
        ("tta.dev", "docker-compose.yml"),
        ("empty", "README"),
    ] {
        let d = root.path().join(dir);
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(
            d.join(file),
            "services:\n  db: { image: x }\n  web: { image: x, depends_on: [db] }\n",
        )
        .unwrap();
    }
    let tta = |args: &[&str]| {
        Command::new(crate::harness::tta_bin())
            .args(args)
            .current_dir(&here)
            .env("CI", "true")
            .env_remove("TTA_CONFIG")
            .output()
            .unwrap()
    };
    let out = tta(&["init"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(here.join("tta.yaml")).unwrap();
    assert!(text.contains("  app:\n    path: ./app\n"), "{text}");
    assert!(
        text.contains("  tta.dev:\n    path: ../tta.dev\n"),
        "{text}"
    );
    assert!(!text.contains("empty"), "{text}");
    assert!(
        text.contains("#   migrate:") && text.contains("#     probe:"),
        "{text}"
    );
    let plan = tta(&["--json", "start", "--dry-run"]);
    let plan: serde_json::Value = serde_json::from_slice(&plan.stdout).unwrap();
    assert_eq!(plan["components"], 4, "both projects' services: {plan}");
    let again = tta(&["init"]);
    assert_eq!(again.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&again.stderr).contains("never overwrites"));
    assert_eq!(
        std::fs::read_to_string(here.join("tta.yaml")).unwrap(),
        text
    );
}

#[test]
fn doctor_finds_commands_that_cannot_run_and_names_what_holds_a_port() {
    let port = free_port();
    let squatter = std::net::TcpListener::bind(("127.0.0.1", port)).unwrap();
    let s = Stack::new(&format!(
        "components:\n  typo: {{ command: [definitely-not-installed-tta, --x] }}\n  local: {{ command: [./bin/run.sh] }}\n  api:\n    command: [sleep, \"300\"]\n    probe: {{ tcp: \"127.0.0.1:{port}\" }}\n"
    ));
    let r = s.tta(&["doctor"]);
    r.code(1)
        .stdout_has("command of typo")
        .stdout_has("`definitely-not-installed-tta` cannot be run")
        .stdout_has("command of local")
        .stdout_has(&format!("pid {}", std::process::id()));
    assert!(!r.stdout.contains("command of api"), "{}", r.stdout);
    drop(squatter);
}

#[test]
fn verbose_output_shows_what_tta_decides_and_does() {
    let port = free_port();
    let s = Stack::new(&format!(
        "components:\n  seed: {{ kind: task, command: [\"true\"] }}\n  api:\n    command: [$SERVER, --port, \"{port}\"]\n    depends_on: {{ seed: completed_successfully }}\n    probe: {{ tcp: \"127.0.0.1:{port}\", interval: 50ms }}\n"
    ));
    let quiet = s.tta(&["start"]);
    assert!(!quiet.stderr.contains("plan:"), "{}", quiet.stderr);
    s.tta(&["stop"]).ok();
    s.tta(&["-v", "start"])
        .ok()
        .stderr_has("plan: start 2 component(s)");
    s.tta(&["-v", "start"])
        .ok()
        .stderr_has("seed: already up; nothing to do");
    s.tta(&["-v", "stop"])
        .ok()
        .stderr_has("plan: stop 2 component(s), dependents first: api, seed");
    s.tta(&["-vv", "start"])
        .ok()
        .stderr_has(&format!("api: probe tcp 127.0.0.1:{port}: ok"));
}
