//! Compose speed against a real engine (`cargo bench --bench compose`): 30 running
//! services (`sleep 3600`, `init: true`, image `tta-e2e/busybox:latest`) in two
//! repositories generated in a temporary folder.
//!
//! Measured in the same run, medians:
//! - one `docker ps -a` call, `tta status` (the whole process), `docker-compose ps` in one
//!   repository: `tta status` should cost at most 1.5x the `docker ps` call and be at least
//!   10x faster than `compose ps`;
//! - `tta start all` from stopped against `compose up -d` of the same services in both
//!   repositories (one after the other, as `tta compose up -d` does): at most 1.5x.
//!
//! With `-- --scale` (`cargo bench --bench compose -- --scale`), at the scale users run:
//! 5 repositories × 40 services, measured in the same run against compose in each
//! repository one after another: `tta start` from nothing against `up -d`, `tta stop`
//! against `stop`, and `tta start` with every container stopped against `up -d`; each
//! should stay within 1.1× of compose's own. With compose v1 this takes minutes.
//!
//! Skips with a message when no engine answers. Removes every container and network it
//! created, even when a step fails.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{ms, verdict};

const IMAGE: &str = "tta-e2e/busybox:latest";
const PER_REPO: usize = 15;
const STATUS_RUNS: usize = 15;
const COMPOSE_PS_RUNS: usize = 5;
const START_ROUNDS: usize = 3;

/// Runs a command to completion; panics with its stderr when it fails.
fn run(dir: &Path, argv: &[&str]) -> Duration {
    let t = Instant::now();
    let out = Command::new(argv[0])
        .args(&argv[1..])
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {argv:?}: {e}"));
    let d = t.elapsed();
    assert!(
        out.status.success(),
        "{argv:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    d
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn answers(argv: &[&str]) -> bool {
    Command::new(argv[0])
        .args(&argv[1..])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// The compose command `tta` would detect.
fn compose_command() -> Option<Vec<&'static str>> {
    if answers(&["docker", "compose", "version"]) {
        Some(vec!["docker", "compose"])
    } else if answers(&["docker-compose", "version"]) {
        Some(vec!["docker-compose"])
    } else {
        None
    }
}

/// Removes every container and network of the benchmark's projects.
struct Cleanup(Vec<String>);

impl Drop for Cleanup {
    fn drop(&mut self) {
        for p in &self.0 {
            let label = format!("label=com.docker.compose.project={p}");
            for (list, remove) in [
                (vec!["ps", "-aq", "--filter"], vec!["rm", "-f"]),
                (
                    vec!["network", "ls", "-q", "--filter"],
                    vec!["network", "rm"],
                ),
            ] {
                let mut args = list;
                args.push(&label);
                let Ok(out) = Command::new("docker").args(&args).output() else {
                    continue;
                };
                let ids = String::from_utf8_lossy(&out.stdout).into_owned();
                let ids: Vec<&str> = ids.split_whitespace().collect();
                if !ids.is_empty() {
                    let _ = Command::new("docker")
                        .args(remove.iter().copied().chain(ids))
                        .stdout(Stdio::null())
                        .stderr(Stdio::null())
                        .status();
                }
            }
        }
    }
}

fn write_repo(dir: &Path, name: &str) -> PathBuf {
    let repo = dir.join(name);
    std::fs::create_dir_all(&repo).expect("create the repository folder");
    let mut yaml = String::from("services:\n");
    for i in 1..=PER_REPO {
        yaml.push_str(&format!(
            "  s{i:02}:\n    image: {IMAGE}\n    command: [sleep, \"3600\"]\n    init: true\n"
        ));
    }
    std::fs::write(repo.join("compose.yaml"), yaml).expect("write compose.yaml");
    repo
}

/// The generated stack.
struct Bench<'d> {
    dir: &'d Path,
    compose: Vec<&'static str>,
    projects: Vec<String>,
    repos: [PathBuf; 2],
}

impl Bench<'_> {
    /// Runs compose in repository `i` with its project and file.
    fn compose_in(&self, i: usize, args: &[&str]) -> Duration {
        let mut argv = self.compose.clone();
        argv.extend(["-p", &self.projects[i], "-f", "compose.yaml"]);
        argv.extend(args);
        run(&self.repos[i], &argv)
    }

    fn stop_all(&self) {
        for i in 0..2 {
            self.compose_in(i, &["stop", "-t", "1"]);
        }
    }

    /// Medians of compose `up -d` in both repositories and of `tta start all`, each from
    /// stopped, interleaved.
    fn starts(&self) -> (Duration, Duration) {
        let (mut up, mut start) = (Vec::new(), Vec::new());
        for _ in 0..START_ROUNDS {
            self.stop_all();
            up.push(self.compose_in(0, &["up", "-d"]) + self.compose_in(1, &["up", "-d"]));
            self.stop_all();
            start.push(run(self.dir, &[common::tta(), "-q", "start", "all"]));
        }
        (median(up), median(start))
    }

    /// Medians of one `docker ps -a`, `tta status` and compose `ps` in one repository,
    /// with everything running.
    fn statuses(&self) -> (Duration, Duration, Duration) {
        let ps = [
            "docker",
            "ps",
            "-a",
            "--filter",
            "label=com.docker.compose.project",
            "--format",
            "{{json .}}",
        ];
        let docker_ps = median((0..STATUS_RUNS).map(|_| run(self.dir, &ps)).collect());
        let status = median(
            (0..STATUS_RUNS)
                .map(|_| run(self.dir, &[common::tta(), "status"]))
                .collect(),
        );
        let compose_ps = median(
            (0..COMPOSE_PS_RUNS)
                .map(|_| self.compose_in(0, &["ps"]))
                .collect(),
        );
        (docker_ps, status, compose_ps)
    }
}

const SCALE_REPOS: usize = 5;
const SCALE_SERVICES: usize = 40;

/// 5 × 40: tta against compose in each repository, start from nothing, stop, and start
/// with everything stopped.
fn scale(compose: &[&'static str]) {
    let tmp = tempfile::Builder::new()
        .prefix("tta-bench-scale-")
        .tempdir()
        .expect("temporary folder");
    let dir = tmp.path();
    let names: Vec<String> = (0..SCALE_REPOS).map(|i| format!("r{i}")).collect();
    let projects: Vec<String> = names
        .iter()
        .map(|r| format!("tta-scale-{}-{r}", std::process::id()))
        .collect();
    let _cleanup = Cleanup(projects.clone());
    let mut yaml =
        String::from("defaults: { start_timeout: 5m, stop_timeout: 1s }\nrepositories:\n");
    let mut repos = Vec::new();
    for (name, project) in names.iter().zip(&projects) {
        let repo = dir.join(name);
        std::fs::create_dir_all(&repo).expect("create the repository folder");
        let mut c = String::from("services:\n");
        for i in 1..=SCALE_SERVICES {
            c.push_str(&format!(
                "  s{i:02}:\n    image: {IMAGE}\n    command: [sleep, \"3600\"]\n    init: true\n"
            ));
        }
        std::fs::write(repo.join("compose.yaml"), c).expect("write compose.yaml");
        yaml.push_str(&format!(
            "  {name}: {{ path: {name}, project_name: {project} }}\n"
        ));
        repos.push(repo);
    }
    std::fs::write(dir.join("tta.yaml"), yaml).expect("write tta.yaml");
    let each = |args: &[&str]| -> Duration {
        repos
            .iter()
            .zip(&projects)
            .map(|(repo, p)| {
                let mut argv = compose.to_vec();
                argv.extend(["-p", p.as_str(), "-f", "compose.yaml"]);
                argv.extend(args);
                run(repo, &argv)
            })
            .sum()
    };
    let tta = |args: &[&str]| {
        let mut argv = vec![common::tta(), "-q"];
        argv.extend(args);
        run(dir, &argv)
    };
    println!(
        "compose scale benchmark: {SCALE_REPOS} repositories × {SCALE_SERVICES} services, `{}` in each, one after another",
        compose.join(" ")
    );
    let up_new = each(&["up", "-d"]);
    let stop = each(&["stop", "-t", "1"]);
    let up_stopped = each(&["up", "-d"]);
    each(&["down"]);
    let start_new = tta(&["start"]);
    let tta_stop = tta(&["stop"]);
    let start_stopped = tta(&["start"]);
    for (what, ours, theirs) in [
        ("start from nothing", start_new, up_new),
        ("stop", tta_stop, stop),
        ("start, all stopped", start_stopped, up_stopped),
    ] {
        let r = ours.as_secs_f64() / theirs.as_secs_f64();
        println!(
            "  {what:<20} tta {:>10}   compose {:>10}   ratio {r:>5.2}  (target <= 1.1)  {}",
            ms(ours),
            ms(theirs),
            verdict(r <= 1.1)
        );
    }
}

#[expect(clippy::too_many_lines, reason = "one benchmark, its steps in order")]
fn main() {
    if !answers(&["docker", "info"]) {
        println!(
            "compose benchmark SKIPPED: no Docker engine answers `docker info` (start one with `scripts/engine.sh up`)"
        );
        return;
    }
    if !answers(&["docker", "image", "inspect", IMAGE]) {
        println!("compose benchmark SKIPPED: image {IMAGE} missing (run `scripts/engine.sh up`)");
        return;
    }
    let Some(compose) = compose_command() else {
        println!("compose benchmark SKIPPED: neither `docker compose` nor `docker-compose` works");
        return;
    };
    if std::env::args().any(|a| a == "--scale") {
        scale(&compose);
        return;
    }
    let tmp = tempfile::Builder::new()
        .prefix("tta-bench-compose-")
        .tempdir()
        .expect("temporary folder");
    let dir = tmp.path();
    let projects: Vec<String> = ["a", "b"]
        .iter()
        .map(|r| format!("tta-bench-{}-{r}", std::process::id()))
        .collect();
    let _cleanup = Cleanup(projects.clone());
    let repos = [write_repo(dir, "a"), write_repo(dir, "b")];
    std::fs::write(
        dir.join("tta.yaml"),
        format!(
            "defaults: {{ start_timeout: 2m, stop_timeout: 2s }}\nrepositories:\n  a: {{ path: a, project_name: {} }}\n  b: {{ path: b, project_name: {} }}\n",
            projects[0], projects[1]
        ),
    )
    .expect("write tta.yaml");
    let bench = Bench {
        dir,
        compose,
        projects,
        repos,
    };
    println!(
        "compose benchmark: {} services in 2 repositories, compose command `{}`",
        2 * PER_REPO,
        bench.compose.join(" ")
    );
    // Create everything once (untimed), so both sides start existing containers.
    for i in 0..2 {
        bench.compose_in(i, &["up", "-d"]);
    }
    let (up, start) = bench.starts();
    let (docker_ps, status, compose_ps) = bench.statuses();
    let compose = bench.compose.join(" ");
    let r_status = status.as_secs_f64() / docker_ps.as_secs_f64();
    let r_ps = compose_ps.as_secs_f64() / status.as_secs_f64();
    let r_start = start.as_secs_f64() / up.as_secs_f64();
    println!(
        "  one `docker ps -a` call                 {:>12}",
        ms(docker_ps)
    );
    println!(
        "  `tta status` (whole process)            {:>12}",
        ms(status)
    );
    println!(
        "  `{compose} ps`, one repository     {:>12}",
        ms(compose_ps)
    );
    println!("  `{compose} up -d`, both repositories {:>10}", ms(up));
    println!(
        "  `tta start all` from stopped            {:>12}",
        ms(start)
    );
    println!(
        "  status / docker-ps          = {r_status:>6.2}  (target <= 1.5)  {}",
        verdict(r_status <= 1.5)
    );
    println!(
        "  compose-ps / status         = {r_ps:>6.2}  (target >= 10)   {}",
        verdict(r_ps >= 10.0)
    );
    println!(
        "  start / compose-up          = {r_start:>6.2}  (target <= 1.5)  {}",
        verdict(r_start <= 1.5)
    );
}
