//! `tta` agrees with Compose and with the engine on stacks shaped like real ones: a slow
//! migration, a sidecar in another service's network namespace, `scale: 3` with a crashed
//! replica, a crash loop, a service stopped behind `tta`'s back, a moved checkout, a
//! removed service, a broken compose file, a service named `-V`, piped stdin and binary
//! output through `tta compose`, Ctrl-C to `tta compose logs -f`, an engine that never
//! answers and a hostile `.env`.
//!
//! Tests that need the real engine skip visibly without one (and fail under `TTA_E2E=1`);
//! each uses its own repositories (unique names, so unique default project names) and
//! removes every container, network and volume of them on drop, even when it fails.

use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use crate::compose_e2e::{IMAGE, docker, engine_ready};
use crate::harness::{Stack, eventually};

/// A stack of repositories written into its folder, with unique names.
struct Real {
    stack: Stack,
    /// What every project name of this test starts with.
    prefix: String,
}

impl Real {
    /// Repositories `(name, compose.yaml)`; their names get the unique prefix.
    fn new(repos: &[(&str, &str)], extra: &str) -> Self {
        static N: AtomicUsize = AtomicUsize::new(0);
        let prefix = format!(
            "tt{}x{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        );
        let mut yaml =
            format!("defaults: {{ start_timeout: 30s, stop_timeout: 2s }}\n{extra}repositories:\n");
        for (name, _) in repos {
            yaml.push_str(&format!("  {prefix}{name}: {{ path: {name} }}\n"));
        }
        let stack = Stack::new(&yaml);
        for (name, compose) in repos {
            stack.write(
                &format!("{name}/compose.yaml"),
                &compose.replace("IMAGE", IMAGE),
            );
        }
        Self { stack, prefix }
    }

    fn repo(&self, name: &str) -> String {
        format!("{}{name}", self.prefix)
    }

    /// The containers of this test's projects: `(project, service, state, id)`.
    fn containers(&self) -> Vec<(String, String, String, String)> {
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
                (f[0].into(), f[1].into(), f[2].into(), f[3].into())
            })
            .collect()
    }

    fn running(&self, service: &str) -> usize {
        self.containers()
            .iter()
            .filter(|c| c.1 == service && c.2 == "running")
            .count()
    }

    fn id(&self, service: &str) -> String {
        self.containers()
            .into_iter()
            .find(|c| c.1 == service)
            .unwrap_or_else(|| panic!("no container of {service}: {:?}", self.containers()))
            .3
    }

    fn status(&self, name: &str) -> serde_json::Value {
        let v = self.stack.tta(&["--json", "status", name]).json();
        v["components"][0].clone()
    }
}

impl Drop for Real {
    fn drop(&mut self) {
        let ids: Vec<String> = self.containers().into_iter().map(|c| c.3).collect();
        if !ids.is_empty() {
            let mut args = vec!["rm", "-f", "-v"];
            args.extend(ids.iter().map(String::as_str));
            docker(&args);
        }
        for (list, rm) in [
            (
                &["network", "ls", "--format", "{{.Name}}"][..],
                &["network", "rm"][..],
            ),
            (
                &["volume", "ls", "--format", "{{.Name}}"],
                &["volume", "rm", "-f"],
            ),
        ] {
            let (_, names) = docker(list);
            let ours: Vec<&str> = names
                .lines()
                .filter(|n| n.starts_with(&self.prefix))
                .collect();
            if !ours.is_empty() {
                let mut args = rm.to_vec();
                args.extend(ours);
                docker(&args);
            }
        }
    }
}

/// `{{.State.FinishedAt}}` or `{{.State.StartedAt}}` of a container, comparable as text.
fn when(id: &str, what: &str) -> String {
    docker(&["inspect", "-f", &format!("{{{{.State.{what}}}}}"), id]).1
}

#[test]
fn a_slow_migration_gates_its_dependent_and_a_sidecar_joins_its_vpn() {
    if !engine_ready() {
        return;
    }
    let r = Real::new(
        &[(
            "a",
            "services:
  migrate: { image: IMAGE, command: [sh, -c, 'sleep 3; echo migrated'] }
  app:
    image: IMAGE
    command: [sleep, '3600']
    init: true
    depends_on: { migrate: { condition: service_completed_successfully } }
  vpn: { image: IMAGE, command: [sleep, '3600'], init: true }
  sidecar: { image: IMAGE, command: [sleep, '3600'], init: true, network_mode: 'service:vpn' }
",
        )],
        "",
    );
    let a = r.repo("a");
    let s = &r.stack;
    // The migration runs 3 s: app waits for its exit, it is not taken for a service.
    s.tta(&["start", &format!("{a}/app")])
        .ok()
        .stderr_has("migrate");
    let (migrate, app) = (r.id("migrate"), r.id("app"));
    assert!(
        when(&app, "StartedAt") >= when(&migrate, "FinishedAt"),
        "app started before the migration ended"
    );
    assert_eq!(r.status(&format!("{a}/migrate"))["status"], "completed");
    assert_eq!(r.status(&format!("{a}/app"))["status"], "running");
    // A sidecar in vpn's network namespace: tta starts vpn first, as Compose would.
    s.tta(&["start", &format!("{a}/sidecar")]).ok();
    assert_eq!((r.running("vpn"), r.running("sidecar")), (1, 1));
    assert!(when(&r.id("sidecar"), "StartedAt") >= when(&r.id("vpn"), "StartedAt"));
    s.tta(&["stop"]).ok();
    assert_eq!(
        r.containers().iter().filter(|c| c.2 == "running").count(),
        0
    );
}

#[test]
fn replicas_crash_loops_and_outside_stops_are_what_the_engine_says() {
    if !engine_ready() {
        return;
    }
    let r = Real::new(
        &[(
            "a",
            "services:
  web: { image: IMAGE, command: [sleep, '3600'], init: true, scale: 3 }
  db: { image: IMAGE, command: [sleep, '3600'], init: true, restart: unless-stopped }
  loop: { image: IMAGE, command: [sh, -c, 'sleep 1; exit 3'], restart: always }
",
        )],
        "",
    );
    let a = r.repo("a");
    let s = &r.stack;
    let (web, db, lp) = (format!("{a}/web"), format!("{a}/db"), format!("{a}/loop"));
    s.tta(&["start", &web, &db]).ok();
    assert_eq!(r.running("web"), 3);
    // One replica of three crashed: the service is not up, and start brings it back.
    let replica = r.containers().into_iter().find(|c| c.1 == "web").unwrap().3;
    docker(&["kill", &replica]);
    let st = r.status(&web);
    assert_eq!(
        (st["status"].as_str(), st["up"].as_bool()),
        (Some("error"), Some(false)),
        "{st}"
    );
    s.tta(&["status", &web]).code(1);
    s.tta(&["start", &web]).ok();
    assert_eq!(r.running("web"), 3);
    // Stopped behind tta's back: stopped, not completed, and started again by tta start.
    docker(&["stop", "-t", "1", &r.id("db")]);
    assert_eq!(r.status(&db)["status"], "stopped");
    s.tta(&["start", &db]).ok().stderr_has("1 started");
    assert_eq!(r.running("db"), 1);
    // A crash loop is never up, however often it is "running" between crashes (once it
    // has crashed: before that, nobody can tell).
    let _ = s.tta(&["start", &lp]);
    std::thread::sleep(Duration::from_millis(2500));
    let t = Instant::now();
    while t.elapsed() < Duration::from_secs(4) {
        let st = r.status(&lp);
        assert_eq!(st["up"], false, "a crash loop reads as up: {st}");
        std::thread::sleep(Duration::from_millis(300));
    }
    s.tta(&["start", &lp])
        .code(1)
        .stderr_has("keeps restarting");
    s.tta(&["stop"]).ok();
    assert_eq!(
        r.containers().iter().filter(|c| c.2 == "running").count(),
        0
    );
}

#[test]
fn what_tta_started_stays_its_own_to_stop() {
    if !engine_ready() {
        return;
    }
    let svc = "  s: { image: IMAGE, command: [sleep, '3600'], init: true }\n";
    let extra = "  extra: { image: IMAGE, command: [sleep, '3600'], init: true }\n";
    let r = Real::new(
        &[
            ("a", &format!("services:\n{svc}")),
            ("b", &format!("services:\n{svc}{extra}")),
            ("c", &format!("services:\n{svc}")),
        ],
        "",
    );
    let s = &r.stack;
    s.tta(&["start"]).ok();
    assert_eq!(
        r.containers().iter().filter(|c| c.2 == "running").count(),
        4
    );
    // a's checkout moves (its default project name hashes the folder), b's `extra` is
    // removed from its compose file, c's compose file breaks.
    std::fs::rename(s.path().join("a"), s.path().join("moved")).unwrap();
    let yaml = s.read("tta.yaml").replace("path: a }", "path: moved }");
    s.write("tta.yaml", &yaml);
    s.write(
        "b/compose.yaml",
        &format!("services:\n{svc}").replace("IMAGE", IMAGE),
    );
    let st = s.tta(&["--json", "status", &format!("{}/s", r.repo("a"))]);
    assert_eq!(
        st.json()["components"][0]["status"],
        "running",
        "{}",
        st.stdout
    );
    s.write("c/compose.yaml", "services:\n  s: { image: [oops\n");
    let stop = s.tta(&["stop"]);
    stop.ok()
        .stderr_has("/extra (")
        .stderr_has("its services are left out");
    assert_eq!(
        r.containers().iter().filter(|c| c.2 == "running").count(),
        0,
        "left running: {:?}\n{}",
        r.containers(),
        stop.stderr
    );
}

#[test]
fn a_service_named_like_an_option_is_a_name() {
    if !engine_ready() {
        return;
    }
    let r = Real::new(
        &[(
            "a",
            "services:
  -V: { image: IMAGE, command: [sleep, '3600'], init: true, volumes: ['/data'] }
  other: { image: IMAGE, command: [sleep, '3600'], init: true, volumes: ['/data'] }
",
        )],
        "",
    );
    let s = &r.stack;
    s.tta(&["start"]).ok();
    let id = r.id("-V");
    assert!(docker(&["exec", &id, "sh", "-c", "echo kept > /data/f"]).0);
    s.tta(&["stop"]).ok();
    s.tta(&["start"]).ok();
    assert_eq!(r.running("-V"), 1);
    // `-V` would be --renew-anon-volumes: the data must still be there.
    let (ok, out) = docker(&["exec", &r.id("-V"), "cat", "/data/f"]);
    assert!(ok && out == "kept", "the volume was renewed: {out}");
    s.tta(&["logs", &format!("{}/-V", r.repo("a"))]).ok();
}

#[test]
fn tta_compose_with_one_repository_is_compose() {
    if !engine_ready() {
        return;
    }
    let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = busy.local_addr().unwrap().port();
    let r = Real::new(
        &[(
            "a",
            &format!(
                "services:
  db: {{ image: IMAGE, command: [sleep, '3600'], init: true }}
  bad: {{ image: IMAGE, command: [sleep, '3600'], init: true, ports: ['127.0.0.1:{port}:80'] }}
"
            ),
        )],
        "",
    );
    let a = r.repo("a");
    let s = &r.stack;
    s.tta(&["start", &format!("{a}/db")]).ok();
    // Piped stdin reaches `exec -T`; binary stdout comes back byte for byte.
    let dump: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
    let mut child = s
        .command(&[
            "compose",
            "--repo",
            &a,
            "exec",
            "-T",
            "db",
            "sh",
            "-c",
            "cat > /tmp/dump",
        ])
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(&dump).unwrap();
    assert!(child.wait().unwrap().success());
    let out = s
        .command(&[
            "compose",
            "--repo",
            &a,
            "exec",
            "-T",
            "db",
            "cat",
            "/tmp/dump",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(
        out.stdout == dump,
        "{} bytes came back, not the {} sent",
        out.stdout.len(),
        dump.len()
    );
    // Compose's exit code is tta's.
    s.tta(&[
        "compose", "--repo", &a, "exec", "-T", "db", "sh", "-c", "exit 7",
    ])
    .code(7);
    // Compose v1's reason for a failed `up`, not its generic last line.
    s.tta(&["start", &format!("{a}/bad")])
        .code(1)
        .stderr_has("ERROR: for bad  Cannot start service bad");
    let again = s.tta(&["start", &format!("{a}/bad")]);
    let failed = again
        .stderr
        .lines()
        .find(|l| l.contains("✗ failed"))
        .unwrap_or_default();
    assert!(
        failed.contains("Cannot start service bad"),
        "{}",
        again.stderr
    );
    drop(busy);
}

/// The pids of processes whose command line contains `needle`.
/// The processes whose command line holds both.
fn pids_with_both(needle: &str, also: &str) -> Vec<u32> {
    pids_with(needle)
        .into_iter()
        .filter(|p| {
            let cmd = std::fs::read(format!("/proc/{p}/cmdline")).unwrap_or_default();
            String::from_utf8_lossy(&cmd).contains(also)
        })
        .collect()
}

fn pids_with(needle: &str) -> Vec<u32> {
    let mut out = Vec::new();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let cmd = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
        if String::from_utf8_lossy(&cmd)
            .replace('\0', " ")
            .contains(needle)
            && crate::harness::alive(pid)
        {
            out.push(pid);
        }
    }
    out
}

#[test]
fn signals_reach_compose_and_no_compose_is_left_behind() {
    if !engine_ready() {
        return;
    }
    let r = Real::new(
        &[
            // Silent: a compose that writes nothing is not ended by a closed pipe either.
            (
                "a",
                "services:\n  db: { image: IMAGE, command: [sleep, '3600'], init: true }\n",
            ),
            (
                "b",
                "services:\n  db: { image: IMAGE, command: [sleep, '3600'], init: true }\n",
            ),
        ],
        "",
    );
    let s = &r.stack;
    s.tta(&["start"]).ok();
    let a = r.repo("a");
    let db = r
        .containers()
        .into_iter()
        .find(|c| c.0.starts_with(&a) && c.1 == "db")
        .expect("a's db runs")
        .3;
    for (args, sig, needle) in [
        (
            vec!["logs".to_owned(), "-f".to_owned(), format!("{a}/db")],
            "INT",
            // `tta logs -f` reads the container's log from the engine: with `docker logs`
            // where the engine is read through its CLI (through the API, no process).
            "logs --timestamps --tail all --since".to_owned(),
        ),
        (
            vec!["compose".to_owned(), "logs".to_owned(), "-f".to_owned()],
            "TERM",
            format!("-p {a}"),
        ),
    ] {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let mut command = s.command(&args);
        if sig == "INT" {
            command.env("TTA_ENGINE", "cli");
        }
        let mut child = command
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let running = || pids_with_both(&needle, if sig == "INT" { &db[..12] } else { "" });
        assert!(
            eventually(Duration::from_secs(20), || !running().is_empty()),
            "compose never ran"
        );
        std::thread::sleep(Duration::from_millis(500));
        Command::new("kill")
            .args([&format!("-{sig}"), &child.id().to_string()])
            .status()
            .unwrap();
        let t = Instant::now();
        let mut ended = false;
        while t.elapsed() < Duration::from_secs(15) {
            if let Ok(Some(_)) = child.try_wait() {
                ended = true;
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = child.kill();
        let _ = child.wait();
        assert!(ended, "tta {args:?} did not end on SIG{sig}");
        let gone = eventually(Duration::from_secs(5), || running().is_empty());
        for pid in running() {
            // Leave nothing of this test running, then fail.
            let _ = Command::new("kill").arg(pid.to_string()).status();
        }
        assert!(
            gone,
            "a compose process was left behind after SIG{sig} to tta {args:?}"
        );
    }
}

/// `command` running, its stdout's lines on a channel as they come and its stderr whole at
/// its end.
fn reading(
    mut command: Command,
) -> (
    std::process::Child,
    std::sync::mpsc::Receiver<String>,
    std::thread::JoinHandle<String>,
) {
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    std::thread::spawn(move || {
        use std::io::BufRead as _;
        for line in std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
        {
            let _ = tx.send(line);
        }
    });
    let errors = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = std::io::Read::read_to_string(&mut stderr, &mut text);
        text
    });
    (child, rx, errors)
}

#[test]
fn compose_logs_follow_reads_every_repository_at_once() {
    if !engine_ready() {
        return;
    }
    let service = |word: &str| {
        format!(
            "services:\n  web: {{ image: IMAGE, init: true, command: [sh, -c, 'echo {word}; exec sleep 3600'] }}\n"
        )
    };
    let r = Real::new(
        &[
            ("a", &service("hello-from-a")),
            ("b", &service("hello-from-b")),
        ],
        "",
    );
    let s = &r.stack;
    s.tta(&["compose", "up", "-d", "--repo", "both"]).ok();
    let words = ["hello-from-a", "hello-from-b"];
    let follow = ["compose", "logs", "-f", "--repo", "both"];
    let json = ["--json", "compose", "logs", "-f", "--repo", "both"];
    for (args, sig) in [(&follow[..], "INT"), (&json[..], "TERM")] {
        let (mut child, rx, errors) = reading(s.command(args));
        let compose_in = |name: &str| pids_with_both(&format!("-p {}", r.repo(name)), "logs");
        // One after another, the first repository's `logs -f` never ends and `b`'s compose
        // never runs.
        let both = eventually(Duration::from_secs(20), || {
            !compose_in("a").is_empty() && !compose_in("b").is_empty()
        });
        let mut seen = Vec::new();
        let t = Instant::now();
        while t.elapsed() < Duration::from_secs(if args[0] == "--json" { 2 } else { 30 })
            && !words
                .iter()
                .all(|w| seen.iter().any(|l: &String| l.contains(w)))
        {
            if let Ok(l) = rx.recv_timeout(Duration::from_millis(200)) {
                seen.push(l);
            }
        }
        Command::new("kill")
            .args([&format!("-{sig}"), &child.id().to_string()])
            .status()
            .unwrap();
        let ended = eventually(Duration::from_secs(15), || {
            matches!(child.try_wait(), Ok(Some(_)))
        });
        let _ = child.kill();
        let code = child.wait().unwrap().code();
        // `--json` prints its document at the end.
        seen.extend(rx.iter());
        let errors = errors.join().unwrap();
        let left: Vec<u32> = ["a", "b"].iter().flat_map(|n| compose_in(n)).collect();
        for pid in &left {
            let _ = Command::new("kill").arg(pid.to_string()).status();
        }
        assert!(
            both,
            "tta {args:?} never ran compose in both repositories at once"
        );
        for w in words {
            assert!(
                seen.iter().any(|l| l.contains(w)),
                "tta {args:?} never showed {w}; it showed {seen:#?}"
            );
        }
        assert!(ended, "tta {args:?} did not end on SIG{sig}");
        assert_eq!(code, Some(130), "tta {args:?} after SIG{sig}: {errors}");
        if args[0] != "--json" {
            let ended_in = format!(
                "interrupted: compose logs ended in {}, {}",
                r.repo("a"),
                r.repo("b")
            );
            assert!(errors.contains(&ended_in), "{errors}");
        }
        assert!(left.is_empty(), "compose logs left behind: {left:?}");
    }
}

/// A unix socket that accepts connections and never answers.
fn silent_engine(dir: &Path) -> String {
    let path = dir.join("silent.sock");
    let listener = std::os::unix::net::UnixListener::bind(&path).unwrap();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for c in listener.incoming().flatten() {
            held.push(c);
        }
    });
    format!("unix://{}", path.display())
}

#[test]
fn the_run_timeout_holds_when_the_engine_never_answers() {
    // Needs only the docker and compose programs, not an engine.
    if Command::new("docker").arg("--version").output().is_err()
        || Command::new("docker-compose")
            .arg("version")
            .output()
            .is_err()
    {
        eprintln!("SKIPPED: docker or docker-compose is not installed");
        return;
    }
    let s = Stack::new("repositories:\n  r: { path: r }\n");
    s.write("r/compose.yaml", "services:\n  s: { image: x }\n");
    let host = silent_engine(s.path());
    let s = s.env("DOCKER_HOST", &host);
    for cmd in ["start", "stop"] {
        let t = Instant::now();
        let run = s.tta(&[cmd, "--timeout", "2s"]);
        let took = t.elapsed();
        assert!(
            took < Duration::from_secs(6),
            "`tta {cmd} --timeout 2s` took {took:?}: {}",
            run.stderr
        );
        run.code(3).stderr_has("did not finish within");
    }
}

/// `tta ARGS`, killed (and the test failed) if it runs longer than `limit`.
fn bounded(s: &Stack, args: &[&str], limit: Duration) -> crate::harness::Run {
    let mut child = s
        .command(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let t = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if t.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("`tta {}` hung for over {limit:?}", args.join(" "));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    crate::harness::Run::from(child.wait_with_output().unwrap())
}

#[test]
fn a_hostile_dotenv_never_hangs_a_command() {
    let s = Stack::new("repositories:\n  r: { path: r }\n");
    s.write("r/compose.yaml", "services:\n  s: { image: x }\n");
    assert!(
        Command::new("mkfifo")
            .arg(s.path().join("r/.env"))
            .status()
            .unwrap()
            .success()
    );
    let limit = Duration::from_secs(10);
    bounded(&s, &["config", "validate"], limit)
        .code(2)
        .stderr_has("cannot read env file r/.env: not a regular file");
    // `tta stop` goes on without the repository (exit 3 only when no engine answers).
    let stop = bounded(&s, &["stop"], limit);
    assert!(matches!(stop.code, 0 | 3), "{stop:?}");
    stop.stderr_has("not a regular file");
    std::fs::remove_file(s.path().join("r/.env")).unwrap();
    std::os::unix::fs::symlink("/dev/zero", s.path().join("r/.env")).unwrap();
    bounded(&s, &["config", "validate"], limit)
        .code(2)
        .stderr_has("not a regular file");
    std::fs::remove_file(s.path().join("r/.env")).unwrap();
    let f = std::fs::File::create(s.path().join("r/.env")).unwrap();
    f.set_len(3 * 1024 * 1024 * 1024).unwrap(); // sparse: 3 GiB without the disk
    bounded(&s, &["config", "validate"], limit)
        .code(2)
        .stderr_has("more than the 1048576 read at most");
}

#[test]
fn down_removes_what_stop_leaves_and_volumes_only_when_asked() {
    if !engine_ready() {
        return;
    }
    let r = Real::new(
        &[(
            "a",
            "services:
  db: { image: IMAGE, command: [sleep, '3600'], init: true, volumes: ['data:/data'] }
  web: { image: IMAGE, command: [sleep, '3600'], init: true, depends_on: [db] }
volumes:
  data: {}
",
        )],
        "",
    );
    let s = &r.stack;
    let a = r.repo("a");
    let volumes = || {
        docker(&["volume", "ls", "--format", "{{.Name}}"])
            .1
            .lines()
            .filter(|v| v.starts_with(&a))
            .count()
    };
    let networks = || {
        docker(&["network", "ls", "--format", "{{.Name}}"])
            .1
            .lines()
            .filter(|n| n.starts_with(&a))
            .count()
    };
    s.tta(&["start"]).ok();
    // One service: its dependents go first, as with stop; what it depends on stays.
    s.tta(&["down", &format!("{a}/web")])
        .ok()
        .stderr_has("removed (compose rm -f -- web)");
    let services: Vec<String> = r.containers().into_iter().map(|c| c.1).collect();
    assert_eq!(services, ["db"], "web removed, db kept");
    assert_eq!(r.running("db"), 1);
    // Everything: no container, no network; the named volume is kept...
    s.tta(&["down"]).ok();
    assert!(r.containers().is_empty(), "{:?}", r.containers());
    assert_eq!(networks(), 0);
    assert_eq!(volumes(), 1, "a plain down keeps named volumes");
    // ...unless asked.
    s.tta(&["start"]).ok();
    let j = s.tta(&["--json", "down", "--volumes"]);
    j.ok();
    assert_eq!(j.json()["removed"][0]["success"], true);
    assert!(r.containers().is_empty());
    assert_eq!(volumes(), 0, "down --volumes removes them");
    // And down twice is a no-op that succeeds.
    s.tta(&["down"]).ok();
}

#[test]
fn start_build_rebuilds_and_recreates_only_when_asked() {
    if !engine_ready() {
        return;
    }
    let r = Real::new(
        &[(
            "a",
            "services:
  app: { build: ., command: [sleep, '3600'], init: true }
",
        )],
        "",
    );
    let s = &r.stack;
    let dockerfile = |v: &str| {
        s.write(
            "a/Dockerfile",
            &format!("FROM {IMAGE}\nRUN echo {v} > /version\n"),
        );
    };
    let version = || docker(&["exec", &r.id("app"), "cat", "/version"]).1;
    dockerfile("v1");
    s.tta(&["start"]).ok();
    assert_eq!(version(), "v1");
    let first = r.id("app");
    dockerfile("v2");
    s.tta(&["start"]).ok();
    assert_eq!(
        version(),
        "v1",
        "a plain start leaves a running service alone"
    );
    s.tta(&["start", "--build"]).ok();
    assert_eq!(
        version(),
        "v2",
        "--build rebuilt the image and recreated the container"
    );
    assert_ne!(r.id("app"), first);
    let (_, images) = docker(&["images", "--format", "{{.Repository}}"]);
    for image in images.lines().filter(|i| i.starts_with(&r.repo("a"))) {
        docker(&["rmi", "-f", image]);
    }
}

#[test]
fn exec_gets_a_terminal_only_when_there_is_one() {
    if !engine_ready() {
        return;
    }
    let r = Real::new(
        &[(
            "a",
            "services:\n  db: { image: IMAGE, command: [sleep, '3600'], init: true }\n",
        )],
        "",
    );
    let s = &r.stack;
    s.tta(&["start"]).ok();
    // A script, CI: no terminal, so none is asked for (compose v1 would refuse).
    let piped = s.tta(&["compose", "exec", "db", "sh", "-c", "tty; echo done"]);
    piped.ok().stdout_has("not a tty").stdout_has("done");
    // A terminal (a pseudo-terminal made by `script`): compose allocates one.
    let tta = crate::harness::tta_bin().display().to_string();
    let pty = Command::new("script")
        .args([
            "-qec",
            &format!("{tta} compose exec db sh -c 'tty; echo done'"),
            "/dev/null",
        ])
        .current_dir(s.path())
        .stdin(Stdio::null())
        .output()
        .expect("script(1) from util-linux");
    let text = String::from_utf8_lossy(&pty.stdout);
    assert!(pty.status.success(), "{text}");
    assert!(text.contains("/dev/pts/"), "no terminal inside: {text}");
}

#[test]
fn doctor_names_missing_images_and_published_ports_held_by_others() {
    if !engine_ready() {
        return;
    }
    let holder = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = holder.local_addr().unwrap().port();
    let r = Real::new(
        &[(
            "a",
            &format!(
                "services:\n  web: {{ image: IMAGE, command: [sleep, '3600'], ports: ['127.0.0.1:{port}:80'] }}\n  gone: {{ image: 'tta-e2e/not-here:1.0', command: [sleep, '1'] }}\n"
            ),
        )],
        "",
    );
    let d = r.stack.tta(&["--json", "doctor"]);
    d.code(1);
    let v = d.json();
    let check = |name: &str| {
        v["checks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["check"] == name)
            .unwrap_or_else(|| panic!("no {name} check: {v}"))
            .clone()
    };
    let ports = check("published ports");
    assert_eq!(ports["status"], "failed");
    assert!(
        ports["detail"].as_str().unwrap().contains(&format!(
            "port {port}, which is already in use by pid {}",
            std::process::id()
        )),
        "{ports}"
    );
    let images = check("images");
    assert_eq!(images["status"], "warn", "compose would pull it: {images}");
    assert!(
        images["detail"]
            .as_str()
            .unwrap()
            .contains("tta-e2e/not-here:1.0")
    );
    // With the port free, only the warning is left: doctor passes.
    drop(holder);
    let again = r.stack.tta(&["--json", "doctor"]);
    again.ok();
}
