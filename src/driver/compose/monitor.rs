//! What `tta up` hears from the engine about compose services while they run: one
//! `docker events` stream per engine (started on first use, replayed from that moment so
//! nothing between the first look and the stream's connection is missed) tells each
//! watcher of a service when one of its containers starts, dies (with its exit code) or
//! turns unhealthy; container logs are followed with `docker logs --follow`, one call per
//! running container, started again when the container starts again. Nothing is polled:
//! each wait sleeps on a bell that an event or a cancel rings.
//!
//! A container the engine restarts by its own policy (`restart: always`) is not down: a
//! `die` counts only when, after it, no container of the service runs or is restarting.

use std::collections::HashMap;
use std::sync::mpsc;
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::driver::Compose;
use super::engine::Engine;
use super::lock;
use super::ps::{Container, State as ContainerState};
use crate::cancel::{Bell, Cancel, CancelReason, Level};
use crate::driver::types::{ActionError, Ended, Failure};
use crate::graph::NodeId;
use crate::process::{Kill, LineTx, Sink, Spec};

/// What an engine said about a container of a watched service.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Event {
    /// It started (or started again), at this time (seconds since the epoch).
    Start { container: String, at: f64 },
    /// It stopped, with this exit code.
    Die {
        container: String,
        code: Option<i32>,
        at: f64,
    },
    /// Its healthcheck failed.
    Unhealthy { container: String },
}

/// One waiter's view of a service's events.
pub(super) struct Subscription {
    project: String,
    service: String,
    bell: Arc<Bell>,
    events: Mutex<Vec<Event>>,
}

impl Subscription {
    /// Waits for events (returns them) or the cancel (returns `None`).
    fn next(&self, cancel: &Cancel) -> Option<Vec<Event>> {
        let _watch = cancel.watch(&self.bell);
        let mut got = Vec::new();
        self.bell.wait_until(None, || {
            got = std::mem::take(&mut *lock(&self.events));
            !got.is_empty() || cancel.is_cancelled()
        });
        (!cancel.is_cancelled()).then_some(got)
    }
}

/// The subscribers of one engine's stream.
#[derive(Default)]
struct Hub {
    subs: Mutex<Vec<Weak<Subscription>>>,
}

impl Hub {
    fn dispatch(&self, project: &str, service: &str, event: &Event) {
        tracing::trace!("engine event: {project}/{service}: {event:?}");
        let subs: Vec<Arc<Subscription>> = {
            let mut all = lock(&self.subs);
            all.retain(|w| w.strong_count() > 0);
            all.iter().filter_map(Weak::upgrade).collect()
        };
        for s in subs
            .iter()
            .filter(|s| s.project == project && s.service == service)
        {
            lock(&s.events).push(event.clone());
            s.bell.ring();
        }
    }
}

/// One engine's `docker events` stream, started on first use; it ends with the driver.
#[derive(Default)]
pub(super) struct Monitor {
    hub: Arc<Hub>,
    started: OnceLock<()>,
    stop: Cancel,
}

impl Drop for Monitor {
    fn drop(&mut self) {
        self.stop.cancel(CancelReason::Interrupted);
    }
}

/// The event in one line of `docker events --format '{{json .}}'`, with its project and
/// service.
pub(super) fn parse_event(line: &str) -> Option<(String, String, Event)> {
    let v: Value = serde_json::from_str(line).ok()?;
    let attrs = &v["Actor"]["Attributes"];
    let project = attrs["com.docker.compose.project"].as_str()?.to_owned();
    let service = attrs["com.docker.compose.service"].as_str()?.to_owned();
    let container = v["id"]
        .as_str()
        .or_else(|| v["Actor"]["ID"].as_str())?
        .to_owned();
    let action = v["Action"].as_str().or_else(|| v["status"].as_str())?;
    #[expect(clippy::cast_precision_loss, reason = "nanoseconds since the epoch")]
    let at = v["timeNano"]
        .as_u64()
        .map(|n| n as f64 / 1e9)
        .or_else(|| v["time"].as_f64())
        .unwrap_or_else(crate::state::now_epoch);
    let event = match action {
        "start" => Event::Start { container, at },
        "die" => Event::Die {
            container,
            code: attrs["exitCode"].as_str().and_then(|c| c.parse().ok()),
            at,
        },
        a if a.starts_with("health_status") && a.ends_with("unhealthy") => {
            Event::Unhealthy { container }
        }
        _ => return None,
    };
    Some((project, service, event))
}

impl Monitor {
    /// Starts the stream of `engine` if it is not running yet.
    fn ensure(&self, engine: &Engine) {
        self.started.get_or_init(|| {
            let spec = engine.streaming(&[
                "events",
                "--filter",
                "type=container",
                "--filter",
                "label=com.docker.compose.project",
                "--filter",
                "event=start",
                "--filter",
                "event=die",
                "--filter",
                "event=health_status",
                "--format",
                "{{json .}}",
            ]);
            let (hub, stop) = (Arc::clone(&self.hub), self.stop.clone());
            let _ = std::thread::Builder::new()
                .name("docker-events".into())
                .stack_size(256 * 1024)
                .spawn(move || stream(&spec, &hub, &stop));
        });
    }

    /// Subscribes to the events of one service.
    fn subscribe(&self, engine: &Engine, project: &str, service: &str) -> Arc<Subscription> {
        let sub = Arc::new(Subscription {
            project: project.to_owned(),
            service: service.to_owned(),
            bell: Bell::new(),
            events: Mutex::new(Vec::new()),
        });
        lock(&self.hub.subs).push(Arc::downgrade(&sub));
        self.ensure(engine);
        sub
    }
}

/// Runs `docker events` until `stop`, dispatching each event; runs it again (from the last
/// event seen) when the engine drops it.
fn stream(spec: &Spec, hub: &Hub, stop: &Cancel) {
    let mut since = crate::state::now_epoch();
    while !stop.is_cancelled() {
        let (tx, rx) = mpsc::channel();
        let Ok(child) = spec
            .clone()
            .args(["--since".to_owned(), whole(since)])
            .stdout(Sink::Lines(LineTx::new(tx, 0)))
            .spawn()
        else {
            if stop.sleep(Duration::from_secs(1)) {
                return;
            }
            continue;
        };
        let mut last = None;
        std::thread::scope(|s| {
            s.spawn(|| {
                for line in rx {
                    let text = String::from_utf8_lossy(&line.bytes);
                    if let Some((project, service, event)) = parse_event(&text) {
                        if let Event::Start { at, .. } = &event {
                            last = Some(*at);
                        }
                        hub.dispatch(&project, &service, &event);
                    }
                }
            });
            if !matches!(
                child.wait(None, Some((stop, Level::Graceful))),
                crate::process::Waited::Exited(_)
            ) {
                child.end(Kill::Now, None);
            }
        });
        if stop.sleep(Duration::from_secs(1)) {
            return;
        }
        // Again, from the last start seen (what came since is replayed).
        since = last.unwrap_or(since);
    }
}

/// Whole seconds since the epoch for `--since` (the engine reads a fraction its own way).
fn whole(at: f64) -> String {
    format!("{:.0}", at.floor())
}

fn running(c: &Container) -> bool {
    matches!(
        c.state,
        ContainerState::Running | ContainerState::Restarting | ContainerState::Paused
    )
}

impl Compose {
    /// The monitor of the engine that serves `id`, its engine, and the service's project
    /// and name.
    fn watched(&self, id: NodeId) -> Option<(&Monitor, &Engine, String, String)> {
        let node = self.node(id)?;
        let project = self.projects[node.repo]
            .target
            .as_ref()
            .ok()?
            .project
            .clone();
        let e = self.projects[node.repo].engine;
        Some((
            &self.monitors[e],
            &self.engines[e],
            project,
            node.service.clone(),
        ))
    }

    /// The service's containers in a snapshot taken now.
    fn fresh(&self, id: NodeId) -> Vec<Container> {
        let Some(node) = self.node(id) else {
            return Vec::new();
        };
        match &*self.engine_of(node).snapshot(Some(Instant::now())) {
            Ok(s) => self.containers(node, s).into_iter().cloned().collect(),
            Err(_) => Vec::new(),
        }
    }

    /// After a `die` of `container`: whether it stays down (the engine may still show it
    /// running for a moment; one it restarts by its own policy is not down).
    fn settled_down(&self, id: NodeId, container: &str, cancel: &Cancel) -> bool {
        let engine = self.node(id).map(|n| self.engine_of(n));
        for _ in 0..40 {
            if let Some(e) = engine {
                e.invalidate();
            }
            let cs = self.fresh(id);
            let Some(c) = cs.iter().find(|c| container.starts_with(&c.id)) else {
                return true;
            };
            match c.state {
                ContainerState::Restarting => return false,
                ContainerState::Running | ContainerState::Paused => {}
                _ => return true,
            }
            if cancel.sleep(Duration::from_millis(50)) {
                return false;
            }
        }
        false
    }

    /// Waits until no container of the service runs (the engine gave up restarting it) or
    /// one turns unhealthy.
    pub(crate) fn watch(&self, id: NodeId, cancel: &Cancel) -> Ended {
        let Some((monitor, engine, project, service)) = self.watched(id) else {
            return Ended::NotRunning;
        };
        let sub = monitor.subscribe(engine, &project, &service);
        if !self.fresh(id).iter().any(running) {
            tracing::debug!("watch {project}/{service}: not running");
            return Ended::NotRunning;
        }
        tracing::debug!("watching {project}/{service}");
        loop {
            let Some(events) = sub.next(cancel) else {
                return Ended::Cancelled;
            };
            for e in events {
                match e {
                    Event::Unhealthy { .. } => return Ended::Unhealthy,
                    Event::Die {
                        container, code, ..
                    } => {
                        if self.settled_down(id, &container, cancel) {
                            return Ended::Exited { code, signal: None };
                        }
                    }
                    Event::Start { .. } => {}
                }
            }
        }
    }

    /// Follows the logs of the service's containers from `since`, each container from when
    /// it (re)starts, until `cancel`.
    pub(crate) fn follow(
        &self,
        id: NodeId,
        since: f64,
        line: &(dyn Fn(Vec<u8>) + Sync),
        cancel: &Cancel,
    ) -> bool {
        let Some((monitor, engine, project, service)) = self.watched(id) else {
            return false;
        };
        let sub = monitor.subscribe(engine, &project, &service);
        let mut from: HashMap<String, f64> = HashMap::new();
        std::thread::scope(|s| {
            let mut followers: HashMap<String, std::thread::ScopedJoinHandle<'_, ()>> =
                HashMap::new();
            loop {
                for c in self.fresh(id).iter().filter(|c| running(c)) {
                    if followers.get(&c.id).is_some_and(|h| !h.is_finished()) {
                        continue;
                    }
                    let at = from.get(&c.id).copied().unwrap_or(since);
                    let args = whole(at);
                    let spec = engine
                        .streaming(&[
                            "logs",
                            "--follow",
                            "--timestamps",
                            "--since",
                            &args,
                            "--",
                            &c.id,
                        ])
                        .cancel(cancel, Level::Graceful);
                    followers.insert(c.id.clone(), s.spawn(move || pipe(&spec, at, line)));
                }
                let Some(events) = sub.next(cancel) else {
                    return;
                };
                for e in events {
                    // A container's next run: its lines come after its last one ended.
                    if let Event::Die { container, at, .. } = e {
                        let short = container.chars().take(12).collect::<String>();
                        // Its `logs --follow` ends with the run; the next run gets its own.
                        if let Some(h) = followers.remove(&short) {
                            let _ = h.join();
                        }
                        from.insert(short, at);
                    }
                }
                engine.invalidate();
            }
        });
        true
    }

    /// `compose restart` of the service (its containers keep their identity; their start
    /// time changes); a service with no container is started with `up` instead.
    pub(crate) fn restart(
        &self,
        id: NodeId,
        grace: Duration,
        cancel: &Cancel,
    ) -> Result<(), ActionError> {
        let Some(node) = self.node(id) else {
            return Err(ActionError::permanent(Failure::new(
                "not a compose component",
            )));
        };
        if self.fresh(id).is_empty() {
            return self.start_batch(&[id], cancel).pop().unwrap_or(Ok(()));
        }
        let project = &self.projects[node.repo];
        let (target, cmd) = self.prepare(project)?;
        let limit = self.bound(grace + super::project::STOP_SLACK);
        let result = project.restart(
            &cmd,
            target,
            std::slice::from_ref(&node.service),
            grace,
            limit,
            cancel,
        );
        self.engine_of(node).invalidate();
        self.state.clear_failure(&node.name);
        match result {
            Ok(f) if f.success() => {
                self.mark_started(id);
                Ok(())
            }
            Ok(f) => Err(ActionError::permanent(Failure::new(format!(
                "`compose restart {}` failed: {}",
                node.service,
                super::command::error_line(&super::command::output_text(&f))
            )))),
            Err(e) => Err(ActionError::permanent(Failure::new(format!(
                "`compose restart {}` {e}",
                node.service
            )))),
        }
    }
}

/// A line of `docker logs --timestamps`: its time (seconds since the epoch) and its text.
fn stamped(bytes: &[u8]) -> Option<(f64, &[u8])> {
    let space = bytes.iter().position(|&b| b == b' ')?;
    let stamp = std::str::from_utf8(&bytes[..space]).ok()?;
    let t = humantime::parse_rfc3339(stamp).ok()?;
    let secs = t.duration_since(std::time::UNIX_EPOCH).ok()?.as_secs_f64();
    Some((secs, &bytes[space + 1..]))
}

/// Runs a `docker logs --follow --timestamps` and hands over each line written after
/// `after` (without its time) until it ends or is cancelled.
fn pipe(spec: &Spec, after: f64, line: &(dyn Fn(Vec<u8>) + Sync)) {
    let (tx, rx) = mpsc::channel();
    let spec = spec.clone().merged(Sink::Lines(LineTx::new(tx, 0)));
    std::thread::scope(|s| {
        s.spawn(move || {
            for l in rx {
                match stamped(&l.bytes) {
                    Some((at, _)) if at <= after => {}
                    Some((_, text)) => line(text.to_vec()),
                    None => line(l.bytes),
                }
            }
        });
        let _ = spec.run();
        // The spec holds a sender too: the lines end only once it is gone.
        drop(spec);
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_are_read_from_what_the_engine_prints() {
        let die = r#"{"status":"die","id":"60c36b9ebdf7aad","Type":"container","Action":"die","Actor":{"ID":"60c36b9ebdf7aad","Attributes":{"com.docker.compose.project":"p","com.docker.compose.service":"s","exitCode":"3"}},"time":1796159799,"timeNano":1796159799374590192}"#;
        assert_eq!(
            parse_event(die),
            Some((
                "p".into(),
                "s".into(),
                Event::Die {
                    container: "60c36b9ebdf7aad".into(),
                    code: Some(3),
                    at: 1_796_159_799.374_590_2
                }
            ))
        );
        let sick = die.replace(
            r#""Action":"die""#,
            r#""Action":"health_status: unhealthy""#,
        );
        assert!(matches!(
            parse_event(&sick),
            Some((_, _, Event::Unhealthy { .. }))
        ));
        let start = die.replace(r#""Action":"die""#, r#""Action":"start""#);
        let Some((_, _, Event::Start { at, .. })) = parse_event(&start) else {
            panic!("a start");
        };
        assert!((at - 1_796_159_799.374).abs() < 0.01);
        assert_eq!(
            parse_event(r#"{"Action":"die","Actor":{"Attributes":{}}}"#),
            None
        );
        assert_eq!(parse_event("not json"), None);
        let (at, text) = stamped(b"2026-12-01T21:36:36.902294879Z up once").unwrap();
        assert_eq!(text, b"up once");
        assert!((at - 1_796_160_996.902).abs() < 0.001, "{at}");
    }
}
