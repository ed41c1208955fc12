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

/// Secrets in every shape a configuration holds them: values of secret keys (a
/// `user/password` pair under `NEO4J_AUTH`), a URL's userinfo, `NAME=value` in a shell
/// line, flags in argv, an `env_file`, a template filled from `.env`; and every place `tta`
/// prints: config, start progress and summary, status and probe descriptions, errors,
/// graph, doctor, logs, at every verbosity and in JSON.
fn shapes() -> Stack {
    let port = crate::harness::free_port();
    let s = Stack::new(&format!(
        r#"components:
  db:
    kind: task
    shell: "PGPASSWORD=pg-s3cr3t-9 true; echo \"password is $POSTGRES_PASSWORD\""
    env: {{ POSTGRES_PASSWORD: pw-s3cr3t-1, NEO4J_AUTH: neo4j/auth-s3cr3t-5, USER: alice }}
    env_file: secrets.env
  api:
    kind: task
    command: ["true", --password, argv-s3cr3t-7, "--token=argv-s3cr3t-8", -u, "bob:curl-s3cr3t-12"]
    depends_on: [db]
    env: {{ DSN: "${{DSN_FROM_DOTENV}}" }}
  web:
    kind: process
    command: [sleep, "30"]
    start_timeout: 3s
    probe: {{ http: "http://admin:url-s3cr3t-11@127.0.0.1:{port}/health", interval: 100ms, retries: 1 }}
"#
    ));
    s.write("secrets.env", "DB_TOKEN=envfile-s3cr3t-6\n");
    s.write(
        ".env",
        "DSN_FROM_DOTENV=postgres://u:dotenv-s3cr3t-10@h/db\n",
    );
    s
}

#[test]
fn secrets_in_every_shape_are_masked_everywhere_tta_prints() {
    let s = shapes();
    let commands: &[&[&str]] = &[
        &["config", "show"],
        &["config", "get", "components"],
        &["config", "get", "components.db.env.NEO4J_AUTH"],
        &[
            "config",
            "get",
            "--show-origin",
            "components.web.probe.http",
        ],
        &["config", "get", "components.api.command"],
        &["config", "get", "components.api.env.DSN"],
        &["config", "validate"],
        &["start", "--dry-run"],
        &["start"],
        &["status"],
        &["status", "web"],
        &["graph"],
        &["graph", "--format", "json"],
        &["graph", "--format", "dot"],
        &["doctor"],
        &["logs", "db"],
        &["logs", "web"],
        &["stop"],
    ];
    for args in commands {
        for extra in [&[][..], &["-vvv"][..], &["--json"][..]] {
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
    // Masked, not dropped: what is not secret stays readable.
    assert_eq!(
        s.tta(&["config", "get", "components.db.env.NEO4J_AUTH"])
            .ok()
            .stdout,
        "neo4j/****\n"
    );
    s.tta(&["config", "get", "components.web.probe.http"])
        .ok()
        .stdout_has("http://admin:****@127.0.0.1:");
    s.tta(&["config", "get", "components.api.command"])
        .ok()
        .stdout_has("- --password\n- '****'\n- --token=****\n- -u\n- bob:****");
    s.tta(&["logs", "db"]).ok().stdout_has("password is ****");
}

#[test]
fn a_secret_in_an_error_message_is_masked() {
    let s = Stack::new(
        "components:\n  web:\n    kind: process\n    command: [\"true\"]\n    probe: { http: \"http://admin:err-s3cr3t-13@127.0.0.1:99999/\" }\n  db:\n    kind: task\n    command: [\"true\"]\n    env: { DB_PASSWORD: \"[unclosed-s3cr3t-14\" }\n    shell: x\n",
    )
    .env("TTA__COMPONENTS__DB__ENV__API_TOKEN", "env-s3cr3t-15");
    for extra in [&[][..], &["--json"][..], &["-vvv"][..]] {
        let mut a: Vec<&str> = extra.to_vec();
        a.extend_from_slice(&["config", "validate"]);
        let r = s.tta(&a);
        r.code(2);
        assert!(r.stderr.contains("is not a port"), "{}", r.stderr);
        for text in [&r.stdout, &r.stderr] {
            assert!(!text.contains("s3cr3t"), "{text}");
        }
    }
    // `set` echoes neither a secret value nor one it refuses.
    let r = s.tta(&[
        "config",
        "set",
        "components.db.env.DB_PASSWORD",
        "{bad-s3cr3t-16",
    ]);
    r.code(2);
    assert!(!r.stderr.contains("s3cr3t"), "{}", r.stderr);
}
