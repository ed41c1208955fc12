//! The command line: clap definitions only. Parsing produces these raw values; the
//! commands resolve them against the configuration.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::graph::Format;

/// Bring a development stack up and down in dependency order.
#[derive(Debug, Parser)]
#[command(name = "tta", version, propagate_version = true, max_term_width = 100)]
#[command(
    after_help = "Exit codes: 0 ok, 1 an operation failed or a component is not up, \
2 usage or configuration error, 3 environment error (docker, compose, engine, repository \
path), 130 interrupted."
)]
pub(crate) struct Cli {
    /// The config file (default: ./tta.yaml, then ./config/tta.yaml).
    #[arg(
        short,
        long,
        global = true,
        env = "TTA_CONFIG",
        value_name = "FILE",
        help_heading = "Global options"
    )]
    pub config: Option<PathBuf>,
    /// Machine-readable output on stdout (with a `schema_version`).
    #[arg(long, global = true, help_heading = "Global options")]
    pub json: bool,
    /// More log output on stderr (-v info, -vv debug, -vvv trace); see also `TTA_LOG`.
    #[arg(short, long, global = true, action = clap::ArgAction::Count, help_heading = "Global options")]
    pub verbose: u8,
    /// Only errors on stderr.
    #[arg(
        short,
        long,
        global = true,
        conflicts_with = "verbose",
        help_heading = "Global options"
    )]
    pub quiet: bool,
    /// When to use colour (`NO_COLOR` is honoured).
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto, env = "TTA_COLOR", value_name = "WHEN", help_heading = "Global options")]
    pub color: ColorChoice,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// `--color`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum ColorChoice {
    /// Colour on a terminal, unless `NO_COLOR` is set.
    Auto,
    /// Always.
    Always,
    /// Never.
    Never,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Start components and everything they depend on (no names: all).
    Start(StartArgs),
    /// Stop components, after the running components that depend on them (no names: all).
    Stop(StopArgs),
    /// Stop components (dependents first), then remove their containers: compose `down` in
    /// each repository taken whole, `rm -f` of the services otherwise.
    Down(DownArgs),
    /// Stop, then start again, components and the dependents that were running.
    Restart(RestartArgs),
    /// Start components like `start`, then stay in the foreground: stream their output,
    /// restart them by their restart policy, reload on config changes; Ctrl-C stops what it
    /// started.
    Up(UpArgs),
    /// Run a one-shot task on its own, its output streamed, and exit with its exit code.
    Run(RunArgs),
    /// Show each component's status, read from the running system.
    Status(StatusArgs),
    /// Show the dependency graph.
    Graph(GraphArgs),
    /// Show a component's log (processes and tasks: its log file; compose: compose logs).
    Logs(LogsArgs),
    /// Read, change and check the configuration.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Check what the stack needs (config, repositories, docker, compose, engine, state
    /// dir, probe ports), one line each with the fix.
    Doctor,
    /// Print a shell completion script (`tta completions bash > /etc/bash_completion.d/tta`).
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff): `tta man | man -l -`.
    Man,
    /// Run a compose command in each repository, one after another, with its project name,
    /// files and profiles (`tta compose up -d --repo both`, `tta compose --repo tta.dev ps`).
    Compose(ComposeArgs),
    /// Write a starter `tta.yaml` for this folder: the compose projects here, below and
    /// beside it as repositories, and commented examples of a process, a task and a probe.
    /// Never overwrites a config.
    Init,
}

/// `tta compose`.
#[derive(Debug, Args)]
#[command(
    after_help = "`--repo NAME` (or `--repo=NAME`; repeatable, comma-separated; `all` or `both` for every \
repository, the default) may stand anywhere before `--`; everything else, and everything after `--`, \
goes to compose as typed. The compose command is detected (`docker compose`, else \
`docker-compose`); set TTA_COMPOSE or `compose.command` to choose (e.g. `podman compose`)."
)]
pub(crate) struct ComposeArgs {
    /// The compose command's arguments, with `--repo NAME` anywhere before `--`.
    #[arg(
        value_name = "ARGS",
        trailing_var_arg = true,
        allow_hyphen_values = true,
        num_args = 0..
    )]
    pub args: Vec<String>,
}

/// `tta start`.
#[derive(Debug, Args)]
pub(crate) struct StartArgs {
    /// Components to start; `all` or none for every component.
    #[arg(value_name = "NAME")]
    pub names: Vec<String>,
    /// Start only the named components, not what they depend on.
    #[arg(long)]
    pub no_deps: bool,
    /// How many start operations run at once (default: `defaults.jobs`).
    #[arg(short, long, value_name = "N", env = "TTA_JOBS", value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub jobs: Option<u16>,
    /// Give up on the whole run after this long (e.g. `2m`).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub timeout: Option<std::time::Duration>,
    /// On the first failure, stop starting anything else.
    #[arg(long)]
    pub fail_fast: bool,
    /// Build compose services' images before starting them (`compose up --build`).
    #[arg(long)]
    pub build: bool,
    /// Pull compose services' images before starting them (`compose pull`, then `up`).
    #[arg(long)]
    pub pull: bool,
    /// Print what would start, in which order, and what each waits for; start nothing.
    #[arg(long)]
    pub dry_run: bool,
}

/// `tta up`.
#[derive(Debug, Args)]
#[command(
    after_help = "Output lines are `NAME | line`; what happens to a component is `NAME * event` \
(ready, exited with code 3; restarting in 2s, gave up, ...); with --json, one JSON object per line. \
`tta status` in another shell shows restart counts and planned restarts; `tta restart NAME` there \
works while `up` runs. Exit: 130 after Ctrl-C (what `up` started is stopped), 1 when a component \
failed for good under --exit-on-failure, else 0 once nothing is left running (1 if something failed)."
)]
pub(crate) struct UpArgs {
    /// Components to run; `all` or none for every component.
    #[arg(value_name = "NAME")]
    pub names: Vec<String>,
    /// Run only the named components, not what they depend on.
    #[arg(long)]
    pub no_deps: bool,
    /// Give up on the initial start after this long (e.g. `2m`).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub timeout: Option<std::time::Duration>,
    /// Exit non-zero as soon as a component fails for good (its restarts used, or a
    /// restart policy that does not restart it), stopping the rest; for CI.
    #[arg(long)]
    pub exit_on_failure: bool,
    /// At the end, also stop the components that were already running before `up`.
    #[arg(long)]
    pub stop_all: bool,
    /// No colour in the output.
    #[arg(long)]
    pub no_color: bool,
    /// Put the time before each line.
    #[arg(long)]
    pub timestamps: bool,
}

/// `tta stop`.
#[derive(Debug, Args)]
pub(crate) struct StopArgs {
    /// Components to stop; `all` or none for every component.
    #[arg(value_name = "NAME")]
    pub names: Vec<String>,
    /// Stop only the named components, not the running components that depend on them.
    #[arg(long)]
    pub no_deps: bool,
    /// Give up on the whole run after this long.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub timeout: Option<std::time::Duration>,
    /// Print what would stop, in which order; stop nothing.
    #[arg(long)]
    pub dry_run: bool,
}

/// `tta down`.
#[derive(Debug, Args)]
pub(crate) struct DownArgs {
    /// Components to take down; `all` or none for every component.
    #[arg(value_name = "NAME")]
    pub names: Vec<String>,
    /// Remove volumes too: named volumes of repositories taken whole (compose `down -v`),
    /// anonymous ones of the services removed. (Long form only: `-v` is `--verbose`.)
    #[arg(long)]
    pub volumes: bool,
    /// Take down only the named components, not the running components that depend on them.
    #[arg(long)]
    pub no_deps: bool,
    /// Give up on the stop after this long.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub timeout: Option<std::time::Duration>,
}

/// `tta run`.
#[derive(Debug, Args)]
pub(crate) struct RunArgs {
    /// The task to run.
    #[arg(value_name = "TASK")]
    pub name: String,
    /// Bring what it depends on up first (as `tta start` would); without it, dependencies are
    /// not looked at.
    #[arg(long)]
    pub deps: bool,
    /// Give up on the dependencies (with `--deps`) after this long.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub timeout: Option<std::time::Duration>,
}

/// `tta restart`.
#[derive(Debug, Args)]
pub(crate) struct RestartArgs {
    /// Components to restart; `all` or none for every component.
    #[arg(value_name = "NAME")]
    pub names: Vec<String>,
    /// Restart only the named components, not the running components that depend on them.
    #[arg(long)]
    pub no_deps: bool,
    /// How many operations run at once (default: `defaults.jobs`).
    #[arg(short, long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub jobs: Option<u16>,
    /// Give up on the whole run after this long.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub timeout: Option<std::time::Duration>,
}

/// `tta status`.
#[derive(Debug, Args)]
pub(crate) struct StatusArgs {
    /// Components to show (none: all).
    #[arg(value_name = "NAME")]
    pub names: Vec<String>,
    /// Refresh the table in place until Ctrl-C (on a terminal), on every engine event.
    #[arg(short, long, conflicts_with = "json")]
    pub watch: bool,
    /// How often `--watch` refreshes without an engine event (processes and probes have
    /// none).
    #[arg(long, value_name = "DURATION", default_value = "2s", value_parser = parse_duration, requires = "watch")]
    pub interval: std::time::Duration,
}

/// `tta graph`.
#[derive(Debug, Args)]
pub(crate) struct GraphArgs {
    /// Output format (`--json` is the same as `--format json`).
    #[arg(long, short, value_enum, default_value_t = Format::Tree)]
    pub format: Format,
}

/// `tta logs`.
#[derive(Debug, Args)]
pub(crate) struct LogsArgs {
    /// Components whose logs to show (all of them when none is named).
    #[arg(value_name = "NAME")]
    pub names: Vec<String>,
    /// How many lines of each from the end [default: 50; all with `--since`].
    #[arg(short = 'n', long, value_name = "N")]
    pub lines: Option<usize>,
    /// Keep printing new lines, of every component shown, until Ctrl-C.
    #[arg(short, long)]
    pub follow: bool,
    /// Show each line's time (RFC 3339, UTC).
    #[arg(short, long)]
    pub timestamps: bool,
    /// Only lines since a time: a duration back from now (`10m`, `1h30m`) or a time
    /// (`2026-12-01T09:30:00Z`).
    #[arg(long, value_name = "WHEN")]
    pub since: Option<String>,
}

/// `tta config ...`.
#[derive(Debug, Subcommand)]
pub(crate) enum ConfigCommand {
    /// Print the value tta uses for a dotted key, written or default (quote segments with
    /// dots: `repositories."tta.dev".path`).
    Get {
        /// The key.
        key: String,
        /// Show secrets (values under keys like `password`, `token`, `secret`, `key`).
        #[arg(long)]
        reveal: bool,
        /// Also print where the value comes from: `file:line:column`, an environment
        /// variable, a default, or a value inherited or inferred.
        #[arg(long)]
        show_origin: bool,
    },
    /// Set a key in the config file (value parsed as YAML); validated before it is written.
    Set {
        /// The key.
        key: String,
        /// The value (`5s`, `true`, `7688`, `[a, b]`, ...).
        value: String,
    },
    /// Write the configuration to PATH (default: the file it came from).
    Save {
        /// Where to write.
        path: Option<PathBuf>,
        /// Write the effective configuration, with TTA__ environment overrides applied
        /// (comments are not kept).
        #[arg(long)]
        include_env: bool,
    },
    /// Print the effective configuration (file plus environment overrides).
    Show {
        /// Show secrets (values under keys like `password`, `token`, `secret`, `key`).
        #[arg(long)]
        reveal: bool,
    },
    /// Check the configuration and report every problem.
    Validate,
    /// Print the path of the config file in use.
    Path,
    /// Print a JSON Schema of the config file, for editors.
    Schema,
}

fn parse_duration(s: &str) -> Result<std::time::Duration, String> {
    crate::duration::parse(s).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn clap_definition_is_consistent() {
        super::Cli::command().debug_assert();
    }
}
