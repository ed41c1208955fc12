//! `tta __keep` (hidden): the keeper of one started process or task.
//!
//! `tta start` runs it instead of the component; it runs the component (through
//! [`crate::process`], in a process group of its own, with the marker in its environment),
//! writes its record, and stays with it: every line the component writes goes to its log
//! with its time and stream ([`crate::state::journal`], rotated at the configured size), and
//! when the component exits its exit code goes to its record, whether or not the `tta` that
//! started it still runs. It tells that `tta` how the start went on stdout, one JSON line
//! per event: `{"started":{"pid":..,"start_ticks":..}}`, `{"error":".."}`,
//! `{"exited":{"code":..}}`. It leaves when the component has exited and its output has
//! ended. It is not in the component's process group and carries no marker: stopping the
//! component never signals it, and it never outlives the component's output.

use std::io::Write as _;
use std::os::unix::process::ExitStatusExt as _;
use std::path::PathBuf;
use std::sync::mpsc;

use clap::Parser;

use crate::error::{Result, exit};
use crate::process::tree::MARKER;
use crate::process::{LineTx, RunError, Sink, Spec, Stream, Waited};
use crate::state::journal::{Origin, Writer};
use crate::state::{Record, StateDir, now_epoch};

/// The first argument that makes `tta` a keeper.
pub(crate) const COMMAND: &str = "__keep";

/// `tta __keep`.
#[derive(Debug, Parser)]
#[command(
    name = "tta __keep",
    about = "The keeper of one started component (run by `tta start`)."
)]
pub(crate) struct KeepArgs {
    /// The state directory.
    #[arg(long)]
    pub state: PathBuf,
    /// The component.
    #[arg(long)]
    pub name: String,
    /// `process` or `task` (for the log's header).
    #[arg(long)]
    pub kind: String,
    /// The working directory.
    #[arg(long)]
    pub cwd: PathBuf,
    /// The marker its processes carry.
    #[arg(long)]
    pub marker: String,
    /// The config file that started it.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// The fingerprint of its spec.
    #[arg(long)]
    pub spec: String,
    /// Rotate the log at this many bytes.
    #[arg(long)]
    pub log_max: u64,
    /// Keep this many rotated logs.
    #[arg(long)]
    pub log_keep: u32,
    /// What to run.
    #[arg(last = true, required = true)]
    pub argv: Vec<String>,
}

fn tell(event: &serde_json::Value) {
    let mut o = std::io::stdout().lock();
    let _ = writeln!(o, "{event}");
    let _ = o.flush();
}

/// How long the keeper waits for a component's last lines before telling it exited.
const OUTPUT_SETTLE: std::time::Duration = std::time::Duration::from_millis(500);

/// `tta __keep ...`: every way it can fail before its component runs is told to the `tta`
/// that started it, which reports it as the component's failure.
pub(crate) fn main() -> u8 {
    let args = match KeepArgs::try_parse_from(std::env::args_os().skip(1)) {
        Ok(a) => a,
        Err(e) => {
            tell(&serde_json::json!({ "error": format!("tta __keep: {e}") }));
            return exit::USAGE;
        }
    };
    match run(&args) {
        Ok(code) => code,
        Err(e) => {
            tell(&serde_json::json!({ "error": crate::error::render(&e) }));
            exit::FAILED
        }
    }
}

/// Runs the keeper: the component, its log and its record, until both are done.
fn run(args: &KeepArgs) -> Result<u8> {
    // A closed terminal or a Ctrl-C meant for the `tta` that started it is not for the
    // keeper: it goes when its component's output ends.
    for sig in [signal_hook::consts::SIGHUP, signal_hook::consts::SIGINT] {
        let _ = signal_hook::flag::register(sig, std::sync::Arc::default());
    }
    let state = StateDir::new(&args.state);
    state.ensure()?;
    let path = state.log_path(&args.name);
    let mut log = Writer::open(&path, args.log_max, args.log_keep)
        .map_err(|e| crate::error::Error::io("open", &path, e))?;
    let header = format!(
        "=== tta: {} {} at {:.3}: {} ===",
        args.kind,
        args.name,
        now_epoch(),
        args.argv.join(" ")
    );
    let _ = log.write(Origin::Tta, header.as_bytes(), true);
    let (tx, rx) = mpsc::channel();
    let spec = Spec::new(args.argv.clone())
        .cwd(&args.cwd)
        .envs([(MARKER, args.marker.as_str())])
        .stdout(Sink::Lines(LineTx::new(tx.clone(), 0)))
        .stderr(Sink::Lines(LineTx::new(tx, 0)));
    let child = match spec.spawn() {
        Ok(c) => c,
        Err(e) => {
            let why = match e {
                RunError::NotFound(_) => format!("command `{}` not found", args.argv[0]),
                other => other.to_string(),
            };
            let _ = log.write(Origin::Tta, format!("tta: {why}").as_bytes(), true);
            tell(&serde_json::json!({ "error": why }));
            return Ok(exit::FAILED);
        }
    };
    drop(spec);
    let record = Record {
        pid: child.pid(),
        start_ticks: child.start_ticks(),
        started_at: now_epoch(),
        command: args.argv.clone(),
        exit_code: None,
        finished_at: None,
        marker: Some(args.marker.clone()),
        config: args.config.clone(),
        spec: Some(args.spec.clone()),
        keeper: Some((
            std::process::id(),
            crate::process::stat::start_ticks(std::process::id()),
        )),
        signal: None,
    };
    if let Err(e) = state.write(&args.name, &record) {
        child.end(crate::process::Kill::Now, None);
        tell(
            &serde_json::json!({ "error": format!("cannot record the process: {}", crate::error::render(&e)) }),
        );
        return Ok(exit::FAILED);
    }
    tell(
        &serde_json::json!({ "started": { "pid": record.pid, "start_ticks": record.start_ticks } }),
    );
    keep(args, &state, &child, rx, log, record);
    Ok(exit::OK)
}

/// Writes the component's lines to its log until its output ends; when it exits, records
/// its exit code (if the record is still its own) and tells.
fn keep(
    args: &KeepArgs,
    state: &StateDir,
    child: &crate::process::Child,
    rx: mpsc::Receiver<crate::process::Line>,
    mut log: Writer,
    mut record: Record,
) {
    let (done_tx, done_rx) = mpsc::channel::<()>();
    std::thread::scope(|s| {
        s.spawn(move || {
            for line in rx {
                let origin = match line.stream {
                    Stream::Stdout => Origin::Stdout,
                    Stream::Stderr => Origin::Stderr,
                };
                let newline = line.newline;
                let _ = log.write(origin, &line.into_written(), newline);
            }
            drop(done_tx);
        });
        let Waited::Exited(status) = child.wait(None, None) else {
            unreachable!("a wait without deadline or cancel ends in an exit")
        };
        // Its last lines are in the log before anyone is told it exited (unless what it
        // started holds its output open: then the log goes on after).
        let _ = done_rx.recv_timeout(OUTPUT_SETTLE);
        let (code, signal) = (status.code(), status.signal());
        // The record may have been removed (a stop) or replaced (a new start): only ours
        // gets the exit code.
        if let Ok(Some(now)) = state.read(&args.name)
            && now.marker == record.marker
        {
            record.exit_code = Some(code.or_else(|| signal.map(|s| 128 + s)).unwrap_or(-1));
            record.signal = signal;
            record.finished_at = Some(now_epoch());
            let _ = state.write(&args.name, &record);
        }
        tell(&serde_json::json!({ "exited": { "code": code, "signal": signal } }));
    });
}
