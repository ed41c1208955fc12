//! Hostile input, as tables: every row is a config (or a file, an argument, a variable) that
//! a careless or malicious hand could write, run through the real binary with a time limit.
//! Each must give a clear error (exit 2 or 3, with the message asserted) or a value; never a
//! panic (exit 101 or "panicked" on stderr), a crash by signal, or a hang.
//!
//! The last tests prove that no config value reaches a shell except the `shell:` field.

use std::ffi::OsString;
use std::io::Read as _;
use std::os::unix::ffi::OsStringExt as _;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::harness::{Run, Stack};

/// Runs `cmd` to completion within `limit`; a run that takes longer is killed and fails the
/// test as a hang, with the output it had printed.
pub(crate) fn bounded(cmd: Command, limit: Duration) -> Run {
    try_bounded(cmd, limit).unwrap_or_else(|hang| panic!("{hang}"))
}

/// [`bounded`], with a hang as an `Err` describing it.
pub(crate) fn try_bounded(mut cmd: Command, limit: Duration) -> Result<Run, String> {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn tta");
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let reader_out = std::thread::spawn(move || {
        let mut b = Vec::new();
        let _ = out.read_to_end(&mut b);
        b
    });
    let reader_err = std::thread::spawn(move || {
        let mut b = Vec::new();
        let _ = err.read_to_end(&mut b);
        b
    });
    let t = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break Some(s);
        }
        if t.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let stdout = String::from_utf8_lossy(&reader_out.join().unwrap()).into_owned();
    let stderr = String::from_utf8_lossy(&reader_err.join().unwrap()).into_owned();
    let Some(status) = status else {
        return Err(format!(
            "hung: still running after {limit:?}\n--- stdout\n{stdout}\n--- stderr\n{stderr}"
        ));
    };
    Ok(Run {
        code: status.code().unwrap_or(-1),
        stdout,
        stderr,
    })
}

/// What a row must give.
#[derive(Debug, Clone, Copy)]
enum Want {
    /// This exit code, with this on stderr.
    Exit(i32, &'static str),
    /// This exit code, with this on stdout.
    Out(i32, &'static str),
}

/// One row: files to write (over a valid one-task `tta.yaml`), the environment, argv.
struct Case {
    what: &'static str,
    files: Vec<(&'static str, Vec<u8>)>,
    env: Vec<(&'static str, OsString)>,
    args: Vec<OsString>,
    want: Want,
}

const OK_CONFIG: &str = "components:\n  ok: { kind: task, command: [\"true\"] }\n";

fn case(what: &'static str, yaml: impl Into<Vec<u8>>, args: &[&str], want: Want) -> Case {
    Case {
        what,
        files: vec![("tta.yaml", yaml.into())],
        env: Vec::new(),
        args: args.iter().map(OsString::from).collect(),
        want,
    }
}

impl Case {
    fn file(mut self, rel: &'static str, bytes: impl Into<Vec<u8>>) -> Self {
        self.files.push((rel, bytes.into()));
        self
    }

    fn env(mut self, k: &'static str, v: impl Into<OsString>) -> Self {
        self.env.push((k, v.into()));
        self
    }

    fn arg(mut self, a: impl Into<OsString>) -> Self {
        self.args.push(a.into());
        self
    }
}

/// Runs every row and fails once, listing every row that misbehaved.
fn table(cases: Vec<Case>) {
    let mut failures = Vec::new();
    for c in cases {
        let s = Stack::empty();
        for (rel, bytes) in &c.files {
            let p = s.path().join(rel);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, bytes).unwrap();
        }
        let mut cmd = s.command(&[]);
        cmd.args(&c.args).env("TTA_CACHE_DIR", "");
        for (k, v) in &c.env {
            cmd.env(k, v);
        }
        let t = Instant::now();
        let r = match try_bounded(cmd, Duration::from_secs(90)) {
            Ok(r) => r,
            Err(hang) => {
                failures.push(format!("{}: {hang}", c.what));
                continue;
            }
        };
        let took = t.elapsed();
        let (code, text, stream, fragment) = match c.want {
            Want::Exit(code, f) => (code, &r.stderr, "stderr", f),
            Want::Out(code, f) => (code, &r.stdout, "stdout", f),
        };
        let problem = if r.code == 101 || r.stderr.contains("panicked") {
            Some("panicked".to_owned())
        } else if r.code < 0 {
            Some("killed by a signal".to_owned())
        } else if r.code != code {
            Some(format!("exit {} instead of {code}", r.code))
        } else if !text.contains(fragment) {
            Some(format!("{stream} lacks {fragment:?}"))
        } else {
            None
        };
        if let Some(p) = problem {
            failures.push(format!(
                "{}: {p} (after {took:?})\n--- stdout\n{}\n--- stderr\n{}",
                c.what,
                truncate(&r.stdout),
                truncate(&r.stderr)
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} row(s) failed:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

fn truncate(s: &str) -> &str {
    let mut end = s.len().min(2000);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

fn validate() -> &'static [&'static str] {
    &["config", "validate"]
}

#[test]
fn names_with_shell_metacharacters_or_traversal_are_refused() {
    let named =
        |name: &str| format!("components:\n  {name:?}: {{ kind: task, command: [\"true\"] }}\n");
    let bad = Want::Exit(2, "invalid configuration");
    table(vec![
        case("semicolon name", named("a;rm -rf /"), validate(), bad),
        case("$() name", named("$(touch pwned)"), validate(), bad),
        case("backtick name", named("`touch pwned`"), validate(), bad),
        case("traversal name", named("../../etc"), validate(), bad),
        case("slash name", named("a/b"), validate(), bad),
        // It broke the keeper's command line, and `tta logs -x` reads it as an option.
        case(
            "option-like name",
            named("-x"),
            &["start"],
            Want::Exit(2, "cannot start with `-`"),
        ),
        case("newline name", named("a\nb"), validate(), bad),
        case("empty name", named(""), validate(), bad),
        // YAML allows implicit keys of up to 1024 characters.
        case(
            "name of 4 KiB",
            named(&"a".repeat(4096)),
            validate(),
            Want::Exit(2, "tta.yaml:2:"),
        ),
        case(
            "name of 1000 bytes",
            named(&"a".repeat(1000)),
            validate(),
            bad,
        ),
        case(
            "traversal repository name",
            "repositories:\n  ../../etc: { path: . }\n",
            validate(),
            bad,
        ),
        case(
            "metacharacters in depends_on",
            "components:\n  a: { kind: task, command: [\"true\"], depends_on: [\"$(touch pwned)\"] }\n",
            validate(),
            Want::Exit(2, "$(touch pwned)"),
        ),
        case(
            OK_CONFIG_NAME,
            OK_CONFIG,
            &["start", "$(touch pwned)"],
            Want::Exit(2, "unknown component `$(touch pwned)`"),
        ),
        case(
            "traversal in `tta logs`",
            OK_CONFIG,
            &["logs", "../../etc/passwd"],
            Want::Exit(2, "unknown component `../../etc/passwd`"),
        ),
        case(
            "traversal in `tta status`",
            OK_CONFIG,
            &["status", "../run/ok"],
            Want::Exit(2, "unknown component"),
        ),
        case(
            "metacharacters in a `config set` key",
            OK_CONFIG,
            &["config", "set", "$(touch pwned)", "1"],
            Want::Exit(2, "invalid configuration"),
        ),
        case(
            "metacharacters in a `config get` key",
            OK_CONFIG,
            &["config", "get", "components.`id`"],
            Want::Exit(2, "nothing under `components` is named ``id``"),
        ),
    ]);
}

const OK_CONFIG_NAME: &str = "metacharacters in a `tta start` name";

#[test]
fn paths_that_climb_out_are_taken_as_paths() {
    let s = Stack::new(&format!(
        "state_dir: sub/../../{}-state\ncomponents:\n  up: {{ kind: task, command: [pwd], cwd: ../../../../../../../../../../etc }}\n",
        leaf(&Stack::empty())
    ));
    // The state folder is wherever the config says, resolved against the config's folder.
    let name = std::fs::read_to_string(s.path().join("tta.yaml")).unwrap();
    let state = s.path().parent().unwrap().join(
        name.lines()
            .next()
            .unwrap()
            .trim_start_matches("state_dir: sub/../../"),
    );
    let _cleanup = RemoveOnDrop(state.clone());
    let r = bounded(s.command(&["start"]), Duration::from_secs(30));
    r.ok();
    assert!(
        state.join("run/up.json").is_file(),
        "the record is under {}",
        state.display()
    );
    let log = std::fs::read_to_string(state.join("logs/up.log")).unwrap();
    assert!(log.ends_with("/etc\n"), "ran in /etc:\n{log}");
    // A working directory that does not exist is the component's failure, named.
    let s = Stack::new(
        "components:\n  t: { kind: task, command: [\"true\"], cwd: ../../nope-tta-missing }\n",
    );
    bounded(s.command(&["start"]), Duration::from_secs(30))
        .code(1)
        .stderr_has("nope-tta-missing does not exist");
}

fn leaf(s: &Stack) -> String {
    s.path().file_name().unwrap().to_string_lossy().into_owned()
}

struct RemoveOnDrop(std::path::PathBuf);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn huge_files_and_values_load_or_are_refused_in_bounded_time() {
    const MB: usize = 1024 * 1024;
    let comment = format!("{OK_CONFIG}# {}\n", "x".repeat(20 * MB));
    let scalar = format!(
        "components:\n  ok: {{ kind: task, command: [\"true\"], description: \"{}\" }}\n",
        "d".repeat(20 * MB)
    );
    let mut many = String::from("components:\n  c0: { kind: task, command: [\"true\"] }\n");
    for i in 1..20_000 {
        many.push_str(&format!(
            "  c{i}: {{ kind: task, command: [\"true\"], depends_on: [c{}] }}\n",
            i - 1
        ));
    }
    table(vec![
        case(
            "a 20 MB comment",
            comment,
            validate(),
            Want::Exit(0, "is valid: 1 component"),
        ),
        case(
            "a 20 MB scalar",
            scalar,
            validate(),
            Want::Exit(0, "is valid: 1 component"),
        ),
        case(
            "20,000 components in a chain",
            many,
            &["--json", "graph", "--format", "json"],
            Want::Out(0, "c19999"),
        ),
        case(
            "20 MB of `{`",
            "{".repeat(20 * MB),
            validate(),
            Want::Exit(2, "tta.yaml"),
        ),
        case(
            "20 MB of NUL bytes",
            vec![0u8; 20 * MB],
            validate(),
            Want::Exit(2, "tta.yaml"),
        ),
        case(
            "a 100 KiB override value (the largest a variable may be is 128 KiB)",
            OK_CONFIG,
            validate(),
            Want::Exit(0, "is valid"),
        )
        .env("TTA__COMPONENTS__OK__DESCRIPTION", "v".repeat(100 * 1024)),
    ]);
}

#[test]
fn deeply_nested_yaml_is_refused_not_a_stack_overflow() {
    const DEPTH: usize = 10_000;
    let flow_seq = format!("{}{}", "[".repeat(DEPTH), "]".repeat(DEPTH));
    let flow_map = format!("{}x{}", "{a: ".repeat(DEPTH), "}".repeat(DEPTH));
    let block_seq = format!("{}x", "- ".repeat(DEPTH));
    let in_env = |v: &str| {
        format!("components:\n  ok: {{ kind: task, command: [\"true\"], env: {{ X: {v} }} }}\n")
    };
    let deep = Want::Exit(2, "tta.yaml");
    table(vec![
        case("10,000 nested lists", in_env(&flow_seq), validate(), deep),
        case(
            "10,000 nested mappings",
            in_env(&flow_map),
            validate(),
            deep,
        ),
        case(
            "10,000 nested block lists",
            format!("x:\n{block_seq}\n"),
            validate(),
            deep,
        ),
        case("10,000 unclosed `[`", "[".repeat(DEPTH), validate(), deep),
        case(
            "nested lists at the top",
            flow_seq.clone(),
            validate(),
            deep,
        ),
        case(
            "nested lists in an override",
            OK_CONFIG,
            validate(),
            Want::Exit(2, "TTA__DEFAULTS__JOBS"),
        )
        .env("TTA__DEFAULTS__JOBS", flow_seq.clone()),
        case(
            "nested lists as a `config set` value",
            OK_CONFIG,
            &["config", "set", "defaults.jobs"],
            Want::Exit(2, "is not a valid YAML value: recursion limit exceeded"),
        )
        .arg(flow_seq.clone()),
        case(
            "nested lists in a compose file",
            "repositories:\n  r: { path: r }\n",
            validate(),
            Want::Exit(2, "compose.yaml"),
        )
        .file(
            "r/compose.yaml",
            format!("services:\n  s: {{ image: x, labels: {flow_seq} }}\n"),
        ),
        case(
            "nested lists in a state record",
            OK_CONFIG,
            &["status"],
            Want::Out(1, "unreadable state file"),
        )
        .file(".tta/run/ok.json", flow_seq.clone()),
    ]);
}

/// Nine levels of nine aliases: 9^9 (387 million) strings if expanded.
fn billion_laughs(under: &str) -> String {
    let mut s = String::from("l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
    for i in 1..=9 {
        let prev = format!("*l{}", i - 1);
        s.push_str(&format!("l{i}: &l{i} [{}]\n", vec![prev; 9].join(", ")));
    }
    s.replace("l0: ", &format!("{under}l0: "))
}

#[test]
fn billion_laughs_aliases_are_refused_in_bounded_time() {
    let top = billion_laughs("");
    let env_doc = format!(
        "components:\n  ok:\n    kind: task\n    command: [\"true\"]\n    env:\n{}",
        billion_laughs("      ").replace("\nl", "\n      l")
    );
    let merge = "a: &a {x: 1}\nb: &b {<<: [*a, *a, *a, *a, *a, *a, *a, *a]}\nc: &c {<<: [*b, *b, *b, *b, *b, *b, *b, *b]}\nd: &d {<<: [*c, *c, *c, *c, *c, *c, *c, *c]}\ne: {<<: [*d, *d, *d, *d, *d, *d, *d, *d]}\n";
    let laugh = Want::Exit(2, "tta.yaml");
    table(vec![
        case("billion laughs at the top", top.clone(), validate(), laugh),
        case("billion laughs in env", env_doc, validate(), laugh),
        case("merge-key laughs", merge, validate(), laugh),
        case(
            "billion laughs, then `config set`",
            top.clone(),
            &["config", "set", "defaults.jobs", "2"],
            Want::Exit(2, ""),
        ),
        case(
            "billion laughs in an override",
            OK_CONFIG,
            validate(),
            Want::Exit(2, "TTA__COMPONENTS__OK__ENV"),
        )
        .env(
            "TTA__COMPONENTS__OK__ENV",
            format!("{{{}}}", top.trim_end().replace('\n', ", ")),
        ),
        case(
            "billion laughs in a compose file",
            "repositories:\n  r: { path: r }\n",
            validate(),
            Want::Exit(2, "compose.yaml"),
        )
        .file(
            "r/compose.yaml",
            format!("{top}services:\n  s: {{ image: x, labels: *l9 }}\n"),
        ),
    ]);
}

#[test]
fn bytes_that_are_not_utf8_are_errors_or_ignored() {
    let mut bad_yaml = OK_CONFIG.as_bytes().to_vec();
    bad_yaml.extend_from_slice(b"# caf\xe9\n");
    table(vec![
        case(
            "a config with a Latin-1 byte",
            bad_yaml.clone(),
            validate(),
            Want::Exit(2, "not valid UTF-8"),
        ),
        case(
            "a compose file with a bad byte",
            "repositories:\n  r: { path: r }\n",
            validate(),
            Want::Exit(2, "compose.yaml"),
        )
        .file(
            "r/compose.yaml",
            b"services:\n  s: { image: \xff }\n".to_vec(),
        ),
        case(
            "an .env with a bad byte",
            "repositories:\n  r: { path: r }\n",
            validate(),
            Want::Exit(2, "cannot read env file r/.env"),
        )
        .file("r/compose.yaml", "services:\n  s: { image: x }\n")
        .file("r/.env", b"TAG=\xff\n".to_vec()),
        case(
            "an unrelated variable that is not UTF-8",
            OK_CONFIG,
            validate(),
            Want::Exit(0, "is valid"),
        )
        .env("LS_COLORS", OsString::from_vec(b"di=\xff".to_vec())),
        case(
            "an override that is not UTF-8",
            OK_CONFIG,
            validate(),
            Want::Exit(2, "TTA__DEFAULTS__JOBS (environment)"),
        )
        .env("TTA__DEFAULTS__JOBS", OsString::from_vec(b"\xff".to_vec())),
        case(
            "a name argument that is not UTF-8",
            OK_CONFIG,
            &["status"],
            Want::Exit(2, "invalid UTF-8"),
        )
        .arg(OsString::from_vec(b"\xff".to_vec())),
        case(
            "a state record that is not UTF-8",
            OK_CONFIG,
            &["status"],
            Want::Out(1, "unreadable state file"),
        )
        .file(".tta/run/ok.json", b"{\"pid\": \xff}".to_vec()),
        case(
            "a log that is not UTF-8",
            OK_CONFIG,
            &["logs", "ok"],
            Want::Out(0, "caf\u{fffd}"),
        )
        .file(
            ".tta/logs/ok.log",
            b"=== tta: task ok at 1.0: true ===\ncaf\xe9\n".to_vec(),
        ),
        case(
            "a config path that is not UTF-8",
            OK_CONFIG,
            &["config", "validate", "--config"],
            Want::Exit(2, "not found"),
        )
        .arg(OsString::from_vec(b"\xff.yaml".to_vec())),
    ]);
}

#[test]
#[expect(clippy::too_many_lines, reason = "a table, one row per case")]
fn durations_that_overflow_and_huge_numbers_are_refused() {
    let with = |k: &str, v: &str| format!("defaults: {{ {k}: {v} }}\n{OK_CONFIG}");
    let probe =
        |p: &str| format!("components:\n  p: {{ command: [sleep, \"1\"], probe: {{ {p} }} }}\n");
    let too_long = Want::Exit(2, "the largest duration is 10000h");
    let number = Want::Exit(2, "defaults.jobs");
    table(vec![
        case(
            "a duration past u64",
            with("start_timeout", "99999999999999999999999s"),
            validate(),
            too_long,
        ),
        case(
            "u64::MAX hours",
            with("stop_timeout", "18446744073709551615h"),
            validate(),
            too_long,
        ),
        case(
            "10001h",
            with("start_timeout", "10001h"),
            validate(),
            too_long,
        ),
        case(
            "a sum that overflows",
            with("start_timeout", "10000h1ms"),
            validate(),
            too_long,
        ),
        case(
            "a float duration",
            with("start_timeout", "1e400s"),
            validate(),
            Want::Exit(2, "unknown unit `e` in `1e400s`"),
        ),
        case(
            "an overflowing --timeout",
            OK_CONFIG,
            &["start", "--timeout", "99999999999999999999h"],
            Want::Exit(2, "10000h"),
        ),
        case(
            "the largest --timeout",
            OK_CONFIG,
            &["start", "--timeout", "10000h"],
            Want::Exit(0, "1 started"),
        ),
        case("an overflowing override", OK_CONFIG, validate(), too_long)
            .env("TTA__DEFAULTS__START_TIMEOUT", "99999999999999999999h"),
        case(
            "a huge backoff",
            format!(
                "defaults: {{ retry: {{ attempts: 100, backoff: 10000h, max_backoff: 10000h }} }}\n{OK_CONFIG}"
            ),
            &["start"],
            Want::Exit(0, "1 started"),
        ),
        case(
            "jobs past u64",
            with("jobs", "99999999999999999999999999"),
            validate(),
            number,
        ),
        case("jobs of infinity", with("jobs", ".inf"), validate(), number),
        case("jobs of 1e309", with("jobs", "1e309"), validate(), number),
        case("negative jobs", with("jobs", "-1"), validate(), number),
        case(
            "attempts past u32",
            format!("defaults: {{ retry: {{ attempts: 4294967296 }} }}\n{OK_CONFIG}"),
            validate(),
            Want::Exit(2, "defaults.retry.attempts"),
        ),
        case(
            "probe retries past u64",
            probe("tcp: \"127.0.0.1:1\", retries: 18446744073709551616"),
            validate(),
            Want::Exit(2, "retries"),
        ),
        case(
            "an HTTP status of 99999",
            probe("http: \"http://127.0.0.1:1/\", status: 99999"),
            validate(),
            Want::Exit(2, "status"),
        ),
        case(
            "--jobs 0",
            OK_CONFIG,
            &["start", "--jobs", "0"],
            Want::Exit(2, "--jobs"),
        ),
        case(
            "--jobs past u64",
            OK_CONFIG,
            &["start", "--jobs", "99999999999999999999"],
            Want::Exit(2, "--jobs"),
        ),
        case(
            "TTA_JOBS of garbage",
            OK_CONFIG,
            &["start"],
            Want::Exit(2, "--jobs"),
        )
        .env("TTA_JOBS", "many"),
        case(
            "logs -n past u64",
            OK_CONFIG,
            &["logs", "ok", "-n", "99999999999999999999"],
            Want::Exit(2, "--lines"),
        ),
        case(
            "logs -n u64::MAX",
            OK_CONFIG,
            &["logs", "ok", "-n", "18446744073709551615"],
            Want::Out(0, "last line"),
        )
        .file(
            ".tta/logs/ok.log",
            "=== tta: task ok at 1.0: true ===\nlast line\n",
        ),
    ]);
}

#[test]
fn ports_out_of_range_are_refused() {
    let probe =
        |p: &str| format!("components:\n  p: {{ command: [sleep, \"1\"], probe: {{ {p} }} }}\n");
    let port = Want::Exit(2, "is not a port (1 to 65535)");
    table(vec![
        case(
            "tcp port 70000",
            probe("tcp: \"127.0.0.1:70000\""),
            validate(),
            port,
        ),
        case(
            "tcp port 0",
            probe("tcp: \"127.0.0.1:0\""),
            validate(),
            port,
        ),
        case(
            "tcp port -1",
            probe("tcp: \"127.0.0.1:-1\""),
            validate(),
            port,
        ),
        case(
            "tcp port 65536 on IPv6",
            probe("tcp: \"[::1]:65536\""),
            validate(),
            port,
        ),
        case(
            "tcp port u64::MAX",
            probe("tcp: \"h:18446744073709551615\""),
            validate(),
            port,
        ),
        case(
            "tcp with no port",
            probe("tcp: \"127.0.0.1:\""),
            validate(),
            port,
        ),
        case(
            "http port 99999",
            probe("http: \"http://127.0.0.1:99999/\""),
            validate(),
            port,
        ),
        case(
            "http port 0",
            probe("http: \"http://127.0.0.1:0/\""),
            validate(),
            port,
        ),
        case(
            "tcp port 65535",
            probe("tcp: \"127.0.0.1:65535\""),
            validate(),
            Want::Exit(0, "is valid"),
        ),
    ]);
}

/// Files named `pwned*` anywhere under `dir`.
fn pwned(dir: &std::path::Path) -> Vec<String> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if e.file_name().to_string_lossy().starts_with("pwned") {
                found.push(p.display().to_string());
            }
        }
    }
    found
}

#[test]
fn no_config_value_reaches_a_shell_except_the_shell_field() {
    let port = crate::harness::free_port();
    let s = Stack::new(&format!(
        r#"
components:
  echo: {{ kind: task, command: [echo, "$(touch pwned1)", "`touch pwned2`", "; touch pwned3", "| touch pwned4"] }}
  whole: {{ kind: task, command: ["touch pwned5; true"] }}
  env: {{ kind: task, command: [env], env: {{ X: "$(touch pwned6)", Y: "`touch pwned7`" }} }}
  cwd: {{ kind: task, command: ["true"], cwd: "$(touch pwned8)" }}
  probed:
    command: [$SERVER, --port, "{port}"]
    description: "$(touch pwned9)"
    probe: {{ exec: [echo, "$(touch pwned10)", "&& touch pwned11"] }}
  shelled: {{ kind: task, shell: "touch shelled-by-request" }}
"#
    ));
    let r = bounded(s.command(&["--json", "start"]), Duration::from_secs(60));
    r.code(1);
    let j = r.json();
    let outcome = |n: &str| {
        j["components"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == n)
            .unwrap_or_else(|| panic!("{n} missing: {j}"))["outcome"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    assert_eq!(outcome("echo"), "started");
    assert_eq!(
        outcome("whole"),
        "failed",
        "a whole command line is one program name"
    );
    assert_eq!(outcome("env"), "started");
    assert_eq!(outcome("cwd"), "failed");
    assert_eq!(outcome("probed"), "started");
    assert_eq!(outcome("shelled"), "started");
    // The arguments arrived verbatim.
    assert_eq!(
        s.read(".tta/logs/echo.log").lines().last().unwrap(),
        "$(touch pwned1) `touch pwned2` ; touch pwned3 | touch pwned4"
    );
    let env = s.read(".tta/logs/env.log");
    assert!(
        env.contains("X=$(touch pwned6)\n") && env.contains("Y=`touch pwned7`\n"),
        "{env}"
    );
    // `shell:` is the one field that is run by a shell, as documented.
    assert!(s.path().join("shelled-by-request").is_file());
    bounded(s.command(&["status", "probed"]), Duration::from_secs(30)).ok();
    bounded(s.command(&["stop"]), Duration::from_secs(30)).ok();
    assert_eq!(pwned(s.path()), Vec::<String>::new());
}

#[test]
fn the_compose_command_from_the_environment_is_split_not_shelled() {
    let s = Stack::new("repositories:\n  r: { path: r }\n");
    s.write("r/compose.yaml", "services:\n  s: { image: x }\n");
    let mut cmd = s.command(&["compose", "--repo", "r", "ps"]);
    cmd.env(
        "TTA_COMPOSE",
        "docker-compose; touch pwned-compose $(touch pwned-compose2)",
    );
    let r = bounded(cmd, Duration::from_secs(30));
    assert!(r.code == 3 || r.code == 1, "{r:?}");
    assert!(!r.stderr.contains("panicked"), "{r:?}");
    assert_eq!(pwned(s.path()), Vec::<String>::new());
}
