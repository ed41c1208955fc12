//! Snapshots of what people read: the status table, plans, summaries and error messages.
//! Times, pids and paths are redacted so the snapshots are stable.

use crate::harness::Stack;

fn redact(s: &str, stack: &Stack) -> String {
    let re_pid = |t: &str| -> String {
        let mut out = String::new();
        for line in t.lines() {
            let mut words: Vec<String> = line.split(' ').map(str::to_owned).collect();
            for i in 1..words.len() {
                if words[i - 1] == "pid" {
                    words[i] = "[PID]".into();
                }
            }
            let l = words.join(" ");
            out.push_str(&l);
            out.push('\n');
        }
        out
    };
    let mut t = re_pid(&s.replace(&stack.path().display().to_string(), "[DIR]"));
    for unit in ["s ago"] {
        for n in (0..60).rev() {
            t = t.replace(&format!(" {n}{unit}"), &format!(" N{unit}"));
        }
    }
    // Durations like `0.1 s` and `[   0.01s]`.
    let mut out = String::new();
    let mut chars = t.chars().peekable();
    while let Some(c) = chars.next() {
        if c.is_ascii_digit() {
            let mut num = String::from(c);
            while let Some(&d) = chars.peek() {
                if d.is_ascii_digit() || d == '.' {
                    num.push(d);
                    chars.next();
                } else {
                    break;
                }
            }
            if num.contains('.') {
                out.push_str("X.X");
            } else {
                out.push_str(&num);
            }
        } else {
            out.push(c);
        }
    }
    out
}

const STACK: &str = r#"components:
  setup: { kind: task, shell: "echo ready" }
  db: { command: [sleep, "300"], depends_on: { setup: completed_successfully } }
  api: { command: [sleep, "300"], depends_on: [db] }
  broken: { kind: task, shell: "echo 'cannot connect to db' >&2; exit 2" }
  ui: { kind: task, command: ["true"], depends_on: [broken] }
"#;

#[test]
fn plan() {
    let s = Stack::new(STACK);
    insta::assert_snapshot!(s.tta(&["start", "--dry-run"]).ok().stdout);
}

#[test]
fn start_summary_and_status_table() {
    let s = Stack::new(STACK);
    let r = s.tta(&["start"]);
    r.code(1);
    let summary =
        r.stderr
            .lines()
            .filter(|l| !l.starts_with('['))
            .fold(String::new(), |mut acc, l| {
                acc.push_str(l);
                acc.push('\n');
                acc
            });
    insta::assert_snapshot!("start_summary", redact(&summary, &s));
    let st = s.tta(&["status"]);
    st.code(1);
    insta::assert_snapshot!("status_table", redact(&st.stdout, &s));
}

#[test]
fn errors() {
    let s = Stack::new(
        "components:\n  a: { kind: task, command: [x], depends_on: [b] }\n  b: { kind: taks, command: [x] }\n  c: { kind: task, command: [x], depends_on: [c], start_timeout: 5 }\n",
    );
    insta::assert_snapshot!("invalid_config", s.tta(&["status"]).code(2).stderr.clone());
    let s = Stack::new(STACK);
    insta::assert_snapshot!(
        "unknown_component",
        s.tta(&["start", "dbb"]).code(2).stderr.clone()
    );
    let s = Stack::new(
        "components:\n  a: { kind: task, command: [x], depends_on: [b] }\n  b: { kind: task, command: [x], depends_on: [a] }\n",
    );
    insta::assert_snapshot!("cycle", s.tta(&["graph"]).code(2).stderr.clone());
}
