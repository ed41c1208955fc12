//! The Docker Engine API, spoken directly (bollard) for everything that reads or watches
//! containers: the list, inspects, logs (read or followed), the event stream, the version.
//!
//! bollard is async; `tta` is not. Everything async lives here: one small current-thread
//! tokio runtime, made on first use, that each caller drives with `block_on` for its own
//! call (the runtime lets several threads do so at once: one drives I/O, the others hook
//! into it), bounded by `tokio::time::timeout`. The long calls (the event stream, a
//! followed log) block the thread that makes them, hand over what comes to a callback on
//! that thread, and end on a [`Cancel`], which wakes them; nothing outside this module
//! sees a future.
//!
//! The API version asked first is 1.41, which every engine from Docker 20.10 to 28 (and
//! Podman) accepts; an engine that refuses it (Docker 29 wants 1.44 or later) gets one
//! negotiated from its `/version`, once. `DOCKER_API_VERSION` chooses one, as for the CLI.

use std::cell::RefCell;
use std::collections::HashMap;
use std::future::Future;
use std::pin::pin;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use bollard::container::LogOutput;
use bollard::query_parameters::{EventsOptions, ListContainersOptions, LogsOptions};
use bollard::{ClientVersion, Docker};
use futures_util::StreamExt as _;
use futures_util::future::{Either, select};
use serde_json::Value;

use super::endpoint::Endpoint;
use super::event::Event;
use super::lock;
use crate::cancel::Cancel;
use crate::driver::LogQuery;
use crate::duration::Human;
use crate::process::Stream;

/// The version asked first.
const FIRST_VERSION: ClientVersion = ClientVersion {
    major_version: 1,
    minor_version: 41,
};

/// bollard's own bound on getting a response (ours, per call, is shorter).
const CLIENT_TIMEOUT_SECS: u64 = 120;

/// The bound on negotiating a version before an unbounded call (a followed log).
const NEGOTIATION_LIMIT: Duration = Duration::from_secs(30);

fn runtime() -> Result<&'static tokio::runtime::Runtime, ApiError> {
    static RUNTIME: OnceLock<Result<tokio::runtime::Runtime, String>> = OnceLock::new();
    RUNTIME
        .get_or_init(|| {
            tokio::runtime::Builder::new_current_thread()
                .enable_io()
                .enable_time()
                .thread_stack_size(256 * 1024)
                .build()
                .map_err(|e| format!("cannot start the engine client: {e}"))
        })
        .as_ref()
        .map_err(|e| ApiError::Unreachable(e.clone()))
}

/// Why an API call gave no answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ApiError {
    /// The engine cannot be reached (no socket, connection refused, TLS failed).
    Unreachable(String),
    /// It did not answer in time.
    TimedOut(Duration),
    /// It answered with an error.
    Failed(String),
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ApiError::Unreachable(m) | ApiError::Failed(m) => f.write_str(m),
            ApiError::TimedOut(d) => write!(f, "did not finish within {}", Human(*d)),
        }
    }
}

fn classify(e: bollard::errors::Error) -> ApiError {
    use bollard::errors::Error as E;
    match e {
        E::DockerResponseServerError { message, .. } => ApiError::Failed(message),
        E::RequestTimeoutError => ApiError::TimedOut(Duration::from_secs(CLIENT_TIMEOUT_SECS)),
        E::SocketNotFoundError(path) => ApiError::Unreachable(format!(
            "Cannot connect to the Docker daemon at unix://{path}: no such socket"
        )),
        other => {
            // hyper's errors say little on their own; their sources say why.
            let mut text = other.to_string();
            let mut source = std::error::Error::source(&other);
            while let Some(s) = source {
                text.push_str(&format!(": {s}"));
                source = s.source();
            }
            ApiError::Unreachable(format!("error during connect: {text}"))
        }
    }
}

/// Whether the engine refused the API version asked for.
fn version_refused(e: &bollard::errors::Error) -> bool {
    matches!(e, bollard::errors::Error::DockerResponseServerError { message, .. }
        if message.contains("client version") || message.contains("API version"))
}

/// A connection to one engine's API.
pub(crate) struct Api {
    endpoint: Endpoint,
    docker: Mutex<Docker>,
}

/// `DOCKER_API_VERSION` (`1.43`), as the docker CLI reads it.
fn version_from_env() -> Option<ClientVersion> {
    let v = std::env::var("DOCKER_API_VERSION").ok()?;
    let (major, minor) = v.trim().split_once('.')?;
    Some(ClientVersion {
        major_version: major.parse().ok()?,
        minor_version: minor.parse().ok()?,
    })
}

fn connect(ep: &Endpoint, version: &ClientVersion) -> Result<Docker, bollard::errors::Error> {
    let scheme = ep.host.split("://").next().unwrap_or_default();
    match (scheme, &ep.tls) {
        ("unix", _) => Docker::connect_with_unix(&ep.host, CLIENT_TIMEOUT_SECS, version),
        #[cfg(target_os = "linux")]
        (_, Some(tls)) => Docker::connect_with_ssl(
            &ep.host,
            &tls.dir.join("key.pem"),
            &tls.dir.join("cert.pem"),
            &tls.dir.join("ca.pem"),
            CLIENT_TIMEOUT_SECS,
            version,
        ),
        _ => Docker::connect_with_http(&ep.host, CLIENT_TIMEOUT_SECS, version),
    }
}

/// One container as `docker inspect` tells it: id, restart count, start time.
pub(crate) type Inspected = (String, Option<i64>, Option<String>);

impl Api {
    /// A client of the endpoint (connects on the first call). `Err`: the address cannot be
    /// used (a socket that is not there, TLS files that cannot be read).
    pub(crate) fn new(endpoint: &Endpoint) -> Result<Self, ApiError> {
        let version = version_from_env().unwrap_or(FIRST_VERSION);
        let docker = connect(endpoint, &version).map_err(classify)?;
        Ok(Self {
            endpoint: endpoint.clone(),
            docker: Mutex::new(docker),
        })
    }

    fn docker(&self) -> Docker {
        lock(&self.docker).clone()
    }

    /// Runs one call, bounded by `limit` (`None`: unbounded); an engine that refuses the
    /// API version gets one negotiated with it, and the call again.
    fn run<T, F, Fut>(&self, limit: Option<Duration>, call: F) -> Result<T, ApiError>
    where
        F: Fn(Docker) -> Fut,
        Fut: Future<Output = Result<T, bollard::errors::Error>>,
    {
        let rt = runtime()?;
        let once = |d: Docker| match limit {
            Some(limit) => rt
                .block_on(async { tokio::time::timeout(limit, call(d)).await })
                .map_err(|_| ApiError::TimedOut(limit)),
            None => Ok(rt.block_on(call(d))),
        };
        // Negotiating is a short call, whatever the call it comes before.
        let limit = limit.unwrap_or(NEGOTIATION_LIMIT);
        match once(self.docker())? {
            Ok(v) => Ok(v),
            Err(e) if version_refused(&e) && version_from_env().is_none() => {
                let negotiated = connect(&self.endpoint, bollard::API_DEFAULT_VERSION)
                    .map_err(classify)
                    .and_then(|d| {
                        rt.block_on(async {
                            tokio::time::timeout(limit, d.negotiate_version()).await
                        })
                        .map_err(|_| ApiError::TimedOut(limit))?
                        .map_err(classify)
                    })?;
                tracing::debug!(
                    "engine {}: API version {} negotiated",
                    self.endpoint.host,
                    negotiated.client_version()
                );
                *lock(&self.docker) = negotiated.clone();
                once(negotiated)?.map_err(classify)
            }
            Err(e) => Err(classify(e)),
        }
    }

    /// `GET /containers/json?all=1` of compose containers (of `project` only, when given),
    /// each as the engine gave it.
    pub(crate) fn list(
        &self,
        project: Option<&str>,
        limit: Duration,
    ) -> Result<Vec<Value>, ApiError> {
        let label = project.map_or_else(
            || "com.docker.compose.project".to_owned(),
            |p| format!("com.docker.compose.project={p}"),
        );
        let options = ListContainersOptions {
            all: true,
            filters: Some(HashMap::from([("label".to_owned(), vec![label])])),
            ..ListContainersOptions::default()
        };
        let list = self.run(Some(limit), |d| {
            let o = options.clone();
            async move { d.list_containers(Some(o)).await }
        })?;
        Ok(list
            .into_iter()
            .filter_map(|c| serde_json::to_value(c).ok())
            .collect())
    }

    /// Restart counts and start times of containers, inspected at once.
    pub(crate) fn inspect(
        &self,
        ids: &[String],
        limit: Duration,
    ) -> Result<Vec<Inspected>, ApiError> {
        self.run(Some(limit), |d| {
            let ids = ids.to_vec();
            async move {
                let each = ids.iter().map(|id| {
                    let d = d.clone();
                    async move { d.inspect_container(id, None).await }
                });
                let all = futures_util::future::join_all(each).await;
                let mut out = Vec::new();
                for r in all {
                    // A container removed meanwhile is simply not there.
                    let Ok(c) = r else { continue };
                    out.push((
                        c.id.unwrap_or_default(),
                        c.restart_count,
                        c.state.and_then(|s| s.started_at),
                    ));
                }
                Ok(out)
            }
        })
    }

    /// Reads a container's log as `query` says (every line after its RFC 3339 time, as
    /// `docker logs --timestamps` prints it; `since` in whole seconds, so a caller that
    /// wants a finer one leaves out the lines before it), handing over each piece of
    /// either stream as the engine sends it; with `follow`, until the container stops.
    /// Ends early when `each` returns false, on `cancel`, or at `limit`.
    pub(crate) fn logs(
        &self,
        id: &str,
        query: &LogQuery,
        limit: Option<Duration>,
        cancel: &Cancel,
        each: &mut dyn FnMut(Stream, &[u8]) -> bool,
    ) -> Result<(), ApiError> {
        let since = query.since.map_or(0, |t| {
            t.duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| i32::try_from(d.as_secs()).unwrap_or(i32::MAX))
        });
        let options = LogsOptions {
            follow: query.follow,
            stdout: true,
            stderr: true,
            since,
            timestamps: true,
            tail: query
                .tail
                .map_or_else(|| "all".to_owned(), |n| n.to_string()),
            ..LogsOptions::default()
        };
        let each = RefCell::new(each);
        self.run(limit, |d| {
            let (o, id, each) = (options.clone(), id.to_owned(), &each);
            async move {
                let mut s = pin!(d.logs(&id, Some(o)));
                let mut stopped = pin!(cancel.cancelled());
                loop {
                    let (stream, message) = match select(s.next(), stopped.as_mut()).await {
                        Either::Left((Some(Ok(out)), _)) => match out {
                            LogOutput::StdErr { message } => (Stream::Stderr, message),
                            LogOutput::StdOut { message } | LogOutput::Console { message } => {
                                (Stream::Stdout, message)
                            }
                            LogOutput::StdIn { .. } => continue,
                        },
                        Either::Left((Some(Err(e)), _)) => return Err(e),
                        Either::Left((None, _)) | Either::Right(_) => return Ok(()),
                    };
                    if !(each.borrow_mut())(stream, &message) {
                        return Ok(());
                    }
                }
            }
        })
    }

    /// The engine's version and API version.
    pub(crate) fn version(&self, limit: Duration) -> Result<(String, String), ApiError> {
        let v = self.run(Some(limit), |d| async move { d.version().await })?;
        Ok((
            v.version.unwrap_or_default(),
            v.api_version.unwrap_or_default(),
        ))
    }

    /// Reads the engine's container events of compose projects from `since`
    /// (`seconds.nanoseconds` since the epoch: events from then on are replayed) on this
    /// thread, handing each to `each`, until the stream ends or fails (returns why) or
    /// `stop`.
    pub(crate) fn events(&self, since: &str, each: &mut dyn FnMut(Event), stop: &Cancel) -> String {
        let options = EventsOptions {
            since: Some(since.to_owned()),
            until: None,
            filters: Some(HashMap::from([
                ("type".to_owned(), vec!["container".to_owned()]),
                (
                    "label".to_owned(),
                    vec!["com.docker.compose.project".to_owned()],
                ),
            ])),
        };
        let rt = match runtime() {
            Ok(rt) => rt,
            Err(e) => return e.to_string(),
        };
        let d = self.docker();
        rt.block_on(async move {
            let mut s = pin!(d.events(Some(options)));
            let mut stopped = pin!(stop.cancelled());
            loop {
                match select(s.next(), stopped.as_mut()).await {
                    Either::Left((Some(Ok(m)), _)) => each(event(m)),
                    Either::Left((Some(Err(e)), _)) => return classify(e).to_string(),
                    Either::Left((None, _)) => return "the engine ended its event stream".into(),
                    Either::Right(_) => return "stopped".into(),
                }
            }
        })
    }
}

/// An event as the stream tells it.
fn event(m: bollard::models::EventMessage) -> Event {
    let actor = m.actor.unwrap_or_default();
    let mut attrs = actor.attributes.unwrap_or_default();
    let mut label = |k: &str| attrs.remove(k).unwrap_or_default();
    Event {
        id: actor.id.unwrap_or_default(),
        project: label("com.docker.compose.project"),
        service: label("com.docker.compose.service"),
        exit_code: label("exitCode").parse().ok(),
        action: m.action.unwrap_or_default(),
        time_nano: m.time_nano.unwrap_or_default(),
    }
}
