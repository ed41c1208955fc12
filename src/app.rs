//! The program's one entry point and one exit path: parse arguments, set up logging and
//! colour, run the command, render any error once, and return the exit code.

use std::process::ExitCode;

use clap::Parser as _;

use crate::cli::{Cli, ColorChoice, Command};
use crate::commands;
use crate::error::{self, Error};
use crate::output::Output;

/// Runs `tta` with the process's arguments.
pub fn main() -> ExitCode {
    if std::env::args_os()
        .nth(1)
        .is_some_and(|a| a == commands::keep::COMMAND)
    {
        // Not a command of the CLI (not in its help, completions or manual): `tta start`
        // runs it.
        return ExitCode::from(commands::keep::main());
    }
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // clap prints help and version to stdout (exit 0) and usage errors to stderr.
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() {
                error::exit::USAGE
            } else {
                error::exit::OK
            });
        }
    };
    crate::output::set_scrubber(crate::config::secrets::scrub);
    let out = Output::new(
        cli.json,
        cli.quiet,
        color_enabled(cli.color, &console::Term::stderr()),
    )
    .with_color_stdout(color_enabled(cli.color, &console::Term::stdout()));
    // Processes and tasks get a keeper (this binary) that writes their logs with times and
    // records their exit codes, even after this run has ended.
    if let Ok(me) = std::env::current_exe() {
        crate::driver::use_keeper(me);
    }
    init_logging(&cli, &out);
    match run(&cli, &out) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            report(&out, &e);
            ExitCode::from(e.exit_code())
        }
    }
}

/// Renders an error: JSON on stdout under `--json`, and always a human message on stderr.
pub(crate) fn report(out: &Output, e: &Error) {
    if out.json {
        out.json_line(&error::to_json(e));
    }
    out.error(&error::render(e));
}

fn color_enabled(choice: ColorChoice, term: &console::Term) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                && term.features().colors_supported()
        }
    }
}

fn init_logging(cli: &Cli, out: &Output) {
    use tracing_subscriber::EnvFilter;
    let level = match (cli.quiet, cli.verbose) {
        (true, _) => "error",
        (_, 0) => "warn",
        (_, 1) => "info",
        (_, 2) => "debug",
        _ => "trace",
    };
    let filter = match std::env::var("TTA_LOG") {
        Ok(s) if !s.is_empty() && cli.verbose == 0 => {
            EnvFilter::try_new(s).unwrap_or_else(|_| EnvFilter::new(level))
        }
        _ => EnvFilter::new(format!("tta={level}")),
    };
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(|| Scrubbed)
        .with_ansi(out.color)
        .with_target(false)
        .without_time()
        .try_init();
}

/// Standard error for log lines, with secrets masked like every other line.
struct Scrubbed;

impl std::io::Write for Scrubbed {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let text = String::from_utf8_lossy(buf);
        std::io::stderr()
            .lock()
            .write_all(crate::output::scrub(&text).as_bytes())?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}

/// Runs a parsed command line; returns the exit code of a command that ran.
pub(crate) fn run(cli: &Cli, out: &Output) -> Result<u8, Error> {
    let config = cli.config.as_deref();
    if needs_config(&cli.command) {
        let cwd = std::env::current_dir().map_err(|e| Error::io("read", ".", e))?;
        if crate::config::locate(config, &cwd)?.is_none() {
            return Err(Error::NoConfig);
        }
    }
    match &cli.command {
        Command::Config(c) => commands::config::run(config, c, out),
        Command::Graph(a) => commands::graph::run(config, a, out),
        Command::Start(a) => commands::lifecycle::start(config, a, out),
        Command::Stop(a) => commands::lifecycle::stop(config, a, out),
        Command::Down(a) => commands::down::run(config, a, out),
        Command::Restart(a) => commands::lifecycle::restart(config, a, out),
        Command::Up(a) => commands::up::run(config, a, out),
        Command::Run(a) => commands::run::run(config, a, out),
        Command::Status(a) => commands::status::run(config, a, out),
        Command::Logs(a) => commands::logs::run(config, a, out),
        Command::Completions { shell } => {
            out.stdout(&commands::generate::completions(*shell));
            Ok(error::exit::OK)
        }
        Command::Doctor => Ok(commands::doctor::run(config, out)),
        Command::Man => {
            out.stdout(&commands::generate::man_page());
            Ok(error::exit::OK)
        }
        Command::Compose(a) => commands::compose::run(config, a, out),
        Command::Init => commands::init::run(out),
    }
}

/// Whether a command works on a stack, so that a folder without a config is an error rather
/// than an empty stack (and nothing is created there).
fn needs_config(command: &Command) -> bool {
    use crate::cli::ConfigCommand;
    match command {
        Command::Start(_)
        | Command::Stop(_)
        | Command::Down(_)
        | Command::Restart(_)
        | Command::Up(_)
        | Command::Run(_)
        | Command::Status(_)
        | Command::Logs(_)
        | Command::Graph(_)
        | Command::Compose(_) => true,
        Command::Config(c) => matches!(
            c,
            ConfigCommand::Get { .. } | ConfigCommand::Show { .. } | ConfigCommand::Validate
        ),
        Command::Completions { .. } | Command::Doctor | Command::Man | Command::Init => false,
    }
}
