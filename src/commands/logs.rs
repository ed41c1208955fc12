//! `tta logs`: a component's log — a local process or task's log file, or a compose
//! service's container log — the last lines or followed; several components are shown
//! with a name prefix on each line.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::cli::LogsArgs;
use crate::config::model::Kind;
use crate::error::{Error, Result, exit};
use crate::graph::NodeId;
use crate::orchestrator::Orchestrator;
use crate::output::Output;
use crate::runner::{Cancel, signals};
use crate::state::{StateDir, log};

/// Log files of local components (name, path).
type Files = Vec<(String, PathBuf)>;

/// Where each named component's log is: a file (processes, tasks) or the engine (compose).
fn sources(settings: &crate::settings::Settings, names: &[String]) -> Result<(Files, Vec<NodeId>)> {
    let g = settings.graph();
    let state = StateDir::new(&settings.config().state_dir);
    let mut files = Vec::new();
    let mut services = Vec::new();
    for name in names {
        let id = g.resolve(name)?;
        match g.kind(id) {
            Kind::External => {
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
            Kind::Compose => services.push(id),
            Kind::Process | Kind::Task => {
                files.push((g.name(id).to_owned(), state.log_path(g.name(id))));
            }
        }
    }
    Ok((files, services))
}

/// Prints logs.
pub(crate) fn run(config: Option<&Path>, args: &LogsArgs, out: &Output) -> Result<u8> {
    let orch = Orchestrator::load(config)?;
    let settings = orch.settings();
    let g = settings.graph();
    let (files, services) = sources(settings, &args.names)?;
    if args.follow && !services.is_empty() {
        // Compose follows its own logs; one service at a time keeps the streams apart.
        let [id] = services[..] else {
            return Err(Error::usage(
                "`--follow` takes one compose service at a time",
                Some("run one `tta logs -f NAME` per service".into()),
            ));
        };
        if !files.is_empty() {
            return Err(Error::usage(
                "`--follow` cannot mix compose services and local components",
                None,
            ));
        }
        return follow_compose(settings, id, args.lines, out);
    }
    let width = files
        .iter()
        .map(|(n, _)| n.len())
        .chain(services.iter().map(|&id| g.name(id).len()))
        .max()
        .unwrap_or(0);
    let several = files.len() + services.len() > 1;
    let show = |name: &str, line: &[u8]| {
        let mut text = Vec::with_capacity(line.len() + width + 4);
        if several {
            text.extend_from_slice(format!("{name:<width$} | ").as_bytes());
        }
        text.extend_from_slice(line);
        text.push(b'\n');
        out.stdout_bytes(&text)
    };
    for &id in &services {
        for line in orch.log_tail(id, args.lines) {
            show(g.name(id), line.as_bytes());
        }
    }
    let mut any = !services.is_empty();
    for (name, path) in &files {
        if path.exists() {
            any = true;
        } else {
            out.info(&format!(
                "{name} has no log yet ({} does not exist); it has not been started",
                path.display()
            ));
        }
        for line in log::tail(path, args.lines) {
            show(name, &line);
        }
    }
    if !args.follow {
        return Ok(if any { exit::OK } else { exit::FAILED });
    }
    Ok(follow_files(&files, show))
}

/// `compose logs --follow` for one service, in its repository.
fn follow_compose(
    settings: &crate::settings::Settings,
    id: NodeId,
    lines: usize,
    out: &Output,
) -> Result<u8> {
    let spec = &settings.config().components[settings.graph().name(id)];
    let repo = spec.repository.clone().unwrap_or_default();
    let service = spec.service.clone().unwrap_or_default();
    // `--`: a service may be named like an option (`-V`).
    let args = [
        "logs",
        "--follow",
        "--tail",
        &lines.to_string(),
        "--",
        &service,
    ]
    .map(str::to_owned);
    super::compose::passthrough(settings, &[repo], &args, out)
}

/// Prints lines appended to the files until Ctrl-C (exit 130) or until stdout's reader
/// goes (exit 0). A file that appears later, is truncated or is rotated is followed on.
fn follow_files(files: &[(String, PathBuf)], show: impl Fn(&str, &[u8]) -> bool) -> u8 {
    let cancel = Cancel::new();
    signals::install(&cancel);
    let mut followers: Vec<(&str, log::Follower)> = files
        .iter()
        .map(|(n, p)| (n.as_str(), log::Follower::new(p)))
        .collect();
    while !cancel.is_cancelled() {
        for (name, f) in &mut followers {
            for line in f.lines() {
                if !show(name, &line) {
                    return exit::OK;
                }
            }
        }
        cancel.sleep(Duration::from_millis(200));
    }
    exit::INTERRUPTED
}
