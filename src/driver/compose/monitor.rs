//! What `tta up` hears from the engine about compose services while they run. Each
//! watcher of a service subscribes to its engine's one event stream
//! ([`Engine::subscribe`]: the Engine API's, or `docker events` where the engine is read
//! through the CLI), which tells it when one of the service's containers starts, dies
//! (with its exit code) or turns unhealthy; container logs are followed with the engine's
//! one log reader ([`Engine::read_logs`]), one follower per running container, started
//! again when the container starts again. Nothing is polled: each wait sleeps on a bell
//! that an event or a cancel rings.
//!
//! A container the engine restarts by its own policy (`restart: always`) is not down: a
//! `die` counts only when, after it, no container of the service runs or is restarting.

use std::collections::HashMap;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use super::driver::Compose;
use super::engine::Engine;
use super::event::Kind;
use super::ps::{Container, State as ContainerState};
use crate::cancel::Cancel;
use crate::driver::types::{ActionError, Ended, Failure, LogQuery};
use crate::graph::NodeId;

/// Whether an event's container id is a listed container's (whole through the API, the
/// first 12 characters through the CLI).
fn same(event_id: &str, listed: &str) -> bool {
    !listed.is_empty() && event_id.starts_with(listed)
}

fn running(c: &Container) -> bool {
    matches!(
        c.state,
        ContainerState::Running | ContainerState::Restarting | ContainerState::Paused
    )
}

impl Compose {
    /// The engine that serves `id`, and the service's project and name.
    fn watched(&self, id: NodeId) -> Option<(&Engine, String, String)> {
        let node = self.node(id)?;
        let project = self.projects[node.repo]
            .target
            .as_ref()
            .ok()?
            .project
            .clone();
        let e = self.projects[node.repo].engine;
        Some((&self.engines[e], project, node.service.clone()))
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
            let Some(c) = cs.iter().find(|c| same(container, &c.id)) else {
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
        let Some((engine, project, service)) = self.watched(id) else {
            return Ended::NotRunning;
        };
        let sub = engine.subscribe(&project, &service);
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
                match e.kind() {
                    Kind::Unhealthy => return Ended::Unhealthy,
                    Kind::Die if self.settled_down(id, &e.id, cancel) => {
                        return Ended::Exited {
                            code: e.exit_code,
                            signal: None,
                        };
                    }
                    _ => {}
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
        let Some((engine, project, service)) = self.watched(id) else {
            return false;
        };
        let sub = engine.subscribe(&project, &service);
        // Where each container's next follower starts: after its last run ended (by the
        // events' whole ids).
        let mut from: HashMap<String, f64> = HashMap::new();
        std::thread::scope(|s| {
            let mut followers: HashMap<String, std::thread::ScopedJoinHandle<'_, ()>> =
                HashMap::new();
            loop {
                for c in self.fresh(id).iter().filter(|c| running(c)) {
                    if followers.get(&c.id).is_some_and(|h| !h.is_finished()) {
                        continue;
                    }
                    let at = from
                        .iter()
                        .find(|(k, _)| same(k, &c.id))
                        .map_or(since, |(_, t)| *t);
                    let container = c.id.clone();
                    let handle = s.spawn(move || follow_one(engine, &container, at, line, cancel));
                    followers.insert(c.id.clone(), handle);
                }
                let Some(events) = sub.next(cancel) else {
                    return;
                };
                for e in events.iter().filter(|e| e.kind() == Kind::Die) {
                    // Its follower ends with the run (every line of it handed over); the
                    // next run gets its own, from then on.
                    let ours = followers.keys().find(|k| same(&e.id, k)).cloned();
                    if let Some(h) = ours.and_then(|k| followers.remove(&k)) {
                        let _ = h.join();
                    }
                    from.insert(e.id.clone(), e.at());
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

/// Follows one container's log, handing over each line written after `after` (seconds
/// since the epoch) without its time, until the container stops or `cancel`.
fn follow_one(
    engine: &Engine,
    container: &str,
    after: f64,
    line: &(dyn Fn(Vec<u8>) + Sync),
    cancel: &Cancel,
) {
    let after = UNIX_EPOCH + Duration::from_secs_f64(after.max(0.0));
    let query = LogQuery {
        tail: None,
        since: Some(after),
        follow: true,
    };
    let read = engine.read_logs(
        container,
        &query,
        None,
        &mut |l| {
            if l.time.is_none_or(|t: SystemTime| t > after) {
                line(l.bytes);
            }
            true
        },
        cancel,
    );
    if let Err(e) = read {
        tracing::debug!("the log of {container} cannot be followed: {e}");
    }
}
