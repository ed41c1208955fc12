//! The runner's scheduling overhead with real processes:
//! - 20 tasks in a DAG 5 deep (each `sleep 0.3`: critical path 1.5 s, serial sum 6 s):
//!   `tta start all` wall time as a ratio of the critical path (target ≤ 1.10).
//! - `tta status` of 50 running local components (target < 20 ms), with its ratio to
//!   spawning a trivial process (`true`) in the same run.
//!
//! Run: `cargo bench --bench runner`.

mod common;

use std::fmt::Write as _;
use std::process::Command;
use std::time::{Duration, Instant};

use common::{median, ms, tta, verdict};

fn run(dir: &std::path::Path, args: &[&str]) {
    let out = Command::new(tta())
        .args(args)
        .current_dir(dir)
        .output()
        .expect("tta runs");
    assert!(
        out.status.success(),
        "tta {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn dag() -> String {
    // 5 levels of 4 tasks; each task depends on two of the level before.
    let mut s = String::from("defaults: { jobs: 8 }\ncomponents:\n");
    for level in 0..5 {
        for i in 0..4 {
            let _ = write!(
                s,
                "  t{level}_{i}: {{ kind: task, command: [sleep, \"0.3\"], depends_on: ["
            );
            if level > 0 {
                let _ = write!(s, "t{}_{}, t{}_{}", level - 1, i, level - 1, (i + 1) % 4);
            }
            s.push_str("] }\n");
        }
    }
    s
}

fn main() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("tta.yaml"), dag()).expect("write config");
    let critical = Duration::from_millis(1500);
    let mut walls = Vec::new();
    for _ in 0..5 {
        run(dir.path(), &["stop", "-q"]);
        let t = Instant::now();
        run(dir.path(), &["start", "-q", "all"]);
        walls.push(t.elapsed());
    }
    walls.sort();
    let wall = walls[walls.len() / 2];
    let ratio = wall.as_secs_f64() / critical.as_secs_f64();
    println!(
        "20 tasks, 5 deep (critical path 1.5 s, serial 6 s): start all {}  = {ratio:.3}x the critical path (target ≤ 1.10: {})",
        ms(wall),
        verdict(ratio <= 1.10)
    );
    run(dir.path(), &["stop", "-q"]);

    let dir = tempfile::tempdir().expect("temp dir");
    let mut s = String::from("components:\n");
    for i in 0..50 {
        let _ = writeln!(s, "  svc{i}: {{ command: [sleep, \"600\"] }}");
    }
    std::fs::write(dir.path().join("tta.yaml"), s).expect("write config");
    run(dir.path(), &["start", "-q"]);
    let reference = median(21, dir.path(), "true", &[]);
    let status = median(21, dir.path(), tta(), &["status"]);
    println!(
        "tta status, 50 running local components: {}  ({:.1}x spawning `true`; target < 20 ms: {})",
        ms(status),
        status.as_secs_f64() / reference.as_secs_f64(),
        verdict(status < Duration::from_millis(20))
    );
    run(dir.path(), &["stop", "-q"]);
}
