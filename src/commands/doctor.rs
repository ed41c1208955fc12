//! `tta doctor`: checks what a stack needs, one line each with the fix: the config, each
//! repository and its compose files, the docker CLI, the compose command, each engine the
//! repositories use (where it is, whether `tta` speaks its API or falls back to the CLI,
//! what compose v1 is handed for a context), the state directory, probes that cannot work
//! as written, and ports that probes need but something else holds. Exit 0 only when
//! every check passes (checks that do not apply are skipped).

use std::net::{TcpStream, ToSocketAddrs as _};
use std::path::Path;
use std::time::Duration;

use serde::Serialize;

use crate::config::model::{Kind, ProbeCheck};
use crate::driver::compose::{Compose, ComposeCommand, engine_hint, error_line, output_text};
use crate::error::{self, exit};
use crate::orchestrator::Orchestrator;
use crate::output::Output;
use crate::process::{Spec, which};
use crate::settings::Settings;

#[derive(Debug, Serialize)]
#[serde(rename_all = "lowercase")]
enum Verdict {
    Ok,
    Failed,
    Skipped,
    /// Worth knowing, but nothing is wrong yet (an image compose will pull).
    Warn,
}

#[derive(Debug, Serialize)]
struct Check {
    #[serde(rename = "check")]
    name: String,
    status: Verdict,
    detail: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    fix: Option<String>,
}

fn ok(check: &str, detail: impl Into<String>) -> Check {
    Check {
        name: check.into(),
        status: Verdict::Ok,
        detail: detail.into(),
        fix: None,
    }
}

fn failed(check: &str, detail: impl Into<String>, fix: impl Into<String>) -> Check {
    Check {
        name: check.into(),
        status: Verdict::Failed,
        detail: detail.into(),
        fix: Some(fix.into()),
    }
}

fn skipped(check: &str, detail: impl Into<String>) -> Check {
    Check {
        name: check.into(),
        status: Verdict::Skipped,
        detail: detail.into(),
        fix: None,
    }
}

/// Runs every check.
pub(crate) fn run(config: Option<&Path>, out: &Output) -> u8 {
    let mut checks = Vec::new();
    let settings = match Settings::load(config) {
        Ok(s) => {
            let detail = match s.path() {
                Some(_) => format!(
                    "{} is valid: {} components, {} repositories",
                    s.display_name(),
                    s.graph().len(),
                    s.config().repositories.len()
                ),
                None => "no config file (./tta.yaml, ./config/tta.yaml): an empty stack".into(),
            };
            checks.push(ok("config", detail));
            Some(s)
        }
        Err(e) => {
            let text = error::render(&e);
            checks.push(failed(
                "config",
                text.lines().skip(1).fold(
                    text.lines()
                        .next()
                        .unwrap_or_default()
                        .trim_start_matches("error: ")
                        .to_owned(),
                    |a, l| format!("{a}\n{l}"),
                ),
                e.hint()
                    .unwrap_or_else(|| "fix the file; `tta config validate` checks it".into()),
            ));
            None
        }
    };
    let uses_docker = settings.as_ref().is_none_or(|s| {
        let c = s.config();
        !c.repositories.is_empty() || c.components.values().any(|x| x.kind == Kind::Compose)
    });
    if let Some(s) = &settings {
        checks.extend(repository_checks(s));
    }
    if uses_docker {
        checks.extend(docker_checks(settings.as_ref()));
    } else {
        checks.push(skipped("docker", "no repositories or compose components"));
    }
    if let Some(s) = &settings {
        checks.extend(commands(s));
        checks.push(state_dir(&s.config().state_dir));
        checks.extend(probe_warnings(s));
        let rows = Orchestrator::new(s.clone()).status(&[]).ok();
        if uses_docker {
            checks.extend(images(s));
            checks.extend(published_ports(s, rows.as_deref()));
        }
        checks.extend(ports(s, rows.as_deref()));
    }
    let all_ok = checks.iter().all(|c| !matches!(c.status, Verdict::Failed));
    print(&checks, all_ok, out);
    if all_ok { exit::OK } else { exit::FAILED }
}

/// Each repository: its folder and compose files.
fn repository_checks(s: &Settings) -> Vec<Check> {
    let mut checks = Vec::new();
    for (name, repo) in &s.config().repositories {
        let check = format!("repository {name}");
        if !repo.path.is_dir() {
            checks.push(failed(
                &check,
                format!("not found at {}", repo.path.display()),
                format!("clone it there, or set `repositories.\"{name}\".path`"),
            ));
            continue;
        }
        match crate::compose_file::compose_files(repo) {
            Ok(files) => {
                let names: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
                checks.push(ok(
                    &check,
                    format!("{} ({})", repo.path.display(), names.join(", ")),
                ));
            }
            Err(e) => checks.push(failed(
                &check,
                e,
                "add a compose file, or list yours under `compose_files`",
            )),
        }
    }
    checks
}

fn print(checks: &[Check], all_ok: bool, out: &Output) {
    if out.json {
        out.json_doc(serde_json::json!({"ok": all_ok, "checks": checks}));
    } else {
        let width = checks.iter().map(|c| c.name.len()).max().unwrap_or(0);
        let mut text = String::new();
        for c in checks {
            let mark = match c.status {
                Verdict::Ok => out.style("✓", |s| s.green()),
                Verdict::Failed => out.style("✗", |s| s.red().bold()),
                Verdict::Skipped => out.style("-", |s| s.dim()),
                Verdict::Warn => out.style("!", |s| s.yellow().bold()),
            };
            let mut lines = c.detail.lines();
            text.push_str(&format!(
                "{mark} {:<width$}  {}\n",
                c.name,
                lines.next().unwrap_or_default()
            ));
            for l in lines {
                text.push_str(&format!("  {:<width$}  {l}\n", ""));
            }
            if let Some(f) = &c.fix {
                text.push_str(&format!("  {:<width$}  fix: {f}\n", ""));
            }
        }
        out.stdout(&text);
    }
}

fn docker_checks(settings: Option<&Settings>) -> Vec<Check> {
    let mut checks = Vec::new();
    match which("docker") {
        Some(p) => checks.push(ok("docker CLI", p.display().to_string())),
        None => checks.push(failed(
            "docker CLI",
            "`docker` is not on PATH",
            "install Docker (https://docs.docker.com/engine/install/)",
        )),
    }
    let env = std::env::var("TTA_COMPOSE").ok();
    let configured = settings.and_then(|s| s.config().compose.command.clone());
    match ComposeCommand::detect(env.as_deref(), configured.as_deref()) {
        Ok(cmd) => {
            let mut argv = cmd.argv.clone();
            argv.push("version".into());
            let version = Spec::new(argv)
                .capture()
                .deadline(Duration::from_secs(15))
                .run()
                .map(|c| {
                    // Compose prints its version on stdout (some versions on stderr).
                    format!("{}\n{}", c.stdout_text(), c.stderr_text())
                        .lines()
                        .map(str::trim)
                        .find(|l| !l.is_empty())
                        .unwrap_or_default()
                        .to_owned()
                })
                .unwrap_or_default();
            checks.push(ok(
                "compose",
                format!("`{}`: {version}", cmd.argv.join(" ")),
            ));
        }
        Err(u) => checks.push(failed("compose", u.message, u.hint)),
    }
    let engines = settings
        .filter(|s| !s.config().repositories.is_empty())
        .map(engine_checks);
    if let Some(e) = engines {
        checks.extend(e);
    } else if which("docker").is_some() {
        let argv: Vec<String> = ["docker", "info", "--format", "{{.ServerVersion}}"]
            .map(str::to_owned)
            .to_vec();
        match Spec::new(argv)
            .capture()
            .deadline(Duration::from_secs(10))
            .run()
        {
            Ok(c) if c.success() => {
                checks.push(ok(
                    "engine",
                    format!("Docker Engine {}", output_text(&c).trim()),
                ));
            }
            Ok(c) => checks.push(failed(
                "engine",
                error_line(&output_text(&c)),
                engine_hint(None),
            )),
            Err(e) => checks.push(failed("engine", e.to_string(), engine_hint(None))),
        }
    }
    checks
}

/// One check per engine the repositories use: where it is and how it was found, whether
/// `tta` reads it through the Engine API or falls back to the CLI (and why), its version;
/// and, for compose v1 with a context, what compose is handed instead of the context.
fn engine_checks(settings: &Settings) -> Vec<Check> {
    let compose = Compose::new(settings.config(), settings.graph());
    let v1 = compose.command().is_ok_and(|c| c.is_v1());
    let mut checks = Vec::new();
    for (engine, repos) in compose.engines() {
        let name = format!("engine of {}", repos.join(", "));
        let ep = match engine.endpoint() {
            Ok(ep) => ep,
            Err(why) => {
                let ctx = engine.context().unwrap_or_default();
                checks.push(failed(
                    &name,
                    why,
                    format!("create it (`docker context create {ctx} --docker host=...`), or change the repository's `context`"),
                ));
                continue;
            }
        };
        let mut detail = ep.describe();
        let answer = match engine.through_api() {
            Ok(()) => engine
                .version()
                .map(|(v, api)| format!("\nthrough the Engine API: Docker Engine {v} (API {api})")),
            Err(why) => cli_version(engine.context(), engine.host()).map(|v| {
                format!("\nthrough the docker CLI, not the Engine API ({why}): Docker Engine {v}")
            }),
        };
        match answer {
            Ok(a) => detail.push_str(&a),
            Err(e) => {
                checks.push(failed(
                    &name,
                    format!("{detail}\ndoes not answer: {e}"),
                    engine_hint(engine.context()),
                ));
                continue;
            }
        }
        if v1 && engine.context().is_some() {
            detail.push_str(&format!(
                "\ncompose v1 cannot read docker contexts: it is handed DOCKER_HOST={}{}",
                ep.host,
                if ep.tls.is_some() {
                    " and the TLS variables"
                } else {
                    ""
                }
            ));
        }
        checks.push(ok(&name, detail));
    }
    checks
}

/// Probes that cannot work as written: a loopback probe of a component whose engine is on
/// another host.
fn probe_warnings(s: &Settings) -> Vec<Check> {
    let stack = crate::driver::Stack::new(s.config(), s.graph(), s.path());
    stack
        .warnings(s.graph())
        .into_iter()
        .map(|w| failed("probe", w, "probe the engine's host with `{engine_host}`"))
        .collect()
}

/// `docker version` of an engine read through the CLI.
fn cli_version(context: Option<&str>, host: Option<&str>) -> Result<String, String> {
    let mut argv = vec!["docker".to_owned()];
    if let Some(c) = context {
        argv.extend(["--context".to_owned(), c.to_owned()]);
    }
    argv.extend(["version", "--format", "{{.Server.Version}}"].map(str::to_owned));
    let mut spec = Spec::new(argv).capture().deadline(Duration::from_secs(10));
    if let Some(h) = host {
        spec = spec.envs([("DOCKER_HOST", h)]);
    }
    match spec.run() {
        Ok(c) if c.success() => Ok(c.stdout_text().trim().to_owned()),
        Ok(c) => Err(error_line(&output_text(&c))),
        Err(e) => Err(e.to_string()),
    }
}

fn state_dir(dir: &Path) -> Check {
    let probe = std::fs::create_dir_all(dir).and_then(|()| tempfile::tempfile_in(dir).map(drop));
    match probe {
        Ok(()) => ok("state dir", format!("{} is writable", dir.display())),
        Err(e) => failed(
            "state dir",
            format!("{}: {e}", dir.display()),
            "fix its permissions, or set `state_dir`",
        ),
    }
}

/// The program of each process and task can be run: on `PATH`, or (with a `/`) a file
/// that is executable, relative to the component's folder.
fn commands(settings: &Settings) -> Vec<Check> {
    use std::os::unix::fs::PermissionsExt as _;
    let config = settings.config();
    let mut checks = Vec::new();
    for (name, c) in &config.components {
        let Some(argv) = c.command.as_ref().map(|c| c.argv()) else {
            continue;
        };
        let Some(program) = argv.first() else {
            continue;
        };
        let cwd = c.cwd.clone().unwrap_or_else(|| config.base_dir.clone());
        let runnable = if program.contains('/') {
            std::fs::metadata(cwd.join(program))
                .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        } else {
            crate::process::which(program).is_some()
        };
        if !runnable {
            checks.push(failed(
                &format!("command of {name}"),
                format!("`{program}` cannot be run (from {})", cwd.display()),
                if program.contains('/') {
                    "check the path (relative to the component's `cwd`) and that the file is executable".to_owned()
                } else {
                    format!("install `{program}`, or put it on PATH")
                },
            ));
        }
    }
    if checks.is_empty() {
        checks.push(ok("commands", "every process and task command can be run"));
    }
    checks
}

/// Ports on this machine that a probe of a component that is not up would find taken.
fn ports(settings: &Settings, rows: Option<&[crate::orchestrator::ComponentStatus]>) -> Vec<Check> {
    let Some(rows) = rows else {
        return vec![skipped(
            "ports",
            "status unavailable (see the checks above)",
        )];
    };
    let mut checks = Vec::new();
    let nodes = &settings.config().components;
    for row in rows.iter().filter(|r| !r.up && r.kind != Kind::External) {
        let Some(probe) = nodes.get(&row.name).and_then(|c| c.probe.as_ref()) else {
            continue;
        };
        let addr = match &probe.check {
            ProbeCheck::Tcp(a) => a.clone(),
            ProbeCheck::Http { url, .. } => {
                let authority = url
                    .trim_start_matches("http://")
                    .split(['/', '?', '#'])
                    .next()
                    .unwrap_or_default();
                // Never the userinfo (`user:password@`): only where the probe connects.
                let authority = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
                if authority.contains(':') {
                    authority.to_owned()
                } else {
                    format!("{authority}:80")
                }
            }
            ProbeCheck::Exec(_) => continue,
        };
        let local = ["127.0.0.1", "localhost", "[::1]", "0.0.0.0"]
            .iter()
            .any(|h| addr.starts_with(&format!("{h}:")));
        if !local {
            continue;
        }
        let taken = addr
            .to_socket_addrs()
            .ok()
            .into_iter()
            .flatten()
            .any(|a| TcpStream::connect_timeout(&a, Duration::from_millis(300)).is_ok());
        if taken {
            let port = addr.rsplit(':').next().unwrap_or_default();
            let holder = port
                .parse()
                .ok()
                .and_then(crate::process::stat::listener)
                .map(|(pid, cmd)| format!(" (pid {pid}: `{cmd}`)"))
                .unwrap_or_default();
            checks.push(failed(
                "ports",
                format!("{addr} answers{holder}, but {} (whose probe checks it) is {}", row.name, row.status.as_str()),
                format!("something else holds port {port}: stop it (`ss -ltnp 'sport = :{port}'` shows what), or change the probe"),
            ));
        }
    }
    if checks.is_empty() {
        checks.push(ok("ports", "no probe port is held by something else"));
    }
    checks
}

/// The services of each repository whose compose files load (enabled by their profiles).
fn services(settings: &Settings) -> Vec<(String, crate::compose_file::Service)> {
    let env: std::collections::HashMap<String, String> = std::env::vars().collect();
    let mut out = Vec::new();
    for (name, repo) in &settings.config().repositories {
        let Ok(list) =
            crate::compose_file::load_services(repo, &env, &|p: &Path| p.display().to_string())
        else {
            continue; // the repository check above says why
        };
        out.extend(
            list.into_iter()
                .filter(|s| s.enabled)
                .map(|s| (name.clone(), s)),
        );
    }
    out
}

/// `nginx` and `docker.io/library/nginx:latest` are one image.
fn normal_image(name: &str) -> String {
    let name = name
        .trim_start_matches("docker.io/")
        .trim_start_matches("library/");
    let last = name.rsplit('/').next().unwrap_or(name);
    if last.contains(':') || last.contains('@') {
        name.to_owned()
    } else {
        format!("{name}:latest")
    }
}

/// Images the services run that the engine does not have: compose pulls them at the first
/// start, which needs their registry (a warning, not a failure).
fn images(settings: &Settings) -> Vec<Check> {
    let wanted: Vec<(String, String)> = services(settings)
        .into_iter()
        .filter(|(_, s)| !s.build)
        .filter_map(|(repo, s)| s.image.map(|i| (format!("{repo}/{}", s.name), i)))
        .filter(|(_, i)| !i.contains('@') && !i.contains('$'))
        .collect();
    if wanted.is_empty() {
        return Vec::new();
    }
    let argv = ["docker", "images", "--format", "{{.Repository}}:{{.Tag}}"].map(str::to_owned);
    let Ok(listed) = Spec::new(argv)
        .capture()
        .deadline(Duration::from_secs(15))
        .run()
    else {
        return Vec::new();
    };
    if !listed.success() {
        return Vec::new(); // the engine check above says why
    }
    let have: std::collections::HashSet<String> =
        listed.stdout_text().lines().map(normal_image).collect();
    let missing: Vec<String> = wanted
        .iter()
        .filter(|(_, i)| !have.contains(&normal_image(i)))
        .map(|(c, i)| format!("{i} ({c})"))
        .collect();
    if missing.is_empty() {
        return vec![ok(
            "images",
            format!("{} image(s) the services run are present", wanted.len()),
        )];
    }
    vec![Check {
        name: "images".into(),
        status: Verdict::Warn,
        detail: format!("not on the engine yet: {}", missing.join(", ")),
        fix: Some(
            "the first start pulls them (which needs their registry); `tta start --pull` or `tta compose pull` fetches them now".into(),
        ),
    }]
}

/// Host ports that services publish but something on this machine already holds: compose's
/// `up` would fail with "port is already allocated". Only for services that are not up and
/// engines on this machine.
fn published_ports(
    settings: &Settings,
    rows: Option<&[crate::orchestrator::ComponentStatus]>,
) -> Vec<Check> {
    let up: std::collections::HashSet<&str> = rows
        .unwrap_or_default()
        .iter()
        .filter(|r| r.up)
        .map(|r| r.name.as_str())
        .collect();
    let local_engine = std::env::var("DOCKER_HOST").map_or(true, |h| h.starts_with("unix://"));
    let mut checks = Vec::new();
    let mut looked = 0;
    for (repo, svc) in services(settings) {
        let config = &settings.config().repositories[&repo];
        let name = format!("{repo}/{}", svc.name);
        if up.contains(name.as_str()) || config.context.is_some() || !local_engine {
            continue;
        }
        for (ip, port) in &svc.published {
            looked += 1;
            let host = match ip.as_deref() {
                None | Some("0.0.0.0" | "::" | "") => "127.0.0.1",
                Some(h) => h,
            };
            let addr = format!("{host}:{port}");
            let taken = addr
                .to_socket_addrs()
                .ok()
                .into_iter()
                .flatten()
                .any(|a| TcpStream::connect_timeout(&a, Duration::from_millis(300)).is_ok());
            if taken {
                let holder = crate::process::stat::listener(*port)
                    .map(|(pid, cmd)| format!(" by pid {pid} (`{cmd}`)"))
                    .unwrap_or_default();
                checks.push(failed(
                    "published ports",
                    format!("{name} publishes port {port}, which is already in use{holder}: its start would fail"),
                    format!("stop what holds port {port}, or publish {name} on another port"),
                ));
            }
        }
    }
    if checks.is_empty() && looked > 0 {
        checks.push(ok(
            "published ports",
            "no port a service publishes is held by something else",
        ));
    }
    checks
}
