//! Which containers `tta` stopped: a small marker per component in the state directory,
//! so that an exited container reads as `stopped` rather than as a one-shot that
//! completed.

use std::path::PathBuf;

use super::ps::Container;
use crate::error::Error;
use crate::state::{StateDir, now_epoch};

fn path(state: &StateDir, name: &str) -> PathBuf {
    state
        .root()
        .join("compose")
        .join(format!("{}.stopped", name.replace('/', "%")))
}

/// Whether `tta` stopped this container (and it has not run since).
pub(super) fn stopped_by_tta(state: &StateDir, name: &str, c: &Container, now: f64) -> bool {
    let Ok(text) = std::fs::read_to_string(path(state, name)) else {
        return false;
    };
    let mut lines = text.lines();
    let at: f64 = lines
        .next()
        .and_then(|l| l.trim().parse().ok())
        .unwrap_or(0.0);
    let ours = lines
        .any(|id| !id.is_empty() && (c.id.starts_with(id.trim()) || id.trim().starts_with(&c.id)));
    // A container that exited well after the stop ran again since.
    let exited_at = c.age.map(|a| now - a);
    ours && exited_at.is_none_or(|t| t <= at + c.age_precision + 2.0)
}

/// Remembers that `tta` stopped these containers of a component.
pub(super) fn write(state: &StateDir, name: &str, ids: &[&str]) {
    let path = path(state, name);
    let text = format!("{}\n{}\n", now_epoch(), ids.join("\n"));
    let written = path
        .parent()
        .map_or(Ok(()), std::fs::create_dir_all)
        .map_err(|e| Error::io("create", path.clone(), e))
        .and_then(|()| crate::config::write_atomic(&path, text.as_bytes()));
    if let Err(e) = written {
        tracing::warn!(
            "cannot record that {name} was stopped: {}",
            crate::error::render(&e)
        );
    }
}

/// Forgets the marker of a component (it is being started).
pub(super) fn clear(state: &StateDir, name: &str) {
    let _ = std::fs::remove_file(path(state, name));
}
