//! The runner's scheduling overhead with real processes:
//! - 20 tasks in a DAG 5 deep (each `sleep 0.3`: critical path 1.5 s, serial sum 6 s):
//!   `tta start all` wall time as a ratio of the critical path (target ≤ 1.10).
//! - `tta status` of 50 running local components (target < 20 ms), with its ratio to
//!   spawning a trivial process (`true`) in the same run.
//! - `tta logs` of 10 components of 10,000 lines each, merged by time (all 100,000 lines
//!   with `--since`), against `cat` of the same log files and `sort -m` of them in the
//!   same run; and `tta start` of 30 processes, each under its keeper.
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
    logs();
}

/// `tta logs` merging 10 keepers' logs of 10,000 lines each.
fn logs() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut s = String::from("components:\n");
    for i in 0..10 {
        let _ = writeln!(
            s,
            "  w{i}: {{ shell: \"i=0; while [ $i -lt 10000 ]; do echo w{i} line $i; i=$((i+1)); done; sleep 600\" }}"
        );
    }
    std::fs::write(dir.path().join("tta.yaml"), s).expect("write config");
    let t = Instant::now();
    run(dir.path(), &["start", "-q"]);
    let start = t.elapsed();
    // Wait for every line to be written.
    let logs = dir.path().join(".tta/logs");
    let full = || {
        (0..10).all(|i| {
            std::fs::read_to_string(logs.join(format!("w{i}.log")))
                .is_ok_and(|t| t.contains("line 9999"))
        })
    };
    while !full() {
        std::thread::sleep(Duration::from_millis(50));
    }
    let files: Vec<String> = (0..10)
        .map(|i| logs.join(format!("w{i}.log")).display().to_string())
        .collect();
    let files: Vec<&str> = files.iter().map(String::as_str).collect();
    let cat = median(11, dir.path(), "cat", &files);
    let mut sort_args = vec!["-m"];
    sort_args.extend(&files);
    let sort = median(11, dir.path(), "sort", &sort_args);
    let merged = median(11, dir.path(), tta(), &["logs", "--since", "1h"]);
    println!(
        "tta logs, 10 components x 10,000 lines merged by time: {}  ({:.1}x `cat` of the files at {}, {:.1}x `sort -m` at {})",
        ms(merged),
        merged.as_secs_f64() / cat.as_secs_f64(),
        ms(cat),
        merged.as_secs_f64() / sort.as_secs_f64(),
        ms(sort)
    );
    run(dir.path(), &["stop", "-q"]);

    let dir = tempfile::tempdir().expect("temp dir");
    let mut s = String::from("components:\n");
    for i in 0..30 {
        let _ = writeln!(s, "  p{i}: {{ command: [sleep, \"600\"] }}");
    }
    std::fs::write(dir.path().join("tta.yaml"), s).expect("write config");
    let mut starts = Vec::new();
    for _ in 0..5 {
        let t = Instant::now();
        run(dir.path(), &["start", "-q"]);
        starts.push(t.elapsed());
        run(dir.path(), &["stop", "-q"]);
    }
    starts.sort();
    let reference = median(21, dir.path(), "true", &[]);
    println!(
        "tta start, 30 processes each under its keeper: {}  ({:.2} ms a process; spawning `true` takes {}); the 10 writers above started in {}",
        ms(starts[2]),
        starts[2].as_secs_f64() * 1000.0 / 30.0,
        ms(reference),
        ms(start)
    );
}
