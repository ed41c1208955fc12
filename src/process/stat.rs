//! The kernel's view of a process: its state, parent, group and start time.
//!
//! On Linux this is `/proc/<pid>/stat`. Elsewhere (macOS) nothing is read: [`stat`] returns
//! `None`, records carry no start time, and callers fall back to what `kill(pid, 0)` tells
//! (alive or not), which is documented where it matters.

/// What the kernel says of one process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Stat {
    /// Its state letter (`R`, `S`, `D`, `Z` for a zombie, ...).
    pub state: char,
    /// Its parent's pid.
    pub ppid: u32,
    /// Its process group.
    pub pgrp: u32,
    /// Its session.
    pub session: u32,
    /// When it started, in clock ticks since boot: with the pid, what tells this process
    /// from a later one that got the same pid.
    pub start_ticks: u64,
}

impl Stat {
    /// A zombie (exited, not yet reaped) or dead process holds nothing and needs no signal.
    pub(crate) fn is_gone(&self) -> bool {
        matches!(self.state, 'Z' | 'X')
    }
}

/// Parses the text of `/proc/<pid>/stat`.
#[cfg_attr(
    all(not(target_os = "linux"), not(test)),
    expect(
        dead_code,
        reason = "only Linux has /proc; the parser is tested everywhere"
    )
)]
pub(crate) fn parse(text: &str) -> Option<Stat> {
    // The command name (field 2) is in parentheses and may contain spaces and parentheses.
    let after = text.get(text.rfind(')')? + 2..)?;
    let mut f = after.split(' ');
    let state = f.next()?.chars().next()?;
    let ppid = f.next()?.parse().ok()?;
    let pgrp = f.next()?.parse().ok()?;
    let session = f.next()?.parse().ok()?;
    // Fields 7..=21 come next; the start time is field 22 (the 19th after `session`).
    let start_ticks = f.nth(15)?.parse().ok()?;
    Some(Stat {
        state,
        ppid,
        pgrp,
        session,
        start_ticks,
    })
}

/// The kernel's view of `pid`, or `None` when it does not exist or cannot be read.
#[cfg(target_os = "linux")]
pub(crate) fn stat(pid: u32) -> Option<Stat> {
    parse(&std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?)
}

/// The kernel's view of `pid`: not read on this system.
#[cfg(not(target_os = "linux"))]
pub(crate) fn stat(_pid: u32) -> Option<Stat> {
    None
}

/// The start time of `pid`, where the kernel tells it.
pub(crate) fn start_ticks(pid: u32) -> Option<u64> {
    stat(pid).map(|s| s.start_ticks)
}

/// Every process the kernel lists, with its view; `None` where processes cannot be listed.
#[cfg(target_os = "linux")]
pub(crate) fn all() -> Option<Vec<(u32, Stat)>> {
    let dir = std::fs::read_dir("/proc").ok()?;
    Some(
        dir.filter_map(Result::ok)
            .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
            .filter_map(|pid| Some((pid, stat(pid)?)))
            .collect(),
    )
}

/// Every process the kernel lists: not read on this system.
#[cfg(not(target_os = "linux"))]
pub(crate) fn all() -> Option<Vec<(u32, Stat)>> {
    None
}

/// The process that listens on TCP `port` (any address), with its command line, where the
/// kernel tells (Linux: `/proc/net/tcp*` and each process's open sockets).
#[cfg(target_os = "linux")]
pub(crate) fn listener(port: u16) -> Option<(u32, String)> {
    let want = format!(":{port:04X}");
    let mut inodes = Vec::new();
    for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
        let Ok(text) = std::fs::read_to_string(table) else {
            continue;
        };
        for line in text.lines().skip(1) {
            let f: Vec<&str> = line.split_whitespace().collect();
            // local address, remote address, state (0A: listening), ..., inode (field 10)
            if f.len() > 9 && f[1].ends_with(&want) && f[3] == "0A" {
                inodes.push(format!("socket:[{}]", f[9]));
            }
        }
    }
    if inodes.is_empty() {
        return None;
    }
    for (pid, _) in all()? {
        let Ok(fds) = std::fs::read_dir(format!("/proc/{pid}/fd")) else {
            continue;
        };
        let holds = fds.filter_map(Result::ok).any(|fd| {
            std::fs::read_link(fd.path())
                .is_ok_and(|l| inodes.iter().any(|i| l.as_os_str() == i.as_str()))
        });
        if holds {
            let cmd = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
            let cmd: Vec<String> = cmd
                .split(|&b| b == 0)
                .filter(|a| !a.is_empty())
                .map(|a| String::from_utf8_lossy(a).into_owned())
                .collect();
            return Some((pid, cmd.join(" ")));
        }
    }
    None
}

/// The process that listens on a TCP port: not known on this system.
#[cfg(not(target_os = "linux"))]
pub(crate) fn listener(_port: u16) -> Option<(u32, String)> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_names_with_spaces_and_parentheses() {
        let line = "1234 (my (odd) name) S 1 1234 1234 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 987654 1000 10 18446744073709551615\n";
        let s = parse(line).unwrap();
        assert_eq!(
            (s.state, s.ppid, s.pgrp, s.session, s.start_ticks),
            ('S', 1, 1234, 1234, 987_654)
        );
        assert!(parse("garbage").is_none());
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn finds_who_listens_on_a_port() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let (pid, _) = listener(port).unwrap();
        assert_eq!(pid, std::process::id());
        drop(l);
        assert!(listener(port).is_none());
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn reads_this_process() {
        let me = stat(std::process::id()).unwrap();
        assert!(!me.is_gone());
        assert_eq!(start_ticks(std::process::id()), Some(me.start_ticks));
    }
}
