//! Compose support against a real Docker engine, with the two fixture repositories in
//! tests/fixtures/e2e (`alpha`: db, web, init; `beta`: api, broken, worker) and the image
//! `tta-e2e/busybox:latest` that `scripts/engine.sh up` imports.
//!
//! These tests never start an engine. When none answers they print a `SKIPPED:` line and
//! pass, unless `TTA_E2E=1` (set by `.ci/run`), which makes a missing engine a failure.
//! Each test uses its own compose projects and host ports, and removes its containers,
//! networks and volumes in a drop guard, even when it fails.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::harness::{Stack, free_port};

pub(crate) const IMAGE: &str = "tta-e2e/busybox:latest";

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/e2e")
}

pub(crate) fn docker(args: &[&str]) -> (bool, String) {
    match Command::new("docker").args(args).output() {
        Ok(o) => (
            o.status.success(),
            String::from_utf8_lossy(&o.stdout).trim().to_owned(),
        ),
        Err(_) => (false, String::new()),
    }
}

/// Whether the engine, docker-compose and the test image are there. Without them the test
/// is skipped, visibly, or fails under `TTA_E2E=1`.
pub(crate) fn engine_ready() -> bool {
    static READY: OnceLock<Result<(), String>> = OnceLock::new();
    let ready = READY.get_or_init(|| {
        if !docker(&["info", "--format", "{{.ServerVersion}}"]).0 {
            return Err("no Docker engine answers `docker info`".into());
        }
        if !docker(&["image", "inspect", "--format", "{{.Id}}", IMAGE]).0 {
            return Err(format!(
                "the image {IMAGE} is missing (run `scripts/engine.sh up`)"
            ));
        }
        let compose = Command::new("docker-compose").arg("version").output();
        let plugin = Command::new("docker").args(["compose", "version"]).output();
        if !compose.is_ok_and(|o| o.status.success()) && !plugin.is_ok_and(|o| o.status.success()) {
            return Err("neither `docker compose` nor `docker-compose` works".into());
        }
        Ok(())
    });
    match ready {
        Ok(()) => true,
        Err(why) if std::env::var("TTA_E2E").is_ok_and(|v| v == "1") => {
            panic!("TTA_E2E=1 but the real-engine tests cannot run: {why}")
        }
        Err(why) => {
            eprintln!("SKIPPED: no Docker engine (set TTA_E2E=1 to make this a failure): {why}");
            false
        }
    }
}

/// A stack over the fixture repositories with unique projects and ports; everything it
/// created in the engine is removed on drop.
struct E2e {
    stack: Stack,
    projects: [String; 2],
}

impl E2e {
    fn new(components: &str) -> Self {
        static N: AtomicUsize = AtomicUsize::new(0);
        let id = format!(
            "tta-e2e-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        );
        let projects = [format!("{id}-alpha"), format!("{id}-beta")];
        let yaml = format!(
            "defaults: {{ start_timeout: 40s, stop_timeout: 3s }}\nrepositories:\n  alpha: {{ path: {}, project_name: {} }}\n  beta: {{ path: {}, project_name: {} }}\ncomponents:\n{components}",
            fixtures().join("alpha").display(),
            projects[0],
            fixtures().join("beta").display(),
            projects[1],
        );
        let stack = Stack::new(&yaml)
            .env("TTA_E2E_PORT_DB", &free_port().to_string())
            .env("TTA_E2E_PORT_WEB", &free_port().to_string())
            .env("TTA_E2E_PORT_API", &free_port().to_string());
        Self { stack, projects }
    }

    /// The id of the (non one-off) container of a service, if it exists.
    fn container(&self, repo: usize, service: &str) -> Option<String> {
        let (_, out) = docker(&[
            "ps",
            "-aq",
            "--filter",
            &format!("label=com.docker.compose.project={}", self.projects[repo]),
            "--filter",
            &format!("label=com.docker.compose.service={service}"),
        ]);
        out.lines().next().map(str::to_owned)
    }

    /// `status health exit-code started-at` of a service's container, from `docker inspect`.
    fn state(&self, repo: usize, service: &str) -> State {
        let id = self
            .container(repo, service)
            .unwrap_or_else(|| panic!("no container for {service}"));
        let (_, out) = docker(&[
            "inspect",
            "-f",
            "{{.State.Status}} {{if .State.Health}}{{.State.Health.Status}}{{else}}-{{end}} {{.State.ExitCode}} {{.State.StartedAt}}",
            &id,
        ]);
        let f: Vec<&str> = out.split_whitespace().collect();
        State {
            status: f[0].to_owned(),
            health: f[1].to_owned(),
            exit_code: f[2].parse().unwrap(),
            started: started_at(f[3]),
        }
    }

    fn running(&self) -> usize {
        self.projects
            .iter()
            .map(|p| {
                docker(&[
                    "ps",
                    "-q",
                    "--filter",
                    &format!("label=com.docker.compose.project={p}"),
                ])
                .1
                .lines()
                .count()
            })
            .sum()
    }
}

impl Drop for E2e {
    fn drop(&mut self) {
        for p in &self.projects {
            let label = format!("label=com.docker.compose.project={p}");
            for (list, remove) in [
                (&["ps", "-aq", "--filter"][..], &["rm", "-f", "-v"][..]),
                (&["network", "ls", "-q", "--filter"], &["network", "rm"]),
                (&["volume", "ls", "-q", "--filter"], &["volume", "rm", "-f"]),
            ] {
                let mut args = list.to_vec();
                args.push(&label);
                let (_, ids) = docker(&args);
                let ids: Vec<&str> = ids.lines().collect();
                if !ids.is_empty() {
                    let mut args = remove.to_vec();
                    args.extend(ids);
                    let _ = docker(&args);
                }
            }
        }
    }
}

#[derive(Debug)]
struct State {
    status: String,
    health: String,
    exit_code: i32,
    started: (String, u32),
}

/// `2026-11-26T11:17:55.12345Z` → (`2026-11-26T11:17:55`, nanoseconds), comparable.
fn started_at(s: &str) -> (String, u32) {
    let s = s.trim_end_matches('Z');
    let (whole, frac) = s.split_once('.').unwrap_or((s, "0"));
    let digits: String = frac.chars().take_while(char::is_ascii_digit).collect();
    (whole.to_owned(), format!("{digits:0<9}").parse().unwrap())
}

fn row<'v>(v: &'v serde_json::Value, name: &str) -> &'v serde_json::Value {
    v["components"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == name)
        .unwrap_or_else(|| panic!("{name} missing from {v}"))
}

#[test]
fn start_status_and_stop_match_the_engine() {
    if !engine_ready() {
        return;
    }
    // api (beta) waits for db (alpha): Compose cannot say this across projects; tta can.
    // worker waits for broken, so it is blocked when broken fails.
    let e = E2e::new(
        "  api: { repository: beta, service: api, depends_on: [db] }\n  worker: { repository: beta, service: worker, depends_on: { broken: completed_successfully } }\n",
    );
    let s = &e.stack;
    let run = s.tta(&["start"]);
    run.code(1)
        .stderr_has("✓ completed")
        .stderr_has("beta/broken: failed — exited with code 1")
        .stderr_has("│ broken: failing on purpose")
        .stderr_has("worker: blocked — dependency beta/broken failed");

    let db = e.state(0, "db");
    let web = e.state(0, "web");
    let init = e.state(0, "init");
    let api = e.state(1, "api");
    let broken = e.state(1, "broken");
    assert_eq!(
        (db.status.as_str(), db.health.as_str()),
        ("running", "healthy"),
        "{db:?}"
    );
    assert_eq!(
        (web.status.as_str(), web.health.as_str()),
        ("running", "healthy"),
        "{web:?}"
    );
    assert_eq!(
        (api.status.as_str(), api.health.as_str()),
        ("running", "healthy"),
        "{api:?}"
    );
    assert_eq!(
        (init.status.as_str(), init.exit_code),
        ("exited", 0),
        "{init:?}"
    );
    assert_eq!(
        (broken.status.as_str(), broken.exit_code),
        ("exited", 1),
        "{broken:?}"
    );
    assert!(
        e.container(1, "worker").is_none(),
        "a blocked service is not started"
    );
    // Start order, from the engine's own start times: db before what needs it healthy,
    // across repositories too.
    assert!(web.started > db.started, "web {web:?} before db {db:?}");
    assert!(api.started > db.started, "api {api:?} before db {db:?}");

    let st = s.tta(&["--json", "status"]);
    st.code(1);
    let v = st.json();
    for (name, status, health) in [
        ("alpha/db", "running", "healthy"),
        ("alpha/web", "running", "healthy"),
        ("api", "running", "healthy"),
        ("alpha/init", "completed", ""),
        ("beta/broken", "error", ""),
        ("worker", "stopped", ""),
    ] {
        let r = row(&v, name);
        assert_eq!(r["status"], status, "{name}: {r}");
        assert_eq!(r["health"].as_str().unwrap_or(""), health, "{name}: {r}");
    }
    assert_eq!(
        row(&v, "api")["depends_on"],
        serde_json::json!(["alpha/db"])
    );
    s.tta(&["status"])
        .code(1)
        .stdout_has("exited with code 1; see `tta compose --repo beta logs broken`");

    // Starting again starts nothing that is up (and reruns only what failed).
    let again = s.tta(&["start", "api", "alpha/web"]);
    again.ok().stderr_has("3 already running");

    s.tta(&["stop"]).ok();
    assert_eq!(e.running(), 0, "containers still running after `tta stop`");
    let v = s.tta(&["--json", "status"]).json();
    for r in v["components"].as_array().unwrap() {
        assert_eq!(r["status"], "stopped", "{r}");
    }
}

#[test]
fn tta_compose_runs_in_both_repositories() {
    if !engine_ready() {
        return;
    }
    let e = E2e::new("");
    let s = &e.stack;
    s.tta(&["compose", "up", "-d", "--repo", "both"])
        .ok()
        .stderr_has("✓ alpha  up: ok")
        .stderr_has("✓ beta   up: ok");
    assert_eq!(e.state(0, "db").status, "running");
    assert_eq!(e.state(1, "worker").status, "running");

    let ps = s.tta(&["compose", "ps", "--repo", "both"]);
    ps.ok();
    for (repo, project, service) in [
        ("alpha", &e.projects[0], "db"),
        ("alpha", &e.projects[0], "web"),
        ("beta ", &e.projects[1], "api"),
        ("beta ", &e.projects[1], "worker"),
    ] {
        let want = format!("{repo} | {project}_{service}_1");
        assert!(
            ps.stdout.lines().any(|l| l.starts_with(&want)),
            "no `{want}` line in\n{}",
            ps.stdout
        );
    }
    let logs = s.tta(&["compose", "logs", "--tail", "5", "--repo", "alpha", "init"]);
    logs.ok().stdout_has("initialised");

    s.tta(&["compose", "--repo", "both", "down", "-v"]).ok();
    assert!(e.container(0, "db").is_none() && e.container(1, "api").is_none());
}
