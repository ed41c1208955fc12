//! `tta run TASK`: a one-shot task on its own, in the foreground. Its output streams as it
//! comes, and `tta` exits with the task's exit code (130 when interrupted, 128 + N when
//! signal N ended it). With `--deps`, what it depends on is brought up first, as `tta start`
//! would (with its progress and, on failure, its summary and exit code 1). It never
//! restarts anything that depends on the task.

use std::path::Path;

use crate::cli::RunArgs;
use crate::error::{Result, exit};
use crate::orchestrator::{Orchestrator, RunOptions};
use crate::output::Output;
use crate::report::{Progress, problems};
use crate::runner::signals;

/// Runs `tta run`.
pub(crate) fn run(config: Option<&Path>, args: &RunArgs, out: &Output) -> Result<u8> {
    let orch = Orchestrator::load(config)?;
    signals::install(orch.cancel_token());
    let progress = Progress::new(orch.graph(), out).with_timeouts(orch.start_timeouts());
    let opts = RunOptions {
        timeout: args.timeout,
        ..RunOptions::default()
    };
    let ran = orch.run_task(&args.name, args.deps, &opts, &progress)?;
    progress.finish();
    if let Some(report) = ran.dependencies.filter(|r| !r.success()) {
        out.error(problems(&report, orch.graph(), out).trim_end());
        return Ok(if report.interrupted {
            exit::INTERRUPTED
        } else {
            exit::FAILED
        });
    }
    Ok(match ran.exit {
        None if orch.cancel_token().is_cancelled() => exit::INTERRUPTED,
        None => exit::FAILED,
        Some(code) => u8::try_from(code).unwrap_or(exit::FAILED),
    })
}
