//! `tta logs`: the logs of components as compose shows its services' — every component
//! (or those named) interleaved by time, each line after its component's name in a colour
//! of its own; `--follow` goes on with what any of them writes, local processes and
//! containers of several repositories alike, until Ctrl-C.
//!
//! A local component's log is the file its keeper writes, with each line's time and stream
//! beside it ([`crate::state::journal`]); a compose service's is the log of each of its
//! containers, read through its engine with each line's time and stream
//! ([`crate::driver::LogSource`]). `--json` gives JSON Lines (`{component, stream, time,
//! line}`).

use std::collections::HashMap;
use std::sync::mpsc;
use std::time::{Duration, SystemTime};

use crate::cli::LogsArgs;
use crate::config::model::Kind;
use crate::driver::{ContainerLog, LogLine, LogQuery, LogSource, Stream};
use crate::error::{Error, Result, exit};
use crate::graph::NodeId;
use crate::orchestrator::Orchestrator;
use crate::output::Output;
use crate::runner::{Cancel, signals};
use crate::state::journal::{self, Entry, Origin};

/// How many lines each component shows when neither `-n` nor `--since` says.
const DEFAULT_LINES: usize = 50;

/// How often followed log files are looked at.
const FILE_POLL: Duration = Duration::from_millis(100);

/// How long after a followed container's log ends (it stopped, or was replaced) its
/// component is looked up again.
const REATTACH: Duration = Duration::from_secs(1);

/// One line to show.
#[derive(Debug)]
struct Shown {
    /// Index into the labels.
    who: usize,
    time: Option<SystemTime>,
    origin: Option<Origin>,
    bytes: Vec<u8>,
}

/// Prints logs.
pub(crate) fn run(config: Option<&std::path::Path>, args: &LogsArgs, out: &Output) -> Result<u8> {
    let orch = Orchestrator::load(config)?;
    let ids = targets(&orch, &args.names)?;
    let since = args.since.as_deref().map(parse_since).transpose()?;
    let tail = match (args.lines, since) {
        (Some(n), _) => Some(n),
        (None, Some(_)) => None,
        (None, None) => Some(DEFAULT_LINES),
    };
    let query = LogQuery {
        tail,
        since,
        follow: false,
    };
    let cancel = Cancel::new();
    signals::install(&cancel);
    let fetched_at = SystemTime::now();
    let mut view = View::new(out, args.timestamps);
    let mut sources = Vec::new();
    for &id in &ids {
        for source in orch.log_sources(id, &query) {
            sources.push((id, source));
        }
    }
    // Local logs are followed from before they are read, so nothing written meanwhile is
    // lost (what was read already is not shown twice: see `Follow::file`).
    let mut followers: Vec<(usize, journal::Follower)> = Vec::new();
    let mut lines = Vec::new();
    let mut found = vec![false; ids.len()];
    for (id, source) in &sources {
        let name = orch.graph().name(*id);
        let slot = ids.iter().position(|i| i == id).unwrap_or(0);
        match source {
            LogSource::File(path) => {
                let who = view.label(name);
                if args.follow {
                    followers.push((who, journal::Follower::new(path)));
                }
                if path.exists() {
                    found[slot] = true;
                }
                lines.extend(read_file(path, &query).into_iter().map(|e| shown(who, e)));
            }
            LogSource::Container { label, log } => {
                let who = view.label(label);
                found[slot] = true;
                match read_container(who, log, &cancel) {
                    Ok(got) => lines.extend(got),
                    Err(why) => out.info(&format!("{label}: cannot read its log: {why}")),
                }
            }
        }
    }
    for (slot, &id) in ids.iter().enumerate() {
        if !found[slot] {
            out.info(&no_log(&orch, id));
        }
    }
    // By time; lines without one (a log from before times were kept) first, in order.
    lines.sort_by_key(|l| l.time);
    for line in &lines {
        if !view.show(line) {
            return Ok(exit::OK);
        }
    }
    if cancel.is_cancelled() {
        return Ok(exit::INTERRUPTED);
    }
    if !args.follow {
        let named_but_empty = !args.names.is_empty() && !found.contains(&true);
        return Ok(if named_but_empty {
            exit::FAILED
        } else {
            exit::OK
        });
    }
    let last = last_times(&lines);
    let follow = Follow {
        orch: &orch,
        ids: &ids,
        cancel: &cancel,
        since: since.unwrap_or(fetched_at),
    };
    Ok(follow.run(&mut view, followers, &last))
}

/// The components to show: those named, or every one that can have a log.
fn targets(orch: &Orchestrator, names: &[String]) -> Result<Vec<NodeId>> {
    let g = orch.graph();
    if names.is_empty() {
        return Ok((0..g.len())
            .filter(|&id| g.kind(id) != Kind::External)
            .collect());
    }
    let mut ids = Vec::new();
    for name in names {
        let id = g.resolve(name)?;
        if g.kind(id) == Kind::External {
            return Err(Error::usage(
                format!(
                    "`{}` is external: tta does not run it, so it has no log here",
                    g.name(id)
                ),
                Some(format!(
                    "`tta status {}` shows what its probe says",
                    g.name(id)
                )),
            ));
        }
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    Ok(ids)
}

/// Why a component shows nothing.
fn no_log(orch: &Orchestrator, id: NodeId) -> String {
    let name = orch.graph().name(id);
    match orch.graph().kind(id) {
        Kind::Compose => format!("{name} has no container; it has not been started"),
        _ => format!("{name} has no log yet; it has not been started"),
    }
}

/// `--since`: a duration back from now (`10m`, `1h30m`) or a time (RFC 3339, `2026-12-01
/// 09:30:00` in UTC).
fn parse_since(text: &str) -> Result<SystemTime> {
    if let Ok(d) = humantime::parse_duration(text.trim()) {
        return Ok(SystemTime::now()
            .checked_sub(d)
            .unwrap_or(SystemTime::UNIX_EPOCH));
    }
    humantime::parse_rfc3339_weak(text.trim()).map_err(|_| {
        Error::usage(
            format!("--since {text:?} is neither a duration nor a time"),
            Some(
                "give a duration back from now (`10m`, `1h30m`) or a time (`2026-12-01T09:30:00Z`)"
                    .into(),
            ),
        )
    })
}

/// The lines of a local log the query asks for: the latest run's last lines, or with
/// `since` every line since then (all runs in the current file).
fn read_file(path: &std::path::Path, query: &LogQuery) -> Vec<Entry> {
    let Some(since) = query.since else {
        return journal::tail(path, query.tail.unwrap_or(usize::MAX));
    };
    let mut got: Vec<Entry> = journal::all(path)
        .into_iter()
        .filter(|e| !e.is_header() && e.time.is_some_and(|t| t >= since))
        .collect();
    if let Some(n) = query.tail {
        got.drain(..got.len().saturating_sub(n));
    }
    got
}

fn shown(who: usize, e: Entry) -> Shown {
    Shown {
        who,
        time: e.time,
        origin: e.origin,
        bytes: e.bytes,
    }
}

fn from_line(who: usize, line: LogLine) -> Shown {
    Shown {
        who,
        time: line.time,
        origin: Some(match line.stream {
            Stream::Stdout => Origin::Stdout,
            Stream::Stderr => Origin::Stderr,
        }),
        bytes: line.bytes,
    }
}

/// Reads a container's log to its end (a cancel ends it) and returns its lines.
fn read_container(
    who: usize,
    log: &ContainerLog<'_>,
    cancel: &Cancel,
) -> std::result::Result<Vec<Shown>, String> {
    let mut got = Vec::new();
    log.read(
        &mut |l| {
            got.push(from_line(who, l));
            true
        },
        cancel,
    )?;
    Ok(got)
}

/// The time of each label's last line shown.
fn last_times(lines: &[Shown]) -> HashMap<usize, SystemTime> {
    let mut last = HashMap::new();
    for l in lines {
        if let Some(t) = l.time {
            last.insert(l.who, t);
        }
    }
    last
}

/// Following: log files polled, container logs streamed (and picked up again when their
/// container is replaced), until Ctrl-C or until stdout's reader goes.
struct Follow<'a> {
    orch: &'a Orchestrator,
    ids: &'a [NodeId],
    cancel: &'a Cancel,
    /// Where container logs start when nothing of them was shown.
    since: SystemTime,
}

impl Follow<'_> {
    fn run(
        &self,
        view: &mut View<'_>,
        mut files: Vec<(usize, journal::Follower)>,
        last: &HashMap<usize, SystemTime>,
    ) -> u8 {
        let (tx, rx) = mpsc::channel::<(String, Shown)>();
        let labels: Vec<String> = view.labels.clone();
        std::thread::scope(|s| {
            for &id in self.ids {
                if self.orch.graph().kind(id) != Kind::Compose {
                    continue;
                }
                let tx = tx.clone();
                let labels = &labels;
                s.spawn(move || self.container(id, labels, last, &tx));
            }
            drop(tx);
            let code = loop {
                if self.cancel.is_cancelled() {
                    break exit::INTERRUPTED;
                }
                if !Self::files(view, &mut files, last) {
                    break exit::OK;
                }
                match rx.recv_timeout(FILE_POLL) {
                    Ok((label, line)) => {
                        let who = view.label(&label);
                        if !view.show(&Shown { who, ..line }) {
                            break exit::OK;
                        }
                    }
                    Err(mpsc::RecvTimeoutError::Timeout) => {}
                    Err(mpsc::RecvTimeoutError::Disconnected) => {
                        // No containers to follow: only the files are looked at.
                        self.cancel.sleep(FILE_POLL);
                    }
                }
            };
            // The container threads end with the cancel.
            self.cancel.cancel(crate::cancel::CancelReason::Interrupted);
            code
        })
    }

    /// Shows what the log files got since the last look; false when stdout is gone.
    fn files(
        view: &mut View<'_>,
        files: &mut [(usize, journal::Follower)],
        last: &HashMap<usize, SystemTime>,
    ) -> bool {
        for (who, f) in files.iter_mut() {
            for e in f.entries() {
                // Shown already (written between the follower's start and the read).
                let old = e.time.zip(last.get(who)).is_some_and(|(t, l)| t <= *l);
                if old || e.is_header() {
                    continue;
                }
                if !view.show(&shown(*who, e)) {
                    return false;
                }
            }
        }
        true
    }

    /// Streams the logs of one compose component's containers into `tx`, looking its
    /// containers up again whenever a stream ends, until the cancel.
    fn container(
        &self,
        id: NodeId,
        labels: &[String],
        last: &HashMap<usize, SystemTime>,
        tx: &mpsc::Sender<(String, Shown)>,
    ) {
        // The last time seen per container label: a stream picked up again starts there.
        let mut seen: HashMap<String, SystemTime> = labels
            .iter()
            .enumerate()
            .filter_map(|(i, l)| last.get(&i).map(|t| (l.clone(), *t)))
            .collect();
        while !self.cancel.is_cancelled() {
            let query = LogQuery {
                tail: None,
                since: Some(seen.values().min().copied().unwrap_or(self.since)),
                follow: true,
            };
            let sources = self.orch.log_sources(id, &query);
            std::thread::scope(|s| {
                let mut handles = Vec::new();
                for source in sources {
                    let LogSource::Container { label, log } = source else {
                        continue;
                    };
                    let from = seen.get(&label).copied();
                    handles.push(s.spawn(move || {
                        let last = self.stream(&label, &log, from, tx);
                        (label, last)
                    }));
                }
                for h in handles {
                    if let Ok((label, Some(t))) = h.join() {
                        seen.insert(label, t);
                    }
                }
            });
            self.cancel.sleep(REATTACH);
        }
    }

    /// Streams one container's log until it ends (its container stopped) or the cancel;
    /// returns the time of the last line sent.
    fn stream(
        &self,
        label: &str,
        log: &ContainerLog<'_>,
        after: Option<SystemTime>,
        tx: &mpsc::Sender<(String, Shown)>,
    ) -> Option<SystemTime> {
        let mut newest = after;
        let read = log.read(
            &mut |line| {
                if line.time.zip(after).is_some_and(|(t, a)| t <= a) {
                    return true; // shown before the stream was picked up again
                }
                newest = line.time.or(newest);
                tx.send((label.to_owned(), from_line(0, line))).is_ok()
            },
            self.cancel,
        );
        if let Err(e) = read {
            tracing::debug!("{label}: the log cannot be followed: {e}");
        }
        newest
    }
}

/// How lines are shown: name prefix and colour, times, JSON Lines.
struct View<'o> {
    out: &'o Output,
    timestamps: bool,
    labels: Vec<String>,
}

impl<'o> View<'o> {
    fn new(out: &'o Output, timestamps: bool) -> Self {
        Self {
            out,
            timestamps,
            labels: Vec::new(),
        }
    }

    fn label(&mut self, name: &str) -> usize {
        if let Some(i) = self.labels.iter().position(|l| l == name) {
            return i;
        }
        self.labels.push(name.to_owned());
        self.labels.len() - 1
    }

    /// Shows one line; false when stdout is gone.
    fn show(&self, line: &Shown) -> bool {
        let label = self.labels.get(line.who).map_or("?", String::as_str);
        let bytes = &line.bytes[..];
        if self.out.json {
            let v = serde_json::json!({
                "component": label,
                "stream": line.origin,
                "time": line.time.map(|t| humantime::format_rfc3339_nanos(t).to_string()),
                "line": String::from_utf8_lossy(bytes),
            });
            let mut s = v.to_string();
            s.push('\n');
            return self.out.stdout(&s);
        }
        let width = self.labels.iter().map(String::len).max().unwrap_or(0);
        let mut text = Vec::with_capacity(bytes.len() + width + 40);
        if self.labels.len() > 1 {
            let padded = format!("{label:<width$} | ");
            if self.out.color_stdout {
                let c = crate::output::name_colour(label);
                text.extend_from_slice(
                    console::style(padded)
                        .fg(c)
                        .force_styling(true)
                        .to_string()
                        .as_bytes(),
                );
            } else {
                text.extend_from_slice(padded.as_bytes());
            }
        }
        if self.timestamps {
            let t = line.time.map_or_else(
                || format!("{:<24}", "-"),
                |t| humantime::format_rfc3339_millis(t).to_string(),
            );
            text.extend_from_slice(t.as_bytes());
            text.push(b' ');
        }
        text.extend_from_slice(bytes);
        text.push(b'\n');
        self.out.stdout_bytes(&text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn since_takes_durations_and_times_and_says_what_it_wants() {
        let ago = parse_since("10m").unwrap();
        let d = SystemTime::now().duration_since(ago).unwrap();
        assert!(d >= Duration::from_secs(600) && d < Duration::from_secs(610));
        assert!(parse_since("2026-12-01T09:30:00Z").is_ok());
        let e = crate::error::render(&parse_since("yesterday-ish").unwrap_err());
        assert!(e.contains("--since") && e.contains("10m"), "{e}");
    }
}
