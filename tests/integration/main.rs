//! Integration tests: the real `tta` binary against real processes (and, in `compose_e2e`,
//! a real Docker engine). One test binary; each module is one area.

mod harness;

// `tta config get|set|save|show|validate|path` and every configuration error.
mod config_cmd;
// `tta graph` and `tta start --dry-run` on the named graph shapes.
mod graph_cmd;
// start/stop/restart/status/logs with real local processes and tasks.
mod lifecycle;
// `tta logs`: interleaved by time, streams, --since, --json, colours, -f over processes and containers; the keeper.
mod logs;
// Ctrl-C, locks and crash behaviour.
mod signals;
// Checked-in completions, man page and schema match the binary.
mod generated;
// insta snapshots of the human output.
mod snapshots;
// Config files stay the user's: links, hard links, owner, mode, endings, FIFOs, concurrent edits, signals.
mod config_files;
// `${VAR}` templates, `.env` and `env_file:`, resolved at load time like compose.
mod variables;
// Secrets in a config never reach stdout or stderr unless revealed.
mod secrets;
// Everyday use: the shipped TTA stack, external components, doctor.
mod everyday;
// Compose support against a fake docker/docker-compose that logs its calls: exact command lines.
mod compose_fake;
// Compose support against a real Docker engine (skips visibly when none answers).
mod compose_e2e;
// Agreeing with Compose and the engine on real stacks: slow one-shots, namespaces, replicas, crash loops, moves, names like options, stdin and bytes, signals, a silent engine.
mod compose_truth;
// A repository on another host's engine (a second dockerd on tcp://127.0.0.2): start, status, {engine_host} probes, logs, stop, the engine down.
mod remote_engine;
// Fault injection: Ctrl-C at random points, kill -9 during `config set`, a broken state dir, vanished repositories, hung compose, a dying engine.
mod faults;
// The host side of trust: every way a run ends, outputs that say what happened, ...
mod trust;
// Hostile values (shell metacharacters, traversal, huge, deep, aliases, bad bytes, overflow): an error or a value, never a panic or a hang.
mod hostile;
// `tta up`: supervision with real processes (restarts, backoff, liveness, cascades, reloads, watch, signals).
mod up;
// `tta up` against the real engine: compose logs, liveness and unhealthy containers restarted through compose.
mod up_compose;
