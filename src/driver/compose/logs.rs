//! Container logs, read and followed one way for every caller (`tta logs` and its
//! `--follow`, `tta up`'s output of compose services, the last lines of a failure):
//! through the Engine API where the engine is read through it (the container's log with
//! timestamps, followed until the container stops when asked), else `docker logs
//! --timestamps [--follow]`.
//!
//! Each line comes with its time (the engine's, from the RFC 3339 stamp it begins with:
//! [`split_stamp`], the one reader of those stamps) and its stream, and with its bytes as
//! written: not decoded, the `\r` of a `\r\n` kept, a last line without a line break
//! handed over too. Both ways cut lines with the splitter of every child's output
//! ([`crate::process::Splitter`]), so they agree to the byte.

use std::time::{Duration, SystemTime};

use super::api::Api;
use super::engine::Engine;
use crate::cancel::{Cancel, Level};
use crate::driver::types::{LogLine, LogQuery, ReadLog};
use crate::process::{Line, RunError, Splitter, Stream};

/// The time at the start of a line of a log read with timestamps, and the rest (a line
/// without one: no time, all of it).
pub(crate) fn split_stamp(bytes: &[u8]) -> (Option<SystemTime>, &[u8]) {
    let Some(space) = bytes.iter().position(|&b| b == b' ') else {
        return (None, bytes);
    };
    let time = std::str::from_utf8(&bytes[..space])
        .ok()
        .and_then(|t| humantime::parse_rfc3339(t).ok());
    match time {
        Some(t) => (Some(t), &bytes[space + 1..]),
        None => (None, bytes),
    }
}

/// A line of a log read with timestamps, as handed over.
fn log_line(line: Line) -> LogLine {
    let stream = line.stream;
    let mut bytes = line.into_written();
    let (time, rest) = split_stamp(&bytes);
    let stamp = bytes.len() - rest.len();
    bytes.drain(..stamp);
    LogLine {
        time,
        stream,
        bytes,
    }
}

impl Engine {
    /// Reads a container's log as `query` says, handing each line to `each` (on this
    /// thread) until it returns false; a followed log goes on until the container stops or
    /// `cancel`. `limit` bounds the whole read. `Err` says why the log could not be read.
    pub(crate) fn read_logs(
        &self,
        container: &str,
        query: &LogQuery,
        limit: Option<Duration>,
        each: &mut dyn FnMut(LogLine) -> bool,
        cancel: &Cancel,
    ) -> Result<(), String> {
        // The engine may start a little early (the API takes whole seconds).
        let mut keep = |l: LogLine| {
            let early = l.time.zip(query.since).is_some_and(|(t, s)| t < s);
            early || each(l)
        };
        match self.api() {
            Some(api) => read_api(api, container, query, limit, cancel, &mut keep),
            None => self.read_cli(container, query, limit, cancel, &mut keep),
        }
    }

    /// `docker logs --timestamps --tail N [--since T] [--follow] -- ID`.
    fn read_cli(
        &self,
        container: &str,
        query: &LogQuery,
        limit: Option<Duration>,
        cancel: &Cancel,
        each: &mut dyn FnMut(LogLine) -> bool,
    ) -> Result<(), String> {
        let tail = query
            .tail
            .map_or_else(|| "all".to_owned(), |n| n.to_string());
        let mut args = vec!["logs", "--timestamps", "--tail", &tail];
        let since = query
            .since
            .map(|t| humantime::format_rfc3339_nanos(t).to_string());
        if let Some(t) = &since {
            args.extend(["--since", t]);
        }
        if query.follow {
            args.push("--follow");
        }
        args.extend(["--", container]);
        let mut spec = self.streaming(&args).cancel(cancel, Level::Graceful);
        if let Some(l) = limit {
            spec = spec.deadline(l);
        }
        // A read that fails says why in its output: its lines wait for its end. A followed
        // log's go at once.
        let mut held = Vec::new();
        let ended = spec.each_line(&mut |line| {
            if query.follow {
                each(log_line(line))
            } else {
                held.push(line);
                true
            }
        });
        match ended {
            Ok(status) if status.success() || query.follow => {
                for line in held {
                    if !each(log_line(line)) {
                        break;
                    }
                }
                Ok(())
            }
            Ok(_) => Err(held
                .iter()
                .map(|l| String::from_utf8_lossy(&l.bytes).into_owned())
                .collect::<Vec<_>>()
                .join("; ")),
            Err(RunError::Cancelled) => Ok(()),
            Err(e) => Err(e.to_string()),
        }
    }
}

/// The container's log through the API, cut into lines stream by stream.
fn read_api(
    api: &Api,
    container: &str,
    query: &LogQuery,
    limit: Option<Duration>,
    cancel: &Cancel,
    each: &mut dyn FnMut(LogLine) -> bool,
) -> Result<(), String> {
    let mut out = Splitter::new(0, Stream::Stdout);
    let mut err = Splitter::new(0, Stream::Stderr);
    let mut going = true;
    let read = api.logs(container, query, limit, cancel, &mut |stream, bytes| {
        let split = match stream {
            Stream::Stdout => &mut out,
            Stream::Stderr => &mut err,
        };
        going = split.push(bytes, &mut |l| each(log_line(l)));
        going
    });
    if going {
        for last in [out.finish(), err.finish()].into_iter().flatten() {
            if !each(log_line(last)) {
                break;
            }
        }
    }
    read.map_err(|e| e.to_string())
}

impl ReadLog for Engine {
    fn read_log(
        &self,
        container: &str,
        query: &LogQuery,
        each: &mut dyn FnMut(LogLine) -> bool,
        cancel: &Cancel,
    ) -> Result<(), String> {
        self.read_logs(container, query, None, each, cancel)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_keeps_its_time_stream_and_bytes() {
        let (t, rest) = split_stamp(b"2026-12-01T09:30:00.123456789Z hello world");
        assert_eq!(rest, b"hello world");
        assert_eq!(
            humantime::format_rfc3339_nanos(t.unwrap()).to_string(),
            "2026-12-01T09:30:00.123456789Z"
        );
        assert_eq!(split_stamp(b"no time here"), (None, &b"no time here"[..]));
        assert_eq!(split_stamp(b"nospace"), (None, &b"nospace"[..]));
        let mut split = Splitter::new(0, Stream::Stderr);
        let mut got = Vec::new();
        split.push(
            b"2026-12-01T21:36:36.902294879Z caf\xe9 ok\r\n2026-12-01T21:36:37Z no newline",
            &mut |l| {
                got.push(log_line(l));
                true
            },
        );
        got.extend(split.finish().map(log_line));
        let shown: Vec<(Stream, &[u8])> = got.iter().map(|l| (l.stream, &l.bytes[..])).collect();
        assert_eq!(
            shown,
            [
                (Stream::Stderr, &b"caf\xe9 ok\r"[..]),
                (Stream::Stderr, &b"no newline"[..])
            ]
        );
        let at = got[0].time.unwrap().duration_since(SystemTime::UNIX_EPOCH);
        assert!((at.unwrap().as_secs_f64() - 1_796_160_996.902).abs() < 0.001);
    }
}
