//! A local component's log file: its last lines (as written, byte for byte), following it
//! as it grows (through truncation and rotation), and keeping it from growing without
//! bound.
//!
//! The component writes to the file itself (its stdout and stderr are the file, opened for
//! appending), so `tta` need not run while it does. Each start appends a header line
//! (`=== tta: ...`); the last lines shown are those of the latest run. Rotation is
//! copy-then-truncate: the file's last bytes go to `NAME.log.1` (older ones shift to `.2`,
//! ...), then the file is truncated in place; a writer that opened it for appending keeps
//! writing at its (new) end, so nothing is lost and no process needs restarting.

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufRead as _, BufReader, Read as _, Seek as _, SeekFrom};
use std::path::{Path, PathBuf};

/// The header line `tta` writes before each run's output.
pub(crate) const HEADER: &[u8] = b"=== tta:";

/// How much is read at a time when looking for the last lines.
const CHUNK: u64 = 64 * 1024;

/// The last `n` lines of the latest run in a log (without line breaks, bytes as written);
/// empty when there is no log.
pub(crate) fn tail(path: &Path, n: usize) -> Vec<Vec<u8>> {
    let Ok(mut f) = File::open(path) else {
        return Vec::new();
    };
    let len = f.metadata().map_or(0, |m| m.len());
    // Read backwards, a chunk at a time, until n whole lines (or a header) are in hand.
    let mut from = len;
    let mut buf: Vec<u8> = Vec::new();
    loop {
        let start = from.saturating_sub(CHUNK);
        let mut chunk = vec![0; usize::try_from(from - start).unwrap_or(0)];
        if f.seek(SeekFrom::Start(start)).is_err() || f.read_exact(&mut chunk).is_err() {
            break;
        }
        chunk.extend_from_slice(&buf);
        buf = chunk;
        from = start;
        #[expect(clippy::naive_bytecount, reason = "a few chunks of 64 KiB at most")]
        let newlines = buf.iter().filter(|&&b| b == b'\n').count();
        let header = buf.split(|&b| b == b'\n').any(|l| l.starts_with(HEADER));
        if from == 0 || newlines > n || header {
            break;
        }
    }
    let mut lines: Vec<&[u8]> = buf.split(|&b| b == b'\n').collect();
    if lines.last().is_some_and(|l| l.is_empty()) {
        lines.pop(); // the text after the final line break
    }
    if from > 0 && !lines.is_empty() {
        lines.remove(0); // possibly the end of a line that started before what was read
    }
    let run = lines
        .iter()
        .rposition(|l| l.starts_with(HEADER))
        .map_or(0, |i| i + 1);
    let lines = &lines[run..];
    lines[lines.len().saturating_sub(n)..]
        .iter()
        .map(|l| l.to_vec())
        .collect()
}

/// Follows a log from its end: [`Follower::lines`] returns the whole lines written since,
/// and notices a truncation (rotation) or a new file at the same path.
pub(crate) struct Follower {
    path: PathBuf,
    reader: Option<BufReader<File>>,
    identity: Option<(u64, u64)>,
    pos: u64,
}

#[cfg(unix)]
#[expect(
    clippy::unnecessary_wraps,
    reason = "where files have no identity, there is none"
)]
fn identity(m: &fs::Metadata) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt as _;
    Some((m.dev(), m.ino()))
}

#[cfg(not(unix))]
fn identity(_: &fs::Metadata) -> Option<(u64, u64)> {
    None
}

impl Follower {
    /// Follows `path` from its current end (or from the start of a file that appears later).
    pub(crate) fn new(path: &Path) -> Self {
        let mut f = Self {
            path: path.to_path_buf(),
            reader: None,
            identity: None,
            pos: 0,
        };
        if let Ok(file) = File::open(path) {
            let meta = file.metadata().ok();
            f.pos = meta.as_ref().map_or(0, fs::Metadata::len);
            f.identity = meta.as_ref().and_then(identity);
            let mut r = BufReader::new(file);
            let _ = r.seek(SeekFrom::Start(f.pos));
            f.reader = Some(r);
        }
        f
    }

    /// Reopens the file when it is new at this path, and starts over when it was truncated.
    fn check(&mut self) {
        let Ok(meta) = fs::metadata(&self.path) else {
            return;
        };
        let same = self.reader.is_some() && identity(&meta) == self.identity;
        if !same {
            if let Ok(file) = File::open(&self.path) {
                self.identity = identity(&meta);
                self.reader = Some(BufReader::new(file));
                self.pos = 0;
            }
        } else if meta.len() < self.pos
            && let Some(r) = &mut self.reader
        {
            let _ = r.seek(SeekFrom::Start(0));
            self.pos = 0;
        }
    }

    /// The whole lines written since the last call (a partial last line waits).
    pub(crate) fn lines(&mut self) -> Vec<Vec<u8>> {
        self.check();
        let Some(r) = &mut self.reader else {
            return Vec::new();
        };
        let mut out = Vec::new();
        loop {
            let mut line = Vec::new();
            match r.read_until(b'\n', &mut line) {
                Ok(0) | Err(_) => break,
                Ok(n) if line.last() != Some(&b'\n') => {
                    // A partial line: read it again once it is whole.
                    let _ = r.seek_relative(-i64::try_from(n).unwrap_or(0));
                    break;
                }
                Ok(n) => {
                    self.pos += n as u64;
                    line.pop();
                    out.push(line);
                }
            }
        }
        out
    }
}

/// The index a keeper writes beside a log (`NAME.log.idx`).
pub(crate) fn index_path(log: &Path) -> PathBuf {
    let mut p = log.as_os_str().to_owned();
    p.push(".idx");
    PathBuf::from(p)
}

/// A rotated copy of a log (`NAME.log.1`, `.2`, ...).
pub(crate) fn numbered(path: &Path, i: u32) -> PathBuf {
    let mut p = path.as_os_str().to_owned();
    p.push(format!(".{i}"));
    PathBuf::from(p)
}

/// Keeps a log under `max_size` bytes: when it is larger, its content moves to `.1` (older
/// rotations shift up, at most `keep` are kept; with `keep` 0 the content is dropped) and
/// the file is truncated in place. Returns whether it rotated.
pub(crate) fn rotate(path: &Path, max_size: u64, keep: u32) -> io::Result<bool> {
    let Ok(meta) = fs::metadata(path) else {
        return Ok(false);
    };
    if index_path(path).exists() {
        // A keeper writes this log, and rotates it (with its index) itself.
        return Ok(false);
    }
    if !meta.is_file() || meta.len() <= max_size {
        return Ok(false);
    }
    if keep > 0 {
        let _ = fs::remove_file(numbered(path, keep));
        for i in (1..keep).rev() {
            let _ = fs::rename(numbered(path, i), numbered(path, i + 1));
        }
        fs::copy(path, numbered(path, 1))?;
    }
    OpenOptions::new().write(true).open(path)?.set_len(0)?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use std::io::Write as _;

    use super::*;

    #[test]
    fn the_tail_is_the_latest_run_byte_for_byte() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.log");
        let mut text = b"=== tta: process a at 1 ===\nold\n=== tta: process a at 2 ===\n".to_vec();
        text.extend_from_slice(b"caf\xe9 not utf-8\r\n");
        for i in 0..100_000 {
            text.extend_from_slice(format!("line {i}\n").as_bytes());
        }
        text.extend_from_slice(b"no newline yet");
        fs::write(&p, &text).unwrap();
        let t = tail(&p, 3);
        assert_eq!(
            t,
            [
                b"line 99998".to_vec(),
                b"line 99999".to_vec(),
                b"no newline yet".to_vec()
            ]
        );
        let all = tail(&p, 1_000_000);
        assert_eq!(all.len(), 100_002, "as many lines as asked, past 64 KiB");
        assert_eq!(all[0], b"caf\xe9 not utf-8\r".to_vec(), "bytes as written");
        assert!(tail(&dir.path().join("none.log"), 5).is_empty());
    }

    #[test]
    fn a_follower_sees_new_lines_across_truncation_and_rotation() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.log");
        fs::write(&p, "before\n").unwrap();
        let mut w = OpenOptions::new().append(true).open(&p).unwrap();
        let mut f = Follower::new(&p);
        assert!(f.lines().is_empty(), "it starts at the end");
        w.write_all(b"one\ntw").unwrap();
        assert_eq!(f.lines(), [b"one".to_vec()]);
        w.write_all(b"o\n").unwrap();
        assert_eq!(f.lines(), [b"two".to_vec()]);
        assert!(rotate(&p, 4, 1).unwrap());
        assert_eq!(
            fs::read_to_string(dir.path().join("a.log.1")).unwrap(),
            "before\none\ntwo\n"
        );
        w.write_all(b"three\n").unwrap();
        assert_eq!(
            f.lines(),
            [b"three".to_vec()],
            "after a truncation, from the start"
        );
        fs::remove_file(&p).unwrap();
        fs::write(&p, "new file\n").unwrap();
        assert_eq!(f.lines(), [b"new file".to_vec()], "a new file at the path");
        assert!(!rotate(&p, 1024, 1).unwrap(), "small logs stay");
    }
}
