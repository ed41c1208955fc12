//! Host-side readiness probes: TCP connect, HTTP status, or a command's exit code.
//!
//! Probes run from the host, so they work for images without curl and for local processes
//! alike. One attempt is bounded by the probe's `timeout`.

use std::net::{TcpStream, ToSocketAddrs as _};
use std::path::Path;
use std::time::Duration;

use crate::config::model::ProbeCheck;
use crate::config::secrets;
use crate::duration::Human;
use crate::process::{RunError, Spec};

/// Why one attempt of a probe failed. Its text is a lowercase fragment.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum ProbeError {
    /// The address does not resolve.
    #[error("cannot resolve {addr}: {error}")]
    Resolve {
        /// As written.
        addr: String,
        /// Why.
        error: String,
    },
    /// It resolved to nothing.
    #[error("{0} resolved to no address")]
    NoAddress(String),
    /// No connection.
    #[error("connect to {addr}: {error}")]
    Connect {
        /// The address tried last.
        addr: String,
        /// Why.
        error: String,
    },
    /// An HTTP answer with the wrong status.
    #[error("GET {url} answered {got}, expected {}", expected.map_or_else(|| "2xx".to_owned(), |w| w.to_string()))]
    Status {
        /// The URL.
        url: String,
        /// The status it answered.
        got: u16,
        /// The status wanted (`None`: any 2xx).
        expected: Option<u16>,
    },
    /// No HTTP answer.
    #[error("GET {url}: {error}")]
    Http {
        /// The URL.
        url: String,
        /// Why.
        error: String,
    },
    /// The command exited unsuccessfully.
    #[error("`{command}` exited with {status}")]
    Exited {
        /// The command line.
        command: String,
        /// How it ended.
        status: String,
    },
    /// The command took longer than the probe's timeout and was killed.
    #[error("`{command}` took longer than {}", Human(*timeout))]
    TooSlow {
        /// The command line.
        command: String,
        /// The probe's timeout.
        timeout: Duration,
    },
    /// The command could not run.
    #[error("{0}")]
    CannotRun(String),
}

/// Runs one attempt of a probe.
pub(crate) fn check(check: &ProbeCheck, timeout: Duration, cwd: &Path) -> Result<(), ProbeError> {
    match check {
        ProbeCheck::Tcp(addr) => tcp(addr, timeout),
        ProbeCheck::Http { url, status } => http(url, *status, timeout),
        ProbeCheck::Exec(argv) => exec(argv, timeout, cwd),
    }
}

/// A one-line description of a probe, for progress and status output (secrets masked).
/// Whether a probe aims at `{engine_host}`.
pub(crate) fn uses_engine_host(check: &ProbeCheck) -> bool {
    check
        .address()
        .is_some_and(|a| a.contains(crate::config::model::ENGINE_HOST))
}

/// Whether `host:port` is this machine's loopback (`127.x`, `localhost`, `[::1]`).
pub(crate) fn is_loopback(addr: &str) -> bool {
    let host = addr.rsplit_once(':').map_or(addr, |(h, _)| h);
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// A probe as `tta` shows it while waiting.
pub(crate) fn describe(check: &ProbeCheck) -> String {
    match check {
        ProbeCheck::Tcp(a) => format!("tcp {a}"),
        ProbeCheck::Http { url, status } => {
            let url = secrets::redact(url);
            match status {
                Some(s) => format!("http {url} = {s}"),
                None => format!("http {url}"),
            }
        }
        ProbeCheck::Exec(argv) => format!("exec {}", secrets::redact_argv(argv).join(" ")),
    }
}

fn tcp(addr: &str, timeout: Duration) -> Result<(), ProbeError> {
    let addrs = addr.to_socket_addrs().map_err(|e| ProbeError::Resolve {
        addr: addr.to_owned(),
        error: e.to_string(),
    })?;
    let mut last = ProbeError::NoAddress(addr.to_owned());
    for a in addrs {
        match TcpStream::connect_timeout(&a, timeout) {
            Ok(_) => return Ok(()),
            Err(e) => {
                last = ProbeError::Connect {
                    addr: a.to_string(),
                    error: e.to_string(),
                };
            }
        }
    }
    Err(last)
}

fn http(url: &str, expected: Option<u16>, timeout: Duration) -> Result<(), ProbeError> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(timeout))
        .http_status_as_error(false)
        .build()
        .into();
    match agent.get(url).call() {
        Ok(resp) => {
            let got = resp.status().as_u16();
            let ok = match expected {
                Some(want) => got == want,
                None => (200..300).contains(&got),
            };
            if ok {
                Ok(())
            } else {
                Err(ProbeError::Status {
                    url: secrets::redact(url).into_owned(),
                    got,
                    expected,
                })
            }
        }
        Err(e) => Err(ProbeError::Http {
            url: secrets::redact(url).into_owned(),
            error: secrets::redact(&e.to_string()).into_owned(),
        }),
    }
}

fn exec(argv: &[String], timeout: Duration, cwd: &Path) -> Result<(), ProbeError> {
    let command = secrets::redact_argv(argv).join(" ");
    let program = argv
        .first()
        .ok_or_else(|| ProbeError::CannotRun("empty exec probe".into()))?;
    match Spec::new(argv.to_vec()).cwd(cwd).deadline(timeout).run() {
        Ok(f) if f.success() => Ok(()),
        Ok(f) => Err(ProbeError::Exited {
            command,
            status: f.status.to_string(),
        }),
        Err(RunError::TimedOut(_)) => Err(ProbeError::TooSlow { command, timeout }),
        Err(RunError::NotFound(_)) => Err(ProbeError::CannotRun(format!(
            "cannot run `{program}`: not found on PATH"
        ))),
        Err(RunError::Spawn(m)) => Err(ProbeError::CannotRun(m)),
        Err(e) => Err(ProbeError::CannotRun(format!("`{command}`: {e}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read as _, Write as _};
    use std::net::TcpListener;
    use std::time::Instant;

    #[test]
    fn tcp_passes_when_listening_and_fails_otherwise() {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap().to_string();
        assert!(tcp(&addr, Duration::from_secs(1)).is_ok());
        drop(l);
        let err = tcp(&addr, Duration::from_secs(1)).unwrap_err();
        assert!(err.to_string().contains("connect to"), "{err}");
    }

    #[test]
    fn http_checks_the_status() {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/models", l.local_addr().unwrap());
        let server = std::thread::spawn(move || {
            for code in ["200 OK", "503 Service Unavailable"] {
                let (mut s, _) = l.accept().unwrap();
                let mut buf = [0u8; 1024];
                let _ = s.read(&mut buf);
                let _ = write!(
                    s,
                    "HTTP/1.1 {code}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
                );
            }
        });
        assert_eq!(http(&url, None, Duration::from_secs(2)), Ok(()));
        let err = http(&url, None, Duration::from_secs(2)).unwrap_err();
        assert!(err.to_string().contains("answered 503"), "{err}");
        server.join().unwrap();
    }

    #[test]
    fn exec_uses_the_exit_code_and_the_timeout() {
        let cwd = Path::new("/");
        assert!(exec(&["true".into()], Duration::from_secs(1), cwd).is_ok());
        assert!(exec(&["false".into()], Duration::from_secs(1), cwd).is_err());
        let t = Instant::now();
        let err = exec(
            &["sleep".into(), "5".into()],
            Duration::from_millis(100),
            cwd,
        )
        .unwrap_err();
        assert!(err.to_string().contains("took longer"), "{err}");
        assert!(t.elapsed() < Duration::from_secs(2));
        assert!(
            exec(&["no-such-program-tta".into()], Duration::from_secs(1), cwd)
                .unwrap_err()
                .to_string()
                .contains("cannot run")
        );
    }
}
