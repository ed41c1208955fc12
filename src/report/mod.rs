//! Turning runner events and reports into output: live progress on stderr (bars on a
//! terminal, timestamped lines elsewhere), a closing summary, and the `--json` document.

mod json;
mod progress;
mod summary;

pub use json::run_json;
pub use progress::Progress;
pub use summary::summary;
