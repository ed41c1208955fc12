//! `tta logs`: a local component's log file (the last lines, or followed), several
//! components interleaved by line with a name prefix.

use std::io::{BufRead as _, BufReader, Seek as _};
use std::path::Path;
use std::time::Duration;

use crate::cli::LogsArgs;
use crate::config::Settings;
use crate::config::model::Kind;
use crate::error::{Error, Result, exit};
use crate::output::Output;
use crate::runner::{Cancel, signals};
use crate::state::{StateDir, tail};

/// Prints logs.
pub fn run(config: Option<&Path>, args: &LogsArgs, out: &Output) -> Result<u8> {
    let settings = Settings::load(config)?;
    let g = settings.graph();
    let state = StateDir::new(&settings.config().state_dir);
    let mut files = Vec::new();
    for name in &args.names {
        let id = g.resolve(name)?;
        if g.kind(id) == Kind::Compose {
            return Err(Error::usage(
                format!(
                    "`{}` is a compose service; its logs come from the engine",
                    g.name(id)
                ),
                Some(format!(
                    "run `tta compose logs {}`",
                    g.name(id).rsplit('/').next().unwrap_or_default()
                )),
            ));
        }
        files.push((g.name(id).to_owned(), state.log_path(g.name(id))));
    }
    let prefix = files.len() > 1;
    let width = files.iter().map(|(n, _)| n.len()).max().unwrap_or(0);
    let show = |name: &str, line: &str| {
        if prefix {
            out.stdout(&format!("{name:<width$} | {line}\n"));
        } else {
            out.stdout(&format!("{line}\n"));
        }
    };
    let mut any = false;
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
    Ok(exit::OK)
}
