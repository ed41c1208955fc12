//! Turning runner events and reports into output: live progress on stderr (bars on a
//! terminal, timestamped lines elsewhere), a closing summary, and the `--json` document.

mod json;
mod progress;
mod summary;

pub(crate) use json::run_json;
pub(crate) use progress::Progress;
pub(crate) use summary::{problems, summary};
