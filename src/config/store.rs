//! Reading and writing a config file so that it stays the user's file.
//!
//! An edit must not change what makes the file the user's: which file it is (a symbolic link
//! stays a link and its target is what changes; a file with several hard links keeps them),
//! its kind (a FIFO, a device or a folder named as the config is never replaced by a file,
//! and never opened, so a FIFO cannot hang `tta`), its owner, group and mode (also when
//! `tta` runs as root), its byte-order mark and line endings, and every other edit made at
//! the same time.
//!
//! - [`Target`] follows symbolic links (chains, relative, dangling, into other folders) to
//!   the file that really changes, and refuses anything that is not a regular file.
//! - [`FolderLock`] serialises edits: `tta` holds an exclusive lock on the folder of that
//!   file while it reads, edits and writes, so two `config set` at once both land. The
//!   wait for it ends at a cancel (Ctrl-C, SIGTERM, SIGHUP).
//! - [`write`] replaces the file's content: a temporary file in the same folder with the
//!   same owner, group and mode, synced and renamed over it (readers and a crash see the
//!   old text or the new); when a rename would lose something (more than one hard link, an
//!   owner `tta` cannot give the new file, a folder it cannot create files in), the file is
//!   rewritten in place instead, with the old text kept beside it until the new one is
//!   synced. A read-only file is refused, never replaced. New files get the usual mode
//!   (0666 less the umask).
//! - [`TextForm`] takes a UTF-8 byte-order mark and CRLF line endings off the text for
//!   editing and puts them back, so an edit never mixes line endings.

use std::fs::{File, Metadata, OpenOptions};
use std::io::{Seek as _, SeekFrom, Write as _};
use std::os::unix::fs::{FileTypeExt as _, MetadataExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::cancel::Cancel;
use crate::error::{Error, Result};

/// How long an edit waits for another one in the same folder before giving up.
pub(crate) const LOCK_WAIT: Duration = Duration::from_secs(60);

/// The most symbolic links followed to reach the file (as the kernel's `ELOOP` limit).
const MAX_LINKS: usize = 40;

/// The prefix of the temporary files written beside the config.
pub(crate) const TEMP_PREFIX: &str = ".tta-save-";

/// The parts of a file's text that editing takes off and puts back.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct TextForm {
    /// The file starts with a UTF-8 byte-order mark.
    pub bom: bool,
    /// Every line ends with CRLF.
    pub crlf: bool,
}

impl TextForm {
    /// Splits a file's text into its form and the text to work on (no BOM, LF endings).
    pub(crate) fn decode(raw: &str) -> (Self, String) {
        let (bom, text) = match raw.strip_prefix('\u{feff}') {
            Some(t) => (true, t),
            None => (false, raw),
        };
        let lines = text.matches('\n').count();
        let crlf = lines > 0 && text.matches("\r\n").count() == lines;
        let text = if crlf {
            text.replace("\r\n", "\n")
        } else {
            text.to_owned()
        };
        (Self { bom, crlf }, text)
    }

    /// The bytes to write for `text` (as [`TextForm::decode`] gave it, edited).
    pub(crate) fn encode(self, text: &str) -> Vec<u8> {
        let mut out = String::with_capacity(text.len() + 3);
        if self.bom {
            out.push('\u{feff}');
        }
        if self.crlf {
            out.push_str(&text.replace('\n', "\r\n"));
        } else {
            out.push_str(text);
        }
        out.into_bytes()
    }
}

/// The file an edit of `named` changes.
#[derive(Debug)]
pub(crate) struct Target {
    /// The path as the user named it.
    pub named: PathBuf,
    /// The file itself: `named` with every symbolic link followed.
    pub real: PathBuf,
    /// What is there now, or `None` when the file does not exist yet.
    pub existing: Option<Metadata>,
}

/// What kind of thing `meta` describes, for messages; `None` for a regular file.
fn not_a_file(meta: &Metadata) -> Option<&'static str> {
    let t = meta.file_type();
    if t.is_file() {
        None
    } else if t.is_dir() {
        Some("a folder")
    } else if t.is_fifo() {
        Some("a FIFO (named pipe)")
    } else if t.is_socket() {
        Some("a socket")
    } else if t.is_char_device() || t.is_block_device() {
        Some("a device")
    } else {
        Some("not a regular file")
    }
}

impl Target {
    /// Follows `named` to the file it stands for, and checks that it is a regular file or
    /// nothing yet. Nothing is opened.
    pub(crate) fn resolve(named: &Path) -> Result<Self> {
        let mut real = named.to_path_buf();
        for _ in 0..MAX_LINKS {
            let meta = match std::fs::symlink_metadata(&real) {
                Ok(m) => m,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    return Self::missing(named, real);
                }
                Err(e) => return Err(Error::io("read", &real, e)),
            };
            if meta.file_type().is_symlink() {
                let link = std::fs::read_link(&real).map_err(|e| Error::io("read", &real, e))?;
                real = match real.parent() {
                    Some(dir) => dir.join(link),
                    None => link,
                };
                continue;
            }
            if let Some(kind) = not_a_file(&meta) {
                return Err(Error::usage(
                    format!(
                        "{} is {kind}, not a config file{}",
                        named.display(),
                        via(named, &real)
                    ),
                    Some(
                        "tta reads and writes config files only as regular files; name one with --config"
                            .into(),
                    ),
                ));
            }
            return Ok(Self {
                named: named.to_path_buf(),
                real,
                existing: Some(meta),
            });
        }
        Err(Error::usage(
            format!(
                "{}: more than {MAX_LINKS} symbolic links, or a loop",
                named.display()
            ),
            Some("point the link at the config file itself".into()),
        ))
    }

    /// A target that does not exist yet (a new file, or the end of a dangling link): its
    /// folder must exist.
    fn missing(named: &Path, real: PathBuf) -> Result<Self> {
        let dir = folder(&real);
        if !dir.is_dir() {
            return Err(Error::usage(
                format!(
                    "cannot create {}: the folder {} does not exist{}",
                    named.display(),
                    dir.display(),
                    via(named, &real)
                ),
                Some("create the folder first, or name another file".into()),
            ));
        }
        Ok(Self {
            named: named.to_path_buf(),
            real,
            existing: None,
        })
    }

    /// The folder the file is in: where the lock and the temporary file go.
    pub(crate) fn folder(&self) -> &Path {
        folder(&self.real)
    }

    /// The file's text and form, or `None` when it does not exist yet.
    pub(crate) fn read(&self) -> Result<Option<(TextForm, String)>> {
        if self.existing.is_none() {
            return Ok(None);
        }
        let text = read_text(&self.real)?;
        Ok(Some(TextForm::decode(&text)))
    }
}

/// The config file's text; not UTF-8 is a syntax error with the byte where it stops being so.
pub(crate) fn read_text(p: &Path) -> Result<String> {
    let bytes = std::fs::read(p).map_err(|e| Error::io("read", p, e))?;
    String::from_utf8(bytes).map_err(|e| Error::ConfigSyntax {
        location: format!("{}: byte {}", p.display(), e.utf8_error().valid_up_to()),
        message: "the file is not valid UTF-8".into(),
    })
}

/// ` (through the link to REAL)` when `named` is a link.
fn via(named: &Path, real: &Path) -> String {
    if named == real {
        String::new()
    } else {
        format!(" (through the link to {})", shown(real).display())
    }
}

/// A path for messages: `..` resolved as written (`/a/b/../c` → `/a/c`).
fn shown(p: &Path) -> PathBuf {
    super::parse::normalize(p)
}

fn folder(p: &Path) -> &Path {
    p.parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
}

/// An exclusive lock on a folder's config edits, released when dropped (or when the
/// process dies).
#[derive(Debug)]
pub(crate) struct FolderLock {
    _dir: File,
}

impl FolderLock {
    /// Takes the lock on `target`'s folder, waiting for another edit to finish. `on_wait`
    /// is called once if the lock is busy. A cancel ends the wait with
    /// [`Error::Interrupted`].
    pub(crate) fn take(target: &Target, cancel: &Cancel, on_wait: impl FnOnce()) -> Result<Self> {
        let dir_path = target.folder();
        let dir = match File::open(dir_path) {
            Ok(d) => d,
            // A folder we may enter but not read: lock the file itself (which a rename
            // replaces, so edits then take turns less strictly; see docs/reliability.md).
            Err(e)
                if e.kind() == std::io::ErrorKind::PermissionDenied
                    && target.existing.is_some() =>
            {
                OpenOptions::new()
                    .read(true)
                    .open(&target.real)
                    .or_else(|_| OpenOptions::new().write(true).open(&target.real))
                    .map_err(|_| Error::io("open", dir_path, e))?
            }
            Err(e) => return Err(Error::io("open", dir_path, e)),
        };
        let start = Instant::now();
        let mut on_wait = Some(on_wait);
        loop {
            match dir.try_lock() {
                Ok(()) => return Ok(Self { _dir: dir }),
                Err(std::fs::TryLockError::WouldBlock) => {
                    if start.elapsed() >= LOCK_WAIT {
                        return Err(Error::ConfigWrite {
                            path: target.named.clone(),
                            message: format!(
                                "another tta has been editing config files in {} for {}s",
                                dir_path.display(),
                                LOCK_WAIT.as_secs()
                            ),
                            hint: "wait for it to finish (`ps` shows it), then try again".into(),
                        });
                    }
                    if let Some(f) = on_wait.take() {
                        f();
                    }
                    if cancel.sleep(Duration::from_millis(20)) {
                        return Err(Error::Interrupted);
                    }
                }
                Err(std::fs::TryLockError::Error(e)) => {
                    return Err(Error::io("lock", dir_path, e));
                }
            }
        }
    }
}

/// Refuses a file that is not the user's to change: read-only, or not writable by this
/// user (a rename would replace it anyway, since only the folder's permissions count).
fn check_writable(target: &Target, meta: &Metadata) -> Result<()> {
    let read_only = meta.permissions().mode() & 0o222 == 0;
    let denied = rustix::fs::access(&target.real, rustix::fs::Access::WRITE_OK).is_err();
    if read_only || denied {
        let why = if read_only {
            "it is read-only"
        } else {
            "you may not write to it"
        };
        return Err(Error::ConfigWrite {
            path: target.named.clone(),
            message: format!("{why}{}", via(&target.named, &target.real)),
            hint: format!(
                "tta never replaces a file you protected: make it writable (`chmod u+w {}`), or save elsewhere with `tta config save PATH`",
                shown(&target.real).display()
            ),
        });
    }
    Ok(())
}

/// Writes `bytes` as the new content of `target`, keeping what makes it the user's file.
/// A cancel before the new content is in place leaves the old file, and no temporary
/// file, and returns [`Error::Interrupted`].
pub(crate) fn write(target: &Target, bytes: &[u8], cancel: &Cancel) -> Result<()> {
    let Some(meta) = &target.existing else {
        return replace(target, bytes, None, cancel).map(drop);
    };
    check_writable(target, meta)?;
    if meta.nlink() > 1 {
        return rewrite_in_place(target, bytes, cancel);
    }
    match replace(target, bytes, Some(meta), cancel)? {
        Replaced::Yes => Ok(()),
        Replaced::CannotKeep => rewrite_in_place(target, bytes, cancel),
    }
}

/// Whether a rename could keep what makes the file the user's.
enum Replaced {
    Yes,
    /// The folder takes no new file, or the new file cannot get the old one's owner.
    CannotKeep,
}

/// A temporary file beside the target, with the target's owner, group and mode (or the
/// usual mode for a new file), renamed over it once synced.
fn replace(
    target: &Target,
    bytes: &[u8],
    meta: Option<&Metadata>,
    cancel: &Cancel,
) -> Result<Replaced> {
    let dir = target.folder();
    let mode = meta.map_or(0o666, |m| m.permissions().mode() & 0o7777);
    let tmp = tempfile::Builder::new()
        .prefix(TEMP_PREFIX)
        .permissions(std::fs::Permissions::from_mode(mode & 0o777))
        .tempfile_in(dir);
    let mut tmp = match tmp {
        Ok(t) => t,
        // A folder we may not create files in: the file itself may still be writable.
        Err(e) if meta.is_some() && e.kind() == std::io::ErrorKind::PermissionDenied => {
            return Ok(Replaced::CannotKeep);
        }
        Err(e) => return Err(Error::io("create a temporary file in", dir, e)),
    };
    if let Some(m) = meta {
        let now = tmp
            .as_file()
            .metadata()
            .map_err(|e| Error::io("write", tmp.path().to_path_buf(), e))?;
        if (now.uid(), now.gid()) != (m.uid(), m.gid())
            && std::os::unix::fs::fchown(tmp.as_file(), Some(m.uid()), Some(m.gid())).is_err()
        {
            return Ok(Replaced::CannotKeep);
        }
        // After the chown, which clears set-id bits.
        tmp.as_file()
            .set_permissions(std::fs::Permissions::from_mode(mode))
            .map_err(|e| Error::io("write", tmp.path().to_path_buf(), e))?;
    }
    let tmp_path = tmp.path().to_path_buf();
    tmp.write_all(bytes)
        .and_then(|()| tmp.as_file().sync_all())
        .map_err(|e| Error::io("write", tmp_path.clone(), e))?;
    if cancel.is_cancelled() {
        return Err(Error::Interrupted); // `tmp` is removed as it drops
    }
    tmp.persist(&target.real)
        .map_err(|e| Error::io("write", &target.real, e.error))?;
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(Replaced::Yes)
}

/// Rewrites the file through its own inode, so every hard link and its owner stay. The old
/// text is kept in a temporary file beside it (when the folder allows) until the new text
/// is synced, so even a `kill -9` in the middle loses nothing.
fn rewrite_in_place(target: &Target, bytes: &[u8], cancel: &Cancel) -> Result<()> {
    let old = std::fs::read(&target.real).map_err(|e| Error::io("read", &target.real, e))?;
    let backup = tempfile::Builder::new()
        .prefix(TEMP_PREFIX)
        .tempfile_in(target.folder())
        .ok()
        .and_then(|mut b| {
            b.write_all(&old).ok()?;
            b.as_file().sync_all().ok()?;
            Some(b)
        });
    if cancel.is_cancelled() {
        return Err(Error::Interrupted);
    }
    let mut f = OpenOptions::new()
        .write(true)
        .open(&target.real)
        .map_err(|e| Error::io("write", &target.real, e))?;
    let len = u64::try_from(bytes.len()).unwrap_or(u64::MAX);
    f.seek(SeekFrom::Start(0))
        .and_then(|_| f.write_all(bytes))
        .and_then(|()| f.set_len(len))
        .and_then(|()| f.sync_all())
        .map_err(|e| Error::io("write", &target.real, e))?;
    drop(backup);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_round_trip() {
        for raw in [
            "a: 1\n",
            "a: 1\r\nb: 2\r\n",
            "\u{feff}a: 1\r\n",
            "\u{feff}a: 1\n",
            "a: 1\r\nb: 2\n",
            "a: \"x\r\r\n\"\r\n",
            "",
            "a: 1",
        ] {
            let (form, text) = TextForm::decode(raw);
            assert!(!text.starts_with('\u{feff}'));
            assert_eq!(form.encode(&text), raw.as_bytes(), "{raw:?}");
        }
        let (form, text) = TextForm::decode("\u{feff}a: 1\r\n");
        assert_eq!(
            form,
            TextForm {
                bom: true,
                crlf: true
            }
        );
        assert_eq!(text, "a: 1\n");
        assert_eq!(
            form.encode("a: 1\nb: 2\n"),
            "\u{feff}a: 1\r\nb: 2\r\n".as_bytes()
        );
        // Mixed endings are left as they are.
        assert!(!TextForm::decode("a: 1\r\nb: 2\n").0.crlf);
    }

    #[test]
    fn links_are_followed_and_other_kinds_refused() {
        let d = tempfile::tempdir().unwrap();
        let p = |s: &str| d.path().join(s);
        std::fs::create_dir(p("sub")).unwrap();
        std::fs::write(p("sub/real.yaml"), "a: 1\n").unwrap();
        std::os::unix::fs::symlink("sub/real.yaml", p("one")).unwrap();
        std::os::unix::fs::symlink(p("one"), p("two")).unwrap();
        std::os::unix::fs::symlink("nowhere/x.yaml", p("dangling-dir")).unwrap();
        std::os::unix::fs::symlink("sub/new.yaml", p("dangling")).unwrap();
        std::os::unix::fs::symlink("loop", p("loop")).unwrap();
        let t = Target::resolve(&p("two")).unwrap();
        assert_eq!(t.real, p("sub/real.yaml"));
        assert!(t.existing.is_some());
        let t = Target::resolve(&p("dangling")).unwrap();
        assert_eq!(t.real, p("sub/new.yaml"));
        assert!(t.existing.is_none());
        let e = Target::resolve(&p("dangling-dir")).unwrap_err().to_string();
        assert!(e.contains("does not exist (through the link to"), "{e}");
        let e = Target::resolve(&p("loop")).unwrap_err().to_string();
        assert!(e.contains("a loop"), "{e}");
        let e = Target::resolve(&p("sub")).unwrap_err().to_string();
        assert!(e.contains("is a folder, not a config file"), "{e}");
        let fifo = p("fifo").display().to_string();
        let made = crate::process::Spec::new(["mkfifo", fifo.as_str()]).run();
        assert!(made.unwrap().success());
        let e = Target::resolve(&p("fifo")).unwrap_err().to_string();
        assert!(e.contains("a FIFO (named pipe), not a config file"), "{e}");
        let e = Target::resolve(Path::new("/dev/null"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("a device"), "{e}");
    }
}
