//! Scale of the pure core: `tta start --dry-run --json` and `tta graph --format json` on
//! random DAGs of 1,000, 10,000 and 100,000 components (fixed seed), as whole processes,
//! and `tta --version`. Prints each median, its ratio to the start of a trivial process
//! (`true`) measured in the same run, and the 10x-scaling ratios.
//!
//! Targets (2-core machine): 10k < 50 ms, 100k < 0.5 s, 10x components ≤ 12x time,
//! `--version` < 5 ms. The medians are of warm runs (the validated config cached, as after
//! any first use); the first, cold run of each size is printed too.
//! Run: `cargo bench --bench scale`.

mod common;

use std::fmt::Write as _;
use std::time::Duration;

use common::{median, ms, tta, verdict};

/// A random DAG: each component depends on up to three earlier ones.
fn config(n: usize) -> String {
    let mut rng = fastrand::Rng::with_seed(42);
    let mut s = String::with_capacity(n * 80);
    s.push_str("components:\n");
    for i in 0..n {
        let _ = write!(
            s,
            "  c{i}: {{ kind: task, command: [\"true\"], depends_on: ["
        );
        if i > 0 {
            let k = rng.usize(0..=3.min(i));
            let mut deps: Vec<usize> = (0..k).map(|_| rng.usize(i.saturating_sub(50)..i)).collect();
            deps.sort_unstable();
            deps.dedup();
            let names: Vec<String> = deps.iter().map(|d| format!("c{d}")).collect();
            s.push_str(&names.join(", "));
        }
        s.push_str("] }\n");
    }
    s
}

fn main() {
    let dir = tempfile::tempdir().expect("temp dir");
    let cache = dir.path().join("cache");
    common::child_env("TTA_CACHE_DIR", cache.to_str().expect("utf-8 path"));
    let reference = median(21, dir.path(), "true", &[]);
    let version = median(21, dir.path(), tta(), &["--version"]);
    println!(
        "reference: spawning `true`                 {}",
        ms(reference)
    );
    println!(
        "tta --version                               {}  ({:.1}x reference; target < 5 ms: {})",
        ms(version),
        version.as_secs_f64() / reference.as_secs_f64(),
        verdict(version < Duration::from_millis(5))
    );
    let mut prev: Option<(Duration, Duration)> = None;
    for n in [1_000usize, 10_000, 100_000] {
        let file = dir.path().join(format!("c{n}.yaml"));
        std::fs::write(&file, config(n)).expect("write config");
        let f = file.to_str().expect("utf-8 path");
        let runs = if n >= 100_000 { 5 } else { 11 };
        let _ = std::fs::remove_dir_all(&cache);
        let cold = median(
            1,
            dir.path(),
            tta(),
            &["-c", f, "--json", "start", "--dry-run"],
        );
        println!(
            "{n:>7} components: first (cold) run       {:>10}  (parses the YAML and fills the cache)",
            ms(cold)
        );
        let dry = median(
            runs,
            dir.path(),
            tta(),
            &["-c", f, "--json", "start", "--dry-run"],
        );
        let graph = median(
            runs,
            dir.path(),
            tta(),
            &["-c", f, "graph", "--format", "json"],
        );
        let target = match n {
            10_000 => Some(Duration::from_millis(50)),
            100_000 => Some(Duration::from_millis(500)),
            _ => None,
        };
        for (what, d) in [
            ("start --dry-run --json", dry),
            ("graph --format json   ", graph),
        ] {
            let t = target.map_or(String::new(), |t| {
                format!("; target < {}: {}", ms(t), verdict(d < t))
            });
            println!(
                "{n:>7} components: {what}  {:>10}  ({:.0}x reference{t})",
                ms(d),
                d.as_secs_f64() / reference.as_secs_f64()
            );
        }
        if let Some((pd, pg)) = prev {
            let (rd, rg) = (
                dry.as_secs_f64() / pd.as_secs_f64(),
                graph.as_secs_f64() / pg.as_secs_f64(),
            );
            println!(
                "        10x more components cost: dry-run {rd:.1}x, graph {rg:.1}x (target ≤ 12x: {})",
                verdict(rd <= 12.0 && rg <= 12.0)
            );
        }
        prev = Some((dry, graph));
    }
}
