//! `${VAR}` templates and `env_file:`, resolved when the config loads, by Compose's rules:
//! the process environment, then the `.env` beside the config; `${VAR:-default}`,
//! `${VAR:?error}`, `$$`; a `shell:` line keeps unset variables for the shell.

use crate::harness::Stack;

const STACK: &str = r#"components:
  shelled:
    kind: task
    env_file: [vars/app.env, { path: vars/missing.env, required: false }]
    env: { OVERRIDDEN: explicit, GREETING: "hello ${NAME}" }
    shell: printf '%s|%s|%s|%s|%s\n' "$FROM_FILE" "$OVERRIDDEN" "$GREETING" "${PORT:-0}" "$$" > shell.txt
  argv:
    kind: task
    cwd: ${WORK_DIR:-.}
    command: [sh, -c, 'echo "${NAME}|$${NAME}|${UNSET_ONE:-fallback}" > argv.txt']
"#;

#[test]
fn templates_and_env_files_resolve_at_load_time_like_compose() {
    let s = Stack::new(STACK).env("NAME", "from-process");
    s.write(".env", "NAME=from-dotenv\nPORT=8123\n");
    s.write(
        "vars/app.env",
        "# app settings\nFROM_FILE=file-value\nOVERRIDDEN=from-file\nexport QUOTED=\"a b\"\n",
    );
    s.tta(&["start"]).ok();
    // env_file and env (env wins); GREETING from the process environment (which wins over
    // .env); PORT from .env; in a shell line an unset `$FROM_FILE` is left for the shell.
    // `$$` is a literal `$`.
    assert_eq!(
        s.read("shell.txt"),
        "file-value|explicit|hello from-process|8123|$\n"
    );
    // In argv: `$$` is a literal `$`, so the shell sees `${NAME}` and expands it from the
    // environment tta passes on.
    assert_eq!(s.read("argv.txt"), "from-process|from-process|fallback\n");
    // `config get` shows what tta runs with.
    s.tta(&["config", "get", "components.shelled.env.GREETING"])
        .ok()
        .stdout_has("hello from-process");
    s.tta(&["config", "get", "components.shelled.env_file"])
        .ok()
        .stdout_has("vars/app.env");
}

#[test]
fn a_missing_required_variable_or_env_file_is_a_validation_error_with_its_place() {
    let s = Stack::new(
        "components:\n  a:\n    kind: task\n    command: [echo, \"${DB_URL:?set DB_URL to the database}\"]\n  b:\n    kind: task\n    command: [\"true\"]\n    env_file: nowhere.env\n  c:\n    kind: task\n    command: [echo, \"${BROKEN\"]\n",
    );
    s.tta(&["config", "validate"])
        .code(2)
        .stderr_has("tta.yaml:4:21: `components.a.command.1`: required variable DB_URL is unset or empty: set DB_URL to the database")
        .stderr_has("tta.yaml:8:5: `components.b.env_file`:")
        .stderr_has("nowhere.env does not exist")
        .stderr_has("`components.c.command.1`: `${` without a closing `}`");
    s.tta(&["start"]).code(2);
    // Set, it loads; `.env` beside the config counts as set.
    s.write(".env", "DB_URL=postgres://db\n");
    s.write("nowhere.env", "");
    s.write(
        "tta.yaml",
        "components:\n  a:\n    kind: task\n    command: [echo, \"${DB_URL:?set DB_URL}\"]\n  b:\n    kind: task\n    command: [\"true\"]\n    env_file: nowhere.env\n",
    );
    s.tta(&["config", "validate"]).ok();
}

#[test]
fn an_unset_variable_without_a_default_is_a_warning_naming_it() {
    let s = Stack::new(
        "components:\n  a:\n    kind: task\n    command: [echo, \"x${NOT_SET_ANYWHERE}y\"]\n",
    );
    s.tta(&["config", "validate"]).ok().stderr_has(
        "variable NOT_SET_ANYWHERE is not set; `components.a.command.1` gets an empty string",
    );
    assert_eq!(
        s.tta(&["config", "get", "components.a.command.1"])
            .ok()
            .stdout,
        "xy\n"
    );
}
