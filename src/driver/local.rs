//! The driver of local components: `process` (long-running, left running in the
//! background) and `task` (one-shot; success is exit 0).
//!
//! A started process outlives the `tta` run that started it: it leads its own process group
//! with stdin closed, output appended to its log and a marker in its environment (spawned
//! through [`crate::process`]). Its record in the state directory says which config started
//! it and from which spec, and lets a later run find everything it left running (its group,
//! and processes that left the group but carry the marker; see [`crate::process::tree`]),
//! check each is provably ours, and stop all of it. The record, not the configuration, says
//! what to stop, so this holds however the configuration changed since.
//!
//! A component whose start failed is stopped (nothing half-started is left) and its failure
//! is kept until it starts again or is stopped, so `tta status` says why.

use std::collections::HashMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use super::types::{ActionError, Driver, Ended, Failure, Observation, Poll, Status, StopOutcome};
use crate::cancel::{Cancel, Level};
use crate::config::model::{ComponentSpec, Config, Kind, ProbeCheck};
use crate::graph::{Graph, NodeId};
use crate::process::tree::{MARKER, Remains, Table, Tree, new_marker};
use crate::process::{Child, Group, Kill, Line, LineTx, RunError, Sink, Spec, Stdin, Stream, stat};
use crate::state::journal::{Origin, Writer};
use crate::state::{LastFailure, Record, StateDir, log, now_epoch};

/// A process without a probe counts as running once it has stayed up this long, so that a
/// command that fails at once (a typo, a missing file) is reported as failed, not started.
/// With a probe, the probe decides (and a crash is still seen at every poll).
pub(super) const SETTLE: Duration = Duration::from_millis(100);

/// How many log lines a failure report carries.
pub(crate) const TAIL_LINES: usize = 10;

struct Spawned {
    /// The component itself, or its keeper; shared with a supervisor's watch, which waits
    /// for its exit.
    child: Arc<Child>,
    at: Instant,
    /// With a keeper: what it tells (started, exited), and the exit it told of.
    events: Option<(mpsc::Receiver<Line>, Option<ExitTold>)>,
}

/// The program that keeps processes and tasks (this binary, for the CLI); without one (the
/// library), `tta` runs them directly with their output appended to their logs.
static KEEPER: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();

/// Runs processes and tasks under a keeper, `program __keep ...` (see `commands::keep`).
pub(crate) fn use_keeper(program: PathBuf) {
    let _ = KEEPER.set(program);
}

/// How long a keeper may take to say it started its component.
const KEEPER_HANDSHAKE: Duration = Duration::from_secs(10);

/// Runs local processes and tasks.
pub(super) struct Local {
    state: StateDir,
    base_dir: PathBuf,
    /// The config file these components come from (absolute), if any.
    config_file: Option<PathBuf>,
    names: Vec<String>,
    specs: Vec<Option<ComponentSpec>>,
    children: Mutex<HashMap<NodeId, Spawned>>,
    /// When a log is rotated (when a component starts or is looked at), and how many
    /// rotated files are kept.
    logs: crate::config::model::Logs,
}

/// A fingerprint of what a process is started from: command, environment, folder, probe.
fn fingerprint(spec: &ComponentSpec, cwd: &Path) -> String {
    let text = serde_json::to_string(&(spec.kind, &spec.command, &spec.env, cwd, &spec.probe))
        .expect("specs serialize");
    crate::hash::fingerprint(&text)
}

/// The loopback TCP port a probe waits on, if it waits on one of this host.
fn probe_port(check: &ProbeCheck) -> Option<(String, u16)> {
    let hostport = match check {
        ProbeCheck::Tcp(a) => a.clone(),
        ProbeCheck::Http { url, .. } => {
            let rest = url.split_once("://").map_or(url.as_str(), |(_, r)| r);
            let authority = rest.split(['/', '?', '#']).next().unwrap_or(rest);
            let host = authority.rsplit('@').next().unwrap_or(authority);
            if host
                .rsplit_once(':')
                .is_some_and(|(_, p)| p.parse::<u16>().is_ok())
            {
                host.to_owned()
            } else {
                format!("{host}:80")
            }
        }
        ProbeCheck::Exec(_) => return None,
    };
    let (host, port) = hostport.rsplit_once(':')?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let loopback =
        matches!(host, "localhost" | "127.0.0.1" | "::1" | "0.0.0.0") || host.starts_with("127.");
    Some((hostport.clone(), port.parse().ok()?)).filter(|_| loopback)
}

/// Whether something answers on a probe's address now (every address its host resolves to;
/// `0.0.0.0` means this host's loopback).
fn answers(addr: &str, port: u16) -> bool {
    use std::net::{SocketAddr, TcpStream, ToSocketAddrs as _};
    let addrs: Vec<SocketAddr> = if addr.starts_with("0.0.0.0:") {
        vec![SocketAddr::from(([127, 0, 0, 1], port))]
    } else {
        addr.to_socket_addrs()
            .map(Iterator::collect)
            .unwrap_or_default()
    };
    addrs
        .iter()
        .any(|a| TcpStream::connect_timeout(a, Duration::from_millis(200)).is_ok())
}

/// How a component ended: its exit code, or none when a signal ended it (or its keeper
/// went without saying).
#[derive(Debug, Clone, Copy)]
struct ExitTold(Option<i32>);

/// Whether the component of `sp` has exited, and with which code (`Some(None)`: a signal
/// ended it, or its keeper went without telling).
fn exited(sp: &mut Spawned) -> Option<ExitTold> {
    let Some((rx, told)) = &mut sp.events else {
        return Some(ExitTold(sp.child.status()?.code()));
    };
    let read = |told: &mut Option<ExitTold>, line: Line| {
        let v: serde_json::Value = serde_json::from_slice(&line.bytes).unwrap_or_default();
        if let Some(e) = v.get("exited") {
            *told = Some(ExitTold(
                e["code"].as_i64().and_then(|c| i32::try_from(c).ok()),
            ));
        }
    };
    while let Ok(line) = rx.try_recv() {
        read(told, line);
    }
    if told.is_none() && sp.child.status().is_some() {
        // The keeper has gone: what it said last may still be on its way.
        let until = Instant::now() + Duration::from_secs(1);
        while let Ok(line) = rx.recv_timeout(until.saturating_duration_since(Instant::now())) {
            read(told, line);
        }
        // Without a word about its component, the keeper was killed with it.
        told.get_or_insert(ExitTold(None));
    }
    *told
}

/// Waits (up to a second) for the keeper a record names to go: it leaves once its
/// component's output ends, and must not write the record after it is removed.
fn await_keeper(record: &Record) {
    let Some((pid, ticks)) = record.keeper else {
        return;
    };
    let until = Instant::now() + Duration::from_secs(1);
    while crate::process::group::is_ours(pid, ticks) && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// A foreground task's lines and the log they are copied to.
type Tee = (mpsc::Receiver<Line>, Writer);

/// Copies each line to tta's stdout or stderr (as its stream was) and to the log, until the
/// child's streams close.
fn tee(rx: mpsc::Receiver<Line>, mut log: Writer) {
    for line in rx {
        let (stream, newline) = (line.stream, line.newline);
        let mut bytes = line.into_written();
        let _ = log.write(origin(stream), &bytes, newline);
        if newline {
            bytes.push(b'\n');
        }
        let _ = match stream {
            Stream::Stdout => {
                let mut o = std::io::stdout().lock();
                o.write_all(&bytes).and_then(|()| o.flush())
            }
            Stream::Stderr => std::io::stderr().lock().write_all(&bytes),
        };
    }
}

/// The origin a stream's lines have in a log.
fn origin(stream: Stream) -> Origin {
    match stream {
        Stream::Stdout => Origin::Stdout,
        Stream::Stderr => Origin::Stderr,
    }
}

impl Local {
    /// A driver for the local components of `graph`, from the config file `config_file`.
    pub(super) fn new(config: &Config, graph: &Graph, config_file: Option<&Path>) -> Self {
        let specs = graph
            .names()
            .iter()
            .map(|n| {
                config
                    .components
                    .get(n)
                    .filter(|s| matches!(s.kind, Kind::Process | Kind::Task))
                    .cloned()
            })
            .collect();
        Self {
            state: StateDir::new(&config.state_dir),
            base_dir: config.base_dir.clone(),
            config_file: config_file
                .map(|p| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf())),
            names: graph.names().to_vec(),
            specs,
            children: Mutex::new(HashMap::new()),
            logs: config.logs,
        }
    }

    fn spec(&self, id: NodeId) -> &ComponentSpec {
        self.specs[id]
            .as_ref()
            .expect("the local driver is given local components only")
    }

    fn cwd(&self, id: NodeId) -> PathBuf {
        self.spec(id)
            .cwd
            .clone()
            .unwrap_or_else(|| self.base_dir.clone())
    }

    fn failure(&self, id: NodeId, message: String, exit_code: Option<i32>) -> Failure {
        Failure {
            message,
            exit_code,
            log_tail: self.state.log_tail(&self.names[id], TAIL_LINES),
            environment: None,
        }
    }

    /// Whether a record was made by another config file than this one that still exists (a
    /// record from before records named their config counts as this config's, and so does
    /// one whose config file is gone: the checkout or the file was moved).
    fn foreign(&self, r: &Record) -> Option<PathBuf> {
        r.config
            .clone()
            .filter(|c| Some(c) != self.config_file.as_ref() && c.is_file())
    }

    fn tree(r: &Record) -> Tree {
        Tree {
            pid: r.pid,
            start_ticks: r.start_ticks,
            marker: r.marker.clone(),
        }
    }

    /// Observes one component from its record.
    fn observe_one(&self, id: NodeId, table: &Table) -> Observation {
        let name = &self.names[id];
        let _ = log::rotate(
            &self.state.log_path(name),
            self.logs.max_size,
            self.logs.keep,
        );
        let record = match self.state.read(name) {
            Ok(Some(r)) => r,
            Ok(None) => return self.observe_stopped(id),
            Err(e) => return Observation::new(Status::Error, Some(e)),
        };
        if let Some(other) = self.foreign(&record) {
            return Observation::new(
                Status::Stopped,
                Some(format!(
                    "the state directory runs `{name}` for another config ({}, pid {}); this config leaves it alone",
                    other.display(),
                    record.pid
                )),
            );
        }
        let remains = Self::tree(&record).remains_in(table);
        let record = if remains.is_empty() && record.exit_code.is_none() {
            self.told_exit(name, record)
        } else {
            record
        };
        let mut o = self.judge(id, &record, &remains);
        o.since = Some(record.started_at);
        let now = fingerprint(self.spec(id), &self.cwd(id));
        if matches!(o.status(), Status::Running | Status::Starting)
            && record.spec.as_ref().is_some_and(|s| *s != now)
        {
            o.changed = true;
            let detail = o.detail.take().unwrap_or_default();
            o.detail = Some(
                format!("{detail}; changed since start")
                    .trim_start_matches("; ")
                    .to_owned(),
            );
        }
        o
    }

    /// The record of a component that has just ended, once its keeper (if it still runs)
    /// has written how it ended: for a moment after the exit, the keeper is writing it.
    fn told_exit(&self, name: &str, record: Record) -> Record {
        let Some((pid, ticks)) = record.keeper else {
            return record;
        };
        let until = Instant::now() + Duration::from_secs(1);
        while crate::process::group::is_ours(pid, ticks) && Instant::now() < until {
            std::thread::sleep(Duration::from_millis(10));
            if let Ok(Some(r)) = self.state.read(name)
                && r.marker == record.marker
                && r.exit_code.is_some()
            {
                return r;
            }
        }
        match self.state.read(name) {
            Ok(Some(r)) if r.marker == record.marker => r,
            _ => record,
        }
    }

    /// A component with no record: stopped, or failed at its last start.
    fn observe_stopped(&self, id: NodeId) -> Observation {
        match self.state.last_failure(&self.names[id]) {
            Some(f) => Observation {
                #[expect(clippy::cast_precision_loss, reason = "seconds since the epoch")]
                since: Some(f.at as f64),
                ..Observation::new(
                    Status::Error,
                    Some(format!("failed to start: {}", f.message)),
                )
            },
            None => Observation::new(Status::Stopped, None),
        }
    }

    /// The status a record and what still runs of it come to.
    fn judge(&self, id: NodeId, record: &Record, remains: &Remains) -> Observation {
        let name = &self.names[id];
        let task = self.spec(id).kind == Kind::Task;
        match (task, record.exit_code) {
            (true, Some(0)) if !remains.is_empty() => {
                let n = remains.others().len() + usize::from(remains.leader);
                let (s, verb) = if n == 1 { ("", "s") } else { ("es", "") };
                return Observation::new(
                    Status::Completed,
                    Some(format!(
                        "exited 0; {n} process{s} it started still run{verb} (`tta stop {name}` stops them)"
                    )),
                );
            }
            (true, Some(0)) => {
                return Observation::new(Status::Completed, Some("exited 0".to_owned()));
            }
            (true, Some(code)) => {
                return Observation::new(Status::Error, Some(format!("exited with code {code}")));
            }
            _ => {}
        }
        if remains.leader {
            let status = if task {
                Status::Starting
            } else {
                Status::Running
            };
            return Observation::new(status, Some(format!("pid {}", record.pid)));
        }
        if !remains.is_empty() {
            // The main process exited, but what it started runs on: a wrapper that
            // backgrounded the server, or a command that daemonized.
            let others = remains.others();
            let shown: Vec<String> = others.iter().take(5).map(u32::to_string).collect();
            return Observation::new(
                if task {
                    Status::Starting
                } else {
                    Status::Running
                },
                Some(format!(
                    "pid {} exited; {} process{} it started run{} on (pid {})",
                    record.pid,
                    others.len(),
                    if others.len() == 1 { "" } else { "es" },
                    if others.len() == 1 { "s" } else { "" },
                    shown.join(", ")
                )),
            );
        }
        if task {
            Observation::new(
                Status::Error,
                Some("did not finish (interrupted)".to_owned()),
            )
        } else if let Some(signal) = record.signal {
            Observation::new(
                Status::Error,
                Some(format!(
                    "was killed by signal {signal}; see `tta logs {name}`"
                )),
            )
        } else if let Some(code) = record.exit_code {
            Observation::new(
                Status::Error,
                Some(format!("exited with code {code}; see `tta logs {name}`")),
            )
        } else {
            Observation::new(
                Status::Error,
                Some(format!("exited unexpectedly; see `tta logs {name}`")),
            )
        }
    }

    fn finish_task(&self, id: NodeId, code: i32) {
        let name = &self.names[id];
        if let Ok(Some(mut r)) = self.state.read(name) {
            r.exit_code = Some(code);
            r.finished_at = Some(now_epoch());
            if let Err(e) = self.state.write(name, &r) {
                tracing::warn!(
                    "cannot record the result of {name}: {}",
                    crate::error::render(&e)
                );
            }
        }
    }

    /// Before a start: refuses what can only go wrong (another config's process under this
    /// name, a folder that is not there, a probe port something else already answers on).
    fn check_start(&self, id: NodeId, cwd: &Path) -> Result<(), String> {
        let name = &self.names[id];
        if let Ok(Some(r)) = self.state.read(name)
            && let Some(other) = self.foreign(&r)
            && !Self::tree(&r).remains().is_empty()
        {
            return Err(format!(
                "the state directory already runs `{name}` for another config ({}, pid {}); stop it there (`tta -c {} stop {name}`) or give this config its own `state_dir`",
                other.display(),
                r.pid,
                other.display()
            ));
        }
        if !cwd.is_dir() {
            return Err(format!(
                "working directory {} does not exist",
                cwd.display()
            ));
        }
        let Some((addr, port)) = self
            .spec(id)
            .probe
            .as_ref()
            .and_then(|p| probe_port(&p.check))
        else {
            return Ok(());
        };
        let busy = answers(&addr, port);
        if !busy {
            return Ok(());
        }
        let holder = stat::listener(port)
            .map(|(pid, cmd)| format!(" by pid {pid} (`{cmd}`)"))
            .unwrap_or_default();
        Err(format!(
            "port {port} is already in use{holder}, before {name} started, so its probe ({addr}) could not tell it is ready; stop what holds the port, or change {name}'s port"
        ))
    }

    /// The spec of a task run in the foreground, and where its lines come (when they are
    /// teed to tta's output and its log rather than the terminal's).
    fn foreground(
        &self,
        id: NodeId,
        cwd: &Path,
        marker: &str,
        terminal: bool,
    ) -> Result<(Spec, Option<Tee>), String> {
        let name = &self.names[id];
        let spec = self.spec(id);
        let argv = spec.command.as_ref().map(|c| c.argv()).unwrap_or_default();
        self.state.ensure().map_err(|e| crate::error::render(&e))?;
        let path = self.state.log_path(name);
        let mut log = Writer::open(&path, self.logs.max_size, self.logs.keep)
            .map_err(|e| format!("cannot open {}: {e}", path.display()))?;
        let header = format!(
            "=== tta: run {name} at {:.3}: {}{} ===",
            now_epoch(),
            argv.join(" "),
            if terminal {
                " (output on the terminal)"
            } else {
                ""
            }
        );
        let _ = log.write(Origin::Tta, header.as_bytes(), true);
        let base = Spec::new(argv)
            .cwd(cwd)
            .envs(spec.env.iter().map(|(k, v)| (k.clone(), v.clone())))
            .envs([(MARKER, marker)])
            .stdin(Stdin::Inherit);
        if terminal {
            let s = base
                .group(Group::Inherit)
                .stdout(Sink::Inherit)
                .stderr(Sink::Inherit);
            return Ok((s, None));
        }
        let (tx, rx) = mpsc::channel();
        let s = base
            .stdout(Sink::Lines(LineTx::new(tx.clone(), 0)))
            .stderr(Sink::Lines(LineTx::new(tx, 0)));
        Ok((s, Some((rx, log))))
    }

    /// Starts a component under its keeper and waits for the keeper to say it started.
    fn spawn_kept(
        &self,
        keeper: &Path,
        id: NodeId,
        cwd: &Path,
        marker: &str,
    ) -> Result<(Child, mpsc::Receiver<Line>), String> {
        let name = &self.names[id];
        let spec = self.spec(id);
        let argv = spec.command.as_ref().map(|c| c.argv()).unwrap_or_default();
        let mut args: Vec<String> = vec![keeper.display().to_string(), "__keep".into()];
        // `--key=value`: a value that starts with `-` stays a value.
        let mut opt = |k: &str, v: String| args.push(format!("{k}={v}"));
        opt("--state", self.state.root().display().to_string());
        opt("--name", name.clone());
        opt("--kind", spec.kind.as_str().to_owned());
        opt("--cwd", cwd.display().to_string());
        opt("--marker", marker.to_owned());
        opt("--spec", fingerprint(spec, cwd));
        opt("--log-max", self.logs.max_size.to_string());
        opt("--log-keep", self.logs.keep.to_string());
        if let Some(c) = &self.config_file {
            opt("--config", c.display().to_string());
        }
        args.push("--".into());
        args.extend(argv);
        let (tx, rx) = mpsc::channel();
        let child = Spec::new(args)
            .cwd(cwd)
            .envs(spec.env.iter().map(|(k, v)| (k.clone(), v.clone())))
            .stdout(Sink::Lines(LineTx::new(tx, 0)))
            .spawn()
            .map_err(|e| format!("cannot start the keeper of {name}: {e}"))?;
        let first = rx.recv_timeout(KEEPER_HANDSHAKE).ok();
        let v: serde_json::Value = first
            .and_then(|l| serde_json::from_slice(&l.bytes).ok())
            .unwrap_or_default();
        if v.get("started").is_some() {
            return Ok((child, rx));
        }
        child.end(Kill::Now, None);
        Err(v["error"].as_str().map_or_else(
            || format!("the keeper of {name} did not start it"),
            str::to_owned,
        ))
    }

    fn spawn(&self, id: NodeId, cwd: &Path, marker: &str) -> Result<Child, String> {
        let name = &self.names[id];
        let spec = self.spec(id);
        let argv = spec.command.as_ref().map(|c| c.argv()).unwrap_or_default();
        let path = self.state.log_path(name);
        // Written to directly from here on: an index from a keeper would no longer match.
        let _ = std::fs::remove_file(crate::state::log::index_path(&path));
        let _ = log::rotate(&path, self.logs.max_size, self.logs.keep);
        let mut log = self
            .state
            .open_log(name)
            .map_err(|e| crate::error::render(&e))?;
        let _ = writeln!(
            log,
            "=== tta: {} {name} at {:.3}: {} ===",
            spec.kind.as_str(),
            now_epoch(),
            argv.join(" ")
        );
        Spec::new(argv.clone())
            .cwd(cwd)
            .envs(spec.env.iter().map(|(k, v)| (k.clone(), v.clone())))
            .envs([(MARKER, marker)])
            .merged(Sink::File(Arc::new(log)))
            .spawn()
            .map_err(|e| match e {
                RunError::NotFound(_) => format!("command `{}` not found", argv[0]),
                other => other.to_string(),
            })
    }
}

impl Driver for Local {
    fn poll_interval(&self, _: NodeId) -> Duration {
        Duration::from_millis(10)
    }

    /// Observes components.
    fn observe(&self, ids: &[NodeId]) -> Vec<Observation> {
        // One look at the process table for all of them.
        let table = Table::read();
        ids.iter().map(|&id| self.observe_one(id, &table)).collect()
    }

    /// Spawns a component.
    fn start(&self, id: NodeId, _: &Cancel) -> Result<(), ActionError> {
        let name = &self.names[id];
        let cwd = self.cwd(id);
        let fail = |m: String| ActionError::permanent(self.failure(id, m, None));
        self.check_start(id, &cwd).map_err(fail)?;
        self.state.clear_failure(name);
        let marker = new_marker(name);
        if let Some(keeper) = KEEPER.get() {
            let (child, events) = self.spawn_kept(keeper, id, &cwd, &marker).map_err(fail)?;
            self.children.lock().expect("children lock").insert(
                id,
                Spawned {
                    child: Arc::new(child),
                    at: Instant::now(),
                    events: Some((events, None)),
                },
            );
            return Ok(());
        }
        let child = self.spawn(id, &cwd, &marker).map_err(fail)?;
        let record = Record {
            pid: child.pid(),
            start_ticks: child.start_ticks(),
            started_at: now_epoch(),
            command: self
                .spec(id)
                .command
                .as_ref()
                .map(|c| c.argv())
                .unwrap_or_default(),
            exit_code: None,
            finished_at: None,
            marker: Some(marker),
            config: self.config_file.clone(),
            spec: Some(fingerprint(self.spec(id), &cwd)),
            keeper: None,
            signal: None,
        };
        if let Err(e) = self.state.write(name, &record) {
            // Untracked, it could never be stopped: take it down again.
            child.end(Kill::Now, None);
            return Err(fail(format!(
                "cannot record the process: {}",
                crate::error::render(&e)
            )));
        }
        self.children.lock().expect("children lock").insert(
            id,
            Spawned {
                child: Arc::new(child),
                at: Instant::now(),
                events: None,
            },
        );
        Ok(())
    }

    /// How far a started component is.
    fn poll(&self, id: NodeId) -> Poll {
        let task = self.spec(id).kind == Kind::Task;
        let mut children = self.children.lock().expect("children lock");
        let Some(sp) = children.get_mut(&id) else {
            drop(children);
            // Started by an earlier run: trust the record.
            return match self.observe_one(id, &Table::read()).status() {
                Status::Running => Poll::Running,
                Status::Completed => Poll::Completed,
                Status::Starting => Poll::Pending(None),
                _ => Poll::Failed(self.failure(id, "is not running".into(), None)),
            };
        };
        let Some(ExitTold(code)) = exited(sp) else {
            if task || (sp.at.elapsed() < SETTLE && self.spec(id).probe.is_none()) {
                return Poll::Pending(None);
            }
            return Poll::Running;
        };
        let at = sp.at;
        drop(children);
        let how = code.map_or_else(
            || "was killed by a signal".to_owned(),
            |c| format!("exited with code {c}"),
        );
        if task {
            self.children.lock().expect("children lock").remove(&id);
            self.finish_task(id, code.unwrap_or(-1));
            if code == Some(0) {
                return Poll::Completed;
            }
            return Poll::Failed(self.failure(id, how, code));
        }
        if code == Some(0)
            && let Ok(Some(r)) = self.state.read(&self.names[id])
            && !Self::tree(&r).remains().is_empty()
        {
            // It handed over to what it started (a wrapper, a daemon): that runs on.
            if at.elapsed() < SETTLE && self.spec(id).probe.is_none() {
                return Poll::Pending(None);
            }
            return Poll::Running;
        }
        self.children.lock().expect("children lock").remove(&id);
        Poll::Failed(self.failure(id, format!("{how} before it was ready"), code))
    }

    /// Stops everything the component's record says it left running, and forgets it.
    fn stop(
        &self,
        id: NodeId,
        grace: Duration,
        cancel: &Cancel,
    ) -> Result<StopOutcome, ActionError> {
        let name = &self.names[id];
        self.state.clear_failure(name);
        let mine = self.children.lock().expect("children lock").remove(&id);
        let record = match self.state.read(name) {
            Ok(Some(r)) => r,
            Ok(None) => {
                // Spawned but never recorded: only our own child can be stopped.
                return Ok(match mine {
                    Some(sp) if sp.child.alive() => {
                        sp.child.end(Kill::Graceful(grace), Some(cancel));
                        StopOutcome::Stopped
                    }
                    _ => StopOutcome::AlreadyStopped,
                });
            }
            Err(e) => {
                tracing::warn!("{e}; removing it");
                let _ = self.state.remove(name);
                return Ok(StopOutcome::AlreadyStopped);
            }
        };
        if self.foreign(&record).is_some() {
            return Ok(StopOutcome::AlreadyStopped);
        }
        let (before, gone) = Self::tree(&record).terminate(grace, cancel);
        if !gone {
            return Err(ActionError::permanent(Failure::new(format!(
                "processes of {name} (group {}) survived SIGKILL",
                record.pid
            ))));
        }
        await_keeper(&record);
        self.state
            .remove(name)
            .map_err(|e| ActionError::permanent(Failure::new(crate::error::render(&e))))?;
        Ok(if before.is_empty() {
            StopOutcome::AlreadyStopped
        } else {
            StopOutcome::Stopped
        })
    }

    /// The last lines of a component's log.
    fn log_tail(&self, id: NodeId, n: usize) -> Vec<String> {
        self.state.log_tail(&self.names[id], n)
    }

    fn log_sources(&self, id: NodeId, _: &super::LogQuery) -> Vec<super::LogSource<'_>> {
        vec![super::LogSource::File(self.state.log_path(&self.names[id]))]
    }

    fn run(&self, id: NodeId, cancel: &Cancel) -> Result<Option<i32>, ActionError> {
        use std::io::IsTerminal as _;
        use std::os::unix::process::ExitStatusExt as _;
        let name = &self.names[id];
        let cwd = self.cwd(id);
        let fail = |m: String| ActionError::permanent(self.failure(id, m, None));
        if self.spec(id).kind != Kind::Task {
            return Err(fail(format!("`{name}` is not a task")));
        }
        self.check_start(id, &cwd).map_err(fail)?;
        self.state.clear_failure(name);
        let marker = new_marker(name);
        // On a terminal the task has it, as if run by hand (prompts, colours, Ctrl-C);
        // elsewhere its lines go to tta's output and to its log.
        let terminal = std::io::stdin().is_terminal() || std::io::stdout().is_terminal();
        let (spec, lines) = self.foreground(id, &cwd, &marker, terminal).map_err(fail)?;
        let child = spec.spawn().map_err(|e| fail(e.to_string()))?;
        drop(spec);
        let record = Record {
            pid: child.pid(),
            start_ticks: child.start_ticks(),
            started_at: now_epoch(),
            command: self
                .spec(id)
                .command
                .as_ref()
                .map(|c| c.argv())
                .unwrap_or_default(),
            exit_code: None,
            finished_at: None,
            marker: Some(marker),
            config: self.config_file.clone(),
            spec: Some(fingerprint(self.spec(id), &cwd)),
            keeper: None,
            signal: None,
        };
        if let Err(e) = self.state.write(name, &record) {
            child.end(Kill::Now, None);
            return Err(fail(format!(
                "cannot record the process: {}",
                crate::error::render(&e)
            )));
        }
        // The lines are copied while the task runs; the wait below is what a cancel ends.
        let copier = lines.map(|(rx, log)| std::thread::spawn(move || tee(rx, log)));
        let grace = Kill::Graceful(
            self.spec(id)
                .stop_timeout
                .unwrap_or(Duration::from_secs(10)),
        );
        let waited = child.wait(None, Some((cancel, crate::cancel::Level::Graceful)));
        let crate::process::Waited::Exited(status) = waited else {
            child.end(grace, Some(cancel));
            let _ = Self::tree(&record).terminate(Duration::ZERO, cancel);
            return Ok(None);
        };
        if let Some(c) = copier {
            let _ = c.join();
        }
        let code = status.code().or_else(|| status.signal().map(|s| 128 + s));
        self.finish_task(id, code.unwrap_or(-1));
        Ok(code)
    }

    fn stop_leftovers(
        &self,
        grace: Duration,
        cancel: &Cancel,
    ) -> Vec<(String, Result<StopOutcome, ActionError>)> {
        let mut out = Vec::new();
        for name in self.state.recorded() {
            if self.names.contains(&name) {
                continue;
            }
            let Ok(Some(record)) = self.state.read(&name) else {
                continue;
            };
            if self.foreign(&record).is_some() {
                continue;
            }
            let (before, gone) = Self::tree(&record).terminate(grace, cancel);
            let result = if gone {
                await_keeper(&record);
                let _ = self.state.remove(&name);
                self.state.clear_failure(&name);
                Ok(if before.is_empty() {
                    StopOutcome::AlreadyStopped
                } else {
                    StopOutcome::Stopped
                })
            } else {
                Err(ActionError::permanent(Failure::new(format!(
                    "processes of {name} (group {}) survived SIGKILL",
                    record.pid
                ))))
            };
            out.push((name, result));
        }
        out
    }

    fn note_failure(&self, id: NodeId, failure: &Failure) {
        self.state.note_failure(
            &self.names[id],
            &LastFailure::now(&failure.message, failure.exit_code),
        );
    }

    /// Waits for the component's main process to exit: our own child's exit rings its
    /// bell; a process another run started is waited for through the kernel
    /// ([`crate::process::exit`]). What it started may run on after it (a wrapper that
    /// backgrounded its server): then the rest of its tree is looked at once a second
    /// until it is gone too.
    fn watch(&self, id: NodeId, cancel: &Cancel) -> Ended {
        let name = &self.names[id];
        let Ok(Some(record)) = self.state.read(name) else {
            return Ended::NotRunning;
        };
        let own = self
            .children
            .lock()
            .expect("children lock")
            .get(&id)
            .map(|s| Arc::clone(&s.child))
            .filter(|c| c.pid() == record.pid);
        let (mut code, mut signal) = if let Some(child) = own {
            use std::os::unix::process::ExitStatusExt as _;
            match child.wait(None, Some((cancel, Level::Graceful))) {
                crate::process::Waited::Exited(status) => (status.code(), status.signal()),
                _ => return Ended::Cancelled,
            }
        } else if crate::process::exit::wait_gone(record.pid, record.start_ticks, cancel) {
            // Not our child (a keeper's, or an earlier run's): its keeper records how it
            // ended.
            let told = self.told_exit(name, record.clone());
            match told.signal {
                Some(s) => (None, Some(s)),
                None => (told.exit_code, None),
            }
        } else {
            return Ended::Cancelled;
        };
        let tree = Self::tree(&record);
        loop {
            if tree.remains().is_empty() {
                return Ended::Exited { code, signal };
            }
            // The main process exited but what it started runs on: a crash only once all
            // of it is gone (its exit code is not the component's end).
            (code, signal) = (None, None);
            if cancel.sleep(Duration::from_secs(1)) {
                return Ended::Cancelled;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probe_ports_on_this_host_are_found() {
        let tcp = |s: &str| probe_port(&ProbeCheck::Tcp(s.into())).map(|p| p.1);
        let http = |s: &str| {
            probe_port(&ProbeCheck::Http {
                url: s.into(),
                status: None,
            })
            .map(|p| p.1)
        };
        assert_eq!(tcp("127.0.0.1:7687"), Some(7687));
        assert_eq!(tcp("localhost:80"), Some(80));
        assert_eq!(tcp("[::1]:9000"), Some(9000));
        assert_eq!(tcp("db.example:5432"), None, "not this host");
        assert_eq!(http("http://127.0.0.1:8000/health"), Some(8000));
        assert_eq!(http("http://user:pw@localhost:8001/x?y#z"), Some(8001));
        assert_eq!(http("http://localhost/"), Some(80));
        assert_eq!(http("http://10.0.0.1:80/"), None);
    }
}
