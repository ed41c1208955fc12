//! A small harness so each test reads like a spec: a stack in a temporary folder, the real
//! `tta` binary run in it, and assertions on exit code, stdout (JSON) and stderr.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The `tta` binary under test.
pub(crate) fn tta_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_tta"))
}

/// The `tta-demo-server` example, as built by `cargo test` with the other targets (never
/// the copy a user may have installed on `PATH`).
pub(crate) fn demo_server() -> PathBuf {
    let bin = tta_bin();
    let path = bin
        .parent()
        .unwrap()
        .join("examples")
        .join("tta-demo-server");
    assert!(
        path.exists(),
        "{} is missing: run the tests with `cargo test`, which builds the examples",
        path.display()
    );
    path
}

/// A loopback port that was free a moment ago.
pub(crate) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A stack: a folder with a `tta.yaml`.
pub(crate) struct Stack {
    dir: tempfile::TempDir,
    env: Vec<(String, String)>,
}

/// One finished `tta` run.
#[derive(Debug)]
pub(crate) struct Run {
    /// Exit code (-1 when killed by a signal).
    pub code: i32,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

impl Stack {
    /// A stack whose config is `yaml` (with `$SERVER` replaced by the demo server's path).
    pub(crate) fn new(yaml: &str) -> Self {
        let dir = tempfile::Builder::new()
            .prefix("tta-test-")
            .tempdir()
            .unwrap();
        let s = Self {
            dir,
            env: Vec::new(),
        };
        s.write("tta.yaml", yaml);
        s
    }

    /// An empty folder with no config.
    pub(crate) fn empty() -> Self {
        Self {
            dir: tempfile::Builder::new()
                .prefix("tta-test-")
                .tempdir()
                .unwrap(),
            env: Vec::new(),
        }
    }

    /// The folder.
    pub(crate) fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Writes a file under the folder (replacing `$SERVER` with the demo server).
    pub(crate) fn write(&self, rel: &str, contents: &str) {
        let p = self.path().join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        let text = contents.replace("$SERVER", &demo_server().display().to_string());
        std::fs::write(p, text).unwrap();
    }

    /// Reads a file under the folder.
    pub(crate) fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.path().join(rel)).unwrap()
    }

    /// Sets an environment variable for every run.
    pub(crate) fn env(mut self, k: &str, v: &str) -> Self {
        self.env.push((k.into(), v.into()));
        self
    }

    /// A command for `tta ARGS` in the folder, with a clean environment.
    pub(crate) fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(tta_bin());
        c.args(args).current_dir(self.path()).stdin(Stdio::null());
        for (k, _) in std::env::vars() {
            if k.starts_with("TTA") || k == "NO_COLOR" || k == "CI" {
                c.env_remove(&k);
            }
        }
        c.env("CI", "true");
        c.envs(self.env.iter().map(|(k, v)| (k, v)));
        c
    }

    /// Runs `tta ARGS` to completion.
    pub(crate) fn tta(&self, args: &[&str]) -> Run {
        Run::from(self.command(args).output().unwrap())
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        // Leave nothing running: stop whatever a test left up.
        if self.path().join("tta.yaml").exists() && self.path().join(".tta").exists() {
            let _ = self.command(&["stop", "-q", "--timeout", "10s"]).output();
        }
    }
}

impl From<Output> for Run {
    fn from(o: Output) -> Self {
        Self {
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }
}

impl Run {
    /// Asserts the exit code, showing the output when it differs.
    #[track_caller]
    pub(crate) fn code(&self, want: i32) -> &Self {
        assert_eq!(
            self.code, want,
            "exit code\n--- stdout\n{}\n--- stderr\n{}",
            self.stdout, self.stderr
        );
        self
    }

    /// Asserts exit 0.
    #[track_caller]
    pub(crate) fn ok(&self) -> &Self {
        self.code(0)
    }

    /// Asserts stderr contains `s`.
    #[track_caller]
    pub(crate) fn stderr_has(&self, s: &str) -> &Self {
        assert!(
            self.stderr.contains(s),
            "stderr lacks {s:?}\n--- stderr\n{}",
            self.stderr
        );
        self
    }

    /// Asserts stdout contains `s`.
    #[track_caller]
    pub(crate) fn stdout_has(&self, s: &str) -> &Self {
        assert!(
            self.stdout.contains(s),
            "stdout lacks {s:?}\n--- stdout\n{}\n--- stderr\n{}",
            self.stdout,
            self.stderr
        );
        self
    }

    /// Stdout as JSON.
    #[track_caller]
    pub(crate) fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not JSON ({e}):\n{}\n--- stderr\n{}",
                self.stdout, self.stderr
            )
        })
    }
}

/// Waits until `f` is true, up to `limit`; returns whether it became true.
pub(crate) fn eventually(limit: Duration, mut f: impl FnMut() -> bool) -> bool {
    let t = Instant::now();
    while t.elapsed() < limit {
        if f() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    f()
}

/// Whether a pid is alive (and not a zombie).
pub(crate) fn alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(s) => s
            .rfind(')')
            .and_then(|i| s[i + 2..].chars().next())
            .is_some_and(|c| c != 'Z' && c != 'X'),
        Err(_) => false,
    }
}
