//! Reading a compose file or an `.env` without trusting it: only a regular file is read
//! (a FIFO or a device would block or never end; it is opened without blocking and refused),
//! and only up to a size limit (a file of gigabytes is refused, not loaded).

use std::io::Read as _;
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::Path;

/// The largest `.env` file read (Compose's are a few lines).
pub(crate) const MAX_ENV_BYTES: u64 = 1024 * 1024;
/// The largest compose file read.
pub(crate) const MAX_COMPOSE_BYTES: u64 = 64 * 1024 * 1024;

/// A small state file of `tta`'s own (at most [`MAX_ENV_BYTES`]), as text.
pub(crate) fn read_small(path: &Path) -> Result<String, ReadError> {
    read_text(path, MAX_ENV_BYTES)
}

/// Why a file could not be read.
#[derive(Debug)]
pub(crate) enum ReadError {
    /// It is not there.
    NotFound,
    /// Anything else, as a lowercase fragment.
    Other(String),
}

/// The text of a regular file of at most `limit` bytes.
pub(crate) fn read_text(path: &Path, limit: u64) -> Result<String, ReadError> {
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(rustix::fs::OFlags::NONBLOCK.bits().cast_signed())
        .open(path)
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => ReadError::NotFound,
            _ => ReadError::Other(e.to_string()),
        })?;
    let meta = file
        .metadata()
        .map_err(|e| ReadError::Other(e.to_string()))?;
    if !meta.is_file() {
        return Err(ReadError::Other(
            "not a regular file (a FIFO, a device or a folder is never read)".into(),
        ));
    }
    if meta.len() > limit {
        return Err(ReadError::Other(format!(
            "it is {} bytes, more than the {} read at most",
            meta.len(),
            limit
        )));
    }
    let mut bytes = Vec::new();
    file.take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| ReadError::Other(e.to_string()))?;
    if bytes.len() as u64 > limit {
        return Err(ReadError::Other(format!(
            "it grew past the {limit} bytes read at most"
        )));
    }
    String::from_utf8(bytes)
        .map_err(|_| ReadError::Other("stream did not contain valid UTF-8".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fifos_devices_and_huge_files_are_refused_at_once() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("fifo");
        let made = crate::process::Spec::new(["mkfifo".into(), fifo.display().to_string()]).run();
        assert!(made.unwrap().success());
        let t = std::time::Instant::now();
        assert!(matches!(read_text(&fifo, 10), Err(ReadError::Other(m)) if m.contains("FIFO")));
        assert!(t.elapsed() < std::time::Duration::from_secs(1));
        assert!(matches!(
            read_text(Path::new("/dev/zero"), 10),
            Err(ReadError::Other(_))
        ));
        let big = dir.path().join("big");
        std::fs::write(&big, vec![b'a'; 11]).unwrap();
        assert!(matches!(read_text(&big, 10), Err(ReadError::Other(m)) if m.contains("11 bytes")));
        assert!(matches!(
            read_text(&dir.path().join("no"), 10),
            Err(ReadError::NotFound)
        ));
        std::fs::write(&big, "A=1\n").unwrap();
        assert_eq!(read_text(&big, 10).unwrap(), "A=1\n");
    }
}
