//! Helpers shared by the benchmarks: run a command N times and take the median.

#![allow(dead_code)]

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

static ENV: std::sync::Mutex<Vec<(String, String)>> = std::sync::Mutex::new(Vec::new());

/// Sets an environment variable for every command the benchmark runs.
pub(crate) fn child_env(k: &str, v: &str) {
    ENV.lock()
        .expect("env lock")
        .push((k.to_owned(), v.to_owned()));
}

/// The release `tta` binary.
pub(crate) fn tta() -> &'static str {
    env!("CARGO_BIN_EXE_tta")
}

/// Runs `program args` in `dir` `n` times; returns the median wall time. Panics when a
/// run fails, so a broken command is never timed.
pub(crate) fn median(n: usize, dir: &Path, program: &str, args: &[&str]) -> Duration {
    let mut times: Vec<Duration> = (0..n)
        .map(|_| {
            let t = Instant::now();
            let out = Command::new(program)
                .args(args)
                .current_dir(dir)
                .envs(ENV.lock().expect("env lock").iter().map(|(k, v)| (k, v)))
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .output()
                .expect("benchmark command runs");
            let d = t.elapsed();
            assert!(
                out.status.success() || out.status.code() == Some(1),
                "{program} {args:?} failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            d
        })
        .collect();
    times.sort();
    times[n / 2]
}

/// Milliseconds with two decimals.
pub(crate) fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

/// A verdict for a figure against its target.
pub(crate) fn verdict(ok: bool) -> &'static str {
    if ok { "ok" } else { "MISSED" }
}
