//! Live progress: one line per component on a terminal (indicatif), plain timestamped
//! lines elsewhere (CI logs), nothing with `--json` or `--quiet`.
//!
//! On a terminal each component's line keeps its place and, once it is done, its final
//! word (ready in 1.2 s, failed: ..., blocked: ...) stays on screen above the summary, as
//! compose leaves its lines. A waiting line shows how long it has waited (and, while it is
//! being probed, its timeout) and names only the dependencies still pending.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::duration::{Human, seconds};
use crate::graph::{Graph, NodeId};
use crate::output::Output;
use crate::runner::{ComponentResult, Event, Outcome, Reporter};

enum Mode {
    Bars {
        multi: MultiProgress,
        bars: Mutex<HashMap<NodeId, ProgressBar>>,
    },
    Lines,
    Silent,
}

/// The progress reporter.
pub(crate) struct Progress {
    names: Vec<String>,
    width: usize,
    t0: Instant,
    mode: Mode,
    out: Output,
    /// Each component's start timeout, shown while it is probed.
    timeouts: Vec<Option<Duration>>,
    /// What each waiting component still waits for.
    waiting: Mutex<HashMap<NodeId, Vec<NodeId>>>,
}

fn attended() -> bool {
    console::Term::stderr().is_term()
        && std::env::var_os("CI").is_none()
        && std::env::var("TERM").is_ok_and(|t| !t.is_empty() && t != "dumb")
}

impl Progress {
    /// Progress for `graph`'s components; bars only when stderr is a terminal.
    pub(crate) fn new(graph: &Graph, out: &Output) -> Self {
        let mode = if out.json || out.quiet {
            Mode::Silent
        } else if attended() {
            Mode::Bars {
                multi: MultiProgress::with_draw_target(ProgressDrawTarget::stderr_with_hz(15)),
                bars: Mutex::new(HashMap::new()),
            }
        } else {
            Mode::Lines
        };
        Self {
            names: graph.names().to_vec(),
            width: graph
                .names()
                .iter()
                .map(String::len)
                .max()
                .unwrap_or(0)
                .min(40),
            t0: Instant::now(),
            mode,
            out: *out,
            timeouts: vec![None; graph.len()],
            waiting: Mutex::new(HashMap::new()),
        }
    }

    /// Shows each component's start timeout while it is probed.
    #[must_use]
    pub(crate) fn with_timeouts(mut self, timeouts: Vec<Duration>) -> Self {
        self.timeouts = timeouts.into_iter().map(Some).collect();
        self
    }

    /// A new bar for `id`, placed among `bars` in config order (not in the order components
    /// first report), so a finished line keeps its place and a stack reads the same each run.
    fn bar(
        &self,
        multi: &MultiProgress,
        bars: &HashMap<NodeId, ProgressBar>,
        id: NodeId,
    ) -> ProgressBar {
        let next = bars
            .iter()
            .filter(|(k, _)| **k > id)
            .min_by_key(|(k, _)| **k);
        let b = match next {
            Some((_, after)) => multi.insert_before(after, ProgressBar::new_spinner()),
            None => multi.add(ProgressBar::new_spinner()),
        };
        b.set_style(
            ProgressStyle::with_template(&format!(
                "{{spinner:.cyan}} {{prefix:<{}}}  {{msg}} {{elapsed:.dim}}",
                self.width
            ))
            .expect("valid template")
            .tick_chars("⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏ "),
        );
        b.set_prefix(self.names[id].clone());
        b.enable_steady_tick(Duration::from_millis(100));
        b
    }

    fn say(&self, id: NodeId, text: &str, done: bool) {
        let text = &*crate::output::scrub(text);
        let name = &self.names[id];
        match &self.mode {
            Mode::Silent => {}
            Mode::Lines => {
                let at = self.t0.elapsed().as_secs_f64();
                self.out
                    .info(&format!("[{at:>7.2}s] {name:<w$}  {text}", w = self.width));
            }
            Mode::Bars { multi, bars } => {
                let mut bars = bars.lock().expect("bars lock");
                if !bars.contains_key(&id) {
                    let bar = self.bar(multi, &bars, id);
                    bars.insert(id, bar);
                }
                let bar = &bars[&id];
                if done {
                    bar.set_style(
                        ProgressStyle::with_template(&format!(
                            "  {{prefix:<{}}}  {{msg}}",
                            self.width
                        ))
                        .expect("valid template"),
                    );
                    bar.finish_with_message(text.to_owned());
                } else {
                    bar.set_message(text.to_owned());
                }
            }
        }
    }

    fn finished(&self, r: &ComponentResult) -> String {
        let reason = r.reason.as_deref().unwrap_or_default();
        let took = seconds(Duration::from_secs_f64(r.seconds()));
        match r.outcome {
            Outcome::Started if r.completed => self
                .out
                .style(&format!("✓ completed in {took}"), |s| s.green()),
            Outcome::Started if r.restarted => self.out.style(
                &format!("✓ restarted (changed since it started), ready in {took}"),
                |s| s.green(),
            ),
            Outcome::Started => self.out.style(&format!("✓ ready in {took}"), |s| s.green()),
            Outcome::AlreadyRunning if r.completed => {
                self.out.style("✓ already completed", |s| s.green())
            }
            Outcome::AlreadyRunning => self.out.style("✓ already running", |s| s.green()),
            Outcome::Stopped => self
                .out
                .style(&format!("■ stopped in {took}"), |s| s.yellow()),
            Outcome::AlreadyStopped => self.out.style("■ already stopped", |s| s.dim()),
            Outcome::Failed => self
                .out
                .style(&format!("✗ failed: {reason}"), |s| s.red().bold()),
            Outcome::TimedOut => self
                .out
                .style(&format!("✗ timed out: {reason}"), |s| s.red().bold()),
            Outcome::Blocked => self
                .out
                .style(&format!("⊘ blocked: {reason}"), |s| s.yellow()),
            Outcome::Cancelled => self
                .out
                .style(&format!("⊘ cancelled: {reason}"), |s| s.yellow()),
        }
    }

    fn waiting_text(&self, on: &[NodeId]) -> String {
        let names: Vec<&str> = on.iter().map(|&i| self.names[i].as_str()).collect();
        format!("waiting on {}", names.join(", "))
    }

    /// A component finished: whoever waited for it waits for the rest only.
    fn no_longer_pending(&self, done: NodeId) {
        let updates: Vec<(NodeId, Vec<NodeId>)> = {
            let mut waiting = self.waiting.lock().expect("waiting lock");
            waiting
                .iter_mut()
                .filter(|(_, on)| on.contains(&done))
                .map(|(&id, on)| {
                    on.retain(|&d| d != done);
                    (id, on.clone())
                })
                .collect()
        };
        for (id, on) in updates {
            if !on.is_empty() && matches!(self.mode, Mode::Bars { .. }) {
                self.say(id, &self.waiting_text(&on), false);
            }
        }
    }

    /// Ends the live display; what each component came to stays on screen.
    pub(crate) fn finish(&self) {
        if let Mode::Bars { bars, .. } = &self.mode {
            for b in bars.lock().expect("bars lock").values() {
                if !b.is_finished() {
                    b.abandon();
                }
            }
        }
    }
}

impl Reporter for Progress {
    fn event(&self, event: &Event) {
        match event {
            Event::Waiting { id, on } => {
                self.waiting
                    .lock()
                    .expect("waiting lock")
                    .insert(*id, on.clone());
                self.say(*id, &self.waiting_text(on), false);
            }
            Event::Starting { id, attempt } => {
                self.waiting.lock().expect("waiting lock").remove(id);
                let text = if *attempt > 1 {
                    format!("starting (attempt {attempt})")
                } else {
                    "starting".to_owned()
                };
                self.say(*id, &text, false);
            }
            Event::Retrying {
                id, delay, failure, ..
            } => {
                self.say(
                    *id,
                    &format!("retrying in {}: {}", seconds(*delay), failure.message),
                    false,
                );
            }
            Event::Probing { id, what } => {
                let limit = self.timeouts[*id]
                    .map(|t| format!(" (timeout {})", Human(t)))
                    .unwrap_or_default();
                self.say(*id, &format!("waiting for {what}{limit}"), false);
            }
            Event::Replacing { id } => {
                self.say(*id, "stopping: changed since it started", false);
            }
            Event::Stopping { id } => self.say(*id, "stopping", false),
            Event::Finished(r) => {
                self.waiting.lock().expect("waiting lock").remove(&r.id);
                let text = self.finished(r);
                self.say(r.id, &text, true);
                self.no_longer_pending(r.id);
            }
        }
    }
}
