//! A tiny service for the quick start and the tests: it listens on a loopback port and
//! answers every HTTP request with `200 ok`. It stands in for a real service anywhere a
//! machine has no Docker, Python or netcat. `cargo install --path . --bins --examples` puts
//! it on `PATH` beside `tta`, which is how the quick start stack finds it; the tests run
//! the copy `cargo test` builds.
//!
//! ```text
//! tta-demo-server --port 18081 [--ready-after 500ms] [--exit-after 2s] [--exit-code 3]
//!                 [--ignore-term] [--fail-at-start]
//! ```
//! `--ready-after` waits before listening (a slow start), `--exit-after` crashes later,
//! `--ignore-term` ignores SIGTERM (to test kill after the grace period), and
//! `--fail-at-start` exits at once with `--exit-code`.

use std::io::{Read as _, Write as _};
use std::net::TcpListener;
use std::time::{Duration, Instant};

fn millis(s: &str) -> Duration {
    let (n, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let n: u64 = n
        .parse()
        .unwrap_or_else(|_| usage(&format!("bad duration `{s}`")));
    match unit {
        "ms" => Duration::from_millis(n),
        "s" | "" => Duration::from_secs(n),
        _ => usage(&format!("bad duration `{s}`")),
    }
}

fn usage(msg: &str) -> ! {
    eprintln!("tta-demo-server: {msg}");
    eprintln!(
        "usage: tta-demo-server --port N [--ready-after DUR] [--exit-after DUR] [--exit-code N] [--ignore-term] [--fail-at-start]"
    );
    std::process::exit(2)
}

fn main() {
    let mut port = None;
    let mut ready_after = Duration::ZERO;
    let mut exit_after = None;
    let mut exit_code = 1;
    let mut ignore_term = false;
    let mut fail_at_start = false;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = || {
            args.next()
                .unwrap_or_else(|| usage(&format!("{a} needs a value")))
        };
        match a.as_str() {
            "--port" => port = Some(value().parse::<u16>().unwrap_or_else(|_| usage("bad port"))),
            "--ready-after" => ready_after = millis(&value()),
            "--exit-after" => exit_after = Some(millis(&value())),
            "--exit-code" => exit_code = value().parse().unwrap_or_else(|_| usage("bad exit code")),
            "--ignore-term" => ignore_term = true,
            "--fail-at-start" => fail_at_start = true,
            other => usage(&format!("unknown argument `{other}`")),
        }
    }
    if ignore_term {
        // Registering a handler that does nothing makes SIGTERM harmless.
        let _ = signal_hook::flag::register(
            signal_hook::consts::SIGTERM,
            std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false)),
        );
    }
    if fail_at_start {
        eprintln!("tta-demo-server: failing at start as asked");
        std::process::exit(exit_code);
    }
    let port = port.unwrap_or_else(|| usage("--port is required"));
    println!("tta-demo-server: starting (pid {})", std::process::id());
    std::thread::sleep(ready_after);
    let listener = TcpListener::bind(("127.0.0.1", port)).unwrap_or_else(|e| {
        eprintln!("tta-demo-server: cannot listen on 127.0.0.1:{port}: {e}");
        std::process::exit(1)
    });
    println!("tta-demo-server: listening on 127.0.0.1:{port}");
    let started = Instant::now();
    if let Some(after) = exit_after {
        std::thread::spawn(move || {
            std::thread::sleep(after);
            eprintln!("tta-demo-server: crashing after {after:?} as asked");
            std::process::exit(exit_code);
        });
    }
    for stream in listener.incoming() {
        let Ok(mut s) = stream else { continue };
        let mut buf = [0u8; 2048];
        let _ = s.set_read_timeout(Some(Duration::from_secs(1)));
        let _ = s.read(&mut buf);
        let body = format!("ok, up {:.1}s\n", started.elapsed().as_secs_f64());
        let _ = write!(
            s,
            "HTTP/1.1 200 OK\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        );
    }
}
