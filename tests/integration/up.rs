//! `tta up` with real processes: crash and restart with backoff (delays read from the
//! event stream), `max_restarts` with the dependents blocked, a liveness probe restarting a
//! process, a cascade through `restart: true`, a reload restarting only what changed, a
//! `watch:` restart, Ctrl-C leaving nothing behind (and a second one killing at once),
//! `--exit-on-failure`, and `tta status` / `tta restart` from another shell.

use std::io::{BufRead as _, BufReader};
use std::process::{Child, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::harness::{Stack, alive, eventually};

/// A running `tta --json up` and the events it printed so far.
pub(crate) struct Up {
    child: Option<Child>,
    rx: Receiver<Value>,
    /// Every event read so far, in order.
    pub(crate) seen: Vec<Value>,
}

impl Up {
    /// Starts `tta --json up ARGS` in the stack.
    pub(crate) fn start(s: &Stack, args: &[&str]) -> Self {
        let mut all = vec!["--json", "up"];
        all.extend_from_slice(args);
        let mut child = s
            .command(&all)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let out = child.stdout.take().unwrap();
        let (tx, rx) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines() {
                let Ok(line) = line else { return };
                let v: Value = serde_json::from_str(&line)
                    .unwrap_or_else(|e| panic!("not a JSON line ({e}): {line}"));
                if tx.send(v).is_err() {
                    return;
                }
            }
        });
        Self {
            child: Some(child),
            rx,
            seen: Vec::new(),
        }
    }

    /// Waits (up to `limit`) for an event that `want` accepts; returns it.
    #[track_caller]
    pub(crate) fn wait(&mut self, limit: Duration, want: impl Fn(&Value) -> bool) -> Value {
        let t = Instant::now();
        loop {
            let left = limit.saturating_sub(t.elapsed());
            match self.rx.recv_timeout(left) {
                Ok(v) => {
                    self.seen.push(v.clone());
                    if want(&v) {
                        return v;
                    }
                }
                Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => panic!(
                    "no such event within {limit:?}; seen:\n{}",
                    self.seen
                        .iter()
                        .map(Value::to_string)
                        .collect::<Vec<_>>()
                        .join("\n")
                ),
            }
        }
    }

    /// Waits for `event` of component `name`.
    #[track_caller]
    pub(crate) fn wait_for(&mut self, name: &str, event: &str, limit: Duration) -> Value {
        self.wait(limit, |v| v["name"] == name && v["event"] == event)
    }

    /// Waits for `event` of each of `names`, in any order (one already seen counts).
    #[track_caller]
    pub(crate) fn wait_all(&mut self, names: &[&str], event: &str, limit: Duration) {
        for n in names {
            if !self
                .seen
                .iter()
                .any(|v| v["name"] == *n && v["event"] == event)
            {
                self.wait_for(n, event, limit);
            }
        }
    }

    /// An event `want` accepts, already seen or still to come.
    #[track_caller]
    pub(crate) fn saw(&mut self, limit: Duration, want: impl Fn(&Value) -> bool) -> Value {
        if let Some(v) = self.seen.iter().find(|v| want(v)) {
            return v.clone();
        }
        self.wait(limit, want)
    }

    /// The pid of `up`.
    pub(crate) fn pid(&self) -> u32 {
        self.child.as_ref().unwrap().id()
    }

    /// Sends SIGINT (Ctrl-C).
    pub(crate) fn interrupt(&self) {
        signal(self.pid(), "-INT");
    }

    /// Waits for `up` to exit (up to `limit`); returns its exit code, having read every
    /// event it printed.
    #[track_caller]
    pub(crate) fn exit(&mut self, limit: Duration) -> i32 {
        let mut child = self.child.take().unwrap();
        let t = Instant::now();
        let status = loop {
            if let Some(s) = child.try_wait().unwrap() {
                break s;
            }
            assert!(t.elapsed() < limit, "tta up did not exit within {limit:?}");
            std::thread::sleep(Duration::from_millis(20));
        };
        while let Ok(v) = self.rx.recv_timeout(Duration::from_secs(2)) {
            self.seen.push(v);
        }
        status.code().unwrap_or(-1)
    }

    /// The events of `name` seen so far.
    pub(crate) fn of(&self, name: &str) -> Vec<&Value> {
        self.seen.iter().filter(|v| v["name"] == name).collect()
    }
}

impl Drop for Up {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            signal(c.id(), "-INT");
            let t = Instant::now();
            while c.try_wait().ok().flatten().is_none() && t.elapsed() < Duration::from_secs(10) {
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

pub(crate) fn signal(pid: u32, sig: &str) {
    let _ = std::process::Command::new("kill")
        .args([sig, &pid.to_string()])
        .status();
}

/// Seconds since the epoch of an event's `at`.
pub(crate) fn at(v: &Value) -> f64 {
    let s = v["at"].as_str().unwrap();
    let t = humantime::parse_rfc3339(s).unwrap();
    t.duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}

/// The pid a component's record names.
pub(crate) fn pid_of(s: &Stack, name: &str) -> Option<u32> {
    let text = std::fs::read_to_string(s.path().join(format!(".tta/run/{name}.json"))).ok()?;
    let v: Value = serde_json::from_str(&text).ok()?;
    v["pid"].as_u64().and_then(|p| u32::try_from(p).ok())
}

const T: Duration = Duration::from_secs(20);

#[test]
fn a_crash_restarts_with_exponential_backoff_read_from_the_event_stream() {
    let s = Stack::new(
        "components:\n  c: { shell: 'echo run; sleep 0.3; exit 3', backoff: 300ms, max_backoff: 1s }\n",
    );
    let mut up = Up::start(&s, &[]);
    let mut delays = Vec::new();
    for n in 1..=4u64 {
        let r = up.wait_for("c", "restarting", T);
        assert_eq!(r["restart"], n);
        assert_eq!(r["exit_code"], 3);
        assert!(
            r["message"]
                .as_str()
                .unwrap()
                .starts_with("exited with code 3; restarting in")
        );
        let delay = r["delay_ms"].as_f64().unwrap() / 1000.0;
        let started = up.wait_for("c", "starting", T);
        let gap = at(&started) - at(&r);
        assert!(
            gap >= delay - 0.005,
            "restart {n} came {gap:.3}s after the crash, before its {delay:.3}s delay"
        );
        assert!(gap < delay + 1.0, "restart {n} came {gap:.3}s late");
        delays.push(delay);
    }
    // 300ms, 600ms, 1s (the cap), 1s, each ±20 %.
    for (d, base) in delays.iter().zip([0.3, 0.6, 1.0, 1.0]) {
        assert!(
            (base * 0.8 - 0.001..=base * 1.2 + 0.001).contains(d),
            "{delays:?}"
        );
    }
    let lines: Vec<&Value> = up
        .of("c")
        .into_iter()
        .filter(|v| v["event"] == "line")
        .collect();
    assert!(lines.len() >= 4 && lines.iter().all(|l| l["line"] == "run"));
    up.interrupt();
    assert_eq!(up.exit(T), 130);
}

#[test]
fn max_restarts_fails_the_component_blocks_its_dependents_and_shows_its_last_lines() {
    let s = Stack::new(
        "components:\n  db: { shell: 'echo boom-$$$$; exit 3', backoff: 50ms, max_restarts: 2 }\n  app: { command: [sleep, '30'], depends_on: [db] }\n",
    );
    let mut up = Up::start(&s, &[]);
    up.wait_for("app", "blocked", T);
    let gave_up = up.wait_for("db", "given_up", T);
    assert!(
        gave_up["message"]
            .as_str()
            .unwrap()
            .contains("gave up after 2 restarts in a row"),
        "{gave_up}"
    );
    let tail = up.wait_for("db", "log_tail", T);
    assert!(
        tail["line"].as_str().unwrap().starts_with("boom-"),
        "{tail}"
    );
    // Nothing is left to supervise, and something failed.
    assert_eq!(up.exit(T), 1);
    assert!(up.of("app").iter().all(|v| v["event"] != "starting"));
    let starts = up
        .of("db")
        .iter()
        .filter(|v| v["event"] == "starting")
        .count();
    assert_eq!(starts, 3, "the first start and two restarts");
}

#[test]
fn a_failing_liveness_probe_restarts_the_process() {
    let s = Stack::new(
        "components:\n  c:\n    command: [sleep, '300']\n    liveness: { exec: [test, -f, alive], interval: 100ms, failure_threshold: 2 }\n    backoff: 0s\n",
    );
    s.write("alive", "");
    let mut up = Up::start(&s, &[]);
    up.wait_for("c", "ready", T);
    let first = pid_of(&s, "c").unwrap();
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(pid_of(&s, "c"), Some(first), "alive: left alone");
    std::fs::remove_file(s.path().join("alive")).unwrap();
    let r = up.wait_for("c", "restarting", T);
    assert!(
        r["message"]
            .as_str()
            .unwrap()
            .contains("liveness probe failed 2 times in a row"),
        "{r}"
    );
    s.write("alive", "");
    up.wait_for("c", "ready", T);
    let second = pid_of(&s, "c").unwrap();
    assert_ne!(first, second);
    assert!(!alive(first), "the old process was stopped");
    assert!(alive(second));
    up.interrupt();
    assert_eq!(up.exit(T), 130);
    assert!(!alive(second));
}

#[test]
fn a_restart_cascades_through_restart_true_edges_only() {
    let s = Stack::new(
        "components:
  db:
    command: [sleep, '300']
    liveness: { exec: [test, -f, db-alive], interval: 100ms, failure_threshold: 1 }
    backoff: 0s
  app: { command: [sleep, '300'], depends_on: { db: { condition: healthy, restart: true } } }
  web: { command: [sleep, '300'], depends_on: { app: { restart: true } } }
  side: { command: [sleep, '300'], depends_on: [db] }
",
    );
    s.write("db-alive", "");
    let mut up = Up::start(&s, &[]);
    up.wait_all(&["db", "app", "web", "side"], "ready", T);
    let before: Vec<u32> = ["db", "app", "web", "side"]
        .iter()
        .map(|n| pid_of(&s, n).unwrap())
        .collect();
    std::fs::remove_file(s.path().join("db-alive")).unwrap();
    up.wait_for("db", "restarting", T);
    s.write("db-alive", "");
    up.wait_for("app", "cascade", T);
    up.wait_for("web", "cascade", T);
    up.wait_for("web", "ready", T);
    let after: Vec<u32> = ["db", "app", "web", "side"]
        .iter()
        .map(|n| pid_of(&s, n).unwrap())
        .collect();
    assert_ne!(before[0], after[0], "db restarted");
    assert_ne!(before[1], after[1], "app restarted: restart: true on db");
    assert_ne!(before[2], after[2], "web restarted: restart: true on app");
    assert_eq!(before[3], after[3], "side has a plain edge: left alone");
    // app restarted only once db was ready again.
    let db_ready = up
        .seen
        .iter()
        .filter(|v| v["name"] == "db" && v["event"] == "ready")
        .map(at)
        .next_back()
        .unwrap();
    let cascade = at(up
        .of("app")
        .iter()
        .find(|v| v["event"] == "cascade")
        .unwrap());
    assert!(cascade >= db_ready);
    up.interrupt();
    assert_eq!(up.exit(T), 130);
}

#[test]
fn a_config_edit_restarts_only_the_changed_component_and_a_broken_edit_is_ignored() {
    let yaml = |b: &str| {
        format!(
            "components:\n  a: {{ command: [sleep, '300'] }}\n  b: {{ command: [sleep, '{b}'] }}\n"
        )
    };
    let s = Stack::new(&yaml("300"));
    let mut up = Up::start(&s, &[]);
    up.wait_all(&["a", "b"], "ready", T);
    let (a, b) = (pid_of(&s, "a").unwrap(), pid_of(&s, "b").unwrap());
    s.write("tta.yaml", &yaml("301"));
    let r = up.wait_for("tta", "reload", T);
    assert_eq!(r["restarted"], serde_json::json!(["b"]), "{r}");
    up.wait_for("b", "ready", T);
    let b2 = pid_of(&s, "b").unwrap();
    assert_ne!(b, b2);
    assert_eq!(pid_of(&s, "a"), Some(a), "the unchanged pid survives");
    assert!(alive(a) && alive(b2) && !alive(b));
    // An invalid edit: reported, and the stack stays as it is.
    s.write(
        "tta.yaml",
        "components:\n  a: { command: [sleep, '300'], bogus: 1 }\n",
    );
    let r = up.wait_for("tta", "reload_failed", T);
    assert!(r["message"].as_str().unwrap().contains("bogus"), "{r}");
    assert!(alive(a) && alive(b2));
    // A component added, one removed.
    s.write(
        "tta.yaml",
        "components:\n  a: { command: [sleep, '300'] }\n  c: { command: [sleep, '300'] }\n",
    );
    let r = up.wait_for("tta", "reload", T);
    assert_eq!(
        (r["started"].clone(), r["stopped"].clone()),
        (serde_json::json!(["c"]), serde_json::json!(["b"]))
    );
    up.wait_for("c", "ready", T);
    assert!(eventually(Duration::from_secs(5), || !alive(b2)));
    assert_eq!(pid_of(&s, "a"), Some(a));
    up.interrupt();
    assert_eq!(up.exit(T), 130);
}

#[test]
fn a_watched_file_change_restarts_the_process() {
    let s = Stack::new("components:\n  c: { command: [sleep, '300'], watch: ['src/**/*.py'] }\n");
    s.write("src/app/main.py", "print(1)\n");
    let mut up = Up::start(&s, &[]);
    up.wait_for("c", "ready", T);
    let first = pid_of(&s, "c").unwrap();
    s.write("src/app/notes.txt", "not watched\n");
    std::thread::sleep(Duration::from_millis(800));
    assert_eq!(pid_of(&s, "c"), Some(first), "a file no glob names");
    s.write("src/app/main.py", "print(2)\n");
    let r = up.wait_for("c", "changed", T);
    assert!(r["message"].as_str().unwrap().contains("main.py"), "{r}");
    up.wait_for("c", "ready", T);
    assert_ne!(pid_of(&s, "c"), Some(first));
    up.interrupt();
    assert_eq!(up.exit(T), 130);
}

#[test]
fn ctrl_c_stops_what_up_started_and_leaves_what_ran_before() {
    let s = Stack::new(
        "components:\n  before: { command: [sleep, '300'] }\n  wrapper: { shell: 'sleep 300 & echo $$! > bg.pid; wait' }\n  mine: { command: [sleep, '300'], depends_on: [before] }\n",
    );
    s.tta(&["start", "before"]).ok();
    let before = pid_of(&s, "before").unwrap();
    let mut up = Up::start(&s, &[]);
    up.wait_all(&["mine", "wrapper"], "ready", T);
    let (mine, wrapper) = (pid_of(&s, "mine").unwrap(), pid_of(&s, "wrapper").unwrap());
    assert!(eventually(T, || s.path().join("bg.pid").exists()));
    let bg: u32 = s.read("bg.pid").trim().parse().unwrap();
    assert!(alive(bg));
    up.interrupt();
    assert_eq!(up.exit(T), 130);
    for p in [mine, wrapper, bg] {
        assert!(!alive(p), "pid {p} left running");
    }
    assert!(alive(before), "what ran before up is left as it was");
    let left = up.wait_or_seen("tta", "left_running");
    assert_eq!(left["left_running"], serde_json::json!(["before"]));
    assert!(!s.path().join(".tta/up.json").exists());
    // --stop-all stops it too.
    let mut up = Up::start(&s, &["--stop-all"]);
    up.wait_for("mine", "ready", T);
    up.interrupt();
    assert_eq!(up.exit(T), 130);
    assert!(eventually(Duration::from_secs(3), || !alive(before)));
}

impl Up {
    /// An event already read (after `exit`), or one still to come.
    #[track_caller]
    fn wait_or_seen(&mut self, name: &str, event: &str) -> Value {
        if let Some(v) = self
            .seen
            .iter()
            .find(|v| v["name"] == name && v["event"] == event)
        {
            return v.clone();
        }
        self.wait_for(name, event, T)
    }
}

#[test]
fn a_second_ctrl_c_kills_at_once() {
    let s = Stack::new(
        "components:\n  stubborn: { shell: \"trap '' TERM; while :; do sleep 0.1; done\", stop_timeout: 60s }\n",
    );
    let mut up = Up::start(&s, &[]);
    up.wait_for("stubborn", "ready", T);
    let pid = pid_of(&s, "stubborn").unwrap();
    up.interrupt();
    up.wait_for("stubborn", "stopping", T);
    std::thread::sleep(Duration::from_millis(400));
    assert!(alive(pid), "the first Ctrl-C waits for the grace period");
    let t = Instant::now();
    up.interrupt();
    assert_eq!(up.exit(T), 130);
    assert!(t.elapsed() < Duration::from_secs(10));
    assert!(eventually(Duration::from_secs(3), || !alive(pid)));
}

#[test]
fn exit_on_failure_exits_1_and_stops_the_rest() {
    let s = Stack::new(
        "components:\n  ok: { command: [sleep, '300'] }\n  bad: { shell: 'sleep 0.5; exit 4', restart: no }\n",
    );
    let mut up = Up::start(&s, &["--exit-on-failure"]);
    up.wait_all(&["ok"], "ready", T);
    let ok = pid_of(&s, "ok").unwrap();
    up.wait_all(&["bad"], "exited", T);
    let e = up
        .seen
        .iter()
        .find(|v| v["name"] == "bad" && v["event"] == "exited")
        .unwrap()
        .clone();
    assert_eq!(e["exit_code"], 4);
    assert_eq!(up.exit(T), 1);
    assert!(!alive(ok), "the rest is stopped");
    assert!(up.seen.iter().any(|v| v["event"] == "exit_on_failure"));
}

#[test]
fn status_and_restart_from_another_shell_see_and_respect_what_up_does() {
    let s = Stack::new(
        "components:\n  flaky: { shell: 'exit 5', backoff: 30s }\n  steady: { command: [sleep, '300'] }\n",
    );
    let mut up = Up::start(&s, &[]);
    up.wait_all(&["flaky"], "restarting", T);
    up.wait_all(&["steady"], "ready", T);
    let v = s.tta(&["--json", "status"]).json();
    let row = |n: &str| {
        v["components"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == n)
            .unwrap()
            .clone()
    };
    let flaky = row("flaky");
    assert_eq!(flaky["supervisor"]["state"], "restarting", "{flaky}");
    assert_eq!(flaky["supervisor"]["last_exit_code"], 5);
    assert!(flaky["supervisor"]["restart_at"].as_f64().is_some());
    assert!(
        flaky["detail"].as_str().unwrap().contains("restarts it in"),
        "{flaky}"
    );
    assert_eq!(row("steady")["supervisor"]["state"], "running");
    // `tta restart steady` in another shell: it runs while up does, and up watches the
    // new process rather than starting a second one.
    let old = pid_of(&s, "steady").unwrap();
    s.tta(&["restart", "--no-deps", "steady"]).ok();
    let new = pid_of(&s, "steady").unwrap();
    assert_ne!(old, new);
    up.wait_for("steady", "adopted", T);
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(
        pid_of(&s, "steady"),
        Some(new),
        "up did not start another one"
    );
    // The adopted process ending is seen too (the kernel tells, no child of ours).
    signal(new, "-KILL");
    let r = up.wait_for("steady", "restarting", T);
    // Its keeper tells how it ended, though it is no child of up's.
    assert!(
        r["message"]
            .as_str()
            .unwrap()
            .contains("killed by signal 9"),
        "{r}"
    );
    up.interrupt();
    assert_eq!(up.exit(T), 130);
}

#[test]
fn without_a_terminal_lines_are_plain_and_whole() {
    let s = Stack::new(
        "components:\n  a: { shell: 'for i in $(seq 1 2000); do echo a-line-$i-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx; done; sleep 300' }\n  b: { shell: 'for i in $(seq 1 2000); do echo b-line-$i-yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy; done; sleep 300' }\n",
    );
    let mut child = s
        .command(&["up", "--timestamps"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let out = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut lines = Vec::new();
        for l in BufReader::new(out).lines() {
            lines.push(l.unwrap());
        }
        lines
    });
    let log = s.path().join(".tta/logs/b.log");
    assert!(eventually(T, || std::fs::read_to_string(&log)
        .is_ok_and(|t| t.contains("b-line-2000-"))));
    std::thread::sleep(Duration::from_millis(500));
    signal(child.id(), "-INT");
    assert_eq!(child.wait().unwrap().code(), Some(130));
    let lines = reader.join().unwrap();
    let mut count = [0usize; 2];
    for l in &lines {
        assert!(!l.contains('\u{1b}'), "no colour without a terminal: {l:?}");
        // `2026-12-01T10:00:00.123Z a   | a-line-1-xxx...`
        let rest = l.split_once(' ').map(|x| x.1).unwrap_or_default();
        for (i, (who, fill)) in [("a", 'x'), ("b", 'y')].iter().enumerate() {
            if let Some(text) = rest.strip_prefix(&format!("{who}   | {who}-line-")) {
                assert!(text.ends_with(&fill.to_string().repeat(34)), "whole: {l:?}");
                count[i] += 1;
            }
        }
    }
    assert_eq!(count, [2000, 2000], "every line, none lost");
}

#[test]
fn a_second_up_on_the_same_stack_is_refused_naming_the_first() {
    let s = Stack::new("components:\n  a: { command: [sleep, '300'] }\n");
    let mut up = Up::start(&s, &[]);
    up.wait_for("a", "ready", T);
    let second = s.tta(&["up"]);
    second.code(3).stderr_has(&format!(
        "another `tta up` (pid {}) already supervises this stack",
        up.pid()
    ));
    // SIGHUP (a closing terminal) ends it as Ctrl-C does.
    let a = pid_of(&s, "a").unwrap();
    signal(up.pid(), "-HUP");
    assert_eq!(up.exit(T), 130);
    assert!(!alive(a));
}
