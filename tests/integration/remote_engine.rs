//! A repository on an engine of another host, for real: a second dockerd of the test's own
//! listening on `tcp://127.0.0.2:<port>` (its own data and exec roots, no bridge, no
//! iptables rules, in a network namespace of its own so it never touches the main
//! engine's `docker0`), a docker context pointing at it, a repository using that context
//! with a host-network busybox service bound to `127.0.0.2` only, and a second repository
//! on the local engine depending on it.
//!
//! `tta` runs inside that namespace (`nsenter --net`): there `127.0.0.2` is the remote
//! engine's host, and the local engine is still its unix socket. A probe that reaches the
//! service went to `{engine_host}`: nothing answers on `127.0.0.1` at that port.
//!
//! Skips visibly without root, dockerd, `nsenter`/`unshare` or the test image (and fails
//! under `TTA_E2E=1`); removes every container, process and folder it made when dropped.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use rustix::process::{Pid, Signal, kill_process};

use crate::compose_e2e::{IMAGE, docker};
use crate::harness::{Run, Stack, eventually, tta_bin};

fn signal(pid: u32, sig: Signal) {
    if let Some(p) = Pid::from_raw(i32::try_from(pid).unwrap()) {
        let _ = kill_process(p, sig);
    }
}

/// Why the test cannot run here, if it cannot.
fn blocker() -> Option<String> {
    if !rustix::process::geteuid().is_root() {
        return Some("not root".into());
    }
    let ok = |cmd: &str, args: &[&str]| {
        Command::new(cmd)
            .args(args)
            .output()
            .is_ok_and(|o| o.status.success())
    };
    if !ok("dockerd", &["--version"]) {
        return Some("dockerd is not installed".into());
    }
    if !ok("unshare", &["--net", "true"]) || !ok("nsenter", &["--version"]) {
        return Some("`unshare --net` or `nsenter` cannot be used".into());
    }
    if !ok("ip", &["-V"]) {
        return Some("`ip` (iproute2) is not installed".into());
    }
    if !ok("docker-compose", &["version"]) && !ok("docker", &["compose", "version"]) {
        return Some("neither docker-compose nor the compose plugin works".into());
    }
    if !ok("docker", &["image", "inspect", IMAGE]) {
        return Some(format!(
            "the main engine has no {IMAGE} (run `scripts/engine.sh up`)"
        ));
    }
    None
}

/// The second engine: a dockerd on `tcp://127.0.0.2:PORT` in a network namespace of its
/// own, with `--debug` so its log shows every API call.
struct Remote {
    root: PathBuf,
    host: String,
    dockerd: Option<Child>,
    /// Its network namespace (`/proc/PID/ns/net` of dockerd, as a link text), so that
    /// every process left in it can be found.
    netns: String,
    netns_path: String,
    holder: Option<Child>,
}

impl Remote {
    fn start(port: u16) -> Self {
        let root = PathBuf::from(format!("/tmp/tta-remote-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(&root).unwrap();
        let host = format!("tcp://127.0.0.2:{port}");
        let log = std::fs::File::create(root.join("dockerd.log")).unwrap();
        let r = root.display();
        let script = format!(
            "ip link set lo up && exec dockerd --debug --host {host} --tls=false --data-root={r}/data --exec-root={r}/exec --pidfile={r}/d.pid --storage-driver=vfs --bridge=none --iptables=false"
        );
        let mut cmd = Command::new("unshare");
        cmd.args(["--net", "sh", "-c", &script])
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log);
        std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
        let child = cmd.spawn().unwrap();
        let pid = child.id();
        let netns_path = format!("/proc/{pid}/ns/net");
        let mut e = Self {
            root,
            host,
            dockerd: Some(child),
            netns: String::new(),
            netns_path,
            holder: None,
        };
        let answered = eventually(Duration::from_secs(30), || e.docker(&["info"]).0);
        assert!(answered, "the remote dockerd did not answer:\n{}", e.log());
        // Only now is dockerd surely in its own namespace (`unshare` had to switch first);
        // a namespace that is the test's own is never used to find processes to kill.
        let ns = |p: &str| {
            std::fs::read_link(p)
                .map(|l| l.display().to_string())
                .unwrap_or_default()
        };
        let theirs = ns(&e.netns_path);
        assert!(
            !theirs.is_empty() && theirs != ns("/proc/self/ns/net"),
            "the remote dockerd is not in a network namespace of its own"
        );
        e.netns = theirs;
        // A process that keeps the namespace (and its path) alive when dockerd is killed.
        let mut hold = Command::new("nsenter");
        hold.arg(format!("--net={}", e.netns_path))
            .args(["sleep", "3600"])
            .stdin(Stdio::null());
        std::os::unix::process::CommandExt::process_group(&mut hold, 0);
        let holder = hold.spawn().unwrap();
        let path = format!("/proc/{}/ns/net", holder.id());
        assert!(eventually(Duration::from_secs(5), || {
            std::fs::read_link(&path).is_ok_and(|l| l.display().to_string() == e.netns)
        }));
        e.netns_path = path;
        e.holder = Some(holder);
        e
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.root.join("dockerd.log")).unwrap_or_default()
    }

    /// `docker -H tcp://127.0.0.2:PORT ARGS`, in its namespace.
    fn docker(&self, args: &[&str]) -> (bool, String) {
        Command::new("nsenter")
            .arg(format!("--net={}", self.netns_path))
            .args(["docker", "-H", &self.host])
            .args(args)
            .output()
            .map_or((false, String::new()), |o| {
                (
                    o.status.success(),
                    String::from_utf8_lossy(&o.stdout).trim().to_owned(),
                )
            })
    }

    /// Copies the test image from the main engine.
    fn load_image(&self) {
        let mut save = Command::new("docker")
            .args(["save", IMAGE])
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let load = Command::new("nsenter")
            .arg(format!("--net={}", self.netns_path))
            .args(["docker", "-H", &self.host, "load"])
            .stdin(save.stdout.take().unwrap())
            .output()
            .unwrap();
        assert!(
            save.wait().unwrap().success() && load.status.success(),
            "cannot copy {IMAGE}: {}",
            String::from_utf8_lossy(&load.stderr)
        );
    }

    /// How many container lists (`GET /vX/containers/json`) its log shows so far.
    fn lists(&self) -> usize {
        self.log()
            .lines()
            .filter(|l| l.contains("Calling GET") && l.contains("/containers/json"))
            .filter(|l| {
                // `/containers/{id}/json` is an inspect, not a list.
                l.split("Calling GET ").nth(1).is_some_and(|p| {
                    p.split('?')
                        .next()
                        .unwrap_or(p)
                        .ends_with("/containers/json")
                })
            })
            .count()
    }

    /// SIGKILL to dockerd and its containerd: the engine stops answering at once.
    fn kill(&mut self) {
        if let Some(mut c) = self.dockerd.take() {
            signal(c.id(), Signal::KILL);
            let _ = c.wait();
        }
        if let Some(pid) = std::fs::read_to_string(self.root.join("exec/containerd/containerd.pid"))
            .ok()
            .and_then(|s| s.trim().parse::<u32>().ok())
        {
            signal(pid, Signal::KILL);
        }
    }
}

impl Drop for Remote {
    fn drop(&mut self) {
        if self.dockerd.is_some() {
            let (_, ids) = self.docker(&["ps", "-aq"]);
            if !ids.is_empty() {
                let mut args = vec!["rm", "-f"];
                args.extend(ids.lines());
                let _ = self.docker(&args);
            }
            if let Some(mut c) = self.dockerd.take() {
                signal(c.id(), Signal::TERM);
                let t = Instant::now();
                while c.try_wait().ok().flatten().is_none() && t.elapsed() < Duration::from_secs(15)
                {
                    std::thread::sleep(Duration::from_millis(50));
                }
                let _ = c.kill();
                let _ = c.wait();
            }
        }
        // Whatever it started (containerd, shims) names its root folder; whatever runs in
        // its namespace (containers left by a failed test) is found by the namespace.
        let root = self.root.display().to_string();
        for p in std::fs::read_dir("/proc")
            .unwrap()
            .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        {
            let cmdline = std::fs::read(format!("/proc/{p}/cmdline")).unwrap_or_default();
            let ns = std::fs::read_link(format!("/proc/{p}/ns/net"))
                .map(|l| l.display().to_string())
                .unwrap_or_default();
            let own = std::fs::read_link("/proc/self/ns/net")
                .map(|l| l.display().to_string())
                .unwrap_or_default();
            if String::from_utf8_lossy(&cmdline).contains(&root)
                || (!self.netns.is_empty() && ns == self.netns && ns != own)
            {
                signal(p, Signal::KILL);
            }
        }
        if let Some(mut h) = self.holder.take() {
            let _ = h.kill();
            let _ = h.wait();
        }
        std::thread::sleep(Duration::from_millis(200));
        let mounts = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
        let mut under: Vec<&str> = mounts
            .lines()
            .filter_map(|l| l.split(' ').nth(4))
            .filter(|m| m.starts_with(&root))
            .collect();
        under.sort_by_key(|m| std::cmp::Reverse(m.len()));
        for m in under {
            let _ = Command::new("umount").args(["-l", m]).status();
        }
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

/// Removes the local engine's containers of a project when dropped.
struct LocalProject(String);

impl Drop for LocalProject {
    fn drop(&mut self) {
        let (_, ids) = docker(&[
            "ps",
            "-aq",
            "--filter",
            &format!("label=com.docker.compose.project={}", self.0),
        ]);
        if !ids.is_empty() {
            let mut args = vec!["rm", "-f"];
            args.extend(ids.lines());
            docker(&args);
        }
        let (_, nets) = docker(&["network", "ls", "--format", "{{.Name}}"]);
        for n in nets.lines().filter(|n| n.starts_with(&self.0)) {
            docker(&["network", "rm", n]);
        }
    }
}

/// `tta ARGS` in the remote engine's network namespace, bounded.
fn tta_in(remote: &Remote, s: &Stack, args: &[&str]) -> Run {
    let plain = s.command(args);
    let mut cmd = Command::new("nsenter");
    cmd.arg(format!("--net={}", remote.netns_path))
        .arg("--")
        .arg(tta_bin())
        .args(args)
        .current_dir(s.path())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in plain.get_envs() {
        match v {
            Some(v) => cmd.env(k, v),
            None => cmd.env_remove(k),
        };
    }
    let mut child = cmd.spawn().unwrap();
    let t = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if t.elapsed() > Duration::from_secs(120) {
            let _ = child.kill();
            panic!("`tta {}` hung", args.join(" "));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Run::from(child.wait_with_output().unwrap())
}

fn row(v: &serde_json::Value, name: &str) -> serde_json::Value {
    v["components"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("{name} missing: {v}"))
        .clone()
}

/// Whether something accepts TCP connections at `addr`, seen from the namespace.
fn answers_in(remote: &Remote, addr: &str) -> bool {
    let (host, port) = addr.rsplit_once(':').unwrap();
    Command::new("nsenter")
        .arg(format!("--net={}", remote.netns_path))
        .args(["timeout", "2", "bash", "-c"])
        .arg(format!("exec 3<>/dev/tcp/{host}/{port}"))
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

#[test]
#[expect(clippy::too_many_lines, reason = "one scenario, told in order")]
fn a_repository_on_another_hosts_engine_starts_probes_stops_and_is_unknown_when_it_is_down() {
    if let Some(why) = blocker() {
        assert!(
            std::env::var("TTA_E2E").as_deref() != Ok("1"),
            "TTA_E2E=1 but the remote-engine test cannot run: {why}"
        );
        eprintln!(
            "SKIPPED: the remote-engine test needs root, dockerd, nsenter and {IMAGE} (set TTA_E2E=1 to make this a failure): {why}"
        );
        return;
    }
    let pid = std::process::id();
    let engine_port = u16::try_from(23_000 + pid % 2000).unwrap();
    let service_port = engine_port + 2000;
    let mut remote = Remote::start(engine_port);
    remote.load_image();

    let prefix = format!("rm{pid}");
    let context = format!("tta-remote-{pid}");
    let s = Stack::new(&format!(
        r#"defaults: {{ start_timeout: 60s, stop_timeout: 2s }}
repositories:
  {prefix}far: {{ path: far, context: {context} }}
  {prefix}near: {{ path: near, project_name: {prefix}near }}
components:
  graph:
    repository: {prefix}far
    service: graph
    probe: {{ tcp: "{{engine_host}}:{service_port}", interval: 100ms }}
  app:
    repository: {prefix}near
    service: app
    depends_on: [graph]
"#
    ));
    s.write(
        "far/compose.yaml",
        &format!(
            "services:\n  graph:\n    image: {IMAGE}\n    network_mode: host\n    init: true\n    command: [sh, -c, 'echo serving on 127.0.0.2; exec httpd -f -p 127.0.0.2:{service_port} -h /www']\n    healthcheck: {{ test: [CMD, wget, -q, -O-, 'http://127.0.0.2:{service_port}/'], interval: 1s, timeout: 1s, retries: 30 }}\n"
        ),
    );
    s.write(
        "near/compose.yaml",
        &format!("services:\n  app: {{ image: {IMAGE}, command: [sleep, '3600'], init: true, restart: unless-stopped }}\n"),
    );
    // A docker CLI configuration of the test's own, with the context in its store, as
    // `docker context create` writes it.
    let config = s.path().join("docker-config");
    std::fs::create_dir_all(&config).unwrap();
    let created = Command::new("docker")
        .env("DOCKER_CONFIG", &config)
        .args(["context", "create", &context, "--docker"])
        .arg(format!("host={}", remote.host))
        .output()
        .unwrap();
    assert!(created.status.success(), "{created:?}");
    let s = s.env("DOCKER_CONFIG", &config.display().to_string());
    let _local = LocalProject(format!("{prefix}near"));

    // Start: the remote service first (its probe through {engine_host}), then the local
    // one that depends on it.
    let r = tta_in(&remote, &s, &["-v", "start"]);
    r.ok().stderr_has("through the Engine API");
    assert!(
        r.stderr.contains("127.0.0.2") && r.stderr.contains(&context),
        "-v names the remote engine and how it was found:\n{}",
        r.stderr
    );
    let (_, running) = remote.docker(&["ps", "--format", "{{.Names}}"]);
    assert!(
        running.contains("graph"),
        "the remote engine runs graph: {running}"
    );
    // The service listens on 127.0.0.2 only: the probe went to the engine's host.
    assert!(answers_in(&remote, &format!("127.0.0.2:{service_port}")));
    assert!(!answers_in(&remote, &format!("127.0.0.1:{service_port}")));

    // Status: one list per engine, both reported.
    let before = remote.lists();
    let st = tta_in(&remote, &s, &["--json", "status"]);
    st.ok();
    let v = st.json();
    assert_eq!(row(&v, "graph")["status"], "running");
    assert_eq!(row(&v, "graph")["health"], "healthy");
    assert_eq!(row(&v, "app")["status"], "running");
    assert!(
        row(&v, "graph")["endpoints"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e == &format!("127.0.0.2:{service_port}")),
        "the probe's address, resolved: {v}"
    );
    assert_eq!(
        remote.lists() - before,
        1,
        "one container list of the remote engine per status"
    );

    // Logs and `tta compose` work against that engine.
    tta_in(&remote, &s, &["logs", "graph"])
        .ok()
        .stdout_has("serving on 127.0.0.2");
    tta_in(
        &remote,
        &s,
        &["compose", "--repo", &format!("{prefix}far"), "ps"],
    )
    .ok()
    .stdout_has("graph");

    // A probe written for this machine is a warning that says what to write.
    let loopback = s.read("tta.yaml").replace("{engine_host}", "127.0.0.1");
    s.write("tta.yaml", &loopback);
    tta_in(&remote, &s, &["status", "graph"])
        .stderr_has("its engine is on another host")
        .stderr_has(&format!("write `{{engine_host}}:{service_port}`"));
    let doctor = tta_in(&remote, &s, &["doctor"]);
    doctor
        .stdout_has("✗ probe")
        .stdout_has(&format!("✓ engine of {prefix}far"))
        .stdout_has("tcp://127.0.0.2");
    let restored = loopback.replace(
        &format!("127.0.0.1:{service_port}"),
        &format!("{{engine_host}}:{service_port}"),
    );
    s.write("tta.yaml", &restored);

    // Stop: both engines.
    tta_in(&remote, &s, &["stop"]).ok();
    let (_, running) = remote.docker(&["ps", "-q"]);
    assert!(running.is_empty(), "still running remotely: {running}");
    assert!(!answers_in(&remote, &format!("127.0.0.2:{service_port}")));

    // The local one runs again; the remote engine goes down.
    tta_in(&remote, &s, &["start", "app", "--no-deps"]).ok();
    remote.kill();
    let st = tta_in(&remote, &s, &["--json", "status"]);
    st.code(1);
    let v = st.json();
    let graph = row(&v, "graph");
    assert_eq!(graph["status"], "unknown", "{graph}");
    assert!(
        graph["detail"]
            .as_str()
            .unwrap()
            .starts_with("engine unreachable"),
        "{graph}"
    );
    assert_eq!(
        row(&v, "app")["status"],
        "running",
        "the rest is still reported"
    );
    let table = tta_in(&remote, &s, &["status"]);
    table.code(1).stdout_has("unknown");
    tta_in(&remote, &s, &["stop", "app"]).ok();
}
