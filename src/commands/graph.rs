//! `tta graph`.

use std::path::Path;

use crate::cli::GraphArgs;
use crate::error::{Result, exit};
use crate::graph::{Format, render};
use crate::output::Output;
use crate::settings::Settings;

/// Prints the dependency graph.
pub(crate) fn run(config: Option<&Path>, args: &GraphArgs, out: &Output) -> Result<u8> {
    let settings = Settings::load(config)?;
    let format = if out.json { Format::Json } else { args.format };
    out.stdout(&render(settings.graph(), format));
    Ok(exit::OK)
}
