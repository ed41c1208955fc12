//! The README's quick start, run as written: the command is read from the README itself, so
//! the README cannot drift from what works.

use std::os::unix::fs::symlink;
use std::path::Path;
use std::process::Command;

use crate::harness::{demo_server, tta_bin};

/// The first command of the README's "Two commands" section.
fn quick_start_command() -> String {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let section = readme
        .split("## Two commands")
        .nth(1)
        .expect("the README has a `## Two commands` section");
    let block = section.split("```sh\n").nth(1).expect("a sh code block");
    block.lines().next().expect("a command").to_owned()
}

#[test]
fn the_readme_quick_start_works_as_written() {
    let cmd = quick_start_command();
    let (build, rest) = cmd.split_once(" && ").expect("build && run");
    assert_eq!(
        build, "cargo build --release --examples",
        "the first step builds tta and the demo server"
    );
    // Lay out a checkout whose release binaries are the ones under test, then run the rest
    // of the command exactly as the README gives it.
    let root = tempfile::tempdir().unwrap();
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let quick = root.path().join("examples/quickstart");
    std::fs::create_dir_all(&quick).unwrap();
    std::fs::copy(
        repo.join("examples/quickstart/tta.yaml"),
        quick.join("tta.yaml"),
    )
    .unwrap();
    let release = root.path().join("target/release");
    std::fs::create_dir_all(release.join("examples")).unwrap();
    symlink(tta_bin(), release.join("tta")).unwrap();
    symlink(demo_server(), release.join("examples/demo-server")).unwrap();

    let out = Command::new("sh")
        .arg("-c")
        .arg(rest)
        .current_dir(root.path())
        .env("CI", "true")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stop = || {
        let _ = Command::new(tta_bin())
            .args(["stop", "-q"])
            .current_dir(&quick)
            .status();
    };
    if !out.status.success() {
        stop();
        panic!("`{rest}` failed\n--- stdout\n{stdout}\n--- stderr\n{stderr}");
    }
    assert!(stderr.contains("3 started"), "{stderr}");
    for name in ["setup", "api", "web"] {
        assert!(
            stdout.lines().any(|l| l.starts_with(name)),
            "{name} in the status table:\n{stdout}"
        );
    }
    assert!(
        stdout.contains("completed") && stdout.matches("healthy").count() == 2,
        "{stdout}"
    );
    assert_eq!(
        std::fs::read_to_string(quick.join("data/seed.txt")).unwrap(),
        "seeded at startup\n"
    );
    stop();
}
