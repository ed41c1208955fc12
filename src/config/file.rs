//! The config file itself: finding it, reading it, YAML syntax errors with their location,
//! locating every problem for display, and writing it back atomically.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use yaml_serde::Value;

use super::env::Override;
use super::problem::Problem;
use super::source::SourceIndex;
use crate::diagnostics::Located;
use crate::error::{Error, Result};

/// File names looked for, in order, when no file is named.
pub(crate) const DEFAULT_FILES: [&str; 2] = ["tta.yaml", "config/tta.yaml"];

/// Finds the config file: the one named (which must exist), else `./tta.yaml`, else
/// `./config/tta.yaml`, else none (an empty stack).
pub(crate) fn locate(explicit: Option<&Path>, cwd: &Path) -> Result<Option<PathBuf>> {
    if let Some(p) = explicit {
        let p = cwd.join(p);
        if p.is_file() {
            return Ok(Some(p));
        }
        // Something that is not a regular file (a folder, a FIFO, a device) says what it is;
        // it is never opened, so a FIFO cannot hang the load.
        if std::fs::symlink_metadata(&p).is_ok() {
            super::store::Target::resolve(&p)?;
        }
        return Err(Error::ConfigNotFound { path: p });
    }
    Ok(DEFAULT_FILES
        .iter()
        .map(|f| cwd.join(f))
        .find(|p| p.is_file()))
}

pub(crate) fn display_name(path: Option<&Path>, cwd: &Path) -> String {
    match path {
        Some(p) => p.strip_prefix(cwd).unwrap_or(p).display().to_string(),
        None => "the built-in defaults".into(),
    }
}

pub(crate) fn parse_yaml(text: &str, display: &str) -> Result<Value> {
    if text.trim().is_empty() {
        return Ok(Value::Null);
    }
    super::source::check_depth(text).map_err(|e| Error::ConfigSyntax {
        location: format!("{display}:{}:{}", e.pos.line, e.pos.column),
        message: e.message,
    })?;
    let mut v: Value = yaml_serde::from_str(text).map_err(|e| syntax(&e, display))?;
    v.apply_merge().map_err(|e| syntax(&e, display))?;
    match v {
        Value::Null | Value::Mapping(_) => Ok(v),
        other => Err(Error::ConfigSyntax {
            location: format!("{display}:1:1"),
            message: format!(
                "the configuration must be a mapping (`components:`, `repositories:`, ...), not {}",
                match other {
                    Value::Sequence(_) => "a list",
                    _ => "a single value",
                }
            ),
        }),
    }
}

pub(crate) fn syntax(e: &yaml_serde::Error, display: &str) -> Error {
    let location = match e.location() {
        Some(l) => format!("{display}:{}:{}", l.line(), l.column()),
        None => display.to_owned(),
    };
    let message = e.to_string();
    // yaml_serde appends " at line X column Y": the location already says it.
    let message = message
        .split(" at line ")
        .next()
        .unwrap_or(&message)
        .to_owned();
    Error::ConfigSyntax { location, message }
}

pub(crate) fn locate_problems(
    problems: Vec<Problem>,
    display: &str,
    text: &str,
    overrides: &[Override],
) -> Vec<Located> {
    let index = SourceIndex::build(text).ok();
    let mut located: Vec<((usize, usize), Located)> = problems
        .into_iter()
        .map(|p| {
            let by_env = overrides
                .iter()
                .find(|o| p.path.segments().starts_with(o.path.segments()));
            let pos = index.as_ref().and_then(|i| i.position(&p.path));
            let (order, location) = match (by_env, pos) {
                (Some(o), _) => ((0, 0), format!("{} (environment)", o.var)),
                (None, Some(pos)) => (
                    (pos.line, pos.column),
                    format!("{display}:{}:{}", pos.line, pos.column),
                ),
                (None, None) => ((usize::MAX, 0), display.to_owned()),
            };
            let l = Located {
                location,
                key: p.path.to_string(),
                message: p.message,
                help: p.help,
            };
            (order, l)
        })
        .collect();
    // In file order, so the list reads top to bottom like the file.
    located.sort_by_key(|(order, _)| *order);
    located.into_iter().map(|(_, l)| l).collect()
}

/// Writes `bytes` to `path` so that a reader (or a crash) sees the old content or the new,
/// never a mix: a temporary file in the same folder, synced, then renamed over the target
/// (keeping its permissions).
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut tmp = tempfile::Builder::new()
        .prefix(".tta-save-")
        .tempfile_in(dir)
        .map_err(|e| Error::io("create a temporary file in", dir, e))?;
    tmp.write_all(bytes)
        .map_err(|e| Error::io("write", tmp.path().to_path_buf(), e))?;
    tmp.as_file()
        .sync_all()
        .map_err(|e| Error::io("write", tmp.path().to_path_buf(), e))?;
    if let Ok(meta) = std::fs::metadata(path) {
        // Best effort: a file we may not chmod keeps the temporary file's mode.
        let _ = tmp.as_file().set_permissions(meta.permissions());
    }
    tmp.persist(path)
        .map_err(|e| Error::io("write", path, e.error))?;
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}
