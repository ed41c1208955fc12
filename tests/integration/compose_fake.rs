//! Compose support against a fake `docker` / `docker-compose` (tests/fixtures/bin/docker)
//! placed alone on PATH: it logs every call (working directory, argv, `DOCKER_HOST`,
//! `DOCKER_CONTEXT`), answers from scripted rules, and plays a tiny engine so start, stop and
//! status can run. One assertion on the log proves the exact command lines and their order.

use std::path::{Path, PathBuf};

use crate::harness::Stack;

const ALPHA: &str = "services:\n  db:\n    image: x\n    healthcheck: { test: [CMD, 'true'] }\n  web:\n    image: x\n    depends_on: { db: { condition: service_healthy } }\n  init:\n    image: x\n";
const BETA: &str = "services:\n  api: { image: x }\n  worker: { image: x }\n";

fn fixtures_bin() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/bin")
}

/// A stack with repositories `alpha` and `beta`, and only `programs` on PATH (fakes).
fn stack(yaml: &str, programs: &[&str]) -> Stack {
    let s = Stack::new(yaml);
    s.write("alpha/compose.yaml", ALPHA);
    s.write("beta/compose.yaml", BETA);
    s.write("beta/extra.yaml", "services:\n  worker: { profiles: [] }\n");
    let bin = s.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    for p in programs {
        let target = fixtures_bin().join(if *p == "podman" { "docker" } else { p });
        std::os::unix::fs::symlink(target, bin.join(p)).unwrap();
    }
    let path = bin.display().to_string();
    let log = s.path().join("fake.log").display().to_string();
    let state = s.path().join("engine").display().to_string();
    // The fake plays the engine through its CLI.
    s.env("PATH", &path)
        .env("FAKE_LOG", &log)
        .env("FAKE_STATE", &state)
        .env("TTA_ENGINE", "cli")
}

const TWO_REPOS: &str = r"
defaults: { retry: { attempts: 3, backoff: 10ms, max_backoff: 20ms }, stop_timeout: 10s }
repositories:
  alpha: { path: alpha, project_name: pa, profiles: [gpu] }
  beta: { path: beta, project_name: pb, compose_files: [compose.yaml, extra.yaml] }
";

/// The logged calls, as `DIR: PROGRAM ARGS` with DIR relative to the stack (`.` for the
/// stack itself); `docker ps` calls are left out unless `with_ps`.
fn calls(s: &Stack, with_ps: bool) -> Vec<String> {
    let text = std::fs::read_to_string(s.path().join("fake.log")).unwrap_or_default();
    text.lines()
        .filter_map(|l| {
            let mut f = l.split('\t');
            let (cwd, call) = (f.next()?, f.next()?);
            if !with_ps && call.contains(" ps -a --filter") {
                return None;
            }
            let rel = Path::new(cwd)
                .strip_prefix(s.path())
                .ok()?
                .display()
                .to_string();
            let rel = if rel.is_empty() { ".".to_owned() } else { rel };
            // The ps template is long: keep what identifies the call.
            let call = call.split(" --format ").next().unwrap_or(call);
            Some(format!("{rel}: {call}"))
        })
        .collect()
}

/// The `DOCKER_HOST` and `DOCKER_CONTEXT` columns of the calls containing `needle`.
fn env_of(s: &Stack, needle: &str) -> Vec<(String, String)> {
    let text = std::fs::read_to_string(s.path().join("fake.log")).unwrap_or_default();
    text.lines()
        .filter(|l| l.contains(needle))
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            (f[2].to_owned(), f[3].to_owned())
        })
        .collect()
}

fn rules(s: &Stack, rules: &[&str]) -> String {
    let path = s.path().join("rules");
    std::fs::write(&path, rules.join("\n") + "\n").unwrap();
    path.display().to_string()
}

#[test]
fn v1_command_lines_in_config_order() {
    let s = stack(TWO_REPOS, &["docker", "docker-compose"]);
    let r = s.tta(&["compose", "up", "-d", "--repo", "both"]);
    r.ok();
    assert_eq!(
        calls(&s, true),
        [
            ".: docker compose version",
            ".: docker-compose version",
            "alpha: docker-compose -p pa -f compose.yaml --profile gpu up -d",
            "beta: docker-compose -p pb -f compose.yaml -f extra.yaml up -d",
        ]
    );
    assert_eq!(
        r.stdout,
        "alpha | docker-compose: ran up -d in project pa\nbeta  | docker-compose: ran up -d in project pb\n"
    );
    r.stderr_has("✓ alpha  up: ok")
        .stderr_has("✓ beta   up: ok");
}

#[test]
fn an_attached_up_across_repositories_says_the_next_waits() {
    let s = stack(TWO_REPOS, &["docker", "docker-compose"]);
    s.tta(&["compose", "up", "--repo", "both"])
        .ok()
        .stderr_has("`compose up` without `-d` runs until it is stopped: beta starts only after alpha has been stopped");
    let detached = s.tta(&["compose", "up", "-d", "--repo", "both"]);
    assert!(
        !detached.stderr.contains("without `-d`"),
        "{}",
        detached.stderr
    );
    let one = s.tta(&["compose", "up", "--repo", "alpha"]);
    assert!(!one.stderr.contains("without `-d`"), "{}", one.stderr);
}

#[test]
fn v2_plugin_and_docker_contexts() {
    let yaml = TWO_REPOS.replace("compose_files:", "context: remote, compose_files:");
    let s = stack(&yaml, &["docker", "docker-compose"])
        .env("FAKE_PLUGIN", "1")
        .env("DOCKER_HOST", "tcp://127.0.0.1:2375");
    s.tta(&["compose", "--repo", "both", "ps"]).ok();
    assert_eq!(
        calls(&s, true),
        [
            ".: docker compose version",
            "alpha: docker compose -p pa -f compose.yaml --profile gpu ps",
            "beta: docker --context remote compose -p pb -f compose.yaml -f extra.yaml ps",
        ]
    );
    // DOCKER_HOST passes through untouched.
    assert_eq!(
        env_of(&s, "compose -p"),
        [
            ("tcp://127.0.0.1:2375".to_owned(), String::new()),
            ("tcp://127.0.0.1:2375".to_owned(), String::new())
        ]
    );
}

#[test]
fn v1_and_standalone_v2_contexts() {
    let yaml = TWO_REPOS.replace("compose_files:", "context: remote, compose_files:");
    let s = stack(&yaml, &["docker", "docker-compose"]);
    s.tta(&["compose", "ps", "--repo", "beta"]).ok();
    assert_eq!(
        calls(&s, true)[2],
        "beta: docker-compose --context remote -p pb -f compose.yaml -f extra.yaml ps"
    );

    let s = stack(&yaml, &["docker-compose"])
        .env("FAKE_COMPOSE_VERSION", "Docker Compose version v2.20.3");
    s.tta(&["compose", "ps", "--repo=beta"]).ok();
    let c = calls(&s, true);
    assert_eq!(
        c,
        [
            ".: docker-compose version",
            "beta: docker-compose -p pb -f compose.yaml -f extra.yaml ps"
        ]
    );
    assert_eq!(env_of(&s, "-p pb"), [(String::new(), "remote".to_owned())]);
}

#[test]
fn overrides_replace_detection() {
    let s = stack(TWO_REPOS, &["docker", "podman"]).env("TTA_COMPOSE", "podman compose");
    s.tta(&["compose", "--repo", "alpha", "ps"]).ok();
    assert_eq!(
        calls(&s, true),
        ["alpha: podman compose -p pa -f compose.yaml --profile gpu ps"]
    );

    let yaml = format!("compose: {{ command: docker-compose }}\n{TWO_REPOS}");
    let s = stack(&yaml, &["docker", "docker-compose"]);
    s.tta(&["compose", "--repo", "alpha", "ps"]).ok();
    assert_eq!(
        calls(&s, true),
        ["alpha: docker-compose -p pa -f compose.yaml --profile gpu ps"]
    );

    let s = stack(TWO_REPOS, &["docker"]).env("TTA_COMPOSE", "nerdctl compose");
    s.tta(&["compose", "ps"]).code(3).stderr_has(
        "compose command `nerdctl compose` (from TTA_COMPOSE) cannot run: `nerdctl` is not on PATH",
    );
}

#[test]
fn repo_flags_and_the_separator_work_as_typed() {
    let s = stack(TWO_REPOS, &["docker", "docker-compose"]);
    s.tta(&["compose", "logs", "--tail", "5", "--repo", "both"])
        .ok();
    s.tta(&["compose", "--repo=beta", "ps", "-q"]).ok();
    s.tta(&[
        "compose", "--repo", "alpha", "exec", "-T", "db", "--", "ls", "--repo", "x",
    ])
    .ok();
    let c: Vec<String> = calls(&s, true)
        .into_iter()
        .filter(|c| !c.ends_with("version"))
        .collect();
    assert_eq!(
        c,
        [
            "alpha: docker-compose -p pa -f compose.yaml --profile gpu logs --tail 5",
            "beta: docker-compose -p pb -f compose.yaml -f extra.yaml logs --tail 5",
            "beta: docker-compose -p pb -f compose.yaml -f extra.yaml ps -q",
            "alpha: docker-compose -p pa -f compose.yaml --profile gpu exec -T db ls --repo x",
        ]
    );
    s.tta(&["compose", "ps", "--repo", "gamma"])
        .code(2)
        .stderr_has("unknown repository `gamma`")
        .stderr_has("configured: alpha, beta");
    s.tta(&["compose", "--repo", "alpha"])
        .code(2)
        .stderr_has("needs a compose command");
}

#[test]
fn transient_errors_are_retried_and_successes_are_not_rerun() {
    let s = stack(TWO_REPOS, &["docker", "docker-compose"]);
    let r = rules(
        &s,
        &[
            "-p pb -f compose.yaml -f extra.yaml ps\t2\t1\t\tError response from daemon: 503 Service Unavailable",
        ],
    );
    let s = s.env("FAKE_RULES", &r);
    let run = s.tta(&["compose", "ps"]);
    run.ok()
        .stderr_has("beta: transient engine error (Error response from daemon: 503 Service Unavailable); trying again in")
        .stderr_has("(attempt 3 of 3)");
    let c = calls(&s, true);
    assert_eq!(
        c.iter().filter(|c| c.starts_with("alpha:")).count(),
        1,
        "{c:?}"
    );
    assert_eq!(
        c.iter().filter(|c| c.starts_with("beta:")).count(),
        3,
        "{c:?}"
    );

    // `exec` reports the user's command, whatever it prints: never retried. With one
    // repository, compose's exit code is tta's.
    let s = stack(TWO_REPOS, &["docker", "docker-compose"]);
    let r = rules(&s, &["exec\t*\t7\t\tcurl: connection refused"]);
    let s = s.env("FAKE_RULES", &r);
    s.tta(&[
        "compose", "--repo", "alpha", "exec", "-T", "db", "curl", "x",
    ])
    .code(7)
    .stderr_has("curl: connection refused");
    assert_eq!(
        calls(&s, true)
            .iter()
            .filter(|c| c.contains(" exec "))
            .count(),
        1
    );
}

#[test]
fn failures_are_named_and_an_engine_that_never_answers_is_exit_3() {
    let s = stack(TWO_REPOS, &["docker", "docker-compose"]);
    let r = rules(
        &s,
        &["-p pa -f compose.yaml --profile gpu ps\t*\t1\t\tERROR: No such service: nope"],
    );
    let s = s.env("FAKE_RULES", &r);
    s.tta(&["compose", "ps"])
        .code(1)
        .stderr_has("error: compose ps failed in 1 of 2 repositories: alpha")
        .stderr_has("✗ alpha  ps: exit code 1 — ERROR: No such service: nope")
        .stderr_has("✓ beta   ps: ok");
    // A permanent error is not retried; beta still ran.
    assert_eq!(
        calls(&s, true)
            .iter()
            .filter(|c| c.starts_with("alpha:"))
            .count(),
        1
    );
    assert_eq!(
        calls(&s, true)
            .iter()
            .filter(|c| c.starts_with("beta:"))
            .count(),
        1
    );

    let s = stack(TWO_REPOS, &["docker", "docker-compose"]);
    let r = rules(
        &s,
        &[
            "-p p\t*\t1\t\tCannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?",
        ],
    );
    let s = s.env("FAKE_RULES", &r);
    s.tta(&["compose", "ps"])
        .code(3)
        .stderr_has("failed in 2 of 2 repositories: alpha, beta")
        .stderr_has("hint: start the Docker engine");
    assert_eq!(
        calls(&s, true)
            .iter()
            .filter(|c| c.starts_with("alpha:"))
            .count(),
        3
    );
}

#[test]
fn json_gives_each_repository_its_completed_process() {
    let s = stack(TWO_REPOS, &["docker", "docker-compose"]);
    let r = rules(&s, &["-p pb\t*\t2\tsome out\tsome err\\nmore err"]);
    let s = s.env("FAKE_RULES", &r);
    let run = s.tta(&["--json", "compose", "ps"]);
    run.code(1);
    let v = run.json();
    assert_eq!(v["schema_version"], 1);
    assert_eq!(v["repositories"]["alpha"]["exit_code"], 0);
    assert_eq!(
        v["repositories"]["alpha"]["stdout"],
        "docker-compose: ran ps in project pa\n"
    );
    assert_eq!(
        v["repositories"]["beta"],
        serde_json::json!({"exit_code": 2, "stdout": "some out\n", "stderr": "some err\nmore err\n"})
    );
    let keys: Vec<&String> = v["repositories"].as_object().unwrap().keys().collect();
    assert_eq!(keys, ["alpha", "beta"]);
}

#[test]
fn start_batches_a_repository_and_stop_goes_in_reverse() {
    let s = stack(TWO_REPOS, &["docker", "docker-compose"]);
    s.tta(&["start"]).ok();
    let c = calls(&s, false);
    assert_eq!(
        &c[..2],
        [".: docker compose version", ".: docker-compose version"]
    );
    let ups: Vec<&String> = c.iter().filter(|c| c.contains(" up ")).collect();
    assert_eq!(ups.len(), 3, "{c:?}");
    assert!(
        ups.contains(
            &&"alpha: docker-compose -p pa -f compose.yaml --profile gpu up -d --no-deps -- db init"
                .to_owned()
        ),
        "{c:?}"
    );
    assert!(
        ups.contains(
            &&"beta: docker-compose -p pb -f compose.yaml -f extra.yaml up -d --no-deps -- api worker"
                .to_owned()
        ),
        "{c:?}"
    );
    // web waits for db to be healthy: a call of its own, after db's.
    assert_eq!(
        ups[2],
        "alpha: docker-compose -p pa -f compose.yaml --profile gpu up -d --no-deps -- web"
    );

    // Status: one `docker ps` for everything (and one `docker inspect` of the containers
    // up for seconds only), and no compose call at all.
    let before = calls(&s, true).len();
    let st = s.tta(&["--json", "status"]);
    st.ok();
    let after = calls(&s, true);
    assert_eq!(after.len(), before + 2, "{:?}", &after[before..]);
    assert!(after[before].starts_with(".: docker ps -a --filter label=com.docker.compose.project"));
    assert_eq!(after[before + 1], ".: docker inspect");
    let v = st.json();
    let rows = v["components"].as_array().unwrap();
    assert_eq!(rows.len(), 5);
    assert!(
        rows.iter()
            .all(|r| r["status"] == "running" && r["up"] == true),
        "{v}"
    );

    // Stop batches as start does: one `docker stop` per repository of the containers of
    // what may stop together (what `compose stop` does, without compose's start-up), web
    // (which needs db) before db.
    s.tta(&["stop"]).ok();
    let stops: Vec<String> = calls(&s, false)
        .into_iter()
        .filter(|c| c.contains(" stop "))
        .collect();
    assert_eq!(stops.len(), 3, "{stops:?}");
    assert!(
        stops.contains(&".: docker stop -t 10 -- id-pb-worker id-pb-api".to_owned()),
        "{stops:?}"
    );
    let pos = |tail: &str| stops.iter().position(|c| c.ends_with(tail)).unwrap();
    assert!(
        pos("stop -t 10 -- id-pa-init id-pa-web") < pos("stop -t 10 -- id-pa-db"),
        "{stops:?}"
    );
    let st = s.tta(&["--json", "status"]);
    st.code(1);
    assert!(
        st.json()["components"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["status"] == "stopped"),
        "{}",
        st.stdout
    );
}

#[test]
fn a_service_that_exits_fails_and_blocks_its_dependents() {
    let s = stack(TWO_REPOS, &["docker", "docker-compose"])
        .env("FAKE_ON_UP_db", "exited|Exited (3) 1 second ago")
        .env("FAKE_ON_UP_init", "exited|Exited (0) 1 second ago");
    let r = s.tta(&["start"]);
    r.code(1)
        .stderr_has("alpha/db: failed — exited with code 3; see `tta compose --repo alpha logs db`")
        .stderr_has("exit code 3")
        .stderr_has("│ log line of id-pa-db")
        .stderr_has("alpha/web: blocked — dependency alpha/db failed");
    let v = s.tta(&["--json", "status"]).json();
    let status = |n: &str| {
        v["components"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["name"] == n)
            .map(|r| r["status"].as_str().unwrap().to_owned())
            .unwrap()
    };
    assert_eq!(status("alpha/init"), "completed");
    assert_eq!(status("alpha/db"), "error");
    assert_eq!(status("alpha/web"), "stopped");
}

#[test]
fn status_reads_every_ps_output_shape() {
    let line = |svc: &str, state: &str, status: &str| {
        format!(
            r#"{{"project":"pa","service":"{svc}","oneoff":"False","id":"id-{svc}","name":"pa_{svc}_1","state":"{state}","status":"{status}","created":"2026-01-01 00:00:00 +0000 UTC"}}"#
        )
    };
    let rows = [
        line("db", "running", "Up 2 minutes (healthy)"),
        line("web", "running", "Up 3 seconds (health: starting)"),
        line("init", "exited", "Exited (0) 1 second ago"),
        line("api", "exited", "Exited (1) 4 seconds ago").replace("\"pa\"", "\"pb\""),
        // Other projects and one-off `compose run` containers are not ours.
        line("worker", "running", "Up 1 second").replace("\"pa\"", "\"other\""),
        line("worker", "running", "Up 1 second")
            .replace("\"pa\"", "\"pb\"")
            .replace("False", "True"),
    ];
    let expect = [
        ("alpha/db", "running", "healthy"),
        ("alpha/web", "starting", "starting"),
        ("alpha/init", "completed", ""),
        ("beta/api", "error", ""),
        ("beta/worker", "stopped", ""),
    ];
    for shape in ["lines", "array", "empty"] {
        let s = stack(TWO_REPOS, &["docker", "docker-compose"]);
        let text = match shape {
            "lines" => rows.join("\n") + "\n",
            "array" => format!("[{}]", rows.join(",")),
            _ => String::new(),
        };
        std::fs::write(s.path().join("ps.out"), text).unwrap();
        let ps = s.path().join("ps.out").display().to_string();
        let s = s.env("FAKE_PS", &ps);
        let run = s.tta(&["--json", "status"]);
        run.code(1);
        let v = run.json();
        for (i, (name, status, health)) in expect.iter().enumerate() {
            let row = &v["components"][i];
            assert_eq!(row["name"], *name, "{shape}");
            if shape == "empty" {
                assert_eq!(row["status"], "stopped", "{shape}: {row}");
                continue;
            }
            assert_eq!(row["status"], *status, "{shape}: {row}");
            assert_eq!(
                row["health"].as_str().unwrap_or(""),
                *health,
                "{shape}: {row}"
            );
        }
        if shape == "lines" {
            assert_eq!(
                v["components"][3]["detail"],
                "exited with code 1; see `tta compose --repo beta logs api`"
            );
        }
        // Status never runs compose: one `docker ps`, and one `docker inspect` of the
        // containers that started moments ago (a restart count tells a crash loop).
        assert!(
            calls(&s, true)
                .iter()
                .all(|c| c.contains(" ps -a ") || c.ends_with("docker inspect")),
            "{:?}",
            calls(&s, true)
        );
    }
}

#[test]
fn missing_docker_or_compose_is_an_environment_error() {
    let s = stack(TWO_REPOS, &[]);
    s.tta(&["compose", "ps"])
        .code(3)
        .stderr_has("error: Docker Compose is not installed: neither `docker` nor `docker-compose` is on PATH")
        .stderr_has("hint: install Docker");
    s.tta(&["status"])
        .code(3)
        .stderr_has("error: `docker` is not installed (not found on PATH); tta reads container status with `docker ps`");
    s.tta(&["start"])
        .code(3)
        .stderr_has("`docker` is not installed");
    assert!(
        !s.tta(&["status"])
            .stderr
            .contains("No such file or directory")
    );

    let s = stack(TWO_REPOS, &["docker"]);
    s.tta(&["compose", "ps"])
        .code(3)
        .stderr_has("Docker Compose is not installed: docker has no compose plugin")
        .stderr_has("and `docker-compose` is not on PATH");
    // Without compose, start reports the environment, not one failure per service.
    s.tta(&["start"])
        .code(3)
        .stderr_has("error: Docker Compose is not installed");
}

#[test]
fn an_engine_that_does_not_answer_is_an_environment_error() {
    let s = stack(TWO_REPOS, &["docker", "docker-compose"]);
    let r = rules(
        &s,
        &[
            "docker ps\t*\t1\t\tCannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?",
        ],
    );
    let s = s.env("FAKE_RULES", &r);
    for cmd in [&["status"][..], &["start"], &["stop"]] {
        s.tta(cmd)
            .code(3)
            .stderr_has(
                "error: the container engine is not answering: Cannot connect to the Docker daemon",
            )
            .stderr_has("hint: start the Docker engine (e.g. `sudo systemctl start docker`)");
    }
}

#[test]
fn a_missing_repository_is_an_environment_error() {
    let yaml = TWO_REPOS.replace("path: alpha", "path: gone/alpha");
    let s = stack(&yaml, &["docker", "docker-compose"]);
    let want = format!(
        "error: repository alpha not found at {}",
        s.path().join("gone/alpha").display()
    );
    for cmd in [
        &["compose", "ps"][..],
        &["status"],
        &["start"],
        &["compose", "--repo", "both", "up", "-d"],
    ] {
        s.tta(cmd)
            .code(3)
            .stderr_has(&want)
            .stderr_has("hint: clone it there, or set `repositories.\"alpha\".path`");
    }
    // Other repositories still work.
    s.tta(&["compose", "--repo", "beta", "ps"]).ok();
    // Configuration commands still load, so the path can be fixed.
    s.tta(&["config", "validate"]).ok();
}

#[test]
fn default_project_names_are_stable_and_per_checkout() {
    let yaml = "repositories:\n  tta.dev: { path: alpha }\n";
    let s = stack(yaml, &["docker", "docker-compose"]);
    s.tta(&["compose", "ps"]).ok();
    s.tta(&["compose", "ps"]).ok();
    let c = calls(&s, true);
    let projects: Vec<&str> = c
        .iter()
        .filter_map(|c| c.split(" -p ").nth(1))
        .map(|r| r.split(' ').next().unwrap())
        .collect();
    assert_eq!(projects.len(), 2);
    assert_eq!(projects[0], projects[1]);
    let hash = projects[0].strip_prefix("tta-dev-").expect(projects[0]);
    assert!(
        hash.len() == 6 && hash.bytes().all(|b| b.is_ascii_hexdigit()),
        "{hash}"
    );

    let other = stack(yaml, &["docker", "docker-compose"]);
    other.tta(&["compose", "ps"]).ok();
    assert!(
        !calls(&other, true).iter().any(|c| c.contains(projects[0])),
        "a second checkout collides"
    );
}

#[test]
fn discovery_shows_in_the_graph_and_its_errors_point_at_the_file() {
    let yaml = format!(
        "{TWO_REPOS}components:\n  app:\n    command: [sleep, '60']\n    depends_on: [api, db]\n"
    );
    let s = stack(&yaml, &["docker", "docker-compose"]);
    let run = s.tta(&["graph", "--format", "json"]);
    run.ok();
    let v = run.json();
    let text = v.to_string();
    for name in [
        "alpha/db",
        "alpha/web",
        "alpha/init",
        "beta/api",
        "beta/worker",
    ] {
        assert!(text.contains(name), "{name} missing from {text}");
    }
    // Bare service names resolve wherever a component name is accepted.
    s.tta(&["start", "--dry-run", "app"])
        .ok()
        .stdout_has("app [process] after beta/api (healthy), alpha/db (healthy)");
    // Discovery never calls docker.
    assert!(calls(&s, true).is_empty(), "{:?}", calls(&s, true));

    s.write(
        "alpha/compose.yaml",
        "services:\n  db:\n    image: [x\n  web: {}\n",
    );
    s.tta(&["graph"])
        .code(2)
        .stderr_has("`repositories.alpha`: alpha/compose.yaml:4:");
}

#[test]
fn exit_0_is_completed_only_for_one_shots() {
    let line = |svc: &str, status: &str| {
        format!(
            r#"{{"project":"pa","service":"{svc}","oneoff":"False","id":"id-{svc}","name":"pa_{svc}_1","state":"exited","status":"{status}","created":"2026-01-01 00:00:00 +0000 UTC"}}"#
        )
    };
    let s = stack(TWO_REPOS, &["docker", "docker-compose"]);
    let rows = [
        // db has a healthcheck: a service, so exit 0 means it was stopped.
        line("db", "Exited (0) 1 minute ago"),
        line("init", "Exited (0) 1 minute ago"),
        line("web", "Exited (137) 1 minute ago"),
    ];
    std::fs::write(s.path().join("ps.out"), rows.join("\n")).unwrap();
    let ps = s.path().join("ps.out").display().to_string();
    let s = s.env("FAKE_PS", &ps);
    let v = s.tta(&["--json", "status"]).json();
    let status: Vec<(&str, &str)> = v["components"]
        .as_array()
        .unwrap()
        .iter()
        .take(3)
        .map(|r| (r["name"].as_str().unwrap(), r["status"].as_str().unwrap()))
        .collect();
    assert_eq!(
        status,
        [
            ("alpha/db", "stopped"),
            ("alpha/web", "stopped"),
            ("alpha/init", "completed")
        ]
    );
}

#[test]
fn build_pull_and_down_run_the_compose_calls_users_know() {
    let s = stack(TWO_REPOS, &["docker", "docker-compose"]);
    s.tta(&["start", "--pull", "--build", "beta/api"]).ok();
    let logged = calls(&s, false);
    let beta: Vec<&String> = logged.iter().filter(|c| c.starts_with("beta:")).collect();
    assert_eq!(
        beta,
        [
            "beta: docker-compose -p pb -f compose.yaml -f extra.yaml pull -- api",
            "beta: docker-compose -p pb -f compose.yaml -f extra.yaml up -d --no-deps --build -- api",
        ],
        "{logged:?}"
    );
    // Running already: a plain start leaves it; --build runs up again (compose recreates
    // what changed).
    let ups = |s: &Stack| {
        calls(s, false)
            .iter()
            .filter(|c| c.contains(" up "))
            .count()
    };
    s.tta(&["start", "beta/api"]).ok();
    assert_eq!(ups(&s), 1);
    s.tta(&["start", "--build", "beta/api"]).ok();
    assert_eq!(ups(&s), 2);

    // down of one service: stopped, then removed alone (the rest of beta stays).
    s.tta(&["start"]).ok();
    s.tta(&["down", "beta/api"])
        .ok()
        .stderr_has("beta: removed (compose rm -f -- api)");
    assert!(calls(&s, false).contains(
        &"beta: docker-compose -p pb -f compose.yaml -f extra.yaml rm -f -- api".to_owned()
    ));
    let st = s.tta(&["--json", "status"]).json();
    let row = |n: &str| {
        st["components"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["name"] == n)
            .unwrap()["status"]
            .clone()
    };
    assert_eq!(row("beta/api"), "stopped");
    assert_eq!(row("beta/worker"), "running");

    // down of everything: compose down in each repository, volumes when asked.
    let down = s.tta(&["--json", "down", "--volumes"]);
    down.ok();
    let v = down.json();
    assert_eq!(v["action"], "down");
    assert_eq!(v["removed"].as_array().unwrap().len(), 2, "{v}");
    assert_eq!(v["removed"][0]["command"], "down --remove-orphans -v");
    for repo in [
        "alpha: docker-compose -p pa -f compose.yaml --profile gpu",
        "beta: docker-compose -p pb -f compose.yaml -f extra.yaml",
    ] {
        assert!(
            calls(&s, false).contains(&format!("{repo} down --remove-orphans -v")),
            "{:?}",
            calls(&s, false)
        );
    }
}
