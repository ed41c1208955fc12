//! `tta up` against the real engine: a compose service's log lines streamed, a liveness
//! probe that fails restarting the service through compose (the same container, a new
//! start time), a container whose healthcheck turns unhealthy restarted (Docker never does
//! that itself), Ctrl-C stopping the containers `up` started, and the engine heard through
//! one event stream (no `docker` process at all through the API; one `docker events` and
//! a `docker logs` per container through the CLI).
//!
//! Skips visibly without an engine (fails under `TTA_E2E=1`); each test uses its own
//! project names and removes its containers and networks on drop, even when it fails.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use crate::compose_e2e::{IMAGE, docker, engine_ready};
use crate::harness::{Stack, alive, eventually};
use crate::up::Up;

const T: Duration = Duration::from_secs(60);

/// A stack with one repository `r` whose project names start with a unique prefix.
struct Project {
    stack: Stack,
    prefix: String,
}

impl Project {
    fn new(compose: &str, components: &str) -> Self {
        Self::with_env(compose, components, &[])
    }

    /// A project whose `tta` runs with `env` set.
    fn with_env(compose: &str, components: &str, env: &[(&str, &str)]) -> Self {
        static N: AtomicUsize = AtomicUsize::new(0);
        let prefix = format!(
            "tu{}x{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        );
        let yaml = format!(
            "defaults: {{ start_timeout: 30s, stop_timeout: 2s }}\nrepositories:\n  {prefix}r: {{ path: r }}\ncomponents:\n{}",
            components.replace("REPO", &format!("{prefix}r"))
        );
        let stack = env.iter().fold(Stack::new(&yaml), |s, (k, v)| s.env(k, v));
        stack.write("r/compose.yaml", &compose.replace("IMAGE", IMAGE));
        Self { stack, prefix }
    }

    /// `(service, state, id)` of this project's containers.
    fn containers(&self) -> Vec<(String, String, String)> {
        let (_, out) = docker(&[
            "ps",
            "-a",
            "--filter",
            "label=com.docker.compose.project",
            "--format",
            "{{.Label \"com.docker.compose.project\"}} {{.Label \"com.docker.compose.service\"}} {{.State}} {{.ID}}",
        ]);
        out.lines()
            .filter(|l| l.starts_with(&self.prefix))
            .map(|l| {
                let f: Vec<&str> = l.split(' ').collect();
                (f[1].into(), f[2].into(), f[3].into())
            })
            .collect()
    }

    fn id(&self, service: &str) -> String {
        self.containers()
            .into_iter()
            .find(|c| c.0 == service)
            .map(|c| c.2)
            .unwrap_or_default()
    }

    fn started_at(&self, service: &str) -> String {
        docker(&["inspect", "-f", "{{.State.StartedAt}}", &self.id(service)]).1
    }

    fn running(&self) -> usize {
        self.containers()
            .iter()
            .filter(|c| c.1 == "running")
            .count()
    }
}

impl Drop for Project {
    fn drop(&mut self) {
        let ids: Vec<String> = self.containers().into_iter().map(|c| c.2).collect();
        if !ids.is_empty() {
            let mut args = vec!["rm", "-f", "-v"];
            args.extend(ids.iter().map(String::as_str));
            docker(&args);
        }
        let (_, nets) = docker(&["network", "ls", "--format", "{{.Name}}"]);
        for n in nets.lines().filter(|n| n.starts_with(&self.prefix)) {
            docker(&["network", "rm", n]);
        }
    }
}

#[test]
fn liveness_and_an_unhealthy_container_are_restarted_through_compose() {
    if !engine_ready() {
        return;
    }
    let p = Project::new(
        "services:
  web:
    image: IMAGE
    init: true
    command: [sh, -c, 'echo hello-from-web; sleep 3600']
  sick:
    image: IMAGE
    init: true
    command: [sh, -c, 'touch /tmp/ok; echo sick-started; sleep 3600']
    healthcheck: { test: [CMD, test, -f, /tmp/ok], interval: 1s, timeout: 1s, retries: 1 }
",
        "  web:
    repository: REPO
    liveness: { exec: [test, -f, web-alive], interval: 200ms, failure_threshold: 2 }
    backoff: 0s
  sick: { repository: REPO, backoff: 0s }
",
    );
    let s = &p.stack;
    s.write("web-alive", "");
    let mut up = Up::start(s, &[]);
    up.wait_all(&["web", "sick"], "ready", T);
    up.saw(T, |v| v["name"] == "web" && v["line"] == "hello-from-web");
    let (web_id, web_started) = (p.id("web"), p.started_at("web"));
    // The liveness probe fails: compose restarts the service, the same container.
    std::fs::remove_file(s.path().join("web-alive")).unwrap();
    let r = up.wait_for("web", "restarting", T);
    assert!(r["message"].as_str().unwrap().contains("liveness"), "{r}");
    s.write("web-alive", "");
    up.wait_for("web", "ready", T);
    assert_eq!(p.id("web"), web_id, "restarted, not recreated");
    assert_ne!(p.started_at("web"), web_started, "its start time changed");
    // Its healthcheck fails: the engine says unhealthy, and up restarts it.
    let sick_started = p.started_at("sick");
    docker(&["exec", &p.id("sick"), "rm", "/tmp/ok"]);
    let r = up.wait_for("sick", "restarting", T);
    assert!(r["message"].as_str().unwrap().contains("unhealthy"), "{r}");
    up.wait_for("sick", "ready", T);
    assert_ne!(p.started_at("sick"), sick_started);
    let started = up
        .seen
        .iter()
        .filter(|v| v["name"] == "sick" && v["line"] == "sick-started")
        .count();
    if started < 2 {
        up.wait(T, |v| v["name"] == "sick" && v["line"] == "sick-started");
    }
    // Ctrl-C: what up started is stopped.
    up.interrupt();
    assert_eq!(up.exit(T), 130);
    assert!(eventually(Duration::from_secs(10), || p.running() == 0));
}

#[test]
fn a_compose_service_that_exits_is_started_again_and_given_up_after_max_restarts() {
    if !engine_ready() {
        return;
    }
    let p = Project::new(
        "services:
  once:
    image: IMAGE
    init: true
    command: [sh, -c, 'echo up-once; sleep 2; exit 7']
",
        "  once: { repository: REPO, backoff: 100ms, max_restarts: 1 }\n",
    );
    let mut up = Up::start(&p.stack, &[]);
    up.wait_for("once", "ready", T);
    let r = up.wait_for("once", "restarting", T);
    assert_eq!(r["exit_code"], 7, "{r}");
    up.wait_for("once", "ready", T);
    let g = up.wait_for("once", "given_up", T);
    assert!(
        g["message"]
            .as_str()
            .unwrap()
            .contains("exited with code 7"),
        "{g}"
    );
    assert_eq!(up.exit(T), 1, "nothing left running, and it failed");
    let lines = up
        .of("once")
        .iter()
        .filter(|v| v["event"] == "line" && v["line"] == "up-once")
        .count();
    assert_eq!(lines, 2, "each run's output, from the engine, once");
}

/// The `docker` subcommands `pid`'s children run (`events`, `logs`, `ps`, ...).
fn docker_children(pid: u32) -> Vec<String> {
    let mut out = Vec::new();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(child) = e.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let stat = std::fs::read_to_string(format!("/proc/{child}/stat")).unwrap_or_default();
        let parent = stat
            .rfind(')')
            .and_then(|i| stat[i + 2..].split(' ').nth(1))
            .and_then(|p| p.parse::<u32>().ok());
        if parent != Some(pid) || !alive(child) {
            continue;
        }
        let cmd = std::fs::read(format!("/proc/{child}/cmdline")).unwrap_or_default();
        let argv: Vec<String> = cmd
            .split(|&b| b == 0)
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect();
        if argv[0].ends_with("docker") {
            // The subcommand: the first word after the global options.
            let mut words = argv[1..].iter();
            while let Some(w) = words.next() {
                if w == "--context" || w == "-H" {
                    words.next();
                } else if !w.starts_with('-') {
                    out.push(w.clone());
                    break;
                }
            }
        }
    }
    out
}

#[test]
fn one_event_stream_per_engine_and_no_follower_process_through_the_api() {
    if !engine_ready() {
        return;
    }
    let compose = "services:
  a:
    image: IMAGE
    init: true
    command: [sh, -c, 'i=0; while true; do i=$$((i+1)); echo a-$$i; sleep 0.3; done']
  b:
    image: IMAGE
    init: true
    command: [sh, -c, 'i=0; while true; do i=$$((i+1)); echo b-$$i; sleep 0.3; done']
";
    let components = "  a: { repository: REPO }\n  b: { repository: REPO }\n";
    // Through the API: the engine's one stream and its log reader, no `docker` process.
    let p = Project::new(compose, components);
    let mut up = Up::start(&p.stack, &[]);
    up.wait_all(&["a", "b"], "ready", T);
    for name in ["a", "b"] {
        up.saw(T, |v| v["name"] == name && v["line"].as_str().is_some());
    }
    for _ in 0..10 {
        let running = docker_children(up.pid());
        assert!(
            !running.iter().any(|c| c == "events" || c == "logs"),
            "through the API, no docker events or docker logs: {running:?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    up.interrupt();
    assert_eq!(up.exit(T), 130);
    drop(p);
    // Through the CLI: one `docker events` for the engine (the watchers of both services
    // and their log followers share it), one `docker logs` per container.
    let p = Project::with_env(compose, components, &[("TTA_ENGINE", "cli")]);
    let mut up = Up::start(&p.stack, &[]);
    up.wait_all(&["a", "b"], "ready", T);
    for name in ["a", "b"] {
        up.saw(T, |v| v["name"] == name && v["line"].as_str().is_some());
    }
    let count = |running: &[String], what: &str| running.iter().filter(|c| *c == what).count();
    assert!(
        eventually(Duration::from_secs(10), || {
            let running = docker_children(up.pid());
            count(&running, "events") == 1 && count(&running, "logs") == 2
        }),
        "{:?}",
        docker_children(up.pid())
    );
    for _ in 0..10 {
        let running = docker_children(up.pid());
        assert!(
            count(&running, "events") <= 1,
            "a second stream: {running:?}"
        );
        assert!(
            count(&running, "logs") <= 2,
            "a second follower: {running:?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    up.interrupt();
    assert_eq!(up.exit(T), 130);
}
