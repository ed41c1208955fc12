//! Compose speed against a real engine (`cargo bench --bench compose`): 30 running
//! services (`sleep 3600`, `init: true`, image `tta-e2e/busybox:latest`) in two
//! repositories generated in a temporary folder, plus one host probe.
//!
//! Measured in the same run, medians:
//! - a plain `docker ps -a`, `tta status` (the whole process: it reads both repositories
//!   with one Engine API call per engine and runs the probe), `docker-compose ps` in one
//!   repository: `tta status` should cost at most 0.7x the `docker ps -a` and be at least
//!   30x faster than `compose ps`;
//! - `tta start all` from stopped against `compose up -d` of the same services in both
//!   repositories (one after the other, as `tta compose up -d` does): at most 1.0x;
//! - readiness from events: a service `db` with a healthcheck in one repository, `app`
//!   depending on it in the other; the time from the engine's `health_status: healthy`
//!   event of `db` to the moment `tta` runs the `up` of `app` (a compose wrapper notes
//!   when it is called): at most 50 ms.
//!
mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{ms, verdict};

const IMAGE: &str = "tta-e2e/busybox:latest";
const READY_ROUNDS: usize = 5;
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
        let ps = ["docker", "ps", "-a"];
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

/// Seconds since the epoch, as `date +%s.%N` gives them.
fn epoch() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// From `db` healthy (the engine's event) to the `up` of `app` (the compose wrapper's
/// note), over [`READY_ROUNDS`] starts; prints the median and the largest.
#[expect(clippy::too_many_lines, reason = "one benchmark, its steps in order")]
fn readiness(compose: &[&'static str]) {
    let tmp = tempfile::Builder::new()
        .prefix("tta-bench-ready-")
        .tempdir()
        .expect("temporary folder");
    let dir = tmp.path();
    let projects: Vec<String> = ["a", "b"]
        .iter()
        .map(|r| format!("tta-ready-{}-{r}", std::process::id()))
        .collect();
    let _cleanup = Cleanup(projects.clone());
    for (r, yaml) in [
        (
            "a",
            format!(
                "services:\n  db:\n    image: {IMAGE}\n    init: true\n    command: [sh, -c, 'sleep 1; touch /tmp/ready; exec sleep 3600']\n    healthcheck: {{ test: [CMD, test, -f, /tmp/ready], interval: 100ms, timeout: 1s, retries: 100 }}\n"
            ),
        ),
        (
            "b",
            format!(
                "services:\n  app: {{ image: {IMAGE}, init: true, command: [sleep, '3600'] }}\n"
            ),
        ),
    ] {
        std::fs::create_dir_all(dir.join(r)).expect("folder");
        std::fs::write(dir.join(r).join("compose.yaml"), yaml).expect("compose.yaml");
    }
    let calls = dir.join("calls");
    let wrapper = dir.join("compose-wrapper");
    std::fs::write(
        &wrapper,
        format!(
            "#!/bin/sh\necho \"$(date +%s.%N) $*\" >> {}\nexec {} \"$@\"\n",
            calls.display(),
            compose.join(" ")
        ),
    )
    .expect("wrapper");
    let _ = Command::new("chmod").arg("755").arg(&wrapper).status();
    std::fs::write(
        dir.join("tta.yaml"),
        format!(
            "defaults: {{ start_timeout: 1m, stop_timeout: 1s }}\ncompose: {{ command: [{}] }}\nrepositories:\n  a: {{ path: a, project_name: {} }}\n  b: {{ path: b, project_name: {} }}\ncomponents:\n  app: {{ repository: b, service: app, depends_on: [a/db] }}\n",
            wrapper.display(),
            projects[0],
            projects[1]
        ),
    )
    .expect("tta.yaml");
    let mut gaps: Vec<f64> = Vec::new();
    for _ in 0..READY_ROUNDS {
        let _ = std::fs::remove_file(&calls);
        let since = epoch() - 1.0;
        run(dir, &[common::tta(), "-q", "start"]);
        let until = epoch() + 1.0;
        let events = Command::new("docker")
            .args([
                "events",
                "--since",
                &format!("{since:.3}"),
                "--until",
                &format!("{until:.3}"),
            ])
            .args([
                "--filter",
                &format!("label=com.docker.compose.project={}", projects[0]),
            ])
            .args([
                "--filter",
                "event=health_status",
                "--format",
                "{{.TimeNano}} {{.Action}}",
            ])
            .output()
            .expect("docker events");
        let healthy = String::from_utf8_lossy(&events.stdout)
            .lines()
            .filter(|l| l.ends_with("healthy") && !l.ends_with("unhealthy"))
            .filter_map(|l| l.split(' ').next()?.parse::<f64>().ok())
            .map(|n| n / 1e9)
            .next();
        let up = std::fs::read_to_string(&calls)
            .unwrap_or_default()
            .lines()
            .filter(|l| l.contains(" up ") && l.ends_with(" app"))
            .find_map(|l| l.split(' ').next()?.parse::<f64>().ok());
        if let (Some(h), Some(u)) = (healthy, up) {
            gaps.push(u - h);
        }
        run(dir, &[common::tta(), "-q", "stop"]);
        run(dir, &[common::tta(), "-q", "compose", "rm", "-f"]);
    }
    gaps.sort_by(f64::total_cmp);
    let Some(&worst) = gaps.last() else {
        println!("  readiness: no measurement (no health event or no `up` seen)");
        return;
    };
    let median = gaps[gaps.len() / 2];
    println!(
        "  `db` healthy → `up` of `app` (events), {} starts: median {:.1} ms, largest {:.1} ms  (target <= 50 ms)  {}",
        gaps.len(),
        median * 1e3,
        worst * 1e3,
        verdict(worst <= 0.05)
    );
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
    if std::env::args().any(|a| a == "--readiness") {
        readiness(&compose);
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
    // What the host probe checks: a listener of the benchmark's own.
    let probed = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    std::fs::write(
        dir.join("tta.yaml"),
        format!(
            "defaults: {{ start_timeout: 2m, stop_timeout: 2s }}\nrepositories:\n  a: {{ path: a, project_name: {} }}\n  b: {{ path: b, project_name: {} }}\ncomponents:\n  api: {{ kind: external, probe: {{ tcp: \"127.0.0.1:{}\" }} }}\n",
            projects[0], projects[1], probed.local_addr().expect("address").port()
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
    // Status in the steady state: for containers up less than the engine's 10 s
    // crash-loop window, `tta status` adds one inspect of them (all at once).
    std::thread::sleep(Duration::from_secs(12));
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
        "  status / docker-ps          = {r_status:>6.2}  (target <= 0.7)  {}",
        verdict(r_status <= 0.7)
    );
    println!(
        "  compose-ps / status         = {r_ps:>6.2}  (target >= 30)   {}",
        verdict(r_ps >= 30.0)
    );
    println!(
        "  start / compose-up          = {r_start:>6.2}  (target <= 1.0)  {}",
        verdict(r_start <= 1.0)
    );
    drop(probed);
    readiness(&bench.compose);
}
