# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_tta_global_optspecs
    string join \n c/config= json v/verbose q/quiet color= h/help V/version
end

function __fish_tta_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_tta_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_tta_using_subcommand
    set -l cmd (__fish_tta_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c tta -n "__fish_tta_needs_command" -s c -l config -d 'The config file (default: ./tta.yaml, then ./config/tta.yaml)' -r -F
complete -c tta -n "__fish_tta_needs_command" -l color -d 'When to use colour (`NO_COLOR` is honoured)' -r -f -a "auto\t'Colour on a terminal, unless `NO_COLOR` is set'
always\t'Always'
never\t'Never'"
complete -c tta -n "__fish_tta_needs_command" -l json -d 'Machine-readable output on stdout (with a `schema_version`)'
complete -c tta -n "__fish_tta_needs_command" -s v -l verbose -d 'More log output on stderr (-v info, -vv debug, -vvv trace); see also `TTA_LOG`'
complete -c tta -n "__fish_tta_needs_command" -s q -l quiet -d 'Only errors on stderr'
complete -c tta -n "__fish_tta_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c tta -n "__fish_tta_needs_command" -s V -l version -d 'Print version'
complete -c tta -n "__fish_tta_needs_command" -f -a "start" -d 'Start components and everything they depend on (no names: all)'
complete -c tta -n "__fish_tta_needs_command" -f -a "stop" -d 'Stop components, after the running components that depend on them (no names: all)'
complete -c tta -n "__fish_tta_needs_command" -f -a "down" -d 'Stop components (dependents first), then remove their containers: compose `down` in each repository taken whole, `rm -f` of the services otherwise'
complete -c tta -n "__fish_tta_needs_command" -f -a "restart" -d 'Stop, then start again, components and the dependents that were running'
complete -c tta -n "__fish_tta_needs_command" -f -a "up" -d 'Start components like `start`, then stay in the foreground: stream their output, restart them by their restart policy, reload on config changes; Ctrl-C stops what it started'
complete -c tta -n "__fish_tta_needs_command" -f -a "run" -d 'Run a one-shot task on its own, its output streamed, and exit with its exit code'
complete -c tta -n "__fish_tta_needs_command" -f -a "status" -d 'Show each component\'s status, read from the running system'
complete -c tta -n "__fish_tta_needs_command" -f -a "graph" -d 'Show the dependency graph'
complete -c tta -n "__fish_tta_needs_command" -f -a "logs" -d 'Show a component\'s log (processes and tasks: its log file; compose: compose logs)'
complete -c tta -n "__fish_tta_needs_command" -f -a "config" -d 'Read, change and check the configuration'
complete -c tta -n "__fish_tta_needs_command" -f -a "doctor" -d 'Check what the stack needs (config, repositories, docker, compose, engine, state dir, probe ports), one line each with the fix'
complete -c tta -n "__fish_tta_needs_command" -f -a "completions" -d 'Print a shell completion script (`tta completions bash > /etc/bash_completion.d/tta`)'
complete -c tta -n "__fish_tta_needs_command" -f -a "man" -d 'Print the manual page (roff): `tta man | man -l -`'
complete -c tta -n "__fish_tta_needs_command" -f -a "compose" -d 'Run a compose command in each repository, one after another, with its project name, files and profiles (`tta compose up -d --repo both`, `tta compose --repo tta.dev ps`)'
complete -c tta -n "__fish_tta_needs_command" -f -a "init" -d 'Write a starter `tta.yaml` for this folder: the compose projects here, below and beside it as repositories, and commented examples of a process, a task and a probe. Never overwrites a config'
complete -c tta -n "__fish_tta_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c tta -n "__fish_tta_using_subcommand start" -s j -l jobs -d 'How many start operations run at once (default: `defaults.jobs`)' -r
complete -c tta -n "__fish_tta_using_subcommand start" -l timeout -d 'Give up on the whole run after this long (e.g. `2m`)' -r
complete -c tta -n "__fish_tta_using_subcommand start" -s c -l config -d 'The config file (default: ./tta.yaml, then ./config/tta.yaml)' -r -F
complete -c tta -n "__fish_tta_using_subcommand start" -l color -d 'When to use colour (`NO_COLOR` is honoured)' -r -f -a "auto\t'Colour on a terminal, unless `NO_COLOR` is set'
always\t'Always'
never\t'Never'"
complete -c tta -n "__fish_tta_using_subcommand start" -l no-deps -d 'Start only the named components, not what they depend on'
complete -c tta -n "__fish_tta_using_subcommand start" -l fail-fast -d 'On the first failure, stop starting anything else'
complete -c tta -n "__fish_tta_using_subcommand start" -l build -d 'Build compose services\' images before starting them (`compose up --build`)'
complete -c tta -n "__fish_tta_using_subcommand start" -l pull -d 'Pull compose services\' images before starting them (`compose pull`, then `up`)'
complete -c tta -n "__fish_tta_using_subcommand start" -l dry-run -d 'Print what would start, in which order, and what each waits for; start nothing'
complete -c tta -n "__fish_tta_using_subcommand start" -l json -d 'Machine-readable output on stdout (with a `schema_version`)'
complete -c tta -n "__fish_tta_using_subcommand start" -s v -l verbose -d 'More log output on stderr (-v info, -vv debug, -vvv trace); see also `TTA_LOG`'
complete -c tta -n "__fish_tta_using_subcommand start" -s q -l quiet -d 'Only errors on stderr'
complete -c tta -n "__fish_tta_using_subcommand start" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c tta -n "__fish_tta_using_subcommand start" -s V -l version -d 'Print version'
complete -c tta -n "__fish_tta_using_subcommand stop" -l timeout -d 'Give up on the whole run after this long' -r
complete -c tta -n "__fish_tta_using_subcommand stop" -s c -l config -d 'The config file (default: ./tta.yaml, then ./config/tta.yaml)' -r -F
complete -c tta -n "__fish_tta_using_subcommand stop" -l color -d 'When to use colour (`NO_COLOR` is honoured)' -r -f -a "auto\t'Colour on a terminal, unless `NO_COLOR` is set'
always\t'Always'
never\t'Never'"
complete -c tta -n "__fish_tta_using_subcommand stop" -l no-deps -d 'Stop only the named components, not the running components that depend on them'
complete -c tta -n "__fish_tta_using_subcommand stop" -l dry-run -d 'Print what would stop, in which order; stop nothing'
complete -c tta -n "__fish_tta_using_subcommand stop" -l json -d 'Machine-readable output on stdout (with a `schema_version`)'
complete -c tta -n "__fish_tta_using_subcommand stop" -s v -l verbose -d 'More log output on stderr (-v info, -vv debug, -vvv trace); see also `TTA_LOG`'
complete -c tta -n "__fish_tta_using_subcommand stop" -s q -l quiet -d 'Only errors on stderr'
complete -c tta -n "__fish_tta_using_subcommand stop" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c tta -n "__fish_tta_using_subcommand stop" -s V -l version -d 'Print version'
complete -c tta -n "__fish_tta_using_subcommand down" -l timeout -d 'Give up on the stop after this long' -r
complete -c tta -n "__fish_tta_using_subcommand down" -s c -l config -d 'The config file (default: ./tta.yaml, then ./config/tta.yaml)' -r -F
complete -c tta -n "__fish_tta_using_subcommand down" -l color -d 'When to use colour (`NO_COLOR` is honoured)' -r -f -a "auto\t'Colour on a terminal, unless `NO_COLOR` is set'
always\t'Always'
never\t'Never'"
complete -c tta -n "__fish_tta_using_subcommand down" -l volumes -d 'Remove volumes too: named volumes of repositories taken whole (compose `down -v`), anonymous ones of the services removed. (Long form only: `-v` is `--verbose`.)'
complete -c tta -n "__fish_tta_using_subcommand down" -l no-deps -d 'Take down only the named components, not the running components that depend on them'
complete -c tta -n "__fish_tta_using_subcommand down" -l json -d 'Machine-readable output on stdout (with a `schema_version`)'
complete -c tta -n "__fish_tta_using_subcommand down" -s v -l verbose -d 'More log output on stderr (-v info, -vv debug, -vvv trace); see also `TTA_LOG`'
complete -c tta -n "__fish_tta_using_subcommand down" -s q -l quiet -d 'Only errors on stderr'
complete -c tta -n "__fish_tta_using_subcommand down" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c tta -n "__fish_tta_using_subcommand down" -s V -l version -d 'Print version'
complete -c tta -n "__fish_tta_using_subcommand restart" -s j -l jobs -d 'How many operations run at once (default: `defaults.jobs`)' -r
complete -c tta -n "__fish_tta_using_subcommand restart" -l timeout -d 'Give up on the whole run after this long' -r
complete -c tta -n "__fish_tta_using_subcommand restart" -s c -l config -d 'The config file (default: ./tta.yaml, then ./config/tta.yaml)' -r -F
complete -c tta -n "__fish_tta_using_subcommand restart" -l color -d 'When to use colour (`NO_COLOR` is honoured)' -r -f -a "auto\t'Colour on a terminal, unless `NO_COLOR` is set'
always\t'Always'
never\t'Never'"
complete -c tta -n "__fish_tta_using_subcommand restart" -l no-deps -d 'Restart only the named components, not the running components that depend on them'
complete -c tta -n "__fish_tta_using_subcommand restart" -l json -d 'Machine-readable output on stdout (with a `schema_version`)'
complete -c tta -n "__fish_tta_using_subcommand restart" -s v -l verbose -d 'More log output on stderr (-v info, -vv debug, -vvv trace); see also `TTA_LOG`'
complete -c tta -n "__fish_tta_using_subcommand restart" -s q -l quiet -d 'Only errors on stderr'
complete -c tta -n "__fish_tta_using_subcommand restart" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c tta -n "__fish_tta_using_subcommand restart" -s V -l version -d 'Print version'
complete -c tta -n "__fish_tta_using_subcommand up" -l timeout -d 'Give up on the initial start after this long (e.g. `2m`)' -r
complete -c tta -n "__fish_tta_using_subcommand up" -s c -l config -d 'The config file (default: ./tta.yaml, then ./config/tta.yaml)' -r -F
complete -c tta -n "__fish_tta_using_subcommand up" -l color -d 'When to use colour (`NO_COLOR` is honoured)' -r -f -a "auto\t'Colour on a terminal, unless `NO_COLOR` is set'
always\t'Always'
never\t'Never'"
complete -c tta -n "__fish_tta_using_subcommand up" -l no-deps -d 'Run only the named components, not what they depend on'
complete -c tta -n "__fish_tta_using_subcommand up" -l exit-on-failure -d 'Exit non-zero as soon as a component fails for good (its restarts used, or a restart policy that does not restart it), stopping the rest; for CI'
complete -c tta -n "__fish_tta_using_subcommand up" -l stop-all -d 'At the end, also stop the components that were already running before `up`'
complete -c tta -n "__fish_tta_using_subcommand up" -l no-color -d 'No colour in the output'
complete -c tta -n "__fish_tta_using_subcommand up" -l timestamps -d 'Put the time before each line'
complete -c tta -n "__fish_tta_using_subcommand up" -l json -d 'Machine-readable output on stdout (with a `schema_version`)'
complete -c tta -n "__fish_tta_using_subcommand up" -s v -l verbose -d 'More log output on stderr (-v info, -vv debug, -vvv trace); see also `TTA_LOG`'
complete -c tta -n "__fish_tta_using_subcommand up" -s q -l quiet -d 'Only errors on stderr'
complete -c tta -n "__fish_tta_using_subcommand up" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c tta -n "__fish_tta_using_subcommand up" -s V -l version -d 'Print version'
complete -c tta -n "__fish_tta_using_subcommand run" -l timeout -d 'Give up on the dependencies (with `--deps`) after this long' -r
complete -c tta -n "__fish_tta_using_subcommand run" -s c -l config -d 'The config file (default: ./tta.yaml, then ./config/tta.yaml)' -r -F
complete -c tta -n "__fish_tta_using_subcommand run" -l color -d 'When to use colour (`NO_COLOR` is honoured)' -r -f -a "auto\t'Colour on a terminal, unless `NO_COLOR` is set'
always\t'Always'
never\t'Never'"
complete -c tta -n "__fish_tta_using_subcommand run" -l deps -d 'Bring what it depends on up first (as `tta start` would); without it, dependencies are not looked at'
complete -c tta -n "__fish_tta_using_subcommand run" -l json -d 'Machine-readable output on stdout (with a `schema_version`)'
complete -c tta -n "__fish_tta_using_subcommand run" -s v -l verbose -d 'More log output on stderr (-v info, -vv debug, -vvv trace); see also `TTA_LOG`'
complete -c tta -n "__fish_tta_using_subcommand run" -s q -l quiet -d 'Only errors on stderr'
complete -c tta -n "__fish_tta_using_subcommand run" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c tta -n "__fish_tta_using_subcommand run" -s V -l version -d 'Print version'
complete -c tta -n "__fish_tta_using_subcommand status" -l interval -d 'How often `--watch` refreshes without an engine event (processes and probes have none)' -r
complete -c tta -n "__fish_tta_using_subcommand status" -s c -l config -d 'The config file (default: ./tta.yaml, then ./config/tta.yaml)' -r -F
complete -c tta -n "__fish_tta_using_subcommand status" -l color -d 'When to use colour (`NO_COLOR` is honoured)' -r -f -a "auto\t'Colour on a terminal, unless `NO_COLOR` is set'
always\t'Always'
never\t'Never'"
complete -c tta -n "__fish_tta_using_subcommand status" -s w -l watch -d 'Refresh the table in place until Ctrl-C (on a terminal), on every engine event'
complete -c tta -n "__fish_tta_using_subcommand status" -l json -d 'Machine-readable output on stdout (with a `schema_version`)'
complete -c tta -n "__fish_tta_using_subcommand status" -s v -l verbose -d 'More log output on stderr (-v info, -vv debug, -vvv trace); see also `TTA_LOG`'
complete -c tta -n "__fish_tta_using_subcommand status" -s q -l quiet -d 'Only errors on stderr'
complete -c tta -n "__fish_tta_using_subcommand status" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c tta -n "__fish_tta_using_subcommand status" -s V -l version -d 'Print version'
complete -c tta -n "__fish_tta_using_subcommand graph" -s f -l format -d 'Output format (`--json` is the same as `--format json`)' -r -f -a "tree\t'Each component with what it depends on beneath it'
dot\t'Graphviz: `tta graph --format dot | dot -Tsvg`'
mermaid\t'A Mermaid flowchart, for Markdown'
json\t'Machine-readable'"
complete -c tta -n "__fish_tta_using_subcommand graph" -s c -l config -d 'The config file (default: ./tta.yaml, then ./config/tta.yaml)' -r -F
complete -c tta -n "__fish_tta_using_subcommand graph" -l color -d 'When to use colour (`NO_COLOR` is honoured)' -r -f -a "auto\t'Colour on a terminal, unless `NO_COLOR` is set'
always\t'Always'
never\t'Never'"
complete -c tta -n "__fish_tta_using_subcommand graph" -l json -d 'Machine-readable output on stdout (with a `schema_version`)'
complete -c tta -n "__fish_tta_using_subcommand graph" -s v -l verbose -d 'More log output on stderr (-v info, -vv debug, -vvv trace); see also `TTA_LOG`'
complete -c tta -n "__fish_tta_using_subcommand graph" -s q -l quiet -d 'Only errors on stderr'
complete -c tta -n "__fish_tta_using_subcommand graph" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c tta -n "__fish_tta_using_subcommand graph" -s V -l version -d 'Print version'
complete -c tta -n "__fish_tta_using_subcommand logs" -s n -l lines -d 'How many lines of each from the end [default: 50; all with `--since`]' -r
complete -c tta -n "__fish_tta_using_subcommand logs" -l since -d 'Only lines since a time: a duration back from now (`10m`, `1h30m`) or a time (`2026-12-01T09:30:00Z`)' -r
complete -c tta -n "__fish_tta_using_subcommand logs" -s c -l config -d 'The config file (default: ./tta.yaml, then ./config/tta.yaml)' -r -F
complete -c tta -n "__fish_tta_using_subcommand logs" -l color -d 'When to use colour (`NO_COLOR` is honoured)' -r -f -a "auto\t'Colour on a terminal, unless `NO_COLOR` is set'
always\t'Always'
never\t'Never'"
complete -c tta -n "__fish_tta_using_subcommand logs" -s f -l follow -d 'Keep printing new lines, of every component shown, until Ctrl-C'
complete -c tta -n "__fish_tta_using_subcommand logs" -s t -l timestamps -d 'Show each line\'s time (RFC 3339, UTC)'
complete -c tta -n "__fish_tta_using_subcommand logs" -l json -d 'Machine-readable output on stdout (with a `schema_version`)'
complete -c tta -n "__fish_tta_using_subcommand logs" -s v -l verbose -d 'More log output on stderr (-v info, -vv debug, -vvv trace); see also `TTA_LOG`'
complete -c tta -n "__fish_tta_using_subcommand logs" -s q -l quiet -d 'Only errors on stderr'
complete -c tta -n "__fish_tta_using_subcommand logs" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c tta -n "__fish_tta_using_subcommand logs" -s V -l version -d 'Print version'
complete -c tta -n "__fish_tta_using_subcommand config; and not __fish_seen_subcommand_from get set save show validate path schema help" -s c -l config -d 'The config file (default: ./tta.yaml, then ./config/tta.yaml)' -r -F
complete -c tta -n "__fish_tta_using_subcommand config; and not __fish_seen_subcommand_from get set save show validate path schema help" -l color -d 'When to use colour (`NO_COLOR` is honoured)' -r -f -a "auto\t'Colour on a terminal, unless `NO_COLOR` is set'
always\t'Always'
never\t'Never'"
complete -c tta -n "__fish_tta_using_subcommand config; and not __fish_seen_subcommand_from get set save show validate path schema help" -l json -d 'Machine-readable output on stdout (with a `schema_version`)'
complete -c tta -n "__fish_tta_using_subcommand config; and not __fish_seen_subcommand_from get set save show validate path schema help" -s v -l verbose -d 'More log output on stderr (-v info, -vv debug, -vvv trace); see also `TTA_LOG`'
complete -c tta -n "__fish_tta_using_subcommand config; and not __fish_seen_subcommand_from get set save show validate path schema help" -s q -l quiet -d 'Only errors on stderr'
complete -c tta -n "__fish_tta_using_subcommand config; and not __fish_seen_subcommand_from get set save show validate path schema help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c tta -n "__fish_tta_using_subcommand config; and not __fish_seen_subcommand_from get set save show validate path schema help" -s V -l version -d 'Print version'
complete -c tta -n "__fish_tta_using_subcommand config; and not __fish_seen_subcommand_from get set save show validate path schema help" -f -a "get" -d 'Print the value tta uses for a dotted key, written or default (quote segments with dots: `repositories."tta.dev".path`)'
complete -c tta -n "__fish_tta_using_subcommand config; and not __fish_seen_subcommand_from get set save show validate path schema help" -f -a "set" -d 'Set a key in the config file (value parsed as YAML); validated before it is written'
complete -c tta -n "__fish_tta_using_subcommand config; and not __fish_seen_subcommand_from get set save show validate path schema help" -f -a "save" -d 'Write the configuration to PATH (default: the file it came from)'
complete -c tta -n "__fish_tta_using_subcommand config; and not __fish_seen_subcommand_from get set save show validate path schema help" -f -a "show" -d 'Print the effective configuration (file plus environment overrides)'
complete -c tta -n "__fish_tta_using_subcommand config; and not __fish_seen_subcommand_from get set save show validate path schema help" -f -a "validate" -d 'Check the configuration and report every problem'
complete -c tta -n "__fish_tta_using_subcommand config; and not __fish_seen_subcommand_from get set save show validate path schema help" -f -a "path" -d 'Print the path of the config file in use'
complete -c tta -n "__fish_tta_using_subcommand config; and not __fish_seen_subcommand_from get set save show validate path schema help" -f -a "schema" -d 'Print a JSON Schema of the config file, for editors'
complete -c tta -n "__fish_tta_using_subcommand config; and not __fish_seen_subcommand_from get set save show validate path schema help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c tta -n "__fish_tta_using_subcommand config; and __fish_seen_subcommand_from get" -s c -l config -d 'The config file (default: ./tta.yaml, then ./config/tta.yaml)' -r -F
complete -c tta -n "__fish_tta_using_subcommand config; and __fish_seen_subcommand_from get" -l color -d 'When to use colour (`NO_COLOR` is honoured)' -r -f -a "auto\t'Colour on a terminal, unless `NO_COLOR` is set'
always\t'Always'
never\t'Never'"
complete -c tta -n "__fish_tta_using_subcommand config; and __fish_seen_subcommand_from get" -l reveal -d 'Show secrets (values under keys like `password`, `token`, `secret`, `key`)'
complete -c tta -n "__fish_tta_using_subcommand config; and __fish_seen_subcommand_from get" -l show-origin -d 'Also print where the value comes from: `file:line:column`, an environment variable, a default, or a value inherited or inferred'
complete -c tta -n "__fish_tta_using_subcommand config; and __fish_seen_subcommand_from get" -l json -d 'Machine-readable output on stdout (with a `schema_version`)'
complete -c tta -n "__fish_tta_using_subcommand config; and __fish_seen_subcommand_from get" -s v -l verbose -d 'More log output on stderr (-v info, -vv debug, -vvv trace); see also `TTA_LOG`'
complete -c tta -n "__fish_tta_using_subcommand config; and __fish_seen_subcommand_from get" -s q -l quiet -d 'Only errors on stderr'
complete -c tta -n "__fish_tta_using_subcommand config; and __fish_seen_subcommand_from get" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c tta -n "__fish_tta_using_subcommand config; and __fish_seen_subcommand_from get" -s V -l version -d 'Print version'
complete -c tta -n "__fish_tta_using_subcommand config; and __fish_seen_subcommand_from set" -s c -l config -d 'The config file (default: ./tta.yaml, then ./config/tta.yaml)' -r -F
complete -c tta -n "__fish_tta_using_subcommand config; and __fish_seen_subcommand_from set" -l color -d 'When to use colour (`NO_COLOR` is honoured)' -r -f -a "auto\t'Colour on a terminal, unless `NO_COLOR` is set'
always\t'Always'
never\t'Never'"
complete -c tta -n "__fish_tta_using_subcommand config; and __fish_seen_subcommand_from set" -l json -d 'Machine-readable output on stdout (with a `schema_version`)'
complete -c tta -n "__fish_tta_using_subcommand config; and __fish_seen_subcommand_from set" -s v -l verbose -d 'More log output on stderr (-v info, -vv debug, -vvv trace); see also `TTA_LOG`'
complete -c tta -n "__fish_tta_using_subcommand config; and __fish_seen_subcommand_from set" -s q -l quiet -d 'Only errors on stderr'
complete -c tta -n "__fish_tta_using_subcommand config; and __fish_seen_subcommand_from set" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c tta -n "__fish_tta_using_subcommand config; and __fish_seen_subcommand_from set" -s V -l version -d 'Print version'
complete -c tta -n "__fish_tta_using_subcommand config; and __fish_seen_subcommand_from save" -s c -l config -d 'The config file (default: ./tta.yaml, then ./config/tta.yaml)' -r -F
complete -c tta -n "__fish_tta_using_subcommand config; and __fish_seen_subcommand_from save" -l color -d 'When to use colour (`NO_COLOR` is honoured)' -r -f -a "auto\t'Colour on a terminal, unless `NO_COLOR` is set'
always\t'Always'
never\t'Never'"
complete -c tta -n "__fish_tta_using_subcommand config; and __fish_seen_subcommand_from save" -l include-env -d 'Write the effective configuration, with TTA__ environment overrides applied (comments are not kept)'
complete -c tta -n "__fish_tta_using_subcommand config; and __fish_seen_subcommand_from save" -l json -d 'Machine-readable output on stdout (with a `schema_version`)'
complete -c tta -n "__fish_tta_using_subcommand config; and __fish_seen_subcommand_from save" -s v -l verbose -d 'More log output on stderr (-v info, -vv debug, -vvv trace); see also `TTA_LOG`'
complete -c tta -n "__fish_tta_using_subcommand config; and __fish_seen_subcommand_from save" -s q -l quiet -d 'Only errors on stderr'
complete -c tta -n "__fish_tta_using_subcommand config; and __fish_seen_subcommand_from save" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c tta -n "__fish_tta_using_subcommand config; and __fish_seen_subcommand_from save" -s V -l version -d 'Print version'
complete -c tta -n "__fish_tta_using_subcommand config; and __fish_seen_subcommand_from show" -s c -l config -d 'The config file (default: ./tta.yaml, then ./config/tta.yaml)' -r -F
complete -c tta -n "__fish_tta_using_subcommand config; and __fish_seen_subcommand_from show" -l color -d 'When to use colour (`NO_COLOR` is honoured)' -r -f -a "auto\t'Colour on a terminal, unless `NO_COLOR` is set'
always\t'Always'
never\t'Never'"
complete -c tta -n "__fish_tta_using_subcommand config; and __fish_seen_subcommand_from show" -l reveal -d 'Show secrets (values under keys like `password`, `token`, `secret`, `key`)'
complete -c tta -n "__fish_tta_using_subcommand config; and __fish_seen_subcommand_from show" -l json -d 'Machine-readable output on stdout (with a `schema_version`)'
complete -c tta -n "__fish_tta_using_subcommand config; and __fish_seen_subcommand_from show" -s v -l verbose -d 'More log output on stderr (-v info, -vv debug, -vvv trace); see also `TTA_LOG`'
complete -c tta -n "__fish_tta_using_subcommand config; and __fish_seen_subcommand_from show" -s q -l quiet -d 'Only errors on stderr'
complete -c tta -n "__fish_tta_using_subcommand config; and __fish_seen_subcommand_from show" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c tta -n "__fish_tta_using_subcommand config; and __fish_seen_subcommand_from show" -s V -l version -d 'Print version'
complete -c tta -n "__fish_tta_using_subcommand config; and __fish_seen_subcommand_from validate" -s c -l config -d 'The config file (default: ./tta.yaml, then ./config/tta.yaml)' -r -F
complete -c tta -n "__fish_tta_using_subcommand config; and __fish_seen_subcommand_from validate" -l color -d 'When to use colour (`NO_COLOR` is honoured)' -r -f -a "auto\t'Colour on a terminal, unless `NO_COLOR` is set'
always\t'Always'
never\t'Never'"
complete -c tta -n "__fish_tta_using_subcommand config; and __fish_seen_subcommand_from validate" -l json -d 'Machine-readable output on stdout (with a `schema_version`)'
complete -c tta -n "__fish_tta_using_subcommand config; and __fish_seen_subcommand_from validate" -s v -l verbose -d 'More log output on stderr (-v info, -vv debug, -vvv trace); see also `TTA_LOG`'
complete -c tta -n "__fish_tta_using_subcommand config; and __fish_seen_subcommand_from validate" -s q -l quiet -d 'Only errors on stderr'
complete -c tta -n "__fish_tta_using_subcommand config; and __fish_seen_subcommand_from validate" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c tta -n "__fish_tta_using_subcommand config; and __fish_seen_subcommand_from validate" -s V -l version -d 'Print version'
complete -c tta -n "__fish_tta_using_subcommand config; and __fish_seen_subcommand_from path" -s c -l config -d 'The config file (default: ./tta.yaml, then ./config/tta.yaml)' -r -F
complete -c tta -n "__fish_tta_using_subcommand config; and __fish_seen_subcommand_from path" -l color -d 'When to use colour (`NO_COLOR` is honoured)' -r -f -a "auto\t'Colour on a terminal, unless `NO_COLOR` is set'
always\t'Always'
never\t'Never'"
complete -c tta -n "__fish_tta_using_subcommand config; and __fish_seen_subcommand_from path" -l json -d 'Machine-readable output on stdout (with a `schema_version`)'
complete -c tta -n "__fish_tta_using_subcommand config; and __fish_seen_subcommand_from path" -s v -l verbose -d 'More log output on stderr (-v info, -vv debug, -vvv trace); see also `TTA_LOG`'
complete -c tta -n "__fish_tta_using_subcommand config; and __fish_seen_subcommand_from path" -s q -l quiet -d 'Only errors on stderr'
complete -c tta -n "__fish_tta_using_subcommand config; and __fish_seen_subcommand_from path" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c tta -n "__fish_tta_using_subcommand config; and __fish_seen_subcommand_from path" -s V -l version -d 'Print version'
complete -c tta -n "__fish_tta_using_subcommand config; and __fish_seen_subcommand_from schema" -s c -l config -d 'The config file (default: ./tta.yaml, then ./config/tta.yaml)' -r -F
complete -c tta -n "__fish_tta_using_subcommand config; and __fish_seen_subcommand_from schema" -l color -d 'When to use colour (`NO_COLOR` is honoured)' -r -f -a "auto\t'Colour on a terminal, unless `NO_COLOR` is set'
always\t'Always'
never\t'Never'"
complete -c tta -n "__fish_tta_using_subcommand config; and __fish_seen_subcommand_from schema" -l json -d 'Machine-readable output on stdout (with a `schema_version`)'
complete -c tta -n "__fish_tta_using_subcommand config; and __fish_seen_subcommand_from schema" -s v -l verbose -d 'More log output on stderr (-v info, -vv debug, -vvv trace); see also `TTA_LOG`'
complete -c tta -n "__fish_tta_using_subcommand config; and __fish_seen_subcommand_from schema" -s q -l quiet -d 'Only errors on stderr'
complete -c tta -n "__fish_tta_using_subcommand config; and __fish_seen_subcommand_from schema" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c tta -n "__fish_tta_using_subcommand config; and __fish_seen_subcommand_from schema" -s V -l version -d 'Print version'
complete -c tta -n "__fish_tta_using_subcommand config; and __fish_seen_subcommand_from help" -f -a "get" -d 'Print the value tta uses for a dotted key, written or default (quote segments with dots: `repositories."tta.dev".path`)'
complete -c tta -n "__fish_tta_using_subcommand config; and __fish_seen_subcommand_from help" -f -a "set" -d 'Set a key in the config file (value parsed as YAML); validated before it is written'
complete -c tta -n "__fish_tta_using_subcommand config; and __fish_seen_subcommand_from help" -f -a "save" -d 'Write the configuration to PATH (default: the file it came from)'
complete -c tta -n "__fish_tta_using_subcommand config; and __fish_seen_subcommand_from help" -f -a "show" -d 'Print the effective configuration (file plus environment overrides)'
complete -c tta -n "__fish_tta_using_subcommand config; and __fish_seen_subcommand_from help" -f -a "validate" -d 'Check the configuration and report every problem'
complete -c tta -n "__fish_tta_using_subcommand config; and __fish_seen_subcommand_from help" -f -a "path" -d 'Print the path of the config file in use'
complete -c tta -n "__fish_tta_using_subcommand config; and __fish_seen_subcommand_from help" -f -a "schema" -d 'Print a JSON Schema of the config file, for editors'
complete -c tta -n "__fish_tta_using_subcommand config; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c tta -n "__fish_tta_using_subcommand doctor" -s c -l config -d 'The config file (default: ./tta.yaml, then ./config/tta.yaml)' -r -F
complete -c tta -n "__fish_tta_using_subcommand doctor" -l color -d 'When to use colour (`NO_COLOR` is honoured)' -r -f -a "auto\t'Colour on a terminal, unless `NO_COLOR` is set'
always\t'Always'
never\t'Never'"
complete -c tta -n "__fish_tta_using_subcommand doctor" -l json -d 'Machine-readable output on stdout (with a `schema_version`)'
complete -c tta -n "__fish_tta_using_subcommand doctor" -s v -l verbose -d 'More log output on stderr (-v info, -vv debug, -vvv trace); see also `TTA_LOG`'
complete -c tta -n "__fish_tta_using_subcommand doctor" -s q -l quiet -d 'Only errors on stderr'
complete -c tta -n "__fish_tta_using_subcommand doctor" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c tta -n "__fish_tta_using_subcommand doctor" -s V -l version -d 'Print version'
complete -c tta -n "__fish_tta_using_subcommand completions" -s c -l config -d 'The config file (default: ./tta.yaml, then ./config/tta.yaml)' -r -F
complete -c tta -n "__fish_tta_using_subcommand completions" -l color -d 'When to use colour (`NO_COLOR` is honoured)' -r -f -a "auto\t'Colour on a terminal, unless `NO_COLOR` is set'
always\t'Always'
never\t'Never'"
complete -c tta -n "__fish_tta_using_subcommand completions" -l json -d 'Machine-readable output on stdout (with a `schema_version`)'
complete -c tta -n "__fish_tta_using_subcommand completions" -s v -l verbose -d 'More log output on stderr (-v info, -vv debug, -vvv trace); see also `TTA_LOG`'
complete -c tta -n "__fish_tta_using_subcommand completions" -s q -l quiet -d 'Only errors on stderr'
complete -c tta -n "__fish_tta_using_subcommand completions" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c tta -n "__fish_tta_using_subcommand completions" -s V -l version -d 'Print version'
complete -c tta -n "__fish_tta_using_subcommand man" -s c -l config -d 'The config file (default: ./tta.yaml, then ./config/tta.yaml)' -r -F
complete -c tta -n "__fish_tta_using_subcommand man" -l color -d 'When to use colour (`NO_COLOR` is honoured)' -r -f -a "auto\t'Colour on a terminal, unless `NO_COLOR` is set'
always\t'Always'
never\t'Never'"
complete -c tta -n "__fish_tta_using_subcommand man" -l json -d 'Machine-readable output on stdout (with a `schema_version`)'
complete -c tta -n "__fish_tta_using_subcommand man" -s v -l verbose -d 'More log output on stderr (-v info, -vv debug, -vvv trace); see also `TTA_LOG`'
complete -c tta -n "__fish_tta_using_subcommand man" -s q -l quiet -d 'Only errors on stderr'
complete -c tta -n "__fish_tta_using_subcommand man" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c tta -n "__fish_tta_using_subcommand man" -s V -l version -d 'Print version'
complete -c tta -n "__fish_tta_using_subcommand compose" -s c -l config -d 'The config file (default: ./tta.yaml, then ./config/tta.yaml)' -r -F
complete -c tta -n "__fish_tta_using_subcommand compose" -l color -d 'When to use colour (`NO_COLOR` is honoured)' -r -f -a "auto\t'Colour on a terminal, unless `NO_COLOR` is set'
always\t'Always'
never\t'Never'"
complete -c tta -n "__fish_tta_using_subcommand compose" -l json -d 'Machine-readable output on stdout (with a `schema_version`)'
complete -c tta -n "__fish_tta_using_subcommand compose" -s v -l verbose -d 'More log output on stderr (-v info, -vv debug, -vvv trace); see also `TTA_LOG`'
complete -c tta -n "__fish_tta_using_subcommand compose" -s q -l quiet -d 'Only errors on stderr'
complete -c tta -n "__fish_tta_using_subcommand compose" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c tta -n "__fish_tta_using_subcommand compose" -s V -l version -d 'Print version'
complete -c tta -n "__fish_tta_using_subcommand init" -s c -l config -d 'The config file (default: ./tta.yaml, then ./config/tta.yaml)' -r -F
complete -c tta -n "__fish_tta_using_subcommand init" -l color -d 'When to use colour (`NO_COLOR` is honoured)' -r -f -a "auto\t'Colour on a terminal, unless `NO_COLOR` is set'
always\t'Always'
never\t'Never'"
complete -c tta -n "__fish_tta_using_subcommand init" -l json -d 'Machine-readable output on stdout (with a `schema_version`)'
complete -c tta -n "__fish_tta_using_subcommand init" -s v -l verbose -d 'More log output on stderr (-v info, -vv debug, -vvv trace); see also `TTA_LOG`'
complete -c tta -n "__fish_tta_using_subcommand init" -s q -l quiet -d 'Only errors on stderr'
complete -c tta -n "__fish_tta_using_subcommand init" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c tta -n "__fish_tta_using_subcommand init" -s V -l version -d 'Print version'
complete -c tta -n "__fish_tta_using_subcommand help; and not __fish_seen_subcommand_from start stop down restart up run status graph logs config doctor completions man compose init help" -f -a "start" -d 'Start components and everything they depend on (no names: all)'
complete -c tta -n "__fish_tta_using_subcommand help; and not __fish_seen_subcommand_from start stop down restart up run status graph logs config doctor completions man compose init help" -f -a "stop" -d 'Stop components, after the running components that depend on them (no names: all)'
complete -c tta -n "__fish_tta_using_subcommand help; and not __fish_seen_subcommand_from start stop down restart up run status graph logs config doctor completions man compose init help" -f -a "down" -d 'Stop components (dependents first), then remove their containers: compose `down` in each repository taken whole, `rm -f` of the services otherwise'
complete -c tta -n "__fish_tta_using_subcommand help; and not __fish_seen_subcommand_from start stop down restart up run status graph logs config doctor completions man compose init help" -f -a "restart" -d 'Stop, then start again, components and the dependents that were running'
complete -c tta -n "__fish_tta_using_subcommand help; and not __fish_seen_subcommand_from start stop down restart up run status graph logs config doctor completions man compose init help" -f -a "up" -d 'Start components like `start`, then stay in the foreground: stream their output, restart them by their restart policy, reload on config changes; Ctrl-C stops what it started'
complete -c tta -n "__fish_tta_using_subcommand help; and not __fish_seen_subcommand_from start stop down restart up run status graph logs config doctor completions man compose init help" -f -a "run" -d 'Run a one-shot task on its own, its output streamed, and exit with its exit code'
complete -c tta -n "__fish_tta_using_subcommand help; and not __fish_seen_subcommand_from start stop down restart up run status graph logs config doctor completions man compose init help" -f -a "status" -d 'Show each component\'s status, read from the running system'
complete -c tta -n "__fish_tta_using_subcommand help; and not __fish_seen_subcommand_from start stop down restart up run status graph logs config doctor completions man compose init help" -f -a "graph" -d 'Show the dependency graph'
complete -c tta -n "__fish_tta_using_subcommand help; and not __fish_seen_subcommand_from start stop down restart up run status graph logs config doctor completions man compose init help" -f -a "logs" -d 'Show a component\'s log (processes and tasks: its log file; compose: compose logs)'
complete -c tta -n "__fish_tta_using_subcommand help; and not __fish_seen_subcommand_from start stop down restart up run status graph logs config doctor completions man compose init help" -f -a "config" -d 'Read, change and check the configuration'
complete -c tta -n "__fish_tta_using_subcommand help; and not __fish_seen_subcommand_from start stop down restart up run status graph logs config doctor completions man compose init help" -f -a "doctor" -d 'Check what the stack needs (config, repositories, docker, compose, engine, state dir, probe ports), one line each with the fix'
complete -c tta -n "__fish_tta_using_subcommand help; and not __fish_seen_subcommand_from start stop down restart up run status graph logs config doctor completions man compose init help" -f -a "completions" -d 'Print a shell completion script (`tta completions bash > /etc/bash_completion.d/tta`)'
complete -c tta -n "__fish_tta_using_subcommand help; and not __fish_seen_subcommand_from start stop down restart up run status graph logs config doctor completions man compose init help" -f -a "man" -d 'Print the manual page (roff): `tta man | man -l -`'
complete -c tta -n "__fish_tta_using_subcommand help; and not __fish_seen_subcommand_from start stop down restart up run status graph logs config doctor completions man compose init help" -f -a "compose" -d 'Run a compose command in each repository, one after another, with its project name, files and profiles (`tta compose up -d --repo both`, `tta compose --repo tta.dev ps`)'
complete -c tta -n "__fish_tta_using_subcommand help; and not __fish_seen_subcommand_from start stop down restart up run status graph logs config doctor completions man compose init help" -f -a "init" -d 'Write a starter `tta.yaml` for this folder: the compose projects here, below and beside it as repositories, and commented examples of a process, a task and a probe. Never overwrites a config'
complete -c tta -n "__fish_tta_using_subcommand help; and not __fish_seen_subcommand_from start stop down restart up run status graph logs config doctor completions man compose init help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c tta -n "__fish_tta_using_subcommand help; and __fish_seen_subcommand_from config" -f -a "get" -d 'Print the value tta uses for a dotted key, written or default (quote segments with dots: `repositories."tta.dev".path`)'
complete -c tta -n "__fish_tta_using_subcommand help; and __fish_seen_subcommand_from config" -f -a "set" -d 'Set a key in the config file (value parsed as YAML); validated before it is written'
complete -c tta -n "__fish_tta_using_subcommand help; and __fish_seen_subcommand_from config" -f -a "save" -d 'Write the configuration to PATH (default: the file it came from)'
complete -c tta -n "__fish_tta_using_subcommand help; and __fish_seen_subcommand_from config" -f -a "show" -d 'Print the effective configuration (file plus environment overrides)'
complete -c tta -n "__fish_tta_using_subcommand help; and __fish_seen_subcommand_from config" -f -a "validate" -d 'Check the configuration and report every problem'
complete -c tta -n "__fish_tta_using_subcommand help; and __fish_seen_subcommand_from config" -f -a "path" -d 'Print the path of the config file in use'
complete -c tta -n "__fish_tta_using_subcommand help; and __fish_seen_subcommand_from config" -f -a "schema" -d 'Print a JSON Schema of the config file, for editors'
