//! The config file stays the user's file through `tta config set` and `save`: its links,
//! hard links, owner, group, mode, byte-order mark and line endings; a FIFO, a device or a
//! folder is never replaced and never hangs `tta`; a read-only file is refused; concurrent
//! edits all land (or the loser fails loudly); a signal in the middle of an edit leaves
//! the old or the new text and no temporary file.

use std::os::unix::fs::{MetadataExt as _, PermissionsExt as _};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use rustix::process::{Pid, Signal, kill_process};

use crate::harness::{Run, Stack};
use crate::hostile::bounded;

const LIMIT: Duration = Duration::from_secs(60);
const DOC: &str = "# my stack\ndefaults:\n  jobs: 4   # keep me\n";

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p).unwrap().permissions().mode() & 0o7777
}

fn temporaries(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".tta-save-"))
        .collect()
}

fn set(s: &Stack, args: &[&str]) -> Run {
    bounded(s.command(args), LIMIT)
}

#[test]
fn a_linked_config_stays_a_link_and_its_target_is_what_changes() {
    let s = Stack::empty();
    let p = |rel: &str| s.path().join(rel);
    s.write("elsewhere/real.yaml", DOC);
    // A relative link, through a chain, into another folder.
    std::fs::create_dir_all(p("mid")).unwrap();
    std::os::unix::fs::symlink("../elsewhere/real.yaml", p("mid/link.yaml")).unwrap();
    std::os::unix::fs::symlink("mid/link.yaml", p("tta.yaml")).unwrap();
    set(&s, &["config", "set", "defaults.jobs", "2"]).ok();
    set(&s, &["config", "set", "defaults.start_timeout", "5s"]).ok();
    assert!(
        std::fs::symlink_metadata(p("tta.yaml"))
            .unwrap()
            .is_symlink()
    );
    assert!(
        std::fs::symlink_metadata(p("mid/link.yaml"))
            .unwrap()
            .is_symlink()
    );
    assert_eq!(
        s.read("elsewhere/real.yaml"),
        "# my stack\ndefaults:\n  jobs: 2   # keep me\n  start_timeout: 5s\n"
    );
    assert!(temporaries(&p("elsewhere")).is_empty() && temporaries(s.path()).is_empty());
    // `config save` through the link too; a dangling link gets its target created.
    set(&s, &["config", "save"]).ok();
    assert!(
        std::fs::symlink_metadata(p("tta.yaml"))
            .unwrap()
            .is_symlink()
    );
    std::os::unix::fs::symlink("elsewhere/new.yaml", p("dangling.yaml")).unwrap();
    set(&s, &["config", "save", "dangling.yaml"]).ok();
    assert!(
        std::fs::symlink_metadata(p("dangling.yaml"))
            .unwrap()
            .is_symlink()
    );
    assert_eq!(s.read("elsewhere/new.yaml"), s.read("elsewhere/real.yaml"));
    // A link into a folder that does not exist, and a loop: refused, nothing created.
    std::os::unix::fs::symlink("nowhere/x.yaml", p("broken.yaml")).unwrap();
    set(&s, &["config", "save", "broken.yaml"])
        .code(2)
        .stderr_has("the folder")
        .stderr_has("does not exist (through the link to");
    std::os::unix::fs::symlink("loop.yaml", p("loop.yaml")).unwrap();
    set(
        &s,
        &["-c", "loop.yaml", "config", "set", "defaults.jobs", "3"],
    )
    .code(2)
    .stderr_has("or a loop");
}

#[test]
fn hard_links_owner_group_and_mode_are_kept() {
    let s = Stack::new(DOC);
    let p = s.path().join("tta.yaml");
    std::fs::hard_link(&p, s.path().join("other-name.yaml")).unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o640)).unwrap();
    let root = rustix::process::geteuid().is_root();
    if root {
        // As root, a file someone else owns keeps its owner and group.
        std::os::unix::fs::chown(&p, Some(65534), Some(65534)).unwrap();
    } else {
        eprintln!("not root: the owner part of this test is skipped");
    }
    let before = std::fs::metadata(&p).unwrap();
    set(&s, &["config", "set", "defaults.jobs", "2"]).ok();
    set(&s, &["config", "set", "defaults.stop_timeout", "3s"]).ok();
    let after = std::fs::metadata(&p).unwrap();
    assert_eq!(after.ino(), before.ino(), "the same file");
    assert_eq!(after.nlink(), 2, "both names still name it");
    assert_eq!(s.read("other-name.yaml"), s.read("tta.yaml"));
    assert!(
        s.read("tta.yaml")
            .contains("jobs: 2   # keep me\n  stop_timeout: 3s")
    );
    assert_eq!((after.uid(), after.gid()), (before.uid(), before.gid()));
    assert_eq!(mode(&p), 0o640);
    // One name only now: the rename path keeps owner, group and mode too.
    std::fs::remove_file(s.path().join("other-name.yaml")).unwrap();
    set(&s, &["config", "set", "defaults.jobs", "3"]).ok();
    let last = std::fs::metadata(&p).unwrap();
    assert_eq!((last.uid(), last.gid()), (before.uid(), before.gid()));
    assert_eq!(mode(&p), 0o640);
    if root {
        assert_eq!(last.uid(), 65534);
    }
    assert!(temporaries(s.path()).is_empty());
}

#[test]
fn a_read_only_file_is_refused_never_replaced() {
    let s = Stack::new(DOC);
    let p = s.path().join("tta.yaml");
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o444)).unwrap();
    let ino = std::fs::metadata(&p).unwrap().ino();
    for args in [
        &["config", "set", "defaults.jobs", "2"][..],
        &["config", "save"][..],
        &["config", "save", "--include-env"][..],
        &["config", "save", "tta.yaml"][..],
    ] {
        set(&s, args)
            .code(1)
            .stderr_has("it is read-only")
            .stderr_has("chmod u+w");
    }
    assert_eq!(s.read("tta.yaml"), DOC);
    assert_eq!(std::fs::metadata(&p).unwrap().ino(), ino);
    assert_eq!(mode(&p), 0o444);
    assert!(temporaries(s.path()).is_empty());
}

#[test]
fn crlf_line_endings_and_a_byte_order_mark_are_kept() {
    let s = Stack::empty();
    let doc = "\u{feff}# my stack\r\ndefaults:\r\n  jobs: 4   # keep me\r\ncomponents:\r\n  db: { kind: task, command: [\"true\"] }\r\n";
    std::fs::write(s.path().join("tta.yaml"), doc).unwrap();
    set(&s, &["config", "validate"]).ok();
    set(&s, &["config", "set", "defaults.jobs", "2"]).ok();
    set(&s, &["config", "set", "defaults.start_timeout", "5s"]).ok();
    set(&s, &["config", "set", "components.api.kind", "task"]).code(2);
    set(
        &s,
        &["config", "set", "components.db.description", "the db"],
    )
    .ok();
    set(&s, &["config", "set", "logs.keep", "2"]).ok();
    let text = s.read("tta.yaml");
    assert!(text.starts_with('\u{feff}'), "{text:?}");
    assert_eq!(
        text.matches('\n').count(),
        text.matches("\r\n").count(),
        "no bare LF: {text:?}"
    );
    assert!(
        text.contains("  jobs: 2   # keep me\r\n  start_timeout: 5s\r\n"),
        "{text:?}"
    );
    assert!(text.ends_with("logs:\r\n  keep: 2\r\n"), "{text:?}");
    assert_eq!(
        set(&s, &["config", "get", "components.db.description"])
            .ok()
            .stdout,
        "the db\n"
    );
}

#[test]
fn a_fifo_a_device_or_a_folder_named_as_the_config_is_never_replaced_and_never_hangs() {
    let s = Stack::empty();
    let fifo = s.path().join("pipe.yaml");
    assert!(
        std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    std::fs::create_dir(s.path().join("folder.yaml")).unwrap();
    let fifo_str = fifo.to_str().unwrap();
    for (args, says) in [
        (
            &["-c", fifo_str, "config", "set", "defaults.jobs", "2"][..],
            "a FIFO (named pipe), not a config file",
        ),
        (
            &["-c", fifo_str, "status"][..],
            "a FIFO (named pipe), not a config file",
        ),
        (
            &["-c", fifo_str, "config", "validate"][..],
            "a FIFO (named pipe), not a config file",
        ),
        (
            &["config", "save", fifo_str][..],
            "a FIFO (named pipe), not a config file",
        ),
        (
            &["-c", "/dev/null", "config", "set", "defaults.jobs", "2"][..],
            "is a device",
        ),
        (&["config", "save", "/dev/null"][..], "is a device"),
        (
            &["-c", "folder.yaml", "config", "set", "defaults.jobs", "2"][..],
            "is a folder",
        ),
        (&["config", "save", "folder.yaml"][..], "is a folder"),
    ] {
        let t = Instant::now();
        set(&s, args).code(2).stderr_has(says);
        assert!(
            t.elapsed() < Duration::from_secs(10),
            "{args:?} took {:?}",
            t.elapsed()
        );
    }
    // The default `./tta.yaml` as a FIFO: `config set` without --config does not open it.
    std::fs::rename(&fifo, s.path().join("tta.yaml")).unwrap();
    set(&s, &["config", "set", "defaults.jobs", "2"])
        .code(2)
        .stderr_has("tta.yaml is a FIFO");
    let kind = std::fs::symlink_metadata(s.path().join("tta.yaml")).unwrap();
    assert!(std::os::unix::fs::FileTypeExt::is_fifo(&kind.file_type()));
    assert!(s.path().join("folder.yaml").is_dir());
    assert!(temporaries(s.path()).is_empty());
}

#[test]
fn concurrent_sets_of_different_keys_all_land() {
    let mut doc = String::from("# ten components\ncomponents:\n");
    for i in 0..10 {
        doc.push_str(&format!("  c{i}: {{ kind: task, command: [\"true\"] }}\n"));
    }
    let s = Stack::new(&doc);
    let children: Vec<Child> = (0..10)
        .map(|i| {
            s.command(&[
                "-q",
                "config",
                "set",
                &format!("components.c{i}.description"),
                &format!("d{i}"),
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
        })
        .collect();
    for c in children {
        let o = c.wait_with_output().unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    let text = s.read("tta.yaml");
    for i in 0..10 {
        assert!(
            text.contains(&format!("description: d{i}")),
            "c{i} lost:\n{text}"
        );
    }
    assert!(temporaries(s.path()).is_empty());
}

/// Holds the lock `tta` takes on a config folder (an exclusive flock of the folder), as
/// another edit would.
struct Holder(#[expect(dead_code, reason = "held for its lock")] std::fs::File);

impl Holder {
    fn take(dir: &Path) -> Self {
        let f = std::fs::File::open(dir).unwrap();
        f.lock().unwrap();
        Self(f)
    }
}

fn signal(child: &Child, sig: Signal) {
    kill_process(
        Pid::from_raw(i32::try_from(child.id()).unwrap()).unwrap(),
        sig,
    )
    .unwrap();
}

fn finish(child: Child) -> Run {
    let t = Instant::now();
    let mut child = child;
    while child.try_wait().unwrap().is_none() {
        assert!(t.elapsed() < LIMIT, "tta hung");
        std::thread::sleep(Duration::from_millis(5));
    }
    Run::from(child.wait_with_output().unwrap())
}

fn spawn(s: &Stack, args: &[&str]) -> Child {
    s.command(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

#[test]
fn a_signal_ends_the_wait_for_another_edit_at_once() {
    let s = Stack::new(DOC);
    for sig in [Signal::INT, Signal::TERM, Signal::HUP] {
        let holder = Holder::take(s.path());
        let child = spawn(&s, &["config", "set", "defaults.jobs", "2"]);
        std::thread::sleep(Duration::from_millis(300));
        let t = Instant::now();
        signal(&child, sig);
        let r = finish(child);
        assert!(
            t.elapsed() < Duration::from_secs(2),
            "{sig:?}: {:?}",
            t.elapsed()
        );
        r.code(130)
            .stderr_has("waiting for another tta to finish editing");
        drop(holder);
        assert_eq!(s.read("tta.yaml"), DOC);
    }
    assert!(temporaries(s.path()).is_empty());
}

#[test]
fn a_save_that_would_undo_another_edit_fails_loudly() {
    let s = Stack::new(DOC);
    let holder = Holder::take(s.path());
    // `config save` loads the file, then waits for the folder...
    let child = spawn(&s, &["config", "save"]);
    std::thread::sleep(Duration::from_millis(500));
    // ...while another edit changes it.
    let edited = DOC.replace("jobs: 4", "jobs: 6");
    std::fs::write(s.path().join("tta.yaml"), &edited).unwrap();
    drop(holder);
    finish(child)
        .code(1)
        .stderr_has("it changed since it was loaded; saving would undo that change");
    assert_eq!(s.read("tta.yaml"), edited);
}

/// A config large enough that one `config set` takes a while, so signals land mid-edit.
fn large(components: usize) -> String {
    let mut s = String::from("# a large stack\ndefaults:\n  start_timeout: 2s  # edited\n");
    s.push_str("components:\n");
    for i in 0..components {
        s.push_str(&format!(
            "  # component {i}\n  c{i}:\n    kind: task\n    command: [echo, \"{i}\"]\n"
        ));
    }
    s
}

#[test]
fn a_signal_in_the_middle_of_a_set_leaves_the_old_or_the_new_text_and_no_temporary_file() {
    let s = Stack::new(&large(600)).env("TTA_CACHE_DIR", "");
    let t = Instant::now();
    set(&s, &["-q", "config", "set", "defaults.start_timeout", "2s"]).ok();
    let took = u64::try_from(t.elapsed().as_millis()).unwrap().max(1);
    let mut rng = fastrand::Rng::with_seed(7);
    let (mut old, mut new) = (0, 0);
    let mut current = 2;
    for trial in 0..30u64 {
        let sig = [Signal::INT, Signal::TERM, Signal::HUP][usize::try_from(trial % 3).unwrap()];
        let before = s.read("tta.yaml");
        let next = current + 1;
        let child = spawn(
            &s,
            &[
                "-q",
                "config",
                "set",
                "defaults.start_timeout",
                &format!("{next}s"),
            ],
        );
        std::thread::sleep(Duration::from_millis(rng.u64(took / 4..took * 3 / 2)));
        signal(&child, sig);
        let r = finish(child);
        let after = s.read("tta.yaml");
        if after == before {
            assert!(
                r.code == 130 || r.code == -1,
                "trial {trial} ({sig:?}): old file but {r:?}"
            );
            old += 1;
        } else {
            assert_eq!(
                after,
                before.replacen(
                    &format!("start_timeout: {current}s"),
                    &format!("start_timeout: {next}s"),
                    1
                ),
                "trial {trial} ({sig:?}): neither old nor new"
            );
            r.ok();
            new += 1;
            current = next;
        }
        assert!(
            temporaries(s.path()).is_empty(),
            "trial {trial} ({sig:?}) left a temporary file"
        );
    }
    eprintln!(
        "signals mid-set: {old} left the old file, {new} the new one (one set takes {took} ms)"
    );
}

#[test]
fn config_save_creates_files_with_the_usual_mode() {
    let s = Stack::new(DOC);
    for (umask, want) in [("022", 0o644), ("002", 0o664), ("077", 0o600)] {
        let name = format!("copy-{umask}.yaml");
        let r = Command::new("sh")
            .arg("-c")
            .arg(format!("umask {umask} && exec \"$0\" config save {name}"))
            .arg(crate::harness::tta_bin())
            .current_dir(s.path())
            .output()
            .unwrap();
        Run::from(r).ok();
        assert_eq!(mode(&s.path().join(&name)), want, "umask {umask}");
        assert_eq!(s.read(&name), DOC);
    }
}
