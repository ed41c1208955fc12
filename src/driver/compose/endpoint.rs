//! Where an engine is, found as the docker CLI finds it: a repository's `context` (what
//! `tta` passes as `--context`), else `DOCKER_HOST` (the process's, else the repository's
//! `.env`), else `DOCKER_CONTEXT`, else the docker config's `currentContext`, else the
//! default socket (Podman's own socket for Podman's compose). A context is read from the
//! docker CLI's context store (`$DOCKER_CONFIG/contexts/meta/*/meta.json`, its TLS files
//! beside it under `contexts/tls/`), so a context made by the current docker CLI works
//! even where compose v1 cannot read it ([`Endpoint::compose_env`] hands compose the
//! address instead).
//!
//! An endpoint says whether the Engine API client can speak it ([`Endpoint::api`]):
//! `unix://`, `tcp://`/`http://` and, on Linux, `tcp://` with verified TLS. Anything else
//! (`ssh://`, TLS without verification, a Podman connection) is read through the CLI.
//! [`Endpoint::engine_host`] is the host that `{engine_host}` in a probe stands for.

use std::path::{Path, PathBuf};

use serde_json::Value;

use super::cli::EngineCli;

/// The docker CLI's default engine.
pub(crate) const DEFAULT_SOCKET: &str = "unix:///var/run/docker.sock";

/// How an endpoint was found, for `-v` and `tta doctor`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Origin {
    /// The repository's `context`.
    Context(String),
    /// `DOCKER_HOST` in the environment.
    Env,
    /// `DOCKER_HOST` in a repository's `.env`.
    DotEnv,
    /// `DOCKER_CONTEXT` in the environment.
    EnvContext(String),
    /// The docker config's `currentContext`.
    Current(String),
    /// The default socket.
    Default,
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Origin::Context(c) => write!(f, "the repository's context `{c}`"),
            Origin::Env => f.write_str("DOCKER_HOST"),
            Origin::DotEnv => f.write_str("DOCKER_HOST in the repository's .env"),
            Origin::EnvContext(c) => write!(f, "DOCKER_CONTEXT `{c}`"),
            Origin::Current(c) => write!(f, "the docker CLI's current context `{c}`"),
            Origin::Default => f.write_str("the default socket"),
        }
    }
}

/// TLS material of an endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Tls {
    /// The folder holding `ca.pem`, `cert.pem` and `key.pem`.
    pub dir: PathBuf,
    /// Whether the engine's certificate is verified.
    pub verify: bool,
}

/// One engine's address, as the docker CLI would use it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Endpoint {
    /// `unix:///var/run/docker.sock`, `tcp://host:2376`, `ssh://user@host`.
    pub host: String,
    /// TLS, when the context or `DOCKER_TLS_VERIFY`/`DOCKER_CERT_PATH` say so.
    pub tls: Option<Tls>,
    /// How it was found.
    pub origin: Origin,
}

/// Reads the process environment (a function, so tests give their own).
pub(crate) type Env<'e> = &'e dyn Fn(&str) -> Option<String>;

/// The process environment, without empty values.
pub(crate) fn process_env(k: &str) -> Option<String> {
    std::env::var(k).ok().filter(|v| !v.is_empty())
}

/// The docker CLI's configuration folder: `DOCKER_CONFIG`, else `~/.docker`.
fn config_dir(env: Env<'_>) -> Option<PathBuf> {
    env("DOCKER_CONFIG")
        .map(PathBuf::from)
        .or_else(|| env("HOME").map(|h| Path::new(&h).join(".docker")))
}

/// Reads a small JSON file, or nothing.
fn read_json(path: &Path) -> Option<Value> {
    let meta = std::fs::metadata(path).ok()?;
    if !meta.is_file() || meta.len() > 1 << 20 {
        return None;
    }
    serde_json::from_slice(&std::fs::read(path).ok()?).ok()
}

/// A context from the docker CLI's store.
fn context(name: &str, env: Env<'_>) -> Result<Endpoint, String> {
    let origin = Origin::Context(name.to_owned());
    if name == "default" {
        return Ok(from_host(env, None, origin));
    }
    let Some(dir) = config_dir(env) else {
        return Err(format!(
            "docker context `{name}` cannot be looked up: neither DOCKER_CONFIG nor HOME is set"
        ));
    };
    let meta = dir.join("contexts").join("meta");
    let found = std::fs::read_dir(&meta).ok().and_then(|entries| {
        entries.flatten().find_map(|e| {
            let v = read_json(&e.path().join("meta.json"))?;
            (v.get("Name")?.as_str()? == name).then(|| (e.file_name(), v))
        })
    });
    let Some((id, v)) = found else {
        return Err(format!(
            "docker context `{name}` is not in the docker CLI's context store ({})",
            meta.display()
        ));
    };
    let docker = v.pointer("/Endpoints/docker");
    let host = docker
        .and_then(|d| d.get("Host"))
        .and_then(Value::as_str)
        .filter(|h| !h.is_empty())
        .ok_or_else(|| format!("docker context `{name}` names no docker endpoint"))?;
    let skip = docker
        .and_then(|d| d.get("SkipTLSVerify"))
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let tls_dir = dir.join("contexts").join("tls").join(id).join("docker");
    let has_tls = tls_dir.join("ca.pem").is_file();
    let tls = has_tls.then_some(Tls {
        dir: tls_dir,
        verify: !skip,
    });
    Ok(Endpoint {
        host: host.to_owned(),
        tls,
        origin,
    })
}

/// `DOCKER_HOST` (or the default socket) with the TLS that `DOCKER_TLS_VERIFY` and
/// `DOCKER_CERT_PATH` give it.
fn from_host(env: Env<'_>, host: Option<(String, Origin)>, default: Origin) -> Endpoint {
    let (host, origin) = host.unwrap_or_else(|| (DEFAULT_SOCKET.to_owned(), default));
    let verify = env("DOCKER_TLS_VERIFY").is_some();
    let tls = (verify || env("DOCKER_TLS").is_some())
        .then(|| {
            let dir = env("DOCKER_CERT_PATH")
                .map(PathBuf::from)
                .or_else(|| config_dir(env))?;
            Some(Tls { dir, verify })
        })
        .flatten();
    Endpoint { host, tls, origin }
}

/// Podman's Docker-compatible socket: rootless (`$XDG_RUNTIME_DIR`), else the system one.
fn podman_socket(env: Env<'_>) -> String {
    let rootless = env("XDG_RUNTIME_DIR").map(|d| Path::new(&d).join("podman/podman.sock"));
    match rootless.filter(|p| p.exists()) {
        Some(p) => format!("unix://{}", p.display()),
        None => "unix:///run/podman/podman.sock".to_owned(),
    }
}

/// The endpoint of a repository's engine: its `context`, else `DOCKER_HOST` (the
/// environment's, else `dotenv_host` from its `.env`), else `DOCKER_CONTEXT`, else the
/// current context, else the default. `Err`: a named context that cannot be read.
pub(crate) fn resolve(
    cli: EngineCli,
    context_name: Option<&str>,
    dotenv_host: Option<&str>,
    env: Env<'_>,
) -> Result<Endpoint, String> {
    if cli == EngineCli::Podman {
        // Podman's connections live in its own configuration, which only its CLI reads.
        let host = env("DOCKER_HOST")
            .map(|h| (h, Origin::Env))
            .or_else(|| env("CONTAINER_HOST").map(|h| (h, Origin::Env)))
            .or_else(|| dotenv_host.map(|h| (h.to_owned(), Origin::DotEnv)));
        return Ok(match (context_name, host) {
            (Some(c), _) => Endpoint {
                host: format!("podman-connection://{c}"),
                tls: None,
                origin: Origin::Context(c.to_owned()),
            },
            (None, Some((host, origin))) => Endpoint {
                host,
                tls: None,
                origin,
            },
            (None, None) => Endpoint {
                host: podman_socket(env),
                tls: None,
                origin: Origin::Default,
            },
        });
    }
    if let Some(c) = context_name {
        return context(c, env);
    }
    if let Some(h) = env("DOCKER_HOST") {
        return Ok(from_host(env, Some((h, Origin::Env)), Origin::Default));
    }
    if let Some(h) = dotenv_host {
        return Ok(from_host(
            env,
            Some((h.to_owned(), Origin::DotEnv)),
            Origin::Default,
        ));
    }
    let named = env("DOCKER_CONTEXT")
        .map(|c| (c.clone(), Origin::EnvContext(c)))
        .or_else(|| {
            let cfg = read_json(&config_dir(env)?.join("config.json"))?;
            let c = cfg.get("currentContext")?.as_str()?.to_owned();
            Some((c.clone(), Origin::Current(c)))
        })
        .filter(|(c, _)| c != "default");
    match named {
        Some((c, origin)) => context(&c, env).map(|e| Endpoint { origin, ..e }),
        None => Ok(from_host(env, None, Origin::Default)),
    }
}

impl Endpoint {
    /// `Ok` when the Engine API client speaks this endpoint; else why the docker CLI
    /// reads it instead.
    pub(crate) fn api(&self) -> Result<(), String> {
        let scheme = self.host.split("://").next().unwrap_or_default();
        match (scheme, &self.tls) {
            ("unix", _) => Ok(()),
            ("tcp" | "http", None) => Ok(()),
            ("tcp" | "https", Some(t)) if !t.verify => Err(format!(
                "{} uses TLS without verifying the engine's certificate, which the Engine API client does not do",
                self.host
            )),
            ("tcp" | "https", Some(_)) if cfg!(target_os = "linux") => Ok(()),
            ("tcp" | "https", Some(_)) => Err(format!(
                "{}: TLS engines are read through the docker CLI on this platform",
                self.host
            )),
            ("ssh", _) => Err(format!(
                "{}: ssh:// engines are read through the docker CLI (it runs `docker system dial-stdio` over ssh)",
                self.host
            )),
            ("podman-connection", _) => Err(format!(
                "Podman connection `{}` is read through the podman CLI",
                self.host.trim_start_matches("podman-connection://")
            )),
            _ => Err(format!(
                "{}: the Engine API client cannot speak this address",
                self.host
            )),
        }
    }

    /// The host part of the address: what `{engine_host}` in a probe stands for
    /// (`127.0.0.1` for a local socket).
    pub(crate) fn engine_host(&self) -> String {
        let Some((scheme, rest)) = self.host.split_once("://") else {
            return "127.0.0.1".to_owned();
        };
        if matches!(scheme, "unix" | "npipe" | "podman-connection") {
            return "127.0.0.1".to_owned();
        }
        let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
        let authority = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
        let host = if authority.starts_with('[') {
            authority
                .split_once(']')
                .map_or(authority, |(h, _)| h)
                .trim_start_matches('[')
        } else {
            authority.split(':').next().unwrap_or_default()
        };
        match host {
            "" | "localhost" => "127.0.0.1".to_owned(),
            h => h.to_owned(),
        }
    }

    /// Whether a service of this engine is published somewhere else than at `addr`'s
    /// host (`host:port`): a network address (`tcp://`, `ssh://`) whose host is not that
    /// one. A socket's engine publishes on this machine.
    pub(crate) fn elsewhere_than(&self, addr: &str) -> bool {
        let scheme = self.host.split("://").next().unwrap_or_default();
        if !matches!(scheme, "tcp" | "http" | "https" | "ssh") {
            return false;
        }
        let host = addr.rsplit_once(':').map_or(addr, |(h, _)| h);
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let host = if host == "localhost" {
            "127.0.0.1"
        } else {
            host
        };
        let ip = |h: &str| h.parse::<std::net::IpAddr>().ok();
        let engine = self.engine_host();
        match (ip(host), ip(&engine)) {
            (Some(a), Some(b)) => a != b,
            _ => !host.eq_ignore_ascii_case(&engine),
        }
    }

    /// Whether calls to it must go one at a time (`ssh://`: docker/compose#8856).
    pub(crate) fn serial(&self) -> bool {
        self.host.starts_with("ssh://")
    }

    /// The environment that points a compose (or docker) command that cannot read the
    /// context store at this endpoint: `DOCKER_HOST`, and the TLS variables.
    pub(crate) fn compose_env(&self) -> Vec<(String, String)> {
        let mut env = vec![("DOCKER_HOST".to_owned(), self.host.clone())];
        if let Some(t) = &self.tls {
            env.push(("DOCKER_CERT_PATH".to_owned(), t.dir.display().to_string()));
            if t.verify {
                env.push(("DOCKER_TLS_VERIFY".to_owned(), "1".to_owned()));
            } else {
                env.push(("DOCKER_TLS".to_owned(), "1".to_owned()));
            }
        }
        env
    }

    /// One line for `-v` and `tta doctor`: the address, how it was found, and TLS.
    pub(crate) fn describe(&self) -> String {
        let tls = match &self.tls {
            Some(t) if t.verify => ", TLS",
            Some(_) => ", TLS without verification",
            None => "",
        };
        format!("{} (from {}{tls})", self.host, self.origin)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + use<> {
        let m: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        move |k: &str| m.get(k).cloned()
    }

    /// A docker config folder with contexts `(name, host, skip_tls, with_tls_files)`.
    fn store(current: Option<&str>, contexts: &[(&str, &str, bool, bool)]) -> tempfile::TempDir {
        let d = tempfile::tempdir().unwrap();
        if let Some(c) = current {
            std::fs::write(
                d.path().join("config.json"),
                format!(r#"{{"auths":{{}},"currentContext":"{c}"}}"#),
            )
            .unwrap();
        }
        for (i, (name, host, skip, tls)) in contexts.iter().enumerate() {
            let id = format!("{i:064x}");
            let meta = d.path().join("contexts/meta").join(&id);
            std::fs::create_dir_all(&meta).unwrap();
            std::fs::write(
                meta.join("meta.json"),
                format!(
                    r#"{{"Name":"{name}","Metadata":{{}},"Endpoints":{{"docker":{{"Host":"{host}","SkipTLSVerify":{skip}}}}}}}"#
                ),
            )
            .unwrap();
            if *tls {
                let t = d.path().join("contexts/tls").join(&id).join("docker");
                std::fs::create_dir_all(&t).unwrap();
                for f in ["ca.pem", "cert.pem", "key.pem"] {
                    std::fs::write(t.join(f), "x").unwrap();
                }
            }
        }
        d
    }

    #[test]
    fn the_docker_clis_order_decides() {
        let d = store(
            Some("cur"),
            &[
                ("cur", "tcp://10.0.0.9:2375", false, false),
                ("remote", "tcp://127.0.0.2:2376", false, true),
                ("far", "ssh://me@build-box", false, false),
            ],
        );
        let cfg = d.path().display().to_string();
        let docker = EngineCli::Docker;
        // A repository's context wins over everything (it is passed as --context).
        let env = env_of(&[("DOCKER_CONFIG", &cfg), ("DOCKER_HOST", "tcp://h:1")]);
        let e = resolve(docker, Some("remote"), None, &env).unwrap();
        assert_eq!(e.host, "tcp://127.0.0.2:2376");
        assert_eq!(e.origin, Origin::Context("remote".into()));
        assert!(e.tls.as_ref().is_some_and(|t| t.verify));
        assert_eq!(e.engine_host(), "127.0.0.2");
        // Then DOCKER_HOST, the environment's over the .env's.
        let e = resolve(docker, None, Some("tcp://dotenv:2"), &env).unwrap();
        assert_eq!((e.host.as_str(), &e.origin), ("tcp://h:1", &Origin::Env));
        let env = env_of(&[("DOCKER_CONFIG", &cfg)]);
        let e = resolve(docker, None, Some("tcp://dotenv:2"), &env).unwrap();
        assert_eq!(e.origin, Origin::DotEnv);
        // Then DOCKER_CONTEXT, then the current context.
        let env = env_of(&[("DOCKER_CONFIG", &cfg), ("DOCKER_CONTEXT", "far")]);
        let e = resolve(docker, None, None, &env).unwrap();
        assert_eq!(e.origin, Origin::EnvContext("far".into()));
        assert!(e.api().unwrap_err().contains("ssh://"));
        assert!(e.serial());
        assert_eq!(e.engine_host(), "build-box");
        let env = env_of(&[("DOCKER_CONFIG", &cfg)]);
        let e = resolve(docker, None, None, &env).unwrap();
        assert_eq!(
            (e.host.as_str(), e.engine_host().as_str()),
            ("tcp://10.0.0.9:2375", "10.0.0.9")
        );
        assert!(e.api().is_ok());
        // Nothing at all: the default socket; `default` names it too.
        let empty = tempfile::tempdir().unwrap();
        let env = env_of(&[("DOCKER_CONFIG", &empty.path().display().to_string())]);
        let e = resolve(docker, None, None, &env).unwrap();
        assert_eq!(
            (e.host.as_str(), &e.origin),
            (DEFAULT_SOCKET, &Origin::Default)
        );
        assert_eq!(
            resolve(docker, Some("default"), None, &env).unwrap().host,
            DEFAULT_SOCKET
        );
        assert_eq!(e.engine_host(), "127.0.0.1");
        // A context that is not there is named with where it was looked for.
        let err = resolve(docker, Some("nope"), None, &env).unwrap_err();
        assert!(err.contains("docker context `nope` is not in"), "{err}");
    }

    #[test]
    fn tls_comes_from_the_context_or_the_environment() {
        let d = store(None, &[("insecure", "tcp://h:2376", true, true)]);
        let cfg = d.path().display().to_string();
        let env = env_of(&[("DOCKER_CONFIG", &cfg)]);
        let e = resolve(EngineCli::Docker, Some("insecure"), None, &env).unwrap();
        assert!(e.api().unwrap_err().contains("without verifying"));
        let env = env_of(&[
            ("DOCKER_HOST", "tcp://127.0.0.2:2376"),
            ("DOCKER_TLS_VERIFY", "1"),
            ("DOCKER_CERT_PATH", "/certs"),
        ]);
        let e = resolve(EngineCli::Docker, None, None, &env).unwrap();
        assert_eq!(
            e.tls,
            Some(Tls {
                dir: "/certs".into(),
                verify: true
            })
        );
        assert_eq!(
            e.compose_env(),
            [
                ("DOCKER_HOST".to_owned(), "tcp://127.0.0.2:2376".to_owned()),
                ("DOCKER_CERT_PATH".to_owned(), "/certs".to_owned()),
                ("DOCKER_TLS_VERIFY".to_owned(), "1".to_owned()),
            ]
        );
        assert!(e.describe().contains("TLS"));
    }

    #[test]
    fn podman_has_its_own_socket_and_connections() {
        let run = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(run.path().join("podman")).unwrap();
        std::fs::write(run.path().join("podman/podman.sock"), "").unwrap();
        let xdg = run.path().display().to_string();
        let env = env_of(&[("XDG_RUNTIME_DIR", &xdg)]);
        let e = resolve(EngineCli::Podman, None, None, &env).unwrap();
        assert_eq!(e.host, format!("unix://{xdg}/podman/podman.sock"));
        assert!(e.api().is_ok());
        let e = resolve(EngineCli::Podman, Some("m"), None, &env).unwrap();
        assert!(e.api().unwrap_err().contains("Podman connection `m`"));
        let env = env_of(&[]);
        let e = resolve(EngineCli::Podman, None, None, &env).unwrap();
        assert_eq!(e.host, "unix:///run/podman/podman.sock");
    }

    #[test]
    fn engine_hosts_are_read_from_every_address_form() {
        let at = |host: &str| Endpoint {
            host: host.into(),
            tls: None,
            origin: Origin::Default,
        };
        assert_eq!(at("tcp://[::1]:2375").engine_host(), "::1");
        assert_eq!(at("ssh://user@box:2222").engine_host(), "box");
        assert_eq!(at("tcp://localhost:2375").engine_host(), "127.0.0.1");
        assert_eq!(
            at("npipe:////./pipe/docker_engine").engine_host(),
            "127.0.0.1"
        );
        assert!(at("fd://").api().is_err());
        // Where a loopback probe cannot reach an engine's services.
        assert!(at("tcp://127.0.0.2:2375").elsewhere_than("127.0.0.1:7687"));
        assert!(at("ssh://me@box").elsewhere_than("localhost:7687"));
        assert!(!at("tcp://127.0.0.1:2375").elsewhere_than("localhost:7687"));
        assert!(!at("unix:///var/run/docker.sock").elsewhere_than("127.0.0.1:7687"));
        assert!(!at("tcp://127.0.0.2:2375").elsewhere_than("127.0.0.2:7687"));
    }
}
