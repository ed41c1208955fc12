//! Integration tests: the real `tta` binary against real processes (and, in `compose_e2e`,
//! a real Docker engine). One test binary; each module is one area.

mod harness;

// `tta config get|set|save|show|validate|path` and every configuration error.
mod config_cmd;
// `tta graph` and `tta start --dry-run` on the named graph shapes.
mod graph_cmd;
// start/stop/restart/status/logs with real local processes and tasks.
mod lifecycle;
// Ctrl-C, locks and crash behaviour.
mod signals;
