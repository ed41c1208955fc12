//! `tta up`'s quality bars, measured against references taken in the same run:
//! - 50 idle components under `tta up`: its CPU use over 10 s (target < 1 % of one core)
//!   and its resident memory (target < 20 MiB), beside the memory of one idle component
//!   (`sleep`) as the floor of any process;
//! - a crash with `backoff: 0s`: the time from the process's last line before it exits to
//!   the first line of the next one, against the time the same command takes to print
//!   its first line when spawned directly (its own start time); the difference is what
//!   `up` adds (target ≤ 50 ms).
//!
//! Run: `cargo bench --bench up`.

mod common;

use std::fmt::Write as _;
use std::io::{BufRead as _, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use common::{tta, verdict};

fn now_ns() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after the epoch")
        .as_nanos()
}

/// utime + stime of a process, in clock ticks, and its resident set in KiB.
fn usage(pid: u32) -> (u64, u64) {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("stat");
    let after = &stat[stat.rfind(')').expect("comm") + 2..];
    let f: Vec<&str> = after.split(' ').collect();
    let ticks = f[11].parse::<u64>().expect("utime") + f[12].parse::<u64>().expect("stime");
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("status");
    let rss = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    (ticks, rss)
}

/// Starts `tta --json up` in `dir`; returns it and its stdout lines.
fn up(
    dir: &std::path::Path,
) -> (
    std::process::Child,
    std::sync::mpsc::Receiver<serde_json::Value>,
) {
    let mut child = Command::new(tta())
        .args(["--json", "up"])
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("tta up runs");
    let out = child.stdout.take().expect("stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            if let Ok(v) = serde_json::from_str(&line) {
                let _ = tx.send(v);
            }
        }
    });
    (child, rx)
}

fn stop(mut child: std::process::Child) {
    let _ = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status();
    let _ = child.wait();
}

fn idle() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut s = String::from("components:\n");
    for i in 0..50 {
        let _ = writeln!(s, "  svc{i}: {{ command: [sleep, \"600\"] }}");
    }
    std::fs::write(dir.path().join("tta.yaml"), s).expect("write config");
    let (child, rx) = up(dir.path());
    let mut ready = 0;
    let t = Instant::now();
    while ready < 50 && t.elapsed() < Duration::from_secs(60) {
        if let Ok(v) = rx.recv_timeout(Duration::from_secs(1))
            && v["event"] == "ready"
        {
            ready += 1;
        }
    }
    assert_eq!(ready, 50, "every component became ready");
    std::thread::sleep(Duration::from_secs(1));
    let pid = child.id();
    let (t0, _) = usage(pid);
    let wall = Instant::now();
    std::thread::sleep(Duration::from_secs(10));
    let (t1, rss) = usage(pid);
    let hz = 100.0; // USER_HZ on Linux
    #[expect(clippy::cast_precision_loss, reason = "a few ticks")]
    let cpu = (t1 - t0) as f64 / hz / wall.elapsed().as_secs_f64() * 100.0;
    let record = std::fs::read_to_string(dir.path().join(".tta/run/svc0.json")).expect("record");
    let v: serde_json::Value = serde_json::from_str(&record).expect("json");
    let sleep_pid = u32::try_from(v["pid"].as_u64().expect("pid")).expect("pid");
    let (_, sleep_rss) = usage(sleep_pid);
    #[expect(clippy::cast_precision_loss, reason = "KiB")]
    let (mib, floor) = (rss as f64 / 1024.0, sleep_rss as f64 / 1024.0);
    println!(
        "tta up, 50 idle components, 10 s: CPU {cpu:.2} % of a core ({:.2}x the 1 % target: {}); RSS {mib:.1} MiB ({:.2}x the 20 MiB target: {}; {:.1}x one idle `sleep`, {floor:.1} MiB)",
        cpu / 1.0,
        verdict(cpu < 1.0),
        mib / 20.0,
        verdict(mib < 20.0),
        mib / floor.max(0.1),
    );
    stop(child);
}

/// The command of the crashing component: prints when it starts and when it ends.
const SCRIPT: &str = "echo start $(date +%s%N); sleep 0.2; echo end $(date +%s%N); exit 1";

fn restart_latency() {
    // Reference: the same shell spawned directly, from spawn to its first line's time.
    let mut own = Vec::new();
    for _ in 0..21 {
        let before = now_ns();
        let out = Command::new("sh")
            .args(["-c", "echo start $(date +%s%N)"])
            .output()
            .expect("sh runs");
        let text = String::from_utf8_lossy(&out.stdout);
        let at: u128 = text
            .split_whitespace()
            .nth(1)
            .and_then(|t| t.parse().ok())
            .expect("a time");
        own.push(at.saturating_sub(before));
    }
    own.sort_unstable();
    let own = own[own.len() / 2];

    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(
        dir.path().join("tta.yaml"),
        format!("components:\n  crash: {{ shell: '{SCRIPT}', backoff: 0s }}\n"),
    )
    .expect("write config");
    let (child, rx) = up(dir.path());
    let mut gaps = Vec::new();
    let mut end: Option<u128> = None;
    let t = Instant::now();
    while gaps.len() < 21 && t.elapsed() < Duration::from_secs(60) {
        let Ok(v) = rx.recv_timeout(Duration::from_secs(5)) else {
            break;
        };
        let Some(line) = v["line"].as_str() else {
            continue;
        };
        let mut f = line.split_whitespace();
        let (what, at) = (f.next(), f.next().and_then(|t| t.parse::<u128>().ok()));
        match (what, at) {
            (Some("end"), Some(at)) => end = Some(at),
            (Some("start"), Some(at)) => {
                if let Some(e) = end.take() {
                    gaps.push(at.saturating_sub(e));
                }
            }
            _ => {}
        }
    }
    stop(child);
    assert!(gaps.len() >= 5, "the component restarted");
    gaps.sort_unstable();
    let gap = gaps[gaps.len() / 2];
    #[expect(clippy::cast_precision_loss, reason = "nanoseconds")]
    let (gap_ms, own_ms) = (gap as f64 / 1e6, own as f64 / 1e6);
    let added = gap_ms - own_ms;
    println!(
        "crash to running again (backoff 0s, median of {}): {gap_ms:.1} ms; its own start {own_ms:.1} ms (spawned directly); up adds {added:.1} ms ({:.2}x the 50 ms target: {})",
        gaps.len(),
        added / 50.0,
        verdict(added <= 50.0)
    );
}

fn main() {
    idle();
    restart_latency();
}
