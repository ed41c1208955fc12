//! `tta logs`: a component's log — a local process or task's log file, or a compose
//! service's container log — the last lines or followed; several components are shown
//! with a name prefix on each line.

use std::io::{BufRead as _, BufReader, Seek as _};
use std::path::Path;
use std::time::Duration;

use crate::cli::LogsArgs;
use crate::config::model::Kind;
use crate::error::{Error, Result, exit};
use crate::graph::NodeId;
use crate::orchestrator::Orchestrator;
use crate::output::Output;
use crate::runner::{Cancel, signals};
use crate::state::{StateDir, tail};

/// Log files of local components (name, path).
type Files = Vec<(String, std::path::PathBuf)>;

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
    for &id in &services {
        for line in orch.log_tail(id, args.lines) {
            if several {
                out.stdout(&format!("{:<width$} | {line}\n", g.name(id)));
            } else {
                out.stdout(&format!("{line}\n"));
            }
        }
    }
    let prefix = several;
    let show = |name: &str, line: &str| {
        if prefix {
            out.stdout(&format!("{name:<width$} | {line}\n"));
        } else {
            out.stdout(&format!("{line}\n"));
        }
    };
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
        for line in tail(path, args.lines) {
            show(name, &line);
        }
    }
    if !args.follow {
        return Ok(if any { exit::OK } else { exit::FAILED });
    }
    follow_files(&files, show);
    Ok(exit::OK)
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

/// Prints lines appended to the files until Ctrl-C (a file that appears later is picked up).
fn follow_files(files: &[(String, std::path::PathBuf)], show: impl Fn(&str, &str)) {
    let cancel = Cancel::new();
    signals::install(&cancel);
    let mut readers: Vec<(String, Option<BufReader<std::fs::File>>, &Path)> = files
        .iter()
        .map(|(n, p)| (n.clone(), None, p.as_path()))
        .collect();
    let mut buf = String::new();
    while !cancel.is_cancelled() {
        for (name, reader, path) in &mut readers {
            if reader.is_none()
                && let Ok(mut f) = std::fs::File::open(*path)
            {
                let _ = f.seek(std::io::SeekFrom::End(0));
                *reader = Some(BufReader::new(f));
            }
            if let Some(r) = reader {
                loop {
                    buf.clear();
                    match r.read_line(&mut buf) {
                        Ok(0) | Err(_) => break,
                        Ok(_) if !buf.ends_with('\n') => {
                            // A partial line: wait for the rest.
                            let _ = r.seek_relative(-i64::try_from(buf.len()).unwrap_or(0));
                            break;
                        }
                        Ok(_) => show(name, buf.trim_end_matches('\n')),
                    }
                }
            }
        }
        cancel.sleep(Duration::from_millis(200));
    }
}
