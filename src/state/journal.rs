//! A component's log with the time and stream of every line.
//!
//! `NAME.log` holds the bytes the component wrote, whole lines in the order they arrived
//! (so `cat` and `tail -f` work on it), and `NAME.log.idx` holds one record per line: where
//! it starts in the log, when it arrived (nanoseconds since the epoch) and from which stream.
//! A line the component ended without a line break is stored with one and marked, so it is
//! shown as it was written. The keeper that writes both rotates them together.
//!
//! Logs written before there was an index (or by a writer without one) read as lines
//! without a time or stream.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read as _, Seek as _, SeekFrom, Write as _};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::log::index_path;
use super::log::numbered;

/// The bytes of one index record.
const RECORD: u64 = 17;
/// The stream bits of a record's last byte.
const STREAM_BITS: u8 = 0x0f;
/// Set when the line had no line break when it was written.
const NO_NEWLINE: u8 = 0x80;

/// Where a line came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Origin {
    /// The component's standard output.
    Stdout,
    /// Its standard error.
    Stderr,
    /// `tta`'s own line: the header of a run.
    Tta,
}

impl Origin {
    fn code(self) -> u8 {
        match self {
            Origin::Stdout => 0,
            Origin::Stderr => 1,
            Origin::Tta => 2,
        }
    }

    fn of(code: u8) -> Self {
        match code & STREAM_BITS {
            0 => Origin::Stdout,
            1 => Origin::Stderr,
            _ => Origin::Tta,
        }
    }
}

/// One line of a log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Entry {
    /// When it arrived, when the log has an index.
    pub(crate) time: Option<SystemTime>,
    /// Which stream, when the log has an index.
    pub(crate) origin: Option<Origin>,
    /// The bytes, without the line break.
    pub(crate) bytes: Vec<u8>,
    /// It had a line break when it was written.
    pub(crate) newline: bool,
}

impl Entry {
    /// A whole line of a log without an index.
    fn untimed(bytes: Vec<u8>) -> Self {
        Self {
            time: None,
            origin: None,
            bytes,
            newline: true,
        }
    }

    /// The line `tta` writes before each run of the component.
    pub(crate) fn is_header(&self) -> bool {
        self.origin != Some(Origin::Stdout)
            && self.origin != Some(Origin::Stderr)
            && self.bytes.starts_with(super::log::HEADER)
    }
}

/// Every entry of a log, headers of runs included (lines without times when it has no
/// index).
pub(crate) fn all(path: &Path) -> Vec<Entry> {
    if let Some((entries, _)) = indexed(path, 0) {
        return entries;
    }
    let text = fs::read(path).unwrap_or_default();
    let mut lines: Vec<&[u8]> = text.split(|&b| b == b'\n').collect();
    if lines.last().is_some_and(|l| l.is_empty()) {
        lines.pop(); // what follows the last line break
    }
    lines
        .into_iter()
        .map(|l| Entry::untimed(l.to_vec()))
        .collect()
}

/// Appends lines to a log and its index, rotating both at `max_size`.
pub(crate) struct Writer {
    path: PathBuf,
    log: File,
    index: File,
    size: u64,
    max_size: u64,
    keep: u32,
}

fn open_append(p: &Path) -> io::Result<File> {
    OpenOptions::new().create(true).append(true).open(p)
}

impl Writer {
    /// A writer appending to the log at `path` (and its index).
    pub(crate) fn open(path: &Path, max_size: u64, keep: u32) -> io::Result<Self> {
        let log = open_append(path)?;
        let index = open_append(&index_path(path))?;
        let size = log.metadata()?.len();
        Ok(Self {
            path: path.to_path_buf(),
            log,
            index,
            size,
            max_size,
            keep,
        })
    }

    /// Appends one line (`bytes` without its line break).
    pub(crate) fn write(&mut self, origin: Origin, bytes: &[u8], newline: bool) -> io::Result<()> {
        let at = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX));
        let mut line = Vec::with_capacity(bytes.len() + 1);
        line.extend_from_slice(bytes);
        line.push(b'\n');
        self.log.write_all(&line)?;
        let mut record = [0u8; 17];
        record[..8].copy_from_slice(&self.size.to_le_bytes());
        record[8..16].copy_from_slice(&at.to_le_bytes());
        record[16] = origin.code() | if newline { 0 } else { NO_NEWLINE };
        self.index.write_all(&record)?;
        self.size += line.len() as u64;
        if self.size > self.max_size {
            self.rotate()?;
        }
        Ok(())
    }

    /// `NAME.log` becomes `NAME.log.1` (older ones shift up, at most `keep` are kept), and
    /// the writing goes on in new files.
    fn rotate(&mut self) -> io::Result<()> {
        let idx = index_path(&self.path);
        if self.keep == 0 {
            let _ = fs::remove_file(&self.path);
            let _ = fs::remove_file(&idx);
        } else {
            let old = numbered(&self.path, self.keep);
            let _ = fs::remove_file(&old);
            let _ = fs::remove_file(index_path(&old));
            for i in (1..self.keep).rev() {
                let (from, to) = (numbered(&self.path, i), numbered(&self.path, i + 1));
                let _ = fs::rename(&from, &to);
                let _ = fs::rename(index_path(&from), index_path(&to));
            }
            let first = numbered(&self.path, 1);
            fs::rename(&self.path, &first)?;
            let _ = fs::rename(&idx, index_path(&first));
        }
        self.log = open_append(&self.path)?;
        self.index = open_append(&idx)?;
        self.size = 0;
        Ok(())
    }
}

fn records(bytes: &[u8]) -> impl Iterator<Item = (u64, SystemTime, u8)> + '_ {
    bytes.chunks_exact(17).map(|r| {
        let offset = u64::from_le_bytes(r[..8].try_into().expect("8 bytes"));
        let nanos = u64::from_le_bytes(r[8..16].try_into().expect("8 bytes"));
        (offset, UNIX_EPOCH + Duration::from_nanos(nanos), r[16])
    })
}

/// The entries of a log from byte `from` of its index (a multiple of a record), reading the
/// log from the first one's offset; `None` when the log has no index.
fn indexed(path: &Path, from: u64) -> Option<(Vec<Entry>, u64)> {
    let mut idx = File::open(index_path(path)).ok()?;
    let len = idx.metadata().ok()?.len();
    let end = len - len % RECORD;
    if from >= end {
        return Some((Vec::new(), from));
    }
    idx.seek(SeekFrom::Start(from)).ok()?;
    let mut buf = vec![0; usize::try_from(end - from).ok()?];
    idx.read_exact(&mut buf).ok()?;
    let recs: Vec<(u64, SystemTime, u8)> = records(&buf).collect();
    let first = recs.first()?.0;
    let mut log = File::open(path).ok()?;
    log.seek(SeekFrom::Start(first)).ok()?;
    let mut text = Vec::new();
    log.read_to_end(&mut text).ok()?;
    let mut entries = Vec::with_capacity(recs.len());
    for (i, &(offset, time, flags)) in recs.iter().enumerate() {
        let start = usize::try_from(offset - first).ok()?;
        let stop = recs
            .get(i + 1)
            .and_then(|n| usize::try_from(n.0 - first).ok())
            .unwrap_or(text.len())
            .min(text.len());
        let Some(mut line) = text.get(start..stop).map(<[u8]>::to_vec) else {
            break; // the log was cut (a rotation between the two reads)
        };
        if line.last() == Some(&b'\n') {
            line.pop();
        }
        entries.push(Entry {
            time: Some(time),
            origin: Some(Origin::of(flags)),
            bytes: line,
            newline: flags & NO_NEWLINE == 0,
        });
    }
    Some((entries, end))
}

/// The last `n` entries of the latest run of a log (every entry with `n` = `usize::MAX`).
/// A log without an index gives its last lines without times.
pub(crate) fn tail(path: &Path, n: usize) -> Vec<Entry> {
    let count = fs::metadata(index_path(path)).map_or(0, |m| m.len() / RECORD);
    // Enough records to hold n lines of the run, or its header: read from the end.
    let want = u64::try_from(n).unwrap_or(u64::MAX).saturating_add(1);
    let mut from = count.saturating_sub(want);
    let entries = loop {
        let Some((entries, _)) = indexed(path, from * RECORD) else {
            return super::log::tail(path, n)
                .into_iter()
                .map(Entry::untimed)
                .collect();
        };
        if entries.iter().any(Entry::is_header) || from == 0 {
            break entries;
        }
        from = from.saturating_sub(want.max(1024));
    };
    let run = entries
        .iter()
        .rposition(Entry::is_header)
        .map_or(0, |i| i + 1);
    let run = &entries[run..];
    run[run.len().saturating_sub(n)..].to_vec()
}

/// Follows a log from its end, with times where it has an index.
pub(crate) struct Follower {
    path: PathBuf,
    /// Where in the index the next entries start.
    next: Option<u64>,
    raw: super::log::Follower,
    identity: Option<u64>,
}

fn index_identity(path: &Path) -> Option<u64> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt as _;
        fs::metadata(index_path(path)).ok().map(|m| m.ino())
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        None
    }
}

impl Follower {
    /// Follows `path` from its current end.
    pub(crate) fn new(path: &Path) -> Self {
        let next = fs::metadata(index_path(path))
            .ok()
            .map(|m| m.len() - m.len() % RECORD);
        Self {
            path: path.to_path_buf(),
            next,
            raw: super::log::Follower::new(path),
            identity: index_identity(path),
        }
    }

    /// The entries written since the last call.
    pub(crate) fn entries(&mut self) -> Vec<Entry> {
        let identity = index_identity(&self.path);
        let mut rest = Vec::new();
        if identity.is_some() && identity != self.identity {
            // Rotated (or created): what was written to the old files since the last call is
            // in the first rotated pair; the new index starts at its beginning.
            if let Some(from) = self.next
                && self.identity.is_some()
                && let Some((entries, _)) = indexed(&numbered(&self.path, 1), from)
            {
                rest = entries;
            }
            self.identity = identity;
            self.next = Some(0);
        }
        let Some(from) = self.next else {
            return self.raw.lines().into_iter().map(Entry::untimed).collect();
        };
        if let Some((entries, next)) = indexed(&self.path, from) {
            self.next = Some(next);
            rest.extend(entries);
        }
        rest
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_keep_their_time_stream_and_bytes_through_rotation() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("c.log");
        let mut w = Writer::open(&p, 1 << 20, 1).unwrap();
        let mut f = Follower::new(&p);
        w.write(Origin::Tta, b"=== tta: process c ===", true)
            .unwrap();
        w.write(Origin::Stdout, b"caf\xe9", true).unwrap();
        w.write(Origin::Stderr, b"Password: ", false).unwrap();
        let got = f.entries();
        assert_eq!(got.len(), 3);
        assert_eq!(got[1].bytes, b"caf\xe9");
        assert_eq!(got[2].origin, Some(Origin::Stderr));
        assert!(!got[2].newline && got[1].newline);
        assert!(got[0].time <= got[2].time);
        assert_eq!(
            std::fs::read(&p).unwrap(),
            b"=== tta: process c ===\ncaf\xe9\nPassword: \n"
        );
        let t = tail(&p, 10);
        assert_eq!(t.len(), 2, "the latest run only: {t:?}");
        // A small limit rotates both files together; following goes on in the new ones.
        let mut small = Writer::open(&p, 8, 1).unwrap();
        small.write(Origin::Stdout, b"0123456789", true).unwrap();
        small.write(Origin::Stdout, b"after", true).unwrap();
        assert!(numbered(&p, 1).exists() && index_path(&numbered(&p, 1)).exists());
        let next: Vec<Vec<u8>> = f.entries().into_iter().map(|e| e.bytes).collect();
        assert_eq!(
            next,
            [b"0123456789".to_vec(), b"after".to_vec()],
            "nothing lost across the rotation"
        );
        assert_eq!(tail(&p, 5).len(), 1);
    }

    #[test]
    fn a_log_without_an_index_reads_as_lines_without_times() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("old.log");
        std::fs::write(&p, "=== tta: process old ===\nhello\n").unwrap();
        let t = tail(&p, 5);
        assert_eq!(t.len(), 1);
        assert_eq!((t[0].time, t[0].origin), (None, None));
    }
}
