//! `tta up`: start like `tta start`, then supervise in the foreground until Ctrl-C (exit
//! 130), a failure for good under `--exit-on-failure` (exit 1), or until nothing is left
//! running (exit 0, or 1 when something failed).

use std::io::IsTerminal as _;
use std::path::Path;

use crate::cli::UpArgs;
use crate::error::{Result, exit};
use crate::output::Output;
use crate::runner::{Cancel, signals};
use crate::supervisor::{Finish, Options, Printer, Style, World, supervise};

/// Runs `tta up`.
pub(crate) fn run(config: Option<&Path>, args: &UpArgs, out: &Output) -> Result<u8> {
    let world = World::load(config, &args.names, args.no_deps)?;
    world.claim()?;
    world.preflight(args.names.is_empty() || args.names.iter().any(|n| n == "all"))?;
    let cancel = Cancel::new();
    signals::install(&cancel);
    let style = if out.json {
        Style::Json
    } else if !args.no_color && out.color && std::io::stdout().is_terminal() {
        Style::Color
    } else {
        Style::Plain
    };
    let printer = Printer::new(style, world.widest_name(), args.timestamps);
    let opts = Options {
        names: args.names.clone(),
        no_deps: args.no_deps,
        timeout: args.timeout,
        jobs: None,
        exit_on_failure: args.exit_on_failure,
        stop_all: args.stop_all,
    };
    let finish = supervise(world, &opts, &printer, &cancel);
    printer.close();
    Ok(match finish {
        Finish::Interrupted => exit::INTERRUPTED,
        Finish::Failed | Finish::SomeFailed => exit::FAILED,
        Finish::AllDone => exit::OK,
    })
}
