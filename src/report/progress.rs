//! Live progress: one line per component on a terminal (indicatif), plain timestamped
//! lines elsewhere (CI logs), nothing with `--json` or `--quiet`.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::duration::seconds;
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
}

impl Progress {
    /// Progress for `graph`'s components; bars only when stderr is a terminal.
    pub(crate) fn new(graph: &Graph, out: &Output) -> Self {
        let mode = if out.json || out.quiet {
            Mode::Silent
        } else if console::Term::stderr().is_term() && std::env::var_os("CI").is_none() {
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
        }
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
                let bar = bars.entry(id).or_insert_with(|| {
                    let b = multi.add(ProgressBar::new_spinner());
                    b.set_style(
                        ProgressStyle::with_template(&format!(
                            "{{spinner:.cyan}} {{prefix:<{}}}  {{msg}}",
                            self.width
                        ))
                        .expect("valid template")
                        .tick_chars("⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏ "),
                    );
                    b.set_prefix(name.clone());
                    b.enable_steady_tick(Duration::from_millis(100));
                    b
                });
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

    /// Clears live bars before the summary is printed.
    pub(crate) fn finish(&self) {
        if let Mode::Bars { multi, .. } = &self.mode {
            let _ = multi.clear();
            for b in self.bars() {
                b.finish_and_clear();
            }
        }
    }

    fn bars(&self) -> Vec<ProgressBar> {
        match &self.mode {
            Mode::Bars { bars, .. } => bars.lock().expect("bars lock").values().cloned().collect(),
            _ => Vec::new(),
        }
    }
}

impl Reporter for Progress {
    fn event(&self, event: &Event) {
        match event {
            Event::Waiting { id, on } => {
                let names: Vec<&str> = on.iter().map(|&i| self.names[i].as_str()).collect();
                self.say(*id, &format!("waiting on {}", names.join(", ")), false);
            }
            Event::Starting { id, attempt } => {
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
            Event::Probing { id, what } => self.say(*id, &format!("waiting for {what}"), false),
            Event::Stopping { id } => self.say(*id, "stopping", false),
            Event::Finished(r) => {
                let text = self.finished(r);
                self.say(r.id, &text, true);
            }
        }
    }
}
