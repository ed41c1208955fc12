//! Discovery against compose files written to a temporary folder.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use yaml_serde::Value;

use super::discover::apply_with_env;
use crate::compose_file::*;
use crate::config::model::*;
use crate::config::{Config, parse};

fn write(dir: &Path, rel: &str, text: &str) {
    let p = dir.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

fn config(dir: &Path, yaml: &str) -> Config {
    let v: Value = yaml_serde::from_str(yaml).unwrap();
    parse::parse(&v, dir).unwrap()
}

fn discover(dir: &Path, yaml: &str, env: &[(&str, &str)]) -> (Config, Vec<String>) {
    let mut c = config(dir, yaml);
    let env: HashMap<String, String> = env
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    let problems = apply_with_env(&mut c, &env)
        .into_iter()
        .map(|p| format!("{}: {}", p.path, p.message))
        .collect();
    (c, problems)
}

fn deps(c: &Config, name: &str) -> Vec<String> {
    c.components[name]
        .depends_on
        .iter()
        .map(|d| {
            format!(
                "{}:{}{}",
                d.name,
                d.condition.as_str(),
                if d.required { "" } else { "?" }
            )
        })
        .collect()
}

#[test]
#[expect(
    clippy::too_many_lines,
    reason = "one realistic compose project, read top to bottom"
)]
fn real_world_files_load() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    write(
        d,
        "dev/compose.yaml",
        r#"
x-base: &base
  image: busybox
  healthcheck: { test: ["CMD", "true"] }
include:
  - extra/compose.yaml
services:
  db:
    <<: *base
    ports: ["127.0.0.1:${DB_PORT:-7687}:7687"]
  web:
    extends: { service: db }
    depends_on:
      db: { condition: service_healthy }
      cache: { condition: service_started, required: false }
  cache:
    extends: { file: common.yaml, service: redis }
  debug:
    image: busybox
    profiles: [debug]
  gpu:
    image: busybox
    profiles: [gpu]
    depends_on: [db]
  migrate:
    image: "${IMAGE_FROM_DOTENV}"
    depends_on: [db, debug]
    healthcheck: { disable: true }
  price:
    image: busybox
    command: ["echo", "$$5 ${UNSET-x}"]
"#,
    );
    write(
        d,
        "dev/common.yaml",
        "services:\n  base: { image: busybox }\n  redis: { extends: base, depends_on: [db] }\n",
    );
    write(
        d,
        "dev/extra/compose.yaml",
        "services:\n  tools:\n    image: busybox\n    depends_on:\n      db:\n        condition: service_completed_successfully\n",
    );
    write(d, "dev/.env", "IMAGE_FROM_DOTENV=busybox\n");
    let (c, problems) = discover(
        d,
        "repositories:\n  tta.dev: { path: dev, profiles: [gpu] }\n",
        &[],
    );
    assert_eq!(problems, Vec::<String>::new());
    let names: Vec<&str> = c.components.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        [
            "tta.dev/db",
            "tta.dev/web",
            "tta.dev/cache",
            "tta.dev/gpu",
            "tta.dev/migrate",
            "tta.dev/price",
            "tta.dev/tools"
        ]
    );
    assert!(c.components["tta.dev/db"].healthcheck);
    assert!(c.components["tta.dev/web"].healthcheck, "extends keeps it");
    assert!(!c.components["tta.dev/migrate"].healthcheck);
    assert!(c.components["tta.dev/web"].discovered);
    assert_eq!(
        deps(&c, "tta.dev/web"),
        ["tta.dev/db:healthy", "tta.dev/cache:started?"]
    );
    assert_eq!(deps(&c, "tta.dev/cache"), ["tta.dev/db:started"]);
    assert_eq!(deps(&c, "tta.dev/gpu"), ["tta.dev/db:started"]);
    // `debug` is left out by its profile, and so is the edge to it.
    assert_eq!(deps(&c, "tta.dev/migrate"), ["tta.dev/db:started"]);
    assert_eq!(
        deps(&c, "tta.dev/tools"),
        ["tta.dev/db:completed_successfully"]
    );
}

#[test]
fn interpolation_reads_the_environment_before_dotenv() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    write(
        d,
        "r/compose.yaml",
        "services:\n  a:\n    image: x\n    profiles: [\"${PROFILE}\"]\n",
    );
    write(d, "r/.env", "PROFILE=off\n");
    let yaml = "repositories:\n  r: { path: r, profiles: [on] }\n";
    let (c, _) = discover(d, yaml, &[]);
    assert!(c.components.is_empty());
    let (c, _) = discover(d, yaml, &[("PROFILE", "on")]);
    assert_eq!(c.components.len(), 1);
}

#[test]
fn yaml_errors_name_the_file_line_and_column() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    write(
        d,
        "r/compose.yaml",
        "services:\n  a:\n    image: [x\n  b: {}\n",
    );
    let (_, problems) = discover(d, "repositories:\n  r: { path: r }\n", &[]);
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(
        problems[0].starts_with("repositories.r: r/compose.yaml:4:"),
        "{problems:?}"
    );
}

#[test]
fn other_problems_are_reported_not_thrown() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    write(
        d,
        "r/compose.yaml",
        "services:\n  a: { depends_on: [nope] }\n  b: { extends: b }\n  c: { image: \"${REQ:?set REQ}\" }\n",
    );
    write(d, "empty/README", "no compose file here");
    let (_, problems) = discover(
        d,
        "repositories:\n  r: { path: r }\n  empty: { path: empty }\n  gone: { path: nowhere }\n  files: { path: r, compose_files: [missing.yaml] }\n",
        &[],
    );
    let all = problems.join("\n");
    assert!(
        all.contains("`services.c.image`: required variable REQ is unset or empty: set REQ"),
        "{all}"
    );
    assert!(
        all.contains("repositories.empty: no compose file in"),
        "{all}"
    );
    assert!(
        all.contains(
            "repositories.files.compose_files: compose file r/missing.yaml does not exist"
        ),
        "{all}"
    );
    assert!(
        !all.contains("gone"),
        "a missing folder is for the commands to report: {all}"
    );

    write(
        d,
        "r/compose.yaml",
        "services:\n  a: { depends_on: [nope] }\n  b: { extends: b }\n",
    );
    let (_, problems) = discover(d, "repositories:\n  r: { path: r }\n", &[]);
    let all = problems.join("\n");
    assert!(
        all.contains("`services.b.extends` goes round in a cycle"),
        "{all}"
    );
}

#[test]
fn undefined_dependencies_are_problems() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    write(
        d,
        "r/compose.yaml",
        "services:\n  a: { depends_on: [nope] }\n",
    );
    let (_, problems) = discover(d, "repositories:\n  r: { path: r }\n", &[]);
    assert_eq!(problems.len(), 1);
    assert!(
        problems[0].ends_with("service `a` depends on undefined service `nope`"),
        "{problems:?}"
    );
}

#[test]
fn declared_components_take_the_place_of_discovered_ones() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    write(
        d,
        "alpha/compose.yaml",
        "services:\n  db: { healthcheck: { test: [CMD, x] } }\n  web: { depends_on: { db: { condition: service_healthy } } }\n",
    );
    write(d, "beta/compose.yaml", "services:\n  api: {}\n  web: {}\n");
    let (c, problems) = discover(
        d,
        r"
repositories:
  alpha: { path: alpha }
  beta: { path: beta }
components:
  database: { repository: alpha, service: db, depends_on: [seed] }
  seed: { kind: task, command: [true] }
  app:
    command: [sleep, '1']
    depends_on: [api, db, alpha/db, beta/web]
  typo: { repository: beta, service: apx }
",
        &[],
    );
    assert_eq!(
        problems,
        ["components.typo.service: service `apx` is not in the compose files of repository `beta`"]
    );
    let names: Vec<&str> = c.components.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        [
            "database",
            "seed",
            "app",
            "typo",
            "alpha/web",
            "beta/api",
            "beta/web"
        ]
    );
    assert!(c.components["database"].healthcheck);
    assert!(!c.components["database"].discovered);
    assert_eq!(deps(&c, "alpha/web"), ["database:healthy"]);
    assert_eq!(
        deps(&c, "app"),
        [
            "beta/api:healthy",
            "database:healthy",
            "database:healthy",
            "beta/web:healthy"
        ]
    );
}

#[test]
fn ambiguous_bare_names_are_reported() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    write(d, "a/compose.yaml", "services:\n  web: {}\n");
    write(d, "b/compose.yaml", "services:\n  web: {}\n");
    let (_, problems) = discover(
        d,
        "repositories:\n  a: { path: a }\n  b: { path: b }\ncomponents:\n  x: { command: [x], depends_on: [web] }\n",
        &[],
    );
    assert_eq!(
        problems,
        ["components.x.depends_on.0: `web` is ambiguous: it is a service of `a/web` and `b/web`"]
    );
}

#[test]
fn default_files_include_the_override() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    write(d, "docker-compose.yml", "services:\n  a: {}\n");
    write(
        d,
        "docker-compose.override.yml",
        "services:\n  b: { depends_on: [a] }\n",
    );
    let repo = config(d, "repositories:\n  r: { path: . }\n").repositories["r"].clone();
    assert_eq!(
        compose_files(&repo).unwrap(),
        [
            PathBuf::from("docker-compose.yml"),
            PathBuf::from("docker-compose.override.yml")
        ]
    );
    let services = load_services(&repo, &HashMap::new(), &|p| p.display().to_string()).unwrap();
    assert_eq!(services.len(), 2);
    assert_eq!(services[1].depends_on[0].service, "a");
}

#[test]
fn later_files_override_earlier_ones() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    write(
        d,
        "one.yaml",
        "services:\n  a: { profiles: [x], healthcheck: { test: [CMD, t] } }\n  b: { depends_on: [a] }\n",
    );
    write(
        d,
        "two.yaml",
        "services:\n  a: { profiles: !reset [], healthcheck: { disable: true } }\n  b: { depends_on: { a: { condition: service_healthy } } }\n",
    );
    let repo = config(
        d,
        "repositories:\n  r: { path: ., compose_files: [one.yaml, two.yaml] }\n",
    )
    .repositories["r"]
        .clone();
    let services = load_services(&repo, &HashMap::new(), &|p| p.display().to_string()).unwrap();
    assert!(services[0].enabled);
    assert!(!services[0].healthcheck);
    assert_eq!(services[1].depends_on[0].condition, Condition::Healthy);
}

#[test]
fn external_networks_are_noticed() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    write(
        d,
        "a/compose.yaml",
        "services:\n  x: {}\nnetworks:\n  own: {}\n",
    );
    write(
        d,
        "b/compose.yaml",
        "services:\n  x: {}\nnetworks:\n  shared: { external: true }\n",
    );
    let c = config(
        d,
        "repositories:\n  a: { path: a }\n  b: { path: b }\n  c: { path: c }\n",
    );
    assert!(!uses_external_network(&c.repositories["a"]));
    assert!(uses_external_network(&c.repositories["b"]));
    assert!(
        uses_external_network(&c.repositories["c"]),
        "unreadable counts as shared"
    );
}

#[test]
fn lifetimes_come_from_what_a_service_is_never_from_a_timer() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    write(
        d,
        "r/compose.yaml",
        "services:
  db: { image: x, healthcheck: { test: [CMD, t] } }
  web: { image: x, ports: ['8080:80'] }
  worker: { image: x, restart: unless-stopped }
  vpn: { image: x }
  app: { image: x, network_mode: 'service:vpn', depends_on: { migrate: { condition: service_completed_successfully } } }
  migrate: { image: x, restart: always }
  seed: { image: x, restart: 'no' }
  plain: { image: x, volumes_from: ['seed:ro', 'container:other'], links: ['web:www'], ipc: 'service:db', pid: 'service:worker' }
",
    );
    let (c, problems) = discover(
        d,
        "repositories:\n  r: { path: r }\ncomponents:\n  job: { command: ['true'], depends_on: { r/plain: completed_successfully } }\n",
        &[],
    );
    assert_eq!(problems, Vec::<String>::new());
    let life = |n: &str| c.components[n].lifetime;
    assert_eq!(life("r/db"), Lifetime::LongRunning, "healthcheck");
    assert_eq!(life("r/web"), Lifetime::LongRunning, "published ports");
    assert_eq!(life("r/worker"), Lifetime::LongRunning, "restart policy");
    assert_eq!(
        life("r/vpn"),
        Lifetime::LongRunning,
        "a namespace others join"
    );
    assert_eq!(
        life("r/migrate"),
        Lifetime::OneShot,
        "a dependent waits for its exit"
    );
    assert_eq!(life("r/seed"), Lifetime::OneShot, "restart: no");
    assert_eq!(
        life("r/plain"),
        Lifetime::OneShot,
        "tta.yaml waits for its exit"
    );
    assert_eq!(life("r/app"), Lifetime::Unknown);
    // Compose's orderings besides depends_on are edges.
    assert_eq!(
        deps(&c, "r/app"),
        ["r/migrate:completed_successfully", "r/vpn:started"]
    );
    assert_eq!(
        deps(&c, "r/plain"),
        [
            "r/db:started",
            "r/worker:started",
            "r/seed:started",
            "r/web:started"
        ]
    );
}

#[test]
fn compose_file_from_the_dotenv_decides_the_files() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    write(d, "r/compose.yaml", "services:\n  wrong: { image: x }\n");
    write(d, "r/a.yaml", "services:\n  one: { image: x }\n");
    write(d, "r/b.yaml", "services:\n  two: { image: x }\n");
    write(d, "r/.env", "COMPOSE_FILE=a.yaml:b.yaml\n");
    let (c, problems) = discover(d, "repositories:\n  r: { path: r }\n", &[]);
    assert_eq!(problems, Vec::<String>::new());
    let names: Vec<&str> = c.components.keys().map(String::as_str).collect();
    assert_eq!(names, ["r/one", "r/two"]);
}

#[test]
fn the_library_save_keeps_the_file_the_users_and_never_undoes_another_edit() {
    use std::os::unix::fs::PermissionsExt as _;
    use yaml_serde::Value;

    use crate::settings::Settings;

    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    write(d, "real/tta.yaml", "defaults:\r\n  jobs: 4\r\n");
    std::os::unix::fs::symlink("real/tta.yaml", d.join("tta.yaml")).unwrap();
    let env = std::iter::empty::<(String, String)>;
    let mut first = Settings::load_from(None, d, env()).unwrap();
    let mut second = Settings::load_from(None, d, env()).unwrap();
    first.set("defaults.jobs", &Value::from(5)).unwrap();
    first.save(None).unwrap();
    // Through the link, CRLF kept; a second save of the same settings is fine.
    assert!(d.join("tta.yaml").is_symlink());
    let text = std::fs::read_to_string(d.join("real/tta.yaml")).unwrap();
    assert_eq!(text, "defaults:\r\n  jobs: 5\r\n");
    first.set("defaults.jobs", &Value::from(6)).unwrap();
    first.save(None).unwrap();
    // `second` was loaded before `first` saved: its save would undo that edit, so it fails.
    second
        .set("defaults.start_timeout", &Value::from("5s"))
        .unwrap();
    let e = second.save(None).unwrap_err().to_string();
    assert!(e.contains("changed since it was loaded"), "{e}");
    assert!(
        std::fs::read_to_string(d.join("real/tta.yaml"))
            .unwrap()
            .contains("jobs: 6")
    );
    // Saved elsewhere, it is a copy: no such check. A read-only file is refused.
    second.save(Some(Path::new("copy.yaml"))).unwrap();
    std::fs::set_permissions(d.join("copy.yaml"), std::fs::Permissions::from_mode(0o444)).unwrap();
    let e = second
        .save(Some(Path::new("copy.yaml")))
        .unwrap_err()
        .to_string();
    assert!(e.contains("read-only"), "{e}");
}

#[test]
fn compose_restart_true_edges_and_service_definitions_are_read() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    write(
        d,
        "r/compose.yaml",
        "services:
  db: { image: x, healthcheck: { test: [CMD, t] } }
  app: { image: x, depends_on: { db: { condition: service_healthy, restart: true } } }
  side: { image: x, depends_on: [db] }
",
    );
    let (c, problems) = discover(d, "repositories:\n  r: { path: r }\n", &[]);
    assert_eq!(problems, Vec::<String>::new());
    assert!(c.components["r/app"].depends_on[0].restart);
    assert!(!c.components["r/side"].depends_on[0].restart);
    let before = c.components["r/app"].definition.clone().unwrap();
    write(
        d,
        "r/compose.yaml",
        "services:
  db: { image: x, healthcheck: { test: [CMD, t] } }
  app: { image: y, depends_on: { db: { condition: service_healthy, restart: true } } }
  side: { image: x, depends_on: [db] }
",
    );
    let (c2, _) = discover(d, "repositories:\n  r: { path: r }\n", &[]);
    assert_ne!(
        c2.components["r/app"].definition.clone().unwrap(),
        before,
        "a change is seen"
    );
    assert_eq!(
        c2.components["r/db"].definition,
        c.components["r/db"].definition
    );
}
