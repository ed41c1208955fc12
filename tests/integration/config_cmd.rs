use crate::harness::Stack;

const CHAIN: &str = "# the stack\ndefaults:\n  jobs: 4   # keep this comment\ncomponents:\n  db: { kind: task, command: [\"true\"] }\n  api:\n    kind: task\n    command: [\"true\"]\n    depends_on: [db]\n";

#[test]
fn get_prints_values_and_a_missing_key_is_an_error() {
    let s = Stack::new(CHAIN);
    assert_eq!(
        s.tta(&["config", "get", "defaults.jobs"]).ok().stdout,
        "4\n"
    );
    assert_eq!(
        s.tta(&["config", "get", "components.api.depends_on"])
            .ok()
            .stdout,
        "- db\n"
    );
    let j = s
        .tta(&["--json", "config", "get", "components.db.kind"])
        .ok()
        .json();
    assert_eq!(j["value"], "task");
    s.tta(&["config", "get", "defaults.nope"])
        .code(2)
        .stderr_has("`defaults.nope`: there is no key `nope` under `defaults`");
    s.tta(&["config", "get", "a..b"])
        .code(2)
        .stderr_has("invalid key path `a..b`");
}

#[test]
fn quoted_segments_reach_keys_with_dots() {
    let s = Stack::new("repositories:\n  tta.dev: { path: ., discover: false }\n");
    s.tta(&["config", "get", "repositories.\"tta.dev\".path"])
        .ok()
        .stdout_has(".");
}

#[test]
fn set_keeps_comments_and_order_and_is_validated_before_writing() {
    let s = Stack::new(CHAIN);
    s.tta(&["config", "set", "defaults.jobs", "2"])
        .ok()
        .stderr_has("set defaults.jobs = 2");
    let text = s.read("tta.yaml");
    assert_eq!(text, CHAIN.replace("jobs: 4", "jobs: 2"));
    s.tta(&["config", "set", "defaults.start_timeout", "5s"])
        .ok();
    assert!(
        s.read("tta.yaml")
            .contains("  jobs: 2   # keep this comment\n  start_timeout: 5s\ncomponents:")
    );
    // An invalid result is refused and the file is untouched.
    let before = s.read("tta.yaml");
    s.tta(&["config", "set", "defaults.jobs", "zero"])
        .code(2)
        .stderr_has("expected a whole number");
    s.tta(&["config", "set", "components.api.depends_on", "[nope]"])
        .code(2)
        .stderr_has("depends on unknown component `nope`");
    assert_eq!(s.read("tta.yaml"), before);
    // The persisted value is what a new process reads.
    assert_eq!(
        s.tta(&["config", "get", "defaults.start_timeout"])
            .ok()
            .stdout,
        "5s\n"
    );
}

#[test]
fn set_can_repair_an_invalid_file() {
    let s = Stack::new("defaults:\n  jobs: 0\n");
    s.tta(&["config", "validate"]).code(2);
    s.tta(&["config", "set", "defaults.jobs", "3"]).ok();
    s.tta(&["config", "validate"])
        .ok()
        .stderr_has("tta.yaml is valid");
}

#[test]
fn save_writes_elsewhere_and_env_overrides_only_when_asked() {
    let s = Stack::new(CHAIN).env("TTA__DEFAULTS__JOBS", "7");
    assert_eq!(
        s.tta(&["config", "get", "defaults.jobs"]).ok().stdout,
        "7\n"
    );
    s.tta(&["config", "save", "copy.yaml"]).ok();
    assert_eq!(s.read("copy.yaml"), CHAIN, "overrides are not written back");
    s.tta(&["config", "save", "--include-env", "effective.yaml"])
        .ok();
    assert!(s.read("effective.yaml").contains("jobs: 7"));
    s.tta(&["config", "set", "defaults.jobs", "5"])
        .ok()
        .stderr_has("TTA__DEFAULTS__JOBS is set in the environment");
}

#[test]
fn env_overrides_are_typed_and_unknown_ones_are_errors() {
    let s = Stack::new(CHAIN).env("TTA__COMPONENTS__DB__ENABLED", "false");
    // api depends on db, which is now disabled.
    s.tta(&["config", "validate"])
        .code(2)
        .stderr_has("depends on `db`, which is disabled");
    let s = Stack::new(CHAIN).env("TTA__DEFAULTS__JOBZ", "3");
    s.tta(&["config", "validate"])
        .code(2)
        .stderr_has("TTA__DEFAULTS__JOBZ (environment)")
        .stderr_has("did you mean `jobs`?");
}

#[test]
fn validation_reports_every_problem_with_file_line_and_column() {
    let s = Stack::new(
        "components:\n  a:\n    kind: task\n    command: [x]\n    depend_on: [b]\n  b:\n    kind: task\n    command: [x]\n    start_timeout: 30\n  c:\n    kind: task\n    command: [x]\n    depends_on: [nope]\n",
    );
    let r = s.tta(&["config", "validate"]);
    r.code(2)
        .stderr_has("invalid configuration in tta.yaml (3 problems)")
        .stderr_has("tta.yaml:5:5: `components.a.depend_on`: unknown key `depend_on` (did you mean `depends_on`?)")
        .stderr_has("tta.yaml:9:5: `components.b.start_timeout`: `30` has no unit")
        .stderr_has("tta.yaml:13:18: `components.c.depends_on.0`: depends on unknown component `nope`");
    let j = s.tta(&["--json", "config", "validate"]).code(2).json();
    assert_eq!(j["error"]["problems"].as_array().unwrap().len(), 3);
    assert_eq!(j["error"]["exit_code"], 2);
}

#[test]
fn cycles_are_reported_with_their_path() {
    let s = Stack::new(
        "components:\n  a: { kind: task, command: [x], depends_on: [b] }\n  b: { kind: task, command: [x], depends_on: [c] }\n  c: { kind: task, command: [x], depends_on: [a] }\n  s: { kind: task, command: [x], depends_on: [s] }\n",
    );
    s.tta(&["graph"])
        .code(2)
        .stderr_has("dependency cycle: a -> b -> c -> a")
        .stderr_has("`s` depends on itself");
}

#[test]
fn syntax_errors_point_at_the_line() {
    let s = Stack::new("components:\n  a: { kind: task\n  b: 1\n");
    s.tta(&["config", "validate"])
        .code(2)
        .stderr_has("error: tta.yaml:3:");
    let s = Stack::new("- just\n- a list\n");
    s.tta(&["status"])
        .code(2)
        .stderr_has("the configuration must be a mapping");
}

#[test]
fn a_named_config_must_exist_and_discovery_order_holds() {
    let s = Stack::empty();
    s.tta(&["-c", "missing.yaml", "status"])
        .code(2)
        .stderr_has("config file")
        .stderr_has("missing.yaml not found");
    // No file at all: commands that work on a stack say so, with the way out, and create
    // nothing in the folder.
    s.tta(&["config", "path"])
        .code(1)
        .stderr_has("no config file found");
    for cmd in [
        &["status"][..],
        &["start"],
        &["stop"],
        &["logs", "x"],
        &["graph"],
        &["config", "show"],
    ] {
        s.tta(cmd)
            .code(2)
            .stderr_has("no config file here: tta looked for ./tta.yaml and ./config/tta.yaml")
            .stderr_has("`tta init`");
    }
    assert!(
        !s.path().join(".tta").exists(),
        "nothing is created in a folder without a config"
    );
    s.write("config/tta.yaml", "components: {}\n");
    s.tta(&["config", "path"])
        .ok()
        .stdout_has("config/tta.yaml");
    s.write("tta.yaml", "components: {}\n");
    assert!(
        s.tta(&["config", "path"])
            .ok()
            .stdout
            .trim_end()
            .ends_with("/tta.yaml")
    );
    assert!(
        !s.tta(&["config", "path"])
            .stdout
            .contains("config/tta.yaml")
    );
}

#[test]
fn relative_paths_resolve_against_the_config_folder() {
    let s = Stack::empty();
    s.write(
        "conf/tta.yaml",
        "state_dir: state\ncomponents:\n  t: { kind: task, shell: \"pwd > out.txt\", cwd: work }\n",
    );
    std::fs::create_dir_all(s.path().join("conf/work")).unwrap();
    s.tta(&["-c", "conf/tta.yaml", "start"]).ok();
    assert!(s.path().join("conf/state/run").is_dir());
    assert!(
        s.read("conf/work/out.txt")
            .trim_end()
            .ends_with("conf/work")
    );
}

#[test]
fn unknown_components_suggest_a_name() {
    let s = Stack::new(CHAIN);
    s.tta(&["start", "apo"])
        .code(2)
        .stderr_has("unknown component `apo`")
        .stderr_has("did you mean `api`?");
    s.tta(&["status", "zzz"]).code(2);
}

#[test]
fn usage_errors_exit_2_and_help_exits_0() {
    let s = Stack::new(CHAIN);
    s.tta(&["start", "--jobs", "0"]).code(2);
    s.tta(&["start", "--timeout", "5"])
        .code(2)
        .stderr_has("has no unit");
    s.tta(&["--bogus"]).code(2);
    s.tta(&["--help"]).ok().stdout_has("Exit codes");
    s.tta(&["--version"])
        .ok()
        .stdout_has(env!("CARGO_PKG_VERSION"));
}

#[test]
fn the_logs_section_takes_sizes_and_an_override() {
    let s = Stack::new("logs:\n  max_size: 512KiB\n  keep: 3\n");
    s.tta(&["config", "validate"]).ok();
    let s = s.env("TTA__LOGS__MAX_SIZE", "20MiB");
    assert_eq!(
        s.tta(&["config", "get", "logs.max_size"]).ok().stdout,
        "20MiB\n"
    );
    s.tta(&["config", "validate"]).ok();
    let s = Stack::new("logs:\n  keep: 3\n").env("TTA__LOGS__MAX_SIZE", "10");
    s.tta(&["config", "validate"])
        .code(2)
        .stderr_has("TTA__LOGS__MAX_SIZE (environment)")
        .stderr_has("`10` has no unit");
    let s = Stack::new("logs:\n  max_size: 10 MB/s\n  keep: 101\n");
    s.tta(&["config", "validate"])
        .code(2)
        .stderr_has("tta.yaml:2:3: `logs.max_size`: `10 MB/s` is not a size")
        .stderr_has("tta.yaml:3:3: `logs.keep`: expected a whole number from 0 to 100");
}

/// (what the component adds, where the problem is, what it says).
const ONLY_FAIL_AT_START: &[(&str, &str, &str)] = &[
    (
        "probe: { http: \"https://127.0.0.1:8443/\" }",
        "tta.yaml:5:14: `components.c.probe.http`",
        "https probes are not supported",
    ),
    (
        "probe: { http: \"http://127.0.0.1:65536/\" }",
        "`components.c.probe.http`",
        "`65536` in `http://127.0.0.1:65536/` is not a port",
    ),
    (
        "probe: { http: \"http://exa mple/\" }",
        "`components.c.probe.http`",
        "is not a valid URL",
    ),
    (
        "probe: { tcp: \"exa mple:80\" }",
        "`components.c.probe.tcp`",
        "is not a host name or address",
    ),
    (
        "probe: { tcp: \"::1:80\" }",
        "`components.c.probe.tcp`",
        "write an IPv6 address in brackets",
    ),
    (
        "probe: { http: \"http://127.0.0.1:1/\", status: 302 }",
        "`components.c.probe.status`",
        "status 302 is a redirect, which the probe follows",
    ),
    (
        "probe: { http: \"http://127.0.0.1:1/\", status: 101 }",
        "`components.c.probe.status`",
        "is not a final answer",
    ),
    (
        "env: { \"A=B\": x }",
        "`components.c.env.A=B`",
        "cannot name an environment variable: it contains `=`",
    ),
    (
        "env: { A: \"x\\0y\" }",
        "`components.c.env.A`",
        "contains a NUL byte",
    ),
    ("args: 1", "`components.c.args`", "unknown key `args`"),
    (
        "cwd: a-file",
        "tta.yaml:5:5: `components.c.cwd`",
        "a-file is a file, not a folder",
    ),
    (
        "probe: { tcp: \"127.0.0.1:1\", timeout: 2m }",
        "`components.c.probe.timeout`",
        "the probe may take 2m per attempt, longer than `defaults.start_timeout` (1m)",
    ),
    (
        "probe: { exec: [\"\", x] }",
        "`components.c.probe.exec.0`",
        "the program to run is an empty string",
    ),
    (
        "start_timeout: 0s",
        "`components.c.start_timeout`",
        "a start timeout of 0s times out every start at once",
    ),
];

/// Each value parses, and each could only fail when its component starts: every one is
/// refused by `config validate` (and so by every command), at its line, with the fix.
#[test]
fn values_that_could_only_fail_at_start_are_refused_at_validation() {
    let s = Stack::empty();
    s.write("a-file", "not a folder\n");
    for (extra, location, message) in ONLY_FAIL_AT_START {
        s.write(
            "tta.yaml",
            &format!(
                "components:\n  c:\n    kind: process\n    command: [\"true\"]\n    {extra}\n"
            ),
        );
        let r = s.tta(&["config", "validate"]);
        r.code(2).stderr_has(location).stderr_has(message);
        s.tta(&["start", "--dry-run"]).code(2).stderr_has(message);
    }
    // A NUL in argv and a shell that is empty.
    s.write(
        "tta.yaml",
        "components:\n  c:\n    kind: task\n    command: [\"a\\0b\"]\n  d:\n    kind: task\n    shell: \"\"\n",
    );
    s.tta(&["config", "validate"])
        .code(2)
        .stderr_has("tta.yaml:4:15: `components.c.command.0`: the value contains a NUL byte")
        .stderr_has("`components.d.shell`: `shell` is empty");
    // A program that is an empty string, a repository path that is a file, and a compose
    // file that is not there (of a repository that does not discover).
    std::fs::create_dir_all(s.path().join("repo")).unwrap();
    s.write(
        "tta.yaml",
        "repositories:\n  r: { path: a-file }\n  q: { path: repo, discover: false, compose_files: nope.yaml }\ncomponents:\n  c:\n    kind: task\n    command: [\" \", x]\n",
    );
    s.tta(&["config", "validate"])
        .code(2)
        .stderr_has("`components.c.command.0`: the program to run is an empty string")
        .stderr_has("`repositories.r.path`: ")
        .stderr_has("a-file is a file, not the repository's folder")
        .stderr_has("tta.yaml:3:37: `repositories.q.compose_files`: compose file")
        .stderr_has("repo/nope.yaml does not exist");
}

#[test]
fn an_override_never_erases_a_section_nor_picks_one_of_two_targets() {
    let s = Stack::new(CHAIN).env("TTA__COMPONENTS", "");
    s.tta(&["status"])
        .code(2)
        .stderr_has("TTA__COMPONENTS (environment)")
        .stderr_has("TTA__COMPONENTS is empty, which would erase `components`");
    let s = Stack::new(CHAIN).env("TTA__DEFAULTS", "~");
    s.tta(&["config", "validate"])
        .code(2)
        .stderr_has("`defaults` is a section; null would replace all of it");
    // A mapping merges: jobs changes, the rest of `defaults` stays.
    let s = Stack::new(CHAIN).env("TTA__DEFAULTS", "{start_timeout: 9s}");
    assert_eq!(
        s.tta(&["config", "get", "defaults.jobs"]).ok().stdout,
        "4\n"
    );
    let two = "components:\n  my-api: { kind: task, command: [\"true\"] }\n  my_api: { kind: task, command: [\"true\"] }\n";
    let s = Stack::new(two).env("TTA__COMPONENTS__MY_API__ENABLED", "false");
    s.tta(&["graph"])
        .code(2)
        .stderr_has("TTA__COMPONENTS__MY_API__ENABLED (environment)")
        .stderr_has("`MY_API` matches `my-api` and `my_api`");
    let s = Stack::new(two).env("TTA__COMPONENTS__my-api__ENABLED", "false");
    s.tta(&["--json", "graph", "--format", "json"]).ok();
    assert_eq!(
        s.tta(&["config", "get", "components.my-api.enabled"])
            .ok()
            .stdout,
        "false\n"
    );
}

/// Layouts `config set` refused before ("cannot change ... in place"): each edit lands, the
/// rest of the file reads as before, and the file validates.
#[test]
fn set_edits_files_with_anchors_merges_block_scalars_and_odd_layouts() {
    let s = Stack::new(
        "--- # the stack\ncomponents:\n  a: &task {kind: task, command: [\"true\"]}\n  b:\n    <<: *task\n    description: |\n      two\n      lines\n  c: {kind: task, command: [\"true\"], }\n  d: *task\n...\n",
    );
    s.tta(&["config", "set", "components.a.description", "first"])
        .ok();
    s.tta(&["config", "set", "components.b.description", "one line"])
        .ok();
    s.tta(&["config", "set", "components.c.depends_on", "[a]"])
        .ok();
    s.tta(&["config", "set", "components.d.enabled", "false"])
        .ok();
    s.tta(&["config", "set", "components.b.start_timeout", "5s"])
        .ok();
    let get = |k: &str| s.tta(&["config", "get", k]).ok().stdout.clone();
    assert_eq!(get("components.a.description"), "first\n");
    assert_eq!(get("components.b.description"), "one line\n");
    assert_eq!(get("components.b.kind"), "task\n");
    assert_eq!(get("components.d.enabled"), "false\n");
    assert_eq!(get("components.c.depends_on"), "- a\n");
    let after = s.read("tta.yaml");
    assert!(
        after.starts_with("--- # the stack\n") && after.ends_with("...\n"),
        "{after}"
    );
    // `a` is the anchor: changing it first made its aliases copies of the old value.
    assert!(after.contains("  d: {kind: task"), "{after}");
    s.tta(&["config", "validate"]).ok();
}

#[test]
fn get_answers_for_every_key_with_its_origin() {
    let s = Stack::new(CHAIN);
    let get = |args: &[&str]| {
        let mut a = vec!["config", "get"];
        a.extend_from_slice(args);
        s.tta(&a).ok().stdout.clone()
    };
    // Defaults, inherited and inferred values, and unset optional keys.
    assert_eq!(get(&["defaults.start_timeout"]), "1m\n");
    assert_eq!(get(&["defaults.retry.attempts"]), "3\n");
    assert_eq!(get(&["logs.keep"]), "1\n");
    assert_eq!(get(&["components.api.start_timeout"]), "1m\n");
    assert_eq!(get(&["components.api.description"]), "null\n");
    assert_eq!(
        get(&["--show-origin", "defaults.jobs"]),
        "tta.yaml:3:3\t4\n"
    );
    assert_eq!(
        get(&["--show-origin", "defaults.stop_timeout"]),
        "default\t10s\n"
    );
    assert_eq!(
        get(&["--show-origin", "components.db.stop_timeout"]),
        "inherited from defaults.stop_timeout\t10s\n"
    );
    assert_eq!(
        get(&["--show-origin", "components.api.enabled"]),
        "default\ttrue\n"
    );
    assert_eq!(
        get(&["--show-origin", "components.db.probe"]),
        "not set (no default)\tnull\n"
    );
    let s = Stack::new(CHAIN).env("TTA__DEFAULTS__JOBS", "7");
    let j = s
        .tta(&["--json", "config", "get", "--show-origin", "defaults.jobs"])
        .ok()
        .json();
    assert_eq!(j["value"], 7);
    assert_eq!(j["origin"], "TTA__DEFAULTS__JOBS (environment)");
    assert_eq!(j["source"], "environment");
    // Typos get a suggestion, as `config set` gives.
    s.tta(&["config", "get", "defaults.jbos"])
        .code(2)
        .stderr_has("there is no key `jbos` under `defaults`")
        .stderr_has("did you mean `jobs`?");
    s.tta(&["config", "get", "components.apo.kind"])
        .code(2)
        .stderr_has("nothing under `components` is named `apo`")
        .stderr_has("did you mean `api`?");
    s.tta(&["config", "get", "components.api.kind.x"])
        .code(2)
        .stderr_has("`components.api.kind` is a single value");
}

#[test]
fn a_refused_set_points_at_the_value_given_or_the_file_as_it_is() {
    let s = Stack::new(&format!("# one\n# two\n# three\n{CHAIN}"));
    s.tta(&["config", "set", "defaults.jobs", "zero"])
        .code(2)
        .stderr_has("the value given for defaults.jobs: expected a whole number");
    s.tta(&["config", "set", "components.new.kind", "task"])
        .code(2)
        .stderr_has("the value given for components.new.kind: `components.new`: a task component needs a `command`");
    // A problem elsewhere that the value causes: at its line in the file as it is (the
    // edit would have added a line above it).
    s.write(
        "tta.yaml",
        "# one\ncomponents:\n  db:\n    kind: task\n    command: [\"true\"]\n  api:\n    kind: task\n    command: [\"true\"]\n    depends_on: [db]\n",
    );
    s.tta(&["config", "set", "components.db.enabled", "false"])
        .code(2)
        .stderr_has(
            "tta.yaml:9:18: `components.api.depends_on.0`: depends on `db`, which is disabled",
        );
}
