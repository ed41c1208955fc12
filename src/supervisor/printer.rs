//! The one printer of `tta up`: every component's output lines and every lifecycle event
//! go through one thread that writes whole lines to stdout, so nothing interleaves within
//! a line. `name | line` for output, `name * event` for what happened; each name in a
//! colour of its own (stable: chosen from the name) on a terminal, plain elsewhere; with
//! `--json`, one JSON object per line instead.
//!
//! Producers never wait for the terminal: output lines go into a bounded queue, and when a
//! slow terminal lets it fill, further lines are dropped and counted per component (the
//! count is printed as soon as there is room; the lines stay in the component's log).
//! Events are never dropped.

use std::collections::{BTreeMap, VecDeque};
use std::io::Write as _;
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::SystemTime;

use serde_json::{Value, json};

/// How many bytes of output lines may wait for the terminal.
const QUEUE_BYTES: usize = 8 << 20;
/// How many output lines may wait.
const QUEUE_LINES: usize = 100_000;

/// How lines look.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Style {
    /// `name | line`, no colour.
    Plain,
    /// With a colour per component.
    Color,
    /// One JSON object per line.
    Json,
}

enum Item {
    Line {
        name: Arc<str>,
        bytes: Vec<u8>,
        at: SystemTime,
    },
    Event {
        name: Arc<str>,
        event: &'static str,
        text: String,
        fields: Value,
        at: SystemTime,
    },
}

#[derive(Default)]
struct Queue {
    items: VecDeque<Item>,
    bytes: usize,
    lines: usize,
    dropped: BTreeMap<Arc<str>, u64>,
    closed: bool,
}

struct Shared {
    q: Mutex<Queue>,
    cv: Condvar,
}

/// Where `up` prints; clones share the one printing thread.
#[derive(Clone)]
pub(crate) struct Printer {
    shared: Arc<Shared>,
    thread: Arc<Mutex<Option<JoinHandle<()>>>>,
}

/// How names are shown: padded to the widest, in their colour.
struct Look {
    style: Style,
    width: usize,
    timestamps: bool,
}

fn rfc3339(at: SystemTime) -> String {
    humantime::format_rfc3339_millis(at).to_string()
}

impl Look {
    fn prefix(&self, name: &str, mark: char, at: SystemTime) -> String {
        let time = if self.timestamps {
            format!("{} ", rfc3339(at))
        } else {
            String::new()
        };
        let padded = format!("{name:<w$}", w = self.width);
        match self.style {
            Style::Color => {
                let c = crate::output::name_colour(name);
                format!(
                    "{time}{} {} ",
                    console::style(padded).fg(c).force_styling(true),
                    console::style(mark).fg(c).force_styling(true)
                )
            }
            _ => format!("{time}{padded} {mark} "),
        }
    }

    fn render(&self, item: &Item) -> Vec<u8> {
        let mut out = Vec::new();
        match (item, self.style) {
            (Item::Line { name, bytes, at }, Style::Json) => {
                let doc = json!({
                    "at": rfc3339(*at), "name": &**name, "event": "line",
                    "line": String::from_utf8_lossy(bytes),
                });
                out.extend_from_slice(doc.to_string().as_bytes());
            }
            (
                Item::Event {
                    name,
                    event,
                    text,
                    fields,
                    at,
                },
                Style::Json,
            ) => {
                let mut doc =
                    json!({"at": rfc3339(*at), "name": &**name, "event": event, "message": text});
                if let (Value::Object(d), Value::Object(f)) = (&mut doc, fields) {
                    d.extend(f.iter().map(|(k, v)| (k.clone(), v.clone())));
                }
                out.extend_from_slice(doc.to_string().as_bytes());
            }
            (Item::Line { name, bytes, at }, _) => {
                out.extend_from_slice(self.prefix(name, '|', *at).as_bytes());
                out.extend_from_slice(bytes);
            }
            (Item::Event { name, text, at, .. }, style) => {
                // A message of several lines (a command line in an error) keeps its prefix
                // on each, so every line of the output says whose it is.
                for (i, part) in text.split('\n').enumerate() {
                    if i > 0 {
                        out.push(b'\n');
                    }
                    out.extend_from_slice(self.prefix(name, '*', *at).as_bytes());
                    if style == Style::Color {
                        let bold = console::style(part).bold().force_styling(true);
                        out.extend_from_slice(bold.to_string().as_bytes());
                    } else {
                        out.extend_from_slice(part.as_bytes());
                    }
                }
            }
        }
        let text = String::from_utf8(out);
        let mut out = match text {
            Ok(t) => crate::output::scrub(&t).into_owned().into_bytes(),
            Err(e) => e.into_bytes(),
        };
        out.push(b'\n');
        out
    }
}

fn lock(m: &Mutex<Queue>) -> std::sync::MutexGuard<'_, Queue> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Printer {
    /// A printer writing to stdout in `style`, names padded to `width`.
    pub(crate) fn new(style: Style, width: usize, timestamps: bool) -> Self {
        Self::to(style, width, timestamps, Box::new(std::io::stdout()))
    }

    /// A printer writing to `out`.
    pub(crate) fn to(
        style: Style,
        width: usize,
        timestamps: bool,
        out: Box<dyn std::io::Write + Send>,
    ) -> Self {
        let shared = Arc::new(Shared {
            q: Mutex::new(Queue::default()),
            cv: Condvar::new(),
        });
        let look = Look {
            style,
            width: width.min(40),
            timestamps,
        };
        let s = Arc::clone(&shared);
        let thread = std::thread::Builder::new()
            .name("printer".into())
            .spawn(move || print(&s, &look, out))
            .ok();
        Self {
            shared,
            thread: Arc::new(Mutex::new(thread)),
        }
    }

    /// An output line of `name`; dropped (and counted) when the terminal is behind.
    pub(crate) fn line(&self, name: &Arc<str>, bytes: Vec<u8>) {
        let mut q = lock(&self.shared.q);
        if q.closed {
            return;
        }
        if q.bytes + bytes.len() > QUEUE_BYTES || q.lines >= QUEUE_LINES {
            *q.dropped.entry(Arc::clone(name)).or_default() += 1;
            return;
        }
        q.bytes += bytes.len();
        q.lines += 1;
        q.items.push_back(Item::Line {
            name: Arc::clone(name),
            bytes,
            at: SystemTime::now(),
        });
        drop(q);
        self.shared.cv.notify_one();
    }

    /// A lifecycle event of `name` (never dropped): `text` for people, `event` and `fields`
    /// for `--json`.
    pub(crate) fn event(&self, name: &str, event: &'static str, text: &str, fields: Value) {
        let mut q = lock(&self.shared.q);
        if q.closed {
            return;
        }
        q.items.push_back(Item::Event {
            name: Arc::from(name),
            event,
            text: text.to_owned(),
            fields,
            at: SystemTime::now(),
        });
        drop(q);
        self.shared.cv.notify_one();
    }

    /// Prints what is queued, then ends the printing thread.
    pub(crate) fn close(&self) {
        lock(&self.shared.q).closed = true;
        self.shared.cv.notify_one();
        let handle = self
            .thread
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(h) = handle {
            let _ = h.join();
        }
    }
}

/// The printing thread: whole lines, in arrival order; counts of dropped lines as soon as
/// there is room again.
fn print(shared: &Shared, look: &Look, mut out: Box<dyn std::io::Write + Send>) {
    let mut broken = false;
    loop {
        let (batch, dropped, done) = {
            let mut q = lock(&shared.q);
            while q.items.is_empty() && q.dropped.is_empty() && !q.closed {
                q = shared.cv.wait(q).unwrap_or_else(PoisonError::into_inner);
            }
            let batch: Vec<Item> = q.items.drain(..).collect();
            q.bytes = 0;
            q.lines = 0;
            (batch, std::mem::take(&mut q.dropped), q.closed)
        };
        let mut text = Vec::new();
        for item in &batch {
            text.extend_from_slice(&look.render(item));
        }
        for (name, n) in dropped {
            let s = if n == 1 { "" } else { "s" };
            text.extend_from_slice(&look.render(&Item::Event {
                name: Arc::clone(&name),
                event: "dropped",
                text: format!(
                    "{n} line{s} not shown: the terminal fell behind (`tta logs {name}` has them)"
                ),
                fields: json!({"dropped": n}),
                at: SystemTime::now(),
            }));
        }
        if !broken && !text.is_empty() {
            // A reader that went away (`tta up | head`) ends the printing, not `up`.
            broken = out.write_all(&text).and_then(|()| out.flush()).is_err();
        }
        if done && lock(&shared.q).items.is_empty() {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A writer that records what it got, slowly.
    #[derive(Clone, Default)]
    struct Slow(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Slow {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            std::thread::sleep(std::time::Duration::from_millis(200));
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn lines_stay_whole_and_a_slow_terminal_drops_and_counts() {
        let sink = Slow::default();
        let p = Printer::to(Style::Plain, 3, false, Box::new(sink.clone()));
        let a: Arc<str> = Arc::from("a");
        let t = std::time::Instant::now();
        std::thread::scope(|s| {
            for _ in 0..4 {
                s.spawn(|| {
                    for i in 0..60_000 {
                        p.line(&a, format!("line {i} {}", "x".repeat(100)).into_bytes());
                    }
                });
            }
        });
        assert!(
            t.elapsed() < std::time::Duration::from_secs(5),
            "producers never wait for the terminal"
        );
        p.event("a", "ready", "ready in 0.1s", json!({}));
        p.event("a", "failed", "failed: `sh -c\necho`", json!({}));
        p.close();
        let got = String::from_utf8(sink.0.lock().unwrap().clone()).unwrap();
        let mut shown = 0u64;
        let mut dropped = 0u64;
        for l in got.lines() {
            if let Some(rest) = l.strip_prefix("a   | line ") {
                assert!(rest.ends_with(&"x".repeat(100)), "a whole line: {l}");
                shown += 1;
            } else if let Some(rest) = l.strip_prefix("a   * ") {
                if let Some(n) = rest.split(' ').next().and_then(|n| n.parse::<u64>().ok()) {
                    dropped += n;
                }
            } else if l == "echo`" {
                panic!("a continuation line without its prefix");
            } else {
                panic!("unexpected line {l:?}");
            }
        }
        assert_eq!(shown + dropped, 240_000, "every line shown or counted");
        assert!(dropped > 0, "the slow writer made the queue fill");
        assert!(got.contains("a   * ready in 0.1s\n"));
        assert!(got.contains("a   * failed: `sh -c\na   * echo`\n"));
    }

    #[test]
    fn json_lines_carry_the_event_and_its_fields() {
        let sink = Slow::default();
        let p = Printer::to(Style::Json, 3, true, Box::new(sink.clone()));
        p.event(
            "db",
            "restarting",
            "restarting in 1s",
            json!({"delay_ms": 1000}),
        );
        p.line(&Arc::from("db"), b"hello".to_vec());
        p.close();
        let got = String::from_utf8(sink.0.lock().unwrap().clone()).unwrap();
        let docs: Vec<Value> = got
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(docs[0]["event"], "restarting");
        assert_eq!(docs[0]["delay_ms"], 1000);
        assert_eq!(docs[1]["line"], "hello");
        assert_eq!(docs[1]["name"], "db");
    }
}
