use crate::harness::Stack;

const SECRET: &str = "s3cr3t-d0-not-print";

fn stack() -> Stack {
    Stack::new(&format!(
        "components:\n  db:\n    kind: task\n    shell: \"exit 0\"\n    env: {{ POSTGRES_PASSWORD: {SECRET}, API_TOKEN: {SECRET}-2, apiKey: {SECRET}-3, USER: alice }}\n  api:\n    kind: task\n    command: [\"true\"]\n    depends_on: [db]\n    env: {{ client_secret: {SECRET}-4 }}\n"
    ))
}

#[test]
fn no_secret_from_the_config_reaches_stdout_or_stderr_at_any_verbosity() {
    let s = stack();
    let commands: &[&[&str]] = &[
        &["config", "show"],
        &["config", "get", "components.db.env"],
        &["config", "get", "components.db.env.POSTGRES_PASSWORD"],
        &["config", "get", "components"],
        &["config", "validate"],
        &[
            "config",
            "set",
            "components.api.env.client_secret",
            "other-s3cr3t",
        ],
        &["start"],
        &["status"],
        &["start", "--dry-run"],
        &["graph", "--format", "json"],
        &["logs", "db"],
        &["stop"],
    ];
    for args in commands {
        for extra in [
            &[][..],
            &["-vvv"][..],
            &["--json"][..],
            &["--json", "-vvv"][..],
        ] {
            let mut a: Vec<&str> = extra.to_vec();
            a.extend_from_slice(args);
            let r = s.tta(&a);
            assert!(r.code == 0 || r.code == 1, "{a:?}: {r:?}");
            for (what, text) in [("stdout", &r.stdout), ("stderr", &r.stderr)] {
                assert!(
                    !text.contains("s3cr3t"),
                    "`tta {}` printed a secret on {what}:\n{text}",
                    a.join(" ")
                );
            }
        }
    }
    // Masked, not dropped: the user sees that there is a value.
    assert_eq!(
        s.tta(&["config", "get", "components.db.env.POSTGRES_PASSWORD"])
            .ok()
            .stdout,
        "****\n"
    );
    s.tta(&["config", "show"])
        .ok()
        .stdout_has("POSTGRES_PASSWORD: '****'")
        .stdout_has("USER: alice");
}

#[test]
fn reveal_shows_them_on_request() {
    let s = stack();
    assert_eq!(
        s.tta(&[
            "config",
            "get",
            "--reveal",
            "components.db.env.POSTGRES_PASSWORD"
        ])
        .ok()
        .stdout,
        format!("{SECRET}\n")
    );
    s.tta(&["config", "show", "--reveal"])
        .ok()
        .stdout_has(SECRET);
}
