//! Host-side readiness probes: TCP connect, HTTP status, or a command's exit code.
//!
//! Probes run from the host, so they work for images without curl and for local processes
//! alike. One attempt is bounded by the probe's `timeout`.

use std::net::{TcpStream, ToSocketAddrs as _};
use std::path::Path;
use std::time::Duration;

use crate::config::model::ProbeCheck;
use crate::process::{RunError, Spec};

/// Runs one attempt of a probe. `Err` says why it failed, as a lowercase fragment.
pub fn check(check: &ProbeCheck, timeout: Duration, cwd: &Path) -> Result<(), String> {
    match check {
        ProbeCheck::Tcp(addr) => tcp(addr, timeout),
        ProbeCheck::Http { url, status } => http(url, *status, timeout),
        ProbeCheck::Exec(argv) => exec(argv, timeout, cwd),
    }
}

/// A one-line description of a probe, for progress and status output.
pub fn describe(check: &ProbeCheck) -> String {
    match check {
        ProbeCheck::Tcp(a) => format!("tcp {a}"),
        ProbeCheck::Http { url, status } => match status {
            Some(s) => format!("http {url} = {s}"),
            None => format!("http {url}"),
        },
        ProbeCheck::Exec(argv) => format!("exec {}", argv.join(" ")),
    }
}

fn tcp(addr: &str, timeout: Duration) -> Result<(), String> {
    let addrs = addr
        .to_socket_addrs()
        .map_err(|e| format!("cannot resolve {addr}: {e}"))?;
    let mut last = format!("{addr} resolved to no address");
    for a in addrs {
        match TcpStream::connect_timeout(&a, timeout) {
            Ok(_) => return Ok(()),
            Err(e) => last = format!("connect to {a}: {e}"),
        }
    }
    Err(last)
}

fn http(url: &str, expected: Option<u16>, timeout: Duration) -> Result<(), String> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(timeout))
        .http_status_as_error(false)
        .build()
        .into();
    match agent.get(url).call() {
        Ok(resp) => {
            let code = resp.status().as_u16();
            let ok = match expected {
                Some(want) => code == want,
                None => (200..300).contains(&code),
            };
            if ok {
                Ok(())
            } else {
                Err(match expected {
                    Some(want) => format!("GET {url} answered {code}, expected {want}"),
                    None => format!("GET {url} answered {code}, expected 2xx"),
                })
            }
        }
        Err(e) => Err(format!("GET {url}: {e}")),
    }
}

fn exec(argv: &[String], timeout: Duration, cwd: &Path) -> Result<(), String> {
    let program = argv.first().ok_or("empty exec probe")?;
    match Spec::new(argv.to_vec()).cwd(cwd).deadline(timeout).run() {
        Ok(f) if f.success() => Ok(()),
        Ok(f) => Err(format!("`{}` exited with {}", argv.join(" "), f.status)),
        Err(RunError::TimedOut(_)) => Err(format!(
            "`{}` took longer than {}",
            argv.join(" "),
            crate::duration::Human(timeout)
        )),
        Err(RunError::NotFound(_)) => Err(format!("cannot run `{program}`: not found on PATH")),
        Err(RunError::Spawn(m)) => Err(m),
        Err(e) => Err(format!("`{}`: {e}", argv.join(" "))),
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
        assert!(err.contains("connect to"), "{err}");
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
        assert!(err.contains("answered 503"), "{err}");
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
        assert!(err.contains("took longer"), "{err}");
        assert!(t.elapsed() < Duration::from_secs(2));
        assert!(
            exec(&["no-such-program-tta".into()], Duration::from_secs(1), cwd)
                .unwrap_err()
                .contains("cannot run")
        );
    }
}
