//! `tta status`: a table or `--json`; exit 0 only when every listed component is up.
//! `--watch` redraws on the engines' events (and at least every `--interval`).

use std::path::Path;

use console::{measure_text_width, pad_str};

use crate::cli::StatusArgs;
use crate::driver::Status;
use crate::duration::Human;
use crate::error::{Error, Result, exit};
use crate::orchestrator::{ComponentStatus, Orchestrator};
use crate::output::Output;
use crate::runner::{Cancel, signals};
use crate::state::now_epoch;

/// Prints statuses.
pub(crate) fn run(config: Option<&Path>, args: &StatusArgs, out: &Output) -> Result<u8> {
    let orch = Orchestrator::load(config)?;
    if args.watch {
        return watch(&orch, args, out);
    }
    let rows = orch.status(&args.names)?;
    let all_up = rows.iter().all(|r| r.up);
    if out.json {
        out.json_doc(serde_json::json!({"all_up": all_up, "components": rows}));
    } else {
        out.stdout(&table(&rows, out));
    }
    Ok(if all_up { exit::OK } else { exit::FAILED })
}

/// Redraws the table in place until Ctrl-C.
fn watch(orch: &Orchestrator, args: &StatusArgs, out: &Output) -> Result<u8> {
    let term = console::Term::stdout();
    if !term.is_term() {
        return Err(Error::usage(
            "--watch needs a terminal",
            Some("run `tta status` in a loop, or `tta status --json` for scripts".into()),
        ));
    }
    let cancel = Cancel::new();
    signals::install(&cancel);
    let mut drawn = 0;
    while !cancel.is_cancelled() {
        let seen = orch.change_count();
        let rows = orch.status(&args.names)?;
        let mut text = table(&rows, out);
        text.push_str(&out.style(
            &format!(
                "\non every engine event, else every {}; Ctrl-C to leave\n",
                Human(args.interval)
            ),
            |s| s.dim(),
        ));
        let _ = term.clear_last_lines(drawn);
        let _ = term.write_str(&text);
        drawn = text.lines().count();
        // Containers redraw when the engine says something happened; processes and probes
        // have no events, so the interval still bounds the wait.
        let until = std::time::Instant::now() + args.interval;
        if orch.wait_for_change(seen, until, &cancel) {
            // Let a burst of events (stop, die, kill) settle into one redraw.
            cancel.sleep(std::time::Duration::from_millis(50));
        }
    }
    Ok(exit::INTERRUPTED)
}

/// "12s ago", "3m ago", "2h ago", "4d ago".
pub(crate) fn ago(since: f64, now: f64) -> String {
    let s = (now - since).max(0.0);
    #[expect(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        reason = "a non-negative age in seconds"
    )]
    let s = s as u64;
    match s {
        0..60 => format!("{s}s ago"),
        60..3600 => format!("{}m ago", s / 60),
        3600..86_400 => format!("{}h ago", s / 3600),
        _ => format!("{}d ago", s / 86_400),
    }
}

/// The status table.
pub(crate) fn table(rows: &[ComponentStatus], out: &Output) -> String {
    if rows.is_empty() {
        return "no components are configured (see `tta config path`)\n".into();
    }
    let now = now_epoch();
    let cells: Vec<[String; 7]> = rows
        .iter()
        .map(|r| {
            let status = r.status.as_str();
            let status = match r.status {
                Status::Running | Status::Completed => out.style(status, |s| s.green()),
                Status::Error => out.style(status, |s| s.red().bold()),
                Status::Unknown => out.style(status, |s| s.red()),
                Status::Starting | Status::Stopping => out.style(status, |s| s.yellow()),
                Status::Stopped => out.style(status, |s| s.dim()),
            };
            let health = match r.health {
                Some(h) if h == crate::driver::Health::Healthy => {
                    out.style(h.as_str(), |s| s.green())
                }
                Some(h) => out.style(h.as_str(), |s| s.red()),
                None => "-".into(),
            };
            [
                r.name.clone(),
                r.kind.as_str().to_owned(),
                status,
                health,
                r.since
                    .filter(|_| r.status != Status::Stopped)
                    .map_or_else(|| "-".into(), |s| ago(s, now)),
                if r.endpoints.is_empty() {
                    "-".into()
                } else {
                    r.endpoints.join(", ")
                },
                r.detail.clone().unwrap_or_default(),
            ]
        })
        .collect();
    let header = [
        "NAME", "KIND", "STATUS", "HEALTH", "SINCE", "ADDRESS", "DETAIL",
    ];
    let mut widths: Vec<usize> = header.iter().map(|h| h.len()).collect();
    for row in &cells {
        for (w, c) in widths.iter_mut().zip(row) {
            *w = (*w).max(measure_text_width(c));
        }
    }
    let mut s = String::new();
    let line = |s: &mut String, row: &[String]| {
        let cols: Vec<String> = row
            .iter()
            .zip(&widths)
            .enumerate()
            .map(|(i, (c, &w))| {
                if i + 1 == row.len() {
                    c.clone()
                } else {
                    pad_str(c, w, console::Alignment::Left, None).into_owned()
                }
            })
            .collect();
        s.push_str(cols.join("  ").trim_end());
        s.push('\n');
    };
    line(&mut s, &header.map(|h| out.style(h, |x| x.bold())));
    for row in &cells {
        line(&mut s, row);
    }
    s
}
