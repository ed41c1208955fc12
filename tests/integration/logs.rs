//! `tta logs` as compose users expect it: every component interleaved by time, streams and
//! times kept per line, `--since`, `--json` lines, stable colours, `-f` over processes and
//! containers together; the log of a start that failed; and the keeper that writes local
//! logs (the exit code of a process that ends after `tta` has, pipes `tta` does not hold).

use std::io::{BufRead as _, BufReader, Read as _};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::compose_e2e::{IMAGE, docker, engine_ready};
use crate::harness::{Stack, eventually};

fn json_lines(text: &str) -> Vec<serde_json::Value> {
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l:?}")))
        .collect()
}

#[test]
fn every_component_interleaves_by_time_with_its_stream() {
    // a and b take turns (a1, b1, a2, b2, ...), b on stderr; neither has a probe.
    let s = Stack::new(
        r#"
components:
  a: { shell: "for i in 1 2 3; do echo a$i; sleep 0.3; done; sleep 600" }
  b: { shell: "sleep 0.15; for i in 1 2 3; do echo b$i >&2; sleep 0.3; done; sleep 600" }
"#,
    );
    s.tta(&["start"]).ok();
    assert!(eventually(Duration::from_secs(5), || s
        .tta(&["logs", "b"])
        .stdout
        .contains("b3")));
    let all = s.tta(&["logs"]);
    all.ok();
    let lines: Vec<&str> = all.stdout.lines().collect();
    assert_eq!(
        lines,
        ["a | a1", "b | b1", "a | a2", "b | b2", "a | a3", "b | b3"],
        "interleaved by time, each after its name"
    );
    let j = json_lines(&s.tta(&["--json", "logs"]).stdout);
    assert_eq!(j.len(), 6);
    assert_eq!(j[1]["component"], "b");
    assert_eq!(j[1]["stream"], "stderr");
    assert_eq!(j[0]["stream"], "stdout");
    assert_eq!(j[0]["line"], "a1");
    let times: Vec<&str> = j.iter().map(|l| l["time"].as_str().unwrap()).collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "{times:?}");
    assert!(
        humantime::parse_rfc3339(times[0]).is_ok(),
        "RFC 3339: {}",
        times[0]
    );
    // --since a time: the lines from that moment on.
    let since = s.tta(&["logs", "--since", times[3]]);
    since.ok();
    assert_eq!(
        since.stdout.lines().collect::<Vec<_>>(),
        ["b | b2", "a | a3", "b | b3"]
    );
    // -t shows each time; -n limits each component.
    let t = s.tta(&["logs", "-t", "-n", "1", "a"]);
    t.ok();
    let line = t.stdout.trim_end();
    let (time, rest) = line.split_once(' ').unwrap();
    assert!(humantime::parse_rfc3339(time).is_ok(), "{line}");
    assert_eq!(rest, "a3");
}

#[test]
fn a_component_keeps_its_colour_whatever_is_shown_with_it() {
    let s = Stack::new(
        r#"
components:
  api: { shell: "echo from-api; sleep 600" }
  web: { shell: "echo from-web; sleep 600" }
  worker: { shell: "echo from-worker; sleep 600" }
"#,
    );
    s.tta(&["start"]).ok();
    assert!(eventually(Duration::from_secs(5), || s
        .tta(&["logs"])
        .stdout
        .lines()
        .count()
        == 3));
    let prefix_of = |args: &[&str], name: &str| -> String {
        let r = s.tta(args);
        r.ok();
        let line = r
            .stdout
            .lines()
            .find(|l| l.contains(&format!("from-{name}")))
            .unwrap()
            .to_owned();
        let esc = line.find('\u{1b}').expect("coloured");
        line[esc..esc + 5].to_owned()
    };
    let api_all = prefix_of(&["--color", "always", "logs"], "api");
    let api_two = prefix_of(&["--color", "always", "logs", "web", "api"], "api");
    assert_eq!(api_all, api_two, "the same colour for api");
    let web = prefix_of(&["--color", "always", "logs"], "web");
    let worker = prefix_of(&["--color", "always", "logs"], "worker");
    assert!(
        api_all != web || web != worker,
        "names get different colours"
    );
    // Piped, without --color always: no escape codes.
    assert!(!s.tta(&["logs"]).stdout.contains('\u{1b}'));
}

#[test]
fn the_log_of_a_failed_start_is_kept_and_shown() {
    let s = Stack::new(
        r#"
components:
  nobin: { command: [no-such-binary-tta-xyz] }
  crash: { shell: "echo 'config missing: /etc/app.yaml' >&2; exit 3" }
"#,
    );
    let r = s.tta(&["start"]);
    r.code(1).stderr_has("tta logs");
    s.tta(&["logs", "nobin"])
        .ok()
        .stdout_has("command `no-such-binary-tta-xyz` not found");
    s.tta(&["logs", "crash"])
        .ok()
        .stdout_has("config missing: /etc/app.yaml");
    let j = json_lines(&s.tta(&["--json", "logs", "crash"]).stdout);
    assert_eq!(j.last().unwrap()["stream"], "stderr");
}

#[test]
fn lines_keep_their_bytes_and_a_missing_last_line_break() {
    let s = Stack::new(
        r#"
components:
  t: { kind: task, shell: "printf 'caf\\351 ok\\r\\nno newline'" }
"#,
    );
    s.tta(&["start"]).ok();
    let out = s.command(&["logs", "t"]).output().unwrap();
    assert_eq!(out.stdout, b"caf\xe9 ok\r\nno newline\n");
    let raw = std::fs::read(s.path().join(".tta/logs/t.log")).unwrap();
    assert!(
        raw.ends_with(b"caf\xe9 ok\r\nno newline\n"),
        "the log file holds the bytes as written: {:?}",
        String::from_utf8_lossy(&raw)
    );
}

#[test]
fn a_process_that_exits_after_tta_has_gone_shows_its_exit_code() {
    let s = Stack::new(
        r#"
components:
  brief: { shell: "sleep 1; echo bye; exit 7" }
"#,
    );
    s.tta(&["start"]).ok();
    assert!(eventually(Duration::from_secs(5), || s
        .tta(&["status"])
        .code
        == 1));
    s.tta(&["status"])
        .code(1)
        .stdout_has("exited with code 7; see `tta logs brief`");
    s.tta(&["logs", "brief"]).ok().stdout_has("bye");
}

#[test]
fn tta_start_does_not_hold_the_callers_pipes() {
    // `out=$(tta start)` must return when tta does, not when the processes end.
    let s = Stack::new("components:\n  long: { shell: \"echo hi; sleep 600\" }\n");
    let t = Instant::now();
    let mut child = s
        .command(&["start"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = String::new();
    let mut err = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut out)
        .unwrap();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    assert!(child.wait().unwrap().success(), "{err}");
    assert!(
        t.elapsed() < Duration::from_secs(20),
        "the pipes stayed open after tta start"
    );
    s.tta(&["stop"]).ok();
    assert!(
        !std::fs::read_dir(s.path().join(".tta/run"))
            .unwrap()
            .any(|e| e.unwrap().file_name().to_string_lossy().ends_with(".json")),
        "the record was written back after the stop"
    );
}

/// `tta logs -f` runs until Ctrl-C, printing lines as they come: collects them.
struct Follow {
    child: std::process::Child,
    lines: std::sync::mpsc::Receiver<String>,
}

impl Follow {
    fn new(s: &Stack, args: &[&str]) -> Self {
        Self::with(s.command(args))
    }

    /// Runs `command` (a `tta logs -f`).
    fn with(mut command: Command) -> Self {
        let mut child = command
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let out = child.stdout.take().unwrap();
        let (tx, lines) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for l in BufReader::new(out).lines() {
                if tx.send(l.unwrap_or_default()).is_err() {
                    break;
                }
            }
        });
        Self { child, lines }
    }

    /// Waits for a line containing `want`; returns every line seen until then.
    fn until(&self, want: &str, limit: Duration) -> Vec<String> {
        let t = Instant::now();
        let mut seen = Vec::new();
        while t.elapsed() < limit {
            if let Ok(l) = self.lines.recv_timeout(Duration::from_millis(100)) {
                let done = l.contains(want);
                seen.push(l);
                if done {
                    return seen;
                }
            }
        }
        panic!("no line with {want:?} in {limit:?}; saw {seen:?}");
    }

    /// Ctrl-C; its exit code.
    fn interrupt(mut self) -> i32 {
        Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status()
            .unwrap();
        let t = Instant::now();
        while t.elapsed() < Duration::from_secs(10) {
            if let Some(s) = self.child.try_wait().unwrap() {
                return s.code().unwrap_or(-1);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        panic!("tta logs -f did not end on Ctrl-C");
    }
}

#[test]
fn follow_goes_on_through_a_restart() {
    let s = Stack::new("components:\n  p: { shell: \"echo run-$$; sleep 600\" }\n");
    s.tta(&["start"]).ok();
    let f = Follow::new(&s, &["logs", "-f", "p"]);
    f.until("run-", Duration::from_secs(5));
    s.tta(&["restart", "p"]).ok();
    let after = f.until("run-", Duration::from_secs(10));
    assert_eq!(after.len(), 1, "the new run's line, once: {after:?}");
    assert_eq!(f.interrupt(), 130);
}

#[test]
fn follow_mixes_processes_and_containers_of_two_repositories() {
    if !engine_ready() {
        return;
    }
    let s = Stack::new(
        "defaults: { start_timeout: 30s, stop_timeout: 2s }\nrepositories:\n  logsa: { path: a }\n  logsb: { path: b }\ncomponents:\n  local: { shell: \"i=0; while true; do i=$((i+1)); echo local-$i; sleep 0.3; done\" }\n",
    );
    let svc = |word: &str| {
        format!(
            "services:\n  {word}:\n    image: {IMAGE}\n    init: true\n    command: [sh, -c, 'i=0; while true; do i=$$((i+1)); echo {word}-$$i; sleep 0.3; done']\n"
        )
    };
    s.write("a/compose.yaml", &svc("alpha"));
    s.write("b/compose.yaml", &svc("beta"));
    let _cleanup = Cleanup(&["logsa", "logsb"]);
    s.tta(&["start"]).ok();
    let f = Follow::new(&s, &["logs", "-f", "-n", "1"]);
    let mut seen = Vec::new();
    for want in ["alpha-", "beta-", "local-"] {
        seen.extend(f.until(want, Duration::from_secs(20)));
    }
    // Later lines of all three keep coming, each after its component's name.
    for want in ["logsa/alpha", "logsb/beta", "local "] {
        let more = f.until(want, Duration::from_secs(10));
        assert!(more.last().unwrap().contains(" | "), "{more:?}");
    }
    let ours: Vec<String> = project_containers(&["logsa", "logsb"]);
    assert_eq!(ours.len(), 2, "{ours:?}");
    // The `docker logs` processes of this test's containers.
    let docker_logs = || {
        Command::new("pgrep")
            .args(["-af", "logs --timestamps"])
            .output()
            .map_or(0, |o| {
                String::from_utf8_lossy(&o.stdout)
                    .lines()
                    .filter(|l| ours.iter().any(|id| l.contains(id.as_str())))
                    .count()
            })
    };
    assert_eq!(
        docker_logs(),
        0,
        "the engine's API is read, no docker logs runs"
    );
    assert_eq!(f.interrupt(), 130);
    // Where the engine is read through its CLI, one `docker logs` per container, ended
    // with `tta`.
    let mut cli = s.command(&["logs", "-f", "-n", "1"]);
    cli.env("TTA_ENGINE", "cli");
    let f = Follow::with(cli);
    for want in ["logsa/alpha", "logsb/beta", "local "] {
        f.until(want, Duration::from_secs(20));
    }
    assert!(
        eventually(Duration::from_secs(5), || docker_logs() == 2),
        "one docker logs per container"
    );
    assert_eq!(f.interrupt(), 130);
    assert!(
        eventually(Duration::from_secs(5), || docker_logs() == 0),
        "docker logs left running after Ctrl-C"
    );
    // The containers' lines carry times too: merged by time with the local ones.
    let j = json_lines(&s.tta(&["--json", "logs", "-n", "3"]).stdout);
    assert_eq!(j.len(), 9, "{j:?}");
    assert!(j.iter().all(|l| l["time"].is_string()));
    let times: Vec<&str> = j.iter().map(|l| l["time"].as_str().unwrap()).collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "{times:?}");
}

#[test]
fn a_containers_lines_keep_stream_and_bytes_through_the_api_and_the_cli() {
    if !engine_ready() {
        return;
    }
    let s = Stack::new(
        "defaults: { start_timeout: 30s, stop_timeout: 2s }\nrepositories:\n  logsc: { path: c }\n",
    );
    s.write(
        "c/compose.yaml",
        &format!(
            "services:\n  t:\n    image: {IMAGE}\n    init: true\n    command: [sh, -c, \"echo to-stderr >&2; sleep 0.2; printf 'caf\\\\303\\\\251 ok\\\\r\\\\nno newline'\"]\n"
        ),
    );
    let _cleanup = Cleanup(&["logsc"]);
    let _ = s.tta(&["start"]);
    // The engine read through its API, or through its CLI.
    let run = |engine: &str, args: &[&str]| {
        let mut c = s.command(args);
        if engine == "cli" {
            c.env("TTA_ENGINE", "cli");
        }
        c.output().unwrap().stdout
    };
    let read = |engine: &str| run(engine, &["logs"]);
    assert!(
        eventually(Duration::from_secs(20), || read("api")
            .ends_with(b"no newline\n")),
        "{:?}",
        String::from_utf8_lossy(&read("api"))
    );
    for engine in ["api", "cli"] {
        assert_eq!(
            String::from_utf8_lossy(&read(engine)),
            "to-stderr\ncaf\u{e9} ok\r\nno newline\n",
            "through the {engine}: each line as written, the last without a line break"
        );
        let j = json_lines(&String::from_utf8_lossy(&run(engine, &["--json", "logs"])));
        let got: Vec<(&str, &str)> = j
            .iter()
            .map(|l| (l["stream"].as_str().unwrap(), l["line"].as_str().unwrap()))
            .collect();
        assert_eq!(
            got,
            [
                ("stderr", "to-stderr"),
                ("stdout", "caf\u{e9} ok\r"),
                ("stdout", "no newline")
            ],
            "through the {engine}"
        );
        assert!(j.iter().all(|l| l["time"].is_string()));
    }
}

/// The ids of the containers of the compose projects of these repositories (their project
/// names are the repository's name and a suffix of the checkout).
fn project_containers(repos: &[&str]) -> Vec<String> {
    let (_, out) = docker(&[
        "ps",
        "-a",
        "--format",
        "{{.Label \"com.docker.compose.project\"}} {{.ID}}",
    ]);
    out.lines()
        .filter_map(|l| l.split_once(' '))
        .filter(|(p, _)| repos.iter().any(|r| p.starts_with(&format!("{r}-"))))
        .map(|(_, id)| id.to_owned())
        .collect()
}

/// Removes the containers and networks of these repositories' projects on drop.
struct Cleanup(&'static [&'static str]);

impl Drop for Cleanup {
    fn drop(&mut self) {
        for id in project_containers(self.0) {
            docker(&["rm", "-f", "-v", &id]);
        }
        let (_, nets) = docker(&["network", "ls", "--format", "{{.Name}}"]);
        for n in nets.lines() {
            if self.0.iter().any(|r| n.starts_with(&format!("{r}-"))) {
                docker(&["network", "rm", n]);
            }
        }
    }
}
